package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/testenv"
)

// vulnCache imports the vulnerability testdata (OSV records in the format
// OSV publishes, and the real Go vulnerability database) with `dockvet db
// import`, into a cache directory of the test's own.
func vulnCache(t *testing.T) string {
	t.Helper()
	cache := t.TempDir()
	for _, src := range []string{"../vulndb/testdata/osv/Debian", "../vulndb/testdata/osv/npm", "../vulndb/testdata/osv/PyPI", "../vulndb/testdata/go-vulndb/all.zip"} {
		if code, _, errOut := run(t, "db", "import", src, "--cache-dir", cache); code != ExitOK {
			t.Fatalf("db import %s: %d %s", src, code, errOut)
		}
	}
	return cache
}

// libgcrypt20 is Debian 12's real dpkg status entry for libgcrypt20
// 1.10.1-3, a package with an advisory that no release fixes yet.
const libgcrypt20 = `Package: libgcrypt20
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 1588
Maintainer: Debian GnuTLS Maintainers <pkg-gnutls-maint@lists.alioth.debian.org>
Architecture: amd64
Multi-Arch: same
Version: 1.10.1-3
Depends: libc6 (>= 2.34), libgpg-error0 (>= 1.27)
Suggests: rng-tools
Description: LGPL Crypto library - runtime library
 libgcrypt contains cryptographic functions.  Many important free
 ciphers, hash algorithms and public key signing algorithms have been
 implemented:
Homepage: https://directory.fsf.org/project/libgcrypt/

`

// releaseGoBinary builds a real Go program depending on golang.org/x/text
// v0.3.0. The toolchain here is the newest Go release, which no advisory
// of the vendored database affects yet, so the linker records go1.26.5 as
// the release it was built with (-X runtime.buildVersion, where the Go
// linker keeps the version debug/buildinfo reads).
func releaseGoBinary(t *testing.T) []byte {
	t.Helper()
	src := t.TempDir()
	files := map[string]string{
		"go.mod":             "module example.com/textapp\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.0\n",
		"main.go":            "package main\n\nimport \"golang.org/x/text/width\"\n\nfunc main() { println(width.Wide) }\n",
		"vendor/modules.txt": "# golang.org/x/text v0.3.0\n## explicit\ngolang.org/x/text/width\n",
		"vendor/golang.org/x/text/width/width.go": "package width\n\n// Wide stands in for the real package's API.\nconst Wide = 2\n",
	}
	for p, body := range files {
		write(t, src, p, body)
	}
	// go test puts its own toolchain's bin directory first in PATH.
	cmd := exec.Command("go", "build", "-mod=vendor", "-trimpath",
		"-ldflags=-X runtime.buildVersion=go1.26.5", "-o", "textapp", ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(filepath.Join(src, "textapp"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vulnImage is a Debian image of the given release: the real dpkg status
// of a Debian 12 system (plus libgcrypt20) in layer 0, npm and PyPI
// packages in layer 1, a Go binary in layer 2.
func vulnImage(t *testing.T, release string) string {
	t.Helper()
	osRelease := strings.ReplaceAll(string(readFile(t, "../inventory/testdata/debian/etc/os-release")), `VERSION_ID="12"`, `VERSION_ID="`+release+`"`)
	status := string(readFile(t, "../inventory/testdata/debian/var/lib/dpkg/status")) + "\n" + libgcrypt20
	py := "usr/lib/python3/dist-packages/"
	img := testenv.Image(t, v1.Config{User: "10001"}, []v1.Layer{
		testenv.Layer(t,
			testenv.File{Path: "etc/os-release", Body: []byte(osRelease)},
			testenv.File{Path: "var/lib/dpkg/status", Body: []byte(status)}),
		testenv.Layer(t,
			testenv.File{Path: "srv/web/package-lock.json", Body: readFile(t, "../inventory/testdata/app/srv/web/package-lock.json")},
			testenv.File{Path: py + "cryptography-38.0.4.dist-info/METADATA", Body: readFile(t, "../inventory/testdata/app/"+py+"cryptography-38.0.4.dist-info/METADATA")},
			testenv.File{Path: py + "PyYAML-6.0.dist-info/METADATA", Body: readFile(t, "../inventory/testdata/app/"+py+"PyYAML-6.0.dist-info/METADATA")}),
		testenv.Layer(t, testenv.File{Path: "usr/local/bin/textapp", Mode: 0o755, Body: releaseGoBinary(t)}),
	}, "ADD rootfs.tar /", "COPY . /", "COPY textapp /usr/local/bin/")
	p := filepath.Join(t.TempDir(), "debian"+release+".tar")
	tag, err := name.NewTag("dockvet-test/vulns:" + release)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(p, tag, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// vulnLines are a report's vulnerability findings, comparable.
func vulnLines(t *testing.T, out string) []string {
	t.Helper()
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var lines []string
	for _, f := range r.Findings {
		if f.Vulnerability == nil {
			continue
		}
		v := f.Vulnerability
		lines = append(lines, fmt.Sprintf("%s %s %s %s@%s layer %d fixed=%s", f.RuleID, v.ID, f.Location.Path, v.Package, v.Installed, *f.Location.LayerIndex, v.Fixed))
		if f.Location.Layer == "" || f.TargetKind != finding.SurfaceImage {
			t.Errorf("%s: no layer digest or not an image finding", v.ID)
		}
	}
	slices.Sort(lines)
	return lines
}

// TestImageVulnerabilities is the acceptance: a Debian binary
// package whose source package has an advisory for the image's release is
// reported (through the source); the same advisory for another release,
// and an advisory fixed before the installed version, are not; npm, PyPI,
// Go module and Go standard library findings come from the files and the
// binary that hold them, each at its layer.
func TestImageVulnerabilities(t *testing.T) {
	cache := vulnCache(t)
	stdlib := func(id, fixed string) string {
		return "DV6003 " + id + " /usr/local/bin/textapp stdlib@v1.26.5 layer 2 fixed=" + fixed
	}
	debian12 := []string{
		// libdevmapper1.02.1 2:1.02.185-2 is built from lvm2 2.03.16-2; the
		// Debian 12 advisory names lvm2, fixed in 2.03.16-3.
		"DV6001 CVE-2023-29383 /var/lib/dpkg/status libdevmapper1.02.1@2:1.02.185-2 layer 0 fixed=2.03.16-3",
		"DV6001 CVE-2024-2236 /var/lib/dpkg/status libgcrypt20@1.10.1-3 layer 0 fixed=",
		"DV6002 CVE-2020-14040 /usr/local/bin/textapp golang.org/x/text@v0.3.0 layer 2 fixed=0.3.3",
		"DV6002 CVE-2021-23337 /srv/web/package-lock.json lodash@4.17.20 layer 1 fixed=4.17.21",
		"DV6002 CVE-2021-38561 /usr/local/bin/textapp golang.org/x/text@v0.3.0 layer 2 fixed=0.3.7",
		// The qs record closes its range with "limit" only: no fix.
		"DV6002 CVE-2022-24999 /srv/web/package-lock.json qs@6.7.0 layer 1 fixed=",
		"DV6002 CVE-2022-32149 /usr/local/bin/textapp golang.org/x/text@v0.3.0 layer 2 fixed=0.3.8",
		"DV6002 CVE-2023-23931 /usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/METADATA cryptography@38.0.4 layer 1 fixed=39.0.1",
		"DV6002 CVE-2026-56852 /usr/local/bin/textapp golang.org/x/text@v0.3.0 layer 2 fixed=0.39.0",
		"DV6002 PYSEC-2099-1 /usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA PyYAML@6.0 layer 1 fixed=6.0.1",
	}
	// The eight Go advisories fixed in 1.26.6 (GO-2026-5026, -5942, -5972,
	// -6088 to -6091, -6218), named by their CVEs.
	for _, id := range []string{"CVE-2026-33818", "CVE-2026-39821", "CVE-2026-46600", "CVE-2026-56853", "CVE-2026-56858", "CVE-2026-56859", "CVE-2026-56860", "CVE-2026-56862"} {
		debian12 = append(debian12, stdlib(id, "1.26.6"))
	}
	img12 := vulnImage(t, "12")
	code, out, errOut := run(t, "image", "docker-archive:"+img12, "--format", "json", "--cache-dir", cache, "--config", os.DevNull, "--fail-on", "none")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := vulnLines(t, out)
	slices.Sort(debian12)
	if !slices.Equal(got, debian12) {
		t.Errorf("Debian 12 findings:\n got %q\nwant %q", got, debian12)
	}

	// --ignore-unfixed leaves out the two advisories without a fix.
	_, out, _ = run(t, "image", "docker-archive:"+img12, "--format", "json", "--cache-dir", cache, "--config", os.DevNull, "--fail-on", "none", "--ignore-unfixed", "--offline")
	unfixed := slices.DeleteFunc(slices.Clone(debian12), func(l string) bool { return strings.HasSuffix(l, "fixed=") })
	if got := vulnLines(t, out); !slices.Equal(got, unfixed) || len(unfixed) != len(debian12)-2 {
		t.Errorf("--ignore-unfixed:\n got %q\nwant %q", got, unfixed)
	}

	// A database without the language ecosystems: their packages are not
	// checked, and standard error says which.
	debianOnly := t.TempDir()
	if code, _, errOut := run(t, "db", "import", "../vulndb/testdata/osv/Debian", "--cache-dir", debianOnly); code != ExitOK {
		t.Fatal(errOut)
	}
	_, out, errOut = run(t, "image", "docker-archive:"+img12, "--format", "json", "--cache-dir", debianOnly, "--config", os.DevNull, "--fail-on", "none")
	if got := vulnLines(t, out); len(got) != 2 || !strings.Contains(errOut, "the vulnerability database has no Go, PyPI, npm data; those packages were not checked") {
		t.Errorf("Debian-only database: stderr %q, findings %q", errOut, got)
	}

	// The same packages in a Debian 11 image: the Debian 12 advisories no
	// longer apply, the Debian 11 one for openssl (the source of libssl3
	// and openssl) does.
	_, out, _ = run(t, "image", "docker-archive:"+vulnImage(t, "11"), "--format", "json", "--cache-dir", cache, "--config", os.DevNull, "--fail-on", "none")
	var os11 []string
	for _, l := range vulnLines(t, out) {
		if strings.HasPrefix(l, "DV6001") {
			os11 = append(os11, l)
		}
	}
	want11 := []string{
		"DV6001 CVE-2022-0001 /var/lib/dpkg/status libssl3@3.0.19-1~deb12u2 layer 0 fixed=9.9.9-1",
		"DV6001 CVE-2022-0001 /var/lib/dpkg/status openssl@3.0.19-1~deb12u2 layer 0 fixed=9.9.9-1",
	}
	if !slices.Equal(os11, want11) {
		t.Errorf("Debian 11 OS findings:\n got %q\nwant %q", os11, want11)
	}
}

// TestImageWithoutDatabase: no database is one line on standard error, and
// every other check still runs.
func TestImageWithoutDatabase(t *testing.T) {
	p := vulnImage(t, "12")
	code, out, errOut := run(t, "image", "docker-archive:"+p, "--format", "json", "--config", os.DevNull, "--cache-dir", t.TempDir(), "--fail-on", "none")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(errOut, "no vulnerability database"); n != 1 {
		t.Errorf("stderr %q: want the database notice once", errOut)
	}
	if strings.Contains(out, `"vulnerability"`) || !strings.Contains(out, `"ruleId": "DV2010"`) {
		t.Errorf("the other checks did not run, or vulnerabilities were reported:\n%s", out)
	}

	p = keyImage(t)
	code, out, errOut = run(t, "image", "docker-archive:"+p, "--format", "json", "--config", os.DevNull, "--cache-dir", t.TempDir())
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"ruleId": "DV7016"`) || !strings.Contains(errOut, "secret scan: ") {
		t.Errorf("no secret scan: %s\n%s", errOut, out)
	}
	// --no-secrets: the key is then judged by the credential-file rule.
	// --quiet keeps the one line about the missing database.
	_, out, errOut = run(t, "image", "docker-archive:"+p, "--format", "json", "--config", os.DevNull, "--no-secrets", "--quiet")
	if strings.Contains(out, `"ruleId": "DV7016"`) || !strings.Contains(out, `"ruleId": "DV2023"`) ||
		strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "no vulnerability database") {
		t.Errorf("--no-secrets: stderr %q\n%s", errOut, out)
	}
}

// TestImageMissingDataQuiet is the acceptance of missing data: with -q and
// no database, the notice is the one line on standard error, and the
// JSON report records the database as missing and the image's Debian
// packages as unchecked; --fail-on-missing-data writes the same report
// and exits 2. A database with no Debian data is partial.
func TestImageMissingDataQuiet(t *testing.T) {
	p := vulnImage(t, "12")
	empty := t.TempDir()
	args := []string{"image", "docker-archive:" + p, "--format", "json", "--config", os.DevNull, "--fail-on", "none", "-q", "--cache-dir", empty}
	code, out, errOut := run(t, args...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "dockvet: docker-archive:" + p + ": no vulnerability database, so its Debian, Go, PyPI, npm packages were not checked for vulnerabilities " +
		"(run 'dockvet db update --ecosystems Debian,Go,PyPI,npm', or 'dockvet db import' offline)\n"
	if errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
	r := jsonReport(t, out)
	db := r.Scan.VulnerabilityDatabase
	if db == nil || db.Status != finding.DatabaseMissing || !slices.Equal(db.Needed, []string{"Debian", "Go", "PyPI", "npm"}) || !slices.Equal(db.Missing, db.Needed) ||
		len(db.Notices) != 1 || "dockvet: "+db.Notices[0]+"\n" != want || !r.MissingData() {
		t.Errorf("the report does not record the missing data: %+v", db)
	}
	code, out2, errOut := run(t, append(args, "--fail-on-missing-data")...)
	if code != ExitError || withoutScanTime(out2) != withoutScanTime(out) || !strings.HasSuffix(errOut, "dockvet: no vulnerability database: the report is incomplete (--fail-on-missing-data)\n") {
		t.Errorf("--fail-on-missing-data: exit %d, stderr %q, report written: %v", code, errOut, out2 == out)
	}

	// A database with Go data only leaves the Debian packages unchecked.
	cache := t.TempDir()
	if code, _, errOut := run(t, "db", "import", "../vulndb/testdata/go-vulndb/all.zip", "--cache-dir", cache); code != ExitOK {
		t.Fatalf("db import: %s", errOut)
	}
	code, out, errOut = run(t, "image", "docker-archive:"+p, "--format", "json", "--config", os.DevNull, "--fail-on", "none", "-q", "--cache-dir", cache, "--fail-on-missing-data")
	r = jsonReport(t, out)
	db = r.Scan.VulnerabilityDatabase
	if code != ExitError || db == nil || db.Status != finding.DatabasePartial || !slices.Equal(db.Missing, []string{"Debian", "PyPI", "npm"}) ||
		len(db.Ecosystems) != 1 || db.Ecosystems[0].Name != "Go" || db.Ecosystems[0].Records == 0 ||
		!strings.Contains(errOut, "has no Debian, PyPI, npm data") || !strings.HasSuffix(errOut, "no vulnerability data for Debian, PyPI, npm: the report is incomplete (--fail-on-missing-data)\n") {
		t.Errorf("partial database: exit %d, stderr %q, %+v", code, errOut, db)
	}
}

// TestImageStaleDatabase: a database older than --db-max-age is said on
// standard error, even with -q, and recorded in the report; none turns
// the check off.
func TestImageStaleDatabase(t *testing.T) {
	cache := vulnCache(t)
	p := vulnImage(t, "12")
	code, out, errOut := run(t, "image", "docker-archive:"+p, "--format", "json", "--config", os.DevNull, "--fail-on", "none", "-q",
		"--cache-dir", cache, "--db-max-age", "1ns")
	if code != ExitOK || !strings.Contains(errOut, "more than --db-max-age") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	db := jsonReport(t, out).Scan.VulnerabilityDatabase
	if db == nil || !db.Stale || db.MaxAge == "" || db.Status != finding.DatabaseComplete {
		t.Errorf("the report does not record the stale database: %+v", db)
	}
	code, out, errOut = run(t, "image", "docker-archive:"+p, "--format", "json", "--config", os.DevNull, "--fail-on", "none", "-q",
		"--cache-dir", cache, "--db-max-age", "none")
	if db := jsonReport(t, out).Scan.VulnerabilityDatabase; code != ExitOK || errOut != "" || db.Stale {
		t.Errorf("--db-max-age none: exit %d, stderr %q, %+v", code, errOut, db)
	}
}
