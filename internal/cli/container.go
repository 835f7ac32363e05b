package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/engine"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/live"
)

var _ = register(newContainerCmd)

// engineTimeout bounds the questions asked about one container, so a
// daemon that stops answering is an error rather than a hang.
const engineTimeout = time.Minute

func newContainerCmd(g *globals) *cobra.Command {
	var verify bool
	cmd := &cobra.Command{
		Use:   "container NAME|ID...",
		Short: "Audit live containers (Docker Engine API)",
		Long: "Audit containers that exist on the Docker Engine (running or not), by name, ID or ID prefix: the settings they were\n" +
			"started with, judged by the same rules as Compose services and `docker run` lines, and the image each one runs\n" +
			"(its USER and HEALTHCHECK, and whether its tag now names a newer image). The Engine is the one DOCKER_HOST names\n" +
			"(the local socket by default); nothing is changed on it.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runContainer(cmd.Context(), args, verify)
		},
	}
	cmd.Flags().BoolVar(&verify, "verify", false, "check the signatures of images the trust policy (.dockvet.yaml trust:) requires signed (DV6501)")
	return cmd
}

func (g *globals) runContainer(ctx context.Context, refs []string, verify bool) error {
	cli, err := engine.Connect(ctx)
	if err != nil {
		return fail("%v", err)
	}
	defer cli.Close()
	r := newReport()
	opts := live.Options{Policy: g.cfg.Policy(), Enabled: g.cfg.Enabled}
	seen := map[string]bool{}
	var audited []*live.Container
	for _, ref := range refs {
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
		r.Findings = append(r.Findings, live.Audit(c, opts)...)
		audited = append(audited, c)
	}
	if verify {
		g.verifyContainers(ctx, audited, r)
	}
	return g.finish(r, findingFormats)
}
