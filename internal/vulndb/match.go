package vulndb

import (
	"cmp"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/google/osv-scalibr/semantic"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/rule"
)

// Options steer Match.
type Options struct {
	// Target is what the packages were found in: the findings' target.
	Target finding.Target
	// IgnoreUnfixed leaves out vulnerabilities no release fixes yet.
	IgnoreUnfixed bool
}

// Match reports the known vulnerabilities of pkgs: one finding per
// vulnerability per package, its aliases (the same vulnerability under
// other databases' IDs) listed in the finding. Packages of an ecosystem
// the database holds no data for are not matched (MissingEcosystems names
// them). The only errors are a damaged database. Packages are matched on
// all CPUs: the database is read-only and safe for concurrent readers.
func Match(db *DB, pkgs []inventory.Package, opt Options) ([]finding.Finding, error) {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(pkgs)/64))
	results := make([][]finding.Finding, len(pkgs))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(pkgs); i += workers {
				fs, err := matchPackage(db, &pkgs[i], opt)
				if err != nil {
					errs[w] = err
					return
				}
				results[i] = fs
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []finding.Finding
	for _, fs := range results {
		out = append(out, fs...)
	}
	finding.Sort(out)
	return out, nil
}

// MissingEcosystems lists the ecosystems of pkgs the database has no data
// for, so that a scan can say which packages went unchecked.
func MissingEcosystems(db *DB, pkgs []inventory.Package) []string {
	var out []string
	for _, p := range pkgs {
		if p.Ecosystem == "" {
			continue
		}
		base, _, _ := strings.Cut(p.Ecosystem, ":")
		if !db.Has(base) && !slices.Contains(out, base) {
			out = append(out, base)
		}
	}
	slices.Sort(out)
	return out
}

// Ecosystems lists the base ecosystems of pkgs ("Debian" for
// "Debian:12"): what a database needs to check them all.
func Ecosystems(pkgs []inventory.Package) []string {
	var out []string
	for _, p := range pkgs {
		if p.Ecosystem == "" {
			continue
		}
		base, _, _ := strings.Cut(p.Ecosystem, ":")
		if !slices.Contains(out, base) {
			out = append(out, base)
		}
	}
	slices.Sort(out)
	return out
}

// query is one (name, version) under which a package is looked up.
type query struct {
	name, version string
	viaSource     bool
}

// queries says how a package is named in its ecosystem's advisories.
// Debian, Ubuntu, Alpine and most RPM distributions publish advisories for
// source packages, compared with the source version; Photon OS names
// binary packages; Wolfi and Chainguard are looked up under both.
func queries(p *inventory.Package, base string) []query {
	src, srcVer := p.Source()
	viaSource := src != p.Name || srcVer != p.Version
	switch base {
	case "Debian", "Ubuntu", "Alpine", "Rocky Linux", "AlmaLinux", "Mageia", "openSUSE", "SUSE":
		return []query{{name: src, version: srcVer, viaSource: viaSource}}
	case "Wolfi", "Chainguard":
		qs := []query{{name: p.Name, version: p.Version}}
		if src != p.Name {
			qs = append(qs, query{name: src, version: srcVer, viaSource: true})
		}
		return qs
	case "Go":
		// Module versions carry a "v" the Go database's SEMVER ranges do
		// not; the toolchain is "v1.22.1" for stdlib's "1.22.1".
		return []query{{name: p.Name, version: strings.TrimPrefix(p.Version, "v")}}
	}
	return []query{{name: p.Name, version: p.Version}}
}

// hit is one record that affects a package.
type hit struct {
	e     entry
	info  recordInfo
	fixed string
}

func matchPackage(db *DB, p *inventory.Package, opt Options) ([]finding.Finding, error) {
	if p.Ecosystem == "" || p.Version == "" {
		return nil, nil
	}
	keyEco, base := storeEcosystem(p.Ecosystem)
	if !db.Has(base) {
		return nil, nil
	}
	var hits []hit
	var used query
	for _, q := range queries(p, base) {
		es, err := db.lookup(base, storeKey(keyEco, q.name))
		if err != nil {
			return nil, err
		}
		if len(es) == 0 {
			continue
		}
		v := newInstalled(q.version, base)
		for _, e := range es {
			if ok, fixed := v.affectedBy(&e); ok {
				info, err := db.recordInfo(base, e.ID)
				if err != nil {
					return nil, err
				}
				hits = append(hits, hit{e: e, info: info, fixed: fixed})
				used = q
			}
		}
	}
	var out []finding.Finding
	for _, g := range groupHits(hits, base) {
		if opt.IgnoreUnfixed && g.fixed == "" {
			continue
		}
		if !g.rated {
			if err := db.borrowRating(&g); err != nil {
				return nil, err
			}
		}
		m := &VulnMatch{Package: p, query: used, vuln: g}
		rule.Run(rules, nil, func(r *finding.Rule) *Pass {
			return &Pass{Reporter: rule.NewReporter(r, opt.Target, &out), Match: m}
		})
	}
	return out, nil
}

// installed is a package version parsed for the two kinds of ranges.
type installed struct {
	raw     string
	eco     string
	ecoV    semantic.Version // nil when the ecosystem's rules cannot read it
	semverV semantic.Version
}

func newInstalled(v, base string) *installed {
	in := &installed{raw: v, eco: base}
	if pv, err := semantic.Parse(v, base); err == nil {
		in.ecoV = pv
	}
	in.semverV = semantic.ParseSemverVersion(v)
	return in
}

// parser returns how versions of a range type are read and compared.
func (in *installed) parser(rangeType string) (semantic.Version, func(string) (semantic.Version, error)) {
	if rangeType == "SEMVER" {
		return in.semverV, func(s string) (semantic.Version, error) { return semantic.ParseSemverVersion(s), nil }
	}
	return in.ecoV, func(s string) (semantic.Version, error) { return semantic.Parse(s, in.eco) }
}

// affectedBy evaluates one record's ranges and version list for the
// installed version, as the OSV schema specifies, and returns the version
// that fixes it (empty when none does).
func (in *installed) affectedBy(e *entry) (bool, string) {
	affected := false
	fixed := ""
	for _, v := range e.Versions {
		if v == in.raw {
			affected = true
			break
		}
		if in.ecoV != nil {
			if c, err := in.ecoV.CompareStr(v); err == nil && c == 0 {
				affected = true
				break
			}
		}
	}
	for _, r := range e.Ranges {
		ok, f := in.inRange(r)
		if !ok {
			continue
		}
		affected = true
		if f != "" && (fixed == "" || in.less(r.Type, f, fixed)) {
			fixed = f
		}
	}
	return affected, fixed
}

// less compares two event versions of a range type.
func (in *installed) less(rangeType, a, b string) bool {
	_, parse := in.parser(rangeType)
	va, err1 := parse(a)
	if err1 != nil {
		return false
	}
	c, err := va.CompareStr(b)
	return err == nil && c < 0
}

type parsedEvent struct {
	kind byte // 'i' introduced, 'f' fixed, 'l' last_affected, 'x' limit
	raw  string
	v    semantic.Version
	zero bool // introduced "0": before every version
}

// inRange is the OSV evaluation of one range: events sorted by version,
// "introduced" opens, "fixed" (at or below the version) and
// "last_affected" (below it) close, "limit" bounds the range from above.
// An event version the ecosystem's rules cannot read makes the range
// unusable: no match rather than a guess.
func (in *installed) inRange(r osvRange) (bool, string) {
	v, parse := in.parser(r.Type)
	if v == nil {
		return false, ""
	}
	evs := make([]parsedEvent, 0, len(r.Events))
	for _, e := range r.Events {
		pe := parsedEvent{}
		switch {
		case e.Introduced != "":
			pe.kind, pe.raw = 'i', e.Introduced
			pe.zero = e.Introduced == "0"
		case e.Fixed != "":
			pe.kind, pe.raw = 'f', e.Fixed
		case e.LastAffected != "":
			pe.kind, pe.raw = 'l', e.LastAffected
		case e.Limit != "":
			pe.kind, pe.raw = 'x', e.Limit
		default:
			continue
		}
		if !pe.zero {
			pv, err := parse(pe.raw)
			if err != nil {
				return false, ""
			}
			pe.v = pv
		}
		evs = append(evs, pe)
	}
	var sortErr error
	slices.SortStableFunc(evs, func(a, b parsedEvent) int {
		switch {
		case a.zero && b.zero:
			return 0
		case a.zero:
			return -1
		case b.zero:
			return 1
		}
		c, err := a.v.Compare(b.v)
		if err != nil {
			sortErr = err
		}
		return c
	})
	if sortErr != nil {
		return false, ""
	}
	cmpV := func(e parsedEvent) int {
		c, err := v.Compare(e.v)
		if err != nil {
			return -2
		}
		return c
	}
	affected, limited, underLimit := false, false, false
	for _, e := range evs {
		switch e.kind {
		case 'i':
			if e.zero || cmpV(e) >= 0 {
				affected = true
			}
		case 'f':
			if cmpV(e) >= 0 {
				affected = false
			}
		case 'l':
			if cmpV(e) > 0 {
				affected = false
			}
		case 'x':
			limited = true
			if c := cmpV(e); c < 0 && c != -2 {
				underLimit = true
			}
		}
	}
	if !affected || limited && !underLimit {
		return false, ""
	}
	// The fix is the first fixed version above the installed one.
	for _, e := range evs {
		if e.kind == 'f' && cmpV(e) == -1 {
			return true, e.raw
		}
	}
	return true, ""
}

// group is one vulnerability: the records that describe it (linked by
// aliases) and what they say together.
type group struct {
	id       string
	aliases  []string
	records  []string
	summary  string
	severity finding.Severity
	rated    bool
	score    float64
	// source says where severity came from (finding.Vulnerability's
	// SeveritySource).
	source string
	fixed  string
	refs   []string
}

// groupHits joins records that are aliases of one another into one
// vulnerability, so that GO-2024-2687, GHSA-4v7x-pqxf-cx7m and
// CVE-2023-45288 make one finding.
func groupHits(hits []hit, base string) []group {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if p, ok := parent[x]; ok && p != x {
			r := find(p)
			parent[x] = r
			return r
		}
		parent[x] = x
		return x
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	for _, h := range hits {
		find(h.e.ID)
		for _, a := range h.info.Aliases {
			union(h.e.ID, a)
		}
	}
	byRoot := map[string]*group{}
	var order []string
	for _, h := range hits {
		root := find(h.e.ID)
		g := byRoot[root]
		if g == nil {
			g = &group{}
			byRoot[root] = g
			order = append(order, root)
		}
		g.records = append(g.records, h.e.ID)
		if g.summary == "" {
			g.summary = h.info.Summary
		}
		if h.e.Severity != "" {
			s := findingSeverity(h.e.Severity)
			if !g.rated || s > g.severity {
				g.severity = s
				g.source = "rating"
				if h.e.Score > 0 {
					g.source = "cvss"
				}
			}
			g.rated = true
		}
		g.score = max(g.score, h.e.Score)
		if h.fixed != "" && (g.fixed == "" || versionLess(base, g.fixed, h.fixed)) {
			// Records may name different fixes; the later one fixes all.
			g.fixed = h.fixed
		}
		g.refs = append(g.refs, h.info.Refs...)
	}
	members := map[string][]string{}
	for id := range parent {
		root := find(id)
		members[root] = append(members[root], id)
	}
	var out []group
	for _, root := range order {
		g := byRoot[root]
		ids := members[root]
		slices.Sort(ids)
		g.id = primaryID(ids)
		for _, id := range ids {
			if id != g.id {
				g.aliases = append(g.aliases, id)
			}
		}
		slices.Sort(g.records)
		g.records = slices.Compact(g.records)
		if !g.rated {
			g.severity, g.source = DefaultSeverity, "default"
		}
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b group) int { return cmp.Compare(a.id, b.id) })
	return out
}

// borrowRating rates a vulnerability that none of its matching records
// rates by the records of its IDs and aliases the database holds (a
// GHSA advisory with a CVSS vector for a GO- advisory, a CVE's record).
// Without one it keeps DefaultSeverity.
func (db *DB) borrowRating(g *group) error {
	ids := append(append([]string{g.id}, g.aliases...), g.records...)
	r, ok, err := db.borrowedRating(ids)
	if err != nil || !ok {
		return err
	}
	g.severity, g.score, g.rated = findingSeverity(r.Severity), max(g.score, r.Score), true
	g.source = "alias " + r.Via
	return nil
}

// primaryID names a vulnerability by its CVE when it has one (what most
// people search for), else by its GitHub advisory, else by the first ID.
func primaryID(ids []string) string {
	for _, prefix := range []string{"CVE-", "GHSA-"} {
		for _, id := range ids {
			if strings.HasPrefix(id, prefix) {
				return id
			}
		}
	}
	return ids[0]
}

func versionLess(base, a, b string) bool {
	va, err := semantic.Parse(a, base)
	if err != nil {
		return a < b
	}
	c, err := va.CompareStr(b)
	if err != nil {
		return a < b
	}
	return c < 0
}
