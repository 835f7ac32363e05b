//go:build linux

package hostile

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/klauspost/compress/gzip"
)

// The image cases are OCI layouts written by hand rather than through
// go-containerregistry: a hostile case needs what a well-behaved writer
// refuses to produce (one layer listed 80 times, indexes that list the
// next index 30 times), and a hand-written layout is the same few lines
// for the ordinary twins.

const (
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayerGz  = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// layout writes an OCI image layout directory.
type layout struct{ dir string }

func newLayout(dir string) (*layout, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return nil, err
	}
	return &layout{dir: dir}, nil
}

// blob stores data under its digest.
func (l *layout) blob(mediaType string, data []byte) (descriptor, error) {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	if err := os.WriteFile(filepath.Join(l.dir, "blobs", "sha256", h), data, 0o644); err != nil {
		return descriptor{}, err
	}
	return descriptor{MediaType: mediaType, Digest: "sha256:" + h, Size: int64(len(data))}, nil
}

func (l *layout) jsonBlob(mediaType string, v any) (descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return descriptor{}, err
	}
	return l.blob(mediaType, b)
}

// index writes a nested index as a blob.
func (l *layout) index(manifests []descriptor) (descriptor, error) {
	return l.jsonBlob(mediaIndex, map[string]any{"schemaVersion": 2, "mediaType": mediaIndex, "manifests": manifests})
}

func (l *layout) writeIndexJSON(manifests []descriptor) error {
	b, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mediaIndex, "manifests": manifests})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(l.dir, "index.json"), b, 0o644)
}

// layer is one gzip-compressed tar layer and its uncompressed digest.
type layer struct {
	gz     []byte
	diffID string
}

// image writes a config and a manifest whose layers are the given layers
// in order (the same layer may appear many times), and returns the
// manifest's descriptor.
func (l *layout) image(layers []layer) (descriptor, error) {
	diffIDs := make([]string, len(layers))
	hist := make([]map[string]any, len(layers))
	for i, ly := range layers {
		diffIDs[i] = ly.diffID
		hist[i] = map[string]any{"created": "2026-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) COPY dir:hostile in / "}
	}
	cfg := map[string]any{
		"architecture": runtime.GOARCH, "os": "linux", "created": "2026-01-01T00:00:00Z",
		"config":  map[string]any{"User": "1000", "Env": []string{"PATH=/usr/local/bin:/usr/bin:/bin"}},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": hist,
	}
	cd, err := l.jsonBlob(mediaConfig, cfg)
	if err != nil {
		return descriptor{}, err
	}
	seen := map[string]bool{}
	lds := make([]descriptor, len(layers))
	for i, ly := range layers {
		sum := sha256.Sum256(ly.gz)
		d := descriptor{MediaType: mediaLayerGz, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(ly.gz))}
		if !seen[d.Digest] {
			seen[d.Digest] = true
			if _, err := l.blob(mediaLayerGz, ly.gz); err != nil {
				return descriptor{}, err
			}
		}
		lds[i] = d
	}
	return l.jsonBlob(mediaManifest, map[string]any{"schemaVersion": 2, "mediaType": mediaManifest, "config": cd, "layers": lds})
}

// writeImage writes a whole single-image layout.
func writeImage(dir string, layers ...layer) error {
	l, err := newLayout(dir)
	if err != nil {
		return err
	}
	md, err := l.image(layers)
	if err != nil {
		return err
	}
	md.Annotations = map[string]string{"org.opencontainers.image.ref.name": "hostile"}
	return l.writeIndexJSON([]descriptor{md})
}

// layerWriter streams a tar through gzip, hashing both sides; the
// compressed bytes are kept (every hostile layer compresses well).
type layerWriter struct {
	tw   *tar.Writer
	gzw  *gzip.Writer
	buf  bytes.Buffer
	diff hash.Hash
}

func newLayer() *layerWriter {
	lw := &layerWriter{diff: sha256.New()}
	lw.gzw = gzip.NewWriter(&lw.buf)
	lw.tw = tar.NewWriter(io.MultiWriter(lw.gzw, lw.diff))
	return lw
}

var epoch = time.Unix(1767225600, 0) // 2026-01-01

func (lw *layerWriter) dir(name string) error {
	return lw.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
}

func (lw *layerWriter) file(name string, body []byte) error {
	if err := lw.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := lw.tw.Write(body)
	return err
}

// stream writes a file of size bytes from r.
func (lw *layerWriter) stream(name string, size int64, r io.Reader) error {
	if err := lw.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return err
	}
	n, err := io.CopyN(lw.tw, r, size)
	if err == nil && n != size {
		err = fmt.Errorf("short copy")
	}
	return err
}

func (lw *layerWriter) close() (layer, error) {
	if err := lw.tw.Close(); err != nil {
		return layer{}, err
	}
	if err := lw.gzw.Close(); err != nil {
		return layer{}, err
	}
	return layer{gz: lw.buf.Bytes(), diffID: "sha256:" + hex.EncodeToString(lw.diff.Sum(nil))}, nil
}

// filesLayer is a layer of the given files (name -> content), with
// their parent directories.
func filesLayer(files ...file) (layer, error) {
	lw := newLayer()
	dirs := map[string]bool{}
	for _, f := range files {
		for d := filepath.Dir(f.name); d != "." && d != "/" && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	// Parents before children: sorted by length is enough for a tar reader.
	var ds []string
	for d := range dirs {
		ds = append(ds, d)
	}
	sortByLen(ds)
	for _, d := range ds {
		if err := lw.dir(d); err != nil {
			return layer{}, err
		}
	}
	for _, f := range files {
		if err := lw.file(f.name, f.body); err != nil {
			return layer{}, err
		}
	}
	return lw.close()
}

type file struct {
	name string
	body []byte
}

func sortByLen(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (len(s[j]) < len(s[j-1]) || len(s[j]) == len(s[j-1]) && s[j] < s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// osRelease makes the image a Debian one, so the package extractors that
// need a distribution run.
var osRelease = file{"etc/os-release", []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n")}

// zipEntry is one entry of a stored (uncompressed) zip archive.
type zipEntry struct {
	name string
	data []byte
}

// overlappingZip writes a stored zip archive of the given entries plus
// copies more central-directory entries (names "lib/dupN.jar") that all
// point at the local record of the entry named dup: the archive stays
// the size of one copy, and a reader that opens every entry reads it
// copies+1 times. archive/zip accepts it, as do the JDK and unzip.
func overlappingZip(entries []zipEntry, dup string, copies int) []byte {
	var buf bytes.Buffer
	type rec struct {
		name      string
		crc, size uint32
		off       uint32
	}
	var recs []rec
	var dupRec rec
	for _, e := range entries {
		r := rec{name: e.name, crc: crc32.ChecksumIEEE(e.data), size: uint32(len(e.data)), off: uint32(buf.Len())}
		var h [30]byte
		binary.LittleEndian.PutUint32(h[0:], 0x04034b50)
		binary.LittleEndian.PutUint16(h[4:], 10) // version needed
		binary.LittleEndian.PutUint16(h[8:], 0)  // stored
		binary.LittleEndian.PutUint32(h[14:], r.crc)
		binary.LittleEndian.PutUint32(h[18:], r.size)
		binary.LittleEndian.PutUint32(h[22:], r.size)
		binary.LittleEndian.PutUint16(h[26:], uint16(len(e.name)))
		buf.Write(h[:])
		buf.WriteString(e.name)
		buf.Write(e.data)
		recs = append(recs, r)
		if e.name == dup {
			dupRec = r
		}
	}
	for i := 0; i < copies && dup != ""; i++ {
		r := dupRec
		r.name = fmt.Sprintf("lib/dup%d.jar", i)
		recs = append(recs, r)
	}
	cdStart := buf.Len()
	for _, r := range recs {
		var h [46]byte
		binary.LittleEndian.PutUint32(h[0:], 0x02014b50)
		binary.LittleEndian.PutUint16(h[4:], 20)
		binary.LittleEndian.PutUint16(h[6:], 10)
		binary.LittleEndian.PutUint32(h[16:], r.crc)
		binary.LittleEndian.PutUint32(h[20:], r.size)
		binary.LittleEndian.PutUint32(h[24:], r.size)
		binary.LittleEndian.PutUint16(h[28:], uint16(len(r.name)))
		binary.LittleEndian.PutUint32(h[42:], r.off)
		buf.Write(h[:])
		buf.WriteString(r.name)
	}
	cdSize := buf.Len() - cdStart
	var e [22]byte
	binary.LittleEndian.PutUint32(e[0:], 0x06054b50)
	binary.LittleEndian.PutUint16(e[8:], uint16(len(recs)))
	binary.LittleEndian.PutUint16(e[10:], uint16(len(recs)))
	binary.LittleEndian.PutUint32(e[12:], uint32(cdSize))
	binary.LittleEndian.PutUint32(e[16:], uint32(cdStart))
	buf.Write(e[:])
	return buf.Bytes()
}
