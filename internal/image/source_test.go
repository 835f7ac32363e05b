package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/testenv"
)

// acceptanceSpec is the acceptance image: a private key added in
// layer 1 and deleted in layer 2.
const acceptanceSpec = `
layer ADD rootfs.tar /
file /etc/passwd 0644
| root:x:0:0:root:/root:/bin/sh
| app:x:10001:10001::/home/app:/bin/sh
file /app 0755 size=3KiB
layer COPY id_rsa /root/.ssh/id_rsa # buildkit
file /root/.ssh/id_rsa 0600 @privatekey
layer RUN /bin/sh -c rm /root/.ssh/id_rsa # buildkit
whiteout /root/.ssh/id_rsa
`

// checkAcceptance asserts the acceptance finding, and returns the findings
// as comparable lines.
func checkAcceptance(t *testing.T, fs []finding.Finding) []string {
	t.Helper()
	var lines []string
	ok := false
	for _, f := range fs {
		li := -1
		if f.Location.LayerIndex != nil {
			li = *f.Location.LayerIndex
		}
		lines = append(lines, fmt.Sprintf("%s %s %d %s", f.RuleID, f.Location.Path, li, f.Message))
		if f.RuleID == "DV2023" && f.Location.Path == "/root/.ssh/id_rsa" && li == 1 &&
			strings.Contains(f.Message, "deleted in layer 2") && strings.Contains(f.Message, "still in the image") {
			ok = true
		}
	}
	if !ok {
		t.Errorf("no DV2023 for /root/.ssh/id_rsa at layer 1 saying it was deleted but is still in the image; got:\n%s", strings.Join(lines, "\n"))
	}
	slices.Sort(lines)
	return lines
}

func auditRef(t *testing.T, ref string, o OpenOptions) (*Image, []string) {
	t.Helper()
	img, err := Open(context.Background(), ref, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", ref, err)
	}
	defer img.Close()
	fs, v, err := Audit(context.Background(), img, AuditOptions{Now: testNow})
	if err != nil {
		t.Fatalf("Audit(%s): %v", ref, err)
	}
	for _, l := range v.Layers {
		if l.Index < 0 || l.History == nil {
			t.Errorf("%s: layer %d has no position or history", ref, l.Index)
		}
	}
	return img, checkAcceptance(t, fs)
}

// writeLayout writes img as an OCI layout directory.
func writeLayout(t testing.TB, idx v1.ImageIndex) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := layout.Write(dir, idx); err != nil {
		t.Fatal(err)
	}
	return dir
}

func imageIndex(img v1.Image) v1.ImageIndex {
	return mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})
}

// tarDir writes a directory as a tar archive (an OCI archive).
func tarDir(t testing.TB, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "oci.tar")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			_, err = io.Copy(tw, in)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// registryHost serves an in-process registry on loopback.
func registryHost(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New())
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u.Host
}

func pushImage(t testing.TB, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}

// TestSources reads the acceptance image through every source form of the
// contract; each must give the same findings.
func TestSources(t *testing.T) {
	img := parseSpec(t, acceptanceSpec).build(t)
	archive := writeDockerArchive(t, img, "dockvet-test/acceptance:1")
	dir := writeLayout(t, imageIndex(img))
	ociTar := tarDir(t, dir)
	host := registryHost(t)
	pushImage(t, host+"/test/acceptance:1", img)

	_, want := auditRef(t, "docker-archive:"+archive, OpenOptions{})
	for _, tc := range []struct {
		ref, source string
		o           OpenOptions
	}{
		{"oci-archive:" + ociTar, SourceOCIArchive, OpenOptions{}},
		{"oci:" + dir, SourceOCI, OpenOptions{}},
		{archive, SourceDockerArchive, OpenOptions{}},
		{ociTar, SourceOCIArchive, OpenOptions{}},
		{dir, SourceOCI, OpenOptions{}},
		{"registry:" + host + "/test/acceptance:1", SourceRegistry, OpenOptions{}},
		// Not in the Engine (or no Engine): the bare name goes to the registry.
		{host + "/test/acceptance:1", SourceRegistry, OpenOptions{}},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			opened, got := auditRef(t, tc.ref, tc.o)
			if opened.Source != tc.source {
				t.Errorf("source = %s, want %s", opened.Source, tc.source)
			}
			if !slices.Equal(got, want) {
				t.Errorf("findings differ from the docker-archive's:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestEngineSource reads the image from the local Engine: `docker:NAME`, and
// a bare name found there first.
func TestEngineSource(t *testing.T) {
	c := testenv.Docker(t)
	img := parseSpec(t, acceptanceSpec).build(t)
	_, want := auditRef(t, "docker-archive:"+writeDockerArchive(t, img, "dockvet-test/acceptance:1"), OpenOptions{})
	testenv.Load(t, c, img, "dockvet-test/acceptance:engine")
	for _, ref := range []string{"docker:dockvet-test/acceptance:engine", "dockvet-test/acceptance:engine"} {
		opened, got := auditRef(t, ref, OpenOptions{})
		if opened.Source != SourceDocker {
			t.Errorf("%s: source = %s, want docker", ref, opened.Source)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: findings differ from the docker-archive's:\n got %q\nwant %q", ref, got, want)
		}
	}
	if _, err := Open(context.Background(), "docker:dockvet-test/absent:none", OpenOptions{}); err == nil || !strings.Contains(err.Error(), "no such image") {
		t.Errorf("missing image: err = %v", err)
	}
}

func platformImage(t testing.TB, arch string) v1.Image {
	s := parseSpec(t, "layer ADD rootfs.tar /\nfile /arch 0644 text="+arch+"\n")
	img := s.build(t)
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Architecture = arch
	img, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestPlatform picks from multi-platform indexes in layouts, archives and
// registries.
func TestPlatform(t *testing.T) {
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: platformImage(t, "amd64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: platformImage(t, "arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	dir := writeLayout(t, idx)
	host := registryHost(t)
	r, _ := name.ParseReference(host + "/test/multi:1")
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"oci:" + dir, "oci-archive:" + tarDir(t, dir), "registry:" + host + "/test/multi:1"} {
		for _, arch := range []string{"amd64", "arm64"} {
			img, err := Open(context.Background(), ref, OpenOptions{Platform: &v1.Platform{OS: "linux", Architecture: arch}})
			if err != nil {
				t.Fatalf("%s %s: %v", ref, arch, err)
			}
			if img.Config.Architecture != arch {
				t.Errorf("%s: --platform linux/%s gave %s", ref, arch, img.Config.Architecture)
			}
			img.Close()
		}
		_, err := Open(context.Background(), ref, OpenOptions{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}})
		if err == nil {
			t.Errorf("%s: linux/s390x: no error", ref)
		}
	}
}

// TestOffline never reaches for the network.
func TestOffline(t *testing.T) {
	host := registryHost(t)
	for _, ref := range []string{"registry:" + host + "/x:1", host + "/never/pulled:1"} {
		_, err := Open(context.Background(), ref, OpenOptions{Offline: true})
		if err == nil || !strings.Contains(err.Error(), "offline") {
			t.Errorf("%s offline: err = %v", ref, err)
		}
	}
}

// TestPlainHTTP refuses plain HTTP except on loopback or when asked.
func TestPlainHTTP(t *testing.T) {
	called := false
	next := roundTripFunc(func(*http.Request) (*http.Response, error) { called = true; return nil, io.EOF })
	g := plainHTTPGuard{next}
	for _, u := range []string{"http://10.1.2.3:5000/v2/", "http://registry.local/v2/", "http://example.com/v2/"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if _, err := g.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "--insecure-registry") {
			t.Errorf("%s: err = %v", u, err)
		}
	}
	if called {
		t.Error("a plain HTTP request went out")
	}
	for _, u := range []string{"http://127.0.0.1:5000/v2/", "http://localhost:5000/v2/", "http://[::1]:5000/v2/", "https://example.com/v2/"} {
		called = false
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		g.RoundTrip(req)
		if !called {
			t.Errorf("%s was refused", u)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
