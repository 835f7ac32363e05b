package inventory

import (
	"slices"
	"testing"
)

// TestCopyrightLicenses reads the licences of Debian packages from their
// copyright files (real ones, from Debian 12): DEP-5 files by their
// Files paragraphs, as SPDX expressions; free text by the licence texts it
// points to; a package without a file of its own takes its source
// package's; one with none has none.
func TestCopyrightLicenses(t *testing.T) {
	r := scanDir(t, "testdata/debian")
	noErrors(t, r)
	got := map[string][]string{}
	for _, p := range r.Packages {
		got[p.Name] = p.Licenses
	}
	for name, want := range map[string][]string{
		"libssl3":            {"Apache-2.0", "Artistic-1.0 OR GPL-1.0-or-later"},
		"base-files":         {"GPL-2.0-or-later"},
		"libdevmapper1.02.1": {"BSD-2-Clause", "GPL-2.0-only", "GPL-2.0-or-later", "LGPL-2.1-only"},
		"openssl":            nil,
	} {
		if !slices.Equal(got[name], want) {
			t.Errorf("%s: licences %q, want %q", name, got[name], want)
		}
	}
	if ls := got["libblkid1"]; !slices.Contains(ls, "GPL-2.0-or-later") || !slices.Contains(ls, "LGPL-2.1-or-later") || !slices.Contains(ls, "public-domain") {
		t.Errorf("libblkid1: %q", ls)
	}
}

// TestDEP5Expressions: DEP-5 short names and their combinations become SPDX
// expressions; what cannot be told stays as the file wrote it.
func TestDEP5Expressions(t *testing.T) {
	for in, want := range map[string]string{
		"GPL-2+":                         "GPL-2.0-or-later",
		"GPL-1+ or Artistic":             "GPL-1.0-or-later OR Artistic-1.0",
		"BSD-3-clause and Expat":         "BSD-3-Clause AND MIT",
		"GPL-3+ with Bison exception":    "GPL-3.0-or-later WITH Bison-exception-2.2",
		"GPL-2+ with OpenSSL exception":  "GPL-2+ with OpenSSL exception",
		"public-domain":                  "public-domain",
		"MPL-2.0":                        "MPL-2.0",
		"GPL-1+ or Artistic, and Expat":  "GPL-1+ or Artistic, and Expat",
		"LGPL-2.1+ or GPL-2+ or MPL-1.1": "LGPL-2.1-or-later OR GPL-2.0-or-later OR MPL-1.1",
		"GPL-2.0+":                       "GPL-2.0-or-later",
		"LGPL-2.0":                       "LGPL-2.0-only",
	} {
		if got := dep5Expression(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	// Free text: the version the text grants, and "or later".
	if got := freeTextLicenses([]byte("version 2 of the License, or (at your option) any later version ... /usr/share/common-licenses/GPL'.")); !slices.Equal(got, []string{"GPL-2.0-or-later"}) {
		t.Errorf("free text, unversioned reference: %q", got)
	}
	if got := freeTextLicenses([]byte("/usr/share/common-licenses/LGPL-2.1 and /usr/share/common-licenses/Apache-2.0")); !slices.Equal(got, []string{"Apache-2.0", "LGPL-2.1-only"}) {
		t.Errorf("free text, versioned references: %q", got)
	}
	if got := freeTextLicenses([]byte("see /usr/share/common-licenses/GPL")); got != nil {
		t.Errorf("an unversioned reference with no version granted names nothing: %q", got)
	}
}
