package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	"github.com/dockvet/dockvet/internal/secrets"
	"github.com/dockvet/dockvet/internal/vulndb"
)

var _ = register(newImageCmd)

// imageMemory is the memory dockvet image aims to stay within.
const imageMemory = 150 << 20

type imageOptions struct {
	maxAge        string
	wasted        string
	maxLayerSize  string
	maxImageSize  string
	verify        bool
	noSecrets     bool
	ignoreUnfixed bool
	server        string
	serverTimeout time.Duration
}

func newImageCmd(g *globals) *cobra.Command {
	o := &imageOptions{}
	def := image.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "image REF",
		Short: "Audit an image: config, history, every layer (deleted files too), size",
		Long: "Audit an image in one streaming pass over its layers: configuration, history, the final filesystem and what lower layers still hold,\n" +
			"secrets in every file of every layer (deleted and overwritten ones too), and the installed packages against the local\n" +
			"vulnerability database ('dockvet db update'; without one, every other check still runs).\n" +
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
	f.BoolVar(&o.noSecrets, "no-secrets", false, "do not scan the layers' files for secrets (config, history and credential-file rules still run)")
	f.BoolVar(&o.ignoreUnfixed, "ignore-unfixed", false, "leave out vulnerabilities that no released version fixes yet")
	f.StringVar(&o.server, "server", "", "send the scan to a 'dockvet server' at this URL (or read its stored result) instead of scanning here; token in DOCKVET_SERVER_TOKEN")
	f.DurationVar(&o.serverTimeout, "server-timeout", 10*time.Minute, "with --server, how long to wait for the scan")
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
	if o.server != "" {
		return g.remoteImage(ctx, o.server, ref, o.serverTimeout)
	}
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
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()

	img, err := g.openImage(ctx, ref)
	if err != nil {
		return err
	}
	defer img.Close()
	var (
		db       *vulndb.DB
		noDBNote string
	)
	if g.cfg.Enabled(&finding.Rule{Practice: finding.PracticeVulnerabilities}) {
		if db, noDBNote, err = g.openVulnDB(); err != nil {
			return err
		}
		if db != nil {
			defer db.Close()
		}
	}
	settings := image.DefaultSettings()
	settings.MaxAge, settings.WastedBytes = age, wasted
	ao := image.AuditOptions{Walk: walk, Settings: settings, Policy: g.cfg.Policy(), Enabled: g.cfg.Enabled, Now: g.now(), Target: ref}
	if !o.noSecrets && g.cfg.Enabled(&finding.Rule{Practice: finding.PracticeSecrets}) {
		ao.Secrets = image.NewSecrets(secrets.Default())
	}
	var pkgs *image.Packages
	if db != nil {
		pkgs = image.NewPackages(ctx)
		ao.Analyzers = append(ao.Analyzers, pkgs)
	}
	var progressDone func()
	ao.Walk.Progress, progressDone = g.walkProgress(ref)
	findings, view, err := image.Audit(ctx, img, ao)
	progressDone()
	if err != nil {
		return fail("%s: %v", ref, err)
	}
	target := finding.Target{Kind: finding.SurfaceImage, Name: ref}
	if noDBNote != "" {
		// Said once the image is read: a run that fails says only why.
		g.notice("%s", noDBNote)
	}
	if ao.Secrets != nil {
		g.secretNotice(ref, ao.Secrets.Stats())
	}
	if pkgs != nil {
		vulns, err := g.imageVulnerabilities(ref, db, pkgs, view, target, o.ignoreUnfixed)
		if err != nil {
			return err
		}
		findings = append(findings, vulns...)
	}
	r := newReport()
	r.Targets = append(r.Targets, target)
	r.Findings = findings
	if o.verify {
		fs, err := g.verifyImage(ctx, img, target)
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

// openImage opens REF with the shared flags (--platform, --offline,
// --insecure-registry) and sets the memory limit an image walk keeps to.
func (g *globals) openImage(ctx context.Context, ref string) (*image.Image, error) {
	open := image.OpenOptions{Offline: g.offline, Insecure: g.insecureRegistry}
	if g.platform != "" {
		p, err := v1.ParsePlatform(g.platform)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return nil, fail("--platform %q: want OS/ARCH[/VARIANT], such as linux/arm64", g.platform)
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
	img, err := image.Open(ctx, ref, open)
	if err != nil {
		return nil, fail("%v", err)
	}
	return img, nil
}

// openVulnDB opens the local vulnerability database. With none, it
// returns nil and the one line to say so (the other checks run). It never
// downloads: 'dockvet db update' does, so --offline has nothing to refuse.
func (g *globals) openVulnDB() (*vulndb.DB, string, error) {
	dir, err := g.CacheDir()
	if err != nil {
		return nil, "", err
	}
	db, err := vulndb.Open(dir)
	if errors.Is(err, vulndb.ErrNoDatabase) {
		return nil, err.Error(), nil
	}
	if err != nil {
		return nil, "", fail("%v (run 'dockvet db update')", err)
	}
	return db, "", nil
}

// maxNotices bounds the per-file notices of one kind.
const maxNotices = 10

// imageVulnerabilities matches an image's inventory: findings at the file
// each package was read from (an absolute path in the image, like every
// image finding) and the layer that introduced it. What went unchecked is
// said on standard error: files the extractors could not read or that were
// too large to hold, and ecosystems the database has no data for.
func (g *globals) imageVulnerabilities(ref string, db *vulndb.DB, pkgs *image.Packages, view *image.View, target finding.Target, ignoreUnfixed bool) ([]finding.Finding, error) {
	inv := pkgs.Result()
	var lines []string
	for _, e := range inv.Errors {
		lines = append(lines, fmt.Sprintf("%s: /%s: %s: not inventoried: %s", ref, e.Path, e.Extractor, e.Err))
	}
	for _, s := range view.Skipped {
		if s.Analyzer == pkgs.Name() {
			lines = append(lines, fmt.Sprintf("%s: %s (layer %d): not inventoried: %s", ref, s.File.Path, s.File.Layer.Index, s.Reason))
		}
	}
	for i, l := range lines {
		if i == maxNotices {
			g.notice("%s: %d more files not inventoried", ref, len(lines)-maxNotices)
			break
		}
		g.notice("%s", l)
	}
	if missing := vulndb.MissingEcosystems(db, inv.Packages); len(missing) > 0 {
		g.notice("%s: the vulnerability database has no %s data; those packages were not checked (run 'dockvet db update')", ref, strings.Join(missing, ", "))
	}
	fs, err := vulndb.Match(db, inv.Packages, vulndb.Options{Target: target, IgnoreUnfixed: ignoreUnfixed})
	if err != nil {
		return nil, fail("%s: %v", ref, err)
	}
	for i := range fs {
		fs[i].Location.Path = "/" + fs[i].Location.Path
	}
	return fs, nil
}

// secretNotice says how much of the image the secret scan read, and what
// it did not read and why: a clean result must not pass for more than it is.
func (g *globals) secretNotice(ref string, st image.SecretStats) {
	msg := fmt.Sprintf("%s: secret scan: %d files read (%s)", ref, st.Files, units.BytesSize(float64(st.Bytes)))
	var not []string
	if n := st.Binary; n > 0 {
		not = append(not, fmt.Sprintf("%d binary", n))
	}
	if n := st.SkippedPath; n > 0 {
		not = append(not, fmt.Sprintf("%d under documentation, locale and CA-bundle paths", n))
	}
	if len(not) > 0 {
		msg += "; not scanned: " + strings.Join(not, ", ")
	}
	if st.Strings > 0 {
		msg += fmt.Sprintf("; %d binary files scanned as their printable strings", st.Strings)
	}
	if st.Truncated > 0 {
		msg += fmt.Sprintf("; %d text files scanned only up to %s (DV2029)", st.Truncated, units.BytesSize(float64(st.MaxBytes)))
	}
	g.notice("%s", msg)
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
