package dockerfile

import "github.com/dockvet/dockvet/internal/finding"

// ruleBudget reports the instructions that dockvet analysed only in part
// because a budget stopped it (Instruction.Limit): a hostile or generated
// RUN nested past shell.MaxDepth, an ARG chain whose values would outgrow
// MaxValueBytes. The rest of the file is analysed as usual; this finding
// says, rather than hides, that part of one instruction was not.
var ruleBudget = &Rule{
	Rule: finding.Rule{
		ID: "DV1120", Title: "Instruction too deeply nested or too large to analyse", Practice: finding.PracticeHygiene, Severity: finding.Info,
		Surfaces: historySurfaces,
		Description: "Part of the instruction was not analysed because it exceeds one of dockvet's budgets: commands nested more than 8 levels deep " +
			"(`eval \"$(…)\"`, `sh -c`, `$(…)` inside one another), more than 100,000 commands, or a variable whose expansion would exceed 64 KiB " +
			"(an ARG built from copies of another ARG). A script whose brackets, braces and blocks nest more than 500 deep, or that holds more than " +
			"200,000 commands, is not analysed at all. No real Dockerfile needs this; it is either generated or written to slip past review, " +
			"and what lies beyond the budget may hide a problem no rule saw.",
		Remediation: "Flatten the instruction: write the commands out instead of nesting them in eval, sh -c or command substitutions, " +
			"and give variables their values directly.",
		References: refBestPractice,
	},
	Check: func(p *Pass) {
		for _, in := range p.File.Instructions {
			if in.Limit != "" {
				p.Report(in, "%s: %s.", in.Keyword, in.Limit)
			}
		}
	},
}
