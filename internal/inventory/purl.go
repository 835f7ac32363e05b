package inventory

import (
	"path"
	"strconv"
	"strings"

	packageurl "github.com/package-url/packageurl-go"
)

// languageEcosystems maps language package types to their OSV ecosystem.
var languageEcosystems = map[string]string{
	TypeGolang:   "Go",
	TypeNpm:      "npm",
	TypePyPI:     "PyPI",
	TypeMaven:    "Maven",
	TypeGem:      "RubyGems",
	TypeComposer: "Packagist",
	TypeCargo:    "crates.io",
	TypeNuGet:    "NuGet",
}

// ecosystemOf is the OSV ecosystem of p on the given distribution.
func ecosystemOf(p *Package, o *OS) string {
	if e, ok := languageEcosystems[p.Type]; ok {
		return e
	}
	eco := o.Ecosystem()
	if eco == "" {
		return ""
	}
	// A dpkg database on an Alpine release file (or the reverse) is a
	// filesystem dockvet cannot place: better no ecosystem than a wrong one.
	base, _, _ := strings.Cut(eco, ":")
	switch p.Type {
	case TypeDeb:
		if base == "Debian" || base == "Ubuntu" {
			return eco
		}
	case TypeApk:
		if base == "Alpine" || base == "Wolfi" || base == "Chainguard" {
			return eco
		}
	case TypeRPM:
		switch base {
		case "Rocky Linux", "AlmaLinux", "Mageia", "Photon OS", "openSUSE", "SUSE":
			return eco
		}
	}
	return ""
}

// purlOf builds p's package URL following each type's rules in the purl
// specification.
func purlOf(p *Package, o *OS) string {
	ns, name, version := "", p.Name, p.Version
	q := map[string]string{}
	switch p.Type {
	case TypeDeb, TypeApk, TypeRPM:
		ns = o.purlNamespace(p.Type)
		if p.Arch != "" {
			q["arch"] = p.Arch
		}
		if d := o.distro(); d != "" {
			q["distro"] = d
		}
		if p.Type == TypeRPM && p.Epoch > 0 {
			// rpm purls carry the epoch as a qualifier, not in the version.
			q["epoch"] = strconv.Itoa(p.Epoch)
			_, version, _ = strings.Cut(version, ":")
		}
		if p.Type == TypeDeb && p.SourceName != "" {
			q["upstream"] = p.SourceName
		}
	case TypeGolang:
		if p.Name != GoStdlib {
			ns, name = path.Dir(p.Name), path.Base(p.Name)
			if ns == "." {
				ns = ""
			}
		}
	case TypeNpm:
		if scope, n, ok := strings.Cut(p.Name, "/"); ok && strings.HasPrefix(scope, "@") {
			ns, name = scope, n
		}
	case TypePyPI:
		name = NormalizePyPIName(p.Name)
	case TypeMaven:
		if g, a, ok := strings.Cut(p.Name, ":"); ok {
			ns, name = g, a
		}
	case TypeComposer:
		if v, n, ok := strings.Cut(p.Name, "/"); ok {
			ns, name = v, n
		}
	}
	var qs packageurl.Qualifiers
	if len(q) > 0 {
		qs = packageurl.QualifiersFromMap(q)
	}
	return packageurl.NewPackageURL(p.Type, ns, name, version, qs, "").ToString()
}
