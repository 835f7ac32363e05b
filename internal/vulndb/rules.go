package vulndb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/rule"
)

// Rule is a vulnerability rule: its metadata and one check over a match.
type Rule = rule.Rule[*Pass]

// Pass is what a vulnerability rule sees: one vulnerability of one
// installed package.
type Pass struct {
	rule.Reporter
	Match *VulnMatch
}

// VulnMatch is one vulnerability of one package: the package, the name and
// version it was looked up under, and what the database's records of the
// vulnerability say together.
type VulnMatch struct {
	Package *inventory.Package
	query   query
	vuln    group
}

// goStdlib reports whether the match is the standard library a Go binary
// was built with.
func (m *VulnMatch) goStdlib() bool {
	return m.Package.Type == inventory.TypeGolang && m.Package.Name == inventory.GoStdlib
}

// The vulnerability rules. A finding takes the severity of the advisory
// (CVSS base score bands, else the database's rating, else medium); the
// severity here is what the catalog shows for the rule as a whole. Each
// match is one rule's: an OS package's, the Go standard library's, or
// else an application dependency's.

var ruleOSPackage = &Rule{
	Rule: finding.Rule{
		ID:       "DV6001",
		Title:    "OS package with a known vulnerability",
		Practice: finding.PracticeVulnerabilities,
		Severity: finding.High,
		Description: "A package installed by the distribution's package manager (dpkg, apk, rpm) has a version that an OSV advisory " +
			"for this very release of the distribution lists as affected. Debian, Ubuntu, Alpine and RPM distributions publish " +
			"advisories for source packages; every binary package built from an affected source is reported. " +
			"The finding takes the advisory's severity.",
		Remediation: "Rebuild the image on an updated base image, or upgrade the package in the Dockerfile " +
			"(apt-get install --only-upgrade, apk upgrade, dnf upgrade) to the fixed version.",
		References: []string{"https://osv.dev/", "https://docs.docker.com/build/building/best-practices/#rebuild-your-images"},
	},
	Check: func(p *Pass) {
		if p.Match.Package.OSPackage() {
			p.report()
		}
	},
}

var ruleAppPackage = &Rule{
	Rule: finding.Rule{
		ID:       "DV6002",
		Title:    "Application dependency with a known vulnerability",
		Practice: finding.PracticeVulnerabilities,
		Severity: finding.High,
		Description: "A language package (npm, PyPI, Go module, Maven, RubyGems, Packagist, crates.io, NuGet) installed in the image " +
			"or compiled into a binary has a version that an OSV advisory lists as affected, compared with the ecosystem's own " +
			"version rules. The finding takes the advisory's severity.",
		Remediation: "Upgrade the dependency to the fixed version in the project's manifest and lockfile, and rebuild the image.",
		References:  []string{"https://osv.dev/"},
	},
	Check: func(p *Pass) {
		if !p.Match.Package.OSPackage() && !p.Match.goStdlib() {
			p.report()
		}
	},
}

var ruleGoStdlib = &Rule{
	Rule: finding.Rule{
		ID:       "DV6003",
		Title:    "Go binary built with a vulnerable Go release",
		Practice: finding.PracticeVulnerabilities,
		Severity: finding.High,
		Description: "A Go program was compiled with a Go toolchain whose standard library has a known vulnerability " +
			"(Go vulnerability database, module \"stdlib\"). The standard library is linked into the binary: upgrading " +
			"packages in the image does not fix it. The finding takes the advisory's severity.",
		Remediation: "Rebuild the program with a Go release that fixes the vulnerability (the golang build image's tag) and ship the new binary.",
		References:  []string{"https://pkg.go.dev/vuln/", "https://go.dev/doc/security/vuln/"},
	},
	Check: func(p *Pass) {
		if !p.Match.Package.OSPackage() && p.Match.goStdlib() {
			p.report()
		}
	},
}

// rules are the vulnerability rules, by ID.
var rules = []*Rule{ruleOSPackage, ruleAppPackage, ruleGoStdlib}

var surfaces = []finding.Surface{finding.SurfaceImage, finding.SurfaceSBOM}

// Rules returns the vulnerability rules, by ID.
func Rules() []*Rule { return slices.Clone(rules) }

// Catalog lists the vulnerability rules, for internal/catalog.
func Catalog() []finding.Rule { return rule.Catalog(surfaces, rules) }

// maxFindingRefs bounds the references of one finding.
const maxFindingRefs = 5

// report records the match as a finding of the rule: at the file and
// layer that list the package, with the vulnerability's severity.
func (p *Pass) report() {
	pkg, q, g := p.Match.Package, p.Match.query, p.Match.vuln
	loc := finding.Location{Path: pkg.Path, Layer: pkg.LayerDigest}
	if pkg.LayerIndex >= 0 {
		loc.LayerIndex = finding.LayerAt(pkg.LayerIndex)
	}
	what := pkg.Name + " " + pkg.Version
	if p.Match.goStdlib() {
		what = "Go " + strings.TrimPrefix(pkg.Version, "v") + " (standard library)"
	}
	if q.viaSource {
		what += fmt.Sprintf(" (source package %s %s)", q.name, q.version)
	}
	fix := "no fixed version is published yet"
	if g.fixed != "" {
		fix = "fixed in " + g.fixed
	}
	f := p.Emit(loc, "%s is affected by %s; %s.", what, g.id, fix)
	f.Severity = g.severity
	var refs []string
	for _, id := range g.records {
		refs = append(refs, "https://osv.dev/vulnerability/"+id)
	}
	refs = append(refs, g.refs...)
	slices.Sort(refs)
	refs = slices.Compact(refs)
	if len(refs) > maxFindingRefs {
		refs = refs[:maxFindingRefs]
	}
	f.References = refs
	f.Vulnerability = &finding.Vulnerability{
		ID:        g.id,
		Aliases:   g.aliases,
		Package:   pkg.Name,
		Ecosystem: pkg.Ecosystem,
		Installed: pkg.Version,
		Fixed:     g.fixed,
		CVSS:      g.score,
		PURL:      pkg.PURL,
		Summary:   g.summary,
		// Where the severity came from, so that a reader can tell a
		// rated advisory from the default.
		SeveritySource: g.source,
	}
}
