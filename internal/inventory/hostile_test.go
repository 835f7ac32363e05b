package inventory

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"
)

// allocated is the bytes f allocates, a measure of its work that does not
// depend on how busy the machine is.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A status file of 200,000 continuation lines (10 KB compressed) cost 149 s
// of CPU when each line was appended to its field: the parse must be
// linear, so twice the lines cost about twice the work.
func TestDpkgContinuationLinesLinear(t *testing.T) {
	status := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("Package: a\nStatus: install ok installed\nVersion: 1\nDescription: x\n")
		for range n {
			b.WriteString(" continuation line of a long description\n")
		}
		b.WriteString("\nPackage: b\nVersion: 2\n")
		return b.Bytes()
	}
	small, large := status(20_000), status(200_000)
	var ps []Package
	aSmall := allocated(func() { ps, _ = parseDpkgStatus(small) })
	if len(ps) != 2 || ps[0].Name != "a" || ps[1].Name != "b" {
		t.Fatalf("packages = %+v, want a and b", ps)
	}
	aLarge := allocated(func() { ps, _ = parseDpkgStatus(large) })
	if len(ps) != 2 {
		t.Fatalf("packages = %+v, want a and b", ps)
	}
	// Quadratic folding allocated about 100 times more for 10 times the
	// lines; linear work allocates about 10 times more.
	if ratio := float64(aLarge) / float64(aSmall); ratio > 20 {
		t.Errorf("10x the continuation lines allocated %.0fx the memory (%d vs %d bytes): not linear", ratio, aLarge, aSmall)
	}
	if aLarge > 8*uint64(len(large)) {
		t.Errorf("parsing %d bytes allocated %d bytes", len(large), aLarge)
	}
}

// zipOf writes a zip (stored or deflated) of the named entries.
func zipOf(t *testing.T, method uint16, entries ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(entries); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: entries[i].(string), Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(entries[i+1].([]byte)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Nested jars of zeros (a 51 KB archive) inflated 584 MiB and took 98 s:
// the bytes inflated for nested archives are bounded, the cut names its
// budget, and what was read before the cut is still listed.
func TestNestedJarBudget(t *testing.T) {
	pom := []byte("groupId=org.example\nartifactId=lib\nversion=1.0\n")
	// A jar storing 40 MiB of zeros is 40 MiB; deflated in the outer jar
	// it is about 40 KB.
	zeros := make([]byte, 40<<20)
	bomb := zipOf(t, zip.Store, "pad.bin", zeros, "META-INF/maven/org.example/lib/pom.properties", pom)
	// The bomb is deflated once and its compressed bytes copied into every
	// entry, which keeps the test cheap.
	var packed bytes.Buffer
	fw, _ := flate.NewWriter(&packed, flate.BestCompression)
	fw.Write(bomb)
	fw.Close()
	var obuf bytes.Buffer
	zw := zip.NewWriter(&obuf)
	for i := range 20 {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("BOOT-INF/lib/lib-%d.jar", i), Method: zip.Deflate,
			CRC32: crc32.ChecksumIEEE(bomb), CompressedSize64: uint64(packed.Len()), UncompressedSize64: uint64(len(bomb))})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(packed.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	outer := obuf.Bytes()
	var ps []Package
	var err error
	alloc := allocated(func() {
		ps, err = JavaArchive{}.Extract(context.Background(), Input{Path: "app.jar", Reader: bytes.NewReader(outer), Size: int64(len(outer))})
	})
	if err == nil || !strings.Contains(err.Error(), "maxNestedInflated") {
		t.Fatalf("err = %v, want the cut naming maxNestedInflated", err)
	}
	if len(ps) == 0 || len(ps) >= 20 {
		t.Errorf("%d packages listed, want those read before the cut", len(ps))
	}
	// 20 nested jars of 40 MiB are 800 MiB; the budget is 256 MiB, each
	// nested jar held once.
	if limit := uint64(maxNestedInflated + maxNestedHeld + 64<<20); alloc > limit {
		t.Errorf("allocated %d MiB, want under %d MiB", alloc>>20, limit>>20)
	}

	// A jar nested in jars nested in jars may not hold more than
	// maxNestedHeld in memory at once.
	deep := zipOf(t, zip.Store, "pad.bin", make([]byte, 60<<20))
	deep = zipOf(t, zip.Store, "inner.jar", deep, "pad.bin", make([]byte, 50<<20))
	deep = zipOf(t, zip.Deflate, "middle.jar", deep)
	_, err = JavaArchive{}.Extract(context.Background(), Input{Path: "deep.ear", Reader: bytes.NewReader(deep), Size: int64(len(deep))})
	if err == nil || !strings.Contains(err.Error(), "maxNestedHeld") {
		t.Fatalf("err = %v, want the cut naming maxNestedHeld", err)
	}

	// An ordinary fat jar is read whole, without a notice.
	small := zipOf(t, zip.Deflate, "META-INF/maven/org.example/lib/pom.properties", pom)
	fat := zipOf(t, zip.Deflate, "BOOT-INF/lib/lib-1.0.jar", small, "BOOT-INF/lib/other-1.0.jar", small)
	ps, err = JavaArchive{}.Extract(context.Background(), Input{Path: "fat.jar", Reader: bytes.NewReader(fat), Size: int64(len(fat))})
	if err != nil || len(ps) != 2 {
		t.Fatalf("fat jar: %d packages, err %v; want 2 and no error", len(ps), err)
	}
}

// A manifest of continuation lines stays linear to read.
func TestManifestContinuationBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("Manifest-Version: 1.0\nClass-Path: a\n")
	for range 200_000 {
		b.WriteString(" continuation-of-the-class-path.jar\n")
	}
	in := []byte(b.String())
	var m map[string]string
	if alloc := allocated(func() { m = parseManifest(in) }); alloc > 16*uint64(len(in)) {
		t.Errorf("parsing a %d-byte manifest allocated %d bytes", len(in), alloc)
	}
	if len(m["Class-Path"]) > maxManifestValue+100 {
		t.Errorf("Class-Path folded to %d bytes, want at most about %d", len(m["Class-Path"]), maxManifestValue)
	}
}
