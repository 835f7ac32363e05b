package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
)

func mk(id string, sev finding.Severity, path string, line int) finding.Finding {
	return finding.Finding{RuleID: id, Severity: sev, Practice: finding.PracticeNonRoot, Target: path, TargetKind: finding.SurfaceDockerfile, Location: finding.Location{Path: path, Line: line}}
}

func ids(fs []finding.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.RuleID+"@"+f.Location.Path)
	}
	return strings.Join(s, " ")
}

func TestApply(t *testing.T) {
	cfg, err := Parse([]byte(`
rules:
  disable: [DV1011, "practice:hygiene"]
  enable: [DV1091]
  severity: {DV1091: high}
ignore:
  - id: DV1001
    paths: ["examples/**"]
    reason: demo project is insecure on purpose
  - id: DV1002
    reason: temporary
    expires: 2026-01-31
  - id: GHSA-aaaa-bbbb-cccc
    reason: not reachable
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ig, err := ParseIgnoreFile(strings.NewReader("# comment\nDV1003 legacy/*  # old code\nDV1004\n"), ".dockvetignore")
	if err != nil {
		t.Fatal(err)
	}
	hyg := func(f finding.Finding) finding.Finding { f.Practice = finding.PracticeHygiene; return f }
	vuln := mk("DV6001", finding.Medium, "img", 0)
	vuln.Practice = finding.PracticeVulnerabilities
	vuln.Vulnerability = &finding.Vulnerability{ID: "CVE-1", Aliases: []string{"GHSA-aaaa-bbbb-cccc"}}
	r := &finding.Report{Findings: []finding.Finding{
		mk("DV1011", finding.Low, "a/Dockerfile", 1),           // disabled by ID
		hyg(mk("DV1090", finding.Info, "a/Dockerfile", 2)),     // disabled by practice
		hyg(mk("DV1091", finding.Low, "a/Dockerfile", 3)),      // re-enabled, severity raised
		mk("DV1001", finding.High, "examples/x/Dockerfile", 1), // ignored by path
		mk("DV1001", finding.High, "app/Dockerfile", 1),        // kept
		mk("DV1002", finding.High, "app/Dockerfile", 2),        // ignore expired
		mk("DV1003", finding.High, "legacy/Dockerfile", 4),     // ignore file with path
		mk("DV1003", finding.High, "app/Dockerfile", 4),        // kept
		mk("DV1004", finding.Medium, "app/Dockerfile", 5),      // ignore file, any path
		mk("DV1005", finding.Medium, "app/Dockerfile", 7),      // inline waiver
		vuln, // ignored by alias
	}, Waivers: []finding.Waiver{{Path: "app/Dockerfile", Line: 6, EndLine: 7, RuleIDs: []string{"DV1005"}, Reason: "needed"}}}
	flt := &Filter{Config: cfg, IgnoreFile: ig, Now: func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }}
	notices := flt.Apply(r)
	if got, want := ids(r.Findings), "DV1091@a/Dockerfile DV1001@app/Dockerfile DV1002@app/Dockerfile DV1003@app/Dockerfile"; got != want {
		t.Errorf("kept %q\nwant %q", got, want)
	}
	if r.Findings[0].Severity != finding.High {
		t.Errorf("severity override not applied: %v", r.Findings[3].Severity)
	}
	if len(r.Suppressed) != 5 {
		t.Errorf("suppressed %d, want 5: %+v", len(r.Suppressed), r.Suppressed)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "DV1002") || !strings.Contains(notices[0], "expired") {
		t.Errorf("notices = %q", notices)
	}
	if r.Summary.High != 4 {
		t.Errorf("summary %+v", r.Summary)
	}
}

func TestExpiryIsInclusive(t *testing.T) {
	cfg, err := Parse([]byte("ignore:\n  - {id: DV1, reason: r, expires: 2026-11-26}\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	r := &finding.Report{Findings: []finding.Finding{mk("DV1", finding.High, "D", 1)}}
	(&Filter{Config: cfg, Now: func() time.Time { return time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC) }}).Apply(r)
	if len(r.Findings) != 0 {
		t.Error("an ignore is still valid on its expiry day")
	}
}

func TestSeverityFilter(t *testing.T) {
	r := &finding.Report{Findings: []finding.Finding{mk("A", finding.High, "D", 1), mk("B", finding.Low, "D", 2)}}
	(&Filter{Severities: []finding.Severity{finding.Low}}).Apply(r)
	if ids(r.Findings) != "B@D" || len(r.Suppressed) != 0 {
		t.Errorf("got %s, suppressed %d", ids(r.Findings), len(r.Suppressed))
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"rules:\n  disabel: [X]\n", "field disabel not found"},
		{"ignore:\n  - id: X\n", "a reason is required"},
		{"ignore:\n  - {id: X, reason: r, expires: tomorrow}\n", "not a date"},
		{"rules:\n  severity: {X: urgent}\n", "unknown severity"},
		{"rules:\n  disable: [\"practice:speed\"]\n", "unknown practice"},
		{"trustedRegistries: [\"\"]\n", "empty entry"},
		{"rules: [\n", "t.yaml"},
	} {
		_, err := Parse([]byte(tc.yaml), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error is not one line: %q", tc.yaml, err)
		}
	}
	if _, err := ParseIgnoreFile(strings.NewReader("A b c\n"), "x"); err == nil {
		t.Error("want an error for three fields")
	}
	if _, err := Load("/nonexistent/.dockvet.yaml", true); err == nil {
		t.Error("an explicit config file must exist")
	}
	if c, err := Load("/nonexistent/.dockvet.yaml", false); err != nil || c == nil {
		t.Errorf("the default config file may be absent: %v", err)
	}
}

func TestTrust(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "release.pub"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, ".dockvet.yaml")
	if err := os.WriteFile(file, []byte(`
trustedRegistries: [ghcr.io/acme]
trust:
  - images: [ghcr.io/acme/*]
    digests: required
    signatures:
      - key: keys/release.pub
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file, true)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Policy()
	img, _ := policy.ParseImage("ghcr.io/acme/app:1")
	if !p.Trusted(img) || !p.RequiresDigest(img) {
		t.Errorf("policy %+v", p)
	}
	if s := p.RequiredSigners(img); len(s) != 1 || s[0].Key != filepath.Join(dir, "keys", "release.pub") {
		t.Errorf("a key path is relative to the configuration file: %+v", s)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"trust:\n  - images: [\"*\"]\n    signatures:\n      - key: missing.pub\n", "missing.pub: no such file"},
		{"trust:\n  - images: [\"*\"]\n    digest: required\n", "field digest not found"},
		{"trust:\n  - images: [\"*\"]\n    digests: always\n", "trust[0].digests"},
		{"trust:\n  - signatures: [{key: k.pub}]\n", "images is required"},
	} {
		_, err := Parse([]byte(tc.yaml), filepath.Join(dir, "t.yaml"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// TestApplyMissing: the settings a grouped finding lists are judged as
// findings of their own rules: disabled, overridden, ignored and filtered
// by --severity one by one; the group keeps what is left, or goes.
func TestApplyMissing(t *testing.T) {
	group := func() finding.Finding {
		f := mk("DV3062", finding.Medium, "compose.yaml", 4)
		f.Location.Service = "web"
		f.SetMissing([]finding.Missing{
			{RuleID: "DV3030", Title: "No memory limit", Severity: finding.Medium, Practice: finding.PracticeResourceLimits, Setting: "no memory limit", Fix: "mem_limit: 512m"},
			{RuleID: "DV3031", Title: "No CPU limit", Severity: finding.Low, Practice: finding.PracticeResourceLimits, Setting: "no CPU limit", Fix: "cpus: 1.0"},
			{RuleID: "DV3003", Title: "Capabilities not dropped", Severity: finding.Low, Practice: finding.PracticeCapabilities, Setting: "Docker's default capabilities", Fix: "cap_drop: [ALL]"},
		})
		return f
	}
	members := func(r *finding.Report) string {
		if len(r.Findings) == 0 {
			return "none"
		}
		var ids []string
		for _, m := range r.Findings[0].Missing {
			ids = append(ids, m.RuleID)
		}
		return r.Findings[0].Severity.String() + " " + strings.Join(ids, ",")
	}
	for _, tc := range []struct {
		name, yaml, ignore string
		sev                []finding.Severity
		want               string
		suppressed         int
	}{
		{name: "as is", want: "medium DV3030,DV3031,DV3003"},
		{name: "member disabled", yaml: "rules:\n  disable: [DV3030]\n", want: "low DV3031,DV3003"},
		{name: "practice disabled", yaml: "rules:\n  disable: [\"practice:resource-limits\"]\n", want: "low DV3003"},
		{name: "member raised", yaml: "rules:\n  severity: {DV3031: high}\n", want: "high DV3030,DV3031,DV3003"},
		{name: "member ignored", ignore: "DV3003 compose.yaml\n", want: "medium DV3030,DV3031", suppressed: 1},
		{name: "severity filter", sev: []finding.Severity{finding.Low}, want: "low DV3031,DV3003"},
		{name: "all filtered", sev: []finding.Severity{finding.High}, want: "none"},
		{name: "group ignored", ignore: "DV3062\n", want: "none", suppressed: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.yaml), "t.yaml")
			if err != nil {
				t.Fatal(err)
			}
			ig, err := ParseIgnoreFile(strings.NewReader(tc.ignore), ".dockvetignore")
			if err != nil {
				t.Fatal(err)
			}
			r := &finding.Report{Findings: []finding.Finding{group()}}
			(&Filter{Config: cfg, IgnoreFile: ig, Severities: tc.sev}).Apply(r)
			if got := members(r); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if len(r.Suppressed) != tc.suppressed {
				t.Errorf("suppressed %+v, want %d", r.Suppressed, tc.suppressed)
			}
			if tc.name == "member ignored" && (r.Suppressed[0].RuleID != "DV3003" || strings.Contains(r.Findings[0].Message, "capabilities") ||
				strings.Contains(r.Findings[0].Remediation, "cap_drop")) {
				t.Errorf("the ignored setting is still in the finding or suppressed under another rule: %+v %+v", r.Suppressed[0], r.Findings[0])
			}
		})
	}
}
