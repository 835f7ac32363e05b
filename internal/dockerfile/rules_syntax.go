package dockerfile

import (
	"errors"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/shell"
)

// ruleScriptSyntax reports a RUN whose script the shell grammar refuses.
// Such a RUN fails the build, and, worse for an audit, no rule saw any
// command of it: without this finding the file would look clean where it
// was not read. Only a shell.SyntaxError counts; a body that is not shell
// (Windows stages, a non-POSIX SHELL or shell comment, a here-document for
// another interpreter) is rightly not parsed and not reported.
//
// Not on image histories: the image was built, so its RUNs ran, and a
// record that does not parse is dockvet's reading of it, not the image's.
var ruleScriptSyntax = &Rule{
	Rule: finding.Rule{
		ID: "DV1121", Title: "RUN script that does not parse as shell", Practice: finding.PracticeHygiene, Severity: finding.Low,
		Description: "The RUN instruction's script is not valid shell: an unclosed quote, an `if` without `fi`, an operator with no command before it. " +
			"The shell stops at that error when the image is built, and dockvet could not analyse any command of the script, " +
			"so no rule judged what it downloads, installs or runs. Only scripts for sh, bash, dash and ash are judged: zsh and the Korn shells accept what bash does not. Stages on a Windows base image, a SHELL that is not a POSIX shell, " +
			"a `# hadolint shell=powershell` (or `# dockvet shell=…`) comment and here-documents for another interpreter are not read as shell, " +
			"and are not reported.",
		Remediation: "Fix the error the message names. If the stage's RUN lines are for another shell, say so with SHELL, or, when the base image's " +
			"default shell is not sh and SHELL is not wanted, with a `# dockvet shell=powershell` comment above the first of them.",
		Peers:      []string{"SC1072", "SC1073"},
		References: refBestPractice,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			if st.Windows {
				continue
			}
			for _, in := range st.Instructions {
				var se *shell.SyntaxError
				if !errors.As(in.ScriptErr, &se) {
					continue
				}
				line := se.Line
				if line < in.Line || line > in.EndLine {
					line = in.Line
				}
				p.ReportLine(in, line, "RUN: the script does not parse as shell (%s), so the build stops here and no rule analysed its commands.", se.Text)
			}
		}
	},
}
