// Package imageaudit is the one image audit: what `dockvet image` runs and
// what the fleet server's scan jobs run. It opens an image, walks it once
// (rules, secrets, package inventory), matches the inventory against the
// local vulnerability database, checks signatures on request, and returns
// a report that says what was scanned (the image's identity) and with
// which data (the database, what it lacked). It knows nothing of command
// lines: the CLI and the server fill Options and render the report.
package imageaudit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/go-units"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/secrets"
	"github.com/dockvet/dockvet/internal/sign"
	"github.com/dockvet/dockvet/internal/vulndb"
)

// Options are what an image audit needs besides a command line: `dockvet
// image` fills them from its flags, the server from its request.
type Options struct {
	// Ref is the image, in any form image.Open reads.
	Ref string
	// Target names the image in the report (Ref when empty): the server
	// reads "registry:"+name for a request that said name.
	Target string
	// Open says how to read it (source, platform, offline, insecure
	// registries, the Engine); Open.Offline and Open.Insecure also apply
	// to Verify.
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
	// Version is dockvet's version, the report's tool version.
	Version string
	// CacheDir holds the vulnerability database; empty means
	// DOCKVET_CACHE_DIR, else the user cache directory (CacheDir).
	CacheDir string
	// DBMaxAge is how old the database may be before a notice says so
	// (0: never).
	DBMaxAge time.Duration
	// NoSecrets leaves out the secret scan of the layers' files.
	NoSecrets bool
	// IgnoreUnfixed leaves out vulnerabilities no release fixes yet.
	IgnoreUnfixed bool
	// InventoryOnly reads the package inventory but matches nothing: the
	// fleet stores inventories and matches them itself.
	InventoryOnly bool
	// Verify checks the signatures the trust policy requires (DV6501)
	// with the checker SignChecker makes.
	Verify      bool
	SignChecker func() (*sign.Checker, error)
	// Engine names the Docker Engine the run resolved; it is recorded in
	// the report when the image came from it or a bare name tried it.
	Engine *finding.EngineInfo
	// Notice receives one-line messages for a person (what the secret
	// scan and the inventory did not read); nil discards them.
	Notice func(format string, args ...any)
	// Warn receives what a quiet run must still say: data that was
	// missing, so that a clean report is not taken for a complete one.
	// nil sends them to Notice.
	Warn func(format string, args ...any)
	// Progress, when set, is called once the image is open: the walk
	// reports to update, and done is called when the walk ends, before
	// any notice.
	Progress func() (update func(image.Progress), done func())
}

// Result is one audited image.
type Result struct {
	// Report has the image as its target, every finding (before the
	// project's ignores and filters), the image's identity and the scan
	// information.
	Report *finding.Report
	// View holds the layer table.
	View *image.View
	// Identity is the report's one image identity.
	Identity finding.ImageInfo
	// Config is the image's configuration.
	Config *v1.ConfigFile
	// Inventory is the package inventory of the final filesystem.
	Inventory *inventory.Result
}

// Audit opens an image and audits it in one walk of its layers:
// configuration, history and files, secrets, packages against the local
// vulnerability database (when the practice is enabled), and, with
// Verify, signatures. A failure is one line naming the image.
func Audit(ctx context.Context, o Options) (*Result, error) {
	cfg := o.Config
	if cfg == nil {
		cfg = config.Default()
	}
	notice := o.Notice
	if notice == nil {
		notice = func(string, ...any) {}
	}
	warn := o.Warn
	if warn == nil {
		warn = notice
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	target := o.Target
	if target == "" {
		target = o.Ref
	}
	img, err := image.Open(ctx, o.Ref, o.Open)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	if img.SourceNote != "" {
		// Which image was read is not a detail a quiet run may drop.
		warn("%s", img.SourceNote)
	}
	var (
		db     *vulndb.DB
		dbInfo *finding.DatabaseInfo
	)
	vulnsEnabled := cfg.Enabled(&finding.Rule{Practice: finding.PracticeVulnerabilities})
	if vulnsEnabled && !o.InventoryOnly {
		if db, dbInfo, err = openDB(o.CacheDir, o.DBMaxAge, now); err != nil {
			return nil, err
		}
		if db != nil {
			defer db.Close()
		}
	}
	ao := image.AuditOptions{Walk: o.Walk, Settings: o.Settings, Policy: cfg.Policy(), Enabled: cfg.Enabled, Now: now, Target: target}
	if !o.NoSecrets && cfg.Enabled(&finding.Rule{Practice: finding.PracticeSecrets}) {
		ao.Secrets = image.NewSecrets(secrets.Default())
	}
	// The inventory is always read: it names the distribution the report
	// identifies, and the ecosystems a missing database leaves unchecked.
	pkgs := image.NewPackages(ctx)
	ao.Analyzers = append(ao.Analyzers, pkgs)
	walkDone := func() {}
	if o.Progress != nil {
		ao.Walk.Progress, walkDone = o.Progress()
	}
	findings, view, err := image.Audit(ctx, img, ao)
	walkDone()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", o.Ref, err)
	}
	// A streamed image (the Engine's, a compressed archive) says its
	// platform only once read.
	if err := image.CheckPlatform(img, o.Open); err != nil {
		return nil, fmt.Errorf("%s: %v", o.Ref, err)
	}
	tgt := finding.Target{Kind: finding.SurfaceImage, Name: target}
	inv := pkgs.Result()
	if ao.Secrets != nil {
		notice("%s", secretNotice(target, ao.Secrets.Stats()))
	}
	if n := repeatNotice(target, view); n != "" {
		notice("%s", n)
	}
	if vulnsEnabled {
		inventoryNotices(target, inv, view, pkgs.Name(), notice)
	}
	if vulnsEnabled && !o.InventoryOnly {
		DescribeCoverage(dbInfo, inv.Packages, target)
		for _, n := range dbInfo.Notices {
			warn("%s", n)
		}
		if db != nil {
			vulns, err := vulndb.Match(db, inv.Packages, vulndb.Options{Target: tgt, IgnoreUnfixed: o.IgnoreUnfixed})
			if err != nil {
				return nil, fmt.Errorf("%s: %v", target, err)
			}
			for i := range vulns {
				vulns[i].Location.Path = "/" + vulns[i].Location.Path
			}
			findings = append(findings, vulns...)
		}
	}
	id := Identity(img, view, inv.OS, target)
	r := &finding.Report{
		Tool:     finding.Tool{Name: "dockvet", Version: o.Version},
		Targets:  []finding.Target{tgt},
		Findings: findings,
		Scan:     &finding.ScanInfo{Time: now.UTC(), VulnerabilityDatabase: dbInfo},
		Images:   []finding.ImageInfo{id},
		Layers:   []finding.ImageLayers{{Target: target, Layers: image.LayerViews(view, inv.Packages)}},
	}
	if o.Engine != nil && (img.Source == image.SourceDocker || img.SourceNote != "") {
		r.Scan.Engine = o.Engine
	}
	if o.Verify {
		fs, err := verify(ctx, img, tgt, o, notice)
		if err != nil {
			return nil, fmt.Errorf("%s: --verify: %v", target, err)
		}
		r.Findings = append(r.Findings, fs...)
	}
	return &Result{Report: r, View: view, Identity: id, Config: img.Config, Inventory: inv}, nil
}

// Identity says what image was read, as the report records it.
func Identity(img *image.Image, view *image.View, osr *inventory.OS, target string) finding.ImageInfo {
	id := finding.ImageInfo{
		Target: target, Source: img.Source, Location: img.Location, SourceNote: img.SourceNote,
		Name: img.Name, RepoDigests: img.RepoDigests,
	}
	if img.ConfigDigest.Hex != "" {
		id.ID = img.ConfigDigest.String()
	}
	if img.Digest.Hex != "" {
		id.ManifestDigest = img.Digest.String()
	}
	if c := img.Config; c != nil {
		id.Platform = platformString(c.OS, c.Architecture, c.Variant)
		if !c.Created.IsZero() {
			t := c.Created.UTC()
			id.Created = &t
		}
		id.Repository = c.Config.Labels["org.opencontainers.image.source"]
		id.Revision = c.Config.Labels["org.opencontainers.image.revision"]
	}
	if view != nil {
		id.Layers = len(view.Layers)
		for _, l := range view.Layers {
			id.Size += l.Size
		}
	}
	if osr != nil {
		id.OS = &finding.OSInfo{ID: osr.ID, VersionID: osr.VersionID, PrettyName: osr.PrettyName}
	}
	return id
}

func platformString(os, arch, variant string) string {
	if os == "" && arch == "" {
		return ""
	}
	p := os + "/" + arch
	if variant != "" {
		p += "/" + variant
	}
	return p
}

// CacheDir is the cache directory: the flag's value, else
// DOCKVET_CACHE_DIR, else dockvet's directory in the user cache directory.
func CacheDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if d := os.Getenv("DOCKVET_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: %v (set --cache-dir or DOCKVET_CACHE_DIR)", err)
	}
	return filepath.Join(d, "dockvet"), nil
}

// openDB opens the local vulnerability database and describes it. With
// none, it returns a nil database and a description saying so (the other
// checks run). It never downloads: 'dockvet db update' does, so --offline
// has nothing to refuse.
func openDB(cacheDirFlag string, maxAge time.Duration, now time.Time) (*vulndb.DB, *finding.DatabaseInfo, error) {
	dir, err := CacheDir(cacheDirFlag)
	if err != nil {
		return nil, nil, err
	}
	db, err := vulndb.Open(dir)
	if errors.Is(err, vulndb.ErrNoDatabase) {
		return nil, DescribeDB(nil, maxAge, now), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%v (run 'dockvet db update')", err)
	}
	return db, DescribeDB(db.Ecosystems(), maxAge, now), nil
}

// DescribeDB describes a vulnerability database by its ecosystems (none:
// there is no database), and says when the least fresh of them is older
// than maxAge (0: never).
func DescribeDB(ecos []vulndb.Meta, maxAge time.Duration, now time.Time) *finding.DatabaseInfo {
	info := &finding.DatabaseInfo{Status: finding.DatabaseComplete, DefaultSeverity: vulndb.DefaultSeverity, Ecosystems: []finding.EcosystemInfo{}}
	if len(ecos) == 0 {
		info.Status = finding.DatabaseMissing
		return info
	}
	var oldest time.Time
	for i, m := range ecos {
		info.Ecosystems = append(info.Ecosystems, finding.EcosystemInfo{Name: m.Ecosystem, Records: m.Records, Updated: m.Fresh().UTC()})
		if i == 0 || m.Fresh().Before(oldest) {
			oldest = m.Fresh()
		}
	}
	if age := now.Sub(oldest); maxAge > 0 && age > maxAge {
		info.Stale, info.MaxAge = true, roundAge(maxAge)
		info.Notices = append(info.Notices, fmt.Sprintf("the vulnerability database was last updated %s ago (%s), more than --db-max-age %s; run 'dockvet db update'",
			roundAge(age), oldest.UTC().Format("2006-01-02"), roundAge(maxAge)))
	}
	return info
}

// roundAge prints a duration in days, or hours under two days.
func roundAge(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return d.Round(time.Hour).String()
}

// DescribeCoverage fills a database description with what a target's
// packages needed and the database lacked, and the notice that says so
// first. The fleet calls it for stored inventories.
func DescribeCoverage(info *finding.DatabaseInfo, pkgs []inventory.Package, target string) {
	info.Needed = vulndb.Ecosystems(pkgs)
	if info.Status == finding.DatabaseMissing {
		info.Missing = info.Needed
		msg := "no vulnerability database (run 'dockvet db update' or 'dockvet db import'); vulnerability checks skipped"
		if len(info.Needed) > 0 {
			msg = fmt.Sprintf("%s: no vulnerability database, so its %s packages were not checked for vulnerabilities (run 'dockvet db update --ecosystems %s', or 'dockvet db import' offline)",
				target, strings.Join(info.Needed, ", "), strings.Join(info.Needed, ","))
		}
		info.Notices = append([]string{msg}, info.Notices...)
		return
	}
	have := map[string]bool{}
	for _, e := range info.Ecosystems {
		have[e.Name] = true
	}
	info.Missing = nil
	for _, e := range info.Needed {
		if !have[e] {
			info.Missing = append(info.Missing, e)
		}
	}
	info.Status = finding.DatabaseComplete
	if len(info.Missing) > 0 {
		info.Status = finding.DatabasePartial
		info.Notices = append([]string{fmt.Sprintf("%s: the vulnerability database has no %s data; those packages were not checked (run 'dockvet db update --ecosystems %s')",
			target, strings.Join(info.Missing, ", "), strings.Join(info.Missing, ","))}, info.Notices...)
	}
}

// maxNotices bounds the per-file notices of one kind.
const maxNotices = 10

// inventoryNotices says which files the inventory could not read or were
// too large to hold: packages there went unchecked.
func inventoryNotices(target string, inv *inventory.Result, view *image.View, analyzer string, notice func(string, ...any)) {
	var lines []string
	for _, e := range inv.Errors {
		lines = append(lines, fmt.Sprintf("%s: /%s: %s: not inventoried: %s", target, e.Path, e.Extractor, e.Err))
	}
	for _, s := range view.Skipped {
		if s.Analyzer == analyzer {
			lines = append(lines, fmt.Sprintf("%s: %s (layer %d): not inventoried: %s", target, s.File.Path(), s.File.Layer.Index, s.Reason))
		}
	}
	for i, l := range lines {
		if i == maxNotices {
			notice("%s: %d more files not inventoried", target, len(lines)-maxNotices)
			break
		}
		notice("%s", l)
	}
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

// verify is `dockvet image --verify`: when the trust policy requires
// signatures of the audited image, check them and report DV6501 if none
// verifies. An image from the Engine is also judged by the registry
// digests the Engine recorded when it pulled it.
func verify(ctx context.Context, img *image.Image, target finding.Target, o Options, notice func(string, ...any)) ([]finding.Finding, error) {
	if o.SignChecker == nil {
		return nil, errors.New("no signature checker")
	}
	c, err := o.SignChecker()
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
		digests = append(digests, sign.RepoDigests(nm, img.RepoDigests)...)
	}
	return c.Check(ctx, sign.Subject{Name: nm, Digests: digests, Target: target, Who: "Image " + nm})
}

// repeatNotice says when the manifest lists one layer at several positions:
// no builder does that, and a hostile image does it to cost a scanner one
// inflation per listing (the walk reads it once).
func repeatNotice(target string, v *image.View) string {
	repeats := 0
	for _, l := range v.Layers {
		if l.RepeatOf != nil {
			repeats++
		}
	}
	if repeats == 0 {
		return ""
	}
	return fmt.Sprintf("%s: the manifest lists %d layer position(s) that repeat an earlier layer (the same diff ID); each was read once", target, repeats)
}
