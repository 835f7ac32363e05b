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
	"github.com/dockvet/dockvet/internal/secrets/sample"
)

// TestNoSecretInAnyFormat audits a Dockerfile whose instructions and build
// context hold a fabricated secret of every format the engine knows, in
// every output format, and fails if any report shows more of a secret than
// its mask allows.
func TestNoSecretInAnyFormat(t *testing.T) {
	dir := t.TempDir()
	planted := sample.All(2024)
	for _, s := range planted {
		p := filepath.Join(dir, "ctx", filepath.FromSlash(s.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		// Several samples share a path: append, one after the other.
		fh, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		fh.WriteString(s.Text + "\n")
		fh.Close()
	}
	var secretsInDockerfile []string
	for _, s := range planted {
		switch s.RuleID {
		case "DV7002", "DV7003", "DV7006", "DV7080", "DV7101":
			secretsInDockerfile = append(secretsInDockerfile, s.Secret)
		}
	}
	dockerfile := "FROM alpine:3.20\n" +
		"ENV AWS_ACCESS_KEY_ID=" + secretsInDockerfile[0] + "\n" +
		"ARG GITHUB_TOKEN=" + secretsInDockerfile[1] + "\n" +
		"LABEL stripe.key=\"" + secretsInDockerfile[2] + "\"\n" +
		"RUN curl -H \"Authorization: Bearer " + secretsInDockerfile[3] + "\" https://api.sendgrid.com/v3/mail/send\n" +
		"RUN psql \"" + "postgres://app:" + secretsInDockerfile[4] + "@db/app\" -c 'select 1'\n" +
		"COPY . /app\n"
	df := filepath.Join(dir, "ctx", "Dockerfile")
	if err := os.WriteFile(df, []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, format := range findingFormats {
		var out, errOut bytes.Buffer
		code := Execute([]string{"dockerfile", df, "--format", format, "--fail-on", "none", "--no-color"}, Streams{Out: &out, Err: &errOut})
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", format, code, errOut.String())
		}
		// Fingerprints are hashes: random hex that can contain six
		// characters of a hex-like secret by chance. They are not secret
		// material, so they are taken out before looking for leaks.
		report := hashes.ReplaceAllString(out.String()+errOut.String(), "<hash>")
		for _, s := range planted {
			if leaked := leak(report, s.Secret); leaked != "" {
				t.Errorf("%s: the report shows %q of a %s secret", format, leaked, s.RuleID)
			}
		}
		if format != "json" {
			continue
		}
		// The audit did report them: every planted file, and every
		// finding with a fingerprint.
		var r finding.Report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		paths := map[string]bool{}
		for _, f := range r.Findings {
			if f.Practice == finding.PracticeSecrets && f.RuleID != "DV1044" && f.RuleID != "DV1042" && f.RuleID != "DV1046" && f.Fingerprint == "" {
				t.Errorf("%s finding without a fingerprint: %s", f.RuleID, f.Message)
			}
			if f.RuleID == "DV1047" {
				paths[f.Location.Path] = true
			}
		}
		for _, s := range planted {
			p := filepath.Join(dir, "ctx", filepath.FromSlash(s.Path))
			if s.RuleID != "DV7023" && !paths[p] {
				t.Errorf("no DV1047 finding for the %s secret in %s", s.RuleID, s.Path)
			}
		}
	}
}

// hashes matches the fingerprints a report carries (finding fingerprints
// and SARIF partial fingerprints).
var hashes = regexp.MustCompile(`fp:[0-9a-f]{32}|"dockvet/v1": "[0-9a-f]{32}"`)

// leak returns a part of secret that report shows beyond what a mask
// shows (finding.Mask: the first four characters of a secret of 16 or
// more, two of one of 10 to 15, none of a shorter one), or "". Any six
// random-looking characters of the rest count (letters and digits of more
// than one kind: the public structure of a webhook URL, "hooks.slack.com",
// is no secret and appears in rule descriptions).
func leak(report, secret string) string {
	keep := 0
	switch n := len(secret); {
	case n >= 16:
		keep = 4
	case n >= 10:
		keep = 2
	}
	if strings.Contains(report, secret) {
		return secret
	}
	const window = 6
	for i := keep; i+window <= len(secret); i++ {
		part := secret[i : i+window]
		if !randomLooking(part) {
			continue
		}
		if strings.Contains(report, part) {
			return part
		}
	}
	return ""
}

func randomLooking(s string) bool {
	var lower, upper, digit bool
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upper = true
		case '0' <= c && c <= '9':
			digit = true
		default:
			return false
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit} {
		if b {
			n++
		}
	}
	return n >= 2
}
