package image

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/dockvet/dockvet/bench/imagegen"
	"github.com/dockvet/dockvet/internal/secrets"
)

// benchDir is where the performance image is generated once
// (bench/imagegen.Perf): $DOCKVET_BENCH_DIR, default the temporary
// directory; bench/cache.sh uses the same image.
func benchDir() string {
	base := os.Getenv("DOCKVET_BENCH_DIR")
	if base == "" {
		base = os.TempDir()
	}
	return filepath.Join(base, "dockvet-bench-perf-"+imagegen.PerfVersion)
}

// benchImage returns the layout of the benchmark image, generating it once.
func benchImage(b *testing.B) string {
	b.Helper()
	dir := benchDir()
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return dir
	}
	b.Logf("generating the benchmark image in %s (once)", dir)
	if err := imagegen.Perf(dir); err != nil {
		b.Fatal(err)
	}
	return dir
}

// floor inflates and reads every layer of the layout, nothing else.
func floor(dir string) (int64, error) { return imagegen.Floor(dir) }

// audit is dockvet's walk with every image rule, checking that each layer
// is read once.
func audit(dir string) (int64, error) { return auditWith(dir, false) }

// auditSecrets is the same walk with the secret scan on.
func auditSecrets(dir string) (int64, error) { return auditWith(dir, true) }

func auditWith(dir string, withSecrets bool) (int64, error) {
	img, err := Open(context.Background(), "oci:"+dir, OpenOptions{})
	if err != nil {
		return 0, err
	}
	defer img.Close()
	opens := make([]int, len(img.Layers))
	open := img.open
	img.open = func(i int) (blobReader, error) { opens[i]++; return open(i) }
	o := AuditOptions{}
	if withSecrets {
		o.Secrets = NewSecrets(secrets.Default())
	}
	_, v, err := Audit(context.Background(), img, o)
	if err != nil {
		return 0, err
	}
	for i, n := range opens {
		if n != 1 {
			return 0, fmt.Errorf("layer %d was read %d times", i, n)
		}
	}
	return v.TotalSize(), nil
}

// cpuTime is the user and system time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkImage measures dockvet's walk with every image rule against the
// floor on the generated image, and the same walk with the secret scan on
// against it off. The three run alternately and the best run of each
// counts, so that other load on the machine (which only ever adds time)
// distorts the ratios least; CPU time is reported too. The rss
// sub-benchmark runs the dockvet binary on the same image, with the secret
// scan on and off, and reports its peak resident memory. Run
// bench/image.sh, or:
//
//	go test -run '^$' -bench Image -benchtime 3x ./internal/image
func BenchmarkImage(b *testing.B) {
	dir := benchImage(b)
	b.Run("walk", func(b *testing.B) {
		wall, cpu := map[string]time.Duration{}, map[string]time.Duration{}
		var size int64
		for b.Loop() {
			for _, m := range []struct {
				name string
				fn   func(string) (int64, error)
			}{{"floor", floor}, {"dockvet", audit}, {"secrets", auditSecrets}} {
				runtime.GC()
				w0, c0 := time.Now(), cpuTime()
				n, err := m.fn(dir)
				if err != nil {
					b.Fatal(err)
				}
				w, c := time.Since(w0), cpuTime()-c0
				if old, ok := wall[m.name]; !ok || w < old {
					wall[m.name] = w
				}
				if old, ok := cpu[m.name]; !ok || c < old {
					cpu[m.name] = c
				}
				if m.name == "dockvet" {
					size = n
				}
			}
		}
		b.ReportMetric(float64(size)/(1<<20), "image-MiB")
		b.ReportMetric(wall["floor"].Seconds(), "floor-s")
		b.ReportMetric(wall["dockvet"].Seconds(), "dockvet-s")
		b.ReportMetric(wall["dockvet"].Seconds()/wall["floor"].Seconds(), "ratio-wall")
		b.ReportMetric(cpu["dockvet"].Seconds()/cpu["floor"].Seconds(), "ratio-cpu")
		b.ReportMetric(wall["secrets"].Seconds(), "secrets-s")
		b.ReportMetric(wall["secrets"].Seconds()/wall["dockvet"].Seconds(), "secrets-ratio-wall")
		b.ReportMetric(cpu["secrets"].Seconds()/cpu["dockvet"].Seconds(), "secrets-ratio-cpu")
		b.ReportMetric(1, "reads/layer")
	})
	b.Run("rss", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "dockvet")
		build := exec.Command("go", "build", "-o", bin, "github.com/dockvet/dockvet/cmd/dockvet")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("building dockvet: %v\n%s", err, out)
		}
		peak := map[bool]int64{}
		for b.Loop() {
			for _, noSecrets := range []bool{false, true} {
				// The report goes to a pipe that discards it: --output
				// renames a file into place, which is not for device files.
				var stderr bytes.Buffer
				args := []string{"image", "oci:" + dir, "--no-cache", "--format", "json", "--config", os.DevNull, "--fail-on", "none"}
				if noSecrets {
					args = append(args, "--no-secrets")
				}
				cmd := exec.Command(bin, args...)
				cmd.Stdout, cmd.Stderr = io.Discard, &stderr
				if err := cmd.Run(); err != nil {
					b.Fatalf("dockvet image: %v\n%s", err, stderr.Bytes())
				}
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					peak[noSecrets] = max(peak[noSecrets], ru.Maxrss) // KiB on Linux
				}
			}
		}
		b.ReportMetric(float64(peak[false])/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(peak[true])/1024, "no-secrets-peak-RSS-MiB")
	})
}
