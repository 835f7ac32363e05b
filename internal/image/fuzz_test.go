package image

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"github.com/dockvet/dockvet/internal/fuzztest"
	"github.com/dockvet/dockvet/internal/secrets"
)

// Limits for fuzzing: small enough that no input can take long.
var fuzzOpts = Options{MaxLayerBytes: 4 << 20, MaxImageBytes: 8 << 20, MaxEntries: 5000, MaxWholeFile: 1 << 20}

// fuzzAnalyzers want everything, in every way the walk can deliver it.
func fuzzAnalyzers() []Analyzer {
	return []Analyzer{
		&reader{want: func(*File) (Want, bool) { return Want{}, true }},
		&reader{want: func(*File) (Want, bool) { return Want{Max: 64}, true }},
		&reader{want: func(*File) (Want, bool) { return Want{Whole: true}, true }},
	}
}

func seedLayers(f *testing.F) {
	f.Helper()
	plain := layerBytes(f, []tentry{
		{hdr: tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("root:x:0:0::/root:/bin/sh\nx::0:0::/:/bin/sh\n")},
		{hdr: tar.Header{Name: "etc/shadow", Typeflag: tar.TypeReg, Mode: 0o640}, body: []byte("root::1::::::\n")},
		{hdr: tar.Header{Name: "root/.ssh/id_rsa", Typeflag: tar.TypeReg, Mode: 0o600}, body: []byte(fakePrivateKey(f, "f"))},
		{hdr: tar.Header{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o777}},
		{hdr: tar.Header{Name: "app/.wh.old", Typeflag: tar.TypeReg}},
		{hdr: tar.Header{Name: "app/.wh..wh..opq", Typeflag: tar.TypeReg}},
		{hdr: tar.Header{Name: "../../x", Typeflag: tar.TypeSymlink, Linkname: "/x"}},
		{hdr: tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "missing"}},
		{hdr: tar.Header{Name: "usr/bin/sudo", Typeflag: tar.TypeReg, Mode: 0o4755}, body: []byte("x")},
		{hdr: tar.Header{Name: "etc/os-release", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("ID=debian\nVERSION_ID=12\n")},
		{hdr: tar.Header{Name: "var/lib/dpkg/status", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte("Package: a\nStatus: install ok installed\nVersion: 1\nSource: b (2)\n\n")},
		{hdr: tar.Header{Name: "var/lib/dpkg/.wh.status", Typeflag: tar.TypeReg}},
		{hdr: tar.Header{Name: "app/.env", Typeflag: tar.TypeReg, Mode: 0o644}, body: []byte(sampleSecret(f, "DV7080"))},
	})
	f.Add(plain)
	f.Add(gzipBytes(f, plain))
	zw, _ := zstd.NewWriter(nil)
	f.Add(zw.EncodeAll(plain, nil))
	f.Add(gnuSparseHeader("s", 1<<20, []byte("data")))
	f.Add([]byte{})
}

// Executions per second: about a thousand per CPU second, not thousands.
// Go's fuzzer copies and compares the test binary's coverage counters, and
// ships them between coordinator and worker, on every execution: a fixed
// cost that grows with all the binary links (every image source, the secret
// engine, every package extractor, the Dockerfile rules). Profiled
// (internal/sign, a JSON decode), that is most of a worker's time; .ci/fuzz
// prints each package's counters.

// FuzzLayer feeds arbitrary bytes to the walker as two layers, with the
// secret scan and the package inventory, then runs every rule over what it
// made of them.
func FuzzLayer(f *testing.F) {
	seedLayers(f)
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		sec := NewSecrets(secrets.Default())
		pk := NewPackages(context.Background())
		analyzers := append(fuzzAnalyzers(), sec, pk)
		v, err := walkBlobs(fuzzOpts, analyzers, data, data)
		if err != nil {
			return
		}
		for _, a := range analyzers {
			if err := a.Finish(v); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range Check(&Model{View: v, facts: newFacts(), secrets: sec}, AuditOptions{}) {
			if f.Location.LayerIndex != nil && (*f.Location.LayerIndex < 0 || *f.Location.LayerIndex > 1) {
				t.Fatalf("%s at layer %d of 2", f.RuleID, *f.Location.LayerIndex)
			}
		}
		for _, p := range pk.Result().Packages {
			if p.LayerIndex < 0 || p.LayerIndex > 1 || strings.HasPrefix(p.Path, "/") {
				t.Fatalf("package %s at layer %d, path %q", p.Name, p.LayerIndex, p.Path)
			}
		}
		for range v.Hidden() {
		}
		v.Resolve("/app/../etc/passwd")
	})
}

// archiveSeeds are a docker-archive (go-containerregistry's layout) and an
// OCI archive of a small image.
func archiveSeeds(f *testing.F) [][]byte {
	f.Helper()
	img := parseSpec(f, acceptanceSpec).build(f)
	docker, _ := os.ReadFile(writeDockerArchive(f, img, "fuzz/seed:1"))
	oci, _ := os.ReadFile(tarDir(f, writeLayout(f, imageIndex(img))))
	return [][]byte{docker, oci}
}

// FuzzArchive feeds arbitrary bytes to the archive reader (docker save and
// OCI archives, sniffed) and walks what it opens.
func FuzzArchive(f *testing.F) {
	for _, s := range archiveSeeds(f) {
		f.Add(s)
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		img, err := openArchiveReader("fuzz", bytes.NewReader(data), int64(len(data)), "", v1Host(), false)
		if err != nil {
			return
		}
		Audit(context.Background(), img, AuditOptions{Walk: fuzzOpts})
	})
}

// FuzzStream feeds arbitrary bytes to the one-pass archive reader the
// Engine's docker save goes through.
func FuzzStream(f *testing.F) {
	for _, s := range archiveSeeds(f) {
		f.Add(s)
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		img := &Image{Ref: "fuzz", Source: SourceDocker}
		img.stream = func(w *walker) error { return w.readStream(bytes.NewReader(data)) }
		Audit(context.Background(), img, AuditOptions{Walk: fuzzOpts})
	})
}

// FuzzInstruction feeds arbitrary created_by lines to the short form
// messages quote (the history parser has its own fuzz target).
func FuzzInstruction(f *testing.F) {
	for _, s := range []string{
		"/bin/sh -c #(nop)  ENV A=b", "RUN |2 A=1 B=two words /bin/sh -c echo hi # buildkit",
		"/bin/sh -c apt-get install -y curl", "ADD https://x/y.tgz /opt/ # buildkit", "|1 TOKEN=ghp_x cmd /S /C dir",
	} {
		f.Add(s)
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, s string) {
		defer fuzztest.Budget(t)()
		if got := Instruction(s); utf8.RuneCountInString(got) > 60 {
			t.Fatalf("Instruction(%q) = %q, longer than 60 characters", s, got)
		}
	})
}
