package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Options bound what reading one image may cost. Zero fields take the
// defaults of DefaultOptions.
type Options struct {
	// MaxLayerBytes caps the uncompressed bytes of one layer, and
	// MaxImageBytes those of all layers together: a gzip bomb stops here
	// with an error instead of running for hours.
	MaxLayerBytes int64
	MaxImageBytes int64
	// MaxEntries caps the tar entries of all layers; the walk keeps under
	// 80 bytes per entry, so this bounds its memory.
	MaxEntries int
	// MaxWholeFile is the largest file held in memory for Want.Whole.
	MaxWholeFile int64
	// Progress, when set, is told how the walk advances (see Progress).
	// It is called often, from the goroutines that inflate and parse: it
	// must be cheap and safe for concurrent use.
	Progress func(Progress)
	// Layers, when set, keeps what each layer yielded (LayerRecord), and
	// a layer it holds is not read again; LayerKey names what else the
	// records depend on (the caller's version). Used only when every
	// analyzer is a LayerAnalyzer, for sources read base first.
	Layers   LayerStore
	LayerKey string
	// Cache keeps the same records as Layers, streamed to and from bytes
	// (layerfacts.go) rather than built in memory: the layer cache under
	// --cache-dir (internal/layercache), whose memory must stay within the
	// walk's for a layer of a million entries.
	Cache LayerCache
}

// Progress is how far a walk has come, in the unit whose total the source
// knows before the walk: the stored (usually compressed) bytes of an
// archive, a layout or a registry image, whose manifest or archive gives
// every layer's size; the bytes of file content for an image streamed from
// the Engine, which reports its total for the image.
type Progress struct {
	// Layer is the layer being read, from 1 in the order read; Layers is
	// the number of layers, 0 when the source has not said.
	Layer, Layers int
	// Done is the bytes read so far and Total the bytes the source said
	// there are, 0 when it did not say. Done can pass Total slightly for
	// the Engine, whose total is measured on its own disk.
	Done, Total int64
}

// DefaultOptions are generous for real images and still bound a hostile one.
func DefaultOptions() Options {
	return Options{
		MaxLayerBytes: 16 << 30,
		MaxImageBytes: 64 << 30,
		MaxEntries:    1_000_000,
		MaxWholeFile:  64 << 20,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxLayerBytes <= 0 {
		o.MaxLayerBytes = d.MaxLayerBytes
	}
	if o.MaxImageBytes <= 0 {
		o.MaxImageBytes = d.MaxImageBytes
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = d.MaxEntries
	}
	if o.MaxWholeFile <= 0 {
		o.MaxWholeFile = d.MaxWholeFile
	}
	return o
}

// Limits on single names: longer than PATH_MAX is no real file.
const (
	maxNameLen = 4096
	// smallFile is the size up to which a file wanted by several analyzers
	// is read into memory once instead of being streamed to each.
	smallFile = 1 << 20
)

// ErrLimit marks an error raised by one of the Options caps.
var ErrLimit = errors.New("limit reached")

// Walk reads every layer of img once, feeding the analyzers, and returns
// the merged view after calling their Finish. A source that cannot be read
// completely (truncated, corrupt, over a limit, a digest that does not
// match) is an error: the view of half an image would mislead.
func Walk(ctx context.Context, img *Image, opts Options, analyzers ...Analyzer) (*View, error) {
	w := newWalker(ctx, img, opts, analyzers)
	if pr := opts.Progress; pr != nil {
		// Said before the first byte: the Engine takes a while to start a
		// save, and the totals are known already.
		if img.stream != nil {
			pr(Progress{Layers: img.layerCount, Total: img.contentTotal})
		} else {
			pr(Progress{Layers: len(img.Layers), Total: img.storedTotal()})
		}
	}
	var err error
	if img.stream != nil {
		w.streamed = true
		err = img.stream(w)
	} else {
		err = w.readAll()
	}
	if err != nil {
		return nil, err
	}
	v := w.merge()
	for _, a := range analyzers {
		if err := a.Finish(v); err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name(), err)
		}
	}
	return v, nil
}

func newWalker(ctx context.Context, img *Image, opts Options, analyzers []Analyzer) *walker {
	return &walker{ctx: ctx, img: img, opts: opts.withDefaults(), analyzers: analyzers, view: newView(img),
		records: map[*Layer][]*File{}, walkedDiff: map[*Layer]v1.Hash{}}
}

type walker struct {
	ctx       context.Context
	img       *Image
	opts      Options
	analyzers []Analyzer
	// view is built as the layers are read: a random-access source's
	// layers are merged into it as soon as each is read, a streamed
	// source's when its order is known (merge).
	view *View

	total int64 // uncompressed bytes read so far
	// storedDone is the stored bytes of the layers read whole; stored
	// counts those of the layer being read (progress of random-access
	// sources). contentDone is the file content parsed so far (progress
	// of a streamed source).
	storedDone  int64
	stored      *countReader
	contentDone int64
	started     int   // layers begun
	content     int64 // file content handed to analyzers so far
	entries     int
	// records are the entries of the layers read but not merged yet.
	records map[*Layer][]*File
	// walkedDiff is the digest each streamed layer was read with.
	walkedDiff map[*Layer]v1.Hash
	buf        []byte
	limited    io.LimitedReader
	wants      []wanted
	aheadBufs  [][]byte
	zenc       *zstd.Encoder // the layer cache's, made on first use
	skipped    []Skipped
	// streamed is set while a streamed source is read: its layers are
	// merged at the end, in the order its manifest gives.
	streamed bool
}

// readAll reads the layers of a random-access source, base first. A layer
// whose record the walk's stores hold (Options.Cache, Options.Layers) is
// rebuilt from it instead of being read; a layer read whole and verified
// is recorded (a store that cannot keep it costs a read next time).
func (w *walker) readAll() error {
	key := w.layerKey()
	// A layer listed at several positions (one 1 GiB layer listed 80
	// times was inflated 64 times before the image cap stopped it) is
	// read once; its record, kept in memory, is replayed at the later
	// positions, charged to the caps as if read.
	first := map[v1.Hash]*Layer{}
	repeats := map[v1.Hash]*LayerRecord{}
	for _, l := range w.img.Layers {
		if f, ok := first[l.DiffID]; ok {
			l.RepeatOf = f
			repeats[l.DiffID] = nil
		} else {
			first[l.DiffID] = l
		}
	}
	for i, l := range w.img.Layers {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		label := fmt.Sprintf("layer %d", i)
		files, ok, err := w.reuse(l, key, label)
		if rec := repeats[l.DiffID]; rec != nil && err == nil && !ok {
			files, ok, err = w.replay(l, rec, label)
		}
		if err != nil {
			return err
		}
		if ok {
			w.view.apply(files)
			w.started++
			w.storedDone += l.Stored
			if pr := w.opts.Progress; pr != nil {
				pr(Progress{Layer: w.started, Layers: len(w.img.Layers), Done: w.storedDone, Total: w.img.storedTotal()})
			}
			continue
		}
		rc, err := w.img.open(i)
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		diffID, files, err := w.readLayer(l, rc, label)
		cerr := rc.Close()
		if err == nil && cerr != nil {
			err = fmt.Errorf("layer %d: %w", i, cerr)
		}
		if err != nil {
			return err
		}
		if diffID != l.DiffID {
			return fmt.Errorf("layer %d: content does not match its digest: the config says %s, the layer holds %s", i, short(l.DiffID), short(diffID))
		}
		_, repeated := repeats[l.DiffID]
		if key == "" && !repeated {
			continue
		}
		saved, ok := w.saveLayer(files)
		if !ok {
			continue
		}
		if key != "" {
			w.keep(l, key, files, saved)
		}
		if repeated {
			repeats[l.DiffID] = w.record(l, files, saved)
		}
	}
	return nil
}

// countReader counts the bytes that pass.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// capReader stops a layer's uncompressed stream at the layer and image caps.
type capReader struct {
	r     io.Reader
	w     *walker
	n     int64
	label string
	layer int // its number, from 1, for Progress
}

func (c *capReader) Read(p []byte) (int, error) {
	// Checked per chunk, not only between entries: one large file (or a
	// skipped one) is otherwise read to its end after Ctrl-C.
	if err := c.w.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.w.total += int64(n)
	if pr := c.w.opts.Progress; pr != nil && c.w.img.stream == nil {
		pr(Progress{Layer: c.layer, Layers: len(c.w.img.Layers), Done: c.w.storedDone + c.w.stored.n, Total: c.w.img.storedTotal()})
	}
	if c.n > c.w.opts.MaxLayerBytes {
		return n, fmt.Errorf("%s: uncompressed size exceeds the per-layer limit of %s (a compression bomb, or raise --max-layer-size): %w", c.label, humanBytes(c.w.opts.MaxLayerBytes), ErrLimit)
	}
	if c.w.total > c.w.opts.MaxImageBytes {
		return n, fmt.Errorf("%s: uncompressed size of the image exceeds the limit of %s (raise --max-image-size): %w", c.label, humanBytes(c.w.opts.MaxImageBytes), ErrLimit)
	}
	return n, err
}

// readAhead reads a stream in a goroutine of its own, a few chunks ahead of
// its consumer; memory stays at aheadChunks × aheadSize.
type readAhead struct {
	full   chan aheadChunk
	free   chan []byte
	done   chan struct{}
	exited chan struct{}
	cur    []byte
	last   []byte
	err    error
	closed bool
}

type aheadChunk struct {
	b   []byte
	err error
}

const (
	aheadChunks = 4
	aheadSize   = 256 << 10
)

// newReadAhead starts reading r; bufs are buffers of aheadSize a previous
// readAhead gave back (release), so that a walk of many layers allocates
// them once.
func newReadAhead(r io.Reader, bufs [][]byte) *readAhead {
	ra := &readAhead{full: make(chan aheadChunk, aheadChunks), free: make(chan []byte, aheadChunks),
		done: make(chan struct{}), exited: make(chan struct{})}
	for i := range aheadChunks {
		if i < len(bufs) {
			ra.free <- bufs[i][:aheadSize]
		} else {
			ra.free <- make([]byte, aheadSize)
		}
	}
	go func() {
		defer close(ra.exited)
		for {
			var buf []byte
			select {
			case buf = <-ra.free:
			case <-ra.done:
				return
			}
			n, err := 0, error(nil)
			for n < len(buf) && err == nil {
				var k int
				k, err = r.Read(buf[n:])
				n += k
			}
			select {
			case ra.full <- aheadChunk{buf[:n], err}:
			case <-ra.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ra
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.err != nil {
			return 0, ra.err
		}
		if ra.last != nil {
			ra.free <- ra.last[:cap(ra.last)]
			ra.last = nil
		}
		c := <-ra.full
		ra.cur, ra.last, ra.err = c.b, c.b, c.err
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the reading goroutine and waits until it has returned, so
// nothing reads the source after Close.
func (ra *readAhead) Close() {
	if ra.closed {
		return
	}
	ra.closed = true
	close(ra.done)
	<-ra.exited
}

// release closes ra and returns its buffers for the next one.
func (ra *readAhead) release() [][]byte {
	ra.Close()
	var out [][]byte
	for len(ra.free) > 0 {
		out = append(out, <-ra.free)
	}
	for len(ra.full) > 0 {
		out = append(out, (<-ra.full).b)
	}
	if ra.last != nil {
		out = append(out, ra.last)
	}
	ra.cur, ra.last = nil, nil
	for i := range out {
		out[i] = out[i][:cap(out[i])]
	}
	return out
}

// contentCap charges the file content handed to analyzers to the caps as
// well: a sparse file expands to its full size when read, so a few bytes of
// tar could otherwise keep an analyzer reading zeros for hours.
type contentCap struct {
	r     io.Reader
	w     *walker
	n     int64
	label string
}

func (c *contentCap) Read(p []byte) (int, error) {
	// An analyzer reading a large file stops at the next chunk once the
	// walk is cancelled.
	if err := c.w.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.w.content += int64(n)
	// The layer's own stream may be over the limit too: its reader runs
	// ahead and reports that later, so this message names both causes.
	if c.n > c.w.opts.MaxLayerBytes {
		return n, fmt.Errorf("%s: file content read for analysis exceeds the per-layer limit of %s (a compression bomb or sparse files expanding, or raise --max-layer-size): %w",
			c.label, humanBytes(c.w.opts.MaxLayerBytes), ErrLimit)
	}
	if c.w.content > c.w.opts.MaxImageBytes {
		return n, fmt.Errorf("%s: file content read for analysis exceeds the image limit of %s (sparse files expanding, or raise --max-image-size): %w",
			c.label, humanBytes(c.w.opts.MaxImageBytes), ErrLimit)
	}
	return n, err
}

// zstd frames may ask for a window of up to 2 GiB; a layer written by any
// real tool uses 8 MiB or less (--long uses 128 MiB). A bigger window is
// refused so that a hostile frame cannot make the decoder allocate it.
const zstdMaxWindow = 128 << 20

// decompress sniffs the stored bytes: gzip, zstd or a plain tar. gzip is
// klauspost's: the same format, inflated about a fifth faster than the
// standard library's.
func decompress(br *bufio.Reader) (io.Reader, func(), error) {
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case len(magic) == 4 && bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow), zstd.WithDecoderMaxMemory(zstdMaxWindow*2))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return zr, zr.Close, nil
	}
	return br, func() {}, nil
}

// readLayer reads one layer's stored bytes to the end, recording its
// entries for l and feeding the analyzers, and returns the digest of the
// uncompressed stream (the layer's diff ID).
func (w *walker) readLayer(l *Layer, raw io.Reader, label string) (v1.Hash, []*File, error) {
	stored := &countReader{r: raw}
	w.stored = stored
	br := bufio.NewReaderSize(stored, 64<<10)
	un, closeFn, err := decompress(br)
	if err != nil {
		return v1.Hash{}, nil, fmt.Errorf("%s: %w", label, err)
	}
	defer closeFn()
	h := sha256.New()
	w.started++
	capped := &capReader{r: un, w: w, label: label, layer: w.started}
	// Inflating and hashing run in a goroutine of their own, ahead of the
	// tar parsing and the analyzers, so that two cores share the work
	// (the hash sees every byte of the uncompressed stream, in large
	// chunks). h is read only once ahead has stopped: the stream is read
	// to its end before, and Close waits for the goroutine.
	ahead := newReadAhead(io.TeeReader(capped, h), w.aheadBufs)
	w.aheadBufs = nil
	defer func() { w.aheadBufs = ahead.release() }()
	tarIn := bufio.NewReaderSize(ahead, 64<<10)
	tr := tar.NewReader(tarIn)
	content := &contentCap{r: tr, w: w, label: label}
	var files []*File
	for {
		if err := w.ctx.Err(); err != nil {
			return v1.Hash{}, nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return v1.Hash{}, nil, layerErr(label, err)
		}
		f, err := w.entry(l, hdr, label)
		if err != nil {
			return v1.Hash{}, nil, err
		}
		if f == nil {
			continue
		}
		files = append(files, f)
		l.Files++
		if pr := w.opts.Progress; pr != nil && w.img.stream != nil {
			// The Engine counts a layer's size as its files' bytes and
			// its symbolic links' targets, hard links once.
			switch f.Type {
			case Regular:
				w.contentDone += f.Size
			case Symlink:
				w.contentDone += int64(len(hdr.Linkname))
			}
			pr(Progress{Layer: w.started, Layers: w.img.layerCount, Done: w.contentDone, Total: w.img.contentTotal})
		}
		if f.Type == Regular {
			l.Size += f.Size
			if err := w.deliver(f, content); err != nil {
				return v1.Hash{}, nil, layerErr(label, err)
			}
		}
		// Delivered: the file keeps its base name, its directory's
		// path is stored once.
		if err := w.shorten(f, hdr); err != nil {
			return v1.Hash{}, nil, fmt.Errorf("%s: %w", label, err)
		}
	}
	// The diff ID covers the whole stream, padding after the end-of-archive
	// blocks included; reading on to the end also lets a verifying source
	// check the stored digest.
	if _, err := io.Copy(io.Discard, tarIn); err != nil {
		return v1.Hash{}, nil, layerErr(label, err)
	}
	ahead.Close()
	if _, err := io.Copy(io.Discard, br); err != nil {
		return v1.Hash{}, nil, layerErr(label, err)
	}
	l.Stored, l.Tar = stored.n, capped.n
	w.storedDone += stored.n
	if pr := w.opts.Progress; pr != nil && w.img.stream == nil {
		pr(Progress{Layer: w.started, Layers: len(w.img.Layers), Done: w.storedDone, Total: w.img.storedTotal()})
	}
	if w.streamed {
		w.records[l] = files
	} else {
		// Layers come base first: this one is merged now, and its list
		// of entries is dropped.
		w.view.apply(files)
	}
	return hashOf(h), files, nil
}

func hashOf(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

// layerErr names the layer and turns the decoders' terse errors into
// something a user can act on.
func layerErr(label string, err error) error {
	if errors.Is(err, ErrLimit) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: truncated: the layer ends in the middle of an entry", label)
	case errors.Is(err, tar.ErrHeader):
		return fmt.Errorf("%s: not a valid tar stream (%v)", label, err)
	}
	return fmt.Errorf("%s: %v", label, oneLine(err.Error()))
}

// cleanName makes a tar name an absolute clean path. Names are resolved
// lexically inside the root, the way runtimes clamp them; escaped reports an
// absolute name or one whose ".." climbed above the root.
func cleanName(name string) (p string, escaped bool) {
	trimmed := strings.TrimPrefix(name, "./")
	if plainName(trimmed) {
		// Nearly every name: one concatenation, no byte-by-byte
		// cleaning (path.Clean of a 3.9 KB name, several times per
		// entry, was most of the walk's CPU for long names).
		return "/" + strings.TrimSuffix(trimmed, "/"), false
	}
	return cleanSlow(trimmed)
}

// cleanSlow is cleanName for any name, part by part.
func cleanSlow(trimmed string) (p string, escaped bool) {
	if strings.HasPrefix(trimmed, "/") {
		escaped = true
	}
	depth := 0
	for part := range strings.SplitSeq(trimmed, "/") {
		switch part {
		case "", ".":
		case "..":
			if depth == 0 {
				escaped = true
			} else {
				depth--
			}
		default:
			depth++
		}
	}
	return path.Clean("/" + trimmed), escaped
}

// plainName reports whether a relative tar name is clean but for one
// trailing slash (a directory's): no empty, "." or ".." part, not
// absolute.
func plainName(s string) bool {
	s = strings.TrimSuffix(s, "/")
	if s == "" || s[0] == '/' || s[len(s)-1] == '/' || strings.Contains(s, "//") {
		return false
	}
	// "." and ".." parts, wherever they are: a part starting with a dot
	// is rare enough to check one by one.
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '.')
		if j < 0 {
			break
		}
		i += j
		if i == 0 || s[i-1] == '/' {
			end := strings.IndexByte(s[i:], '/')
			if end < 0 {
				end = len(s) - i
			}
			if part := s[i : i+end]; part == "." || part == ".." {
				return false
			}
		}
		i++
	}
	return true
}

// joinName is path.Join of a clean absolute directory and a name (no
// slash in it), cleaning only when the name is "." or "..".
func joinName(dir, name string) string {
	switch {
	case name == "." || name == "..":
		return path.Join(dir, name)
	case dir == "/":
		return "/" + name
	}
	return dir + "/" + name
}

// dirOf is path.Dir of a clean absolute path, without cleaning it again
// (path.Dir copies it byte by byte).
func dirOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// entry turns a tar header into a File of layer l (nil for entries that
// describe nothing in the filesystem, such as aufs metadata). The File
// holds its whole path until shorten: analyzers read it during delivery.
func (w *walker) entry(l *Layer, hdr *tar.Header, label string) (*File, error) {
	w.entries++
	if w.entries > w.opts.MaxEntries {
		return nil, fmt.Errorf("%s: more than %d entries in the image's layers (raise the limit if this image is real): %w", label, w.opts.MaxEntries, ErrLimit)
	}
	if len(hdr.Name) > maxNameLen || len(hdr.Linkname) > maxNameLen {
		return nil, fmt.Errorf("%s: an entry name is longer than %d bytes, which no filesystem accepts", label, maxNameLen)
	}
	p, escaped := cleanName(hdr.Name)
	base := path.Base(p)
	if len(base) > maxComponent {
		return nil, fmt.Errorf("%s: an entry name has a part longer than %d bytes, which no filesystem accepts", label, maxComponent)
	}
	f := w.view.newFile()
	f.Layer, f.Escaped = l, escaped
	if escaped {
		w.view.rawNames[f] = hdr.Name
	}
	switch {
	case strings.HasPrefix(base, ".wh..wh."):
		if base != ".wh..wh..opq" {
			return nil, nil // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs)
		}
		p, f.Type = dirOf(p), Opaque
	case strings.HasPrefix(base, ".wh."):
		if base == ".wh." {
			return nil, nil
		}
		p, f.Type = joinName(dirOf(p), strings.TrimPrefix(base, ".wh.")), Whiteout
	case strings.Contains(p, "/.wh..wh.plnk/"):
		return nil, nil
	}
	if p != "/" {
		dir, err := w.view.intern(dirOf(p))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
		f.dir = dir
	}
	f.setFullPath(p)
	if f.Type == Whiteout || f.Type == Opaque {
		return f, nil
	}
	f.Mode = fs.FileMode(hdr.Mode & 0o777)
	if hdr.Mode&0o4000 != 0 {
		f.Mode |= fs.ModeSetuid
	}
	if hdr.Mode&0o2000 != 0 {
		f.Mode |= fs.ModeSetgid
	}
	if hdr.Mode&0o1000 != 0 {
		f.Mode |= fs.ModeSticky
	}
	f.UID, f.GID = int32(hdr.Uid), int32(hdr.Gid)
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse: // the reader turns the legacy TypeRegA into TypeReg
		f.Type, f.Size = Regular, hdr.Size
	case tar.TypeDir:
		f.Type = Dir
	case tar.TypeSymlink:
		f.Type = Symlink
	case tar.TypeLink:
		f.Type = Hardlink
	case tar.TypeChar:
		f.Type = CharDevice
	case tar.TypeBlock:
		f.Type = BlockDevice
	case tar.TypeFifo:
		f.Type = FIFO
	default:
		f.Type = Other
	}
	return f, nil
}

// shorten moves a delivered File's name into the view's arena: its base
// name, and a link's target (a hard link's as a clean absolute path).
func (w *walker) shorten(f *File, hdr *tar.Header) error {
	if f.nlen&nameFull == 0 {
		return nil
	}
	base := f.Name()
	link, hasLink := "", false
	switch f.Type {
	case Symlink:
		link, hasLink = hdr.Linkname, true
	case Hardlink:
		link, _ = cleanName(hdr.Linkname)
		hasLink = true
	}
	ptr, n, err := w.view.names.store(base, link, hasLink)
	if err != nil {
		return err
	}
	f.name, f.nlen = ptr, uint16(n)|f.nlen&inEntry
	return nil
}

// Skipped is a file an analyzer asked for but did not get.
type Skipped struct {
	File     *File
	Analyzer string
	Reason   string
}

type wanted struct {
	a Analyzer
	w Want
}

// deliver hands a regular file's content to every analyzer that wants it,
// reading it from the tar once.
func (w *walker) deliver(f *File, r io.Reader) error {
	ws := w.wants[:0]
	defer func() { w.wants = ws[:0] }()
	for _, a := range w.analyzers {
		want, ok := a.Want(f)
		if !ok {
			continue
		}
		if want.Whole && f.Size > w.opts.MaxWholeFile {
			w.skipped = append(w.skipped, Skipped{File: f, Analyzer: a.Name(),
				Reason: fmt.Sprintf("larger than %s held in memory", humanBytes(w.opts.MaxWholeFile))})
			continue
		}
		ws = append(ws, wanted{a, want})
	}
	if len(ws) == 0 {
		return nil
	}
	need, whole := int64(0), false
	for _, x := range ws {
		need = max(need, limitOf(x.w, f.Size))
		whole = whole || x.w.Whole
	}
	if len(ws) == 1 && !whole {
		// One reader for every file of the walk: Visit does not keep it.
		w.limited = io.LimitedReader{R: r, N: need}
		return visit(ws[0].a, f, Content{Reader: &w.limited})
	}
	if whole || need <= smallFile {
		return w.deliverBuffered(f, r, ws, need)
	}
	return broadcast(f, r, ws, need)
}

func limitOf(w Want, size int64) int64 {
	if w.Whole || w.Max <= 0 || w.Max > size {
		return size
	}
	return w.Max
}

func visit(a Analyzer, f *File, c Content) error {
	if err := a.Visit(f, c); err != nil {
		return fmt.Errorf("%s: %s: %w", a.Name(), f.Path(), err)
	}
	return nil
}

// deliverBuffered reads the file once into a reused buffer and gives each
// analyzer its own reader over it.
func (w *walker) deliverBuffered(f *File, r io.Reader, ws []wanted, need int64) error {
	if int64(cap(w.buf)) < need {
		w.buf = make([]byte, need)
	}
	buf := w.buf[:need]
	n, err := io.ReadFull(r, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	buf = buf[:n]
	for _, x := range ws {
		c := Content{Reader: bytes.NewReader(buf[:min(int64(n), limitOf(x.w, f.Size))])}
		if x.w.Whole {
			c.At = bytes.NewReader(buf)
		}
		if err := visit(x.a, f, c); err != nil {
			return err
		}
	}
	// A buffer sized for one big file is not kept for the rest of the walk.
	if cap(w.buf) > 4*smallFile {
		w.buf = nil
	}
	return nil
}

// broadcast streams a large file to several analyzers at once, each reading
// through its own pipe, so that memory stays at one chunk.
func broadcast(f *File, r io.Reader, ws []wanted, need int64) error {
	type sink struct {
		pw   *io.PipeWriter
		left int64
		done chan error
	}
	sinks := make([]*sink, len(ws))
	for i, x := range ws {
		pr, pw := io.Pipe()
		s := &sink{pw: pw, left: limitOf(x.w, f.Size), done: make(chan error, 1)}
		sinks[i] = s
		go func(a Analyzer) {
			err := visit(a, f, Content{Reader: pr})
			pr.CloseWithError(errStopped) // the analyzer stopped reading
			s.done <- err
		}(x.a)
	}
	chunk := make([]byte, 64<<10)
	var readErr error
	for left := need; left > 0; {
		n, err := r.Read(chunk[:min(int64(len(chunk)), left)])
		left -= int64(n)
		for _, s := range sinks {
			if s.pw == nil || s.left <= 0 || n == 0 {
				continue
			}
			m := min(int64(n), s.left)
			if _, werr := s.pw.Write(chunk[:m]); werr != nil {
				s.pw = nil // it stopped reading; the others go on
				continue
			}
			s.left -= m
			if s.left == 0 {
				s.pw.Close()
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	for _, s := range sinks {
		if s.pw != nil {
			if readErr != nil {
				s.pw.CloseWithError(readErr)
			} else {
				s.pw.Close()
			}
		}
	}
	var first error
	for _, s := range sinks {
		if err := <-s.done; err != nil && first == nil {
			first = err
		}
	}
	if readErr != nil {
		return readErr
	}
	return first
}

var errStopped = errors.New("analyzer stopped reading")

func short(h v1.Hash) string {
	if len(h.Hex) > 12 {
		return h.Algorithm + ":" + h.Hex[:12]
	}
	if h.Hex == "" {
		return "(none)"
	}
	return h.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// humanBytes writes a size the way people read it: 1.5 GiB, 320 KiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v >= 100 {
		return fmt.Sprintf("%.0f %ciB", v, "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}

// merge ends the walk: a streamed source's layers are merged in the order
// its manifest gave (a random-access source's already are), and the view
// is finished.
func (w *walker) merge() *View {
	v := w.view
	v.Layers, v.Skipped = w.img.Layers, w.skipped
	for _, l := range w.img.Layers {
		if files, ok := w.records[l]; ok {
			v.apply(files)
		}
	}
	w.records = nil
	v.finish()
	return v
}
