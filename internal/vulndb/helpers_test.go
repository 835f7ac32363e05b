package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// goExport is the Go vulnerability database's OSV export (4,291 real
// advisories, see testdata/go-vulndb/README.md).
const goExport = "testdata/go-vulndb/all.zip"

// requireGoExport fails a test that needs the real Go database when the
// export is missing from the checkout: it is part of the repository, so a
// missing file is a broken checkout, not a reason to skip.
func requireGoExport(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(goExport); err != nil {
		t.Fatalf("the Go vulnerability database export is missing: %v", err)
	}
}

var testNow = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

// zipExport writes the records of testdata/osv/ECO as OSV publishes an
// ecosystem: a flat all.zip of <ID>.json files.
func zipExport(t testing.TB, eco, dst string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata/osv", eco, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no records for %s: %v", eco, err)
	}
	sort.Strings(files)
	writeZip(t, dst, files)
}

func writeZip(t testing.TB, dst string, files []string) {
	t.Helper()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(filepath.Base(p))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// testEcosystems are the testdata/osv directories.
func testEcosystems(t testing.TB) []string {
	ents, err := os.ReadDir("testdata/osv")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

var (
	sharedOnce sync.Once
	sharedDir  string
	sharedErr  error
)

// sharedCache is a cache directory holding every testdata ecosystem,
// imported from all.zip files, and the real Go database. It is built once
// per test binary and only read by tests.
func sharedCache(t *testing.T) string {
	t.Helper()
	sharedOnce.Do(func() {
		sharedDir, sharedErr = os.MkdirTemp("", "dockvet-vulndb-test-")
		if sharedErr != nil {
			return
		}
		for _, eco := range testEcosystems(t) {
			z := filepath.Join(sharedDir, eco+".zip")
			zipExport(t, eco, z)
			if _, sharedErr = Import(context.Background(), sharedDir, z, testNow); sharedErr != nil {
				return
			}
		}
		if _, err := os.Stat(goExport); err == nil {
			_, sharedErr = Import(context.Background(), sharedDir, goExport, testNow)
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

func openShared(t *testing.T) *DB {
	t.Helper()
	db, err := Open(sharedCache(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// writeNestedZip writes a zip whose entries (names with folders) hold the
// bytes of the given files.
func writeNestedZip(t testing.TB, f *os.File, entries map[string]string) {
	t.Helper()
	zw := zip.NewWriter(f)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := os.ReadFile(entries[n])
		if err != nil {
			t.Fatal(err)
		}
		w, _ := zw.Create(n)
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
