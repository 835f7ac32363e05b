package cli

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
)

var _ = register(newDockerfileCmd)

func newDockerfileCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dockerfile PATH...",
		Short: "Audit Dockerfiles (a directory: every Dockerfile under it)",
		Long: "Audit Dockerfiles. A directory is searched for Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile and Containerfile.\n" +
			"Inline suppression: a comment `# dockvet ignore=DV1001 reason` on the line before an instruction.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.buildContext != "" {
				if len(args) != 1 {
					return fail("--context names the build context of one Dockerfile; give exactly one")
				}
				if fi, err := os.Stat(g.buildContext); err != nil || !fi.IsDir() {
					return fail("--context %s: not a directory", g.buildContext)
				}
			}
			r := newReport()
			for _, p := range args {
				if err := g.auditDockerfilePath(p, r); err != nil {
					return err
				}
			}
			return g.finish(r, findingFormats)
		},
	}
	cmd.Flags().StringVar(&g.buildContext, "context", "", "build context directory of the Dockerfile (as `docker build -f Dockerfile DIR`; default: the Dockerfile's directory)")
	return cmd
}

// auditDockerfilePath audits a file, or every Dockerfile under a directory.
func (g *globals) auditDockerfilePath(p string, r *finding.Report) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fail("%s: %v", p, unwrap(err))
	}
	if !fi.IsDir() {
		g.auditDockerfile(p, r)
		return nil
	}
	var paths []string
	err = g.walkFiles(p, nil, func(path string) error {
		if dockerfile.IsName(fileName(path)) {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	g.auditDockerfiles(paths, r)
	if len(paths) == 0 {
		return fail("%s: no Dockerfile found (looked for Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile, Containerfile)", p)
	}
	return nil
}

// auditDockerfiles audits Dockerfiles on every core and adds their results
// to r in the order given. They share only the run's build contexts and
// their secret scans, which are safe for concurrent use.
func (g *globals) auditDockerfiles(paths []string, r *finding.Report) {
	if g.buildContexts == nil {
		g.buildContexts = dockerfile.NewContexts()
	}
	parts := make([]finding.Report, len(paths))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(paths); i = int(next.Add(1) - 1) {
				g.auditDockerfile(paths[i], &parts[i])
			}
		})
	}
	wg.Wait()
	for _, part := range parts {
		r.Targets = append(r.Targets, part.Targets...)
		r.Findings = append(r.Findings, part.Findings...)
		r.Errors = append(r.Errors, part.Errors...)
		r.Waivers = append(r.Waivers, part.Waivers...)
	}
}

// auditDockerfile parses and checks one Dockerfile into r; a file BuildKit
// rejects becomes an input error of the report.
func (g *globals) auditDockerfile(path string, r *finding.Report) {
	f, err := dockerfile.ParseFile(path)
	if err != nil {
		// The report names the file as the target; the message says where
		// in it and what is wrong.
		msg := oneLine(err.Error())
		var de *dockerfile.Error
		if errors.As(err, &de) {
			msg = oneLine(de.Err.Error())
			if de.Line > 0 {
				msg = "line " + itoa(de.Line) + ": " + msg
			}
		}
		r.Errors = append(r.Errors, finding.InputError{Target: path, Kind: finding.SurfaceDockerfile, Message: msg})
		return
	}
	r.Targets = append(r.Targets, finding.Target{Kind: finding.SurfaceDockerfile, Name: path})
	if g.buildContexts == nil {
		g.buildContexts = dockerfile.NewContexts()
	}
	r.Findings = append(r.Findings, dockerfile.Check(f, dockerfile.Options{Policy: g.cfg.Policy(), Enabled: g.cfg.Enabled, Now: g.now(), Context: g.buildContext,
		Contexts: g.buildContexts})...)
	r.Waivers = append(r.Waivers, f.Waivers...)
}
