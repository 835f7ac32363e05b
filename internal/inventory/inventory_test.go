package inventory

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// pkgLine is the short form tests compare: type, name, version, source,
// ecosystem, purl, path.
func pkgLine(p Package) string {
	s := fmt.Sprintf("%s %s %s", p.Type, p.Name, p.Version)
	if p.SourceName != "" || p.SourceVersion != "" {
		s += fmt.Sprintf(" src=%s@%s", p.SourceName, p.SourceVersion)
	}
	return s + fmt.Sprintf(" eco=%q %s @%s", p.Ecosystem, p.PURL, p.Path)
}

func scanDir(t *testing.T, dir string) *Result {
	t.Helper()
	r, err := ScanDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func lines(r *Result) []string {
	var out []string
	for _, p := range r.Packages {
		out = append(out, pkgLine(p))
	}
	return out
}

func checkLines(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("packages:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

func noErrors(t *testing.T, r *Result) {
	t.Helper()
	for _, e := range r.Errors {
		t.Errorf("unexpected file error: %v", e)
	}
}

// TestDebian reads paragraphs of a real Debian 12 status file: binary
// packages whose source differs by name (libssl3 from openssl) and by
// version (libdevmapper from lvm2 2.03.16-2), an epoch, and a removed
// package that dpkg still lists with its configuration files.
func TestDebian(t *testing.T) {
	r := scanDir(t, "testdata/debian")
	noErrors(t, r)
	if r.OS == nil || r.OS.ID != "debian" || r.OS.VersionID != "12" || r.OS.Path != "etc/os-release" || r.OS.Distroless {
		t.Fatalf("OS %+v", r.OS)
	}
	checkLines(t, lines(r), []string{
		`deb base-files 12.4+deb12u11 eco="Debian:12" pkg:deb/debian/base-files@12.4%2Bdeb12u11?arch=amd64&distro=debian-12 @var/lib/dpkg/status`,
		`deb libblkid1 2.38.1-5+deb12u3 src=util-linux@ eco="Debian:12" pkg:deb/debian/libblkid1@2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux @var/lib/dpkg/status`,
		`deb libdevmapper1.02.1 2:1.02.185-2 src=lvm2@2.03.16-2 eco="Debian:12" pkg:deb/debian/libdevmapper1.02.1@2:1.02.185-2?arch=amd64&distro=debian-12&upstream=lvm2 @var/lib/dpkg/status`,
		`deb libssl3 3.0.19-1~deb12u2 src=openssl@ eco="Debian:12" pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl @var/lib/dpkg/status`,
		`deb openssl 3.0.19-1~deb12u2 eco="Debian:12" pkg:deb/debian/openssl@3.0.19-1~deb12u2?arch=amd64&distro=debian-12 @var/lib/dpkg/status`,
	})
	for _, p := range r.Packages {
		if p.LayerIndex != NoLayer {
			t.Errorf("%s: layer %d outside an image", p.Name, p.LayerIndex)
		}
	}
	if n, v := r.Packages[2].Source(); n != "lvm2" || v != "2.03.16-2" {
		t.Errorf("Source() = %s %s", n, v)
	}
	if n, v := r.Packages[0].Source(); n != "base-files" || v != "12.4+deb12u11" {
		t.Errorf("Source() without a Source field = %s %s", n, v)
	}
}

func TestDistroless(t *testing.T) {
	r := scanDir(t, "testdata/distroless")
	noErrors(t, r)
	if r.OS == nil || !r.OS.Distroless || r.OS.Ecosystem() != "Debian:12" {
		t.Fatalf("OS %+v", r.OS)
	}
	var names []string
	for _, p := range r.Packages {
		names = append(names, p.Name+"@"+p.Path)
		if p.Ecosystem != "Debian:12" {
			t.Errorf("%s: ecosystem %q", p.Name, p.Ecosystem)
		}
	}
	want := []string{"base-files@var/lib/dpkg/status.d/base-files", "libapt-pkg6.0@var/lib/dpkg/status.d/libapt-pkg6.0",
		"libssl3@var/lib/dpkg/status.d/libssl3", "tzdata@var/lib/dpkg/status.d/tzdata"}
	if !slices.Equal(names, want) {
		t.Errorf("got %v, want %v (md5sums files are not packages)", names, want)
	}
	if r.Packages[2].SourceName != "openssl" || r.Packages[1].SourceName != "apt" {
		t.Errorf("sources %q %q", r.Packages[2].SourceName, r.Packages[1].SourceName)
	}
}

func TestAlpine(t *testing.T) {
	r := scanDir(t, "testdata/alpine")
	noErrors(t, r)
	if r.OS == nil || r.OS.Ecosystem() != "Alpine:v3.20" || r.OS.Path != "etc/os-release" {
		t.Fatalf("OS %+v", r.OS)
	}
	checkLines(t, lines(r), []string{
		`apk busybox 1.36.1-r29 eco="Alpine:v3.20" pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3 @lib/apk/db/installed`,
		`apk libcrypto3 3.3.2-r0 src=openssl@ eco="Alpine:v3.20" pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=alpine-3.20.3 @lib/apk/db/installed`,
		`apk musl 1.2.5-r0 eco="Alpine:v3.20" pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3 @lib/apk/db/installed`,
	})
	if got := r.Packages[1].Licenses; !slices.Equal(got, []string{"Apache-2.0"}) {
		t.Errorf("licenses %v", got)
	}
}

// gunzip writes the gzipped testdata file src to dst.
func gunzip(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const rockyOSRelease = `NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
`

// moduleDir is where the go command keeps a dependency's files.
func moduleDir(t *testing.T, mod string) string {
	t.Helper()
	out, err := exec.Command(goTool(t), "list", "-m", "-f", "{{.Dir}}", mod).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", mod, err)
	}
	return strings.TrimSpace(string(out))
}

func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command: %v", err)
	}
	return p
}

// TestRPM reads one database of each format. The sqlite and Berkeley DB
// files were made by rpm itself (testdata/rpm/generate.sh); Debian's rpm
// cannot write ndb, so the ndb case reads the SUSE database go-rpmdb keeps
// in its own testdata.
func TestRPM(t *testing.T) {
	wantOurs := []string{
		`rpm bash 5.1.8-6.el9_1 eco="Rocky Linux:9" pkg:rpm/rocky/bash@5.1.8-6.el9_1?arch=x86_64&distro=rocky-9.3 @DB`,
		`rpm openssl 1:3.0.7-24.el9 eco="Rocky Linux:9" pkg:rpm/rocky/openssl@3.0.7-24.el9?arch=x86_64&distro=rocky-9.3&epoch=1 @DB`,
		`rpm openssl-libs 1:3.0.7-24.el9 src=openssl@ eco="Rocky Linux:9" pkg:rpm/rocky/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=rocky-9.3&epoch=1 @DB`,
	}
	for _, tc := range []struct{ name, gz, db string }{
		{"sqlite", "testdata/rpm/rpmdb.sqlite.gz", "var/lib/rpm/rpmdb.sqlite"},
		{"sqlite-sysimage", "testdata/rpm/rpmdb.sqlite.gz", "usr/lib/sysimage/rpm/rpmdb.sqlite"},
		{"bdb", "testdata/rpm/Packages.bdb.gz", "var/lib/rpm/Packages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			gunzip(t, tc.gz, filepath.Join(root, tc.db))
			writeFile(t, filepath.Join(root, "etc/os-release"), rockyOSRelease)
			r := scanDir(t, root)
			noErrors(t, r)
			var want []string
			for _, w := range wantOurs {
				want = append(want, strings.Replace(w, "@DB", "@"+tc.db, 1))
			}
			checkLines(t, lines(r), want)
			for _, p := range r.Packages {
				if p.Name == "openssl-libs" && (!slices.Equal(p.Licenses, []string{"Apache-2.0"}) || p.Epoch != 1) {
					t.Errorf("openssl-libs %+v", p)
				}
			}
		})
	}
	t.Run("ndb", func(t *testing.T) {
		root := t.TempDir()
		src, err := os.ReadFile(filepath.Join(moduleDir(t, "github.com/knqyf263/go-rpmdb"), "pkg/testdata/sle15-bci/Packages.db"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, "usr/lib/sysimage/rpm/Packages.db"), string(src))
		writeFile(t, filepath.Join(root, "etc/os-release"), "NAME=\"SLES\"\nVERSION=\"15-SP3\"\nVERSION_ID=\"15.3\"\nPRETTY_NAME=\"SUSE Linux Enterprise Server 15 SP3\"\nID=\"sles\"\n")
		r := scanDir(t, root)
		noErrors(t, r)
		if len(r.Packages) < 30 {
			t.Fatalf("only %d packages from the SLE 15 database", len(r.Packages))
		}
		found := false
		for _, p := range r.Packages {
			if p.Type != TypeRPM || p.Ecosystem != "SUSE:SUSE Linux Enterprise Server 15 SP3" || !strings.HasPrefix(p.PURL, "pkg:rpm/opensuse/") {
				t.Fatalf("package %s", pkgLine(p))
			}
			if p.Name == "libreadline7" {
				found = p.Version == "7.0-19.6.1" && p.SourceName == "bash" && p.SourceVersion == "4.4-19.6.1"
			}
		}
		if !found {
			t.Error("libreadline7 7.0 built from bash 4.4 not listed")
		}
	})
	t.Run("corrupt", func(t *testing.T) {
		root := t.TempDir()
		writeFile(t, filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"), "SQLite format 3\x00 but nothing else")
		writeFile(t, filepath.Join(root, "var/lib/rpm/Packages"), strings.Repeat("\x00", 4096))
		r := scanDir(t, root)
		if len(r.Packages) != 0 || len(r.Errors) != 2 {
			t.Fatalf("packages %v errors %v", r.Packages, r.Errors)
		}
		for _, e := range r.Errors {
			if e.Extractor != "rpm" || !strings.Contains(e.Err, "rpm database") {
				t.Errorf("error %v", e)
			}
		}
	})
}

// buildGoBinary builds a real Go program that depends on
// golang.org/x/text v0.3.0 (a release with known advisories), vendored so
// that the build needs no network.
func buildGoBinary(t *testing.T, out string) {
	t.Helper()
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "go.mod"), "module example.com/textapp\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.0\n")
	writeFile(t, filepath.Join(src, "main.go"), "package main\n\nimport \"golang.org/x/text/width\"\n\nfunc main() { println(width.Wide) }\n")
	writeFile(t, filepath.Join(src, "vendor/modules.txt"), "# golang.org/x/text v0.3.0\n## explicit\ngolang.org/x/text/width\n")
	writeFile(t, filepath.Join(src, "vendor/golang.org/x/text/width/width.go"), "package width\n\n// Wide stands in for the real package's API.\nconst Wide = 2\n")
	cmd := exec.Command(goTool(t), "build", "-mod=vendor", "-trimpath", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
}

func TestGoBinary(t *testing.T) {
	root := t.TempDir()
	buildGoBinary(t, filepath.Join(root, "usr/local/bin/textapp"))
	// A script is executable but no binary; a non-executable file with
	// Go's bytes is not a program anyone runs.
	writeFile(t, filepath.Join(root, "usr/local/bin/run.sh"), "#!/bin/sh\n"+strings.Repeat("# padding\n", 100))
	os.Chmod(filepath.Join(root, "usr/local/bin/run.sh"), 0o755)
	r := scanDir(t, root)
	noErrors(t, r)
	v, ok := goToolchainVersion(runtime.Version())
	if !ok {
		t.Skipf("toolchain %s has no release version", runtime.Version())
	}
	checkLines(t, lines(r), []string{
		`golang golang.org/x/text v0.3.0 eco="Go" pkg:golang/golang.org/x/text@v0.3.0 @usr/local/bin/textapp`,
		fmt.Sprintf(`golang stdlib %s eco="Go" pkg:golang/stdlib@%s @usr/local/bin/textapp`, v, v),
	})
}

func TestGoToolchainVersion(t *testing.T) {
	for in, want := range map[string]string{
		"go1.22.1":                 "v1.22.1",
		"go1.21":                   "v1.21.0",
		"go1.26.8 X:nodwarf5":      "v1.26.8",
		"go1.21rc2":                "v1.21.0-rc.2",
		"go1.22.0beta1":            "v1.22.0-beta.1",
		"devel go1.23-abc1234":     "",
		"":                         "",
		"gox":                      "",
		"go1.20.14 X:boringcrypto": "v1.20.14",
	} {
		got, ok := goToolchainVersion(in)
		if got != want || ok != (want != "") {
			t.Errorf("goToolchainVersion(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestCargoAuditable(t *testing.T) {
	root := t.TempDir()
	b, err := os.ReadFile("testdata/cargo/rust-app")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "app/rust-app"), string(b))
	os.Chmod(filepath.Join(root, "app/rust-app"), 0o755)
	r := scanDir(t, root)
	noErrors(t, r)
	// cc is a build dependency and rust-app the local root crate.
	checkLines(t, lines(r), []string{
		`cargo libc 0.2.150 eco="crates.io" pkg:cargo/libc@0.2.150 @app/rust-app`,
		`cargo smallvec 1.6.0 eco="crates.io" pkg:cargo/smallvec@1.6.0 @app/rust-app`,
		`cargo time 0.1.45 eco="crates.io" pkg:cargo/time@0.1.45 @app/rust-app`,
	})
}

// TestLanguagePackages reads real files copied from installed software
// (npm's own node_modules, Debian's Python packages, Debian's jars) and
// lockfiles and manifests in the formats their tools write.
func TestLanguagePackages(t *testing.T) {
	r := scanDir(t, "testdata/app")
	noErrors(t, r)
	if r.OS != nil {
		t.Errorf("OS %+v without a release file", r.OS)
	}
	checkLines(t, lines(r), []string{
		`composer guzzlehttp/psr7 2.4.3 eco="Packagist" pkg:composer/guzzlehttp/psr7@2.4.3 @srv/php/vendor/composer/installed.json`,
		`composer symfony/http-kernel 5.4.19 eco="Packagist" pkg:composer/symfony/http-kernel@5.4.19 @srv/php/vendor/composer/installed.json`,
		`gem json 2.6.3 eco="RubyGems" pkg:gem/json@2.6.3 @srv/ruby/gems/3.2.0/specifications/default/json-2.6.3.gemspec`,
		`gem rack 2.2.3 eco="RubyGems" pkg:gem/rack@2.2.3 @srv/ruby/gems/3.2.0/specifications/rack-2.2.3.gemspec`,
		`maven aopalliance 1.0 eco="Maven" pkg:maven/aopalliance@1.0 @srv/java/shop.war!WEB-INF/lib/aopalliance-1.0.jar`,
		`maven aopalliance 1.0 eco="Maven" pkg:maven/aopalliance@1.0 @usr/share/java/aopalliance-1.0.jar`,
		`maven atinject-jsr330-api 1.0.0 eco="Maven" pkg:maven/atinject-jsr330-api@1.0.0 @srv/java/shop.war!WEB-INF/lib/atinject-jsr330-api-1.0.jar`,
		`maven atinject-jsr330-api 1.0.0 eco="Maven" pkg:maven/atinject-jsr330-api@1.0.0 @usr/share/java/atinject-jsr330-api-1.0.jar`,
		`maven commons-cli:commons-cli 1.5.0 eco="Maven" pkg:maven/commons-cli/commons-cli@1.5.0 @usr/share/java/commons-cli-1.5.0.jar`,
		`npm @babel/code-frame 7.12.13 eco="npm" pkg:npm/%40babel/code-frame@7.12.13 @srv/yarn-classic/yarn.lock`,
		`npm @npmcli/agent 2.2.2 eco="npm" pkg:npm/%40npmcli/agent@2.2.2 @usr/lib/node_modules/npm/node_modules/@npmcli/agent/package.json`,
		`npm axios 1.6.0 eco="npm" pkg:npm/axios@1.6.0 @srv/pnpm/pnpm-lock.yaml`,
		`npm debug 4.3.5 eco="npm" pkg:npm/debug@4.3.5 @usr/lib/node_modules/npm/node_modules/debug/package.json`,
		`npm express 4.17.1 eco="npm" pkg:npm/express@4.17.1 @srv/web/package-lock.json`,
		`npm follow-redirects 1.15.3 eco="npm" pkg:npm/follow-redirects@1.15.3 @srv/pnpm/pnpm-lock.yaml`,
		`npm lodash 4.17.20 eco="npm" pkg:npm/lodash@4.17.20 @srv/web/package-lock.json`,
		`npm minimist 1.2.5 eco="npm" pkg:npm/minimist@1.2.5 @srv/yarn-classic/yarn.lock`,
		`npm minimist 1.2.8 eco="npm" pkg:npm/minimist@1.2.8 @srv/yarn-berry/yarn.lock`,
		`npm ms 2.1.3 eco="npm" pkg:npm/ms@2.1.3 @usr/lib/node_modules/npm/node_modules/ms/package.json`,
		`npm npm 10.8.2 eco="npm" pkg:npm/npm@10.8.2 @usr/lib/node_modules/npm/package.json`,
		`npm qs 6.7.0 eco="npm" pkg:npm/qs@6.7.0 @srv/web/package-lock.json`,
		`npm semver 7.6.2 eco="npm" pkg:npm/semver@7.6.2 @usr/lib/node_modules/npm/node_modules/semver/package.json`,
		`nuget Newtonsoft.Json 12.0.1 eco="NuGet" pkg:nuget/Newtonsoft.Json@12.0.1 @srv/dotnet/webapp.deps.json`,
		`nuget System.Text.Encodings.Web 4.5.0 eco="NuGet" pkg:nuget/System.Text.Encodings.Web@4.5.0 @srv/dotnet/webapp.deps.json`,
		`pypi PyYAML 6.0 eco="PyPI" pkg:pypi/pyyaml@6.0 @usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA`,
		`pypi cryptography 38.0.4 eco="PyPI" pkg:pypi/cryptography@38.0.4 @usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/METADATA`,
		`pypi oauthlib 3.2.2 eco="PyPI" pkg:pypi/oauthlib@3.2.2 @usr/lib/python3/dist-packages/oauthlib-3.2.2.egg-info/PKG-INFO`,
		`pypi wsgiref 0.1.2 eco="PyPI" pkg:pypi/wsgiref@0.1.2 @usr/lib/python3/dist-packages/wsgiref.egg-info`,
	})
	licenses := map[string][]string{}
	for _, p := range r.Packages {
		licenses[p.Name] = p.Licenses
	}
	for name, want := range map[string][]string{
		"cryptography":            {"BSD-3-Clause OR Apache-2.0"},
		"PyYAML":                  {"MIT"},
		"semver":                  {"ISC"},
		"rack":                    {"MIT"},
		"guzzlehttp/psr7":         {"MIT"},
		"wsgiref":                 {"PSF or ZPL"},
		"lodash":                  {"MIT"},
		"npm":                     {"Artistic-2.0"},
		"commons-cli:commons-cli": nil,
	} {
		if !slices.Equal(licenses[name], want) {
			t.Errorf("%s licenses %q, want %q", name, licenses[name], want)
		}
	}
}

// TestLockfileShadowedByNodeModules: a project with its node_modules
// installed lists the installed packages, not its lockfile a second time.
func TestLockfileShadowedByNodeModules(t *testing.T) {
	root := t.TempDir()
	lock, err := os.ReadFile("testdata/app/srv/web/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "app/package-lock.json"), string(lock))
	writeFile(t, filepath.Join(root, "app/node_modules/lodash/package.json"), `{"name":"lodash","version":"4.17.20","license":"MIT"}`)
	writeFile(t, filepath.Join(root, "other/package-lock.json"), string(lock))
	r := scanDir(t, root)
	noErrors(t, r)
	var got []string
	for _, p := range r.Packages {
		got = append(got, p.Name+"@"+p.Path)
	}
	want := []string{"express@other/package-lock.json", "lodash@app/node_modules/lodash/package.json", "lodash@other/package-lock.json", "qs@other/package-lock.json"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestMalformedFilesAreErrorsNotFailures(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "app/node_modules/bad/package.json"), `{"name": "bad", "version": `)
	writeFile(t, filepath.Join(root, "app/node_modules/good/package.json"), `{"name": "good", "version": "1.0.0"}`)
	writeFile(t, filepath.Join(root, "srv/app.deps.json"), `[1,2`)
	writeFile(t, filepath.Join(root, "lib/broken.jar"), "PK\x03\x04 not really")
	r := scanDir(t, root)
	if len(r.Packages) != 1 || r.Packages[0].Name != "good" {
		t.Errorf("packages %v", r.Packages)
	}
	var got []string
	for _, e := range r.Errors {
		got = append(got, e.Path+" "+e.Extractor)
	}
	want := []string{"app/node_modules/bad/package.json npm", "lib/broken.jar java", "srv/app.deps.json dotnet"}
	if !slices.Equal(got, want) {
		t.Errorf("errors %v, want %v", got, want)
	}
}

func TestScanDirNotADirectory(t *testing.T) {
	if _, err := ScanDir(context.Background(), "testdata/debian/etc/os-release"); err == nil {
		t.Error("a file was accepted as a directory")
	}
	if _, err := ScanDir(context.Background(), "testdata/nonexistent"); err == nil {
		t.Error("a missing directory was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ScanDir(ctx, "testdata/app"); err == nil {
		t.Error("a cancelled scan succeeded")
	}
}

func statusFile(pkgs ...string) string {
	var b strings.Builder
	for _, p := range pkgs {
		name, version, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, "Package: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\n\n", name, version)
	}
	return b.String()
}

func feed(t *testing.T, s *Scanner, layer int, p, content string) {
	t.Helper()
	err := s.File(context.Background(), Layer{Index: layer, Digest: fmt.Sprintf("sha256:%d", layer)},
		Input{Path: p, Reader: strings.NewReader(content), Size: int64(len(content)), Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLayerAttribution drives the Scanner as an image walker does: layer
// by layer, base first, with whiteouts.
func TestLayerAttribution(t *testing.T) {
	s := NewScanner()
	feed(t, s, 0, "/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
	feed(t, s, 0, "var/lib/dpkg/status", statusFile("libc6=2.36-9", "zlib1g=1:1.2.13"))
	// apt-get install curl: the status file is rewritten with one more package.
	feed(t, s, 1, "var/lib/dpkg/status", statusFile("libc6=2.36-9", "zlib1g=1:1.2.13", "curl=7.88.1-10"))
	feed(t, s, 1, "app/node_modules/left-pad/package.json", `{"name":"left-pad","version":"1.3.0"}`)
	feed(t, s, 1, "app/node_modules/old/package.json", `{"name":"old","version":"1.0.0"}`)
	// apt-get upgrade zlib1g; the old module directory is deleted; a new
	// layer writes its own copy of left-pad at the same path.
	feed(t, s, 2, "./var/lib/dpkg/status", statusFile("libc6=2.36-9", "zlib1g=1:1.2.13.dfsg-1", "curl=7.88.1-10"))
	s.Delete(Layer{Index: 2}, "/app/node_modules/old")
	feed(t, s, 3, "app/node_modules/left-pad/package.json", `{"name":"left-pad","version":"1.3.0"}`)
	// An opaque directory in layer 3 hides lower layers only.
	s.Delete(Layer{Index: 3}, "app/node_modules")

	r := s.Result()
	noErrors(t, r)
	var got []string
	for _, p := range r.Packages {
		got = append(got, fmt.Sprintf("%s %s layer %d %s", p.Name, p.Version, p.LayerIndex, p.LayerDigest))
	}
	want := []string{
		"curl 7.88.1-10 layer 1 sha256:1",
		"libc6 2.36-9 layer 0 sha256:0",
		"zlib1g 1:1.2.13.dfsg-1 layer 2 sha256:2",
		"left-pad 1.3.0 layer 3 sha256:3",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if r.Packages[0].Ecosystem != "Debian:12" {
		t.Errorf("ecosystem %q", r.Packages[0].Ecosystem)
	}

	// Rewriting a file with the same package keeps the layer that
	// introduced it.
	s3 := NewScanner()
	feed(t, s3, 0, "app/node_modules/left-pad/package.json", `{"name":"left-pad","version":"1.3.0"}`)
	feed(t, s3, 4, "app/node_modules/left-pad/package.json", `{"name":"left-pad","version":"1.3.0"}`)
	if r := s3.Result(); len(r.Packages) != 1 || r.Packages[0].LayerIndex != 0 {
		t.Errorf("rewritten package: %v", r.Packages)
	}

	// A binary overwritten by a symbolic link (or anything that lists no
	// packages) takes its packages away.
	s4 := NewScanner()
	dir := t.TempDir()
	buildGoBinary(t, filepath.Join(dir, "app"))
	bin, _ := os.ReadFile(filepath.Join(dir, "app"))
	if err := s4.File(context.Background(), Layer{Index: 0}, Input{Path: "usr/bin/app", Reader: strings.NewReader(string(bin)), Size: int64(len(bin)), Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	if len(s4.Result().Packages) != 2 {
		t.Fatalf("binary packages %v", s4.Result().Packages)
	}
	if !s4.Wants("usr/bin/app", os.ModeSymlink|0o777, 0) || s4.Wants("usr/bin", os.ModeDir|0o755, 0) {
		t.Error("a link over a binary must be wanted, a directory not")
	}
	s4.File(context.Background(), Layer{Index: 1}, Input{Path: "usr/bin/app", Reader: strings.NewReader(""), Mode: os.ModeSymlink | 0o777})
	if r := s4.Result(); len(r.Packages) != 0 {
		t.Errorf("packages of a replaced binary: %v", r.Packages)
	}

	// A package file replaced by something that lists nothing is gone.
	s2 := NewScanner()
	feed(t, s2, 0, "lib/apk/db/installed", "P:musl\nV:1.2.5-r0\n\n")
	feed(t, s2, 1, "lib/apk/db/installed", "")
	if r := s2.Result(); len(r.Packages) != 0 {
		t.Errorf("packages of an emptied database: %v", r.Packages)
	}
}

// TestSharedInput: an executable is wanted by the Go and the Rust
// extractors; streamed once, both must see all its bytes.
func TestSharedInput(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "textapp")
	buildGoBinary(t, bin)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	s := NewScanner()
	if !s.Wants("usr/bin/textapp", 0o755, int64(len(b))) {
		t.Fatal("an executable is not wanted")
	}
	err = s.File(context.Background(), Layer{Index: 0}, Input{Path: "usr/bin/textapp", Reader: strings.NewReader(string(b)), Size: int64(len(b)), Mode: 0o755})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Result()
	noErrors(t, r)
	if len(r.Packages) != 2 {
		t.Errorf("packages %v", r.Packages)
	}
	if s.Wants("usr/share/doc/readme.txt", 0o644, 100) {
		t.Error("a text file is wanted")
	}
}

func TestOSEcosystems(t *testing.T) {
	for _, tc := range []struct{ osRelease, want string }{
		{"ID=debian\nVERSION_ID=\"11\"\n", "Debian:11"},
		{"ID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\n", "Ubuntu:22.04:LTS"},
		{"ID=ubuntu\nVERSION_ID=\"23.10\"\nVERSION=\"23.10 (Mantic Minotaur)\"\n", "Ubuntu:23.10"},
		{"ID=alpine\nVERSION_ID=3.19.1\n", "Alpine:v3.19"},
		{"ID=alpine\nVERSION_ID=3.21_alpha20240807\n", "Alpine:v3.21"},
		{"ID=wolfi\nNAME=\"Wolfi\"\n", "Wolfi"},
		{"ID=\"almalinux\"\nVERSION_ID=\"9.4\"\n", "AlmaLinux:9"},
		{"ID=\"opensuse-leap\"\nVERSION_ID=\"15.5\"\nPRETTY_NAME=\"openSUSE Leap 15.5\"\n", "openSUSE:openSUSE Leap 15.5"},
		{"ID=\"rhel\"\nVERSION_ID=\"9.3\"\n", ""},
		{"ID=debian\nPRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\n", ""},
		{"NAME=nothing\n", "-"},
	} {
		o := parseOSRelease([]byte(tc.osRelease))
		if tc.want == "-" {
			if o != nil {
				t.Errorf("%q: %+v", tc.osRelease, o)
			}
			continue
		}
		if got := o.Ecosystem(); got != tc.want {
			t.Errorf("%q: ecosystem %q, want %q", tc.osRelease, got, tc.want)
		}
	}
}

func TestPyPINames(t *testing.T) {
	for in, want := range map[string]string{"PyYAML": "pyyaml", "zope.interface": "zope-interface", "Foo__Bar-.baz": "foo-bar-baz", "a": "a"} {
		if got := NormalizePyPIName(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func TestPackageJSONIsStable(t *testing.T) {
	r := scanDir(t, "testdata/app")
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(scanDir(t, "testdata/app"))
	if string(a) != string(b) {
		t.Error("two scans of the same tree differ")
	}
}
