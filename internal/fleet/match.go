package fleet

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dockvet/dockvet/internal/catalog"
	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/imageaudit"
	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/vulndb"
)

// noDatabase is the matched state of images matched with no advisory
// database at all (no vulnerability findings).
const noDatabase = "none"

// DBState is what the advisory database holds: one line per ecosystem
// (name, records, when written), and a fingerprint of them all that
// images record when they are matched.
type DBState struct {
	Fingerprint string
	Ecosystems  []vulndb.Meta
}

// readDBState reads the state of the advisory database under dir.
func readDBState(dir string) (DBState, error) {
	st, err := vulndb.ReadStatus(dir)
	if err != nil {
		return DBState{}, err
	}
	if len(st.Ecosystems) == 0 {
		return DBState{Fingerprint: noDatabase}, nil
	}
	h := sha256.New()
	for _, m := range st.Ecosystems {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", m.Ecosystem, m.Records, m.Updated.UnixNano())
	}
	return DBState{Fingerprint: "db:" + hex.EncodeToString(h.Sum(nil))[:24], Ecosystems: st.Ecosystems}, nil
}

// changedEcosystems names what differs between two database states, for
// a change's cause.
func changedEcosystems(old, cur DBState) string {
	was := map[string]vulndb.Meta{}
	for _, m := range old.Ecosystems {
		was[m.Ecosystem] = m
	}
	var names []string
	for _, m := range cur.Ecosystems {
		if p, ok := was[m.Ecosystem]; !ok || p.Records != m.Records || !p.Updated.Equal(m.Updated) {
			names = append(names, fmt.Sprintf("%s (%d records, written %s)", m.Ecosystem, m.Records, m.Updated.UTC().Format(time.RFC3339)))
		}
	}
	if len(names) == 0 {
		return "advisory database changed"
	}
	return "advisory database: " + strings.Join(names, ", ")
}

// Reporting is how stored images become reports: the same configuration,
// ignore file and tool version as `dockvet image`.
type Reporting struct {
	Config     *config.Config
	IgnoreFile []config.Ignore
	// Severities keep only these severities (--severity), when set.
	Severities []finding.Severity
	// Version is dockvet's version, the report's tool version.
	Version string
	// IgnoreUnfixed leaves out vulnerabilities no release fixes yet.
	IgnoreUnfixed bool
	// DBMaxAge is how old the advisory database may be before reports
	// say so (0: never), as `dockvet image --db-max-age`.
	DBMaxAge time.Duration
	Now      func() time.Time

	// dbState is the advisory database state images are matched against
	// (the service's); nil before the service sets it.
	dbState func() DBState
}

func (rp *Reporting) now() time.Time {
	if rp.Now != nil {
		return rp.Now()
	}
	return time.Now()
}

// matchInventory is `dockvet image`'s vulnerability step over a stored
// inventory: findings at the file each package was read from, made
// absolute like every image finding.
func (rp *Reporting) matchInventory(db *vulndb.DB, pkgs []inventory.Package, target string) ([]finding.Finding, error) {
	if db == nil || !rp.cfg().Enabled(&finding.Rule{Practice: finding.PracticeVulnerabilities}) {
		return nil, nil
	}
	fs, err := vulndb.Match(db, pkgs, vulndb.Options{Target: finding.Target{Kind: finding.SurfaceImage, Name: target}, IgnoreUnfixed: rp.IgnoreUnfixed})
	if err != nil {
		return nil, err
	}
	for i := range fs {
		fs[i].Location.Path = "/" + fs[i].Location.Path
	}
	return fs, nil
}

func (rp *Reporting) cfg() *config.Config {
	if rp.Config == nil {
		return config.Default()
	}
	return rp.Config
}

// Report makes the report `dockvet image TARGET` writes for a stored image:
// its findings and its last matched vulnerabilities, named by target,
// filtered by the configuration.
func (rp *Reporting) Report(img *store.Image, target string) (*finding.Report, error) {
	var fs, vs []finding.Finding
	if err := unpack(img.Findings, &fs); err != nil {
		return nil, fmt.Errorf("stored findings of %s: %w", img.Digest, err)
	}
	if len(img.Vulns) > 0 {
		if err := unpack(img.Vulns, &vs); err != nil {
			return nil, fmt.Errorf("stored vulnerabilities of %s: %w", img.Digest, err)
		}
	}
	r := rp.assemble(fs, vs, target)
	r.Rules = ruleMetadata(r)
	if err := rp.describe(r, img, target); err != nil {
		return nil, err
	}
	return r, nil
}

// describe adds what `dockvet image` records of what it scanned: the
// image's identity, when it was read, and the advisory database it was
// matched against with what that database lacked for its packages.
func (rp *Reporting) describe(r *finding.Report, img *store.Image, target string) error {
	var facts Facts
	if len(img.Facts) > 0 {
		if err := json.Unmarshal(img.Facts, &facts); err != nil {
			return fmt.Errorf("stored facts of %s: %w", img.Digest, err)
		}
	}
	id := finding.ImageInfo{Source: "registry", ID: img.ConfigDigest, ManifestDigest: img.Digest, Platform: img.Platform, Layers: len(img.Layers), Size: img.Size}
	if facts.Identity != nil {
		id = *facts.Identity
	}
	id.Target = target
	r.Images = []finding.ImageInfo{id}
	r.Scan = &finding.ScanInfo{Time: img.ScannedAt.UTC()}
	if !rp.cfg().Enabled(&finding.Rule{Practice: finding.PracticeVulnerabilities}) {
		return nil
	}
	var ecos []vulndb.Meta
	if img.MatchedDB != noDatabase && rp.dbState != nil {
		ecos = rp.dbState().Ecosystems
	}
	var pkgs []inventory.Package
	if err := unpack(img.Inventory, &pkgs); err != nil {
		return fmt.Errorf("stored inventory of %s: %w", img.Digest, err)
	}
	info := imageaudit.DescribeDB(ecos, rp.DBMaxAge, rp.now())
	imageaudit.DescribeCoverage(info, pkgs, target)
	r.Scan.VulnerabilityDatabase = info
	return nil
}

func (rp *Reporting) assemble(fs, vs []finding.Finding, target string) *finding.Report {
	r := &finding.Report{Tool: finding.Tool{Name: "dockvet", Version: rp.Version}}
	r.Targets = []finding.Target{{Kind: finding.SurfaceImage, Name: target}}
	r.Findings = make([]finding.Finding, 0, len(fs)+len(vs))
	for _, f := range slices.Concat(fs, vs) {
		f.Target = target
		r.Findings = append(r.Findings, f)
	}
	flt := &config.Filter{Config: rp.cfg(), IgnoreFile: rp.IgnoreFile, Severities: rp.Severities, Now: rp.now}
	flt.Apply(r)
	return r
}

// ruleMetadata lists the catalog entries of the rules that produced
// findings (what SARIF and HTML describe), as the CLI does.
func ruleMetadata(r *finding.Report) []finding.Rule {
	ids := map[string]bool{}
	for _, f := range r.Findings {
		ids[f.RuleID] = true
	}
	var out []finding.Rule
	for _, rule := range allRules() {
		if ids[rule.ID] {
			out = append(out, rule)
		}
	}
	return out
}

// allRules is the catalog, built once: building it sorts every surface's
// rules.
var allRules = sync.OnceValue(catalog.All)

// indexOf reduces a report to the rows the fleet's filters search, and its
// counts.
func indexOf(r *finding.Report) (store.Index, store.Counts) {
	idx := store.Index{Practices: map[string]int{}}
	var c store.Counts
	adv := map[string]bool{}
	for _, f := range r.Findings {
		if v := f.Vulnerability; v != nil {
			for _, id := range append([]string{v.ID}, v.Aliases...) {
				if !adv[id] {
					adv[id] = true
					idx.Advisories = append(idx.Advisories, id)
				}
			}
		}
		p := string(f.Practice)
		idx.Practices[p] = max(idx.Practices[p], int(f.Severity))
		c.Worst = max(c.Worst, int(f.Severity))
	}
	s := r.Summary
	c.Critical, c.High, c.Medium, c.Low, c.Info = s.Critical, s.High, s.Medium, s.Low, s.Info
	sort.Strings(idx.Advisories)
	return idx, c
}

// vulnKey identifies one vulnerability of one installed package at one
// place: what "new" and "fixed" compare.
func vulnKey(f *finding.Finding) string {
	v := f.Vulnerability
	if v == nil {
		return f.RuleID + "\x00" + f.Location.Path
	}
	return v.ID + "\x00" + v.Package + "\x00" + v.Installed + "\x00" + f.Location.Path
}

// diffVulns lists what appeared and what went between two matches.
func diffVulns(old, cur []finding.Finding) (added, gone []finding.Finding) {
	was := map[string]bool{}
	for i := range old {
		was[vulnKey(&old[i])] = true
	}
	now := map[string]bool{}
	for i := range cur {
		k := vulnKey(&cur[i])
		now[k] = true
		if !was[k] {
			added = append(added, cur[i])
		}
	}
	for i := range old {
		if !now[vulnKey(&old[i])] {
			gone = append(gone, old[i])
		}
	}
	return added, gone
}

// RematchResult says what one pass of re-matching did.
type RematchResult struct {
	DB       string        `json:"db"`
	Images   int           `json:"images"`
	Changed  int           `json:"changedImages"`
	New      int           `json:"new"`
	Fixed    int           `json:"fixed"`
	Failed   int           `json:"failed"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
}

// matcher re-matches stored inventories; one pass at a time per process
// (another process racing it records each change once: store.SetMatch).
type matcher struct {
	mu sync.Mutex
}

// Rematch matches every stored image whose last match was against another
// advisory database state, without reading any image: the inventories are
// in the store. Images whose vulnerabilities changed get changes (new,
// fixed) naming the advisory and cause, which the notifier delivers.
func (s *Service) Rematch(ctx context.Context, cause string) (*RematchResult, error) {
	s.matcher.mu.Lock()
	defer s.matcher.mu.Unlock()
	start := time.Now()
	state, err := readDBState(s.o.VulnDir)
	if err != nil {
		return nil, err
	}
	if cause == "" {
		prev := s.lastDB()
		cause = changedEcosystems(prev, state)
	}
	var db *vulndb.DB
	if state.Fingerprint != noDatabase {
		if db, err = vulndb.Open(s.o.VulnDir); err != nil {
			return nil, err
		}
		defer db.Close()
	}
	res := &RematchResult{DB: state.Fingerprint}
	after := ""
	for {
		page, err := s.o.Store.UnmatchedImages(ctx, state.Fingerprint, after, 512)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].Digest
		if err := s.rematchPage(ctx, db, state.Fingerprint, cause, page, res); err != nil {
			return nil, err
		}
	}
	s.setLastDB(state)
	res.Duration = time.Since(start)
	res.Seconds = res.Duration.Seconds()
	s.metrics.rematched(res)
	if res.New+res.Fixed > 0 {
		s.wakeNotifier()
	}
	return res, nil
}

// rematchPage matches a page of images on MatchWorkers goroutines and
// writes the results in batches from one, so that writers never wait for
// each other's locks.
func (s *Service) rematchPage(ctx context.Context, db *vulndb.DB, state, cause string, page []store.Matchable, res *RematchResult) error {
	work := make(chan *store.Matchable)
	done := make(chan *matched, 64)
	var wg sync.WaitGroup
	for range max(1, s.o.MatchWorkers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				r, err := s.matchOne(db, state, m, cause)
				done <- &matched{digest: m.Digest, m: r, err: err}
			}
		}()
	}
	go func() {
		defer close(work)
		for i := range page {
			select {
			case work <- &page[i]:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	var batch []*matched
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ms := make([]*store.Match, len(batch))
		for i, b := range batch {
			ms[i] = b.m
		}
		applied, err := s.o.Store.SetMatches(ctx, ms)
		if err != nil {
			return err
		}
		for i, b := range batch {
			res.Images++
			if applied[i] && b.added+b.fixed > 0 {
				res.Changed++
				res.New += b.added
				res.Fixed += b.fixed
			}
		}
		batch = batch[:0]
		return nil
	}
	var werr error
	for r := range done {
		if werr != nil {
			continue // drain
		}
		if r.err != nil {
			res.Images++
			res.Failed++
			s.notice("re-matching %s: %v", r.digest, r.err)
			continue
		}
		r.added, r.fixed = countChanges(r.m)
		batch = append(batch, r)
		if len(batch) == 128 {
			werr = flush()
		}
	}
	if werr != nil {
		return werr
	}
	if err := flush(); err != nil {
		return err
	}
	return ctx.Err()
}

type matched struct {
	digest       string
	m            *store.Match
	added, fixed int
	err          error
}

func countChanges(m *store.Match) (added, fixed int) {
	for _, c := range m.Changes {
		if c.Kind == "new" {
			added++
		} else {
			fixed++
		}
	}
	return added, fixed
}

// matchOne matches one stored inventory against db. An image never
// matched before (scanned by a worker without the server's database)
// records no changes: it is new, not changed.
func (s *Service) matchOne(db *vulndb.DB, state string, img *store.Matchable, cause string) (*store.Match, error) {
	var pkgs []inventory.Package
	if err := unpack(img.Inventory, &pkgs); err != nil {
		return nil, fmt.Errorf("stored inventory: %w", err)
	}
	var fs, old []finding.Finding
	if err := unpack(img.Findings, &fs); err != nil {
		return nil, fmt.Errorf("stored findings: %w", err)
	}
	if len(img.Vulns) > 0 {
		if err := unpack(img.Vulns, &old); err != nil {
			return nil, fmt.Errorf("stored vulnerabilities: %w", err)
		}
	}
	cur, err := s.o.Reporting.matchInventory(db, pkgs, img.Ref)
	if err != nil {
		return nil, err
	}
	m := &store.Match{Digest: img.Digest, Was: img.MatchedDB, MatchedDB: state}
	if m.Vulns, err = pack(nonNil(cur)); err != nil {
		return nil, err
	}
	r := s.o.Reporting.assemble(fs, cur, img.Ref)
	m.Index, m.Counts = indexOf(r)
	if img.MatchedDB != "" {
		// Changes are judged on the reported findings: an ignored
		// advisory appearing is no news. Only the vulnerabilities are
		// compared, so only they go through the filter again.
		_, oldVulns := splitVulns(s.o.Reporting.assemble(nil, old, img.Ref).Findings)
		_, curVulns := splitVulns(r.Findings)
		a, g := diffVulns(oldVulns, curVulns)
		for _, f := range a {
			m.Changes = append(m.Changes, newChange("new", img, f, cause))
		}
		for _, f := range g {
			m.Changes = append(m.Changes, newChange("fixed", img, f, cause))
		}
	}
	return m, nil
}

func nonNil(fs []finding.Finding) []finding.Finding {
	if fs == nil {
		return []finding.Finding{}
	}
	return fs
}

func splitVulns(fs []finding.Finding) (other, vulns []finding.Finding) {
	for _, f := range fs {
		if f.Vulnerability != nil {
			vulns = append(vulns, f)
		} else {
			other = append(other, f)
		}
	}
	return other, vulns
}

func newChange(kind string, img *store.Matchable, f finding.Finding, cause string) store.Change {
	b, _ := pack(f)
	return store.Change{Digest: img.Digest, Ref: img.Ref, Kind: kind, Advisory: f.Vulnerability.ID,
		Package: f.Vulnerability.Package, Installed: f.Vulnerability.Installed, Severity: int(f.Severity), Cause: cause, Finding: b}
}

// EnsureMatched matches one image now if its last match is not against
// the current database (a report must not show yesterday's advisories).
func (s *Service) EnsureMatched(ctx context.Context, digest string) error {
	img, err := s.o.Store.Image(ctx, digest)
	if err != nil {
		return err
	}
	state, err := readDBState(s.o.VulnDir)
	if err != nil {
		return err
	}
	if img.MatchedDB == state.Fingerprint {
		return nil
	}
	var db *vulndb.DB
	if state.Fingerprint != noDatabase {
		if db, err = vulndb.Open(s.o.VulnDir); err != nil {
			return err
		}
		defer db.Close()
	}
	m, err := s.matchOne(db, state.Fingerprint, &store.Matchable{Digest: img.Digest, Ref: img.Ref, MatchedDB: img.MatchedDB,
		Findings: img.Findings, Inventory: img.Inventory, Vulns: img.Vulns}, changedEcosystems(s.lastDB(), state))
	if err != nil {
		return err
	}
	_, err = s.o.Store.SetMatch(ctx, m)
	return err
}

// sortChanges orders changes for delivery.
func sortChanges(cs []store.Change) {
	slices.SortFunc(cs, func(a, b store.Change) int { return cmp.Compare(a.ID, b.ID) })
}
