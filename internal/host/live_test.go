package host

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/testenv"
)

// TestRealFileMetadata builds a host tree with real modes, owners (when
// the test runs as root) and a real Unix socket, and reads it without any
// metadata overlay: the path the live audit takes.
func TestRealFileMetadata(t *testing.T) {
	root := t.TempDir()
	mk := func(p, body string, mode os.FileMode) string {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil { // umask-proof
			t.Fatal(err)
		}
		return full
	}
	dj := mk("etc/docker/daemon.json", `{"icc": false}`, 0o666)
	if err := os.Chmod(filepath.Join(root, "etc/docker"), 0o777); err != nil {
		t.Fatal(err)
	}
	mk("etc/default/docker", "", 0o644)
	if err := os.MkdirAll(filepath.Join(root, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	// /var/run is an absolute link, which must resolve inside the root.
	if err := os.MkdirAll(filepath.Join(root, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/run", filepath.Join(root, "var/run")); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(root, "run/docker.sock"))
	if err != nil {
		t.Skipf("cannot create a Unix socket here: %v", err)
	}
	defer l.Close()
	if err := os.Chmod(filepath.Join(root, "run/docker.sock"), 0o666); err != nil {
		t.Fatal(err)
	}
	asRoot := os.Geteuid() == 0
	if asRoot {
		if err := os.Lchown(dj, 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Collect(context.Background(), Options{Root: root, Env: map[string]string{}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Files["/var/run/docker.sock"]; f == nil || f.State != Present || f.Mode&os.ModeSocket == 0 {
		t.Fatalf("socket through /var/run -> /run: %+v", f)
	}
	findings, _ := Check(s, CheckOptions{Now: testNow})
	got := map[string]bool{}
	for _, f := range findings {
		got[f.RuleID+" "+f.Location.Path] = true
	}
	want := []string{"DV4306 /etc/docker", "DV4316 /var/run/docker.sock", "DV4318 /etc/docker/daemon.json"}
	if asRoot {
		want = append(want, "DV4317 /etc/docker/daemon.json")
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing %s", w)
		}
	}
	for _, bad := range []string{"DV4320 /etc/default/docker", "DV4305 /etc/docker"} {
		if asRoot && got[bad] {
			t.Errorf("unexpected %s", bad)
		}
	}
}

// TestRootErrors: a --root that is not a directory fails clearly.
func TestRootErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	for _, root := range []string{file, filepath.Join(t.TempDir(), "missing")} {
		if _, err := Collect(context.Background(), Options{Root: root}); err == nil || !strings.HasPrefix(err.Error(), "--root ") {
			t.Errorf("%s: %v", root, err)
		}
	}
}

// TestLiveEngine snapshots the Engine of this machine with a container of
// ours running, and checks that the snapshot is filled: Engine answers,
// the daemon's configuration, its files, and the container's inspect data
// (which the container rules read).
func TestLiveEngine(t *testing.T) {
	c := testenv.Docker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	img := testenv.TinyImage(t, v1.Config{User: "10001"})
	tag := testenv.Unique("dockvet-host-test") + ":live"
	testenv.Load(t, c, img, tag)
	name := testenv.Unique("dockvet-host-live")
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       name,
		Config:     &container.Config{Image: tag, Labels: map[string]string{"dockvet.test": "host"}},
		HostConfig: &container.HostConfig{ReadonlyRootfs: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c.ContainerRemove(ctx, created.ID, client.ContainerRemoveOptions{Force: true})
	})
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := Collect(ctx, Options{Root: "/", Engine: c, Auditctl: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Engine == nil {
		t.Fatalf("no Engine answers: %s", s.EngineErr)
	}
	e := s.Engine
	if e.Info.ServerVersion == "" || e.Version.Version == "" || e.Info.KernelVersion == "" || e.Info.DockerRootDir == "" || len(e.Info.SecurityOptions) == 0 {
		t.Errorf("/info and /version are not filled: %+v", e.Version)
	}
	if e.component("runc") == "" && e.Info.RuncCommit.ID == "" || e.component("containerd") == "" && e.Info.ContainerdCommit.ID == "" {
		t.Error("no runc or containerd version")
	}
	if !slices.ContainsFunc(e.Networks, func(n network.Summary) bool { return n.Name == "bridge" }) {
		t.Error("the default bridge is missing from the networks")
	}
	var ours *Container
	for i := range e.Containers {
		if e.Containers[i].ID == created.ID {
			ours = &e.Containers[i]
		}
	}
	if ours == nil {
		t.Fatalf("the running test container is not in the snapshot (%d containers)", len(e.Containers))
	}
	if ours.Name != name || ours.Inspect.Config == nil || ours.Inspect.Config.User != "10001" ||
		ours.Inspect.HostConfig == nil || !ours.Inspect.HostConfig.ReadonlyRootfs || ours.Inspect.State == nil || !ours.Inspect.State.Running {
		t.Errorf("inspect data is not kept: %+v", ours.Inspect)
	}
	if s.Kernel.Release == "" || (s.Kernel.Upstream == "" && s.Kernel.NotChecked == "") {
		t.Errorf("kernel %+v", s.Kernel)
	}
	if s.Paths.DataRoot == "" || len(s.Paths.DockerSockets) == 0 {
		t.Errorf("paths %+v", s.Paths)
	}
	if f := s.Files["/etc/docker"]; os.Geteuid() == 0 && (f == nil || f.State == Absent && fileExists("/etc/docker")) {
		t.Errorf("/etc/docker: %+v", f)
	}
	if s.Daemon.PID == 0 && os.Geteuid() == 0 && s.Engine.Info.OSType == "linux" && !isRemote(s) {
		t.Errorf("no dockerd process found: %s", s.Daemon.NotChecked)
	}
	findings, checks := Check(s, CheckOptions{})
	if len(checks) != len(Rules())+len(containerRows()) {
		t.Errorf("%d benchmark rows for %d host rules and %d container checks", len(checks), len(Rules()), len(containerRows()))
	}
	for _, f := range findings {
		if f.Location.Container == "" && (f.TargetKind != finding.SurfaceHost || !strings.HasPrefix(f.RuleID, "DV4")) {
			t.Errorf("finding %+v", f)
		}
	}
	t.Logf("%d findings, Engine %s, runc %s, containerd %s, kernel %s (%s)", len(findings), e.Version.Version,
		e.component("runc"), e.component("containerd"), s.Kernel.Release, s.Kernel.Upstream)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// isRemote reports whether DOCKER_HOST names another machine, whose
// daemon process this one cannot see.
func isRemote(s *Snapshot) bool {
	h := os.Getenv("DOCKER_HOST")
	return h != "" && !strings.HasPrefix(h, "unix://")
}
