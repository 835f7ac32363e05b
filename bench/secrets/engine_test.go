// Package secrets benchmarks the secret detection engine alone on a
// generated mixed-text corpus (see corpus_test.go and bench/secrets.sh).
package secrets

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/secrets"
)

type file struct {
	path string
	data []byte
}

func loadCorpus(b *testing.B) ([]file, []planted, int64) {
	b.Helper()
	dir, plants, err := ensureCorpus()
	if err != nil {
		b.Fatal(err)
	}
	var files []file
	var total int64
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "MANIFEST" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, file{filepath.ToSlash(rel), data})
		total += int64(len(data))
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return files, plants, total
}

// BenchmarkEngine scans every file of the corpus from memory: the engine's
// own speed, without I/O. Run it with -cpu 1 for one core.
func BenchmarkEngine(b *testing.B) {
	files, plants, total := loadCorpus(b)
	e := secrets.Default()
	b.SetBytes(total)
	b.ResetTimer()
	var found map[[2]string]bool
	cpu := cpuTime()
	n := 0
	for b.Loop() {
		n++
		found = map[[2]string]bool{}
		for _, f := range files {
			for _, m := range e.ScanBytes(f.data, f.path) {
				found[[2]string{f.path, m.Secret}] = true
			}
		}
	}
	b.StopTimer()
	reportCPU(b, cpuTime()-cpu, total*int64(n))
	reportRecall(b, plants, found, total)
}

// cpuTime is the CPU time this process has used. On a shared machine the
// wall clock also counts other processes' turns; CPU time does not, so
// "cpu-MiB/s" is the engine's speed on one core however busy the host.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, cpu time.Duration, bytes int64) {
	if cpu > 0 {
		b.ReportMetric(float64(bytes)/(1<<20)/cpu.Seconds(), "cpu-MiB/s")
	}
}

// BenchmarkEngineReader scans the corpus through ScanReader from open
// files, as an image walker would (the page cache holds the files).
func BenchmarkEngineReader(b *testing.B) {
	files, _, total := loadCorpus(b)
	dir, _, _ := ensureCorpus()
	e := secrets.Default()
	b.SetBytes(total)
	b.ResetTimer()
	cpu := cpuTime()
	n := 0
	for b.Loop() {
		n++
		for _, f := range files {
			fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.path)))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.ScanReader(fh, f.path); err != nil {
				b.Fatal(err)
			}
			fh.Close()
		}
	}
	b.StopTimer()
	reportCPU(b, cpuTime()-cpu, total*int64(n))
}

func reportRecall(b *testing.B, plants []planted, found map[[2]string]bool, total int64) {
	hit, want := 0, 0
	for _, p := range plants {
		if p.ruleID == "DV7023" {
			continue // certificates are informational, not reported by default
		}
		want++
		if found[[2]string{p.path, p.secret}] {
			hit++
		} else {
			b.Logf("planted %s secret in %s not found", p.ruleID, p.path)
		}
	}
	b.ReportMetric(float64(total)/(1<<20), "MiB")
	b.ReportMetric(float64(hit)/float64(max(want, 1))*100, "%planted-found")
}
