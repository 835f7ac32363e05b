package cli

import (
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/compose"
	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/runline"
)

// fileAuditor recognises one kind of file in a repository and audits it.
// Each kind the scan reads is one entry, so `dockvet scan` stays one walk
// and one report.
type fileAuditor struct {
	match func(path string) bool
	audit func(s *Shared, path string, r *finding.Report)
}

var fileAuditors = []fileAuditor{
	{match: isDockerfile, audit: func(s *Shared, path string, r *finding.Report) { auditDockerfile(s, path, "", r) }},
	{match: compose.IsName, audit: auditComposeFile},
	// `docker run` lines: in RUN instructions, scripts, Makefiles, CI files.
	{match: isDockerfile, audit: auditDockerfileRunLines},
	{match: isShellScript, audit: runLineAuditor(runline.FromShell)},
	{match: isMakefile, audit: runLineAuditor(runline.FromMakefile)},
	{match: isGitHubWorkflow, audit: runLineAuditor(runline.FromGitHubWorkflow)},
	{match: isGitLabCI, audit: runLineAuditor(runline.FromGitLabCI)},
	// The containers CI runners start: job containers and services.
	{match: isGitHubWorkflow, audit: runLineAuditor(runline.GitHubContainers)},
	{match: isGitLabCI, audit: runLineAuditor(runline.GitLabContainers)},
}

func isDockerfile(path string) bool { return dockerfile.IsName(filepath.Base(path)) }

// ScanOptions are those of `dockvet scan`.
type ScanOptions struct {
	*Shared
	// Dir is the repository's root.
	Dir string
	// Exclude are path globs under Dir not to read (besides the
	// configuration's exclude).
	Exclude []string
}

// NewCmdScan audits a repository in one walk and one report.
func NewCmdScan(f *Factory, runF func(*ScanOptions) error) *cobra.Command {
	opts := &ScanOptions{Shared: f.Shared}
	cmd := &cobra.Command{
		Use:   "scan [DIR]",
		Short: "Audit a repository: every Dockerfile, Compose file and docker run line under DIR in one report",
		Long: "Audit a repository: every Dockerfile, Compose file, and `docker run` line in shell scripts, Makefiles, Dockerfile RUN\n" +
			"instructions, GitHub Actions workflows and GitLab CI files under DIR (default: the current directory), in one report.\n" +
			"A file or directory that cannot be read or parsed is listed as an error and the rest is still audited; the exit code is then 2\n" +
			"(with --accept-partial, the exit code follows the findings and the errors stay in the report).\n" +
			"Paths in `exclude` of .dockvet.yaml and --exclude (globs relative to DIR) are not read.\n" +
			"Without --config, DIR/.dockvet.yaml (and DIR/.dockvetignore) apply when the current directory has none;\n" +
			"the report names the configuration that applied.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = "."
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runScan(opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Exclude, "exclude", nil, "path globs under DIR not to read (repeatable; \"**\" crosses directories)")
	return cmd
}

func runScan(opts *ScanOptions) error {
	// The audited directory's own configuration applies when neither a
	// flag nor the working directory names one.
	inDir := func(flag, name string) bool {
		return flag == "" && !fileExists(name) && fileExists(filepath.Join(opts.Dir, name))
	}
	if filepath.Clean(opts.Dir) != "." && (inDir(opts.ConfigFile, config.DefaultFile) || inDir(opts.IgnoreFile, config.DefaultIgnoreFile)) {
		if err := opts.loadConfig(opts.Dir); err != nil {
			return err
		}
	}
	opts.projectRoot = opts.Dir
	r := newReport()
	err := walkFiles(opts.Shared, opts.Dir, opts.Exclude, r, func(path string) error {
		// Ctrl-C stops the walk between files (see Main).
		if ctx := opts.interrupt; ctx != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		// Every auditor that recognises a file audits it: a Dockerfile is
		// also searched for `docker run` lines.
		for _, a := range fileAuditors {
			if a.match(path) {
				a.audit(opts.Shared, path, r)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(r.Targets) == 0 && len(r.Errors) == 0 {
		opts.notice("%s: nothing to audit (no Dockerfile, Compose file or docker run line found)", opts.Dir)
	}
	return opts.finish(r, findingFormats)
}
