package vulndb

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/inventory"
)

var target = finding.Target{Kind: finding.SurfaceImage, Name: "docker-archive:app.tar"}

// summary is the short form of a finding the table compares:
// rule, ID, aliases, fixed version, severity.
func summary(f finding.Finding) string {
	v := f.Vulnerability
	s := fmt.Sprintf("%s %s", f.RuleID, v.ID)
	if len(v.Aliases) > 0 {
		s += " [" + strings.Join(v.Aliases, ",") + "]"
	}
	return s + fmt.Sprintf(" fixed=%s %s", v.Fixed, f.Severity)
}

func deb(eco, name, version, src, srcVersion string) inventory.Package {
	return inventory.Package{Type: inventory.TypeDeb, Name: name, Version: version, SourceName: src, SourceVersion: srcVersion,
		Ecosystem: eco, Path: "var/lib/dpkg/status", LayerIndex: 1, LayerDigest: "sha256:l1"}
}

func lang(typ, eco, name, version string) inventory.Package {
	return inventory.Package{Type: typ, Name: name, Version: version, Ecosystem: eco, Path: "app/manifest", LayerIndex: 3}
}

// TestMatch: each package gets exactly the listed findings, no more, no
// fewer. The negative cases are ones a naive comparison gets wrong.
func TestMatch(t *testing.T) {
	db := openShared(t)
	for _, tc := range []struct {
		name string
		pkg  inventory.Package
		want []string
	}{
		// Debian advisories name source packages; the release scopes them.
		{"binary package matched through its source", deb("Debian:12", "libssl3", "3.0.11-1~deb12u1", "openssl", ""), []string{
			"DV6001 CVE-2024-0727 [DEBIAN-CVE-2024-0727] fixed=3.0.13-1~deb12u1 medium",
			"DV6001 DSA-5532-1 fixed=3.0.11-1~deb12u2 medium",
		}},
		{"fixed at the installed version", deb("Debian:12", "libssl3", "3.0.11-1~deb12u2", "openssl", ""), []string{
			"DV6001 CVE-2024-0727 [DEBIAN-CVE-2024-0727] fixed=3.0.13-1~deb12u1 medium",
		}},
		{"~ sorts before the empty string: 3.0.11-1 is after 3.0.11-1~deb12u2", deb("Debian:12", "libssl3", "3.0.11-1", "openssl", ""), []string{
			"DV6001 CVE-2024-0727 [DEBIAN-CVE-2024-0727] fixed=3.0.13-1~deb12u1 medium",
		}},
		{"fixed before the installed version", deb("Debian:12", "libssl3", "3.0.19-1~deb12u2", "openssl", ""), nil},
		{"another release's advisory does not match", deb("Debian:11", "openssl", "1.1.1w-0+deb11u1", "", ""), []string{
			"DV6001 CVE-2022-0001 [DEBIAN-CVE-2022-0001] fixed=9.9.9-1 medium",
			"DV6001 CVE-2024-0727 [DEBIAN-CVE-2024-0727] fixed=1.1.1w-0+deb11u2 medium",
		}},
		{"epoch in the fixed version", deb("Debian:12", "passwd", "1:4.13+dfsg1-1", "shadow", ""), []string{
			"DV6001 CVE-2023-29383 [DEBIAN-CVE-2023-29383] fixed=1:4.13+dfsg1-1+deb12u1 medium",
		}},
		{"epoch 0 is below epoch 1 whatever the upstream version", deb("Debian:12", "passwd", "4.14-1", "shadow", ""), []string{
			"DV6001 CVE-2023-29383 [DEBIAN-CVE-2023-29383] fixed=1:4.13+dfsg1-1+deb12u1 medium",
		}},
		{"the source version decides, not the binary's epoch", deb("Debian:12", "libdevmapper1.02.1", "2:1.02.185-2", "lvm2", "2.03.16-2"), []string{
			"DV6001 CVE-2023-29383 [DEBIAN-CVE-2023-29383] fixed=2.03.16-3 medium",
		}},
		{"unfixed", deb("Debian:12", "libgcrypt20", "1.10.1-3", "", ""), []string{
			"DV6001 CVE-2024-2236 [DEBIAN-CVE-2024-2236] fixed= medium",
		}},
		{"unknown distribution", deb("", "libssl3", "3.0.11-1~deb12u1", "openssl", ""), nil},
		{"Ubuntu release with LTS suffix, Ubuntu's own rating", deb("Ubuntu:22.04:LTS", "libssl3", "3.0.2-0ubuntu1.10", "openssl", ""), []string{
			"DV6001 CVE-2024-0727 [UBUNTU-CVE-2024-0727] fixed=3.0.2-0ubuntu1.14 low",
		}},

		{"Alpine origin package", inventory.Package{Type: inventory.TypeApk, Name: "libcrypto3", Version: "3.3.2-r0", SourceName: "openssl", Ecosystem: "Alpine:v3.20"}, []string{
			"DV6001 CVE-2024-5535 [ALPINE-CVE-2024-5535] fixed=3.3.2-r1 medium",
		}},
		{"Alpine: v3.19 record, v3.20 image", inventory.Package{Type: inventory.TypeApk, Name: "busybox", Version: "1.36.1-r29", Ecosystem: "Alpine:v3.20"}, nil},
		{"Alpine: fixed", inventory.Package{Type: inventory.TypeApk, Name: "libcrypto3", Version: "3.3.2-r1", SourceName: "openssl", Ecosystem: "Alpine:v3.20"}, nil},
		{"rpm source package with epoch", inventory.Package{Type: inventory.TypeRPM, Name: "openssl-libs", Version: "1:3.0.7-24.el9", SourceName: "openssl", Ecosystem: "Rocky Linux:9"}, []string{
			"DV6001 CVE-2023-5678 [RLSA-2024:0310] fixed=1:3.0.7-25.el9_3 medium",
		}},

		// Aliases: a GitHub and a PyPA record of one CVE make one finding.
		{"aliases deduplicated", lang("pypi", "PyPI", "cryptography", "38.0.4"), []string{
			"DV6002 CVE-2023-23931 [GHSA-w7pp-m8wf-vj6r,PYSEC-2023-11] fixed=39.0.1 medium",
		}},
		{"PEP 440: release candidate of an affected release", lang("pypi", "PyPI", "Django", "4.2rc1"), []string{
			"DV6002 CVE-2023-31047 [GHSA-6m9h-2pr2-9j8f] fixed=4.2.1 critical",
		}},
		{"PEP 440: development release of the fix", lang("pypi", "PyPI", "django", "4.2.1.dev0"), []string{
			"DV6002 CVE-2023-31047 [GHSA-6m9h-2pr2-9j8f] fixed=4.2.1 critical",
		}},
		{"PEP 440: a dev release sorts before the alpha that introduced it", lang("pypi", "PyPI", "django", "4.2.dev1"), nil},
		{"PEP 440: post release of an affected release", lang("pypi", "PyPI", "django", "4.2.0.post1"), []string{
			"DV6002 CVE-2023-31047 [GHSA-6m9h-2pr2-9j8f] fixed=4.2.1 critical",
		}},
		{"PEP 440: the fix", lang("pypi", "PyPI", "django", "4.2.1"), nil},
		{"PyPI names compared in PEP 503 form", lang("pypi", "PyPI", "PyYAML", "6.0"), []string{
			"DV6002 PYSEC-2099-1 fixed=6.0.1 medium",
		}},
		{"PyPI: two records, one fixed before", lang("pypi", "PyPI", "py_yaml", "6.0"), nil},
		{"PyPI: an older release, before the second record's range", lang("pypi", "PyPI", "pyyaml", "5.3.1"), []string{
			"DV6002 CVE-2020-14343 [PYSEC-2021-142] fixed=5.4 medium",
		}},

		{"npm, CVSS v3 7.2; the withdrawn record is ignored", lang("npm", "npm", "lodash", "4.17.20"), []string{
			"DV6002 CVE-2021-23337 [GHSA-35jh-r3h4-6jhm] fixed=4.17.21 high",
		}},
		{"npm: fixed before installed", lang("npm", "npm", "semver", "7.6.2"), nil},
		{"npm: second of three ranges", lang("npm", "npm", "semver", "6.3.0"), []string{
			"DV6002 CVE-2022-25883 [GHSA-c2qf-rxjj-qqgw] fixed=6.3.1 medium",
		}},
		{"last_affected includes the version", lang("npm", "npm", "minimist", "1.2.5"), []string{
			"DV6002 CVE-2020-7598 [GHSA-vh95-rmgr-6w4m] fixed= medium",
		}},
		{"after last_affected", lang("npm", "npm", "minimist", "1.2.8"), nil},
		{"under the limit", lang("npm", "npm", "qs", "6.7.0"), []string{
			"DV6002 CVE-2022-24999 [GHSA-hrpp-h998-j3pp] fixed= high",
		}},
		{"at the limit", lang("npm", "npm", "qs", "7.0.0"), nil},
		{"explicit versions list", lang("npm", "npm", "event-stream", "3.3.6"), []string{
			"DV6002 MAL-2024-1234 fixed= medium",
		}},
		{"not in the versions list", lang("npm", "npm", "event-stream", "3.3.5"), nil},
		{"CVSS v4 preferred over v3", lang("npm", "npm", "axios", "1.5.1"), []string{
			"DV6002 CVE-2023-45857 [GHSA-wf5p-g6vw-rhxx] fixed=1.6.0 critical",
		}},

		{"Maven: 1.9 is before 1.10.0", lang("maven", "Maven", "org.apache.commons:commons-text", "1.9"), []string{
			"DV6002 CVE-2022-42889 [GHSA-599f-7c49-w659] fixed=1.10.0 critical",
		}},
		{"Maven: fixed", lang("maven", "Maven", "org.apache.commons:commons-text", "1.10.0"), nil},
		{"RubyGems: 2.2.3 is before 2.2.3.1, the database's rating", lang("gem", "RubyGems", "rack", "2.2.3"), []string{
			"DV6002 CVE-2022-30123 [GHSA-wq4h-7r42-5hrr] fixed=2.2.3.1 critical",
		}},
		{"Packagist", lang("composer", "Packagist", "symfony/http-kernel", "5.4.19"), []string{
			"DV6002 CVE-2022-24894 [GHSA-h7vf-5wrv-9fhv] fixed=5.4.20 low",
		}},
		{"NuGet names are case-insensitive", lang("nuget", "NuGet", "newtonsoft.json", "12.0.1"), []string{
			"DV6002 CVE-2024-21907 [GHSA-5crp-9r3c-p9vr] fixed=13.0.1 high",
		}},
		{"crates.io SEMVER range", lang("cargo", "crates.io", "smallvec", "1.6.0"), []string{
			"DV6002 CVE-2021-25900 [GHSA-43w2-9j62-hq99,RUSTSEC-2021-0003] fixed=1.6.1 critical",
		}},
		{"crates.io: between ranges", lang("cargo", "crates.io", "smallvec", "0.6.14"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := Match(db, []inventory.Package{tc.pkg}, Options{Target: target})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, summary(f))
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestGoDatabase matches against the real Go vulnerability database:
// the standard library by the toolchain version, modules with a "v".
func TestGoDatabase(t *testing.T) {
	requireGoExport(t)
	db := openShared(t)
	ids := func(pkg inventory.Package) map[string]finding.Finding {
		fs, err := Match(db, []inventory.Package{pkg}, Options{Target: target})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]finding.Finding{}
		for _, f := range fs {
			for _, id := range append([]string{f.Vulnerability.ID}, f.Vulnerability.Aliases...) {
				if _, dup := out[id]; dup {
					t.Errorf("%s reported twice for %s", id, pkg.Name)
				}
				out[id] = f
			}
		}
		return out
	}
	stdlib := func(v string) inventory.Package {
		return inventory.Package{Type: inventory.TypeGolang, Name: inventory.GoStdlib, Version: v, Ecosystem: "Go", Path: "usr/local/bin/app", LayerIndex: 2}
	}
	old := ids(stdlib("v1.21.5"))
	f, ok := old["GO-2024-2687"]
	if !ok {
		t.Fatalf("Go 1.21.5 not affected by GO-2024-2687; got %d findings", len(old))
	}
	if f.RuleID != "DV6003" || f.Vulnerability.ID != "CVE-2023-45288" || f.Vulnerability.Fixed != "1.21.9" ||
		!slices.Equal(f.Vulnerability.Aliases, []string{"GHSA-4v7x-pqxf-cx7m", "GO-2024-2687"}) {
		t.Errorf("finding %+v %+v", f, f.Vulnerability)
	}
	if f.Message != "Go 1.21.5 (standard library) is affected by CVE-2023-45288; fixed in 1.21.9." {
		t.Errorf("message %q", f.Message)
	}
	if f.Location.Path != "usr/local/bin/app" || f.Location.LayerIndex == nil || *f.Location.LayerIndex != 2 {
		t.Errorf("location %+v", f.Location)
	}
	if f.Severity != finding.Medium {
		t.Errorf("the Go database rates nothing: severity %s, want medium", f.Severity)
	}
	if _, ok := ids(stdlib("v1.22.2"))["GO-2024-2687"]; ok {
		t.Error("Go 1.22.2 (the fix of the 1.22 branch) reported for GO-2024-2687")
	}
	if _, ok := ids(stdlib("v1.22.1"))["GO-2024-2687"]; !ok {
		t.Error("Go 1.22.1 not reported for GO-2024-2687 (second range)")
	}

	text := ids(inventory.Package{Type: inventory.TypeGolang, Name: "golang.org/x/text", Version: "v0.3.0", Ecosystem: "Go"})
	for _, id := range []string{"GO-2020-0015", "GO-2021-0113", "GO-2022-1059"} {
		if _, ok := text[id]; !ok {
			t.Errorf("golang.org/x/text v0.3.0: %s not reported", id)
		}
	}
	if _, ok := text["GO-2020-0015"]; ok && text["GO-2020-0015"].RuleID != "DV6002" {
		t.Errorf("module finding under %s", text["GO-2020-0015"].RuleID)
	}
	newer := ids(inventory.Package{Type: inventory.TypeGolang, Name: "golang.org/x/text", Version: "v0.3.8", Ecosystem: "Go"})
	for _, id := range []string{"GO-2020-0015", "GO-2021-0113", "GO-2022-1059"} {
		if _, ok := newer[id]; ok {
			t.Errorf("golang.org/x/text v0.3.8: %s (fixed by 0.3.8) reported", id)
		}
	}
}

// TestGoBinaryEndToEnd builds a real Go program depending on
// golang.org/x/text v0.3.0, takes the inventory of a tree holding it, and
// matches it against the real Go database.
func TestGoBinaryEndToEnd(t *testing.T) {
	requireGoExport(t)
	root := t.TempDir()
	buildTextApp(t, filepath.Join(root, "srv/textapp"))
	db := openShared(t)
	check := func(inv *inventory.Result, tgt finding.Target, layer *int) {
		t.Helper()
		fs, err := Match(db, inv.Packages, Options{Target: tgt})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range fs {
			if f.Vulnerability.Package == "golang.org/x/text" && f.Vulnerability.ID == "CVE-2022-32149" {
				found = true
				l := f.Location.LayerIndex
				if f.Location.Path != "srv/textapp" || (l == nil) != (layer == nil) || l != nil && *l != *layer ||
					f.Vulnerability.PURL != "pkg:golang/golang.org/x/text@v0.3.0" || f.Target != tgt.Name {
					t.Errorf("finding %+v", f)
				}
			}
		}
		if !found {
			t.Errorf("CVE-2022-32149 (GO-2022-1059) not reported for the binary; %d findings", len(fs))
		}
	}
	// A directory: no layer.
	inv, err := inventory.ScanDir(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	check(inv, finding.Target{Kind: finding.SurfaceSBOM, Name: root}, nil)
	// The same binary in the fourth layer of an image.
	s := inventory.NewScanner()
	feedTree(t, s, 3, root)
	check(s.Result(), target, finding.LayerAt(3))
}

func TestFindingFields(t *testing.T) {
	db := openShared(t)
	fs, err := Match(db, []inventory.Package{deb("Debian:12", "libssl3", "3.0.11-1~deb12u2", "openssl", "")}, Options{Target: target})
	if err != nil || len(fs) != 1 {
		t.Fatalf("%v %v", fs, err)
	}
	f := fs[0]
	if f.Practice != finding.PracticeVulnerabilities || f.Target != target.Name || f.TargetKind != finding.SurfaceImage {
		t.Errorf("finding %+v", f)
	}
	if f.Message != "libssl3 3.0.11-1~deb12u2 (source package openssl 3.0.11-1~deb12u2) is affected by CVE-2024-0727; fixed in 3.0.13-1~deb12u1." {
		t.Errorf("message %q", f.Message)
	}
	if f.Location.Path != "var/lib/dpkg/status" || f.Location.Layer != "sha256:l1" || *f.Location.LayerIndex != 1 {
		t.Errorf("location %+v", f.Location)
	}
	v := f.Vulnerability
	if v.Package != "libssl3" || v.Ecosystem != "Debian:12" || v.Installed != "3.0.11-1~deb12u2" || v.Fixed != "3.0.13-1~deb12u1" {
		t.Errorf("vulnerability %+v", v)
	}
	if !slices.Contains(f.References, "https://osv.dev/vulnerability/DEBIAN-CVE-2024-0727") {
		t.Errorf("references %v", f.References)
	}

	fs, _ = Match(db, []inventory.Package{lang("npm", "npm", "axios", "1.5.1")}, Options{Target: target})
	if v := fs[0].Vulnerability; v.CVSS != 9.3 || v.Summary != "Axios Cross-Site Request Forgery Vulnerability" {
		t.Errorf("axios: %+v", v)
	}
	// A CVSS 3.0 vector scoring 3.1 makes a low finding.
	fs, _ = Match(db, []inventory.Package{lang("composer", "Packagist", "symfony/http-kernel", "5.4.19")}, Options{Target: target})
	if f := fs[0]; f.Vulnerability.CVSS != 3.1 || f.Severity != finding.Low {
		t.Errorf("symfony: %s %+v", f.Severity, f.Vulnerability)
	}
}

func TestIgnoreUnfixed(t *testing.T) {
	db := openShared(t)
	pkgs := []inventory.Package{deb("Debian:12", "libgcrypt20", "1.10.1-3", "", ""), deb("Debian:12", "libssl3", "3.0.11-1~deb12u2", "openssl", "")}
	all, _ := Match(db, pkgs, Options{Target: target})
	fixed, _ := Match(db, pkgs, Options{Target: target, IgnoreUnfixed: true})
	if len(all) != 2 || len(fixed) != 1 || fixed[0].Vulnerability.ID != "CVE-2024-0727" {
		t.Errorf("all %d, with --ignore-unfixed %v", len(all), fixed)
	}
}

// TestIgnoreByAlias: the project's ignore file may name a vulnerability by
// any of its IDs.
func TestIgnoreByAlias(t *testing.T) {
	db := openShared(t)
	fs, _ := Match(db, []inventory.Package{lang("npm", "npm", "lodash", "4.17.20"), lang("pypi", "PyPI", "cryptography", "38.0.4")}, Options{Target: target})
	p := filepath.Join(t.TempDir(), ".dockvetignore")
	os.WriteFile(p, []byte("# lodash is only used at build time\nGHSA-35jh-r3h4-6jhm\nPYSEC-2023-11 app/**\n"), 0o644)
	igs, err := config.LoadIgnoreFile(p, true)
	if err != nil {
		t.Fatal(err)
	}
	r := &finding.Report{Targets: []finding.Target{target}, Findings: fs}
	(&config.Filter{IgnoreFile: igs}).Apply(r)
	if len(r.Findings) != 0 || len(r.Suppressed) != 2 {
		t.Errorf("findings %v suppressed %v", r.Findings, r.Suppressed)
	}
}

func TestMissingEcosystems(t *testing.T) {
	dir := t.TempDir()
	z := filepath.Join(dir, "npm.zip")
	zipExport(t, "npm", z)
	if _, err := Import(t.Context(), dir, z, testNow); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pkgs := []inventory.Package{lang("npm", "npm", "lodash", "4.17.20"), deb("Debian:12", "libssl3", "3.0.11-1~deb12u1", "openssl", ""), lang("pypi", "PyPI", "x", "1")}
	if got := MissingEcosystems(db, pkgs); !slices.Equal(got, []string{"Debian", "PyPI"}) {
		t.Errorf("missing %v", got)
	}
	fs, err := Match(db, pkgs, Options{Target: target})
	if err != nil || len(fs) != 1 {
		t.Errorf("findings %v %v", fs, err)
	}
}

func TestSeverityBands(t *testing.T) {
	for score, want := range map[float64]string{10: "critical", 9.0: "critical", 8.9: "high", 7.0: "high", 6.9: "medium", 4.0: "medium", 3.9: "low", 0.1: "low", 0: ""} {
		if got := band(score); got != want {
			t.Errorf("band(%v) = %q, want %q", score, got, want)
		}
	}
	if findingSeverity("") != finding.Medium {
		t.Error("no rating is not medium")
	}
	for in, want := range map[string]string{"MODERATE": "medium", "Important": "high", "negligible": "low", "CRITICAL": "critical", "bogus": ""} {
		if got := normalizeLabel(in); got != want {
			t.Errorf("normalizeLabel(%q) = %q", in, got)
		}
	}
}
