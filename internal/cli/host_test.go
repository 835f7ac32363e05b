package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/host"
	"github.com/dockvet/dockvet/internal/testenv"
)

// hostTree writes a small host whose daemon listens on TCP without TLS.
func hostTree(t *testing.T, daemonJSON string) string {
	t.Helper()
	root := t.TempDir()
	write(t, root, "etc/docker/daemon.json", daemonJSON)
	write(t, root, "lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock\n")
	return root
}

func TestHostTableAndExitCode(t *testing.T) {
	root := hostTree(t, `{"hosts": ["tcp://0.0.0.0:2375", "unix:///var/run/docker.sock"]}`)
	code, out, errOut := run(t, "host", "--root", root, "--no-engine", "--format", "table")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1 (a critical finding); stderr %q", code, errOut)
	}
	for _, want := range []string{
		"[INFO] 1 - Host Configuration",
		"[WARN] 2.7     DV4207",
		"[INFO] 1.2.2   DV4122", // no Engine: not checked, not passed
		"not checked: the Engine API was not available (--no-engine)",
		"[INFO] 7.1     DV4701",
		"Swarm mode is not active",
		"Score:",
		"CRITICAL  DV4207",
		"tcp://0.0.0.0:2375 without TLS",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	if !regexp.MustCompile(`\[PASS\] 2\.4 +DV4204`).MatchString(out) {
		t.Error("passed checks are listed in the table")
	}
}

func TestHostJSON(t *testing.T) {
	root := hostTree(t, `{"hosts": ["tcp://0.0.0.0:2375"], "icc": false}`)
	code, out, _ := run(t, "host", "--root", root, "--no-engine", "--format", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	status := map[string]finding.CheckStatus{}
	for _, c := range r.Checks {
		status[c.RuleID] = c.Status
	}
	for _, rule := range host.Rules() {
		if status[rule.ID] == 0 {
			t.Errorf("no benchmark row for %s", rule.ID)
		}
	}
	// Without the Engine the running containers are not checked: their
	// rows are there, as info, never as passed.
	for _, id := range []string{"DV3001", "DV3020", "DV3002,DV3003", "DV3100", "DV4507"} {
		if status[id] != finding.CheckInfo {
			t.Errorf("container check %s is %v without the Engine, want info", id, status[id])
		}
	}
	if status["DV4207"] != finding.CheckWarn || status["DV4202"] != finding.CheckPass || status["DV4122"] != finding.CheckInfo {
		t.Errorf("statuses %v %v %v", status["DV4207"], status["DV4202"], status["DV4122"])
	}
	if len(r.Targets) != 1 || r.Targets[0].Kind != finding.SurfaceHost || r.Targets[0].Name != root {
		t.Errorf("targets %+v", r.Targets)
	}
	for _, f := range r.Findings {
		if strings.HasPrefix(f.Message, "Passed") {
			t.Errorf("passed checks appear only with --show-passed: %s", f.Message)
		}
	}

	// --show-passed adds one info finding per passed check.
	_, out, _ = run(t, "host", "--root", root, "--no-engine", "--format", "json", "--show-passed")
	var withPassed finding.Report
	if err := json.Unmarshal([]byte(out), &withPassed); err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, f := range withPassed.Findings {
		if strings.HasPrefix(f.Message, "Passed") {
			passed++
			if f.Severity != finding.Info || status[f.RuleID] != finding.CheckPass {
				t.Errorf("passed finding %s %s for a check that is %v", f.RuleID, f.Severity, status[f.RuleID])
			}
		}
	}
	want := 0
	for _, st := range status {
		if st == finding.CheckPass {
			want++
		}
	}
	if passed != want || len(withPassed.Findings) != len(r.Findings)+want {
		t.Errorf("--show-passed added %d findings, want %d", passed, want)
	}
}

func TestHostSARIF(t *testing.T) {
	root := hostTree(t, `{"hosts": ["tcp://0.0.0.0:2375"]}`)
	_, out, _ := run(t, "host", "--root", root, "--no-engine", "--format", "sarif")
	if err := validateSARIF(t, []byte(out)); err != nil {
		t.Fatalf("SARIF does not validate: %v", err)
	}
	if !strings.Contains(out, `"cis": "2.7"`) {
		t.Error("SARIF rules carry their CIS ID")
	}
}

func TestHostBadInput(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "file", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"host", "--root", filepath.Join(dir, "missing")}, "no such file or directory"},
		{[]string{"host", "--root", file}, "not a directory"},
		{[]string{"host", "--root", dir, "--format", "cyclonedx"}, "--format cyclonedx does not fit"},
		{[]string{"host", "extra"}, "unknown command"},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, out, errOut)
		}
	}
}

// TestHostMalformedInput: a daemon.json dockerd would refuse makes the
// audit incomplete: the report is written, the error named, exit 2.
func TestHostMalformedInput(t *testing.T) {
	root := hostTree(t, `{"icc": "no"}`)
	code, out, errOut := run(t, "host", "--root", root, "--no-engine", "--format", "json")
	if code != ExitError {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(errOut, "/etc/docker/daemon.json: \"icc\" has a string where dockerd wants a bool") {
		t.Errorf("stderr %q", errOut)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Errors) != 1 {
		t.Fatalf("the report lists the error: %v %+v", err, r.Errors)
	}
	for _, c := range r.Checks {
		if c.RuleID == "DV4214" && c.Status != finding.CheckInfo {
			t.Errorf("a check that needs the broken file is %v, not info", c.Status)
		}
	}
}

// TestHostUnreachableEngine: without an Engine the files are still
// audited, the report says the Engine was not reached, and the exit code
// is 2 because the audit is incomplete.
func TestHostUnreachableEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no.sock"))
	root := hostTree(t, `{"icc": false}`)
	code, out, errOut := run(t, "host", "--root", root, "--format", "json")
	if code != ExitError || !strings.Contains(errOut, "docker engine:") || !strings.Contains(errOut, "--no-engine") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Checks) == 0 {
		t.Fatalf("a report with the file checks is written: %v", err)
	}
	// The running containers could not be listed: their checks are not
	// checked, never passed.
	for _, c := range r.Checks {
		if (strings.HasPrefix(c.Section, "5") || strings.HasPrefix(c.RuleID, "DV3")) && c.Status != finding.CheckInfo {
			t.Errorf("%s %s is %v without the Engine", c.CIS, c.RuleID, c.Status)
		}
	}
}

// TestHostLive audits this machine: its own CIS findings, with IDs.
func TestHostLive(t *testing.T) {
	testenv.Docker(t)
	code, out, errOut := run(t, "host", "--format", "json")
	if code == ExitError {
		t.Fatalf("exit 2: %s", errOut)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	hosts := 0
	for _, tg := range r.Targets {
		if tg.Kind == finding.SurfaceHost {
			hosts++
		}
	}
	if len(r.Checks) < len(host.Rules()) || hosts != 1 {
		t.Fatalf("checks %d targets %+v", len(r.Checks), r.Targets)
	}
	sections := map[string]bool{}
	for _, c := range r.Checks {
		sections[c.Section[:1]] = true
		if c.Status < finding.CheckPass || c.Status > finding.CheckNote {
			t.Errorf("%s: status %v", c.RuleID, c.Status)
		}
	}
	for _, s := range []string{"1", "2", "3", "4", "5", "6", "7"} {
		if !sections[s] {
			t.Errorf("no checks of section %s", s)
		}
	}
	withCIS := 0
	for _, f := range r.Findings {
		if f.Location.Container == "" && (!strings.HasPrefix(f.RuleID, "DV4") || f.TargetKind != finding.SurfaceHost) {
			t.Errorf("finding %+v", f)
		}
		if f.CIS != "" && f.TargetKind == finding.SurfaceHost {
			withCIS++
		}
	}
	if withCIS == 0 {
		t.Error("no CIS findings on this host")
	}
	if (code == ExitFindings) != (r.Max() >= finding.High) {
		t.Errorf("exit %d with highest severity %v", code, r.Max())
	}
	_, table, _ := run(t, "host", "--format", "table", "--fail-on", "none")
	t.Log("\n" + table)
	if os.Getenv("DOCKVET_SHOW_HOST") != "" {
		os.Stdout.WriteString(table)
	}
}

// TestHostFakeEngine audits a host tree with recorded Engine answers: the
// Engine's checks are made (not reported as not checked), the running
// containers are targets of their own with the container rules at their
// names, and an exec session read over the client's connection is judged.
func TestHostFakeEngine(t *testing.T) {
	root := hostTree(t, `{"hosts": ["tcp://0.0.0.0:2375"]}`)
	e := newFakeEngine(t, "unix:///var/run/docker.sock")
	code, out, errOut := runFake(t, e.connect, "host", "--root", root, "--format", "json")
	if code != ExitFindings || errOut != engineLine("unix:///var/run/docker.sock") {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut)
	}
	if r := jsonReport(t, out); r.Scan == nil || r.Scan.Engine == nil || r.Scan.Engine.Host != "unix:///var/run/docker.sock" {
		t.Errorf("the report does not name the Engine: %+v", r.Scan)
	}
	if e.closes() != 1 {
		t.Errorf("the Engine client was closed %d times", e.closes())
	}
	r := jsonReport(t, out)
	var targets []string
	for _, tg := range r.Targets {
		targets = append(targets, string(tg.Kind)+" "+tg.Name)
	}
	// Only running containers: lvexp-hardened was created, never started.
	if want := []string{"host " + root, "container cap-user", "container lvexp-unsafe-running"}; !slices.Equal(targets, want) {
		t.Errorf("targets %v, want %v", targets, want)
	}
	status := map[string]finding.CheckStatus{}
	for _, c := range r.Checks {
		status[c.RuleID] = c.Status
	}
	for id, want := range map[string]finding.CheckStatus{
		"DV4122": finding.CheckPass, // the Engine's version, known now
		"DV4207": finding.CheckWarn,
		"DV3020": finding.CheckWarn, // 5.32: the socket container
		"DV4523": finding.CheckWarn, // the privileged exec session
		"DV3001": finding.CheckPass,
	} {
		if status[id] != want {
			t.Errorf("%s is %v, want %v", id, status[id], want)
		}
	}
	has := func(id, target string) bool {
		for _, f := range r.Findings {
			if f.RuleID == id && f.Target == target && (f.TargetKind == finding.SurfaceHost || f.Location.Container == target) {
				return true
			}
		}
		return false
	}
	for _, w := range [][2]string{{"DV4207", root}, {"DV3020", "lvexp-unsafe-running"}, {"DV3060", "lvexp-unsafe-running"}, {"DV4523", "cap-user"}} {
		if !has(w[0], w[1]) {
			t.Errorf("no %s at %s", w[0], w[1])
		}
	}
}

// TestHostEngineErrors: an Engine that cannot be reached, or does not
// answer /info, leaves the file checks standing; the report says what
// was not checked and the run exits 2.
func TestHostEngineErrors(t *testing.T) {
	root := hostTree(t, `{"icc": false}`)
	unreachable := func(context.Context) (EngineClient, error) {
		return nil, errors.New("docker engine at unix:///run/none.sock is not reachable: connection refused")
	}
	code, out, errOut := runFake(t, unreachable, "host", "--root", root, "--format", "json")
	want := "dockvet: docker engine: docker engine at unix:///run/none.sock is not reachable: connection refused " +
		"(the Engine's checks are reported as not checked; --no-engine audits the files alone)\n"
	if code != ExitError || errOut != want {
		t.Errorf("unreachable: exit %d, stderr %q", code, errOut)
	}
	r := jsonReport(t, out)
	status := map[string]finding.CheckStatus{}
	for _, c := range r.Checks {
		status[c.RuleID] = c.Status
	}
	if len(r.Errors) != 1 || status["DV4122"] != finding.CheckInfo || status["DV4202"] != finding.CheckPass {
		t.Errorf("errors %+v, DV4122 %v, DV4202 %v", r.Errors, status["DV4122"], status["DV4202"])
	}

	e := newFakeEngine(t, "unix:///var/run/docker.sock")
	e.infoErr = errors.New("Error response from daemon: internal error")
	code, out, errOut = runFake(t, e.connect, "host", "--root", root, "--format", "json")
	if code != ExitError || errOut != engineLine("unix:///var/run/docker.sock")+"dockvet: docker engine: GET /info: Error response from daemon: internal error\n" {
		t.Errorf("no /info: exit %d, stderr %q", code, errOut)
	}
	if r := jsonReport(t, out); len(r.Errors) != 1 || len(r.Targets) != 1 {
		t.Errorf("no /info: errors %+v, targets %+v", r.Errors, r.Targets)
	}

	// This machine's files with another machine's Engine: said, not hidden.
	e = newFakeEngine(t, "tcp://engine.test:2376")
	_, _, errOut = runFake(t, e.connect, "host", "--format", "json", "--output", os.DevNull)
	if !strings.Contains(errOut, "dockvet: the Engine at tcp://engine.test:2376 may be another machine's; the file checks describe this one\n") {
		t.Errorf("no notice about a remote Engine: %q", errOut)
	}
}
