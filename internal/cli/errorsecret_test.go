package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/secrets/sample"
)

// plantedToken is a realistic fabricated GitHub token (its checksum is
// valid, so the secret engine knows its format).
func plantedToken(t *testing.T) string { return sample.GitHubToken(1) }

// TestErrorsNeverCarryTheSecret plants a token in every kind of malformed
// input dockvet reads and checks that no report format and no line on
// standard error shows more than its first four characters: parser and
// library errors (BuildKit, compose-go, dotenv, YAML, JSON, templates)
// quote the lines they choke on.
func TestErrorsNeverCarryTheSecret(t *testing.T) {
	tok := plantedToken(t)
	// A token of the same shape with a broken checksum: no format knows
	// it, so only the error rewriting can hide it.
	odd := "ghp_" + strings.Repeat("Ab3", 12)
	const good = "FROM alpine:3.20\nUSER 10001\n"
	const service = "services:\n  app:\n    image: alpine:3.20\n"
	type input map[string]string
	cases := []struct {
		name  string
		files func(secret string) input
		args  []string // after the directory
		cmd   string   // default scan
	}{
		{"Dockerfile", func(s string) input {
			return input{"Dockerfile": good, "Dockerfile.bad": "FROM alpine:3.20\nTOKEN=" + s + "\n"}
		}, nil, ""},
		{"Dockerfile bare word", func(s string) input {
			return input{"Dockerfile": good, "Dockerfile.bad": "FROM alpine:3.20\n" + s + "\n"}
		}, nil, ""},
		{"Compose YAML", func(s string) input {
			return input{"Dockerfile": good, "compose.yaml": service + "    ports: [\"" + s + "\"]\n"}
		}, nil, ""},
		{"Compose YAML syntax", func(s string) input {
			return input{"Dockerfile": good, "compose.yaml": service + "    environment:\n      TOKEN: " + s + "\n   bad: [" + s + "\n"}
		}, nil, ""},
		{".env", func(s string) input {
			return input{"Dockerfile": good, "compose.yaml": service + "    environment: [X=${TOKEN}]\n", ".env": "TOKEN=\"" + s + "\nexport " + s + " x\n"}
		}, nil, ""},
		{"env_file", func(s string) input {
			return input{"Dockerfile": good, "compose.yaml": service + "    env_file: creds.env\n", "creds.env": "export TOKEN " + s + "\n\"" + s + "\n"}
		}, nil, ""},
		{".dockvet.yaml", func(s string) input { return input{"Dockerfile": good, ".dockvet.yaml": "rules: " + s + "\n"} }, nil, ""},
		{".dockvet.yaml syntax", func(s string) input {
			return input{"Dockerfile": good, ".dockvet.yaml": "ignore:\n  - id: " + s + "\n  reason: [" + s + "\n"}
		}, nil, ""},
		{".dockvetignore", func(s string) input { return input{"Dockerfile": good, ".dockvetignore": s + " a b c d\n"} }, nil, ""},
		{"GitLab CI", func(s string) input {
			return input{"Dockerfile": good, ".gitlab-ci.yml": "build:\n  script: [docker run -e TOKEN=" + s + "\n  x: {" + s + "\n"}
		}, nil, ""},
		{"GitHub workflow", func(s string) input {
			return input{"Dockerfile": good, ".github/workflows/ci.yml": "jobs:\n  b:\n    container: [" + s + "\n    steps: {" + s + "\n"}
		}, nil, ""},
		{"script", func(s string) input {
			return input{"Dockerfile": good, "deploy.sh": "#!/bin/sh\ndocker run -e TOKEN=" + s + " --memory " + s + " alpine\n"}
		}, nil, ""},
		{"OCI index.json", func(s string) input {
			return input{"index.json": `{"schemaVersion": 2, "manifests": [{"mediaType": "` + s + `", "digest": "` + s + `"}]}`, "oci-layout": `{"imageLayoutVersion":"1.0.0"}`}
		}, nil, "image"},
		{"template", func(s string) input { return input{"Dockerfile": good, "t.tmpl": "{{ " + s + " }}"} }, []string{"--template", "{dir}/t.tmpl"}, "template"},
	}
	formats := []string{"table", "json", "sarif", "junit", "html", "markdown", "checkstyle", "gitlab"}
	for _, secret := range []string{tok, odd} {
		for _, tc := range cases {
			dir := t.TempDir()
			for name, body := range tc.files(secret) {
				write(t, dir, name, body)
			}
			fmts := formats
			if tc.cmd == "template" {
				fmts = []string{"template"}
			}
			for _, format := range fmts {
				var args []string
				switch tc.cmd {
				case "image":
					args = []string{"image", "oci:" + dir, "--offline"}
				default:
					args = []string{"scan", dir}
				}
				args = append(args, "--format", format)
				for _, a := range tc.args {
					args = append(args, strings.ReplaceAll(a, "{dir}", dir))
				}
				code, out, stderr := run(t, args...)
				if code != ExitError {
					t.Errorf("%s (%s): exit %d, want %d (the input is malformed)", tc.name, format, code, ExitError)
				}
				if stderr == "" {
					t.Errorf("%s (%s): nothing on standard error", tc.name, format)
				}
				for where, text := range map[string]string{"report": out, "standard error": stderr} {
					if strings.Contains(text, secret[:5]) {
						i := strings.Index(text, secret[:5])
						t.Errorf("%s (%s): the %s shows more than 4 characters of the secret: …%s…", tc.name, format, where, text[max(0, i-80):min(len(text), i+60)])
					}
				}
			}
		}
	}
	// A file outside the project is a finding, not an error, and is not
	// read: nothing of /etc/shadow (or /etc/passwd, readable by anyone)
	// reaches the report.
	dir := t.TempDir()
	write(t, dir, "compose.yaml", "include: [/etc/shadow, /etc/passwd]\n"+service)
	for _, format := range formats {
		code, out, stderr := run(t, "scan", dir, "--format", format, "--fail-on", "critical")
		if code != ExitOK || !strings.Contains(out, "DV3063") || strings.Contains(out+stderr, "root:") {
			t.Errorf("include outside (%s): exit %d, want 0 with DV3063 and nothing of the files:\n%s\n%s", format, code, out, stderr)
		}
	}
	// The negative case: the same files without the malformation are
	// audited without errors, so the errors above come from the planted
	// lines.
	dir = t.TempDir()
	write(t, dir, "Dockerfile", good)
	if code, _, stderr := run(t, "scan", dir, "--fail-on", "none"); code != 0 {
		t.Errorf("a clean tree: exit %d (%s)", code, stderr)
	}
}

// TestScanReadsNothingOutside: the scanned directory's configuration
// linked out of it is refused in one line, and a script's --env-file
// outside the directory is not read; inside, both are read (the negative
// case).
func TestScanReadsNothingOutside(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "Dockerfile", "FROM alpine:3.20\nUSER 10001\n")
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, ".dockvet.yaml")); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := run(t, "scan", dir, "--format", "json")
	if code != ExitError || !strings.Contains(stderr, "leaves the project directory") || strings.Contains(out+stderr, "root:") {
		t.Errorf("config linked out: exit %d, stderr %q, want 2 and one line saying it leaves the project", code, stderr)
	}

	dir = t.TempDir()
	outside := write(t, t.TempDir(), "creds.env", "DB_PASSWORD=Sup3rS3cretPw!x\n")
	write(t, dir, "inside.env", "DB_PASSWORD=Sup3rS3cretPw!x\n")
	for env, want := range map[string]bool{outside: false, "inside.env": true} {
		write(t, dir, "deploy.sh", "#!/bin/sh\ndocker run --env-file "+env+" alpine:3.20\n")
		_, out, _ := run(t, "scan", dir, "--format", "json", "--fail-on", "none")
		if got := strings.Contains(out, "DB_PASSWORD"); got != want {
			t.Errorf("--env-file %s: read %v, want %v\n%s", env, got, want, out)
		}
	}
}
