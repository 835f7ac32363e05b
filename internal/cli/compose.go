package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dockvet/dockvet/internal/safefile"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/compose"
	"github.com/dockvet/dockvet/internal/finding"
)

// ComposeOptions are those of `dockvet compose`.
type ComposeOptions struct {
	*Shared
	// Files are read as `docker compose -f` reads them; empty: the
	// project `docker compose` would find.
	Files         []string
	Profiles      []string
	EnvFiles      []string
	ProjectDir    string
	FixPreview    bool
	BindLocalhost bool
}

// NewCmdCompose audits a Compose project.
func NewCmdCompose(f *Factory, runF func(*ComposeOptions) error) *cobra.Command {
	opts := &ComposeOptions{Shared: f.Shared}
	cmd := &cobra.Command{
		Use:   "compose [FILE...]",
		Short: "Audit a Compose project (default: the Compose file in the current directory)",
		Long: "Audit a Compose project: every service's container settings and the top-level secrets and configs.\n" +
			"FILE... are read as `docker compose -f FILE...` reads them: the first is the main file, the others override it;\n" +
			"include, extends, profiles and .env interpolation are resolved. Without FILE the Compose file `docker compose` would use\n" +
			"in the current directory is audited (compose.yaml, docker-compose.yml, … and its override file).\n" +
			"Only the project's env files interpolate variables, never dockvet's own environment.\n" +
			"--fix-preview prints a Compose override file that resolves the fixable findings, for review.",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return runCompose(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&opts.Profiles, "profile", nil, "only services of these profiles (default: every service, whatever its profiles)")
	fl.StringArrayVar(&opts.EnvFiles, "env-file", nil, "env file for interpolation, repeatable (default: .env in the project directory)")
	fl.StringVar(&opts.ProjectDir, "project-directory", "", "project directory (default: the directory of the first file)")
	fl.BoolVar(&opts.FixPreview, "fix-preview", false, "print a Compose override file that resolves the fixable findings, instead of the report")
	fl.BoolVar(&opts.BindLocalhost, "bind-localhost", false, "with --fix-preview: bind every port published on all interfaces to 127.0.0.1, not only sensitive ones")
	return cmd
}

func runCompose(ctx context.Context, opts *ComposeOptions) error {
	if opts.BindLocalhost && !opts.FixPreview {
		return fail("--bind-localhost only applies with --fix-preview")
	}
	files := opts.Files
	if len(files) == 0 {
		var err error
		if files, err = defaultComposeFiles(); err != nil {
			return err
		}
	}
	p, err := compose.Load(ctx, compose.Options{Files: files, ProjectDir: opts.ProjectDir, EnvFiles: opts.EnvFiles, Profiles: opts.Profiles})
	if err != nil {
		return fail("%v", err)
	}
	r := newReport()
	r.Targets = append(r.Targets, p.Target())
	r.Findings = append(r.Findings, p.Audit(compose.AuditOptions{Policy: opts.cfg.Policy(), Enabled: opts.cfg.Enabled})...)
	if !opts.FixPreview {
		return opts.finish(r, findingFormats)
	}
	// The preview fixes what the report would show: ignored findings stay.
	opts.filter(r)
	return opts.write(p.FixPreview(r.Findings, compose.FixOptions{BindLocalhost: opts.BindLocalhost}))
}

// defaultComposeFiles finds the project as `docker compose` does: the
// files COMPOSE_FILE names, or the default names in the working directory
// and its parents.
func defaultComposeFiles() ([]string, error) {
	if env := os.Getenv("COMPOSE_FILE"); env != "" {
		sep := os.Getenv("COMPOSE_PATH_SEPARATOR")
		if sep == "" {
			sep = string(os.PathListSeparator)
		}
		return strings.Split(env, sep), nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, fail("%v", err)
	}
	files, err := compose.Discover(wd)
	if err != nil {
		return nil, fail("%v", err)
	}
	if len(files) == 0 {
		return nil, fail("no Compose file found in %s or its parents (looked for compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml); name one: dockvet compose FILE", wd)
	}
	for i, f := range files {
		files[i] = compose.DisplayPath(f)
	}
	return files, nil
}

// auditComposeFile is the Compose part of `dockvet scan`. A default main
// file is audited with its override file, as `docker compose` would load
// them; an override file next to a main file is covered by it. Any other
// *compose*.yml is audited alone, or, when it is only a fragment (services
// without an image), on top of the main file next to it — then only the
// findings in the fragment are its own.
func auditComposeFile(s *Shared, path string, r *finding.Report) {
	name := filepath.Base(path)
	data, err := safefile.ReadFile(path, safefile.MaxSource)
	if err != nil {
		r.Errors = append(r.Errors, finding.InputError{Target: path, Kind: finding.SurfaceCompose, Message: safefile.Message(err)})
		return
	}
	if !compose.IsDefaultName(name) && !compose.LooksLikeCompose(data) {
		return // a YAML file that happens to have "compose" in its name
	}
	base := compose.BaseFor(path)
	if compose.IsOverrideName(name) && base != "" {
		return // audited with its main file
	}
	files := []string{path}
	if o := compose.OverrideFor(path); o != "" {
		files = append(files, o)
	}
	opts := compose.AuditOptions{Policy: s.cfg.Policy(), Enabled: s.cfg.Enabled}
	p, err := compose.Load(context.Background(), compose.Options{Files: files, Display: displayLike(path)})
	// A fragment: services without an image, to be loaded over a main file.
	var le *compose.Error
	fragment := err != nil && errors.As(err, &le) && strings.Contains(le.Msg, "neither an image nor a build context")
	if fragment && base != "" && !compose.IsDefaultName(name) {
		over, ferr := compose.Load(context.Background(), compose.Options{Files: []string{base, path}, Display: displayLike(path)})
		if ferr == nil {
			r.Targets = append(r.Targets, finding.Target{Kind: finding.SurfaceCompose, Name: path})
			for _, f := range over.Audit(opts) {
				if f.Location.Path == over.Files[1] {
					f.Target = path
					r.Findings = append(r.Findings, f)
				}
			}
			return
		}
	}
	if fragment && base == "" && !compose.IsMainName(name) {
		// A fragment meant to be copied next to a main file (mailcow's
		// helper-scripts/docker-compose.override.yml.d/*/): docker compose
		// loads it only over one, and there is none here. Not an input
		// error, but not audited either, and the report says so.
		r.Notices = append(r.Notices, fmt.Sprintf("%s: a Compose fragment (%s) with no main Compose file next to it: not audited; audit it over the file it extends: dockvet compose MAIN %s",
			path, le.Msg, path))
		return
	}
	if err != nil {
		r.Errors = append(r.Errors, finding.InputError{Target: path, Kind: finding.SurfaceCompose, Message: inputMessage(path, err)})
		return
	}
	r.Targets = append(r.Targets, p.Target())
	r.Findings = append(r.Findings, p.Audit(opts)...)
}

// inputMessage says what is wrong with an input: "line N: …" when the
// problem is in the input itself, "FILE:N: …" when it is in a file it
// pulls in.
func inputMessage(target string, err error) string {
	var ce *compose.Error
	if errors.As(err, &ce) && ce.Path == target {
		if ce.Line > 0 {
			return "line " + strconv.Itoa(ce.Line) + ": " + ce.Msg
		}
		return ce.Msg
	}
	return oneLine(err.Error())
}

// displayLike shows paths the way the scan shows path: absolute when it is
// absolute, relative to the working directory otherwise.
func displayLike(path string) func(string) string {
	if filepath.IsAbs(path) {
		return func(abs string) string { return abs }
	}
	return compose.DisplayPath
}
