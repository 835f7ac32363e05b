package inventory

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
)

// Debian packages carry their licences in /usr/share/doc/<package>/copyright
// (the dpkg database has none): machine-readable (DEP-5,
// https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/) in
// most packages, free text in older ones. The Scanner reads these files
// like release files and gives their licences to the deb packages of the
// same name (or source name) in Result.

// maxCopyrightSize bounds a copyright file (perl's is about 150 KiB).
const maxCopyrightSize = 1 << 20

// copyrightPackage returns the package a path's copyright file is of.
func copyrightPackage(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "usr/share/doc/")
	if !ok {
		return "", false
	}
	name, file, ok := strings.Cut(rest, "/")
	return name, ok && file == "copyright" && name != ""
}

// copyrightWanted reports whether the Scanner reads a file for licences.
func copyrightWanted(p string, mode fs.FileMode, size int64) bool {
	_, ok := copyrightPackage(p)
	return ok && mode.IsRegular() && size <= maxCopyrightSize
}

// Copyright is what a package's copyright file says: its licences, SPDX
// expressions where they can be told, the file's own words otherwise.
type Copyright struct {
	Package  string   `json:"package"`
	Licenses []string `json:"licenses,omitempty"`
}

// ParseCopyright reads a Debian copyright file: DEP-5 when its first
// paragraph has a Format field, free text otherwise.
func ParseCopyright(b []byte) []string {
	paras := controlParagraphs(b)
	if len(paras) > 0 && strings.Contains(paras[0]["Format"], "copyright-format") {
		return dep5Licenses(paras)
	}
	return freeTextLicenses(b)
}

// dep5Licenses are the licences of the header and Files paragraphs (the
// standalone License paragraphs only hold the texts of those names), as
// SPDX expressions where every name in them is known.
func dep5Licenses(paras []map[string]string) []string {
	var out []string
	for i, p := range paras {
		_, files := p["Files"]
		if i > 0 && !files {
			continue
		}
		l := p["License"]
		if l == "" {
			continue
		}
		// The first line is the short name; the lines after it, if any,
		// are the licence's text.
		short, _, _ := strings.Cut(l, "\n")
		if short = strings.TrimSpace(short); short != "" {
			out = append(out, dep5Expression(short))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dep5Names maps DEP-5 short names (section "License specification" of
// the format) to SPDX identifiers; "+" means "or any later version".
var dep5Names = map[string]string{
	"gpl-1": "GPL-1.0-only", "gpl-1+": "GPL-1.0-or-later", "gpl-2": "GPL-2.0-only", "gpl-2+": "GPL-2.0-or-later",
	"gpl-3": "GPL-3.0-only", "gpl-3+": "GPL-3.0-or-later", "lgpl-2": "LGPL-2.0-only", "lgpl-2+": "LGPL-2.0-or-later",
	"lgpl-2.1": "LGPL-2.1-only", "lgpl-2.1+": "LGPL-2.1-or-later", "lgpl-3": "LGPL-3.0-only", "lgpl-3+": "LGPL-3.0-or-later",
	"agpl-3": "AGPL-3.0-only", "agpl-3+": "AGPL-3.0-or-later", "gfdl-1.2": "GFDL-1.2-only", "gfdl-1.2+": "GFDL-1.2-or-later",
	"gfdl-1.3": "GFDL-1.3-only", "gfdl-1.3+": "GFDL-1.3-or-later", "gfdl-niv-1.3": "GFDL-1.3-no-invariants-only",
	"gfdl-niv-1.3+": "GFDL-1.3-no-invariants-or-later", "artistic": "Artistic-1.0", "artistic-1": "Artistic-1.0",
	"artistic-2.0": "Artistic-2.0", "apache-2": "Apache-2.0", "apache-2.0": "Apache-2.0", "expat": "MIT", "mit": "MIT",
	"bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-4-clause": "BSD-4-Clause",
	"bsd-4-clause-uc": "BSD-4-Clause-UC", "zlib": "Zlib", "isc": "ISC", "mpl-1.1": "MPL-1.1", "mpl-2.0": "MPL-2.0",
	"cc0-1.0": "CC0-1.0", "psf-2": "PSF-2.0", "python-2.0": "Python-2.0", "openssl": "OpenSSL", "curl": "curl",
	"ftl": "FTL", "lppl-1.3c": "LPPL-1.3c", "latex2e": "Latex2e", "unicode-dfs-2016": "Unicode-DFS-2016", "x11": "X11",
	"wtfpl": "WTFPL", "cc-by-3.0": "CC-BY-3.0", "cc-by-sa-3.0": "CC-BY-SA-3.0", "cc-by-4.0": "CC-BY-4.0",
	"cc-by-sa-4.0": "CC-BY-SA-4.0", "epl-1.0": "EPL-1.0", "epl-2.0": "EPL-2.0", "sil-ofl-1.1": "OFL-1.1", "ofl-1.1": "OFL-1.1",
	"boost-1.0": "BSL-1.0", "bsl-1.0": "BSL-1.0", "ruby": "Ruby", "tcl": "TCL", "zpl-2.1": "ZPL-2.1",
}

// dep5Exceptions maps the "with … exception" of DEP-5 to SPDX exception
// identifiers.
var dep5Exceptions = map[string]string{
	"autoconf": "Autoconf-exception-2.0", "autoconf-3": "Autoconf-exception-3.0", "bison": "Bison-exception-2.2",
	"gcc-3.1": "GCC-exception-3.1", "gcc": "GCC-exception-3.1", "classpath": "Classpath-exception-2.0",
	"font": "Font-exception-2.0", "libtool": "Libtool-exception",
}

var dep5Operators = regexp.MustCompile(`(?i)\s+(or|and)\s+`)

// dep5Expression turns a DEP-5 licence specification ("GPL-1+ or
// Artistic", "GPL-3+ with Bison exception") into an SPDX expression;
// when a name in it is not known, the specification stays as written.
func dep5Expression(spec string) string {
	var b strings.Builder
	last := 0
	ok := true
	terms := dep5Operators.FindAllStringSubmatchIndex(spec, -1)
	term := func(s string) {
		id, known := dep5Term(strings.TrimSpace(s))
		ok = ok && known
		b.WriteString(id)
	}
	for _, m := range terms {
		term(spec[last:m[0]])
		b.WriteString(" " + strings.ToUpper(spec[m[2]:m[3]]) + " ")
		last = m[1]
	}
	term(spec[last:])
	if !ok {
		return spec
	}
	expr := b.String()
	if valid, _ := spdxexp.ValidateLicenses([]string{expr}); !valid {
		return spec
	}
	return expr
}

// gnuDeprecated matches the GNU licence identifiers SPDX deprecated
// ("GPL-2.0", "GPL-2.0+"), which DEP-5 files also use.
var gnuDeprecated = regexp.MustCompile(`^((?:a|l)?gpl|gfdl)-([0-9])\.0(\+?)$`)

// dep5Term is one licence name, with its exception.
func dep5Term(s string) (string, bool) {
	l := strings.ToLower(s)
	if m := gnuDeprecated.FindStringSubmatch(l); m != nil && m[1] != "lgpl" {
		l = m[1] + "-" + m[2] + m[3]
	}
	if m := gnuDeprecated.FindStringSubmatch(l); m != nil && m[1] == "lgpl" && m[2] == "2" {
		l = "lgpl-2" + m[3]
	}
	if id, ok := dep5Names[l]; ok {
		return id, true
	}
	if name, exc, ok := strings.Cut(l, " with "); ok {
		exc = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(exc), "exception"))
		id, known := dep5Names[strings.TrimSpace(name)]
		eid, eknown := dep5Exceptions[strings.TrimSpace(exc)]
		return id + " WITH " + eid, known && eknown
	}
	if ok, id := spdxexp.ActiveLicense(s); ok {
		return id, true
	}
	return s, false
}

// commonLicense matches a reference to a licence text Debian ships in
// /usr/share/common-licenses, with or without a version.
var commonLicense = regexp.MustCompile(`/usr/share/common-licenses/((?:[AL]?GPL|GFDL|Apache|Artistic|MPL|CC0)(?:-[0-9][0-9.]*[0-9]|-[0-9])?)`)

// laterVersion is the FSF's "or later" wording; licenseVersion names the
// version granted ("version 2 of the License").
var (
	laterVersion   = regexp.MustCompile(`(?i)or\s+(?:\(at\s+your\s+option\)\s+)?any\s+later\s+version`)
	licenseVersion = regexp.MustCompile(`(?i)version\s+([0-9](?:\.[0-9])?)\s+of\s+the\s+license`)
)

// freeTextLicenses are the licences a free-text copyright file names by
// their /usr/share/common-licenses file: "or later" when the text grants
// any later version (the FSF's wording), the version named otherwise. An
// unversioned reference ("common-licenses/GPL") takes the version the
// text grants when it names one alone, and is left out otherwise.
func freeTextLicenses(b []byte) []string {
	later := laterVersion.Match(b)
	var granted []string
	for _, m := range licenseVersion.FindAllSubmatch(b, -1) {
		granted = append(granted, string(m[1]))
	}
	slices.Sort(granted)
	granted = slices.Compact(granted)
	var out []string
	for _, m := range commonLicense.FindAllSubmatch(b, -1) {
		name := strings.ToLower(string(m[1]))
		gnu := strings.HasPrefix(name, "gpl") || strings.HasPrefix(name, "lgpl") || strings.HasPrefix(name, "agpl") || strings.HasPrefix(name, "gfdl")
		if gnu && !strings.Contains(name, "-") {
			if len(granted) != 1 {
				continue
			}
			name += "-" + granted[0]
		}
		if later && gnu {
			name += "+"
		}
		if id, ok := dep5Names[name]; ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
