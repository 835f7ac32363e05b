package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/ruletest"
)

func load(t *testing.T, opts Options) *Project {
	t.Helper()
	p, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatalf("load %v: %v", opts.Files, err)
	}
	return p
}

// projectFiles lists the files of a testdata project: the files whose
// annotations make up its case.
func projectFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readCase reads the annotations of every file of a case.
func readCase(t *testing.T, files ...string) *ruletest.Case {
	t.Helper()
	c := &ruletest.Case{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Add(f, data); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// ran says which rules an audit without a filter runs: the container rules
// and the project rules.
func ran(id string) bool {
	return slices.ContainsFunc(container.Rules(), func(r *container.Rule) bool { return r.ID == id }) ||
		slices.ContainsFunc(Rules(), func(r *Rule) bool { return r.ID == id })
}

// rulesPolicy is the trust policy testdata/rules is audited with.
var rulesPolicy = &policy.Policy{TrustedRegistries: []string{"docker.io", "registry.example.com"},
	Rules: []policy.Rule{{Images: []string{"registry.example.com/pinned"}, Digests: policy.DigestsRequired}}}

// TestRules checks each single-file testdata project against its
// annotations: exactly the wanted findings, on exactly those lines, with
// matching messages.
func TestRules(t *testing.T) {
	files, _ := filepath.Glob("testdata/rules/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := load(t, Options{Files: []string{f}})
			readCase(t, f).Check(t, ruletest.At(p.Audit(AuditOptions{Policy: rulesPolicy})), ran)
		})
	}
}

// projects are the testdata projects whose settings come from several
// files: .env and env files, overrides, extends, include, top-level
// secrets. Every file of a project's directory is part of its case.
var projects = []struct {
	dir      string
	files    []string
	profiles []string
}{
	{dir: "testdata/env", files: []string{"compose.yaml"}},
	{dir: "testdata/secrets", files: []string{"compose.yaml"}},
	{dir: "testdata/override", files: []string{"compose.yaml", "compose.override.yaml", "compose.prod.yaml"}},
	{dir: "testdata/extends", files: []string{"compose.yaml"}},
	{dir: "testdata/include", files: []string{"compose.yaml"}},
	{dir: "testdata/profiles", files: []string{"compose.yaml"}},
	{dir: "testdata/escape", files: []string{"compose.yaml"}},
}

// TestProjects checks the multi-file projects against their annotations.
func TestProjects(t *testing.T) {
	for _, tc := range projects {
		t.Run(tc.dir, func(t *testing.T) {
			var files []string
			for _, f := range tc.files {
				files = append(files, filepath.Join(tc.dir, f))
			}
			p := load(t, Options{Files: files, Profiles: tc.profiles})
			readCase(t, projectFiles(t, tc.dir)...).Check(t, ruletest.At(p.Audit(AuditOptions{})), ran)
		})
	}
}

// TestEveryCaseRuns: every annotated file under testdata belongs to a case
// that TestRules or TestProjects checks.
func TestEveryCaseRuns(t *testing.T) {
	cases, _ := filepath.Glob("testdata/rules/*.yaml")
	for _, tc := range projects {
		cases = append(cases, projectFiles(t, tc.dir)...)
	}
	ruletest.RequireRun(t, "testdata", cases)
}

// TestProfiles: with --profile, services of other profiles are not
// audited; without it every service is.
func TestProfiles(t *testing.T) {
	p := load(t, Options{Files: []string{"testdata/profiles/compose.yaml"}, Profiles: []string{"prod"}})
	for _, f := range p.Audit(AuditOptions{}) {
		if f.Location.Service == "debug" {
			t.Errorf("service debug is in profile debug only, but was audited: %s", f.Message)
		}
	}
	var names []string
	for _, s := range load(t, Options{Files: []string{"testdata/profiles/compose.yaml"}}).Specs {
		names = append(names, s.Service)
	}
	if !slices.Contains(names, "debug") {
		t.Errorf("without --profile every service is audited, got %v", names)
	}
}

// TestErrors: a file that cannot be loaded is one line naming the file and
// the line.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"malformed.yaml", "testdata/errors/malformed.yaml:4: mapping values are not allowed in this context"},
		{"unknown-key.yaml", `testdata/errors/unknown-key.yaml:5: services.web: unknown key "privilegd"`},
		{"interpolation.yaml", "testdata/errors/interpolation.yaml:4: invalid interpolation format for services.web.image"},
		{"bad-port.yaml", "testdata/errors/bad-port.yaml:5:"},
		{"not-a-mapping.yaml", "testdata/errors/not-a-mapping.yaml:1: the top level of a Compose file must be a mapping"},
		{"missing-include.yaml", "testdata/errors/missing-include.yaml"},
		// compose-go recursed without end on it until the stack ran out.
		{"alias-cycle.yaml", "testdata/errors/alias-cycle.yaml:5: alias *web refers to a node that contains it, so the document never ends"},
		// YAML places what follows "---" on a line the file does not have.
		{"empty-document.yaml", "testdata/errors/empty-document.yaml:1: the top level of a Compose file must be a mapping"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(context.Background(), Options{Files: []string{filepath.Join("testdata/errors", tc.file)}})
			if err == nil {
				t.Fatal("loaded without error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.want) {
				t.Errorf("error\n  %s\nwant prefix\n  %s", msg, tc.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
		})
	}
}

// ruleIDs are the rules of findings, the grouped finding of unset
// settings counting as the rules it lists.
func ruleIDs(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		if len(f.Missing) > 0 {
			for _, m := range f.Missing {
				out = append(out, m.RuleID)
			}
			continue
		}
		out = append(out, f.RuleID)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// fixable are the rules --fix-preview resolves.
var fixable = []string{"DV3001", "DV3002", "DV3003", "DV3004", "DV3005", "DV3006", "DV3007", "DV3008", "DV3009",
	"DV3030", "DV3031", "DV3032", "DV3035", "DV3040"}

// TestFixPreview applies the preview as an override, the way the user
// would, and checks that the fixable findings are gone and the others
// stay.
func TestFixPreview(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts FixOptions
	}{{"sensitive ports", FixOptions{}}, {"all ports", FixOptions{BindLocalhost: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			file := "testdata/fix/compose.yaml"
			p := load(t, Options{Files: []string{file}})
			before := p.Audit(AuditOptions{})
			out := p.FixPreview(before, tc.opts)
			override := filepath.Join(t.TempDir(), "compose.dockvet.yaml")
			if err := os.WriteFile(override, out, 0o644); err != nil {
				t.Fatal(err)
			}
			fixed := load(t, Options{Files: []string{file, override}, ProjectDir: "testdata/fix"})
			after := fixed.Audit(AuditOptions{})
			for _, f := range after {
				if slices.Contains(fixable, f.RuleID) {
					t.Errorf("still reported after the fix: %s %s", f.RuleID, f.Message)
				}
			}
			var kept []string
			for _, id := range ruleIDs(before) {
				if !slices.Contains(fixable, id) {
					kept = append(kept, id)
				}
			}
			if got := ruleIDs(after); !slices.Equal(got, kept) {
				t.Errorf("after the fix: rules %v, want the unfixable %v\n%s", got, kept, out)
			}
			web := fixed.Model.Services["web"]
			wantPorts := map[string]string{"80": "", "5432": "127.0.0.1", "6379": "127.0.0.1"}
			if tc.opts.BindLocalhost {
				wantPorts["80"] = "127.0.0.1"
			}
			for _, pc := range web.Ports {
				if ip := wantPorts[fmt.Sprint(pc.Target)]; pc.HostIP != ip {
					t.Errorf("port %d bound to %q, want %q", pc.Target, pc.HostIP, ip)
				}
			}
			if len(web.Ports) != 3 {
				t.Errorf("web has %d ports after the fix, want 3 (replaced, not added)", len(web.Ports))
			}
			if !slices.Equal(web.CapAdd, []string{"NET_BIND_SERVICE"}) {
				t.Errorf("cap_add after the fix = %v, want the safe capability kept", web.CapAdd)
			}
			if !slices.Contains(web.SecurityOpt, "label=type:svirt_apache_t") || slices.Contains(web.SecurityOpt, "seccomp=unconfined") {
				t.Errorf("security_opt after the fix = %v", web.SecurityOpt)
			}
		})
	}
}

func TestFixPreviewNothing(t *testing.T) {
	p := load(t, Options{Files: []string{"testdata/rules/misc.yaml"}})
	out := string(p.FixPreview(nil, FixOptions{}))
	if !strings.Contains(out, "Nothing to fix") || !strings.HasSuffix(out, "services: {}\n") {
		t.Errorf("preview without findings:\n%s", out)
	}
}

func TestLooksLikeCompose(t *testing.T) {
	for src, want := range map[string]bool{
		"services:\n  a: {image: x}\n": true,
		"include: [a.yaml]\n":          true,
		"title: notes\nsteps: [a]\n":   false,
		"- a\n- b\n":                   false,
		"services: [\n":                true, // broken: the loader reports it
	} {
		if got := LooksLikeCompose([]byte(src)); got != want {
			t.Errorf("%q: %v, want %v", src, got, want)
		}
	}
}

func TestIsName(t *testing.T) {
	for p, want := range map[string]bool{
		"compose.yaml": true, "a/docker-compose.yml": true, "compose.override.yml": true, "docker-compose.prod.yaml": true,
		"deploy/compose-dev.yml": true, ".github/workflows/compose.yml": false, ".github/workflows/compose-test.yml": false,
		"composer.json": false, "docker-compose.yml.bak": false, "compose.txt": false,
	} {
		if got := IsName(p); got != want {
			t.Errorf("IsName(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestUnsetFollowsTheFilter: a rule the run does not enable is not listed
// in the service's finding of unset settings, and with none left there is
// no finding.
func TestUnsetFollowsTheFilter(t *testing.T) {
	p := load(t, Options{Files: []string{"testdata/rules/limits.yaml"}})
	noCPU := func(r *finding.Rule) bool { return r.ID != "DV3031" }
	var got []string
	for _, f := range p.Audit(AuditOptions{Policy: rulesPolicy, Enabled: noCPU}) {
		if f.RuleID == "DV3062" && f.Location.Service == "no-limits" {
			for _, m := range f.Missing {
				got = append(got, m.RuleID)
			}
			if strings.Contains(f.Message, "CPU") || f.Severity != finding.Medium {
				t.Errorf("message %q severity %s", f.Message, f.Severity)
			}
		}
	}
	if !slices.Equal(got, []string{"DV3030", "DV3032"}) {
		t.Errorf("no-limits lists %v, want DV3030 and DV3032", got)
	}
	onlyCPU := func(r *finding.Rule) bool { return r.ID == "DV3062" }
	for _, f := range p.Audit(AuditOptions{Policy: rulesPolicy, Enabled: onlyCPU}) {
		t.Errorf("with every listed rule disabled: %s %s", f.RuleID, f.Message)
	}
}
