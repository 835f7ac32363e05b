package cli

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/testenv"
)

// TestHostLiveContainers is issue 7's acceptance run on this machine:
// `dockvet host --format json` with deliberately unsafe containers and a
// hardened one running reports the unsafe containers' settings at their
// names, nothing above low for the hardened one, and the host's own CIS
// findings with their IDs. The Engine is shared, so only our containers
// (unique names) are judged, and all of them are removed at the end.
func TestHostLiveContainers(t *testing.T) {
	lab := testenv.NewLab(t, "dvclihost")
	c, prefix, unsafeImage, hardenedImage := lab.C, lab.Prefix, lab.Unsafe, lab.Hardened
	const token = "ghp_Zt9xQ2mW4vB7nK1pL8rD3sF6hJ0cY5aE2uIo" // fabricated, in GitHub's format

	start := func(name string, cfg containertypes.Config, hc containertypes.HostConfig) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: &cfg, HostConfig: &hc})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true})
		})
		_, err = c.ContainerStart(ctx, res.ID, client.ContainerStartOptions{})
		return err
	}
	socket, unsafe, privileged, hardened := prefix+"-socket", prefix+"-unsafe", prefix+"-privileged", prefix+"-hardened"
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(start(socket, containertypes.Config{Image: unsafeImage}, containertypes.HostConfig{Binds: []string{"/var/run/docker.sock:/var/run/docker.sock"}}))
	must(start(unsafe, containertypes.Config{Image: unsafeImage, Env: []string{"GITHUB_TOKEN=" + token}},
		containertypes.HostConfig{PidMode: "host", NetworkMode: "host", CapAdd: []string{"SYS_ADMIN"}}))
	must(start(hardened, containertypes.Config{Image: hardenedImage}, containertypes.HostConfig{
		CgroupnsMode: containertypes.CgroupnsModePrivate, CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges"}, ReadonlyRootfs: true,
		Resources: containertypes.Resources{Memory: 32 << 20, NanoCPUs: 25e7, PidsLimit: ptr(int64(32))},
	}))
	// runc on this machine cannot start a privileged container; `host`
	// audits running containers, so it is then simply not in the report.
	privilegedRuns := start(privileged, containertypes.Config{Image: unsafeImage}, containertypes.HostConfig{Privileged: true}) == nil
	if !privilegedRuns {
		t.Logf("%s could not be started here; it is not running, so not audited", privileged)
	}

	code, out, errOut := run(t, "host", "--format", "json", "--fail-on", "high")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1 (critical findings): %s", code, errOut)
	}
	if strings.Contains(out, token[4:]) {
		t.Fatal("the report prints the token")
	}
	r := jsonReport(t, out)
	targets := map[string]finding.Surface{}
	for _, tg := range r.Targets {
		targets[tg.Name] = tg.Kind
	}
	for _, name := range []string{socket, unsafe, hardened} {
		if targets[name] != finding.SurfaceContainer {
			t.Errorf("%s is not a container target: %v", name, r.Targets)
		}
	}
	if _, ok := targets[privileged]; ok != privilegedRuns {
		t.Errorf("privileged container running %v, audited %v", privilegedRuns, ok)
	}
	got := map[string][]string{}
	hostCIS := 0
	for _, f := range r.Findings {
		if f.TargetKind == finding.SurfaceHost && f.Location.Container == "" && f.CIS != "" {
			hostCIS++
		}
		if f.Location.Container == "" {
			continue
		}
		if f.Target != f.Location.Container {
			t.Errorf("%s of %s located at %+v", f.RuleID, f.Target, f.Location)
		}
		got[f.Location.Container] = append(got[f.Location.Container], f.RuleID)
		if f.Location.Container == hardened && f.Severity > finding.Low {
			t.Errorf("hardened container: %s %s: %s", f.Severity, f.RuleID, f.Message)
		}
	}
	for name, want := range map[string][]string{
		socket: {"DV3020", "DV3100"},
		unsafe: {"DV3002", "DV3010", "DV3013", "DV3060"},
	} {
		for _, id := range want {
			if !slices.Contains(got[name], id) {
				t.Errorf("%s: no %s in %v", name, id, got[name])
			}
		}
	}
	if privilegedRuns && !slices.Contains(got[privileged], "DV3001") {
		t.Errorf("%s: no DV3001 in %v", privileged, got[privileged])
	}
	if hostCIS == 0 {
		t.Error("no host finding with a CIS ID")
	}

	// The benchmark table: one row per CIS 5.x check, WARN naming the
	// containers that fail it.
	_, table, _ := run(t, "host", "--format", "table", "--fail-on", "none", "--no-color")
	for _, row := range []string{`5\.32 +DV3020`, `5\.4 +DV3002,DV3003`, `5\.10 +DV3013`, `4\.1 +DV3100`} {
		re := regexp.MustCompile(`\[WARN\] ` + row + `[^\n]*\n\[WARN\] +\* [^\n]*(` + regexp.QuoteMeta(prefix) + `|more)`)
		if !re.MatchString(table) {
			t.Errorf("table has no WARN row %s naming our containers", row)
		}
	}
	t.Log("\n" + table)

	// SARIF with container findings in it still validates.
	_, sarifOut, _ := run(t, "host", "--format", "sarif", "--fail-on", "none")
	if err := validateSARIF(t, []byte(sarifOut)); err != nil {
		t.Fatalf("SARIF does not validate: %v", err)
	}
	if !strings.Contains(sarifOut, socket) {
		t.Error("SARIF does not name the socket container")
	}
}
