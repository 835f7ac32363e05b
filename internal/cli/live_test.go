package cli

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/testenv"
)

// TestContainerCommand audits live containers by name and by ID: one
// report, one target per container however it is named, findings at the
// container's name; an unknown container is one line and exit 2.
func TestContainerCommand(t *testing.T) {
	lab := testenv.NewLab(t, "dvcli")
	c, prefix, hardenedImage, unsafeImage := lab.C, lab.Prefix, lab.Hardened, lab.Unsafe

	create := func(name string, cfg containertypes.Config, hc containertypes.HostConfig) string {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		hc.CgroupnsMode = containertypes.CgroupnsModePrivate // the default depends on the host's cgroup version
		res, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: &cfg, HostConfig: &hc})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true})
		})
		if _, err := c.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	socket := prefix + "-socket"
	create(socket, containertypes.Config{Image: unsafeImage}, containertypes.HostConfig{Binds: []string{"/var/run/docker.sock:/var/run/docker.sock:ro"}})
	hardened := prefix + "-hardened"
	hardenedID := create(hardened, containertypes.Config{Image: hardenedImage}, containertypes.HostConfig{
		CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges"}, ReadonlyRootfs: true,
		Resources: containertypes.Resources{Memory: 32 << 20, NanoCPUs: 25e7, PidsLimit: ptr(int64(32))},
	})

	code, out, errOut := run(t, "container", socket, hardenedID[:12], hardened, "--format", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d: %s", code, ExitFindings, errOut)
	}
	r := jsonReport(t, out)
	var targets []string
	for _, tg := range r.Targets {
		targets = append(targets, string(tg.Kind)+" "+tg.Name)
	}
	if want := []string{"container " + hardened, "container " + socket}; !slices.Equal(targets, want) {
		t.Errorf("targets %v, want %v", targets, want)
	}
	got := map[string][]string{}
	for _, f := range r.Findings {
		if f.Location.Container != f.Target {
			t.Errorf("%s of %s located at %+v", f.RuleID, f.Target, f.Location)
		}
		got[f.Target] = append(got[f.Target], f.RuleID)
	}
	if !slices.Contains(got[socket], "DV3020") || !slices.Contains(got[socket], "DV3100") {
		t.Errorf("socket container: %v", got[socket])
	}
	if h := got[hardened]; !slices.Equal(h, []string{"DV3071"}) {
		t.Errorf("hardened container: %v", h)
	}

	code, out, errOut = run(t, "container", hardened, prefix+"-missing", "--format", "json")
	if code != ExitError || errOut != realEngineLine(t)+"dockvet: "+prefix+"-missing: no such container on the Docker Engine at "+c.DaemonHost()+"\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if r := jsonReport(t, out); len(r.Targets) != 1 || len(r.Errors) != 1 {
		t.Errorf("the report lists what was audited and what was not: %+v %+v", r.Targets, r.Errors)
	}
	code, out, errOut = run(t, "container", prefix+"-missing", "-q")
	if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestContainerNoEngine: an Engine that cannot be reached is one line
// naming it, exit 2, and no report.
func TestContainerNoEngine(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	code, out, errOut := run(t, "container", "web")
	if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 ||
		!strings.HasPrefix(errOut, "dockvet: docker engine at unix://"+sock+" is not reachable") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := run(t, "container"); code != ExitError || !strings.Contains(errOut, "requires at least 1 arg") {
		t.Errorf("no argument: exit %d, %q", code, errOut)
	}
}

func ptr[T any](v T) *T { return &v }

// TestContainerFakeEngine runs `dockvet container` against recorded Engine
// answers: one target per container however it is named (name, ID
// prefix), exactly the container rules at each container's name, one
// line and exit 2 for a container the Engine does not have, and the
// client closed once.
func TestContainerFakeEngine(t *testing.T) {
	e := newFakeEngine(t, "tcp://engine.test:2376")
	code, out, errOut := runFake(t, e.connect, "container", "lvexp-unsafe-running", "4c546516", "cap-user", "9219b7a0747b", "--format", "json")
	if code != ExitFindings || errOut != engineLine("tcp://engine.test:2376") {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut)
	}
	if e.closes() != 1 {
		t.Errorf("the Engine client was closed %d times", e.closes())
	}
	r := jsonReport(t, out)
	if r.Scan == nil || r.Scan.Engine == nil || r.Scan.Engine.Host != "tcp://engine.test:2376" {
		t.Errorf("the report does not name the Engine: %+v", r.Scan)
	}
	var targets []string
	for _, tg := range r.Targets {
		targets = append(targets, string(tg.Kind)+" "+tg.Name)
	}
	if want := []string{"container cap-user", "container lvexp-hardened", "container lvexp-unsafe-running"}; !slices.Equal(targets, want) {
		t.Errorf("targets %v, want %v", targets, want)
	}
	got := map[string][]string{}
	for _, f := range r.Findings {
		if f.TargetKind != finding.SurfaceContainer || f.Location.Container != f.Target {
			t.Errorf("%s of %s (%s) located at %+v", f.RuleID, f.Target, f.TargetKind, f.Location)
		}
		got[f.Target] = append(got[f.Target], f.RuleID)
	}
	for name, want := range map[string][]string{
		"lvexp-unsafe-running": {"DV3002", "DV3002", "DV3003", "DV3004", "DV3009", "DV3010", "DV3015", "DV3020", "DV3021", "DV3030",
			"DV3031", "DV3032", "DV3040", "DV3042", "DV3060", "DV3071", "DV3100", "DV3101"},
		// Started with --user 10001: the image's missing USER is not its finding.
		"lvexp-hardened": {"DV3071"},
		// Its image is not on the Engine: the image rules have nothing to judge.
		"cap-user": {"DV3003", "DV3004", "DV3009", "DV3030", "DV3031", "DV3032", "DV3071"},
	} {
		slices.Sort(got[name])
		if !slices.Equal(got[name], want) {
			t.Errorf("%s: %v, want %v", name, got[name], want)
		}
	}
	if !strings.Contains(out, "GITHUB_TOKEN (ghp_****)") || strings.Contains(out, "ghp_Zt") {
		t.Error("the token in the container's environment is not masked")
	}

	code, out, errOut = runFake(t, e.connect, "container", "lvexp-hardened", "missing", "--format", "json")
	if code != ExitError || errOut != engineLine("tcp://engine.test:2376")+"dockvet: missing: no such container on the Docker Engine at tcp://engine.test:2376\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if r := jsonReport(t, out); len(r.Targets) != 1 || len(r.Errors) != 1 || r.Errors[0].Target != "missing" {
		t.Errorf("the report lists what was audited and what was not: %+v %+v", r.Targets, r.Errors)
	}
	if code, out, errOut := runFake(t, e.connect, "container", "missing", "-q"); code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 {
		t.Errorf("nothing audited: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, _ := runFake(t, e.connect, "container", "lvexp-unsafe-running", "--fail-on", "none"); code != ExitOK {
		t.Errorf("--fail-on none: exit %d", code)
	}
	if e.closes() != 4 {
		t.Errorf("the Engine client was closed %d times after 4 runs", e.closes())
	}

	unreachable := func(context.Context) (EngineClient, error) {
		return nil, errors.New("docker engine at unix:///run/none.sock is not reachable: connection refused")
	}
	code, out, errOut = runFake(t, unreachable, "container", "web")
	if code != ExitError || out != "" || errOut != "dockvet: docker engine at unix:///run/none.sock is not reachable: connection refused\n" {
		t.Errorf("unreachable Engine: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
