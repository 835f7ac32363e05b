package inventory

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/fuzztest"
)

// Every parser of package metadata reads files an image author controls.
// The fuzz targets check that no input panics or hangs, and that what a
// parser returns is well formed. Run one with, for example:
//
//	go test ./internal/inventory -run '^$' -fuzz FuzzDpkgStatus -fuzztime 30s

func seedFiles(f *testing.F, paths ...string) {
	f.Helper()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// wellFormed fails on packages a parser should never return.
func wellFormed(t *testing.T, ps []Package) {
	t.Helper()
	for _, p := range ps {
		if p.Name == "" || p.Version == "" || p.Type == "" {
			t.Fatalf("package without name, version or type: %+v", p)
		}
	}
}

func FuzzDpkgStatus(f *testing.F) {
	seedFiles(f, "testdata/debian/var/lib/dpkg/status", "testdata/distroless/var/lib/dpkg/status.d/libssl3")
	f.Add([]byte("Package: a\nVersion: 1\nSource: b (\n"))
	f.Add([]byte(" continuation first\nPackage: x\nStatus: install ok\n"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		ps, _ := parseDpkgStatus(b)
		wellFormed(t, ps)
	})
}

func FuzzApkInstalled(f *testing.F) {
	seedFiles(f, "testdata/alpine/lib/apk/db/installed")
	f.Add([]byte("P:a\nV:\n\nP:\nV:1\n"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		ps, _ := parseApkInstalled(b)
		wellFormed(t, ps)
	})
}

func FuzzOSRelease(f *testing.F) {
	seedFiles(f, "testdata/debian/etc/os-release", "testdata/alpine/etc/os-release", "testdata/distroless/etc/os-release")
	f.Add([]byte("ID=\"\\\nVERSION_ID='3.\n"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		for _, p := range osFiles {
			o, _ := OSDetector{}.Detect(Input{Path: p, Reader: bytes.NewReader(b), Size: int64(len(b))})
			_ = o.Ecosystem()
		}
	})
}

// readGzip returns the uncompressed content of a gzip testdata file.
func readGzip(t testing.TB, p string) []byte { return gunzipBytes(t, p) }

func gunzipBytes(f testing.TB, p string) []byte {
	fh, err := os.Open(p)
	if err != nil {
		f.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		f.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzRPMDB feeds the rpm extractor (go-rpmdb behind it) arbitrary
// databases, through an in-memory file or a private temporary one, as
// images do. Hundreds per second: an input that starts like SQLite is
// written to a temporary file and opened by SQLite, and the sqlite seed
// is a real 220 KB database (no smaller one holds rpm's tables).
func FuzzRPMDB(f *testing.F) {
	f.Add(gunzipBytes(f, "testdata/rpm/rpmdb.sqlite.gz"))
	f.Add(gunzipBytes(f, "testdata/rpm/Packages.bdb.gz"))
	f.Add([]byte("SQLite format 3\x00"))
	f.Add(ndbWithBlob(8, make([]byte, 8)))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		for _, name := range []string{"var/lib/rpm/Packages", "var/lib/rpm/rpmdb.sqlite"} {
			ps, _ := RPM{}.Extract(context.Background(), Input{Path: name, Reader: bytes.NewReader(b), Size: int64(len(b)), Mode: 0o644})
			wellFormed(t, ps)
		}
	})
}

func FuzzPythonMetadata(f *testing.F) {
	seedFiles(f, "testdata/app/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
		"testdata/app/usr/lib/python3/dist-packages/wsgiref.egg-info")
	f.Add([]byte("Name: x\nVersion: 1\nLicense: a\n  b\nClassifier: License ::\n"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		p, _ := parsePythonMetadata(b)
		if p != nil {
			wellFormed(t, []Package{*p})
		}
	})
}

func FuzzPackageJSON(f *testing.F) {
	seedFiles(f, "testdata/app/usr/lib/node_modules/npm/node_modules/semver/package.json")
	f.Add([]byte(`{"name":"a","version":"1","license":{"type":"MIT"},"licenses":[{"type":"ISC"},"BSD"]}`))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		p, _ := parsePackageJSON(b)
		if p != nil {
			wellFormed(t, []Package{*p})
		}
	})
}

func FuzzNpmLockfiles(f *testing.F) {
	seedFiles(f, "testdata/app/srv/web/package-lock.json", "testdata/app/srv/yarn-classic/yarn.lock",
		"testdata/app/srv/yarn-berry/yarn.lock", "testdata/app/srv/pnpm/pnpm-lock.yaml")
	f.Add([]byte(`{"lockfileVersion":1,"dependencies":{"a":{"version":"1.0.0","dependencies":{"b":{"version":"2.0.0"}}}}}`))
	f.Add([]byte("lockfileVersion: 5.4\npackages:\n  /a/1.0.0_b@2:\n    dev: false\n  /@s/c/2.0.0:\n    dev: true\n"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		for _, parse := range []func([]byte) ([]Package, error){parsePackageLock, parseYarnLock, parsePnpmLock} {
			ps, _ := parse(b)
			wellFormed(t, ps)
		}
	})
}

func FuzzComposerInstalled(f *testing.F) {
	seedFiles(f, "testdata/app/srv/php/vendor/composer/installed.json")
	f.Add([]byte(`[{"name":"a/b","version":"v1.0.0","license":"MIT"}]`))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		ps, _ := parseComposerInstalled(b)
		wellFormed(t, ps)
	})
}

func FuzzDepsJSON(f *testing.F) {
	seedFiles(f, "testdata/app/srv/dotnet/webapp.deps.json")
	f.Add([]byte(`{"libraries":{"/":{"type":"package"},"a/":{"type":"Package"}}}`))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		ps, _ := parseDepsJSON(b)
		wellFormed(t, ps)
	})
}

func FuzzGemspec(f *testing.F) {
	seedFiles(f, "testdata/app/srv/ruby/gems/3.2.0/specifications/rack-2.2.3.gemspec",
		"testdata/app/srv/ruby/gems/3.2.0/specifications/default/json-2.6.3.gemspec")
	f.Add([]byte("  spec.name = 'x'\n  spec.version = Gem::Version.new('1.0')\n  spec.license = 'MIT'\n"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		if p := parseGemspec(b); p != nil {
			wellFormed(t, []Package{*p})
		}
	})
}

// FuzzJarMetadata covers the two text formats inside Java archives.
func FuzzJarMetadata(f *testing.F) {
	f.Add([]byte("#Generated by Maven\ngroupId=commons-cli\nartifactId=commons-cli\nversion=1.5.0\n"))
	f.Add([]byte("Manifest-Version: 1.0\r\nBundle-SymbolicName: javax.inject;singleton:=true\r\nBundle-Version: 1.0.0\r\nImplementation-Vendor-Id: org.example\r\n long-continuation\r\n\r\nName: x\r\n"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		if p := parsePomProperties(b); p != nil {
			wellFormed(t, []Package{*p})
		}
		if p := manifestPackage(parseManifest(b), "lib/app-1.0.jar"); p != nil {
			wellFormed(t, []Package{*p})
		}
	})
}

// storedZip is a zip of the given files, stored (not deflated), so that
// the mutator reaches the bytes of what it holds, nested jars included.
func storedZip(f *testing.F, files ...string) []byte {
	f.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(files); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: files[i], Method: zip.Store})
		if err != nil {
			f.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzJavaArchive feeds whole archives: a jar with a manifest and Maven
// properties, a war nesting it, and archives nesting the fuzzed bytes as
// a jar. The seeds are built small (hundreds of bytes, stored): the real
// jars of testdata (53 KB, 9 KB deflated) made every execution inflate
// and walk tens of kilobytes twice, and every input the fuzzer minimised
// that large (98 executions per CPU second).
func FuzzJavaArchive(f *testing.F) {
	jar := storedZip(f,
		"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nBundle-SymbolicName: javax.inject\r\nBundle-Version: 1.0.0\r\n\r\n",
		"META-INF/maven/commons-cli/commons-cli/pom.properties", "groupId=commons-cli\nartifactId=commons-cli\nversion=1.5.0\n")
	f.Add(jar)
	f.Add(storedZip(f, "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n", "WEB-INF/lib/atinject-1.0.jar", string(jar)))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		ps, _ := JavaArchive{}.Extract(context.Background(), Input{Path: "app.war", Reader: bytes.NewReader(b), Size: int64(len(b))})
		wellFormed(t, ps)
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("WEB-INF/lib/inner-1.0.jar")
		w.Write(b)
		w, _ = zw.Create("META-INF/maven/g/a/pom.properties")
		w.Write(b)
		zw.Close()
		ps, _ = JavaArchive{}.Extract(context.Background(), Input{Path: "outer.ear", Reader: bytes.NewReader(buf.Bytes()), Size: int64(buf.Len())})
		wellFormed(t, ps)
	})
}

// FuzzExecutables feeds the Go and Rust binary readers arbitrary bytes
// presented as an executable.
func FuzzExecutables(f *testing.F) {
	seedFiles(f, "testdata/cargo/rust-app")
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte("MZ\x90\x00"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		for _, e := range []Extractor{GoBinary{}, CargoAuditable{}} {
			ps, _ := e.Extract(context.Background(), Input{Path: "bin/x", Reader: bytes.NewReader(b), Size: int64(len(b)), Mode: 0o755})
			wellFormed(t, ps)
		}
	})
}

func FuzzCargoAuditData(f *testing.F) {
	f.Add([]byte(`{"packages":[{"name":"a","version":"1.0.0","source":"crates.io"},{"name":"b","version":"1","kind":"build"}]}`))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		ps, _ := parseAuditData(b)
		wellFormed(t, ps)
	})
}

// FuzzScannerPaths drives Wants and File with arbitrary paths, as a
// walker would from a tar stream an attacker wrote.
func FuzzScannerPaths(f *testing.F) {
	f.Add("var/lib/dpkg/status", []byte("Package: a\nVersion: 1\n"))
	f.Add("/../../etc/os-release", []byte("ID=debian\nVERSION_ID=12\n"))
	f.Add("a/node_modules/@s/b/package.json", []byte(`{"name":"@s/b","version":"1"}`))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, p string, b []byte) {
		defer fuzztest.Budget(t)()
		s := NewScanner()
		mode := os.FileMode(0o644)
		if s.Wants(p, mode, int64(len(b))) {
			if err := s.File(context.Background(), Layer{Index: 1}, Input{Path: p, Reader: bytes.NewReader(b), Size: int64(len(b)), Mode: mode}); err != nil {
				t.Fatal(err)
			}
		}
		s.Delete(Layer{Index: 2}, filepath.Dir(p))
		r := s.Result()
		for _, pk := range r.Packages {
			if strings.HasPrefix(pk.Path, "/") || strings.HasPrefix(pk.Path, "../") {
				t.Fatalf("package path %q escapes the root", pk.Path)
			}
		}
	})
}

func FuzzCopyright(f *testing.F) {
	seedFiles(f, "testdata/debian/usr/share/doc/libssl3/copyright", "testdata/debian/usr/share/doc/base-files/copyright",
		"testdata/debian/usr/share/doc/libblkid1/copyright")
	f.Add([]byte("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+ with Foo exception or\n"))
	f.Add([]byte("see /usr/share/common-licenses/GPL and version 2 of the License, or any later version"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		for _, l := range ParseCopyright(b) {
			if l == "" {
				t.Fatal("an empty licence")
			}
		}
	})
}
