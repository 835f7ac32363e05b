package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"
)

// The per-layer result: what one walk of one layer found, and what the
// layer cache (internal/layercache, --cache-dir) stores so that a later
// walk need not read the layer again. This file is its one definition.
//
// A layer's facts are
//
//   - the layer's sizes (stored, tar stream, file content) and entry count;
//   - its entries in tar order: path, type, mode, owner, size, link target,
//     and for an escaped name the name as written;
//   - the files analyzers asked for and did not get (View.Skipped);
//   - what each analyzer recorded for the layer's files (Cached.Save),
//     keyed by the entry's position in the layer.
//
// Nothing in them depends on the other layers: what a later layer deletes
// or overwrites, the bytes it wastes, which version of a path the final
// filesystem shows, and so every finding, are worked out again from the
// facts of all layers by the merge and the rules (View.apply, Check).
//
// A layer's facts are stored under a key naming everything they depend
// on (cacheKey): the layer's diff ID, the program (layercache.Program:
// any change of dockvet's code, rules included, is a new key), the walk's
// options that change what analyzers get (MaxWholeFile), and each
// analyzer's CacheKey (its version, rules and options: the secret
// engine's Identity, the package extractors). A walk caches only when
// every analyzer implements Cached.
//
// Encoding (then compressed with zstd): "DVLF" 1, then uvarints Stored,
// Tar, Size, entry count; each entry: type, flags (1 escaped, 2 raw name
// follows), the length of the prefix it shares with the previous path,
// the rest of the path, mode, uid, gid, size, a link's target, the raw
// name; the skipped files (entry index, analyzer, reason); the analyzers'
// records (key, bytes). Strings are a uvarint length and the bytes.

// LayerStore keeps layers' facts between walks (layercache.Cache).
type LayerStore interface {
	// Get returns what Put stored under key, or false.
	Get(key string) ([]byte, bool)
	// Put stores what write produces under key.
	Put(key string, write func(io.Writer) error) error
}

// Cached is an Analyzer whose results per layer can be stored with the
// layer's facts and given back to a later walk that does not read the
// layer.
type Cached interface {
	Analyzer
	// CacheKey names the analyzer and everything its results depend on:
	// its version, rules and options. "" means its results cannot be
	// cached.
	CacheKey() string
	// Save encodes what Visit (and Want) recorded for files, the entries
	// of one layer in tar order.
	Save(files []*File) ([]byte, error)
	// Load gives back what Save encoded, for the same entries rebuilt from
	// the cache; Want and Visit are not called for them.
	Load(files []*File, data []byte) error
}

const factsMagic = "DVLF\x01"

var errFacts = errors.New("malformed layer facts")

// cacheKey is the key of a layer's facts for this walk, or "" when the
// walk cannot be cached.
func (w *walker) cacheKey(diffID v1.Hash) string {
	if w.opts.Cache == nil || w.opts.Program == "" || diffID.Hex == "" {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "program %s\nwhole %d\n", w.opts.Program, w.opts.MaxWholeFile)
	for _, a := range w.analyzers {
		c, ok := a.(Cached)
		if !ok || c.CacheKey() == "" {
			return ""
		}
		fmt.Fprintf(h, "analyzer %q\n", c.CacheKey())
	}
	fmt.Fprintf(h, "layer %s\n", diffID)
	return "layer/" + hex.EncodeToString(h.Sum(nil))
}

// storeLayer writes the facts of a layer just read. A failure to store is
// not a failure of the walk: the next walk reads the layer again.
func (w *walker) storeLayer(l *Layer, files []*File) {
	key := w.cacheKey(l.DiffID)
	if key == "" {
		return
	}
	saved := make([][]byte, len(w.analyzers))
	for i, a := range w.analyzers {
		b, err := a.(Cached).Save(files)
		if err != nil {
			return
		}
		saved[i] = b
	}
	var skipped []Skipped
	for _, s := range w.skipped {
		if s.File.Layer == l {
			skipped = append(skipped, s)
		}
	}
	w.opts.Cache.Put(key, func(out io.Writer) error {
		// A small window: the entries of a layer compress well within
		// a megabyte, and a scan's memory stays where the walk keeps it.
		enc, err := zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(enc, 64<<10)
		if err := w.encodeFacts(bw, l, files, skipped, saved); err != nil {
			enc.Close()
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return enc.Close()
	})
}

func (w *walker) encodeFacts(bw *bufio.Writer, l *Layer, files []*File, skipped []Skipped, saved [][]byte) error {
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
	prev := ""
	for i, f := range files {
		p := f.Path()
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
		str(p[shared:])
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
		prev = p
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
	uv(uint64(len(saved)))
	for i, b := range saved {
		str(w.analyzers[i].(Cached).CacheKey())
		str(string(b))
	}
	return nil
}

// loadLayer rebuilds layer l from its stored facts, if the store has them:
// its entries join the view, the analyzers get their records back, and
// the layer is not read. A damaged entry is a miss.
func (w *walker) loadLayer(l *Layer, label string) (files []*File, ok bool, err error) {
	key := w.cacheKey(l.DiffID)
	if key == "" {
		return nil, false, nil
	}
	payload, hit := w.opts.Cache.Get(key)
	if !hit {
		return nil, false, nil
	}
	dec, derr := zstd.NewReader(bytes.NewReader(payload), zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(1<<20))
	if derr != nil {
		return nil, false, nil
	}
	defer dec.Close()
	entries := w.entries
	files, saved, skipped, stored, tar, size, derr := w.decodeFacts(bufio.NewReaderSize(dec, 64<<10), l)
	if derr != nil {
		// What was rebuilt is not in the view (apply was not called);
		// the layer is read instead.
		w.entries = entries
		if errors.Is(derr, ErrLimit) {
			return nil, false, fmt.Errorf("%s: %w", label, derr)
		}
		return nil, false, nil // the store checks its entries; this one was written by a bug
	}
	// The caps hold for a layer not read as well: the same image must not
	// pass with a warm cache and fail without one.
	w.total += tar
	if tar > w.opts.MaxLayerBytes {
		return nil, false, fmt.Errorf("%s: uncompressed size exceeds the per-layer limit of %s (a compression bomb, or raise --max-layer-size): %w", label, humanBytes(w.opts.MaxLayerBytes), ErrLimit)
	}
	if w.total > w.opts.MaxImageBytes {
		return nil, false, fmt.Errorf("%s: uncompressed size of the image exceeds the limit of %s (raise --max-image-size): %w", label, humanBytes(w.opts.MaxImageBytes), ErrLimit)
	}
	for i, a := range w.analyzers {
		if err := a.(Cached).Load(files, saved[i]); err != nil {
			return nil, false, fmt.Errorf("%s: %s: cached results: %w", label, a.Name(), err)
		}
	}
	w.skipped = append(w.skipped, skipped...)
	l.Stored, l.Tar, l.Size, l.Files = stored, tar, size, len(files)
	return files, true, nil
}

func (w *walker) decodeFacts(br *bufio.Reader, l *Layer) (files []*File, saved [][]byte, skipped []Skipped, stored, tar, size int64, err error) {
	fail := func(e error) ([]*File, [][]byte, []Skipped, int64, int64, int64, error) {
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
		p := prev[:shared] + rest
		f := w.view.newFile()
		f.Layer, f.Type, f.Escaped = l, Type(typ), flags&1 != 0
		f.Mode = fs.FileMode(uv())
		f.UID, f.GID, f.Size = int32(sv()), int32(sv()), sv()
		link, hasLink := "", false
		if f.Type == Symlink || f.Type == Hardlink {
			link, hasLink = str(maxNameLen), true
		}
		if flags&2 != 0 {
			w.view.rawNames[f] = str(maxNameLen)
		}
		if rerr != nil || !strings.HasPrefix(p, "/") {
			return fail(rerr)
		}
		w.entries++
		if w.entries > w.opts.MaxEntries {
			return fail(fmt.Errorf("more than %d entries in the image's layers (raise the limit if this image is real): %w", w.opts.MaxEntries, ErrLimit))
		}
		if p != "/" {
			f.dir = w.view.intern(path.Dir(p))
		}
		ptr, ln, err := w.view.names.store(path.Base(p), link, hasLink)
		if err != nil {
			return fail(err)
		}
		if p == "/" {
			ptr, ln = nil, 0
		}
		f.name, f.nlen = ptr, uint16(ln)|f.nlen&inEntry
		files = append(files, f)
		prev = p
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
	saved = make([][]byte, count)
	for i := range saved {
		key := str(1 << 12)
		data := str(1 << 30)
		if rerr != nil || key != w.analyzers[i].(Cached).CacheKey() {
			return fail(rerr)
		}
		saved[i] = []byte(data)
	}
	return files, saved, skipped, stored, tar, size, nil
}
