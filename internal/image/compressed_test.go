package image

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/klauspost/compress/zstd"

	"github.com/dockvet/dockvet/internal/engine"
	"github.com/dockvet/dockvet/internal/fuzztest"
)

// compress writes src compressed with gzip or zstd to a file named name,
// as `docker save | gzip > app.tar.gz` (or zstd) does.
func compress(t *testing.T, src, algo, name string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(t.TempDir(), name)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	var w io.WriteCloser
	switch algo {
	case "gzip":
		w = gzip.NewWriter(f)
	case "zstd":
		if w, err = zstd.NewWriter(f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.Copy(w, in); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCompressedArchives: docker save and OCI archives compressed with gzip
// (.tar.gz, .tgz) or zstd are read as a stream and give the findings the
// plain archive gives, by prefix or by path.
func TestCompressedArchives(t *testing.T) {
	img := parseSpec(t, acceptanceSpec).build(t)
	archive := writeDockerArchive(t, img, "dockvet-test/acceptance:1")
	ociTar := tarDir(t, writeLayout(t, imageIndex(img)))
	_, want := auditRef(t, "docker-archive:"+archive, OpenOptions{})
	for _, tc := range []struct {
		ref, source string
	}{
		{compress(t, archive, "gzip", "app.tar.gz"), SourceDockerArchive},
		{"docker-archive:" + compress(t, archive, "gzip", "app.tgz"), SourceDockerArchive},
		{compress(t, archive, "zstd", "app.tar.zst"), SourceDockerArchive},
		{compress(t, ociTar, "gzip", "oci.tar.gz"), SourceOCIArchive},
		{"oci-archive:" + compress(t, ociTar, "zstd", "oci.tar.zst"), SourceOCIArchive},
	} {
		t.Run(filepath.Base(tc.ref), func(t *testing.T) {
			opened, got := auditRef(t, tc.ref, OpenOptions{})
			if opened.Source != tc.source {
				t.Errorf("source %s, want %s", opened.Source, tc.source)
			}
			if !slices.Equal(got, want) {
				t.Errorf("findings differ from the plain archive's:\n got %q\nwant %q", got, want)
			}
			if opened.ConfigDigest.Hex == "" || opened.Location == "" {
				t.Errorf("identity: config %v, location %q", opened.ConfigDigest, opened.Location)
			}
		})
	}
	// A compressed archive cut short is an error naming it, not a report.
	full, err := os.ReadFile(compress(t, archive, "gzip", "cut.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.tar.gz")
	os.WriteFile(cut, full[:len(full)/2], 0o644)
	opened, err := Open(context.Background(), cut, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	if _, _, err := Audit(context.Background(), opened, AuditOptions{Now: testNow}); err == nil || !strings.Contains(err.Error(), cut) {
		t.Errorf("a truncated archive: %v", err)
	}
}

// TestCompressedIndexPlatform picks the platform from a compressed OCI
// archive of a multi-platform index, and refuses a platform it lacks.
func TestCompressedIndexPlatform(t *testing.T) {
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: platformImage(t, "amd64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: platformImage(t, "arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	ref := compress(t, tarDir(t, writeLayout(t, idx)), "gzip", "multi.tar.gz")
	for _, arch := range []string{"amd64", "arm64"} {
		o := OpenOptions{Platform: &v1.Platform{OS: "linux", Architecture: arch}}
		img, err := Open(context.Background(), ref, o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Walk(context.Background(), img, DefaultOptions()); err != nil {
			t.Fatal(err)
		}
		if img.Config.Architecture != arch || CheckPlatform(img, o) != nil {
			t.Errorf("--platform linux/%s read %s", arch, img.Config.Architecture)
		}
		img.Close()
	}
	img, err := Open(context.Background(), ref, OpenOptions{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if _, err := Walk(context.Background(), img, DefaultOptions()); err == nil || !strings.Contains(err.Error(), "no image for platform linux/s390x") {
		t.Errorf("linux/s390x: %v", err)
	}
}

// TestPlatformMismatch: an image of one platform is not audited as
// another: --platform naming another is an error (for an archive, a
// single-platform registry image), unless AnyPlatform.
func TestPlatformMismatch(t *testing.T) {
	img := platformImage(t, "amd64")
	archive := writeDockerArchive(t, img, "dockvet-test/amd64:1")
	host := registryHost(t)
	pushImage(t, host+"/test/amd64:1", img)
	arm := &v1.Platform{OS: "linux", Architecture: "arm64"}
	for _, ref := range []string{"docker-archive:" + archive, "registry:" + host + "/test/amd64:1", "oci:" + writeLayout(t, imageIndex(img))} {
		_, err := Open(context.Background(), ref, OpenOptions{Platform: arm})
		if err == nil || !strings.Contains(err.Error(), "linux/arm64") {
			t.Errorf("%s --platform linux/arm64: %v", ref, err)
		}
		opened, err := Open(context.Background(), ref, OpenOptions{Platform: arm, AnyPlatform: true})
		if err != nil {
			t.Errorf("%s --any-platform: %v", ref, err)
			continue
		}
		if opened.Config.Architecture != "amd64" {
			t.Errorf("%s: %s", ref, opened.Config.Architecture)
		}
		opened.Close()
	}
}

// unreachableEngine resolves to a socket that does not exist.
func unreachableEngine(t *testing.T) (func() (*engine.Endpoint, error), string) {
	t.Helper()
	host := "unix://" + filepath.Join(t.TempDir(), "docker.sock")
	t.Setenv(engine.EnvConfig, t.TempDir())
	return func() (*engine.Endpoint, error) { return engine.Resolve(engine.Options{Host: host}) }, host
}

// TestBareNameFallback: a bare name the Engine cannot give is read from
// the registry, and the image says why (SourceNote) and where from; a
// name neither has is an error naming both sources and why each failed.
func TestBareNameFallback(t *testing.T) {
	ep, sock := unreachableEngine(t)
	img := platformImage(t, "amd64")
	host := registryHost(t)
	pushImage(t, host+"/only/registry:1", img)
	ref := host + "/only/registry:1"
	opened, err := Open(context.Background(), ref, OpenOptions{Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	d, _ := img.Digest()
	want := ref + ": not read from the Engine at " + sock + " (unreachable (no such file or directory)); read from the registry " + host + " instead"
	if opened.Source != SourceRegistry || opened.SourceNote != want || opened.Location != host ||
		!slices.Equal(opened.RepoDigests, []string{host + "/only/registry@" + d.String()}) || opened.Digest != d {
		t.Errorf("source %s, note %q, location %s, repo digests %v", opened.Source, opened.SourceNote, opened.Location, opened.RepoDigests)
	}

	_, err = Open(context.Background(), host+"/not/there:1", OpenOptions{Endpoint: ep})
	if err == nil || !strings.HasPrefix(err.Error(), host+"/not/there:1: not found: the Engine at "+sock+": unreachable (no such file or directory); the registry: ") ||
		!strings.Contains(err.Error(), "NAME_UNKNOWN") {
		t.Errorf("in no source: %v", err)
	}
	_, err = Open(context.Background(), ref, OpenOptions{Endpoint: ep, Offline: true})
	if err == nil || !strings.Contains(err.Error(), "--offline forbids the registry") || !strings.Contains(err.Error(), sock) {
		t.Errorf("offline: %v", err)
	}
}

// TestSourceFlag: --source pins where a name is read, and a reference
// whose prefix says otherwise is refused.
func TestSourceFlag(t *testing.T) {
	ep, sock := unreachableEngine(t)
	img := platformImage(t, "amd64")
	host := registryHost(t)
	pushImage(t, host+"/pinned:1", img)
	ref := host + "/pinned:1"
	opened, err := Open(context.Background(), ref, OpenOptions{Endpoint: ep, Source: "registry"})
	if err != nil {
		t.Fatal(err)
	}
	if opened.Source != SourceRegistry || opened.SourceNote != "" {
		t.Errorf("--source registry: %s, note %q", opened.Source, opened.SourceNote)
	}
	opened.Close()
	_, err = Open(context.Background(), ref, OpenOptions{Endpoint: ep, Source: "engine"})
	if err == nil || err.Error() != ref+": the Engine at "+sock+": unreachable (no such file or directory)" {
		t.Errorf("--source engine: %v", err)
	}
	if _, err := Open(context.Background(), "registry:"+ref, OpenOptions{Source: "engine"}); err == nil || !strings.Contains(err.Error(), "--source says docker") {
		t.Errorf("conflicting prefix: %v", err)
	}
	if _, err := Open(context.Background(), ref, OpenOptions{Source: "ftp"}); err == nil || !strings.Contains(err.Error(), `unknown source "ftp"`) {
		t.Errorf("unknown source: %v", err)
	}
	archive := writeDockerArchive(t, img, "dockvet-test/pinned:1")
	opened, err = Open(context.Background(), archive, OpenOptions{Source: "docker-archive"})
	if err != nil || opened.Source != SourceDockerArchive {
		t.Fatalf("--source docker-archive: %v", err)
	}
	opened.Close()
}

// FuzzCompressedArchive opens arbitrary bytes as an archive file, seeded
// with gzip- and zstd-compressed archives: whatever they inflate to, the
// stream is read to an error or an audit, never a panic or a hang.
func FuzzCompressedArchive(f *testing.F) {
	for _, s := range archiveSeeds(f) {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(s)
		zw.Close()
		f.Add(gz.Bytes())
		enc, _ := zstd.NewWriter(nil)
		f.Add(enc.EncodeAll(s, nil))
	}
	dir := f.TempDir()
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		p := filepath.Join(dir, "fuzz.tar.gz")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := Open(context.Background(), p, OpenOptions{})
		if err != nil {
			return
		}
		defer img.Close()
		Audit(context.Background(), img, AuditOptions{Walk: fuzzOpts})
	})
}
