package runline

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/ruletest"
)

// audit parses every command found and runs the container rules, as
// `dockvet scan` does.
func audit(t *testing.T, path string, cmds []Command) []finding.Finding {
	t.Helper()
	var out []finding.Finding
	for _, c := range cmds {
		spec, err := Parse(c, Options{Dir: filepath.Dir(path), ReadFile: os.ReadFile})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if spec == nil {
			continue
		}
		out = append(out, container.Check(spec, container.Options{Target: finding.Target{Kind: finding.SurfaceContainer, Name: path}})...)
	}
	return out
}

// cases are the files of testdata/repo and the finder that reads each.
var cases = []struct {
	path string
	find func(string, []byte) ([]Command, error)
}{
	{"testdata/repo/deploy.sh", FromShell},
	{"testdata/repo/Makefile", FromMakefile},
	{"testdata/repo/.github/workflows/ci.yml", FromGitHubWorkflow},
	{"testdata/repo/ci/.gitlab-ci.yml", FromGitLabCI},
	{"testdata/repo/Dockerfile", func(path string, _ []byte) ([]Command, error) {
		f, err := dockerfile.ParseFile(path)
		if err != nil {
			return nil, err
		}
		return FromDockerfile(f), nil
	}},
}

// ran says which rules the audit runs: every container rule.
func ran(id string) bool {
	return slices.ContainsFunc(container.Rules(), func(r *container.Rule) bool { return r.ID == id })
}

// TestFind checks the `docker run` lines of scripts, Makefiles, Dockerfiles
// and CI files against their annotations: exactly the wanted findings, on
// exactly those lines, with matching messages.
func TestFind(t *testing.T) {
	var run []string
	for _, tc := range cases {
		run = append(run, tc.path)
		t.Run(tc.path, func(t *testing.T) {
			src, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			cmds, err := tc.find(tc.path, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(cmds) == 0 {
				t.Fatal("no command found")
			}
			c, err := ruletest.ParseFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			c.Check(t, ruletest.At(audit(t, tc.path, cmds)), ran)
		})
	}
	ruletest.RequireRun(t, "testdata", run)
}

// TestFindErrors: a file that is not valid shell or YAML is one error
// naming the file and the line.
func TestFindErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		find func(string, []byte) ([]Command, error)
		src  string
		want string
	}{
		{"bad.sh", FromShell, "#!/bin/sh\ndocker run --rm \\\n  nginx 'unterminated\n", "bad.sh: shell syntax error at line 3:"},
		{"Makefile", FromMakefile, "run:\n\tdocker run nginx $$(\n", "Makefile: recipe: shell syntax error at line 2:"},
		{"ci.yml", FromGitHubWorkflow, "jobs:\n  a:\n    steps:\n      - run: docker run x\n     bad: [\n", "ci.yml: yaml: line 2:"},
		{"gl.yml", FromGitLabCI, "job:\n  script:\n    - |\n      docker run nginx \"\n", "gl.yml: shell syntax error at line 4:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.find(tc.name, []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
				t.Errorf("error %q, want prefix %q", got, tc.want)
			}
		})
	}
}

func TestArgLines(t *testing.T) {
	file := []string{
		"docker run \\",
		"  --privileged \\",
		`  -e "A=b c" \`,
		"  nginx",
		"docker run --pid host alpine",
	}
	got := argLines(file, 1, []string{"docker", "run", "--privileged", "-e", "A=b c", "nginx"})
	want := []int{1, 1, 2, 3, 3, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("lines %v, want %v", got, want)
		}
	}
	// An argument from a variable is not looked for past the command.
	got = argLines(file, 5, []string{"docker", "run", "--cap-add", "alpine"})
	if got[2] != 5 {
		t.Errorf("an argument not written on the command's lines gets line %d, want 5", got[2])
	}
}
