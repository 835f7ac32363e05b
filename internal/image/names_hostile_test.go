package image

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/fuzztest"
)

// Sibling directories under a long path (150,000 entries with 3.9 KB
// names took 147 s) are looked up from the previous entry's directory,
// climbing a few levels, not from the root: every path must still be found
// where the tar put it, under a short prefix and a long one.
func TestSiblingDirectoriesUnderLongPath(t *testing.T) {
	layer := func(prefix string, n int) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for i := range n {
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("%sd%06d/f", prefix, i), Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX})
		}
		tw.Close()
		return buf.Bytes()
	}
	for _, prefix := range []string{"a/", strings.Repeat("abcdefghi/", 100)} {
		blob := layer(prefix, 3000)
		v, err := walkBlobs(Options{}, nil, blob)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 1500, 2999} {
			want := fmt.Sprintf("/%sd%06d/f", prefix, i)
			if f := v.Final(want); f == nil || f.Path() != want {
				t.Fatalf("%s not found", want)
			}
		}
	}
}

// cleanName's fast path (a name that needs no cleaning) must say what the
// part-by-part cleaning says, for every name.
func TestCleanNameFastPath(t *testing.T) {
	for _, n := range cleanNameSeeds {
		checkCleanName(t, n)
	}
}

var cleanNameSeeds = []string{"", ".", "./", "..", "../", "a", "a/", "a//", "a/b", "./a/b/", "/a", "//a", "a/./b", "a/../b",
	"a/..", "a/.", ".a/b", "a/.b/..c", "a/b..", "..a", "a/...", "../../etc/passwd", "a/b/", "a///", ".wh..wh..opq", "a/.wh.b"}

func checkCleanName(t *testing.T, name string) {
	t.Helper()
	trimmed := strings.TrimPrefix(name, "./")
	gotP, gotE := cleanName(name)
	wantP, wantE := cleanSlow(trimmed)
	if gotP != wantP || gotE != wantE {
		t.Fatalf("cleanName(%q) = %q, %v; part by part %q, %v", name, gotP, gotE, wantP, wantE)
	}
}

func FuzzCleanName(f *testing.F) {
	for _, n := range cleanNameSeeds {
		f.Add(n)
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, name string) {
		defer fuzztest.Budget(t)()
		checkCleanName(t, name)
	})
}

// The walk's memory does not grow with name length: a layer of 30,000
// sibling directories, each holding a file, under a 3,800-byte path (the
// issue's case had 150,000 and took 381 MB) must retain about what the
// same layer under a 4-byte path retains: names are stored once, a
// directory's path is joined from its parents' names when asked for.
func TestWalkMemoryDoesNotGrowWithNameLength(t *testing.T) {
	const n = 30000
	// The layer is written as it is read: 30,000 entries of 4 KB names
	// are 140 MB of tar the test need not hold.
	walk := func(prefix string, dirs bool) (*View, error) {
		pr, pw := io.Pipe()
		go func() {
			tw := tar.NewWriter(pw)
			for i := range n {
				h := &tar.Header{Name: fmt.Sprintf("%sd%06d/f", prefix, i), Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX}
				if dirs {
					h = &tar.Header{Name: fmt.Sprintf("%sd%06d/", prefix, i), Typeflag: tar.TypeDir, Mode: 0o755, Format: tar.FormatPAX}
				}
				if err := tw.WriteHeader(h); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			pw.CloseWithError(tw.Close())
		}()
		img := &Image{Ref: "test", Source: "test"}
		w := newWalker(context.Background(), img, Options{}, nil)
		l := &Layer{Index: 0, HistoryIndex: -1}
		img.Layers = append(img.Layers, l)
		_, _, err := w.readLayer(l, pr, "layer 0")
		pr.Close()
		if err != nil {
			return nil, err
		}
		return w.merge(), nil
	}
	retained := func(prefix string, dirs bool) (uint64, *View) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		v, err := walk(prefix, dirs)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		return after.HeapInuse - min(after.HeapInuse, before.HeapInuse), v
	}
	long := strings.Repeat(strings.Repeat("d", 250)+"/", 15) // 3,765 bytes
	for _, dirs := range []bool{false, true} {
		short, vs := retained("usr/", dirs)
		got, vl := retained(long, dirs)
		// What is in the view, not only that it is small.
		want := fmt.Sprintf("/%sd%06d", long, n-1)
		if e := vl.Entry(want); e == nil || e.Path() != want || !e.Exists() {
			t.Fatalf("dirs=%v: %s.. not found", dirs, want[:40])
		}
		t.Logf("dirs=%v: retained %d bytes (%d per entry) under a 4-byte path, %d (%d per entry) under a 3,765-byte one",
			dirs, short, short/n, got, got/n)
		// The long names' bytes alone (15 names of 250 bytes) would be
		// 3,765 bytes an entry, 110 MiB: allow the long layer twice the
		// short one's and a few hundred KiB of slack for the 15 extra
		// directories and the collector's rounding.
		if got > 2*short+512<<10 {
			t.Errorf("dirs=%v: the walk retained %d bytes under a long path, %d under a short one: memory grows with name length", dirs, got, short)
		}
		runtime.KeepAlive(vs)
		runtime.KeepAlive(vl)
	}
}
