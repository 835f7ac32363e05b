package vulndb

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/testenv"
)

// benchImagePackages is the number of packages in the generated image.
const benchImagePackages = 2000

// benchImageArchive is a docker-archive of a Debian 12 image holding 2,000
// packages in the files that list them: a dpkg status file (1,000
// packages), npm package.json files (600) and Python METADATA files (400),
// named and versioned as the generated advisories are, so that about half
// of them match. Written once to DOCKVET_BENCH_DIR.
func benchImageArchive(b *testing.B) string {
	p := filepath.Join(benchDir(b), fmt.Sprintf("image-%d-packages.tar", benchImagePackages))
	if _, err := os.Stat(p); err == nil {
		return p
	}
	r := rand.New(rand.NewPCG(5, 6))
	var status strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\nDescription: generated package %d\n\n",
			benchName("Debian:12", r.IntN(9000)), debVersion(r), i)
	}
	base := []testenv.File{
		{Path: "etc/os-release", Body: []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")},
		{Path: "var/lib/dpkg/status", Body: []byte(status.String())},
	}
	var app []testenv.File
	for i := range 600 {
		n := benchName("npm", r.IntN(30000))
		app = append(app, testenv.File{Path: fmt.Sprintf("srv/app/node_modules/%s-%d/package.json", n, i),
			Body: fmt.Appendf(nil, `{"name": %q, "version": %q, "license": "MIT"}`, n, semverVersion(r))})
	}
	for i := range 400 {
		n, v := benchName("PyPI", r.IntN(12000)), semverVersion(r)
		app = append(app, testenv.File{Path: fmt.Sprintf("usr/lib/python3/dist-packages/%s_%d-%s.dist-info/METADATA", strings.ReplaceAll(n, "-", "_"), i, v),
			Body: fmt.Appendf(nil, "Metadata-Version: 2.1\nName: %s\nVersion: %s\nLicense: MIT\n", n, v)})
	}
	img := testenv.Image(b, v1.Config{User: "10001"}, []v1.Layer{testenv.Layer(b, base...), testenv.Layer(b, app...)},
		"ADD rootfs.tar /", "COPY . /")
	if err := tarball.WriteToFile(p+".tmp", name.MustParseReference("dockvet-bench/packages:1"), img); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkImage2000 takes the inventory of an image with 2,000 packages
// on the layer walk and matches it against the 300,000 generated records
// (the database open, as `dockvet image` has it): the vulnerability step of
// an image scan. The rss sub-benchmark runs `dockvet image` on the image
// with that database and reports its peak resident memory.
//
//	go test ./internal/vulndb -run '^$' -bench Image2000 -benchtime 5x
func BenchmarkImage2000(b *testing.B) {
	cache := benchCache(b)
	archive := benchImageArchive(b)
	b.Run("match", func(b *testing.B) {
		db, err := Open(cache)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		var walkCPU, matchCPU, matchWall time.Duration
		var pkgs, findings, ops int
		for b.Loop() {
			img, err := image.Open(context.Background(), "docker-archive:"+archive, image.OpenOptions{})
			if err != nil {
				b.Fatal(err)
			}
			start := cpuTime()
			pk := image.NewPackages(context.Background())
			if _, err := image.Walk(context.Background(), img, image.DefaultOptions(), pk); err != nil {
				b.Fatal(err)
			}
			img.Close()
			walkCPU += cpuTime() - start
			inv := pk.Result()
			start, wall := cpuTime(), time.Now()
			fs, err := Match(db, inv.Packages, Options{Target: finding.Target{Kind: finding.SurfaceImage, Name: "bench"}})
			if err != nil {
				b.Fatal(err)
			}
			matchCPU += cpuTime() - start
			matchWall += time.Since(wall)
			pkgs, findings, ops = len(inv.Packages), len(fs), ops+1
		}
		if pkgs != benchImagePackages {
			b.Fatalf("%d packages in the image, want %d", pkgs, benchImagePackages)
		}
		b.ReportMetric(float64(pkgs), "packages")
		b.ReportMetric(float64(findings), "findings")
		b.ReportMetric(float64(walkCPU.Milliseconds())/float64(ops), "inventory-cpu-ms")
		b.ReportMetric(float64(matchCPU.Milliseconds())/float64(ops), "match-cpu-ms")
		b.ReportMetric(float64(matchWall.Milliseconds())/float64(ops), "match-wall-ms")
	})
	b.Run("rss", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "dockvet")
		// go test puts the go command it runs as first on PATH.
		build := exec.Command("go", "build", "-o", bin, "github.com/dockvet/dockvet/cmd/dockvet")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("building dockvet: %v\n%s", err, out)
		}
		var peak int64
		var wall time.Duration
		for b.Loop() {
			var stderr bytes.Buffer
			cmd := exec.Command(bin, "image", "docker-archive:"+archive, "--format", "json", "--config", os.DevNull,
				"--fail-on", "none", "--cache-dir", cache, "--offline")
			cmd.Stdout, cmd.Stderr = io.Discard, &stderr
			start := time.Now()
			if err := cmd.Run(); err != nil {
				b.Fatalf("dockvet image: %v\n%s", err, stderr.Bytes())
			}
			wall = max(wall, time.Since(start))
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				peak = max(peak, ru.Maxrss) // KiB on Linux
			}
		}
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		b.ReportMetric(wall.Seconds(), "worst-wall-s")
	})
}
