package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/host"
	"github.com/dockvet/dockvet/internal/live"
)

// HostOptions are those of `dockvet host`.
type HostOptions struct {
	*Shared
	Engine func(context.Context) (EngineClient, error)
	// Root is where the host's files are read ("/": this machine).
	Root       string
	ShowPassed bool
	NoEngine   bool
	Verify     bool
}

// NewCmdHost audits the Docker host.
func NewCmdHost(f *Factory, runF func(*HostOptions) error) *cobra.Command {
	opts := &HostOptions{Shared: f.Shared, Engine: f.Engine}
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runHost(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	opts.bindEngine(fl)
	fl.StringVar(&opts.Root, "root", "/", "read the host's files under this directory (a mounted host image, or / mounted into a container)")
	fl.BoolVar(&opts.ShowPassed, "show-passed", false, "also report passed checks, as info findings")
	fl.BoolVar(&opts.NoEngine, "no-engine", false, "do not ask the Docker Engine (audit files only, e.g. of a mounted host image)")
	fl.BoolVar(&opts.Verify, "verify", false, "check the signatures of running containers' images the trust policy requires signed (DV6501)")
	return cmd
}

func runHost(ctx context.Context, opts *HostOptions) error {
	if _, err := opts.checkFormat(findingFormats); err != nil {
		return err
	}
	if fi, err := os.Stat(opts.Root); err != nil {
		return fail("--root %s: %v", opts.Root, unwrap(err))
	} else if !fi.IsDir() {
		return fail("--root %s: not a directory", opts.Root)
	}
	r := newReport()
	local := filepath.Clean(opts.Root) == "/"
	ho := host.Options{Root: opts.Root, Auditctl: local, Now: opts.Now()}
	var engine EngineClient
	if opts.NoEngine {
		ho.EngineErr = "--no-engine"
	} else {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		c, err := opts.Engine(cctx)
		cancel()
		if err != nil {
			ho.EngineErr = oneLine(err.Error())
			r.Errors = append(r.Errors, finding.InputError{Target: "docker engine", Kind: finding.SurfaceHost,
				Message: ho.EngineErr + " (the Engine's checks are reported as not checked; --no-engine audits the files alone)"})
		} else {
			defer c.Close()
			opts.engineUsed()
			engine, ho.Engine = c, c
			if h := c.DaemonHost(); local && !strings.HasPrefix(h, "unix://") && !strings.HasPrefix(h, "npipe://") {
				opts.notice("the Engine at %s may be another machine's; the file checks describe this one", h)
			}
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	snap, err := host.Collect(cctx, ho)
	if err != nil {
		return fail("%v", err)
	}
	if engine != nil && snap.Engine == nil {
		r.Errors = append(r.Errors, finding.InputError{Target: "docker engine", Kind: finding.SurfaceHost, Message: snap.EngineErr})
	}
	for _, p := range snap.Problems {
		r.Errors = append(r.Errors, finding.InputError{Target: p.Path, Kind: finding.SurfaceHost, Message: p.Message})
	}
	findings, checks := host.Check(snap, host.CheckOptions{Enabled: opts.cfg.Enabled, Now: opts.Now(), Policy: opts.cfg.Policy()})
	r.Targets = append(r.Targets, snap.Target())
	r.Targets = append(r.Targets, snap.ContainerTargets()...)
	r.Findings = append(r.Findings, findings...)
	if opts.ShowPassed {
		r.Findings = append(r.Findings, host.Passed(snap, checks)...)
	}
	r.Checks = checks
	if opts.Verify && engine != nil && snap.Engine != nil {
		verifyHostContainers(ctx, opts.Shared, engine, snap, r)
	}
	return opts.finish(r, findingFormats)
}

// verifyHostContainers is `dockvet host --verify`: the running
// containers of the snapshot, completed with their images' inspect data.
func verifyHostContainers(ctx context.Context, s *Shared, c live.Client, snap *host.Snapshot, r *finding.Report) {
	var cs []*live.Container
	for _, hc := range snap.Engine.Containers {
		cctx, cancel := context.WithTimeout(ctx, engineTimeout)
		lc, err := live.Complete(cctx, c, hc.Inspect)
		cancel()
		if err != nil {
			r.Errors = append(r.Errors, finding.InputError{Target: hc.Name, Kind: finding.SurfaceContainer, Message: oneLine(err.Error())})
			continue
		}
		cs = append(cs, lc)
	}
	before := len(r.Findings)
	verifyContainers(ctx, s, cs, r)
	// Findings about a container belong to it as a target of its own.
	for _, f := range r.Findings[before:] {
		t := finding.Target{Kind: f.TargetKind, Name: f.Target}
		if !slices.Contains(r.Targets, t) {
			r.Targets = append(r.Targets, t)
		}
	}
}
