package vulndb

import "github.com/dockvet/dockvet/internal/finding"

var surfaces = []finding.Surface{finding.SurfaceImage, finding.SurfaceSBOM}

// The vulnerability rules. A finding takes the severity of the advisory
// (CVSS base score bands, else the database's rating, else medium); the
// severity here is what the catalog shows for the rule as a whole.
var (
	RuleOSPackage = finding.Rule{
		ID:       "DV6001",
		Title:    "OS package with a known vulnerability",
		Practice: finding.PracticeVulnerabilities,
		Severity: finding.High,
		Surfaces: surfaces,
		Description: "A package installed by the distribution's package manager (dpkg, apk, rpm) has a version that an OSV advisory " +
			"for this very release of the distribution lists as affected. Debian, Ubuntu, Alpine and RPM distributions publish " +
			"advisories for source packages; every binary package built from an affected source is reported. " +
			"The finding takes the advisory's severity.",
		Remediation: "Rebuild the image on an updated base image, or upgrade the package in the Dockerfile " +
			"(apt-get install --only-upgrade, apk upgrade, dnf upgrade) to the fixed version.",
		References: []string{"https://osv.dev/", "https://docs.docker.com/build/building/best-practices/#rebuild-your-images"},
	}
	RuleAppPackage = finding.Rule{
		ID:       "DV6002",
		Title:    "Application dependency with a known vulnerability",
		Practice: finding.PracticeVulnerabilities,
		Severity: finding.High,
		Surfaces: surfaces,
		Description: "A language package (npm, PyPI, Go module, Maven, RubyGems, Packagist, crates.io, NuGet) installed in the image " +
			"or compiled into a binary has a version that an OSV advisory lists as affected, compared with the ecosystem's own " +
			"version rules. The finding takes the advisory's severity.",
		Remediation: "Upgrade the dependency to the fixed version in the project's manifest and lockfile, and rebuild the image.",
		References:  []string{"https://osv.dev/"},
	}
	RuleGoStdlib = finding.Rule{
		ID:       "DV6003",
		Title:    "Go binary built with a vulnerable Go release",
		Practice: finding.PracticeVulnerabilities,
		Severity: finding.High,
		Surfaces: surfaces,
		Description: "A Go program was compiled with a Go toolchain whose standard library has a known vulnerability " +
			"(Go vulnerability database, module \"stdlib\"). The standard library is linked into the binary: upgrading " +
			"packages in the image does not fix it. The finding takes the advisory's severity.",
		Remediation: "Rebuild the program with a Go release that fixes the vulnerability (the golang build image's tag) and ship the new binary.",
		References:  []string{"https://pkg.go.dev/vuln/", "https://go.dev/doc/security/vuln/"},
	}
)

// Catalog lists the vulnerability rules, for internal/catalog.
func Catalog() []finding.Rule {
	return []finding.Rule{RuleOSPackage, RuleAppPackage, RuleGoStdlib}
}
