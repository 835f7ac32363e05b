// Package imagegen writes the synthetic images the benchmarks scan, as OCI
// layouts: the performance image (about 1.1 GiB of text files in 10 layers
// that delete and overwrite each other's files) and images of many small
// files in one layer. The bytes depend only on the parameters, so every
// run of a benchmark scans the same image.
package imagegen

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// PerfVersion names the generator of the performance image; a change of
// the plan or the bytes changes it, so old images are not reused.
const PerfVersion = "v2"

// plan is one layer of the performance image.
type plan struct {
	small, smallMax int // number and maximum size of small files
	large           []int
	deleteFrom      int // layer whose small files this layer partly deletes (-1: none)
}

// perfLayers: layer 0 is a base of many small files; later layers add
// small files, a few large ones, and delete or overwrite some of what
// earlier layers added.
var perfLayers = []plan{
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

// words is the vocabulary of the generated files: text drawn from it
// compresses about 3:1, like the files of real images.
var words = func() []string {
	r := rand.New(rand.NewPCG(1, 1))
	ws := make([]string, 4096)
	for i := range ws {
		w := make([]byte, 2+r.IntN(9))
		for j := range w {
			w[j] = byte('a' + r.IntN(26))
		}
		ws[i] = string(w)
	}
	return ws
}()

// textFill writes text-like bytes.
func textFill(r *rand.Rand, b []byte) {
	i := 0
	for i < len(b) {
		v := r.Uint64()
		for k := 0; k < 4 && i < len(b); k++ {
			w := words[v&4095]
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

var mtime = time.Unix(1700000000, 0)

// layerWriter streams one layer into a gzip blob of the layout, hashing
// both forms on the way.
type layerWriter struct {
	dir  string
	tmp  *os.File
	comp *hashWriter
	bw   *bufio.Writer
	zw   *gzip.Writer
	raw  *hashWriter
	tw   *tar.Writer
	r    *rand.Rand
	buf  []byte
}

func newLayer(dir string, seed uint64) (*layerWriter, error) {
	tmp, err := os.CreateTemp(filepath.Join(dir, "blobs", "sha256"), "layer-*")
	if err != nil {
		return nil, err
	}
	lw := &layerWriter{dir: dir, tmp: tmp, comp: &hashWriter{h: sha256.New()}, raw: &hashWriter{h: sha256.New()},
		r: rand.New(rand.NewPCG(seed, 42)), buf: make([]byte, 1<<20)}
	lw.bw = bufio.NewWriterSize(io.MultiWriter(tmp, lw.comp), 1<<20)
	lw.zw, _ = gzip.NewWriterLevel(lw.bw, gzip.BestSpeed)
	lw.tw = tar.NewWriter(io.MultiWriter(lw.zw, lw.raw))
	return lw, nil
}

func (lw *layerWriter) dirEntry(name string) error {
	return lw.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime})
}

func (lw *layerWriter) whiteout(name string) error {
	return lw.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, ModTime: mtime})
}

func (lw *layerWriter) file(name string, size int) error {
	if err := lw.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(size), Mode: 0o644, ModTime: mtime}); err != nil {
		return err
	}
	for size > 0 {
		n := min(size, len(lw.buf))
		textFill(lw.r, lw.buf[:n])
		if _, err := lw.tw.Write(lw.buf[:n]); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

// close finishes the blob and names it by its digest.
func (lw *layerWriter) close() (v1.Descriptor, v1.Hash, error) {
	defer os.Remove(lw.tmp.Name())
	for _, c := range []func() error{lw.tw.Close, lw.zw.Close, lw.bw.Flush, lw.tmp.Close} {
		if err := c(); err != nil {
			return v1.Descriptor{}, v1.Hash{}, err
		}
	}
	d := lw.comp.digest()
	if err := os.Rename(lw.tmp.Name(), filepath.Join(lw.dir, "blobs", "sha256", d.Hex)); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	return v1.Descriptor{MediaType: types.OCILayer, Size: lw.comp.n, Digest: d}, lw.raw.digest(), nil
}

// Perf writes the performance image into dir (an OCI layout).
func Perf(dir string) error {
	return build(dir, len(perfLayers), func(i int, lw *layerWriter) error {
		p := perfLayers[i]
		for d := range 100 {
			if err := lw.dirEntry(fmt.Sprintf("l%d/d%02d/", i, d)); err != nil {
				return err
			}
		}
		for f := range p.small {
			if err := lw.file(fmt.Sprintf("l%d/d%02d/f%05d.txt", i, f%100, f), 1+lw.r.IntN(p.smallMax)); err != nil {
				return err
			}
		}
		for k, size := range p.large {
			if err := lw.file(fmt.Sprintf("opt/big%d-%d.bin", i, k), size); err != nil {
				return err
			}
		}
		if p.deleteFrom >= 0 {
			// Delete a tenth of an earlier layer's small files and its
			// large ones; overwrite another tenth.
			for f := 0; f < perfLayers[p.deleteFrom].small; f += 10 {
				if err := lw.whiteout(fmt.Sprintf("l%d/d%02d/.wh.f%05d.txt", p.deleteFrom, f%100, f)); err != nil {
					return err
				}
				if err := lw.file(fmt.Sprintf("l%d/d%02d/f%05d.txt", p.deleteFrom, (f+1)%100, f+1), 1+lw.r.IntN(4096)); err != nil {
					return err
				}
			}
			for k := range perfLayers[p.deleteFrom].large {
				if err := lw.whiteout(fmt.Sprintf("opt/.wh.big%d-%d.bin", p.deleteFrom, k)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// SmallFiles writes an image of one layer holding entries tar entries:
// directories of 99 small text files each (1 to 1024 bytes), named like
// the files of a node_modules tree, so that paths are as long as real
// ones (about 45 bytes).
func SmallFiles(dir string, entries int) error {
	return build(dir, 1, func(_ int, lw *layerWriter) error {
		if err := lw.dirEntry("srv/"); err != nil {
			return err
		}
		if err := lw.dirEntry("srv/app/"); err != nil {
			return err
		}
		if err := lw.dirEntry("srv/app/node_modules/"); err != nil {
			return err
		}
		n := 3
		for d := 0; n < entries; d++ {
			pkg := fmt.Sprintf("srv/app/node_modules/package-%05d/", d)
			if err := lw.dirEntry(pkg); err != nil {
				return err
			}
			n++
			for f := 0; f < 99 && n < entries; f++ {
				if err := lw.file(fmt.Sprintf("%smodule-%04d.js", pkg, f), 1+lw.r.IntN(1024)); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
}

// build writes an OCI layout of layers made by fill, with a config that
// runs as a non-root user and has a health check (so the image rules have
// little to say about the config).
func build(dir string, layers int, fill func(i int, lw *layerWriter) error) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return err
	}
	blob := func(data []byte, mt types.MediaType) (v1.Descriptor, error) {
		sum := sha256.Sum256(data)
		d := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
		err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Hex), data, 0o644)
		return v1.Descriptor{MediaType: mt, Size: int64(len(data)), Digest: d}, err
	}
	cf := v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, RootFS: v1.RootFS{Type: "layers"},
		Config: v1.Config{User: "10001", Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/app"}}}}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	for i := range layers {
		lw, err := newLayer(dir, uint64(i))
		if err != nil {
			return err
		}
		if err := fill(i, lw); err != nil {
			return err
		}
		desc, diffID, err := lw.close()
		if err != nil {
			return err
		}
		m.Layers = append(m.Layers, desc)
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, diffID)
		cf.History = append(cf.History, v1.History{CreatedBy: fmt.Sprintf("RUN /bin/sh -c generate layer %d # buildkit", i)})
	}
	cfg, _ := json.Marshal(cf)
	var err error
	if m.Config, err = blob(cfg, types.OCIConfigJSON); err != nil {
		return err
	}
	man, _ := json.Marshal(m)
	md, err := blob(man, types.OCIManifestSchema1)
	if err != nil {
		return err
	}
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{md}})
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
}

// Floor inflates and reads every layer of the layout in dir, nothing else:
// the least any tool that looks at every file must do. It uses the same
// gzip decoder as dockvet's walk, and returns the bytes of file content.
func Floor(dir string) (int64, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return 0, err
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil || len(idx.Manifests) == 0 {
		return 0, fmt.Errorf("%s: no manifest in index.json", dir)
	}
	if raw, err = os.ReadFile(filepath.Join(dir, "blobs", "sha256", idx.Manifests[0].Digest.Hex)); err != nil {
		return 0, err
	}
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return 0, err
	}
	var total int64
	for _, l := range m.Layers {
		n, err := readLayer(filepath.Join(dir, "blobs", "sha256", l.Digest.Hex))
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func readLayer(name string) (int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return 0, err
	}
	tr := tar.NewReader(zr)
	var total int64
	for {
		_, err := tr.Next()
		if err == io.EOF {
			return total, nil
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
}
