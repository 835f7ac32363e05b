package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
)

// run executes dockvet with buffers and returns the exit code and streams.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Execute(args, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

// scanTime matches the report's one timing field (scan.time).
var scanTime = regexp.MustCompile(`"time": "[^"]*"`)

// withoutScanTime is a JSON report without its timing field: what must be
// byte-identical between two runs over the same input.
func withoutScanTime[T string | []byte](report T) string {
	return scanTime.ReplaceAllString(string(report), `"time": "…"`)
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const example = "../../examples/insecure-app"

func TestScanExample(t *testing.T) {
	code, out, errOut := run(t, "scan", example)
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1; stderr: %s", code, errOut)
	}
	for _, want := range []string{"DV1040", "DV1070", "DV1001", "Summary:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	if strings.Contains(out, "q8Vh2Lr9TzX4mN7pK1sW6yB3cF5gJ0dA+eR2uI9o") {
		t.Error("a secret was printed whole")
	}
}

func TestFailOn(t *testing.T) {
	dir := t.TempDir()
	// Only a medium finding (DV1010) and lower.
	p := write(t, dir, "Dockerfile", "FROM alpine\nUSER 10001\nHEALTHCHECK NONE\n")
	for _, tc := range []struct {
		failOn string
		code   int
	}{{"high", 0}, {"medium", 1}, {"low", 1}, {"none", 0}, {"critical", 0}} {
		if code, _, errOut := run(t, "dockerfile", p, "--fail-on", tc.failOn); code != tc.code {
			t.Errorf("--fail-on %s: exit %d, want %d (%s)", tc.failOn, code, tc.code, errOut)
		}
	}
}

// TestBadInput: every way a run can fail gives exit 2, nothing on standard
// output, and exactly one line on standard error naming what is wrong.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	bad := write(t, dir, "bad/Dockerfile", "FROM alpine\nRUN <<EOF\necho never closed\n")
	unknown := write(t, dir, "unknown/Dockerfile", "FROM alpine\nFOO bar\n")
	cfg := write(t, dir, "bad.yaml", "rules:\n  disabel: [X]\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"dockerfile", filepath.Join(dir, "nope")}, "nope: no such file or directory"},
		{"no Dockerfile in dir", []string{"dockerfile", empty}, "no Dockerfile found"},
		{"unterminated heredoc", []string{"dockerfile", bad}, "line 2: unterminated heredoc"},
		{"unknown instruction", []string{"dockerfile", unknown}, "line 2: unknown instruction: FOO"},
		{"no args", []string{"dockerfile"}, "no Dockerfile in the current directory"},
		{"bad format", []string{"dockerfile", unknown, "--format", "xml"}, "--format xml does not fit"},
		{"bad severity", []string{"scan", dir, "--severity", "urgent"}, "unknown severity"},
		{"bad fail-on", []string{"scan", dir, "--fail-on", "sometimes"}, "--fail-on"},
		{"unknown flag", []string{"scan", "--frobnicate"}, "unknown flag: --frobnicate"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"bad config", []string{"scan", dir, "--config", cfg}, "field disabel not found"},
		{"missing config", []string{"scan", dir, "--config", filepath.Join(dir, "none.yaml")}, "no such file"},
		{"unknown rule", []string{"rules", "DV9999"}, "no rule DV9999"},
		{"missing scan dir", []string{"scan", filepath.Join(dir, "gone")}, "gone: no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, tc.args...)
			if code != ExitError {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" {
				t.Errorf("standard output must be empty, got %q", out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr = %q, want one line containing %q", errOut, tc.want)
			}
		})
	}
}

// TestScanPartial: one broken Dockerfile does not stop the audit of the
// others; the report lists the error and the exit code is 2.
func TestScanPartial(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "good/Dockerfile", "FROM alpine:3.22\nRUN curl -fsSL https://x | sh\n")
	bad := write(t, dir, "bad/Dockerfile", "FROM\n")
	code, out, errOut := run(t, "scan", dir, "--format", "json")
	if code != ExitError {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(errOut, bad+": line 1: FROM requires") {
		t.Errorf("stderr = %q", errOut)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) != 1 || len(r.Targets) != 1 || len(r.Findings) == 0 {
		t.Errorf("errors %d targets %d findings %d", len(r.Errors), len(r.Targets), len(r.Findings))
	}
}

func TestOutputFileAndDeterminism(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	for _, p := range []string{a, b} {
		code, out, _ := run(t, "scan", example, "--format", "json", "--output", p)
		if code != ExitFindings || out != "" {
			t.Fatalf("exit %d, stdout %q", code, out)
		}
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if len(da) == 0 || withoutScanTime(da) != withoutScanTime(db) {
		t.Error("the same input must give byte-identical JSON")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if code, _, errOut := run(t, "scan", example, "--output", filepath.Join(dir, "no/such/dir/r.json")); code != ExitError || !strings.Contains(errOut, "--output") {
		t.Errorf("unwritable output: exit %d %q", code, errOut)
	}
	// A device is written to, never replaced by a file (as root, a rename
	// over /dev/null would succeed and break the machine).
	if code, _, errOut := run(t, "scan", example, "--output", os.DevNull); code != ExitFindings {
		t.Errorf("--output /dev/null: exit %d %q", code, errOut)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device: %v %v", os.DevNull, fi.Mode(), err)
	}
	if code, _, errOut := run(t, "scan", example, "--output", dir); code != ExitError || !strings.Contains(errOut, "is a directory") {
		t.Errorf("--output DIR: exit %d %q", code, errOut)
	}
}

func TestBuildContextFlag(t *testing.T) {
	dir := t.TempDir()
	df := write(t, dir, "docker/Dockerfile", "FROM alpine:3.22\nUSER 10001\nHEALTHCHECK NONE\nCOPY . /app\n")
	write(t, dir, "ctx/config.ini", "password = \"Qx7-vLp2mZ9w\"\n")
	_, out, _ := run(t, "dockerfile", df, "--format", "json", "--fail-on", "none")
	if strings.Contains(out, "DV1047") {
		t.Error("the default context is the Dockerfile's directory, which holds no secret")
	}
	_, out, _ = run(t, "dockerfile", df, "--context", filepath.Join(dir, "ctx"), "--format", "json", "--fail-on", "none")
	if !strings.Contains(out, "DV1047") || !strings.Contains(out, "config.ini") {
		t.Errorf("--context must be scanned:\n%s", out)
	}
	if code, _, errOut := run(t, "dockerfile", df, df, "--context", dir); code != ExitError || !strings.Contains(errOut, "exactly one") {
		t.Errorf("--context with two Dockerfiles: exit %d %q", code, errOut)
	}
}

func TestFormats(t *testing.T) {
	for _, f := range []string{"table", "json", "sarif", "junit"} {
		code, out, _ := run(t, "dockerfile", example+"/Dockerfile", "--format", f)
		if code != ExitFindings || !strings.Contains(out, "DV1070") {
			t.Errorf("%s: exit %d, output lacks findings", f, code)
		}
	}
}

func TestConfigIgnoresAndWaivers(t *testing.T) {
	dir := t.TempDir()
	df := write(t, dir, "app/Dockerfile", `FROM alpine:3.22
USER 10001
# dockvet ignore=DV1070 vendor installer, reviewed
RUN curl -fsSL https://x | sh
RUN chmod 777 /data
RUN sudo true
`)
	cfg := write(t, dir, "cfg.yaml", `rules:
  disable: [DV1091]
  severity: {DV1011: high}
ignore:
  - id: DV1080
    reason: shared scratch directory
`)
	ign := write(t, dir, "ignore", "DV1003 app/*  # legacy\n")
	code, out, _ := run(t, "dockerfile", df, "--config", cfg, "--ignore-file", ign, "--format", "json")
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	ids := map[string]finding.Severity{}
	for _, f := range r.Findings {
		ids[f.RuleID] = f.Severity
	}
	if _, ok := ids["DV1091"]; ok {
		t.Error("disabled rule reported")
	}
	if ids["DV1011"] != finding.High {
		t.Errorf("severity override not applied: %v", ids["DV1011"])
	}
	for _, id := range []string{"DV1070", "DV1080"} {
		if _, ok := ids[id]; ok {
			t.Errorf("%s should be suppressed", id)
		}
	}
	by := map[string]string{}
	for _, s := range r.Suppressed {
		by[s.RuleID] = s.By + ": " + s.Reason
	}
	if by["DV1070"] != "inline: vendor installer, reviewed" || by["DV1080"] != "config: shared scratch directory" {
		t.Errorf("suppressed = %v", by)
	}
	// The ignore file's glob is relative to the current directory, so it
	// does not match this temporary path: DV1003 stays.
	if _, ok := ids["DV1003"]; !ok {
		t.Error("DV1003 should still be reported")
	}
	if code != ExitFindings {
		t.Errorf("exit %d", code)
	}
	// --severity keeps only what was asked for.
	_, out, _ = run(t, "dockerfile", df, "--severity", "low,info", "--format", "json", "--config", cfg)
	json.Unmarshal([]byte(out), &r)
	for _, f := range r.Findings {
		if f.Severity > finding.Low {
			t.Errorf("--severity low,info reported %s %s", f.RuleID, f.Severity)
		}
	}
}

func TestRulesCatalog(t *testing.T) {
	code, out, _ := run(t, "rules", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rules []finding.Rule
	if err := json.Unmarshal([]byte(out), &rules); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rules {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		for _, s := range r.Surfaces {
			if s == finding.SurfaceDockerfile {
				n++
			}
		}
	}
	if n < 50 {
		t.Errorf("%d rules with the dockerfile surface, want at least 50", n)
	}
	var raw []map[string]any
	json.Unmarshal([]byte(out), &raw)
	for _, k := range []string{"id", "title", "practice", "severity", "surfaces", "description", "remediation"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("catalog entry lacks %q", k)
		}
	}
	code, out, _ = run(t, "rules", "dv1070")
	if code != 0 || !strings.Contains(out, "Download piped into a shell") || !strings.Contains(out, "Remediation:") {
		t.Errorf("rules DV1070: exit %d\n%s", code, out)
	}
}

// TestRulesDocUpToDate keeps docs/rules.md generated from the rule values.
// Regenerate with: go run ./cmd/dockvet rules --format markdown > docs/rules.md
func TestRulesDocUpToDate(t *testing.T) {
	_, out, _ := run(t, "rules", "--format", "markdown")
	doc, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != out {
		t.Error("docs/rules.md is out of date; run: go run ./cmd/dockvet rules --format markdown > docs/rules.md")
	}
}

func TestPlugin(t *testing.T) {
	code, out, _ := run(t, "docker-cli-plugin-metadata")
	var meta map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &meta) != nil || meta["SchemaVersion"] != "0.1.0" || meta["Vendor"] == "" {
		t.Fatalf("metadata: exit %d %q", code, out)
	}
	var buf, errBuf bytes.Buffer
	code = ExecuteAs("/home/u/.docker/cli-plugins/docker-vet", []string{"vet", "version"}, Streams{Out: &buf, Err: &errBuf})
	if code != 0 || !strings.HasPrefix(buf.String(), "dockvet ") {
		t.Errorf("as a plugin: exit %d %q %q", code, buf.String(), errBuf.String())
	}
}
