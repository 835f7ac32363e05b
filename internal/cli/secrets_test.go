package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/dockvet/dockvet/internal/catalog"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/secrets/sample"
	"github.com/dockvet/dockvet/internal/testenv"
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
		code := Execute(append([]string{"dockerfile", df, "--format", format, "--fail-on", "none", "--no-color"}, templateFlag(t, format)...), Streams{Out: &out, Err: &errOut})
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
var hashes = regexp.MustCompile(`fp:[0-9a-f]{32}|"dockvet/v1": "[0-9a-f]{32}"|"fingerprint": "[0-9a-f]{32}"`)

// publicText is what the rule catalog says about formats ("the T3BlbkFJ
// marker", "/webhookb2/"): a report that describes a rule (SARIF carries
// the descriptions) shows it, and it is no part of anyone's secret.
var publicText = func() string {
	var b strings.Builder
	for _, r := range catalog.All() {
		b.WriteString(r.Title + "\n" + r.Description + "\n" + r.Remediation + "\n")
	}
	return b.String()
}()

// leak returns a part of secret that report shows beyond what a mask
// shows (finding.Mask: the first four characters of a secret of 16 or
// more, two of one of 10 to 15, none of a shorter one), or "". Any six
// random-looking characters of the rest count (letters and digits of more
// than one kind: the public structure of a webhook URL, "hooks.slack.com",
// is no secret and appears in rule descriptions), unless the rule catalog
// shows them as a format's fixed part.
func leak(report, secret string) string {
	keep := 0
	switch n := len(secret); {
	case n >= 16:
		keep = 4
	case n >= 10:
		keep = 2
	}
	if strings.Contains(publicText, secret) {
		// A value the catalog itself publishes (a framework's default
		// secret, DV7128) is public by definition.
		return ""
	}
	if strings.Contains(report, secret) {
		return secret
	}
	const window = 6
	for i := keep; i+window <= len(secret); i++ {
		part := secret[i : i+window]
		if !randomLooking(part) || strings.Contains(publicText, part) {
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

// TestNoSecretInAnyImageFormat plants a fabricated secret of every format
// the engine knows in the files of an image layer, deletes them in the
// next, and checks every output format of `dockvet image`: each secret is
// reported at the layer that holds it, none is shown beyond its mask.
func TestNoSecretInAnyImageFormat(t *testing.T) {
	planted := sample.All(2025)
	bodies := map[string][]byte{}
	var order []string
	for _, s := range planted {
		p := strings.TrimPrefix(s.Path, "/")
		if _, ok := bodies[p]; !ok {
			order = append(order, p)
		}
		bodies[p] = append(bodies[p], s.Text+"\n"...)
	}
	var files, whiteouts []testenv.File
	for _, p := range order {
		files = append(files, testenv.File{Path: p, Body: bodies[p]})
		whiteouts = append(whiteouts, testenv.File{Path: p, Whiteout: true})
	}
	img := testenv.Image(t, v1.Config{User: "10001"}, []v1.Layer{testenv.Layer(t, files...), testenv.Layer(t, whiteouts...)},
		"COPY . /", "RUN /bin/sh -c rm -rf /app /etc/ssl/private /root /home /srv")
	archive := filepath.Join(t.TempDir(), "secrets.tar")
	if err := tarball.WriteToFile(archive, name.MustParseReference("dockvet-test/all-secrets:1"), img); err != nil {
		t.Fatal(err)
	}
	for _, format := range findingFormats {
		var out, errOut bytes.Buffer
		code := Execute(append([]string{"image", "docker-archive:" + archive, "--format", format, "--fail-on", "none", "--no-color", "--config", os.DevNull}, templateFlag(t, format)...),
			Streams{Out: &out, Err: &errOut})
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", format, code, errOut.String())
		}
		report := hashes.ReplaceAllString(out.String()+errOut.String(), "<hash>")
		for _, s := range planted {
			if leaked := leak(report, s.Secret); leaked != "" {
				t.Errorf("%s: the report shows %q of a %s secret", format, leaked, s.RuleID)
			}
		}
		if format != "json" {
			continue
		}
		var r finding.Report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, f := range r.Findings {
			if f.Practice == finding.PracticeSecrets && strings.HasPrefix(f.RuleID, "DV7") {
				if f.Fingerprint == "" || f.Location.LayerIndex == nil || *f.Location.LayerIndex != 0 || !strings.Contains(f.Message, "deleted in layer 1") {
					t.Errorf("%s at %s: %+v %s", f.RuleID, f.Location.Path, f.Location, f.Message)
				}
				found[f.RuleID] = true
			}
		}
		for _, s := range planted {
			if !found[s.RuleID] && s.RuleID != "DV7023" {
				t.Errorf("no %s finding for the secret in %s", s.RuleID, s.Path)
			}
		}
	}
}

// templateFlag gives --format template a template that writes the whole
// JSON report, so that a template cannot show what the JSON hides.
func templateFlag(t *testing.T, format string) []string {
	if format != "template" {
		return nil
	}
	return []string{"--template", write(t, t.TempDir(), "all.tmpl", "{{json .}}")}
}
