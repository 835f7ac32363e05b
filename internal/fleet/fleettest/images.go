package fleettest

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/dockvet/dockvet/internal/testenv"
)

// Registry is go-containerregistry's registry on loopback.
type Registry struct {
	// Host is HOST:PORT, what references start with.
	Host string
	srv  *httptest.Server
}

// NewRegistry starts a registry, stopped when the test ends.
func NewRegistry(t testing.TB) *Registry {
	t.Helper()
	return NewRegistryWith(t, nil)
}

// NewRegistryWith starts a registry whose handler is wrapped by wrap (to
// count or hold requests), stopped when the test ends.
func NewRegistryWith(t testing.TB, wrap func(http.Handler) http.Handler) *Registry {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(nopLogger()))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Registry{Host: strings.TrimPrefix(srv.URL, "http://"), srv: srv}
}

// Stop stops the registry: every later read fails.
func (r *Registry) Stop() {
	r.srv.CloseClientConnections()
	r.srv.Close()
}

// URL is the registry's base URL.
func (r *Registry) URL() string { return "http://" + r.Host }

// Push pushes img as REPO:TAG and returns the reference and digest.
func (r *Registry) Push(t testing.TB, repo, tag string, img v1.Image) (string, string) {
	t.Helper()
	ref := r.Host + "/" + repo + ":" + tag
	nr, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	// With the Docker configuration's credentials, for registries that ask.
	if err := remote.Write(nr, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ref, d.String()
}

// Package is a Debian package in a test image's dpkg status file.
type Package struct{ Name, Version string }

// DebianBase is a layer that makes an image Debian 12 with these packages
// installed (os-release, dpkg status, an /etc/passwd with root).
func DebianBase(t testing.TB, pkgs ...Package) v1.Layer {
	t.Helper()
	var status strings.Builder
	for _, p := range pkgs {
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: %s\nDescription: %s\n\n", p.Name, p.Version, p.Name)
	}
	return testenv.Layer(t,
		testenv.File{Path: "etc", Dir: true},
		testenv.File{Path: "etc/os-release", Body: []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")},
		testenv.File{Path: "etc/passwd", Body: []byte("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")},
		testenv.File{Path: "var/lib/dpkg", Dir: true},
		testenv.File{Path: "var/lib/dpkg/status", Body: []byte(status.String())},
	)
}

// AppLayer is a small application layer with one file of the given body.
func AppLayer(t testing.TB, path, body string) v1.Layer {
	t.Helper()
	return testenv.Layer(t, testenv.File{Path: path, Body: []byte(body)})
}

// DebianImage is an image of a Debian base and application layers,
// running as user app.
func DebianImage(t testing.TB, base v1.Layer, app ...v1.Layer) v1.Image {
	t.Helper()
	return testenv.Image(t, v1.Config{User: "app", Entrypoint: []string{"/app"}}, append([]v1.Layer{base}, app...))
}

// Advisory is an OSV record affecting a Debian 12 package below Fixed.
type Advisory struct {
	ID, Package, Fixed string
	// CVSS is a CVSS 3.1 vector (critical when empty).
	CVSS string
}

// WriteOSV writes advisories as OSV JSON files in a new directory, for
// `dockvet db import DIR` (or vulndb.Import).
func WriteOSV(t testing.TB, advs ...Advisory) string {
	t.Helper()
	dir := t.TempDir()
	for _, a := range advs {
		if a.CVSS == "" {
			a.CVSS = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
		}
		rec := map[string]any{
			"schema_version": "1.6.0", "id": a.ID, "modified": time.Unix(1760000000, 0).UTC().Format(time.RFC3339),
			"published": time.Unix(1760000000, 0).UTC().Format(time.RFC3339), "summary": "test advisory " + a.ID,
			"affected": []any{map[string]any{
				"package": map[string]any{"ecosystem": "Debian:12", "name": a.Package},
				"ranges":  []any{map[string]any{"type": "ECOSYSTEM", "events": []any{map[string]any{"introduced": "0"}, map[string]any{"fixed": a.Fixed}}}},
			}},
			"severity": []any{map[string]any{"type": "CVSS_V3", "score": a.CVSS}},
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, a.ID+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// nopLogger silences the registry's request log.
func nopLogger() *log.Logger { return log.New(io.Discard, "", 0) }
