package vulndb

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/inventory"
)

// The benchmarks of the issue: import 300,000 generated OSV records and
// report time and database size; match 2,000 packages against them once
// the database is open. bench/vulndb.sh runs them:
//
//	go test ./internal/vulndb -run '^$' -bench 'Import300k|Match2000' -benchtime 1x
//
// Generated data is kept in DOCKVET_BENCH_DIR (default /tmp/dockvet-bench)
// so that the match benchmark reuses the imported database.

const benchRecords = 300_000

// benchEcosystems is the mix of generated records, weighted roughly as
// OSV's data is: distributions first, then the large language ecosystems.
var benchEcosystems = []struct {
	eco, typ string
	share    int // per 100 records
	names    int // distinct package names
	version  func(r *rand.Rand) string
}{
	{"Debian:12", inventory.TypeDeb, 18, 9000, debVersion},
	{"Debian:11", inventory.TypeDeb, 12, 9000, debVersion},
	{"Ubuntu:22.04:LTS", inventory.TypeDeb, 14, 9000, debVersion},
	{"Alpine:v3.20", inventory.TypeApk, 8, 3000, apkVersion},
	{"npm", inventory.TypeNpm, 16, 30000, semverVersion},
	{"PyPI", inventory.TypePyPI, 10, 12000, semverVersion},
	{"Maven", inventory.TypeMaven, 10, 10000, semverVersion},
	{"Go", inventory.TypeGolang, 6, 6000, semverVersion},
	{"RubyGems", inventory.TypeGem, 6, 4000, semverVersion},
}

func debVersion(r *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d-%d+deb12u%d", r.IntN(5), r.IntN(20), r.IntN(30), 1+r.IntN(5), r.IntN(4))
}

func apkVersion(r *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d-r%d", r.IntN(5), r.IntN(20), r.IntN(30), r.IntN(10))
}

func semverVersion(r *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d", r.IntN(5), r.IntN(20), r.IntN(30))
}

func benchName(eco string, i int) string {
	switch eco {
	case "Maven":
		return fmt.Sprintf("org.example%d:lib-%d", i%500, i)
	case "Go":
		return fmt.Sprintf("github.com/example%d/mod%d", i%700, i)
	}
	return fmt.Sprintf("pkg-%d", i)
}

var cvssVectors = []string{
	"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
	"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
	"CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N",
	"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
}

// writeBenchExport writes n generated records, OSV's all.zip layout, of
// the size and shape of real ones (about 1.2 KB of JSON each).
func writeBenchExport(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	zw := zip.NewWriter(f)
	r := rand.New(rand.NewPCG(1, 2))
	details := "A flaw was found in the handling of crafted input. An attacker able to supply such input could cause a denial of service or possibly execute arbitrary code with the privileges of the affected process."
	for i := range n {
		pick := r.IntN(100)
		e := benchEcosystems[0]
		for _, c := range benchEcosystems {
			if pick < c.share {
				e = c
				break
			}
			pick -= c.share
		}
		base := e.eco
		if i := len(base); i > 0 {
			for j, c := range base {
				if c == ':' {
					base = base[:j]
					break
				}
			}
		}
		id := fmt.Sprintf("BENCH-%s-%07d", base, i)
		rec := map[string]any{
			"schema_version": "1.6.0",
			"id":             id,
			"modified":       "2026-08-01T00:00:00Z",
			"published":      "2025-01-01T00:00:00Z",
			"aliases":        []string{fmt.Sprintf("CVE-2025-%d", 10000+i)},
			"summary":        "Denial of service in " + benchName(e.eco, i%e.names),
			"details":        details,
			"affected": []any{map[string]any{
				"package": map[string]any{"ecosystem": e.eco, "name": benchName(e.eco, r.IntN(e.names))},
				"ranges": []any{map[string]any{"type": "ECOSYSTEM", "events": []any{
					map[string]any{"introduced": "0"}, map[string]any{"fixed": e.version(r)},
				}}},
				"database_specific": map[string]any{"source": "https://example.org/osv/" + id + ".json"},
			}},
			"references": []any{
				map[string]any{"type": "ADVISORY", "url": "https://example.org/advisories/" + id},
				map[string]any{"type": "WEB", "url": fmt.Sprintf("https://nvd.nist.gov/vuln/detail/CVE-2025-%d", 10000+i)},
			},
		}
		if r.IntN(2) == 0 {
			rec["severity"] = []any{map[string]any{"type": map[bool]string{true: "CVSS_V4", false: "CVSS_V3"}[i%4 == 3], "score": cvssVectors[i%4]}}
		}
		b, err := json.Marshal(rec)
		if err != nil {
			tb.Fatal(err)
		}
		w, err := zw.Create(id + ".json")
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

func benchDir(tb testing.TB) string {
	d := os.Getenv("DOCKVET_BENCH_DIR")
	if d == "" {
		d = filepath.Join(os.TempDir(), "dockvet-bench")
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		tb.Fatal(err)
	}
	return d
}

// benchExport returns the generated export, writing it the first time.
func benchExport(tb testing.TB) string {
	p := filepath.Join(benchDir(tb), fmt.Sprintf("osv-%d.zip", benchRecords))
	if _, err := os.Stat(p); err != nil {
		writeBenchExport(tb, p+".tmp", benchRecords)
		if err := os.Rename(p+".tmp", p); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

func dirSize(tb testing.TB, dir string) int64 {
	var n int64
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func BenchmarkImport300k(b *testing.B) {
	export := benchExport(b)
	fi, _ := os.Stat(export)
	b.ReportMetric(float64(fi.Size())/(1<<20), "MB-zip")
	for b.Loop() {
		cache := filepath.Join(benchDir(b), "cache-import")
		os.RemoveAll(cache)
		start := cpuTime()
		res, err := Import(context.Background(), cache, export, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric((cpuTime() - start).Seconds(), "cpu-s/op")
		if res.Records != benchRecords {
			b.Fatalf("%d records imported", res.Records)
		}
		b.ReportMetric(float64(dirSize(b, storeDir(cache)))/(1<<20), "MB-db")
	}
}

// benchCache is an imported database of the generated export, imported
// once and kept for later runs.
func benchCache(b *testing.B) string {
	cache := filepath.Join(benchDir(b), "cache-match")
	if st, err := ReadStatus(cache); err == nil && st.Records() == benchRecords {
		return cache
	}
	os.RemoveAll(cache)
	if _, err := Import(context.Background(), cache, benchExport(b), time.Now()); err != nil {
		b.Fatal(err)
	}
	return cache
}

// benchPackages is an image's worth of packages: 2,000 of the generated
// ecosystems' names, in the same proportions, at random versions (about
// half of them have advisories).
func benchPackages() []inventory.Package {
	r := rand.New(rand.NewPCG(3, 4))
	var out []inventory.Package
	for len(out) < 2000 {
		e := benchEcosystems[r.IntN(len(benchEcosystems))]
		out = append(out, inventory.Package{Type: e.typ, Name: benchName(e.eco, r.IntN(e.names)), Version: e.version(r),
			Ecosystem: e.eco, Path: "var/lib/dpkg/status", LayerIndex: 0})
	}
	return out
}

func BenchmarkMatch2000(b *testing.B) {
	db, err := Open(benchCache(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	pkgs := benchPackages()
	var n, ops int
	var cpu time.Duration
	for b.Loop() {
		start := cpuTime()
		fs, err := Match(db, pkgs, Options{Target: finding.Target{Kind: finding.SurfaceImage, Name: "bench"}})
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - start
		n, ops = len(fs), ops+1
	}
	b.ReportMetric(float64(n), "findings")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(ops), "cpu-ms/op")
}
