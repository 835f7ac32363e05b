package cli

import (
	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/compose"
	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/runline"
)

var _ = register(newScanCmd)

// fileAuditor recognises one kind of file in a repository and audits it.
// Later surfaces (Compose files, scripts with `docker run` lines) add
// entries, so `dockvet scan` stays one walk and one report.
type fileAuditor struct {
	kind  string
	match func(path string) bool
	audit func(g *globals, path string, r *finding.Report)
}

var fileAuditors = []fileAuditor{
	{kind: "Dockerfile", match: func(p string) bool { return dockerfile.IsName(fileName(p)) }, audit: (*globals).auditDockerfile},
	{kind: "Compose file", match: compose.IsName, audit: (*globals).auditComposeFile},
	{kind: "docker run in a Dockerfile", match: func(p string) bool { return dockerfile.IsName(fileName(p)) }, audit: (*globals).auditDockerfileRunLines},
	{kind: "docker run in a shell script", match: isShellScript, audit: runLineAuditor(runline.FromShell)},
	{kind: "docker run in a Makefile", match: isMakefile, audit: runLineAuditor(runline.FromMakefile)},
	{kind: "docker run in a GitHub workflow", match: isGitHubWorkflow, audit: runLineAuditor(runline.FromGitHubWorkflow)},
	{kind: "docker run in GitLab CI", match: isGitLabCI, audit: runLineAuditor(runline.FromGitLabCI)},
}

func newScanCmd(g *globals) *cobra.Command {
	var exclude []string
	cmd := &cobra.Command{
		Use:   "scan [DIR]",
		Short: "Audit a repository: every Dockerfile, Compose file and docker run line under DIR in one report",
		Long: "Audit a repository: every Dockerfile, Compose file, and `docker run` line in shell scripts, Makefiles, Dockerfile RUN\n" +
			"instructions, GitHub Actions workflows and GitLab CI files under DIR (default: the current directory), in one report.\n" +
			"A file that cannot be read or parsed is listed as an error and the rest is still audited; the exit code is then 2.\n" +
			"Paths in `exclude` of .dockvet.yaml and --exclude (globs relative to DIR) are not read.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := "."
			if len(args) == 1 {
				root = args[0]
			}
			r := newReport()
			err := g.walkFiles(root, exclude, func(path string) error {
				// Every auditor that recognises a file audits it: a
				// Dockerfile is also searched for `docker run` lines.
				for _, a := range fileAuditors {
					if a.match(path) {
						a.audit(g, path, r)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			if len(r.Targets) == 0 && len(r.Errors) == 0 {
				g.notice("%s: nothing to audit (no Dockerfile, Compose file or docker run line found)", root)
			}
			return g.finish(r, findingFormats)
		},
	}
	cmd.Flags().StringSliceVar(&exclude, "exclude", nil, "path globs under DIR not to read (repeatable; \"**\" crosses directories)")
	return cmd
}
