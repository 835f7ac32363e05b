package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/dockvet/dockvet/internal/secrets"
)

// The benchmark image: 10 layers, a little over 1 GiB of files. Layer 0 is
// a base of many small files; later layers add small files, a few large
// ones, and delete or overwrite some of what earlier layers added. It is
// generated once under $DOCKVET_BENCH_DIR (default: the temporary
// directory) as an OCI layout, never in the repository.
const benchVersion = "v2"

type benchPlan struct {
	small, smallMax int // number and maximum size of small files
	large           []int
	deleteFrom      int // layer whose small files this layer partly deletes (-1: none)
}

var benchLayers = []benchPlan{
	{small: 40000, smallMax: 16 << 10, deleteFrom: -1},
	{small: 4000, smallMax: 16 << 10, large: []int{96 << 20}, deleteFrom: -1},
	{small: 4000, smallMax: 16 << 10, deleteFrom: 0},
	{small: 2000, smallMax: 64 << 10, large: []int{128 << 20}, deleteFrom: -1},
	{small: 4000, smallMax: 16 << 10, deleteFrom: 1},
	{small: 4000, smallMax: 16 << 10, large: []int{64 << 20, 32 << 20}, deleteFrom: -1},
	{small: 4000, smallMax: 16 << 10, deleteFrom: 3},
	{small: 2000, smallMax: 64 << 10, large: []int{96 << 20}, deleteFrom: -1},
	{small: 4000, smallMax: 16 << 10, deleteFrom: 5},
	{small: 2000, smallMax: 16 << 10, large: []int{48 << 20}, deleteFrom: 7},
}

// benchWords is the vocabulary of the generated files: text drawn from it
// compresses about 3:1, like the files of real images.
var benchWords = func() []string {
	r := rand.New(rand.NewPCG(1, 1))
	words := make([]string, 4096)
	for i := range words {
		w := make([]byte, 2+r.IntN(9))
		for j := range w {
			w[j] = byte('a' + r.IntN(26))
		}
		words[i] = string(w)
	}
	return words
}()

// textFill writes text-like bytes.
func textFill(r *rand.Rand, b []byte) {
	i := 0
	for i < len(b) {
		v := r.Uint64()
		for k := 0; k < 4 && i < len(b); k++ {
			w := benchWords[v&4095]
			v >>= 16
			i += copy(b[i:], w)
			if i < len(b) {
				if v&7 == 0 {
					b[i] = '\n'
				} else {
					b[i] = ' '
				}
				i++
			}
		}
	}
}

func benchDir() string {
	base := os.Getenv("DOCKVET_BENCH_DIR")
	if base == "" {
		base = os.TempDir()
	}
	return filepath.Join(base, "dockvet-bench-image-"+benchVersion)
}

// hashWriter counts and hashes what passes.
type hashWriter struct {
	h hash.Hash
	n int64
}

func (w *hashWriter) Write(p []byte) (int, error) {
	w.h.Write(p)
	w.n += int64(len(p))
	return len(p), nil
}

func (w *hashWriter) digest() v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(w.h.Sum(nil))}
}

// writeBenchLayer streams one generated layer into a gzip blob, hashing
// both forms on the way.
func writeBenchLayer(dir string, i int, plan benchPlan) (v1.Descriptor, v1.Hash, error) {
	tmp, err := os.CreateTemp(dir, "layer-*")
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	defer os.Remove(tmp.Name())
	comp := &hashWriter{h: sha256.New()}
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, comp), 1<<20)
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	uncomp := &hashWriter{h: sha256.New()}
	tw := tar.NewWriter(io.MultiWriter(zw, uncomp))
	r := rand.New(rand.NewPCG(uint64(i), 42))
	buf := make([]byte, 1<<20)
	file := func(name string, size int) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(size), Mode: 0o644, ModTime: time.Unix(1700000000, 0)}); err != nil {
			return err
		}
		for size > 0 {
			n := min(size, len(buf))
			textFill(r, buf[:n])
			if _, err := tw.Write(buf[:n]); err != nil {
				return err
			}
			size -= n
		}
		return nil
	}
	for d := range 100 {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("l%d/d%02d/", i, d), Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(1700000000, 0)})
	}
	for f := range plan.small {
		if err := file(fmt.Sprintf("l%d/d%02d/f%05d.txt", i, f%100, f), 1+r.IntN(plan.smallMax)); err != nil {
			return v1.Descriptor{}, v1.Hash{}, err
		}
	}
	for k, size := range plan.large {
		if err := file(fmt.Sprintf("opt/big%d-%d.bin", i, k), size); err != nil {
			return v1.Descriptor{}, v1.Hash{}, err
		}
	}
	if plan.deleteFrom >= 0 {
		// Delete a tenth of an earlier layer's small files and its large
		// ones; overwrite another tenth.
		for f := 0; f < benchLayers[plan.deleteFrom].small; f += 10 {
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("l%d/d%02d/.wh.f%05d.txt", plan.deleteFrom, f%100, f), Typeflag: tar.TypeReg, Mode: 0o644, ModTime: time.Unix(1700000000, 0)})
			if err := file(fmt.Sprintf("l%d/d%02d/f%05d.txt", plan.deleteFrom, (f+1)%100, f+1), 1+r.IntN(4096)); err != nil {
				return v1.Descriptor{}, v1.Hash{}, err
			}
		}
		for k := range benchLayers[plan.deleteFrom].large {
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("opt/.wh.big%d-%d.bin", plan.deleteFrom, k), Typeflag: tar.TypeReg, Mode: 0o644, ModTime: time.Unix(1700000000, 0)})
		}
	}
	if err := tw.Close(); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	if err := zw.Close(); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	if err := bw.Flush(); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	if err := tmp.Close(); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	d := comp.digest()
	if err := os.Rename(tmp.Name(), filepath.Join(dir, "blobs", "sha256", d.Hex)); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	return v1.Descriptor{MediaType: types.OCILayer, Size: comp.n, Digest: d}, uncomp.digest(), nil
}

// benchImage returns the layout of the benchmark image, generating it once.
func benchImage(b *testing.B) string {
	b.Helper()
	dir := benchDir()
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return dir
	}
	b.Logf("generating the benchmark image in %s (once)", dir)
	os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		b.Fatal(err)
	}
	blob := func(data []byte) v1.Descriptor {
		d := sha256Of(data)
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Hex), data, 0o644); err != nil {
			b.Fatal(err)
		}
		return v1.Descriptor{Size: int64(len(data)), Digest: d}
	}
	cf := v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, RootFS: v1.RootFS{Type: "layers"},
		Config: v1.Config{User: "10001", Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/app"}}}}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	for i, plan := range benchLayers {
		desc, diffID, err := writeBenchLayer(dir, i, plan)
		if err != nil {
			b.Fatal(err)
		}
		m.Layers = append(m.Layers, desc)
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, diffID)
		cf.History = append(cf.History, v1.History{CreatedBy: fmt.Sprintf("RUN /bin/sh -c generate layer %d # buildkit", i)})
	}
	cfg, _ := json.Marshal(cf)
	m.Config = blob(cfg)
	m.Config.MediaType = types.OCIConfigJSON
	man, _ := json.Marshal(m)
	md := blob(man)
	md.MediaType = types.OCIManifestSchema1
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{md}})
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// floor inflates and reads every layer of the layout, nothing else: the
// least any tool that looks at every file must do. It uses the same gzip
// decoder as the walk.
func floor(dir string) (int64, error) {
	img, err := Open(context.Background(), "oci:"+dir, OpenOptions{})
	if err != nil {
		return 0, err
	}
	defer img.Close()
	var total int64
	for i := range img.Layers {
		rc, err := img.open(i)
		if err != nil {
			return 0, err
		}
		zr, err := gzip.NewReader(bufio.NewReaderSize(rc, 64<<10))
		if err != nil {
			return 0, err
		}
		tr := tar.NewReader(zr)
		for {
			_, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return 0, err
			}
			n, err := io.Copy(io.Discard, tr)
			if err != nil {
				return 0, err
			}
			total += n
		}
		rc.Close()
	}
	return total, nil
}

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
				args := []string{"image", "oci:" + dir, "--format", "json", "--config", os.DevNull, "--fail-on", "none"}
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
