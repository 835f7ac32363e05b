// Package testenv gives tests the real parts this machine has: the Docker
// Engine, and small real images built from a static Go program. Tests that
// need the Engine skip when none is reachable, and fail instead when
// DOCKVET_REQUIRE_DOCKER=1 (CI sets it), so CI can never pass by skipping.
package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/engine"
)

// RequireDockerEnv is the variable that turns "no Engine" from a skip into
// a failure.
const RequireDockerEnv = "DOCKVET_REQUIRE_DOCKER"

// Docker returns a client of the local Engine, or skips the test when there
// is none (fails under DOCKVET_REQUIRE_DOCKER=1).
func Docker(t testing.TB) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := engine.Connect(ctx)
	if err != nil {
		if os.Getenv(RequireDockerEnv) == "1" {
			t.Fatalf("%s=1 but no Docker Engine is reachable: %v", RequireDockerEnv, err)
		}
		t.Skipf("no Docker Engine reachable (%v); set %s=1 to make this a failure", err, RequireDockerEnv)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// tinyProgram is the program inside test images: it serves nothing, waits
// for a signal, and answers `healthcheck` so images can carry a working
// HEALTHCHECK.
const tinyProgram = `package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(0)
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
`

var (
	binOnce sync.Once
	binData []byte
	binErr  error
)

// StaticBinary builds (once per test process) a tiny static Linux program
// and returns its bytes.
func StaticBinary(t testing.TB) []byte {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dockvet-tiny-")
		if err != nil {
			binErr = err
			return
		}
		defer os.RemoveAll(dir)
		if err = os.WriteFile(filepath.Join(dir, "main.go"), []byte(tinyProgram), 0o644); err == nil {
			err = os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module tiny\n\ngo 1.22\n"), 0o644)
		}
		if err != nil {
			binErr = err
			return
		}
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", "tiny", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = &buildError{err: err, out: string(out)}
			return
		}
		binData, binErr = os.ReadFile(filepath.Join(dir, "tiny"))
	})
	if binErr != nil {
		t.Fatalf("building the test program: %v", binErr)
	}
	return binData
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// File is one entry of a test layer.
type File struct {
	Path     string
	Mode     int64 // permission and setuid bits; 0644 when zero
	Body     []byte
	Dir      bool
	Symlink  string // link target
	Hardlink string // hard link target
	Whiteout bool   // an OCI whiteout for Path (".wh.<name>")
}

// Layer builds an uncompressed tar layer from files.
func Layer(t testing.TB, files ...File) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		name := f.Path
		h := &tar.Header{Name: name, Mode: f.Mode, ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		switch {
		case f.Whiteout:
			h.Name = filepath.Join(filepath.Dir(name), ".wh."+filepath.Base(name))
			h.Typeflag, h.Mode = tar.TypeReg, 0o644
		case f.Dir:
			h.Typeflag = tar.TypeDir
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		case f.Symlink != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, f.Symlink, 0o777
		case f.Hardlink != "":
			h.Typeflag, h.Linkname = tar.TypeLink, f.Hardlink
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Body))
			if h.Mode == 0 {
				h.Mode = 0o644
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg && len(f.Body) > 0 {
			if _, err := tw.Write(f.Body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Image assembles an image from layers (base first) with the given config;
// each layer gets a history entry whose created_by is taken from createdBy
// (or "test layer N").
func Image(t testing.TB, cfg v1.Config, layers []v1.Layer, createdBy ...string) v1.Image {
	t.Helper()
	img := empty.Image
	for i, l := range layers {
		by := "test layer"
		if i < len(createdBy) {
			by = createdBy[i]
		}
		var err error
		img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: by, Created: v1.Time{Time: time.Unix(1700000000, 0)}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TinyImage is an image holding the static test program at /app, running it
// as cfg says (Entrypoint defaults to /app).
func TinyImage(t testing.TB, cfg v1.Config, extra ...v1.Layer) v1.Image {
	t.Helper()
	if len(cfg.Entrypoint) == 0 && len(cfg.Cmd) == 0 {
		cfg.Entrypoint = []string{"/app"}
	}
	base := Layer(t, File{Path: "app", Mode: 0o755, Body: StaticBinary(t)})
	return Image(t, cfg, append([]v1.Layer{base}, extra...), "COPY app /app")
}

// Load puts img into the Engine under tag (`docker load` of a docker-archive
// written by go-containerregistry) and removes it when the test ends.
func Load(t testing.TB, c *client.Client, img v1.Image, tag string) {
	t.Helper()
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tarball.Write(ref, img, &buf); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := c.ImageLoad(ctx, &buf, client.ImageLoadWithQuiet(true))
	if err != nil {
		t.Fatalf("docker load %s: %v", tag, err)
	}
	out, _ := io.ReadAll(res)
	res.Close()
	if bytes.Contains(out, []byte(`"error"`)) {
		t.Fatalf("docker load %s: %s", tag, out)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c.ImageRemove(ctx, tag, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	})
}

// Unique returns prefix with a random suffix, for names of containers,
// images and networks that tests create on the shared Engine: two test
// runs at once (two packages, two checkouts) must not collide.
func Unique(prefix string) string {
	var b [4]byte
	if _, err := crand.Read(b[:]); err != nil {
		panic(err) // the system's random source does not fail
	}
	return prefix + "-" + hex.EncodeToString(b[:])
}

// Lab is one test's share of the Engine, which other tests (and people)
// use at the same time: a prefix unique to the run for every name it
// creates, and the two images most Engine tests start containers from,
// removed when the test ends, failed or not.
type Lab struct {
	T      testing.TB
	C      *client.Client
	Prefix string
	// Unsafe runs the test program as root without a HEALTHCHECK;
	// Hardened runs it as 10001:10001 with one.
	Unsafe, Hardened string
}

// NewLab connects to the Engine (skipping or failing as Docker does) and
// loads the two images under names that start with prefix.
func NewLab(t testing.TB, prefix string) *Lab {
	t.Helper()
	l := &Lab{T: t, C: Docker(t), Prefix: Unique(prefix)}
	l.Unsafe = l.Prefix + "/unsafe:1"
	l.Hardened = l.Prefix + "/hardened:1"
	Load(t, l.C, TinyImage(t, v1.Config{}), l.Unsafe)
	Load(t, l.C, TinyImage(t, v1.Config{User: "10001:10001",
		Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/app", "healthcheck"}, Interval: 30 * time.Second}}), l.Hardened)
	return l
}

// Name is a name unique to this lab: "<prefix>-s".
func (l *Lab) Name(s string) string { return l.Prefix + "-" + s }
