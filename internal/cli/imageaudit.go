package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docker/go-units"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/secrets"
	"github.com/dockvet/dockvet/internal/sign"
	"github.com/dockvet/dockvet/internal/vulndb"
)

// imageMemory is the memory the Go runtime of dockvet image aims to stay
// within: the walk's data at a million entries (~75 MiB) and room for the
// collector, which on a loaded machine falls behind the allocations; the
// program itself takes some 30 MiB more, outside the limit.
const imageMemory = 104 << 20

// ImageAuditOptions are what an image audit needs besides a command line:
// `dockvet image` fills them from its flags, a server from its request.
type ImageAuditOptions struct {
	// Ref is the image, in any form image.Open reads.
	Ref string
	// Open says how to read it (platform, offline, insecure registries);
	// Open.Offline and Open.Insecure also apply to Verify.
	Open image.OpenOptions
	// Walk bounds the layer walk (its Progress is set from Progress).
	Walk image.Options
	// Settings are the image rules' thresholds.
	Settings image.Settings
	// Config is the project configuration: trust policy and enabled
	// rules; nil means the defaults. Its ignores and severity overrides
	// are not applied here: the report is the audit's, before the
	// project's filters.
	Config *config.Config
	// Now is the time of the audit (time.Now when zero).
	Now time.Time
	// CacheDir holds the vulnerability database and the signature
	// caches; empty means DOCKVET_CACHE_DIR, else the user cache directory.
	CacheDir string
	// NoSecrets leaves out the secret scan of the layers' files.
	NoSecrets bool
	// IgnoreUnfixed leaves out vulnerabilities no release fixes yet.
	IgnoreUnfixed bool
	// Verify checks the signatures the trust policy requires (DV6501).
	Verify bool
	// Engine is asked for the registry digests of an image read from the
	// local Engine when verifying; nil connects as the environment says.
	Engine func(context.Context) (EngineClient, error)
	// Notice receives one-line messages for a person (no database, what
	// the secret scan and the inventory did not read); nil discards them.
	Notice func(format string, args ...any)
	// Progress, when set, is called once the image is open: the walk
	// reports to update, and done is called when the walk ends, before
	// any notice.
	Progress func() (update func(image.Progress), done func())
}

// AuditImage opens an image and audits it in one walk of its layers:
// configuration, history and files, secrets, packages against the local
// vulnerability database (when there is one and the practice is enabled),
// and, with Verify, signatures. The report has the image as its target and
// every finding, before the project's ignores and filters; the view holds
// the layer table. A failure is one line naming the image.
func AuditImage(ctx context.Context, o ImageAuditOptions) (*finding.Report, *image.View, error) {
	cfg := o.Config
	if cfg == nil {
		cfg = config.Default()
	}
	notice := o.Notice
	if notice == nil {
		notice = func(string, ...any) {}
	}
	img, err := image.Open(ctx, o.Ref, o.Open)
	if err != nil {
		return nil, nil, fail("%v", err)
	}
	defer img.Close()
	var (
		db       *vulndb.DB
		noDBNote string
	)
	if cfg.Enabled(&finding.Rule{Practice: finding.PracticeVulnerabilities}) {
		if db, noDBNote, err = openVulnDB(o.CacheDir); err != nil {
			return nil, nil, err
		}
		if db != nil {
			defer db.Close()
		}
	}
	ao := image.AuditOptions{Walk: o.Walk, Settings: o.Settings, Policy: cfg.Policy(), Enabled: cfg.Enabled, Now: o.Now, Target: o.Ref}
	if !o.NoSecrets && cfg.Enabled(&finding.Rule{Practice: finding.PracticeSecrets}) {
		ao.Secrets = image.NewSecrets(secrets.Default())
	}
	var pkgs *image.Packages
	if db != nil {
		pkgs = image.NewPackages(ctx)
		ao.Analyzers = append(ao.Analyzers, pkgs)
	}
	walkDone := func() {}
	if o.Progress != nil {
		ao.Walk.Progress, walkDone = o.Progress()
	}
	findings, view, err := image.Audit(ctx, img, ao)
	walkDone()
	if err != nil {
		return nil, nil, fail("%s: %v", o.Ref, err)
	}
	target := finding.Target{Kind: finding.SurfaceImage, Name: o.Ref}
	if noDBNote != "" {
		// Said once the image is read: a run that fails says only why.
		notice("%s", noDBNote)
	}
	if ao.Secrets != nil {
		notice("%s", secretNotice(o.Ref, ao.Secrets.Stats()))
	}
	var inventory []inventoryPackage
	if pkgs != nil {
		vulns, err := imageVulnerabilities(o.Ref, db, pkgs, view, target, o.IgnoreUnfixed, notice)
		if err != nil {
			return nil, nil, err
		}
		findings = append(findings, vulns...)
		inventory = pkgs.Result().Packages
	}
	r := newReport()
	r.Targets = append(r.Targets, target)
	r.Findings = findings
	r.Layers = []finding.ImageLayers{{Target: o.Ref, Layers: image.LayerViews(view, inventory)}}
	if o.Verify {
		fs, err := verifyImage(ctx, img, target, cfg, o, notice)
		if err != nil {
			return nil, nil, fail("%s: --verify: %v", o.Ref, err)
		}
		r.Findings = append(r.Findings, fs...)
	}
	return r, view, nil
}

type inventoryPackage = inventory.Package

// openVulnDB opens the local vulnerability database. With none, it
// returns nil and the one line to say so (the other checks run). It never
// downloads: 'dockvet db update' does, so --offline has nothing to refuse.
func openVulnDB(cacheDirFlag string) (*vulndb.DB, string, error) {
	dir, err := resolveCacheDir(cacheDirFlag)
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
// said through notice: files the extractors could not read or that were
// too large to hold, and ecosystems the database has no data for.
func imageVulnerabilities(ref string, db *vulndb.DB, pkgs *image.Packages, view *image.View, target finding.Target, ignoreUnfixed bool, notice func(string, ...any)) ([]finding.Finding, error) {
	inv := pkgs.Result()
	var lines []string
	for _, e := range inv.Errors {
		lines = append(lines, fmt.Sprintf("%s: /%s: %s: not inventoried: %s", ref, e.Path, e.Extractor, e.Err))
	}
	for _, s := range view.Skipped {
		if s.Analyzer == pkgs.Name() {
			lines = append(lines, fmt.Sprintf("%s: %s (layer %d): not inventoried: %s", ref, s.File.Path(), s.File.Layer.Index, s.Reason))
		}
	}
	for i, l := range lines {
		if i == maxNotices {
			notice("%s: %d more files not inventoried", ref, len(lines)-maxNotices)
			break
		}
		notice("%s", l)
	}
	if missing := vulndb.MissingEcosystems(db, inv.Packages); len(missing) > 0 {
		notice("%s: the vulnerability database has no %s data; those packages were not checked (run 'dockvet db update')", ref, strings.Join(missing, ", "))
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
func secretNotice(ref string, st image.SecretStats) string {
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
	return msg
}

// verifyImage is `dockvet image --verify`: when the trust policy requires
// signatures of the audited image, check them and report DV6501 if none
// verifies.
func verifyImage(ctx context.Context, img *image.Image, target finding.Target, cfg *config.Config, o ImageAuditOptions, notice func(string, ...any)) ([]finding.Finding, error) {
	c, err := newSignChecker(cfg, o.CacheDir, o.Open.Offline, o.Open.Insecure)
	if err != nil {
		return nil, err
	}
	nm := img.Name
	if nm == "" || !c.Requires(nm) {
		notice("%s: the trust policy requires no signature of this image; nothing to verify", target.Name)
		return nil, nil
	}
	if o.Open.Offline {
		return nil, fmt.Errorf("--verify reads signatures from the registry, which --offline forbids")
	}
	digests, err := sign.ImageDigests(ctx, img, sign.Remote{Insecure: o.Open.Insecure})
	if err != nil {
		return nil, err
	}
	if img.Source == image.SourceDocker {
		connect := o.Engine
		if connect == nil {
			connect = connectEngine
		}
		rd, err := engineRepoDigests(ctx, connect, img.Name)
		if err != nil {
			return nil, err
		}
		digests = append(digests, sign.RepoDigests(nm, rd)...)
	}
	return c.Check(ctx, sign.Subject{Name: nm, Digests: digests, Target: target, Who: "Image " + nm})
}

// engineRepoDigests are the registry digests the Engine recorded for an
// image when it was pulled.
func engineRepoDigests(ctx context.Context, connect func(context.Context) (EngineClient, error), ref string) ([]string, error) {
	c, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res, err := c.ImageInspect(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", ref, oneLine(err.Error()))
	}
	return res.RepoDigests, nil
}
