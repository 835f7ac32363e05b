package vulndb

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ossf/osv-schema/bindings/go/osvschema"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/dockvet/dockvet/internal/inventory"
)

// entry is what the store keeps of one OSV record for one package: only
// what deciding whether a version is affected needs, so that a scan
// decodes little for the many records that do not match.
type entry struct {
	ID string
	// Severity is a finding severity name ("critical" … "low"), empty when
	// the record rates nothing; Score is the CVSS base score it came from.
	// A record may rate each affected package differently.
	Severity string
	Score    float64
	Ranges   []osvRange
	Versions []string
}

// recordInfo is what a finding reports of a record, stored once per
// record and read only for records that match.
type recordInfo struct {
	Aliases []string
	Summary string
	// Refs are advisory links from the record, at most maxRefs.
	Refs []string
	// Severity and Score are the record's own rating (its highest, when
	// it rates each package), empty when it rates nothing: what a record
	// that names it as an alias borrows (ratings).
	Severity string
	Score    float64
}

// osvRange is an ECOSYSTEM or SEMVER range; GIT ranges name commits, which
// installed packages do not have, and are not kept.
type osvRange struct {
	Type   string
	Events []osvEvent
}

// osvEvent has exactly one field set.
type osvEvent struct {
	Introduced   string
	Fixed        string
	LastAffected string
	Limit        string
}

// maxRefs bounds the advisory links kept per record.
const maxRefs = 3

// record is one parsed OSV record, ready to be indexed: its entries keyed
// by (ecosystem, package name).
type record struct {
	ID        string
	Modified  time.Time
	Withdrawn bool
	info      recordInfo
	// keys maps a store key to the entry for that package; the base
	// ecosystem (the part before ":") says which store file holds it.
	entries []keyedEntry
}

type keyedEntry struct {
	base string // "Debian", "npm"
	key  string // "Debian:12\x00openssl", "npm\x00lodash"
	e    entry
}

var unmarshal = protojson.UnmarshalOptions{DiscardUnknown: true}

// errNoID rejects records that cannot be referred to.
var errNoID = errors.New("record has no id")

// parseRecord reads one OSV JSON record with the OSV schema's Go bindings.
// Unknown fields and enum values (newer schema versions) are ignored, not
// rejected.
func parseRecord(b []byte, now time.Time) (*record, error) {
	var v osvschema.Vulnerability
	if err := unmarshal.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("not an OSV record: %v", oneLine(err.Error()))
	}
	if v.GetId() == "" {
		return nil, errNoID
	}
	r := &record{ID: v.GetId()}
	if m := v.GetModified(); m != nil {
		r.Modified = m.AsTime()
	}
	if w := v.GetWithdrawn(); w != nil && !w.AsTime().After(now) {
		// A withdrawn record matches nothing; its entries still say
		// which ecosystems must forget an earlier copy of it.
		r.Withdrawn = true
	}
	aliases := slices.Clone(v.GetAliases())
	if up := v.GetUpstream(); len(up) == 1 {
		// A record derived from exactly one other (DEBIAN-CVE-2024-1 from
		// CVE-2024-1) describes the same vulnerability; a DSA naming
		// several CVEs does not, and is not merged with any of them.
		aliases = append(aliases, up[0])
	}
	aliases = slices.DeleteFunc(aliases, func(a string) bool { return a == "" || a == r.ID })
	slices.Sort(aliases)
	aliases = slices.Compact(aliases)
	var refs []string
	for _, ref := range v.GetReferences() {
		if ref.GetType() == osvschema.Reference_ADVISORY && ref.GetUrl() != "" && len(refs) < maxRefs {
			refs = append(refs, ref.GetUrl())
		}
	}
	r.info = recordInfo{Aliases: aliases, Summary: v.GetSummary(), Refs: refs}
	recSev := rateSeverities(v.GetSeverity())
	recLabel := labelFromStruct(v.GetDatabaseSpecific())
	for _, a := range v.GetAffected() {
		pkg := a.GetPackage()
		if pkg.GetName() == "" || pkg.GetEcosystem() == "" {
			continue
		}
		keyEco, base := storeEcosystem(pkg.GetEcosystem())
		e := entry{ID: r.ID}
		sev := rateSeverities(a.GetSeverity())
		if sev.label == "" {
			sev = recSev
		}
		if sev.label == "" {
			sev.label = firstNonEmpty(labelFromStruct(a.GetEcosystemSpecific()), labelFromStruct(a.GetDatabaseSpecific()), recLabel)
		}
		e.Severity, e.Score = sev.label, sev.score
		if betterRating(sev, rating{label: r.info.Severity, score: r.info.Score}) {
			r.info.Severity, r.info.Score = sev.label, sev.score
		}
		for _, rg := range a.GetRanges() {
			var typ string
			switch rg.GetType() {
			case osvschema.Range_ECOSYSTEM:
				typ = "ECOSYSTEM"
			case osvschema.Range_SEMVER:
				typ = "SEMVER"
			default:
				continue
			}
			out := osvRange{Type: typ}
			for _, ev := range rg.GetEvents() {
				oe := osvEvent{Introduced: ev.GetIntroduced(), Fixed: ev.GetFixed(), LastAffected: ev.GetLastAffected(), Limit: ev.GetLimit()}
				if oe != (osvEvent{}) {
					out.Events = append(out.Events, oe)
				}
			}
			if len(out.Events) > 0 {
				e.Ranges = append(e.Ranges, out)
			}
		}
		for _, ver := range a.GetVersions() {
			if ver != "" {
				e.Versions = append(e.Versions, ver)
			}
		}
		if len(e.Ranges) == 0 && len(e.Versions) == 0 {
			// Nothing says which versions are affected; matching every
			// version would be a guess.
			continue
		}
		r.entries = append(r.entries, keyedEntry{base: base, key: storeKey(keyEco, pkg.GetName()), e: e})
	}
	return r, nil
}

// storeEcosystem returns the ecosystem a package is keyed under and the
// base ecosystem whose file holds it. Distribution releases are part of
// the key ("Debian:12"): a record for one release must not match another.
// Language ecosystems' suffixes (Maven's repository URL) are dropped.
func storeEcosystem(eco string) (keyEco, base string) {
	base, _, _ = strings.Cut(eco, ":")
	if isLanguageEcosystem(base) {
		return base, base
	}
	return eco, base
}

func isLanguageEcosystem(base string) bool {
	switch base {
	case "Go", "npm", "PyPI", "Maven", "RubyGems", "Packagist", "crates.io", "NuGet",
		"Hex", "Pub", "CRAN", "Hackage", "SwiftURL", "ConanCenter", "Bioconductor":
		return true
	}
	return false
}

// storeKey is the key of a package in the store: its ecosystem and its
// name in the ecosystem's canonical form.
func storeKey(eco, name string) string {
	return eco + "\x00" + normalizeName(eco, name)
}

// normalizeName gives the form under which an ecosystem compares package
// names: PEP 503 names for PyPI, lower case where names are
// case-insensitive.
func normalizeName(eco, name string) string {
	base, _, _ := strings.Cut(eco, ":")
	switch base {
	case "PyPI":
		return inventory.NormalizePyPIName(name)
	case "NuGet", "Packagist", "crates.io":
		return strings.ToLower(name)
	}
	return name
}

// labelFromStruct reads a severity rating a database put in its own
// fields ("severity": "HIGH" in GitHub's records).
func labelFromStruct(s *structpb.Struct) string {
	if s == nil {
		return ""
	}
	v, ok := s.GetFields()["severity"]
	if !ok {
		return ""
	}
	return normalizeLabel(v.GetStringValue())
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
