package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
)

// DockerfileOptions are those of `dockvet dockerfile`.
type DockerfileOptions struct {
	*Shared
	// Paths are Dockerfiles, or directories to search for them.
	Paths []string
	// Context is the build context of the one Dockerfile given
	// (--context); empty: the Dockerfile's directory.
	Context string
}

// NewCmdDockerfile audits Dockerfiles.
func NewCmdDockerfile(f *Factory, runF func(*DockerfileOptions) error) *cobra.Command {
	opts := &DockerfileOptions{Shared: f.Shared}
	cmd := &cobra.Command{
		Use:   "dockerfile [PATH...]",
		Short: "Audit Dockerfiles (a directory: every Dockerfile under it; -: standard input; none: ./Dockerfile)",
		Long: "Audit Dockerfiles. A directory is searched for Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile and Containerfile.\n" +
			"`-` reads a Dockerfile from standard input (its build context is --context, else none, as `docker build -`);\n" +
			"with no PATH, ./Dockerfile is audited.\n" +
			"Inline suppression: a comment `# dockvet ignore=DV1001 reason` on the line before an instruction; hadolint's\n" +
			"`# hadolint ignore=DL3008` and `# hadolint global ignore=DL3008` waive the dockvet rules that carry those checks.",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if len(args) == 0 {
				opts.Paths = []string{"Dockerfile"}
			}
			if runF != nil {
				return runF(opts)
			}
			return runDockerfile(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Context, "context", "", "build context directory of the Dockerfile (as `docker build -f Dockerfile DIR`; default: the Dockerfile's directory)")
	return cmd
}

func runDockerfile(opts *DockerfileOptions) error {
	if slices.Contains(opts.Paths, "-") && len(opts.Paths) > 1 {
		return fail("- reads one Dockerfile from standard input; give it alone")
	}
	if len(opts.Paths) == 1 && opts.Paths[0] == "Dockerfile" && !fileExists("Dockerfile") {
		if _, err := os.Stat("Dockerfile"); err != nil {
			return fail("no Dockerfile in the current directory (give a PATH, or - for standard input)")
		}
	}
	if opts.Context != "" {
		if len(opts.Paths) != 1 {
			return fail("--context names the build context of one Dockerfile; give exactly one")
		}
		if fi, err := os.Stat(opts.Context); err != nil || !fi.IsDir() {
			return fail("--context %s: not a directory", opts.Context)
		}
	}
	batchGC()
	r := newReport()
	for _, p := range opts.Paths {
		if err := auditDockerfilePath(opts, p, r); err != nil {
			return err
		}
	}
	return opts.finish(r, findingFormats)
}

// auditDockerfilePath audits a file, or every Dockerfile under a directory.
func auditDockerfilePath(opts *DockerfileOptions, p string, r *finding.Report) error {
	if p == "-" {
		src, err := io.ReadAll(io.LimitReader(opts.IO.In, maxStdinDockerfile+1))
		if err != nil {
			return fail("standard input: %v", err)
		}
		if len(src) > maxStdinDockerfile {
			return fail("standard input: more than %d MiB is not a Dockerfile", maxStdinDockerfile>>20)
		}
		// Without --context the Dockerfile is audited alone, as `docker
		// build - < Dockerfile` builds it (and as hadolint reads it).
		ctxDir := opts.Context
		if ctxDir == "" {
			ctxDir = dockerfile.NoBuildContext
		}
		auditDockerfileSource(opts.Shared, stdinName, src, ctxDir, r)
		return nil
	}
	fi, err := os.Stat(p)
	if err != nil {
		return fail("%s: %v", p, unwrap(err))
	}
	if !fi.IsDir() {
		auditDockerfile(opts.Shared, p, opts.Context, r)
		return nil
	}
	var paths []string
	err = walkFiles(opts.Shared, p, nil, r, func(path string) error {
		if dockerfile.IsName(filepath.Base(path)) {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	auditDockerfiles(opts.Shared, paths, opts.Context, r)
	if len(paths) == 0 {
		return fail("%s: no Dockerfile found (looked for Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile, Containerfile)", p)
	}
	return nil
}

// auditDockerfiles audits Dockerfiles on every core and adds their results
// to r in the order given. They share only the run's build contexts and
// their secret scans (Shared.contexts), which are safe for concurrent use.
func auditDockerfiles(s *Shared, paths []string, buildContext string, r *finding.Report) {
	parts := make([]finding.Report, len(paths))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(paths); i = int(next.Add(1) - 1) {
				auditDockerfile(s, paths[i], buildContext, &parts[i])
			}
		})
	}
	wg.Wait()
	var nt, nf int
	for _, part := range parts {
		nt, nf = nt+len(part.Targets), nf+len(part.Findings)
	}
	r.Targets = slices.Grow(r.Targets, nt)
	r.Findings = slices.Grow(r.Findings, nf)
	for _, part := range parts {
		r.Targets = append(r.Targets, part.Targets...)
		r.Findings = append(r.Findings, part.Findings...)
		r.Errors = append(r.Errors, part.Errors...)
		r.Waivers = append(r.Waivers, part.Waivers...)
	}
}

// batchGC tunes the collector for auditing many Dockerfiles, unless GOGC
// or GOMEMLIMIT say otherwise: each file's parse and checks allocate much
// and keep little (its findings), so the heap may grow fourfold between
// collections, within a limit. With the default the collector took a
// third of the time of a thousand Dockerfiles on two cores.
func batchGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
}

// contexts are the build contexts the run's Dockerfiles share: each is
// walked, and each of its files scanned for secrets, once per run.
func (s *Shared) contexts() *dockerfile.Contexts {
	s.buildContextsOnce.Do(func() { s.buildContexts = dockerfile.NewContexts() })
	return s.buildContexts
}

// auditDockerfile parses and checks one Dockerfile into r, with its build
// context (empty: its directory); a file BuildKit rejects becomes an input
// error of the report.
func auditDockerfile(s *Shared, path, buildContext string, r *finding.Report) {
	auditDockerfileParsed(s, path, buildContext, r, func() (*dockerfile.File, error) { return dockerfile.ParseFile(path) })
}

// stdinName is the target of a Dockerfile read from standard input, as
// hadolint names it.
const stdinName = "-"

// maxStdinDockerfile bounds a Dockerfile read from standard input.
const maxStdinDockerfile = 16 << 20

// auditDockerfileSource audits a Dockerfile given as bytes.
func auditDockerfileSource(s *Shared, name string, src []byte, buildContext string, r *finding.Report) {
	auditDockerfileParsed(s, name, buildContext, r, func() (*dockerfile.File, error) { return dockerfile.Parse(name, src) })
}

func auditDockerfileParsed(s *Shared, path, buildContext string, r *finding.Report, parse func() (*dockerfile.File, error)) {
	f, err := parse()
	if err != nil {
		// The report names the file as the target; the message says where
		// in it and what is wrong.
		msg := oneLine(err.Error())
		var de *dockerfile.Error
		if errors.As(err, &de) {
			msg = oneLine(de.Err.Error())
			if de.Line > 0 {
				msg = "line " + strconv.Itoa(de.Line) + ": " + msg
			}
		}
		r.Errors = append(r.Errors, finding.InputError{Target: path, Kind: finding.SurfaceDockerfile, Message: msg})
		return
	}
	r.Targets = append(r.Targets, finding.Target{Kind: finding.SurfaceDockerfile, Name: path})
	r.Findings = append(r.Findings, dockerfile.Check(f, dockerfile.Options{Policy: s.cfg.Policy(), Enabled: s.cfg.Enabled, Now: s.Now(), Context: buildContext,
		Contexts: s.contexts()})...)
	r.Waivers = append(r.Waivers, f.Waivers...)
}
