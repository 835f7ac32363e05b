package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/live"
)

// engineTimeout bounds the questions asked about one container, so a
// daemon that stops answering is an error rather than a hang.
const engineTimeout = time.Minute

// ContainerOptions are those of `dockvet container`.
type ContainerOptions struct {
	*Shared
	Engine func(context.Context) (EngineClient, error)
	// Refs name containers: names, IDs or ID prefixes.
	Refs   []string
	Verify bool
}

// NewCmdContainer audits live containers.
func NewCmdContainer(f *Factory, runF func(*ContainerOptions) error) *cobra.Command {
	opts := &ContainerOptions{Shared: f.Shared, Engine: f.Engine}
	cmd := &cobra.Command{
		Use:   "container NAME|ID...",
		Short: "Audit live containers (Docker Engine API)",
		Long: "Audit containers that exist on the Docker Engine (running or not), by name, ID or ID prefix: the settings they were\n" +
			"started with, judged by the same rules as Compose services and `docker run` lines, and the image each one runs\n" +
			"(its USER and HEALTHCHECK, and whether its tag now names a newer image). The Engine is the one the Docker CLI would\n" +
			"use (--host, DOCKER_HOST, --context, DOCKER_CONTEXT, the current Docker context); nothing is changed on it.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Refs = args
			if runF != nil {
				return runF(opts)
			}
			return runContainer(cmd.Context(), opts)
		},
	}
	opts.bindEngine(cmd.Flags())
	cmd.Flags().BoolVar(&opts.Verify, "verify", false, "check the signatures of images the trust policy (.dockvet.yaml trust:) requires signed (DV6501)")
	return cmd
}

func runContainer(ctx context.Context, opts *ContainerOptions) error {
	cli, err := opts.Engine(ctx)
	if err != nil {
		return fail("%v", err)
	}
	defer cli.Close()
	opts.engineUsed()
	r := newReport()
	lo := live.Options{Policy: opts.cfg.Policy(), Enabled: opts.cfg.Enabled}
	seen := map[string]bool{}
	var audited []*live.Container
	for _, ref := range opts.Refs {
		fctx, cancel := context.WithTimeout(ctx, engineTimeout)
		c, err := live.Fetch(fctx, cli, ref)
		cancel()
		if err != nil {
			msg := err.Error()
			if live.IsNotFound(err) {
				msg = "no such container on the Docker Engine at " + cli.DaemonHost()
			}
			r.Errors = append(r.Errors, finding.InputError{Target: ref, Kind: finding.SurfaceContainer, Message: oneLine(msg)})
			continue
		}
		if seen[c.Inspect.ID] {
			continue // the same container named twice (name and ID)
		}
		seen[c.Inspect.ID] = true
		r.Targets = append(r.Targets, live.Target(c))
		r.Findings = append(r.Findings, live.Audit(c, lo)...)
		audited = append(audited, c)
	}
	if opts.Verify {
		verifyContainers(ctx, opts.Shared, audited, r)
	}
	return opts.finish(r, findingFormats)
}

// verifyContainers is --verify of `dockvet container` and `dockvet host`:
// each container's image against the trust policy's signature
// requirements.
func verifyContainers(ctx context.Context, s *Shared, cs []*live.Container, r *finding.Report) {
	c, err := s.signChecker()
	if err != nil {
		r.Errors = append(r.Errors, finding.InputError{Target: "trust policy", Kind: finding.SurfaceContainer, Message: err.Error()})
		return
	}
	for _, lc := range cs {
		if lc.Inspect.Config == nil || !c.Requires(lc.Inspect.Config.Image) {
			continue
		}
		if s.Offline {
			r.Errors = append(r.Errors, finding.InputError{Target: lc.Name(), Kind: finding.SurfaceContainer,
				Message: "--verify reads signatures from the registry, which --offline forbids"})
			continue
		}
		vctx, cancel := context.WithTimeout(ctx, verifyTimeout)
		fs, err := c.Container(vctx, lc, finding.Target{})
		cancel()
		if err != nil {
			r.Errors = append(r.Errors, finding.InputError{Target: lc.Name(), Kind: finding.SurfaceContainer, Message: oneLine(err.Error())})
			continue
		}
		r.Findings = append(r.Findings, fs...)
	}
}
