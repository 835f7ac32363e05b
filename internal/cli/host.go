package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/engine"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/host"
)

var _ = register(newHostCmd)

type hostOptions struct {
	root       string
	showPassed bool
	noEngine   bool
	verify     bool
}

func newHostCmd(g *globals) *cobra.Command {
	o := &hostOptions{}
	cmd := &cobra.Command{
		Use:   "host",
		Short: "Audit the Docker host: daemon, its files and socket, kernel, client configuration, running containers (CIS Docker Benchmark)",
		Long: "Audit the Docker host the way the CIS Docker Benchmark 1.6.0 does (sections 1-3, 5 for every running container,\n" +
			"6, 7 when Swarm is active, and 4 for the running containers' images), plus Engine, containerd, runc and kernel\n" +
			"versions with known escapes and plaintext registry credentials. Running containers are judged by the same rules\n" +
			"as `dockvet container`, each finding at the container's name. The audit only reads: it changes nothing on the host.\n\n" +
			"--format table prints the benchmark table (PASS / WARN / INFO / NOTE and a score) before the findings.\n" +
			"Checks that cannot be made (permission denied, not present) are INFO, never PASS.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.runHost(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.root, "root", "/", "read the host's files under this directory (a mounted host image, or / mounted into a container)")
	f.BoolVar(&o.showPassed, "show-passed", false, "also report passed checks, as info findings")
	f.BoolVar(&o.noEngine, "no-engine", false, "do not ask the Docker Engine (audit files only, e.g. of a mounted host image)")
	f.BoolVar(&o.verify, "verify", false, "check the signatures of running containers' images the trust policy requires signed (DV6501)")
	return cmd
}

func (g *globals) runHost(ctx context.Context, o *hostOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if _, err := g.checkFormat(findingFormats); err != nil {
		return err
	}
	if fi, err := os.Stat(o.root); err != nil {
		return fail("--root %s: %v", o.root, unwrap(err))
	} else if !fi.IsDir() {
		return fail("--root %s: not a directory", o.root)
	}
	r := newReport()
	live := filepath.Clean(o.root) == "/"
	opts := host.Options{Root: o.root, Auditctl: live, Now: g.now()}
	if o.noEngine {
		opts.EngineErr = "--no-engine"
	} else {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		c, err := engine.Connect(cctx)
		cancel()
		if err != nil {
			opts.EngineErr = oneLine(err.Error())
			r.Errors = append(r.Errors, finding.InputError{Target: "docker engine", Kind: finding.SurfaceHost,
				Message: opts.EngineErr + " (the Engine's checks are reported as not checked; --no-engine audits the files alone)"})
		} else {
			defer c.Close()
			opts.Engine = c
			if h := c.DaemonHost(); live && !strings.HasPrefix(h, "unix://") && !strings.HasPrefix(h, "npipe://") {
				g.notice("the Engine at %s may be another machine's; the file checks describe this one", h)
			}
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	snap, err := host.Collect(cctx, opts)
	if err != nil {
		return fail("%v", err)
	}
	if opts.Engine != nil && snap.Engine == nil {
		r.Errors = append(r.Errors, finding.InputError{Target: "docker engine", Kind: finding.SurfaceHost, Message: snap.EngineErr})
	}
	for _, p := range snap.Problems {
		r.Errors = append(r.Errors, finding.InputError{Target: p.Path, Kind: finding.SurfaceHost, Message: p.Message})
	}
	findings, checks := host.Check(snap, host.CheckOptions{Enabled: g.cfg.Enabled, Now: g.now(), Policy: g.cfg.Policy()})
	r.Targets = append(r.Targets, snap.Target())
	r.Targets = append(r.Targets, snap.ContainerTargets()...)
	r.Findings = append(r.Findings, findings...)
	if o.showPassed {
		r.Findings = append(r.Findings, host.Passed(snap, checks)...)
	}
	r.Checks = checks
	if o.verify && opts.Engine != nil && snap.Engine != nil {
		g.verifyHostContainers(ctx, opts.Engine, snap, r)
	}
	return g.finish(r, findingFormats)
}
