package dockerfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/ruletest"
)

// The rules are tested on the cases under testdata, annotated as
// internal/ruletest describes:
//
//	# want DV1001 "runs as root"   the next instruction gets this finding
//	# ok DV1010                    the next instruction must not get DV1010
//	# dockvet-test rules=DV1050,DV1051        only these rules run on the case
//	# dockvet-test trusted=docker.io,gcr.io   trusted registries for the case
//	# dockvet-test digests=ghcr.io/acme       a trust rule requiring digests
//
// A case is a file NAME.Dockerfile directly under testdata, which has no
// build context, or the one Dockerfile of a directory below testdata,
// whose other files are its build context: their annotations count too
// (DV1047 reports a secret at its line in the context file).

// testNow fixes "today" for end-of-life rules.
var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// testCase is one Dockerfile and the files whose annotations belong to it.
type testCase struct {
	dockerfile string
	// files are the context files of a case directory (the Dockerfile
	// excluded), slash-separated as the walk gives them.
	files []string
	// dir is the case directory, "" for a Dockerfile on its own.
	dir string
}

// testCases finds every case under testdata.
func testCases(t *testing.T) []testCase {
	t.Helper()
	var cases []testCase
	byDir := map[string]int{}
	err := filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || !IsName(d.Name()) {
			return err
		}
		p = filepath.ToSlash(p)
		dir := filepath.ToSlash(filepath.Dir(p))
		if dir == "testdata" {
			cases = append(cases, testCase{dockerfile: p})
			return nil
		}
		if i, dup := byDir[dir]; dup {
			return fmt.Errorf("%s: a case directory holds one Dockerfile, and %s is already its", p, cases[i].dockerfile)
		}
		byDir[dir] = len(cases)
		cases = append(cases, testCase{dockerfile: p, dir: dir})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range cases {
		c := &cases[i]
		if c.dir == "" {
			continue
		}
		err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			if p = filepath.ToSlash(p); p != c.dockerfile {
				c.files = append(c.files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(cases) == 0 {
		t.Fatal("no testdata")
	}
	return cases
}

// annotations reads the annotations of every file of the case.
func (tc testCase) annotations(t *testing.T) *ruletest.Case {
	t.Helper()
	c := &ruletest.Case{}
	for _, p := range append([]string{tc.dockerfile}, tc.files...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Add(p, data); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// options turns the case's directives into check options.
func options(t *testing.T, c *ruletest.Case) Options {
	t.Helper()
	list := func(key string) []string {
		if v := c.Directive(key); v != "" {
			return strings.Split(v, ",")
		}
		return nil
	}
	for key := range c.Directives {
		if !slices.Contains([]string{"rules", "trusted", "digests"}, key) {
			t.Fatalf("unknown directive %q", key)
		}
	}
	pol := &policy.Policy{TrustedRegistries: list("trusted")}
	if d := list("digests"); d != nil {
		pol.Rules = []policy.Rule{{Images: d, Digests: policy.DigestsRequired}}
	}
	opts := Options{Now: testNow, Policy: pol}
	if only := list("rules"); only != nil {
		opts.Enabled = func(r *finding.Rule) bool { return slices.Contains(only, r.ID) }
	}
	return opts
}

// TestRules runs the rules over every case and requires exactly the
// findings its annotations want, messages included.
func TestRules(t *testing.T) {
	var ran []string
	for _, tc := range testCases(t) {
		ran = append(append(ran, tc.dockerfile), tc.files...)
		t.Run(strings.TrimPrefix(tc.dockerfile, "testdata/"), func(t *testing.T) {
			c := tc.annotations(t)
			opts := options(t, c)
			if tc.dir == "" {
				// A Dockerfile on its own has no build context: the
				// rest of testdata is not one.
				opts.Context = t.TempDir()
			}
			f, err := ParseFile(tc.dockerfile)
			if err != nil {
				t.Fatal(err)
			}
			got := Check(f, opts)
			for _, fd := range got {
				checkFinding(t, tc, fd)
			}
			c.Check(t, ruletest.At(got), func(id string) bool {
				i := slices.IndexFunc(rules, func(r *Rule) bool { return r.ID == id })
				return i >= 0 && (opts.Enabled == nil || opts.Enabled(&rules[i].Rule))
			})
			seen := map[string]bool{}
			for _, fd := range got {
				k := fmt.Sprintf("%s:%d:%s", fd.Location.Path, fd.Location.Line, fd.RuleID)
				if seen[k] {
					t.Errorf("%s: reported twice: %s", k, fd.Message)
				}
				seen[k] = true
			}
		})
	}
	ruletest.RequireRun(t, "testdata", ran)
}

// checkFinding holds what every finding must be, beyond its annotation.
func checkFinding(t *testing.T, tc testCase, fd finding.Finding) {
	t.Helper()
	if fd.Target != tc.dockerfile || fd.TargetKind != finding.SurfaceDockerfile {
		t.Errorf("%s: target %s %q, want the Dockerfile", fd.RuleID, fd.TargetKind, fd.Target)
	}
	if p := filepath.ToSlash(fd.Location.Path); p != tc.dockerfile && (tc.dir == "" || !strings.HasPrefix(p, tc.dir+"/")) {
		t.Errorf("%s: location %q is neither the Dockerfile nor a file of its context", fd.RuleID, fd.Location.Path)
	}
	if !strings.HasSuffix(fd.Message, ".") || strings.Contains(fd.Message, "\n") {
		t.Errorf("%s line %d: message %q must be one sentence", fd.RuleID, fd.Location.Line, fd.Message)
	}
	if fd.RuleID == ruleContextSecret.ID && (fd.Fingerprint == "" || fd.Location.Column == 0 || !strings.Contains(fd.Message, "****")) {
		t.Errorf("%s: a secret in the context needs a fingerprint, a column and a masked value: %+v", fd.RuleID, fd)
	}
}

// TestEveryRuleHasCases requires a positive (want) and a negative (ok) case
// for every rule in this package's testdata, which TestRules runs.
func TestEveryRuleHasCases(t *testing.T) {
	pos, neg := map[string]int{}, map[string]int{}
	for _, tc := range testCases(t) {
		c := tc.annotations(t)
		for _, w := range c.Wants {
			pos[w.Rule]++
		}
		for _, o := range c.OKs {
			neg[o.Rule]++
		}
	}
	for _, r := range rules {
		if pos[r.ID] == 0 {
			t.Errorf("%s (%s) has no positive case (want)", r.ID, r.Title)
		}
		if neg[r.ID] == 0 {
			t.Errorf("%s (%s) has no negative case (ok)", r.ID, r.Title)
		}
	}
}

// TestContextSecretSeverity: a secret in the build context is reported
// with the severity of the secret, lowered for vendored test fixtures.
func TestContextSecretSeverity(t *testing.T) {
	const dir = "testdata/buildcontext/copyall"
	f, err := ParseFile(dir + "/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]finding.Severity{
		dir + "/.env": finding.Critical,
		dir + "/node_modules/left-pad/test/fixture.js": finding.Low,
	}
	for _, fd := range Check(f, Options{Enabled: func(r *finding.Rule) bool { return r.ID == ruleContextSecret.ID }}) {
		if sev, ok := want[fd.Location.Path]; ok {
			if fd.Severity != sev {
				t.Errorf("%s: severity %s, want %s", fd.Location.Path, fd.Severity, sev)
			}
			delete(want, fd.Location.Path)
		}
	}
	for p := range want {
		t.Errorf("%s: not reported", p)
	}
}

// TestCredentialFromBuildContext: DV1044 reads a .pem from the build
// context, which need not be the Dockerfile's directory.
func TestCredentialFromBuildContext(t *testing.T) {
	ctx, elsewhere := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(ctx, "cert.pem"), "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
	df := filepath.Join(elsewhere, "Dockerfile")
	writeFile(t, df, "FROM alpine:3.22\nCOPY cert.pem /etc/ssl/\n")
	f, err := ParseFile(df)
	if err != nil {
		t.Fatal(err)
	}
	only := func(r *finding.Rule) bool { return r.ID == ruleCopyCredential.ID }
	if got := Check(f, Options{Enabled: only, Context: ctx}); len(got) != 1 || !strings.Contains(got[0].Message, "a PEM private key") {
		t.Errorf("with the context: %v, want the private key reported", got)
	}
	if got := Check(f, Options{Enabled: only}); len(got) != 0 {
		t.Errorf("without the context, cert.pem is a certificate by its name: %v", got)
	}
}

func TestRuleMetadata(t *testing.T) {
	if n := len(Rules()); n < 50 {
		t.Errorf("only %d Dockerfile rules; the catalog promises at least 50", n)
	}
	for i, r := range rules {
		if i > 0 && rules[i-1].ID >= r.ID {
			t.Errorf("the rule list is not sorted by ID, or repeats one, at %s", r.ID)
		}
		if r.Check == nil {
			t.Errorf("%s has no check", r.ID)
		}
	}
	for _, r := range Catalog() {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		if !slices.Contains(r.Surfaces, finding.SurfaceDockerfile) {
			t.Errorf("%s lacks the dockerfile surface", r.ID)
		}
	}
}

// TestSeverityMatchesExposure: a secret that only a build stage the final
// image copies nothing from gets is medium at most, the same secret in a
// shipped stage keeps its severity; a [trusted=yes] repository on the
// builder's filesystem is low.
func TestSeverityMatchesExposure(t *testing.T) {
	f, err := ParseFile("testdata/stage_secret/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]finding.Severity{
		"DV1044 deploy.key":      finding.Medium,
		"DV1044 release.key":     finding.High,
		"DV1047 config/app.ini":  finding.Medium,
		"DV1047 shipped/app.ini": finding.High, // the generic credential's own severity
	}
	for _, fd := range Check(f, Options{Now: testNow}) {
		for k, sev := range want {
			id, name, _ := strings.Cut(k, " ")
			if fd.RuleID == id && strings.Contains(fd.Message, name+" ") {
				if fd.Severity != sev {
					t.Errorf("%s: severity %s, want %s (%s)", k, fd.Severity, sev, fd.Message)
				}
				delete(want, k)
			}
		}
	}
	for k := range want {
		t.Errorf("%s: not reported", k)
	}

	df := filepath.Join(t.TempDir(), "Dockerfile")
	writeFile(t, df, "FROM debian:bookworm-slim\n"+
		"RUN echo \"deb [trusted=yes] file:///tmp/repo ./\" > /etc/apt/sources.list.d/local.list\n"+
		"RUN echo \"deb [trusted=yes] http://repo.example ./\" > /etc/apt/sources.list.d/remote.list\n")
	if f, err = ParseFile(df); err != nil {
		t.Fatal(err)
	}
	got := map[int]finding.Severity{}
	for _, fd := range Check(f, Options{Enabled: func(r *finding.Rule) bool { return r.ID == ruleSignaturesOff.ID }}) {
		got[fd.Location.Line] = fd.Severity
	}
	if got[2] != finding.Low || got[3] != finding.High {
		t.Errorf("[trusted=yes] severities by line: %v, want 2: low (file:), 3: high (http:)", got)
	}
}
