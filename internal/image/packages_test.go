package image

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/testenv"
)

// treeFiles reads a directory of the inventory package's testdata (real
// package databases and manifests) as layer entries.
func treeFiles(t testing.TB, root string) []testenv.File {
	t.Helper()
	var out []testenv.File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, testenv.File{Path: filepath.ToSlash(rel), Body: b})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gunzipFile(t testing.TB, p string) []byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goBinary builds a real Go program that depends on golang.org/x/text
// v0.3.0, vendored so that the build needs no network.
func goBinary(t testing.TB) []byte {
	t.Helper()
	src := t.TempDir()
	for name, body := range map[string]string{
		"go.mod":             "module example.com/textapp\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.0\n",
		"main.go":            "package main\n\nimport \"golang.org/x/text/width\"\n\nfunc main() { println(width.Wide) }\n",
		"vendor/modules.txt": "# golang.org/x/text v0.3.0\n## explicit\ngolang.org/x/text/width\n",
		"vendor/golang.org/x/text/width/width.go": "package width\n\n// Wide stands in for the real package's API.\nconst Wide = 2\n",
	} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(src, "textapp")
	cmd := exec.Command("go", "build", "-mod=vendor", "-trimpath", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// layerSpec is one layer of a package test image, with the whiteouts it
// applies.
type layerSpec struct {
	by      string
	files   []testenv.File
	deletes []string
}

// packageImage builds an image from the layers.
func packageImage(t testing.TB, layers []layerSpec) v1.Image {
	t.Helper()
	var ls []v1.Layer
	var by []string
	for _, l := range layers {
		files := slices.Clone(l.files)
		for _, d := range l.deletes {
			files = append(files, testenv.File{Path: d, Whiteout: true})
		}
		ls = append(ls, testenv.Layer(t, files...))
		by = append(by, l.by)
	}
	return testenv.Image(t, v1.Config{User: "10001"}, ls, by...)
}

// inOrder is the reference: the same files given to inventory.Scanner
// layer by layer, base first, as a directory walker would.
func inOrder(t testing.TB, layers []layerSpec, diff []v1.Hash) *inventory.Result {
	t.Helper()
	s := inventory.NewScanner()
	for i, l := range layers {
		layer := inventory.Layer{Index: i, Digest: diff[i].String()}
		for _, d := range l.deletes {
			s.Delete(layer, d)
		}
		for _, f := range l.files {
			mode := os.FileMode(f.Mode)
			if mode == 0 {
				mode = 0o644
			}
			if !s.Wants(f.Path, mode, int64(len(f.Body))) {
				continue
			}
			if err := s.File(context.Background(), layer, inventory.Input{Path: f.Path, Reader: bytes.NewReader(f.Body), Size: int64(len(f.Body)), Mode: mode}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s.Result()
}

func packageLines(r *inventory.Result) []string {
	var out []string
	for _, p := range r.Packages {
		out = append(out, fmt.Sprintf("%s %s %s %s layer %d %s @%s", p.Type, p.Name, p.Version, p.Ecosystem, p.LayerIndex, p.LayerDigest, p.Path))
	}
	return out
}

// inventoryOf walks ref with the package analyzer alone.
func inventoryOf(t *testing.T, ref string, o Options) (*inventory.Result, *View) {
	t.Helper()
	img, err := Open(context.Background(), ref, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	pk := NewPackages(context.Background())
	v, err := Walk(context.Background(), img, o, pk)
	if err != nil {
		t.Fatal(err)
	}
	return pk.Result(), v
}

// TestPackagesInLayers takes the inventory of a Debian image through every
// source: each package with the layer that introduced it (an apt-get
// install that rewrites the status file keeps the base layer's packages in
// the base layer), a deleted package gone, the Go binary's modules and
// toolchain; the same inventory as the Scanner fed in order.
func TestPackagesInLayers(t *testing.T) {
	status, err := os.ReadFile("../inventory/testdata/debian/var/lib/dpkg/status")
	if err != nil {
		t.Fatal(err)
	}
	stanzas := strings.SplitAfter(string(status), "\n\n")
	base := treeFiles(t, "../inventory/testdata/debian")
	for i := range base {
		if base[i].Path == "var/lib/dpkg/status" {
			base[i].Body = []byte(strings.Join(stanzas[:2], "")) // libssl3, libblkid1
		}
	}
	layers := []layerSpec{
		{by: "ADD rootfs.tar /", files: base},
		{by: "RUN /bin/sh -c apt-get install -y lvm2 openssl nodejs python3-cryptography # buildkit",
			files: append([]testenv.File{{Path: "var/lib/dpkg/status", Body: status}}, treeFiles(t, "../inventory/testdata/app")...)},
		{by: "COPY textapp /usr/local/bin/ # buildkit",
			files:   []testenv.File{{Path: "usr/local/bin/textapp", Mode: 0o755, Body: goBinary(t)}},
			deletes: []string{"usr/lib/node_modules/npm/node_modules/ms", "srv/java"}},
	}
	img := packageImage(t, layers)
	cf, _ := img.ConfigFile()
	diff := cf.RootFS.DiffIDs
	want := packageLines(inOrder(t, layers, diff))
	goVersion := "v" + strings.TrimPrefix(runtime.Version(), "go")
	for _, w := range []string{
		fmt.Sprintf("deb libssl3 3.0.19-1~deb12u2 Debian:12 layer 0 %s @var/lib/dpkg/status", diff[0]),
		fmt.Sprintf("deb libdevmapper1.02.1 2:1.02.185-2 Debian:12 layer 1 %s @var/lib/dpkg/status", diff[1]),
		fmt.Sprintf("npm debug 4.3.5 npm layer 1 %s @usr/lib/node_modules/npm/node_modules/debug/package.json", diff[1]),
		fmt.Sprintf("pypi cryptography 38.0.4 PyPI layer 1 %s @usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/METADATA", diff[1]),
		fmt.Sprintf("golang golang.org/x/text v0.3.0 Go layer 2 %s @usr/local/bin/textapp", diff[2]),
		fmt.Sprintf("golang stdlib %s Go layer 2 %s @usr/local/bin/textapp", goVersion, diff[2]),
	} {
		if !slices.Contains(want, w) {
			t.Errorf("the reference inventory lacks %q:\n%s", w, strings.Join(want, "\n"))
		}
	}
	for _, gone := range []string{"npm ms ", "@srv/java/"} {
		if slices.ContainsFunc(want, func(l string) bool { return strings.Contains(l, gone) }) {
			t.Errorf("a deleted package (%q) is listed", gone)
		}
	}

	archive := writeDockerArchive(t, img, "dockvet-test/packages:1")
	dir := writeLayout(t, imageIndex(img))
	check := func(t *testing.T, ref string) {
		r, v := inventoryOf(t, ref, Options{})
		if got := packageLines(r); !slices.Equal(got, want) {
			t.Errorf("inventory:\n got %q\nwant %q", got, want)
		}
		if r.OS == nil || r.OS.Ecosystem() != "Debian:12" || len(r.Errors) != 0 || len(v.Skipped) != 0 {
			t.Errorf("os %+v errors %v skipped %v", r.OS, r.Errors, v.Skipped)
		}
	}
	for _, ref := range []string{"docker-archive:" + archive, "oci:" + dir} {
		t.Run(ref[:strings.IndexByte(ref, ':')], func(t *testing.T) { check(t, ref) })
	}
	t.Run("docker", func(t *testing.T) {
		c := testenv.Docker(t)
		testenv.Load(t, c, img, "dockvet-test/packages:engine")
		check(t, "docker:dockvet-test/packages:engine")
	})
	// An executable larger than what the walk holds in memory is not read,
	// and the view says so.
	t.Run("too large", func(t *testing.T) {
		r, v := inventoryOf(t, "docker-archive:"+archive, Options{MaxWholeFile: 64 << 10})
		for _, p := range r.Packages {
			if p.Type == inventory.TypeGolang {
				t.Errorf("listed from a file that was not read: %s", p.Name)
			}
		}
		if len(v.Skipped) != 1 || v.Skipped[0].File.Path() != "/usr/local/bin/textapp" || v.Skipped[0].Analyzer != "package inventory" {
			t.Errorf("skipped %+v", v.Skipped)
		}
	})
}

// TestRPMInImage reads the rpm databases rpm itself wrote
// (../inventory/testdata/rpm): the Berkeley DB through an anonymous
// in-memory file, with no temporary directory to fall back on.
func TestRPMInImage(t *testing.T) {
	rocky := "NAME=\"Rocky Linux\"\nVERSION_ID=\"9.3\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n"
	for _, tc := range []struct{ name, db, gz string }{
		{"bdb", "var/lib/rpm/Packages", "../inventory/testdata/rpm/Packages.bdb.gz"},
		{"sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite", "../inventory/testdata/rpm/rpmdb.sqlite.gz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			layers := []layerSpec{{by: "ADD rootfs.tar /", files: []testenv.File{
				{Path: "etc/os-release", Body: []byte(rocky)},
				{Path: tc.db, Body: gunzipFile(t, tc.gz)},
			}}}
			img := packageImage(t, layers)
			archive := writeDockerArchive(t, img, "dockvet-test/rpm:1")
			if tc.name == "bdb" {
				t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
			}
			r, _ := inventoryOf(t, "docker-archive:"+archive, Options{})
			cf, _ := img.ConfigFile()
			var got []string
			for _, p := range r.Packages {
				got = append(got, fmt.Sprintf("%s %s %s layer %d", p.Name, p.Version, p.Ecosystem, p.LayerIndex))
			}
			want := []string{"bash 5.1.8-6.el9_1 Rocky Linux:9 layer 0", "openssl 1:3.0.7-24.el9 Rocky Linux:9 layer 0", "openssl-libs 1:3.0.7-24.el9 Rocky Linux:9 layer 0"}
			if !slices.Equal(got, want) || len(r.Errors) != 0 {
				t.Errorf("packages %q errors %v", got, r.Errors)
			}
			for _, p := range r.Packages {
				if p.Path != tc.db || p.LayerDigest != cf.RootFS.DiffIDs[0].String() || p.Name == "openssl-libs" && p.SourceName != "openssl" {
					t.Errorf("package %+v", p)
				}
			}
		})
	}
}
