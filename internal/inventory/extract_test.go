package inventory

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExtractThenPlace drives the Scanner as a streamed image is read:
// every file extracted as it comes, in no particular order, then placed
// base layer first. The inventory must equal that of File in order.
func TestExtractThenPlace(t *testing.T) {
	type version struct {
		layer   int
		path    string
		content string
		deleted bool
	}
	versions := []version{
		{layer: 0, path: "etc/os-release", content: "ID=debian\nVERSION_ID=\"12\"\n"},
		{layer: 0, path: "var/lib/dpkg/status", content: statusFile("libc6=2.36-9", "zlib1g=1:1.2.13")},
		{layer: 1, path: "var/lib/dpkg/status", content: statusFile("libc6=2.36-9", "zlib1g=1:1.2.13", "curl=7.88.1-10")},
		{layer: 1, path: "app/node_modules/old/package.json", content: `{"name":"old","version":"1.0.0"}`},
		{layer: 2, path: "app/node_modules/old/package.json", deleted: true},
		{layer: 2, path: "var/lib/dpkg/status", content: statusFile("libc6=2.36-9", "zlib1g=1:1.2.13.dfsg-1", "curl=7.88.1-10")},
	}
	inOrder := NewScanner()
	for _, v := range versions {
		if v.deleted {
			inOrder.Delete(Layer{Index: v.layer}, v.path)
		} else {
			feed(t, inOrder, v.layer, v.path, v.content)
		}
	}

	late := NewScanner()
	extracted := make([]*Extracted, len(versions))
	for i := len(versions) - 1; i >= 0; i-- { // the stream's order: last layer first
		v := versions[i]
		if v.deleted {
			continue
		}
		x, err := late.Extract(context.Background(), Input{Path: v.path, Reader: strings.NewReader(v.content), Size: int64(len(v.content)), Mode: 0o644})
		if err != nil {
			t.Fatal(err)
		}
		extracted[i] = x
	}
	for i, v := range versions {
		if v.deleted {
			late.Delete(Layer{Index: v.layer}, v.path)
			continue
		}
		late.Place(Layer{Index: v.layer, Digest: fmt.Sprintf("sha256:%d", v.layer)}, v.path, extracted[i])
	}
	a, b := lines(inOrder.Result()), lines(late.Result())
	if len(a) != 3 || !slices.Equal(a, b) {
		t.Errorf("placed late:\n%q\nin order:\n%q", b, a)
	}
	var layers []string
	for _, p := range late.Result().Packages {
		layers = append(layers, fmt.Sprintf("%s %d", p.Name, p.LayerIndex))
	}
	if want := []string{"curl 1", "libc6 0", "zlib1g 2"}; !slices.Equal(layers, want) {
		t.Errorf("layers %v, want %v", layers, want)
	}
	if x := extracted[1].Packages(); len(x) != 2 || x[0].LayerIndex != 0 || x[0].PURL != "" {
		t.Errorf("extracted packages are placed copies, not the Scanner's: %+v", x)
	}
}

func TestReads(t *testing.T) {
	s := NewScanner()
	for _, tc := range []struct {
		path         string
		mode         os.FileMode
		size         int64
		read, random bool
	}{
		{"usr/local/bin/app", 0o755, 4096, true, true},
		{"srv/app.jar", 0o644, 4096, true, true},
		{"var/lib/dpkg/status", 0o644, 4096, true, false},
		{"/etc/os-release", 0o644, 200, true, false},
		{"var/lib/rpm/rpmdb.sqlite", 0o644, 4096, true, false},
		{"usr/share/doc/readme.txt", 0o644, 100, false, false},
		{"usr/local/bin/tiny.sh", 0o755, 100, false, false},
	} {
		read, random := s.Reads(tc.path, tc.mode, tc.size)
		if read != tc.read || random != tc.random {
			t.Errorf("%s: read %v random %v, want %v %v", tc.path, read, random, tc.read, tc.random)
		}
	}
}

// TestRPMInMemory: a Berkeley DB or ndb database goes through an anonymous
// in-memory file and is read with no temporary directory at all; an
// rpmdb.sqlite needs one (SQLite resolves /proc/self/fd links).
func TestRPMInMemory(t *testing.T) {
	bdb := readGzip(t, "testdata/rpm/Packages.bdb.gz")
	sqlite := readGzip(t, "testdata/rpm/rpmdb.sqlite.gz")
	extract := func(path string, b []byte) ([]Package, error) {
		return RPM{}.Extract(context.Background(), Input{Path: path, Reader: bytes.NewReader(b), Size: int64(len(b)), Mode: 0o644})
	}
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	ps, err := extract("var/lib/rpm/Packages", bdb)
	if err != nil || len(ps) != 3 {
		t.Fatalf("Berkeley DB without a temporary directory: %v %v", ps, err)
	}
	if _, err := extract("var/lib/rpm/rpmdb.sqlite", sqlite); err == nil {
		t.Fatal("an rpmdb.sqlite was read without a temporary directory: the test does not test the in-memory path")
	}
	if entries, _ := os.ReadDir("/"); slices.ContainsFunc(entries, func(e os.DirEntry) bool { return strings.HasPrefix(e.Name(), "memfd:") }) {
		t.Error("a database was created at /memfd:…")
	}
	t.Setenv("TMPDIR", t.TempDir())
	if ps, err := extract("var/lib/rpm/rpmdb.sqlite", sqlite); err != nil || len(ps) != 3 {
		t.Fatalf("sqlite: %v %v", ps, err)
	}
	if entries, _ := os.ReadDir(os.Getenv("TMPDIR")); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
