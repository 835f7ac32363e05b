package engine_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/engine"
	"github.com/dockvet/dockvet/internal/testenv"
)

// TestSSH reaches the Engine over an ssh:// host, through the Docker CLI's
// connection helper: it runs `ssh … -- HOST docker system dial-stdio` and
// speaks the API over the command's standard streams. There is no SSH
// server here, so an `ssh` of the test's own on PATH runs the remote
// command on this machine; everything past it (the helper, the real docker
// CLI's dial-stdio, the Engine) is real.
func TestSSH(t *testing.T) {
	local := testenv.Docker(t)
	docker, err := exec.LookPath("docker")
	if err != nil {
		if os.Getenv(testenv.RequireDockerEnv) == "1" {
			t.Fatal("no docker CLI on PATH")
		}
		t.Skip("no docker CLI on PATH")
	}
	bin := t.TempDir()
	script := "#!/bin/sh\n# stands in for ssh: drop the options and the host, run the remote command here\n" +
		"while [ \"$1\" != \"--\" ]; do shift; done\nshift 2\nDOCKER_HOST=" + local.DaemonHost() + " exec sh -c \"$*\"\n"
	if err := os.WriteFile(filepath.Join(bin, "ssh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(docker, filepath.Join(bin, "docker")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(engine.EnvConfig, t.TempDir())
	t.Setenv(engine.EnvHost, "ssh://dockvet@engine.test")
	e, err := engine.Resolve(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info := e.Info(); info.Host != "ssh://dockvet@engine.test" || info.TLS != "" || e.Local() {
		t.Errorf("info %+v, local %v", info, e.Local())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := e.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := local.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Version == "" || v.Version != want.Version {
		t.Errorf("over ssh: Engine %q, locally %q", v.Version, want.Version)
	}
}
