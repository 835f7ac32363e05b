package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// walkBlobs walks stored layer blobs directly (no source, no digests to
// match), the way a hostile registry could hand them over.
func walkBlobs(opts Options, analyzers []Analyzer, blobs ...[]byte) (*View, error) {
	img := &Image{Ref: "test", Source: "test"}
	w := newWalker(context.Background(), img, opts, analyzers)
	for i, b := range blobs {
		l := &Layer{Index: i, HistoryIndex: -1}
		img.Layers = append(img.Layers, l)
		if _, _, err := w.readLayer(l, bytes.NewReader(b), fmt.Sprintf("layer %d", i)); err != nil {
			return nil, err
		}
	}
	return w.merge(), nil
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// oneLineErr fails unless err is one line naming what went wrong.
func oneLineErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one about %q", want)
	}
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q: want one line containing %q", err, want)
	}
}

func TestCompressionBomb(t *testing.T) {
	big := layerBytes(t, []tentry{{hdr: tar.Header{Name: "zero", Typeflag: tar.TypeReg, Mode: 0o644}, body: make([]byte, 16<<20)}})
	bomb := gzipBytes(t, big)
	if len(bomb) > 1<<20 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	_, err := walkBlobs(Options{MaxLayerBytes: 4 << 20}, nil, bomb)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("per-layer cap: err = %v", err)
	}
	oneLineErr(t, err, "per-layer limit")
	_, err = walkBlobs(Options{MaxImageBytes: 24 << 20}, nil, bomb, bomb)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("per-image cap: err = %v", err)
	}
	oneLineErr(t, err, "uncompressed size of the image")
	if _, err := walkBlobs(Options{}, nil, bomb); err != nil {
		t.Fatalf("within the default caps: %v", err)
	}
}

func TestTruncatedAndHugeClaims(t *testing.T) {
	// A header that claims a terabyte, followed by a few bytes.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "huge", Typeflag: tar.TypeReg, Size: 1 << 40, Mode: 0o644})
	tw.Write(make([]byte, 1000))
	_, err := walkBlobs(Options{}, nil, buf.Bytes())
	oneLineErr(t, err, "truncated")

	good := layerBytes(t, []tentry{{hdr: tar.Header{Name: "a", Typeflag: tar.TypeReg, Mode: 0o644}, body: filler(10000)}})
	_, err = walkBlobs(Options{}, nil, gzipBytes(t, good)[:200])
	oneLineErr(t, err, "layer 0")

	_, err = walkBlobs(Options{}, nil, []byte("this is not a tar stream at all, not even close, and it goes on for a while to fill a block................................................................................................................................................................................................................................................................................................................................................................................................................................................................."))
	oneLineErr(t, err, "layer 0")

	if v, err := walkBlobs(Options{}, nil, []byte{}); err != nil || v.Layers[0].Files != 0 {
		t.Errorf("an empty blob is an empty layer: %v", err)
	}
}

// gnuSparseHeader builds an old-GNU sparse entry by hand (archive/tar only
// reads them): realSize bytes of which the last len(data) are stored.
func gnuSparseHeader(name string, realSize int64, data []byte) []byte {
	h := make([]byte, 512)
	copy(h, name)
	octal := func(b []byte, v int64) { copy(b, fmt.Sprintf("%0*o\x00", len(b)-1, v)) }
	octal(h[100:108], 0o644)
	octal(h[108:116], 0)
	octal(h[116:124], 0)
	octal(h[124:136], int64(len(data)))
	octal(h[136:148], 1700000000)
	h[156] = 'S'
	copy(h[257:265], "ustar  \x00")
	octal(h[386:398], realSize-int64(len(data)))
	octal(h[398:410], int64(len(data)))
	octal(h[483:495], realSize)
	copy(h[148:156], "        ")
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
	body := make([]byte, (len(data)+511)/512*512)
	copy(body, data)
	return append(append(h, body...), make([]byte, 1024)...)
}

// reader is an analyzer that reads what it asks for.
type reader struct {
	want  func(*File) (Want, bool)
	got   map[string]int
	whole map[string]bool
}

func (r *reader) Name() string              { return "test reader" }
func (r *reader) Want(f *File) (Want, bool) { return r.want(f) }
func (r *reader) Finish(*View) error        { return nil }
func (r *reader) Visit(f *File, c Content) error {
	if r.got == nil {
		r.got, r.whole = map[string]int{}, map[string]bool{}
	}
	n, err := io.Copy(io.Discard, c)
	r.got[f.Path()] += int(n)
	if c.At != nil {
		r.whole[f.Path()] = true
	}
	return err
}

func TestSparseAndExtendedHeaders(t *testing.T) {
	sparse := gnuSparseHeader("sparse", 4<<30, []byte("tail of a sparse file"))
	r := &reader{want: func(*File) (Want, bool) { return Want{Max: 1 << 20}, true }}
	v, err := walkBlobs(Options{}, []Analyzer{r}, sparse)
	if err != nil {
		t.Fatal(err)
	}
	if f := v.Final("/sparse"); f == nil || f.Size != 4<<30 {
		t.Fatalf("sparse file: %+v", f)
	}
	if r.got["/sparse"] != 1<<20 {
		t.Errorf("analyzer read %d bytes of the sparse file, want its cap", r.got["/sparse"])
	}
	// Reading all of it would expand 4 GiB of holes: the caps stop that.
	all := &reader{want: func(*File) (Want, bool) { return Want{}, true }}
	_, err = walkBlobs(Options{MaxLayerBytes: 64 << 20}, []Analyzer{all}, sparse)
	if !errors.Is(err, ErrLimit) {
		t.Errorf("expanding a sparse file: err = %v", err)
	}

	long := strings.Repeat("deep/", 40) + "file"
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: long, Typeflag: tar.TypeReg, Size: 2, Mode: 0o644, Format: tar.FormatGNU})
	tw.Write([]byte("ok"))
	tw.WriteHeader(&tar.Header{Name: "pax", Typeflag: tar.TypeReg, Size: 2, Mode: 0o755, Format: tar.FormatPAX,
		PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "\x01\x00\x00\x02", "comment": "hi"}})
	tw.Write([]byte("ok"))
	tw.Close()
	v, err = walkBlobs(Options{}, nil, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if v.Final("/"+long) == nil || v.Final("/pax") == nil {
		t.Errorf("GNU long name or PAX entry lost")
	}
	tooLong := strings.Repeat("x", 5000)
	buf.Reset()
	tw = tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: tooLong, Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX})
	tw.Close()
	_, err = walkBlobs(Options{}, nil, buf.Bytes())
	oneLineErr(t, err, "longer than 4096")
}

func TestEntriesAsData(t *testing.T) {
	entries := []tentry{
		{hdr: tar.Header{Name: "../../etc/evil", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("x")},
		{hdr: tar.Header{Name: "/abs/file", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("x")},
		{hdr: tar.Header{Name: "app/\x1b[2Jclear", Typeflag: tar.TypeReg, Mode: 0o666}, body: []byte("x")},
		{hdr: tar.Header{Name: "loop/a", Typeflag: tar.TypeSymlink, Linkname: "b"}},
		{hdr: tar.Header{Name: "loop/b", Typeflag: tar.TypeSymlink, Linkname: "/loop/a"}},
		{hdr: tar.Header{Name: "app/orphan", Typeflag: tar.TypeLink, Linkname: "no/such/target"}},
		{hdr: tar.Header{Name: "dev/sda", Typeflag: tar.TypeBlock, Devmajor: 8}},
		{hdr: tar.Header{Name: "dup", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("first")},
		{hdr: tar.Header{Name: "dup", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("second!")},
		{hdr: tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "dir/.wh..wh..opq", Typeflag: tar.TypeReg}},
		{hdr: tar.Header{Name: ".wh..wh.plnk/123.4", Typeflag: tar.TypeReg}},
		{hdr: tar.Header{Name: "x", Typeflag: 'Z', Mode: 0o644}},
	}
	v, err := walkBlobs(Options{}, nil, layerBytes(t, entries))
	if err != nil {
		t.Fatal(err)
	}
	if f := v.Final("/etc/evil"); f == nil || !f.Escaped || v.RawName(f) != "../../etc/evil" {
		t.Errorf("../ entry: %+v", f)
	}
	if f := v.Final("/abs/file"); f == nil || !f.Escaped {
		t.Errorf("absolute entry: %+v", f)
	}
	if v.Resolve("/loop/a") != nil {
		t.Error("a symlink loop resolved")
	}
	if f := v.Final("/app/orphan"); f == nil || f.Type != Hardlink || f.Linkname() != "/no/such/target" {
		t.Errorf("dangling hard link: %+v", f)
	}
	if f := v.Final("/dup"); f == nil || f.Size != 7 {
		t.Errorf("duplicate entry: the later one wins, got %+v", f)
	}
	if e := v.Entry("/dup"); len(e.Events()) != 2 || e.Events()[1].Kind != Changed {
		t.Errorf("duplicate entry history: %+v", e.Events())
	}
	if f := v.Final("/x"); f == nil || f.Type != Other {
		t.Errorf("unknown type flag: %+v", f)
	}
	fs := Check(&Model{View: v, facts: newFacts()}, AuditOptions{Now: testNow})
	var ww *string
	for _, f := range fs {
		if f.RuleID == "DV2021" {
			ww = &f.Location.Path
			if strings.ContainsRune(f.Message, 0x1b) {
				t.Errorf("control character printed raw: %q", f.Message)
			}
		}
	}
	if ww == nil || *ww != `/app/\x1b[2Jclear` {
		t.Errorf("world-writable file with a control character: path %v", ww)
	}
}

// TestWhiteouts checks overlay semantics: whiteouts, opaque directories,
// a file replacing a directory, and what lower layers still hold.
func TestWhiteouts(t *testing.T) {
	l0 := layerBytes(t, []tentry{
		{hdr: tar.Header{Name: "a/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "a/one", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("1")},
		{hdr: tar.Header{Name: "a/two", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("22")},
		{hdr: tar.Header{Name: "b/x/deep", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("333")},
		{hdr: tar.Header{Name: "c/keep", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("4444")},
	})
	l1 := layerBytes(t, []tentry{
		{hdr: tar.Header{Name: "a/.wh..wh..opq", Typeflag: tar.TypeReg}},
		{hdr: tar.Header{Name: "a/three", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("55555")},
		{hdr: tar.Header{Name: ".wh.b", Typeflag: tar.TypeReg}},
		{hdr: tar.Header{Name: "c", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("file over dir")},
	})
	v, err := walkBlobs(Options{}, nil, l0, l1)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{"/a/one": false, "/a/two": false, "/a/three": true, "/b": false, "/b/x/deep": false, "/c/keep": false, "/c": true, "/a": true} {
		if got := v.Entry(p).Exists(); got != want {
			t.Errorf("%s exists = %v, want %v", p, got, want)
		}
	}
	hidden := map[string]int{}
	for f, ev := range v.Hidden() {
		hidden[f.Path()] = ev.Layer
	}
	for _, p := range []string{"/a/one", "/a/two", "/b/x/deep", "/c/keep"} {
		if l, ok := hidden[p]; !ok || l != 1 {
			t.Errorf("%s: hidden by layer %d (%v), want 1", p, l, ok)
		}
	}
	if got := v.Layers[0].Wasted; got != 1+2+3+4 {
		t.Errorf("layer 0 wasted = %d, want 10", got)
	}
}

// TestArchiveDefects: a truncated archive, a manifest naming a missing
// blob, a layer whose digest does not match.
func TestArchiveDefects(t *testing.T) {
	img := parseSpec(t, acceptanceSpec).build(t)
	archive := writeDockerArchive(t, img, "dockvet-test/defects:1")
	data, _ := os.ReadFile(archive)

	cut := filepath.Join(t.TempDir(), "cut.tar")
	os.WriteFile(cut, data[:len(data)/2], 0o644)
	_, err := Open(context.Background(), cut, OpenOptions{})
	oneLineErr(t, err, "truncated")

	dir := writeLayout(t, imageIndex(img))
	layers, _ := img.Layers()
	d, _ := layers[1].Digest()
	blob := filepath.Join(dir, "blobs", "sha256", d.Hex)
	os.Remove(blob)
	_, err = Open(context.Background(), "oci:"+dir, OpenOptions{})
	oneLineErr(t, err, "missing")

	// Same name, other bytes: the stored digest and the diff ID both fail.
	dir = writeLayout(t, imageIndex(img))
	other := gzipBytes(t, layerBytes(t, []tentry{{hdr: tar.Header{Name: "evil", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("swapped")}}))
	os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Hex), other, 0o644)
	opened, err := Open(context.Background(), "oci:"+dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Walk(context.Background(), opened, Options{})
	oneLineErr(t, err, "does not match its digest")
	opened.Close()

	// A docker-archive whose manifest names a layer it lacks.
	ref := "dockvet-test/defects:1"
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	raw, _ := img.RawConfigFile()
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(b)), Mode: 0o644})
		tw.Write(b)
	}
	add("config.json", raw)
	add("manifest.json", []byte(`[{"Config":"config.json","RepoTags":["`+ref+`"],"Layers":["l0.tar","l1.tar","l2.tar"]}]`))
	tw.Close()
	p := filepath.Join(t.TempDir(), "missing.tar")
	os.WriteFile(p, buf.Bytes(), 0o644)
	_, err = Open(context.Background(), "docker-archive:"+p, OpenOptions{})
	oneLineErr(t, err, "does not contain")

	// A legacy (uncompressed) docker-archive whose layer differs from its
	// diff ID.
	buf.Reset()
	tw = tar.NewWriter(&buf)
	add("config.json", raw)
	add("manifest.json", []byte(`[{"Config":"config.json","Layers":["l0.tar","l1.tar","l2.tar"]}]`))
	for i := range 3 {
		add(fmt.Sprintf("l%d.tar", i), layerBytes(t, []tentry{{hdr: tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte{byte(i)}}}))
	}
	tw.Close()
	os.WriteFile(p, buf.Bytes(), 0o644)
	opened, err = Open(context.Background(), p, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Walk(context.Background(), opened, Options{})
	oneLineErr(t, err, "layer 0: content does not match its digest")
	opened.Close()

	for name, content := range map[string][]byte{"not.tar": []byte("plain text, not an archive"), "empty.tar": nil} {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, content, 0o644)
		_, err := Open(context.Background(), p, OpenOptions{})
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestCompressions reads gzip, zstd and uncompressed layers.
func TestCompressions(t *testing.T) {
	body := layerBytes(t, []tentry{{hdr: tar.Header{Name: "root/.ssh/id_rsa", Typeflag: tar.TypeReg, Mode: 0o600}, body: []byte(fakePrivateKey(t, "k"))}})
	zl, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil },
		tarball.WithCompression(compression.ZStd))
	if err != nil {
		t.Fatal(err)
	}
	plain := static.NewLayer(body, types.OCIUncompressedLayer)
	for name, l := range map[string]v1.Layer{"zstd": zl, "uncompressed": plain} {
		img, err := mutate.AppendLayers(empty.Image, l)
		if err != nil {
			t.Fatal(err)
		}
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		dir := writeLayout(t, imageIndex(img))
		opened, err := Open(context.Background(), "oci:"+dir, OpenOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fs, _, err := Audit(context.Background(), opened, AuditOptions{Now: testNow})
		opened.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		found := false
		for _, f := range fs {
			found = found || f.RuleID == "DV2022" && f.Location.Path == "/root/.ssh/id_rsa"
		}
		if !found {
			t.Errorf("%s layer: the key was not found", name)
		}
	}
}

// TestNothingWritten: a walk creates no file, in the temporary directory or
// anywhere else it could reach.
func TestNothingWritten(t *testing.T) {
	img := parseSpec(t, acceptanceSpec+"layer RUN /bin/sh -c true\nfile /big 0644 size=2MiB\n").build(t)
	archive := writeDockerArchive(t, img, "dockvet-test/nowrite:1")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	wd, _ := os.Getwd()
	before, _ := os.ReadDir(wd)
	opened, err := Open(context.Background(), archive, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Audit(context.Background(), opened, AuditOptions{}); err != nil {
		t.Fatal(err)
	}
	opened.Close()
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the walk wrote %d files to TMPDIR", len(left))
	}
	if after, _ := os.ReadDir(wd); len(after) != len(before) {
		t.Errorf("the walk wrote to the working directory")
	}
}

// TestDelivery: one read per file, shared among analyzers; Whole files in
// memory; caps respected.
func TestDelivery(t *testing.T) {
	l := layerBytes(t, []tentry{
		{hdr: tar.Header{Name: "small", Typeflag: tar.TypeReg, Mode: 0o644}, body: filler(1000)},
		{hdr: tar.Header{Name: "large", Typeflag: tar.TypeReg, Mode: 0o644}, body: filler(3 << 20)},
		{hdr: tar.Header{Name: "app.jar", Typeflag: tar.TypeReg, Mode: 0o644}, body: filler(2 << 20)},
	})
	all := &reader{want: func(*File) (Want, bool) { return Want{}, true }}
	capped := &reader{want: func(*File) (Want, bool) { return Want{Max: 100}, true }}
	whole := &reader{want: func(f *File) (Want, bool) { return Want{Whole: true}, f.Name() == "app.jar" }}
	tooBig := &reader{want: func(f *File) (Want, bool) { return Want{Whole: true}, f.Name() == "large" }}
	v, err := walkBlobs(Options{MaxWholeFile: 2 << 20}, []Analyzer{all, capped, whole, tooBig}, l)
	if err != nil {
		t.Fatal(err)
	}
	for p, n := range map[string]int{"/small": 1000, "/large": 3 << 20, "/app.jar": 2 << 20} {
		if all.got[p] != n {
			t.Errorf("full reader got %d bytes of %s, want %d", all.got[p], p, n)
		}
		if capped.got[p] != min(n, 100) {
			t.Errorf("capped reader got %d bytes of %s", capped.got[p], p)
		}
	}
	if !whole.whole["/app.jar"] || whole.got["/app.jar"] != 2<<20 {
		t.Errorf("whole reader: %v %v", whole.whole, whole.got)
	}
	if len(v.Skipped) != 1 || v.Skipped[0].File.Path() != "/large" {
		t.Errorf("skipped = %+v, want /large", v.Skipped)
	}
}

// TestDockerSaveLinks reads the layout of docker save 25 and later, where
// <id>/layer.tar links to the blob under blobs/sha256, from a file and as a
// stream (as the Engine sends it).
func TestDockerSaveLinks(t *testing.T) {
	img := parseSpec(t, acceptanceSpec).build(t)
	raw, _ := img.RawConfigFile()
	layers, _ := img.Layers()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(b)), Mode: 0o644})
		tw.Write(b)
	}
	var names []string
	for i, l := range layers {
		rc, _ := l.Uncompressed()
		data, _ := io.ReadAll(rc)
		rc.Close()
		d := sha256Of(data)
		add("blobs/sha256/"+d.Hex, data)
		link := fmt.Sprintf("id%d/layer.tar", i)
		tw.WriteHeader(&tar.Header{Name: link, Typeflag: tar.TypeSymlink, Linkname: "../blobs/sha256/" + d.Hex})
		names = append(names, `"`+link+`"`)
	}
	add("blobs/sha256/"+sha256Of(raw).Hex, raw)
	add("manifest.json", []byte(`[{"Config":"blobs/sha256/`+sha256Of(raw).Hex+`","RepoTags":["x/y:1"],"Layers":[`+strings.Join(names, ",")+`]}]`))
	tw.Close()
	p := filepath.Join(t.TempDir(), "save.tar")
	os.WriteFile(p, buf.Bytes(), 0o644)
	_, want := auditRef(t, p, OpenOptions{})
	streamed := &Image{Ref: p, Source: SourceDocker}
	streamed.stream = func(w *walker) error { return w.readStream(bytes.NewReader(buf.Bytes())) }
	fs, _, err := Audit(context.Background(), streamed, AuditOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if got := checkAcceptance(t, fs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stream and file differ:\n%q\n%q", got, want)
	}
}

// TestNamesStoredOnce: the walk's memory per file does not grow with the
// length of its path: files keep a pointer to their directory, whose path
// is stored once, and their own name. Files under a directory path of
// 3,000 bytes cost what they cost under a short one.
func TestNamesStoredOnce(t *testing.T) {
	deep := strings.Repeat("d123456789/", 270) // 2,970 bytes
	layer := func(dir string, n int) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for i := range n {
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("%sfile-%05d", dir, i), Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX})
		}
		tw.Close()
		return buf.Bytes()
	}
	heap := func(dir string, n int) int64 {
		var before, after runtime.MemStats
		blob := layer(dir, n)
		runtime.GC()
		runtime.ReadMemStats(&before)
		v, err := walkBlobs(Options{}, nil, blob)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		last := fmt.Sprintf("/%sfile-%05d", dir, n-1)
		if f := v.Final(last); f == nil || f.Path() != last {
			t.Fatalf("file under %d bytes of directories not found", len(dir))
		}
		runtime.KeepAlive(v)
		runtime.KeepAlive(blob)
		return int64(after.HeapAlloc) - int64(before.HeapAlloc)
	}
	perFile := func(dir string) int64 { return (heap(dir, 6000) - heap(dir, 2000)) / 4000 }
	short, long := perFile("a/"), perFile(deep)
	t.Logf("bytes per file: %d under a 2-byte directory, %d under a %d-byte one", short, long, len(deep))
	// A path stored per file would add 3,000 bytes to each.
	if long > short+100 || long > 200 {
		t.Errorf("a file costs %d bytes under a short directory and %d under a long one", short, long)
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "dir/" + strings.Repeat("n", 256), Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX})
	tw.Close()
	_, err := walkBlobs(Options{}, nil, buf.Bytes())
	oneLineErr(t, err, "longer than 255 bytes")
}
