package fleet

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dockvet/dockvet/internal/fleet/fleettest"
	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/testenv"
	"github.com/dockvet/dockvet/internal/vulndb"
)

// BenchmarkFleet (bench/fleet.sh): a fleet of 1,000 images built from 20
// shared base layers (Debian 12, 120 packages and 300 other files each)
// and one small application layer each, pushed to a loopback registry and
// indexed by 4 workers; then an update of 10,000 advisories and the
// re-matching of every stored inventory. It reports images/s, layers read
// from the registry and reused from the store, the database's size, and
// the re-matching time. FLEET_DB=postgres runs it on DOCKVET_POSTGRES_URL;
// FLEET_IMAGES and FLEET_ADVISORIES change the sizes.
func BenchmarkFleet(b *testing.B) {
	images := envInt("FLEET_IMAGES", 1000)
	advisories := envInt("FLEET_ADVISORIES", 10000)
	const bases, pkgsPerBase, filesPerBase, workers = 20, 120, 300, 4
	ctx := context.Background()

	dsn := "sqlite:" + filepath.Join(b.TempDir(), "fleet.db")
	if os.Getenv("FLEET_DB") == "postgres" {
		u, ok := fleettest.Postgres(b)
		if !ok {
			b.Skip("FLEET_DB=postgres needs DOCKVET_POSTGRES_URL")
		}
		dsn = u
	}
	var mu sync.Mutex
	blobReads := map[string]int{}
	reg := fleettest.NewRegistryWith(b, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if i := strings.Index(r.URL.Path, "/blobs/sha256:"); i > 0 && r.Method == http.MethodGet {
				mu.Lock()
				blobReads[r.URL.Path[i+len("/blobs/"):]]++
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	})

	// The bases: each its own set of packages (names shared by several
	// bases, versions per base), os-release, accounts, and files.
	var baseLayers []v1.Layer
	var baseDigests []string
	for bi := range bases {
		var pkgs []fleettest.Package
		for p := range pkgsPerBase {
			pkgs = append(pkgs, fleettest.Package{Name: fmt.Sprintf("lib%03d", (bi*37+p)%400), Version: fmt.Sprintf("1.%d-%d", p%7, bi%5+1)})
		}
		files := []testenv.File{{Path: "usr", Dir: true}, {Path: "usr/share", Dir: true}}
		for f := range filesPerBase {
			files = append(files, testenv.File{Path: fmt.Sprintf("usr/share/base%02d-file%03d.txt", bi, f), Body: []byte(strings.Repeat(fmt.Sprintf("base %d file %d\n", bi, f), 20))})
		}
		l := mergeLayers(b, fleettest.DebianBase(b, pkgs...), testenv.Layer(b, files...))
		d, _ := l.Digest()
		baseLayers, baseDigests = append(baseLayers, l), append(baseDigests, d.String())
	}
	start := time.Now()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i := range images {
		app := fleettest.AppLayer(b, "srv/app.conf", fmt.Sprintf("service %d\nport = %d\n", i, 8000+i))
		ref, _ := reg.Push(b, fmt.Sprintf("fleet/svc%04d", i), "1", fleettest.DebianImage(b, baseLayers[i%bases], app))
		if _, _, err := st.Enqueue(ctx, store.NewJob{Ref: ref, Source: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("generated and pushed %d images in %.1fs", images, time.Since(start).Seconds())

	vulnDir := b.TempDir()
	if _, err := vulndb.Import(ctx, vulnDir, fleettest.WriteOSV(b, fleettest.Advisory{ID: "BENCH-0", Package: "nothing", Fixed: "1"}), time.Now()); err != nil {
		b.Fatal(err)
	}
	svc, err := New(Options{Store: st, VulnDir: vulnDir, Scanner: &ImageScanner{}, Reporting: Reporting{Version: "bench"},
		MatchOnScan: true, Poll: 10 * time.Millisecond, MatchWorkers: 2, Notice: b.Logf})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	start = time.Now()
	for w := range workers {
		wg.Add(1)
		go func() { defer wg.Done(); svc.RunWorker(wctx, fmt.Sprintf("bench-%d", w)) }()
	}
	for {
		c, err := st.QueueCounts(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if c[store.JobDone]+c[store.JobDead] == images {
			if c[store.JobDead] > 0 {
				jobs, _ := st.Jobs(ctx, store.JobDead, 1)
				b.Fatalf("%d jobs dead: %s", c[store.JobDead], jobs[0].LastError)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	index := time.Since(start)
	cancel()
	wg.Wait()
	read := testutil.ToFloat64(svc.metrics.layers.WithLabelValues("read"))
	reused := testutil.ToFloat64(svc.metrics.layers.WithLabelValues("reused"))
	mu.Lock()
	maxBase := 0
	for _, d := range baseDigests {
		maxBase = max(maxBase, blobReads[d])
	}
	mu.Unlock()
	size, _ := st.Size(ctx)

	// 10,000 advisories over the packages the fleet has (and many it has
	// not), about one in eight affecting an installed version.
	osvZip := filepath.Join(b.TempDir(), "all.zip")
	writeAdvisories(b, osvZip, advisories)
	start = time.Now()
	if _, err := vulndb.Import(ctx, vulnDir, osvZip, time.Now()); err != nil {
		b.Fatal(err)
	}
	imported := time.Since(start)
	res, err := svc.Rematch(ctx, "benchmark update")
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	sizeAfter, _ := st.Size(ctx)

	b.ReportMetric(float64(images)/index.Seconds(), "images/s")
	b.ReportMetric(read, "layers-read")
	b.ReportMetric(reused, "layers-reused")
	b.ReportMetric(float64(maxBase), "max-reads-of-a-base")
	b.ReportMetric(float64(size)/(1<<20), "db-MiB")
	b.ReportMetric(res.Seconds, "rematch-s")
	b.Logf("%s: indexed %d images in %.1fs (%.1f images/s) with %d workers; layers read %d, reused %d; each base layer read at most %d time(s); database %.1f MiB",
		strings.SplitN(dsn, ":", 2)[0], images, index.Seconds(), float64(images)/index.Seconds(), workers, int(read), int(reused), maxBase, float64(size)/(1<<20))
	b.Logf("import of %d advisories %.1fs; re-match of %d inventories %.2fs: %d images changed, %d new vulnerabilities; database %.1f MiB",
		advisories, imported.Seconds(), res.Images, res.Seconds, res.Changed, res.New, float64(sizeAfter)/(1<<20))
}

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err == nil && n > 0 {
		return n
	}
	return def
}

// mergeLayers makes one layer of two (a base is one layer).
func mergeLayers(b *testing.B, ls ...v1.Layer) v1.Layer {
	b.Helper()
	img := testenv.Image(b, v1.Config{}, ls)
	flat, err := flatten(img)
	if err != nil {
		b.Fatal(err)
	}
	return flat
}

// writeAdvisories writes n Debian 12 OSV records as an all.zip.
func writeAdvisories(b *testing.B, path string, n int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for i := range n {
		// Names lib000–lib399 are installed somewhere; lib400–lib1999 are not.
		pkg := fmt.Sprintf("lib%03d", (i*7)%2000)
		fixed := "0.1-1" // below every installed version: no effect
		if i%8 == 0 {
			fixed = "9.0-1" // above: every installed version is affected
		}
		rec := map[string]any{"schema_version": "1.6.0", "id": fmt.Sprintf("BENCH-%05d", i+1), "modified": "2026-10-01T00:00:00Z",
			"summary": "benchmark advisory",
			"affected": []any{map[string]any{"package": map[string]any{"ecosystem": "Debian:12", "name": pkg},
				"ranges": []any{map[string]any{"type": "ECOSYSTEM", "events": []any{map[string]any{"introduced": "0"}, map[string]any{"fixed": fixed}}}}}},
			"severity": []any{map[string]any{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}}}
		w, err := zw.Create(fmt.Sprintf("BENCH-%05d.json", i+1))
		if err != nil {
			b.Fatal(err)
		}
		json.NewEncoder(w).Encode(rec)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

// flatten is one layer holding img's final filesystem.
func flatten(img v1.Image) (v1.Layer, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}
