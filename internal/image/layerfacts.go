package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"
)

// The layer cache's form of a LayerRecord (layerrecord.go): the same
// content — the layer's sizes, its entries in tar order, the files
// analyzers could not get, each LayerAnalyzer's saved results — streamed
// to and from bytes, so that writing or reading the record of a layer of
// a million entries costs the walk no more memory than reading the layer
// (a LayerRecord of it would take some 130 MiB).
//
// Encoding (then compressed with zstd, 256 KiB window): "DVLF" 1, then
// uvarints Stored, Tar, Size, entry count; each entry: type, flags (1
// escaped, 2 raw name follows), the length of the prefix it shares with
// the previous path, the rest of the path, mode, uid, gid, size, a link's
// target, the raw name; the skipped files (entry index, analyzer, reason);
// the analyzers' results (name, bytes). Strings are a uvarint length and
// the bytes. An entry is stored under the SHA-256 of the walk's layerKey
// and the layer's diff ID.

// LayerCache keeps layer records as bytes (layercache.Cache).
type LayerCache interface {
	// Get returns what Put stored under key, or false.
	Get(key string) ([]byte, bool)
	// Put stores what write produces under key.
	Put(key string, write func(io.Writer) error) error
}

const factsMagic = "DVLF\x01"

var errFacts = errors.New("malformed layer facts")

// cacheKey is where the layer cache keeps a layer's record.
func cacheKey(key string, diffID v1.Hash) string {
	sum := sha256.Sum256([]byte(key + "\nlayer " + diffID.String()))
	return "layer/" + hex.EncodeToString(sum[:])
}

// storeLayer writes the record of a layer just read to the layer cache.
func (w *walker) storeLayer(l *Layer, key string, files []*File, saved map[string]json.RawMessage) {
	var skipped []Skipped
	for _, s := range w.skipped {
		if s.File.Layer == l {
			skipped = append(skipped, s)
		}
	}
	w.opts.Cache.Put(cacheKey(key, l.DiffID), func(out io.Writer) error {
		// One encoder for the walk, with a small window: the entries of
		// a layer compress well within 256 KiB, and a scan's memory stays
		// where the walk keeps it.
		if w.zenc == nil {
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
				zstd.WithWindowSize(256<<10), zstd.WithLowerEncoderMem(true))
			if err != nil {
				return err
			}
			w.zenc = enc
		}
		enc := w.zenc
		enc.Reset(out)
		bw := bufio.NewWriterSize(enc, 64<<10)
		if err := w.encodeFacts(bw, l, files, skipped, saved); err != nil {
			return err // the next Reset starts the encoder afresh
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return enc.Close()
	})
}

func (w *walker) encodeFacts(bw *bufio.Writer, l *Layer, files []*File, skipped []Skipped, saved map[string]json.RawMessage) error {
	var tmp [binary.MaxVarintLen64]byte
	uv := func(x uint64) { bw.Write(tmp[:binary.PutUvarint(tmp[:], x)]) }
	sv := func(x int64) { bw.Write(tmp[:binary.PutVarint(tmp[:], x)]) }
	str := func(s string) { uv(uint64(len(s))); bw.WriteString(s) }
	bw.WriteString(factsMagic)
	uv(uint64(l.Stored))
	uv(uint64(l.Tar))
	uv(uint64(l.Size))
	uv(uint64(len(files)))
	// The skipped files are named by their position among the layer's.
	index := make(map[*File]int, len(skipped))
	for _, s := range skipped {
		index[s.File] = -1
	}
	// Paths are built in two buffers in turn, each compared with the
	// previous one: no string per entry.
	var prev, p []byte
	for i, f := range files {
		p = f.appendPath(p[:0])
		shared := 0
		for shared < len(p) && shared < len(prev) && p[shared] == prev[shared] {
			shared++
		}
		raw, hasRaw := w.view.rawNames[f]
		flags := byte(0)
		if f.Escaped {
			flags |= 1
		}
		if hasRaw {
			flags |= 2
		}
		bw.WriteByte(byte(f.Type))
		bw.WriteByte(flags)
		uv(uint64(shared))
		uv(uint64(len(p) - shared))
		bw.Write(p[shared:])
		uv(uint64(f.Mode))
		sv(int64(f.UID))
		sv(int64(f.GID))
		sv(f.Size)
		if f.Type == Symlink || f.Type == Hardlink {
			str(f.Linkname())
		}
		if hasRaw {
			str(raw)
		}
		prev, p = p, prev
		if _, ok := index[f]; ok {
			index[f] = i
		}
	}
	uv(uint64(len(skipped)))
	for _, s := range skipped {
		i, ok := index[s.File]
		if !ok || i < 0 {
			return errFacts
		}
		uv(uint64(i))
		str(s.Analyzer)
		str(s.Reason)
	}
	uv(uint64(len(w.analyzers)))
	for _, a := range w.analyzers {
		str(a.Name())
		str(string(saved[a.Name()]))
	}
	return nil
}

// loadLayer rebuilds layer l from the layer cache, if it has its record:
// its entries join the view, the analyzers get their results back, and
// the layer is not read. A record that does not decode is a miss.
func (w *walker) loadLayer(l *Layer, key, label string) ([]*File, bool, error) {
	payload, hit := w.opts.Cache.Get(cacheKey(key, l.DiffID))
	if !hit {
		return nil, false, nil
	}
	dec, err := zstd.NewReader(bytes.NewReader(payload), zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(256<<10))
	if err != nil {
		return nil, false, nil
	}
	defer dec.Close()
	entries := w.entries
	files, saved, skipped, stored, tar, size, err := w.decodeFacts(bufio.NewReaderSize(dec, 64<<10), l)
	if err != nil {
		// What was rebuilt is not in the view (apply was not called);
		// the layer is read instead.
		w.entries = entries
		if errors.Is(err, ErrLimit) {
			return nil, false, fmt.Errorf("%s: %w", label, err)
		}
		return nil, false, nil
	}
	if err := w.reused(l, label, tar); err != nil {
		return nil, false, err
	}
	for _, a := range w.analyzers {
		if err := a.(LayerAnalyzer).LoadLayer(files, saved[a.Name()]); err != nil {
			return nil, false, fmt.Errorf("%s: stored results of %s: %w", label, a.Name(), err)
		}
	}
	w.skipped = append(w.skipped, skipped...)
	l.Stored, l.Tar, l.Size, l.Files, l.Reused = stored, tar, size, len(files), true
	return files, true, nil
}

func (w *walker) decodeFacts(br *bufio.Reader, l *Layer) (files []*File, saved map[string]json.RawMessage, skipped []Skipped, stored, tar, size int64, err error) {
	fail := func(e error) ([]*File, map[string]json.RawMessage, []Skipped, int64, int64, int64, error) {
		if e == nil || e == io.EOF || errors.Is(e, io.ErrUnexpectedEOF) {
			e = errFacts
		}
		return nil, nil, nil, 0, 0, 0, e
	}
	magic := make([]byte, len(factsMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != factsMagic {
		return fail(err)
	}
	var rerr error
	uv := func() uint64 {
		x, err := binary.ReadUvarint(br)
		if err != nil && rerr == nil {
			rerr = err
		}
		return x
	}
	sv := func() int64 {
		x, err := binary.ReadVarint(br)
		if err != nil && rerr == nil {
			rerr = err
		}
		return x
	}
	str := func(limit int) string {
		n := uv()
		if rerr != nil || n > uint64(limit) {
			if rerr == nil {
				rerr = errFacts
			}
			return ""
		}
		// Read as the bytes come: a length that the input does not
		// back must not allocate it.
		var b strings.Builder
		if _, err := io.CopyN(&b, br, int64(n)); err != nil && rerr == nil {
			rerr = err
		}
		return b.String()
	}
	stored, tar, size = int64(uv()), int64(uv()), int64(uv())
	n := uv()
	if rerr != nil || n > uint64(w.opts.MaxEntries) {
		return fail(rerr)
	}
	files = make([]*File, 0, n)
	prev := ""
	for range n {
		typ, _ := br.ReadByte()
		flags, ferr := br.ReadByte()
		if ferr != nil {
			return fail(ferr)
		}
		shared := uv()
		rest := str(2 * maxNameLen)
		if rerr != nil || shared > uint64(len(prev)) {
			return fail(rerr)
		}
		e := EntryRecord{Path: prev[:shared] + rest, Type: Type(typ), Escaped: flags&1 != 0}
		e.Mode = fs.FileMode(uv())
		e.UID, e.GID, e.Size = int32(sv()), int32(sv()), sv()
		if e.Type == Symlink || e.Type == Hardlink {
			e.Linkname = str(maxNameLen)
		}
		if flags&2 != 0 {
			e.RawName = str(maxNameLen)
		}
		if rerr != nil {
			return fail(rerr)
		}
		w.entries++
		if w.entries > w.opts.MaxEntries {
			return fail(fmt.Errorf("more than %d entries in the image's layers (raise the limit if this image is real): %w", w.opts.MaxEntries, ErrLimit))
		}
		f, err := w.rebuild(l, e)
		if err != nil {
			return fail(err)
		}
		files = append(files, f)
		prev = e.Path
	}
	for range uv() {
		i := uv()
		a, r := str(1<<10), str(1<<12)
		if rerr != nil || i >= uint64(len(files)) {
			return fail(rerr)
		}
		skipped = append(skipped, Skipped{File: files[i], Analyzer: a, Reason: r})
	}
	count := uv()
	if rerr != nil || count != uint64(len(w.analyzers)) {
		return fail(rerr)
	}
	saved = make(map[string]json.RawMessage, count)
	for range count {
		name := str(1 << 12)
		data := str(1 << 30)
		if rerr != nil {
			return fail(rerr)
		}
		saved[name] = json.RawMessage(data)
	}
	for _, a := range w.analyzers {
		if _, ok := saved[a.Name()]; !ok {
			return fail(nil)
		}
	}
	return files, saved, skipped, stored, tar, size, nil
}
