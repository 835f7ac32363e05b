package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dockvet/dockvet/internal/finding"
)

// runIn executes dockvet in dir with stdin and a terminal of the given
// width (0: not a terminal).
func runIn(t *testing.T, dir, stdin string, width int, args ...string) (int, string, string) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errOut bytes.Buffer
	code := Execute(args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut, OutIsTerminal: width > 0, Width: width})
	return code, out.String(), errOut.String()
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestTableAlignedAndWrapped: on an 80-column terminal, with colour, every
// finding row's rule ID starts at the same column whatever the severity,
// and no line is wider than the terminal.
func TestTableAlignedAndWrapped(t *testing.T) {
	abs, _ := filepath.Abs(example)
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	code, out, _ := runIn(t, abs, "", 80, "scan", ".")
	if code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, "\x1b[") {
		t.Fatal("a terminal gets colour")
	}
	rows := 0
	for _, line := range strings.Split(ansi.ReplaceAllString(out, ""), "\n") {
		if w := len([]rune(line)); w > 80 {
			t.Errorf("line of %d columns: %q", w, line)
		}
		if m := regexp.MustCompile(`^  (CRITICAL|HIGH|MEDIUM|LOW|INFO) +(DV\d{4})`).FindStringSubmatchIndex(line); m != nil {
			rows++
			if m[4] != 12 {
				t.Errorf("rule ID at column %d, not 12: %q", m[4], line)
			}
		}
	}
	if rows != 73 {
		t.Errorf("%d finding rows, want 73", rows)
	}
}

// TestFindingFormats: every finding format writes the example's findings.
func TestFindingFormats(t *testing.T) {
	tmpl := write(t, t.TempDir(), "t.tmpl", `{{range .findings}}{{.ruleId}} {{.severity}} {{.location.path}}:{{.location.line}}
{{end}}{{.summary.critical}} critical`)
	for _, tc := range []struct {
		format string
		check  func(string) error
	}{
		{"markdown", func(s string) error {
			for _, want := range []string{"## dockvet: 73 findings", "| Target | Kind | Critical |", "<details><summary><b>../../examples/insecure-app/Dockerfile</b>", "[DV1040](https://"} {
				if !strings.Contains(s, want) {
					return errorf("lacks %q", want)
				}
			}
			return nil
		}},
		{"checkstyle", func(s string) error {
			var doc struct {
				Files []struct {
					Name   string `xml:"name,attr"`
					Errors []struct {
						Source string `xml:"source,attr"`
					} `xml:"error"`
				} `xml:"file"`
			}
			if err := xml.Unmarshal([]byte(s), &doc); err != nil {
				return err
			}
			n := 0
			for _, f := range doc.Files {
				n += len(f.Errors)
			}
			if n != 73 || doc.Files[0].Errors[0].Source == "" {
				return errorf("%d errors", n)
			}
			return nil
		}},
		{"gitlab", func(s string) error {
			var issues []struct {
				CheckName, Fingerprint, Severity string
				Location                         struct {
					Path  string
					Lines struct{ Begin int }
				}
			}
			if err := json.Unmarshal([]byte(s), &issues); err != nil {
				return err
			}
			seen := map[string]bool{}
			for _, i := range issues {
				if i.Location.Lines.Begin < 1 || i.Location.Path == "" || seen[i.Fingerprint] {
					return errorf("issue %+v", i)
				}
				seen[i.Fingerprint] = true
			}
			if len(issues) != 73 || issues[0].Severity != "blocker" {
				return errorf("%d issues, first %+v", len(issues), issues[0])
			}
			return nil
		}},
		{"template", func(s string) error {
			if !strings.HasPrefix(s, "DV1040 critical ../../examples/insecure-app/Dockerfile:8\n") || !strings.HasSuffix(s, "8 critical") {
				return errorf("%q", s)
			}
			return nil
		}},
	} {
		args := []string{"scan", example, "--format", tc.format}
		if tc.format == "template" {
			args = append(args, "--template", tmpl)
		}
		code, out, errOut := run(t, args...)
		if code != ExitFindings {
			t.Errorf("%s: exit %d: %s", tc.format, code, errOut)
			continue
		}
		if err := tc.check(out); err != nil {
			t.Errorf("%s: %v", tc.format, err)
		}
	}
	if code, _, errOut := run(t, "scan", example, "--format", "template"); code != ExitError || !strings.Contains(errOut, "--template FILE") {
		t.Errorf("template without a file: %d %s", code, errOut)
	}
	bad := write(t, t.TempDir(), "bad.tmpl", "{{.findings")
	if code, _, errOut := run(t, "scan", example, "--format", "template", "--template", bad); code != ExitError || strings.Count(errOut, "\n") != 1 {
		t.Errorf("a bad template: %d %q", code, errOut)
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// TestHostFormatsKeepBenchmark: JUnit, SARIF and HTML of `dockvet host`
// carry the CIS rows and the score the table prints.
func TestHostFormatsKeepBenchmark(t *testing.T) {
	root := hostTree(t, `{"hosts": ["tcp://0.0.0.0:2375"]}`)
	_, table, _ := run(t, "host", "--root", root, "--no-engine")
	m := regexp.MustCompile(`Score: (-?\d+)`).FindStringSubmatch(table)
	if m == nil || !strings.Contains(table, "automated checks passed") {
		t.Fatalf("table: no explained score:\n%s", table)
	}
	score := m[1]
	_, junit, _ := run(t, "host", "--root", root, "--no-engine", "--format", "junit")
	if !strings.Contains(junit, `<testsuite name="CIS Docker Benchmark 1.6.0"`) || !strings.Contains(junit, `<property name="score" value="`+score+`">`) {
		t.Errorf("JUnit lacks the benchmark or score %s", score)
	}
	_, sarif, _ := run(t, "host", "--root", root, "--no-engine", "--format", "sarif")
	if !strings.Contains(sarif, `"cisBenchmark"`) || !strings.Contains(sarif, `"score": `+score) {
		t.Errorf("SARIF lacks the benchmark or score %s", score)
	}
	_, html, _ := run(t, "host", "--root", root, "--no-engine", "--format", "html")
	if !strings.Contains(html, "<b>Score "+score+"</b>") {
		t.Errorf("HTML lacks the score %s", score)
	}
	_, md, _ := run(t, "host", "--root", root, "--no-engine", "--format", "markdown")
	if !strings.Contains(md, "CIS Docker Benchmark 1.6.0</b>: score "+score) {
		t.Errorf("Markdown lacks the score %s", score)
	}
}

// TestJUnitFailOn: only findings at or above --fail-on are failures.
func TestJUnitFailOn(t *testing.T) {
	count := func(args ...string) (tests, failures int) {
		_, out, _ := run(t, append([]string{"scan", example, "--format", "junit"}, args...)...)
		var doc struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		}
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Tests, doc.Failures
	}
	tests, high := count()
	_, crit := count("--fail-on", "critical")
	_, none := count("--failure-threshold", "ignore")
	if tests != 73 || high != 35 || crit != 8 || none != 0 {
		t.Errorf("tests %d; failures at high %d, critical %d, none %d", tests, high, crit, none)
	}
}

// TestHadolintMigration: a Dockerfile from standard input, `# hadolint
// ignore=DL3008` above apt-get install waives the mapped rule and lists it
// under suppressed; --ignore takes DL codes; unknown IDs are warnings with
// their line; .trivyignore's exp: applies.
func TestHadolintMigration(t *testing.T) {
	dir := t.TempDir()
	df := "FROM debian:12.5\n# hadolint ignore=DL3008\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\nUSER 10001\n"
	write(t, dir, ".dockvetignore", "DV9999\nCVE-2024-0001 exp:2099-12-31\nDV1011 exp:2020-01-01\n")
	write(t, dir, ".dockvet.yaml", "rules:\n  disable: [DL3059, DV1014]\n")
	code, out, errOut := runIn(t, dir, df, 0, "dockerfile", "-", "--format", "json", "--ignore", "DL3004")
	if code == ExitError {
		t.Fatalf("exit 2: %s", errOut)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Targets) != 1 || r.Targets[0].Name != "-" {
		t.Errorf("targets %v", r.Targets)
	}
	ids := map[string]bool{}
	for _, f := range r.Findings {
		ids[f.RuleID] = true
	}
	if ids["DV1109"] || ids["DV1014"] || !ids["DV1011"] {
		t.Errorf("findings %v: DV1109 waived, DV1014 disabled, DV1011's ignore expired", ids)
	}
	if len(r.Suppressed) != 1 || r.Suppressed[0].RuleID != "DV1109" || r.Suppressed[0].Reason != "hadolint ignore=DL3008" || r.Suppressed[0].Location.Line != 3 {
		t.Errorf("suppressed %+v", r.Suppressed)
	}
	if r.Config == nil || r.Config.File != ".dockvet.yaml" || r.Config.IgnoreFile != ".dockvetignore" {
		t.Errorf("config %+v", r.Config)
	}
	for _, want := range []string{".dockvetignore:1: DV9999 names no dockvet rule", ".dockvet.yaml:2: rules.disable names no dockvet rule: DL3059",
		"ignore of DV1011 in .dockvetignore:3 expired on 2020-01-01"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "CVE-2024-0001") {
		t.Error("a vulnerability ID is not an unknown rule")
	}
	// No argument: ./Dockerfile; none there: one line, exit 2.
	write(t, dir, "Dockerfile", df)
	if code, out, _ := runIn(t, dir, "", 0, "dockerfile"); code == ExitError || !strings.Contains(out, "Dockerfile (dockerfile)") {
		t.Errorf("no argument: %d\n%s", code, out)
	}
	if code, _, errOut := runIn(t, t.TempDir(), "", 0, "dockerfile"); code != ExitError || !strings.Contains(errOut, "no Dockerfile in the current directory") {
		t.Errorf("no Dockerfile: %d %s", code, errOut)
	}
	// The DL code names its rules.
	if code, out, _ := run(t, "rules", "DL3008"); code != ExitOK || !strings.Contains(out, "hadolint DL3008") || !strings.Contains(out, "DV1109") {
		t.Errorf("rules DL3008: %d\n%s", code, out)
	}
	if code, _, errOut := run(t, "rules", "DL3059"); code != ExitError || !strings.Contains(errOut, "no dockvet counterpart") {
		t.Errorf("rules DL3059: %d %s", code, errOut)
	}
}

// TestScanDirConfig: `scan DIR` applies DIR/.dockvet.yaml when the working
// directory has none, with paths relative to DIR, and says so.
func TestScanDirConfig(t *testing.T) {
	repo := t.TempDir()
	write(t, repo, "app/Dockerfile", "FROM debian:12.5\nRUN apt-get install -y curl\n")
	write(t, repo, "legacy/Dockerfile", "FROM debian:12.5\n")
	write(t, repo, ".dockvet.yaml", "rules:\n  disable: [DV1091]\nignore:\n  - id: DV1001\n    paths: [legacy/**]\n    reason: retired next quarter\n")
	cwd := t.TempDir()
	code, out, errOut := runIn(t, cwd, "", 0, "scan", repo, "--format", "json", "--fail-on", "none")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Config == nil || r.Config.File != filepath.Join(repo, ".dockvet.yaml") {
		t.Errorf("config %+v", r.Config)
	}
	for _, f := range r.Findings {
		if f.RuleID == "DV1091" || f.RuleID == "DV1001" && strings.Contains(f.Target, "legacy") {
			t.Errorf("not applied: %s %s", f.RuleID, f.Target)
		}
	}
	if len(r.Suppressed) != 1 {
		t.Errorf("suppressed %+v", r.Suppressed)
	}
	_, table, _ := runIn(t, cwd, "", 0, "scan", repo, "--fail-on", "none")
	if !strings.Contains(table, "config file: "+filepath.Join(repo, ".dockvet.yaml")) {
		t.Errorf("the table does not say which configuration applied:\n%s", table)
	}
	// The working directory's own configuration wins.
	write(t, cwd, ".dockvet.yaml", "rules:\n  disable: [DV1001]\n")
	_, out, _ = runIn(t, cwd, "", 0, "scan", repo, "--format", "json", "--fail-on", "none")
	r = finding.Report{}
	json.Unmarshal([]byte(out), &r)
	if r.Config == nil || r.Config.File != ".dockvet.yaml" {
		t.Errorf("config %+v", r.Config)
	}
}

// validateSARIF checks SARIF bytes against the OASIS SARIF 2.1.0 schema
// (the copy in internal/report/testdata).
func validateSARIF(t *testing.T, b []byte) error {
	t.Helper()
	f, err := os.Open("../report/testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	const id = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}
