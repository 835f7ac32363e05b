package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/engine"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/testenv"
)

// dockerCLI is the Docker CLI on PATH, or a skip (a failure under
// DOCKVET_REQUIRE_DOCKER=1).
func dockerCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("docker")
	if err != nil {
		if os.Getenv(testenv.RequireDockerEnv) == "1" {
			t.Fatalf("%s=1 but there is no docker CLI on PATH", testenv.RequireDockerEnv)
		}
		t.Skip("no docker CLI on PATH")
	}
	return p
}

// pluginConfig is a Docker configuration directory of the test's own
// with this test binary installed as the docker-vet plugin (TestMain runs
// dockvet under that name).
func pluginConfig(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "cli-plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(dir, "cli-plugins", pluginBinary)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// docker runs the real Docker CLI with the test's configuration and no
// Engine variables of the environment.
func docker(t *testing.T, cli, cfg string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(cli, args...)
	for _, e := range os.Environ() {
		if k, _, _ := strings.Cut(e, "="); k != "DOCKER_HOST" && k != "DOCKER_CONTEXT" && k != "DOCKER_CONFIG" && k != "DOCKER_TLS_VERIFY" {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(append(cmd.Env, "DOCKER_CONFIG="+cfg), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("docker %v: %v", args, err)
	}
	return code, out.String(), errOut.String()
}

// TestDockerCLIPlugin is the acceptance of the plugin and of contexts,
// with the real docker CLI: a Docker configuration holding the plugin and
// a context ctx at this machine's Engine; `docker --context ctx vet
// container NAME` audits NAME and names the Engine and context; with ctx
// pointing at a socket that does not exist, it exits 2 with one line
// naming that socket, and so does `DOCKER_CONTEXT=ctx dockvet container
// NAME`. Help says `docker vet`; the metadata is the Docker CLI's.
func TestDockerCLIPlugin(t *testing.T) {
	cli := dockerCLI(t)
	lab := testenv.NewLab(t, "dvplugin")
	name := lab.Name("web")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := lab.C.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: &containertypes.Config{Image: lab.Unsafe}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		lab.C.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true})
	})
	here, err := engine.Resolve(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := pluginConfig(t)
	if code, _, errOut := docker(t, cli, cfg, nil, "context", "create", "ctx", "--docker", "host="+here.Host); code != 0 {
		t.Fatalf("docker context create: %s", errOut)
	}

	// The Docker CLI lists the plugin with its metadata.
	if _, out, _ := docker(t, cli, cfg, nil, "--help"); !strings.Contains(out, "vet*") || !strings.Contains(out, "Audit Dockerfiles, images") {
		t.Errorf("docker --help does not list the plugin:\n%s", out)
	}
	code, out, errOut := docker(t, cli, cfg, nil, "info", "--format", "{{json .ClientInfo.Plugins}}")
	var plugins []struct{ Name, Vendor, Version, ShortDescription, URL, SchemaVersion, Err string }
	if err := json.Unmarshal([]byte(out), &plugins); code != 0 || err != nil {
		t.Fatalf("docker info: %d %v %s", code, err, errOut)
	}
	found := false
	for _, p := range plugins {
		if p.Name == pluginName {
			found = p.Vendor == "dockvet" && p.Version == Version && p.URL != "" && p.SchemaVersion == "0.1.0" && p.Err == ""
		}
	}
	if !found {
		t.Errorf("docker info: the plugin's metadata is incomplete: %s", out)
	}

	// Help is `docker vet`'s.
	for _, args := range [][]string{{"vet", "--help"}, {"help", "vet"}, {"vet", "container", "--help"}} {
		_, out, _ := docker(t, cli, cfg, nil, args...)
		if !strings.Contains(out, "docker vet") || strings.Contains(out, "dockvet [command]") || strings.Contains(out, "dockvet container") {
			t.Errorf("docker %v:\n%s", args, out)
		}
	}

	// docker --context ctx vet container NAME audits NAME on ctx's Engine.
	code, out, errOut = docker(t, cli, cfg, nil, "--context", "ctx", "vet", "container", name, "--format", "json")
	if code != ExitFindings {
		t.Fatalf("docker --context ctx vet container: exit %d: %s", code, errOut)
	}
	r := jsonReport(t, out)
	if len(r.Targets) != 1 || r.Targets[0].Name != name || r.Targets[0].Kind != finding.SurfaceContainer || len(r.Findings) == 0 {
		t.Errorf("targets %+v, %d findings", r.Targets, len(r.Findings))
	}
	if e := r.Scan.Engine; e == nil || e.Host != here.Host || e.Context != "ctx" || e.From != "--context" {
		t.Errorf("the report names the Engine %+v", e)
	}
	if errOut != "dockvet: Docker Engine "+here.Host+" (context ctx, from --context)\n" {
		t.Errorf("stderr %q", errOut)
	}
	// -q: nothing but the report.
	if _, _, errOut := docker(t, cli, cfg, nil, "--context", "ctx", "vet", "container", name, "-q"); errOut != "" {
		t.Errorf("-q: stderr %q", errOut)
	}
	// Docker's other global flags are honoured, not refused.
	code, _, errOut = docker(t, cli, cfg, nil, "--context", "ctx", "-D", "--log-level", "warn", "vet", "container", name, "--fail-on", "none")
	if code != ExitOK || !strings.Contains(errOut, "dockvet: debug: Engine "+here.Host+": context ctx, from --context") {
		t.Errorf("-D: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut = docker(t, cli, cfg, nil, "-H", here.Host, "vet", "container", name, "--format", "json", "--fail-on", "none")
	if code != ExitOK || jsonReport(t, out).Scan.Engine.From != "--host" {
		t.Errorf("-H: exit %d, stderr %q", code, errOut)
	}

	// The context now names a socket that does not exist.
	gone := "unix://" + filepath.Join(t.TempDir(), "docker.sock")
	if code, _, errOut := docker(t, cli, cfg, nil, "context", "update", "ctx", "--docker", "host="+gone); code != 0 {
		t.Fatalf("docker context update: %s", errOut)
	}
	oneLineNaming := func(what string, code int, out, errOut string) {
		t.Helper()
		if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, gone) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", what, code, out, errOut)
		}
	}
	code, out, errOut = docker(t, cli, cfg, nil, "--context", "ctx", "vet", "container", name)
	oneLineNaming("docker --context ctx vet container", code, out, errOut)

	t.Setenv("DOCKER_CONFIG", cfg)
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "ctx")
	code, out, errOut = run(t, "container", name)
	oneLineNaming("DOCKER_CONTEXT=ctx dockvet container", code, out, errOut)
	// DOCKER_HOST wins over DOCKER_CONTEXT, as in the Docker CLI.
	t.Setenv("DOCKER_HOST", here.Host)
	if code, _, errOut := run(t, "container", name, "--fail-on", "none"); code != ExitOK || !strings.Contains(errOut, "(from DOCKER_HOST)") {
		t.Errorf("DOCKER_HOST over DOCKER_CONTEXT: exit %d, %q", code, errOut)
	}
	// --context on dockvet's own command line wins over both.
	code, out, errOut = run(t, "container", name, "--context", "ctx")
	oneLineNaming("dockvet container --context ctx", code, out, errOut)
}
