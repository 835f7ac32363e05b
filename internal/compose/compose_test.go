package compose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/wanttest"
)

func load(t *testing.T, opts Options) *Project {
	t.Helper()
	p, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatalf("load %v: %v", opts.Files, err)
	}
	return p
}

// projectFiles lists the files of a testdata project whose lines findings
// may point at.
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

// TestRules checks each single-file testdata project against its
// `# want` comments: exactly those findings, on exactly those lines.
func TestRules(t *testing.T) {
	files, _ := filepath.Glob("testdata/rules/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := load(t, Options{Files: []string{f}})
			pol := &policy.Policy{TrustedRegistries: []string{"docker.io", "registry.example.com"}}
			wanttest.Check(t, wanttest.Parse(t, f), p.Audit(AuditOptions{Policy: pol}), []string{f})
		})
	}
}

// TestProjects checks projects whose settings come from several files:
// .env and env files, overrides, extends, include, top-level secrets.
func TestProjects(t *testing.T) {
	for _, tc := range []struct {
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
	} {
		t.Run(tc.dir, func(t *testing.T) {
			var files []string
			for _, f := range tc.files {
				files = append(files, filepath.Join(tc.dir, f))
			}
			p := load(t, Options{Files: files, Profiles: tc.profiles})
			all := projectFiles(t, tc.dir)
			wanttest.Check(t, wanttest.Parse(t, all...), p.Audit(AuditOptions{}), all)
		})
	}
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

func ruleIDs(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
