package testenv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// TestLoadAndInspect proves the whole chain the Engine tests rely on: a
// static program, an image assembled in Go, `docker load`, and the Engine
// seeing the configuration we wrote.
func TestLoadAndInspect(t *testing.T) {
	c := Docker(t)
	img := TinyImage(t, v1.Config{User: "10001", Env: []string{"MODE=test"}})
	Load(t, c, img, "dockvet-test/tiny:testenv")
	res, err := c.ImageInspect(context.Background(), "dockvet-test/tiny:testenv")
	if err != nil {
		t.Fatal(err)
	}
	if res.Config == nil || res.Config.User != "10001" {
		t.Fatalf("loaded image config = %+v", res.Config)
	}
}

// TestPrivateDaemon: a private dockerd runs in a network namespace of its
// own, answers on its own socket, takes a test image and a container, and
// is gone when its test ends: stopped by its pid, its directory removed.
func TestPrivateDaemon(t *testing.T) {
	var pid int
	var dir string
	t.Run("daemon", func(t *testing.T) {
		d := PrivateDaemon(t, DaemonOptions{})
		pid, dir = d.Pid(), d.Dir
		own, err := os.Readlink("/proc/self/ns/net")
		if err != nil {
			t.Fatal(err)
		}
		if theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); err != nil || theirs == own {
			t.Errorf("the daemon's network namespace is %q (%v), the test's %q", theirs, err, own)
		}
		Load(t, d.C, TinyImage(t, v1.Config{}), "dockvet-test/tiny:private")
		ctx := context.Background()
		if _, err := d.C.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "left-behind",
			Config: &containertypes.Config{Image: "dockvet-test/tiny:private"}}); err != nil {
			t.Fatal(err)
		}
	})
	if pid == 0 {
		return // skipped
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("the private dockerd (pid %d) still runs after its test", pid)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the private dockerd's directory %s is still there: %v", dir, err)
	}
}
