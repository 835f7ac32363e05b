package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/ruletest"
)

func jsonReport(t *testing.T, out string) *finding.Report {
	t.Helper()
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	return &r
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	return out
}

// TestScanRepository: one scan finds Compose files (with their override,
// and a fragment over its base; a fragment with no base is a notice), `docker run` lines in scripts, Makefiles,
// Dockerfiles and CI files; broken inputs are listed as errors, the rest is
// still audited, and the run exits 2.
func TestScanRepository(t *testing.T) {
	dir := "testdata/repo"
	code, out, errOut := run(t, "scan", dir, "--format", "json")
	if code != ExitError {
		t.Errorf("exit %d, want %d (broken inputs)\n%s", code, ExitError, errOut)
	}
	r := jsonReport(t, out)
	var container []finding.Finding
	for _, f := range r.Findings {
		if strings.HasPrefix(f.RuleID, "DV3") {
			container = append(container, f)
		}
	}
	want := &ruletest.Case{}
	for _, f := range files(t, dir) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := want.Add(f, data); err != nil {
			t.Fatal(err)
		}
	}
	want.Check(t, ruletest.At(container), func(id string) bool { return strings.HasPrefix(id, "DV3") })

	var errs []string
	for _, e := range r.Errors {
		errs = append(errs, e.Target+": "+e.Message)
	}
	wantErrs := []string{
		`testdata/repo/broken/docker-compose.yml: line 4: services.api: unknown key "privilegd"`,
		"testdata/repo/scripts/run.sh: line 4: unknown flag: --privilegd",
	}
	if !slices.Equal(errs, wantErrs) {
		t.Errorf("errors\n  %s\nwant\n  %s", strings.Join(errs, "\n  "), strings.Join(wantErrs, "\n  "))
	}
	for _, e := range wantErrs {
		if !strings.Contains(errOut, "dockvet: "+e+"\n") {
			t.Errorf("standard error does not say %q:\n%s", e, errOut)
		}
	}
	// A fragment with no main file next to it is no input error, but the
	// report says it was not audited.
	wantNotice := "testdata/repo/snippets/haproxy/docker-compose.override.yml: a Compose fragment (service \"web\" has neither an image nor a build context specified: invalid compose project) with no main Compose file next to it: not audited"
	if len(r.Notices) != 1 || !strings.HasPrefix(r.Notices[0], wantNotice) {
		t.Errorf("notices %q, want one starting %q", r.Notices, wantNotice)
	}
	var targets []string
	for _, tg := range r.Targets {
		targets = append(targets, string(tg.Kind)+" "+tg.Name)
	}
	for _, want := range []string{"compose testdata/repo/compose.yaml", "compose testdata/repo/docker-compose.prod.yml",
		"dockerfile testdata/repo/Dockerfile", "container testdata/repo/deploy/Makefile",
		"container testdata/repo/.gitlab-ci.yml", "container testdata/repo/.github/workflows/ci.yml", "container testdata/repo/scripts/run.sh"} {
		if !slices.Contains(targets, want) {
			t.Errorf("target %q not audited; targets %v", want, targets)
		}
	}
	for _, tg := range targets {
		if strings.Contains(tg, "notcompose") || strings.Contains(tg, "override") || tg == "container testdata/repo/Dockerfile" {
			t.Errorf("%s should not be a target of its own", tg)
		}
	}
}

// TestScanSARIF: the scan's SARIF validates against the schema and every
// result points at a file and a line, as code scanning needs.
func TestScanSARIF(t *testing.T) {
	_, out, _ := run(t, "scan", "testdata/repo", "--format", "sarif")
	rep, err := sarif.FromBytes([]byte(out), sarif.WithStrictValidation())
	if err != nil {
		t.Fatal(err)
	}
	if err := validateSARIF(t, []byte(out)); err != nil {
		t.Fatalf("SARIF does not validate: %v", err)
	}
	n := 0
	for _, res := range rep.Runs[0].Results {
		if !strings.HasPrefix(*res.RuleID, "DV3") {
			continue
		}
		n++
		loc := res.Locations[0].PhysicalLocation
		uri := *loc.ArtifactLocation.URI
		if _, err := os.Stat(uri); err != nil {
			t.Errorf("%s: artifact %q is not a file of the repository", *res.RuleID, uri)
		}
		if loc.Region == nil || loc.Region.StartLine == nil || *loc.Region.StartLine < 1 {
			t.Errorf("%s: no line region", *res.RuleID)
		}
	}
	if n == 0 {
		t.Error("no container results in the SARIF")
	}
}

func TestComposeCommand(t *testing.T) {
	t.Chdir("testdata/repo")
	// Without FILE: the file `docker compose` would use, with its override.
	code, out, errOut := run(t, "compose", "--format", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	r := jsonReport(t, out)
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.RuleID+" "+f.Location.Path)
	}
	slices.Sort(got)
	if want := []string{"DV3020 compose.override.yaml", "DV3040 compose.yaml"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}

	code, _, errOut = run(t, "compose", "broken/docker-compose.yml")
	if code != ExitError || errOut != "dockvet: broken/docker-compose.yml:4: services.api: unknown key \"privilegd\"\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = run(t, "compose", "missing.yml")
	if code != ExitError || !strings.HasPrefix(errOut, "dockvet: missing.yml: ") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}

	code, out, _ = run(t, "compose", "--fix-preview")
	if code != ExitOK || !strings.HasPrefix(out, "# Compose override generated by `dockvet compose --fix-preview`") ||
		!strings.Contains(out, "127.0.0.1:5432:5432") {
		t.Errorf("exit %d, preview:\n%s", code, out)
	}
	if code, _, errOut := run(t, "compose", "--bind-localhost"); code != ExitError || !strings.Contains(errOut, "--fix-preview") {
		t.Errorf("--bind-localhost without --fix-preview: exit %d, %q", code, errOut)
	}
}

func TestComposeInputErrors(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ src, want string }{
		"malformed.yaml":     {"services:\n  web:\n    image: nginx\n     ports: [1]\n", "malformed.yaml:4: mapping values are not allowed in this context"},
		"interpolation.yaml": {"services:\n  web:\n    image: ${TAG\n", "interpolation.yaml:3: invalid interpolation format for services.web.image"},
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(tc.src), 0o644)
		code, _, errOut := run(t, "compose", p)
		if code != ExitError || !strings.HasPrefix(errOut, "dockvet: "+filepath.Join(dir, tc.want)) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q", name, code, errOut)
		}
	}
}

func TestRunCommand(t *testing.T) {
	code, out, _ := run(t, "run", "--format", "json", "--", "docker", "run", "--privileged", "-v", "/var/run/docker.sock:/var/run/docker.sock", "nginx")
	if code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	r := jsonReport(t, out)
	if len(r.Targets) != 1 || r.Targets[0] != (finding.Target{Kind: finding.SurfaceContainer, Name: "docker run nginx"}) {
		t.Errorf("targets %v", r.Targets)
	}
	ids := map[string]bool{}
	for _, f := range r.Findings {
		ids[f.RuleID] = true
	}
	if !ids["DV3001"] || !ids["DV3020"] {
		t.Errorf("findings %v", ids)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"docker", "run", "--privilegd", "nginx"}, "dockvet: docker run: unknown flag: --privilegd\n"},
		{[]string{"podman", "create", "-p"}, "dockvet: podman create: flag needs an argument: 'p' in -p\n"},
		{[]string{"docker", "ps"}, "dockvet: docker ps: not a container start command: docker ps\n"},
		{[]string{"docker", "run", "--help"}, "dockvet: docker run: the command only asks for help; nothing to audit\n"},
	} {
		code, _, errOut := run(t, append([]string{"run", "--"}, tc.args...)...)
		if code != ExitError || errOut != tc.want {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
	code, _, _ = run(t, "run", "--fail-on", "none", "--", "docker", "run", "--cap-drop", "ALL", "nginx")
	if code != ExitOK {
		t.Errorf("--fail-on none: exit %d", code)
	}
}
