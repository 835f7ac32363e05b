package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/image"
)

var _ = register(newImageCmd)

// imageMemory is the memory dockvet image aims to stay within.
const imageMemory = 150 << 20

type imageOptions struct {
	maxAge       string
	wasted       string
	maxLayerSize string
	maxImageSize string
	verify       bool
}

func newImageCmd(g *globals) *cobra.Command {
	o := &imageOptions{}
	def := image.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "image REF",
		Short: "Audit an image: config, history, every layer (deleted files too), size",
		Long: "Audit an image in one streaming pass over its layers: configuration, history, the final filesystem and what lower layers still hold.\n" +
			"REF: docker-archive:FILE.tar, oci-archive:FILE.tar, oci:DIR, docker:NAME (the local Engine), registry:NAME, a .tar path\n" +
			"(docker save or OCI, sniffed), or a bare NAME[:TAG][@DIGEST] (the local Engine first, then the registry).\n" +
			"--format table ends with a per-layer size table.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runImage(cmd.Context(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.maxAge, "max-age", "180d", "report images built longer ago than this (DV2011): 90d, 26w, 4320h")
	f.StringVar(&o.wasted, "wasted-threshold", "20MiB", "report bytes wasted on deleted or overwritten files above this (DV2027)")
	f.StringVar(&o.maxLayerSize, "max-layer-size", units.BytesSize(float64(def.MaxLayerBytes)), "refuse a layer that inflates to more than this (compression bombs)")
	f.StringVar(&o.maxImageSize, "max-image-size", units.BytesSize(float64(def.MaxImageBytes)), "refuse an image whose layers inflate to more than this in total")
	f.BoolVar(&o.verify, "verify", false, "check the image's signatures when the trust policy (.dockvet.yaml trust:) requires them (DV6501)")
	return cmd
}

// parseAge reads a duration that may be given in days or weeks.
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v <= 0 {
				return 0, errors.New("not a positive number of " + map[string]string{"d": "days", "w": "weeks"}[suffix])
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("want a positive duration such as 180d, 26w or 4320h")
	}
	return d, nil
}

func parseSize(flag, s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil || n <= 0 {
		return 0, fail("--%s %q: want a positive size such as 20MiB or 16GiB", flag, s)
	}
	return n, nil
}

func (g *globals) runImage(ctx context.Context, ref string, o *imageOptions) error {
	format, err := g.checkFormat(findingFormats)
	if err != nil {
		return err
	}
	age, err := parseAge(o.maxAge)
	if err != nil {
		return fail("--max-age %q: %v", o.maxAge, err)
	}
	wasted, err := parseSize("wasted-threshold", o.wasted)
	if err != nil {
		return err
	}
	walk := image.DefaultOptions()
	if walk.MaxLayerBytes, err = parseSize("max-layer-size", o.maxLayerSize); err != nil {
		return err
	}
	if walk.MaxImageBytes, err = parseSize("max-image-size", o.maxImageSize); err != nil {
		return err
	}
	open := image.OpenOptions{Offline: g.offline, Insecure: g.insecureRegistry}
	if g.platform != "" {
		p, err := v1.ParsePlatform(g.platform)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return fail("--platform %q: want OS/ARCH[/VARIANT], such as linux/arm64", g.platform)
		}
		open.Platform = p
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// The walk keeps a few hundred bytes per layer entry and streams
		// everything else; a soft limit makes the collector work before
		// garbage doubles that, so even images with hundreds of thousands
		// of files stay within imageMemory.
		debug.SetMemoryLimit(imageMemory)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()

	img, err := image.Open(ctx, ref, open)
	if err != nil {
		return fail("%v", err)
	}
	defer img.Close()
	settings := image.DefaultSettings()
	settings.MaxAge, settings.WastedBytes = age, wasted
	findings, view, err := image.Audit(ctx, img, image.AuditOptions{
		Walk: walk, Settings: settings, Policy: g.cfg.Policy(), Enabled: g.cfg.Enabled, Now: g.now(), Target: ref,
	})
	if err != nil {
		return fail("%s: %v", ref, err)
	}
	r := newReport()
	r.Targets = append(r.Targets, finding.Target{Kind: finding.SurfaceImage, Name: ref})
	r.Findings = findings
	if o.verify {
		fs, err := g.verifyImage(ctx, img, r.Targets[0])
		if err != nil {
			return fail("%s: --verify: %v", ref, err)
		}
		r.Findings = append(r.Findings, fs...)
	}
	if format != "table" {
		return g.finish(r, findingFormats)
	}
	return g.finishWithLayers(r, view)
}

// finishWithLayers is finish for the table format, with the per-layer size
// table after the findings: the report is rendered into memory by the
// shared tail, then written (atomically, to --output or standard output)
// with the table appended.
func (g *globals) finishWithLayers(r *finding.Report, view *image.View) error {
	var buf bytes.Buffer
	inner := *g
	inner.output = ""
	inner.noColor = g.noColor || !g.color()
	inner.streams.Out = &buf
	err := inner.finish(r, findingFormats)
	// finish fails with a message when it wrote nothing; an exit code
	// without one (findings, incomplete inputs) comes after the report.
	var ee *exitError
	if err != nil && (!errors.As(err, &ee) || ee.msg != "") || buf.Len() == 0 {
		return err
	}
	buf.WriteString("\n")
	if werr := image.WriteLayers(&buf, view); werr != nil {
		return fail("rendering the layer table: %v", werr)
	}
	if werr := g.write(buf.Bytes()); werr != nil {
		return werr
	}
	return err
}
