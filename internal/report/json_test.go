package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
)

// TestJSONChunkedIsTheEncoders: the chunked, parallel encoding of a large
// report is json.Encoder's indented output byte for byte, at every size
// around the chunk boundaries, with messages that need escaping, findings
// of every shape and the report's other fields before and after findings.
func TestJSONChunkedIsTheEncoders(t *testing.T) {
	base := sample()
	tgt := base.Targets[0]
	messages := []string{
		"plain", "quotes \" and \\ backslashes", "<html> & \"findings\": [],\n  newline", "tab\tand unicode é ✓ \u2028",
		"\x00 control \x1f", strings.Repeat("long ", 200),
	}
	for _, n := range []int{0, 1, findingsPerChunk - 1, findingsPerChunk, findingsPerChunk + 1, 3*findingsPerChunk + 7, 2000} {
		r := *base
		r.Findings = nil
		for i := range n {
			f := finding.New(&ruleRoot, tgt, finding.Location{Path: "app/Dockerfile", Line: i + 1}, fmt.Sprintf("%s %d", messages[i%len(messages)], i))
			switch i % 4 {
			case 1:
				f.Vulnerability = &finding.Vulnerability{ID: fmt.Sprintf("CVE-2026-%d", i), Package: "openssl", Installed: "3.0", Aliases: []string{"GHSA-x"}}
			case 2:
				f.Missing = []finding.Missing{{RuleID: "DV3001", Title: "t", Severity: finding.Medium, Practice: finding.PracticeNonRoot, Setting: "no memory limit", Fix: "mem_limit: 512m"}}
			case 3:
				f.Location = finding.Location{Path: "/etc/x", Layer: "sha256:abc", LayerIndex: finding.LayerAt(i)}
				f.Fingerprint = "fp"
			}
			r.Findings = append(r.Findings, f)
		}
		r.Notices = []string{"after the findings"}
		var want, got bytes.Buffer
		if err := encodeIndented(&want, &r, ""); err != nil {
			t.Fatal(err)
		}
		if err := JSON(&got, &r, Options{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			w, g := want.String(), got.String()
			i := 0
			for i < len(w) && i < len(g) && w[i] == g[i] {
				i++
			}
			t.Fatalf("%d findings: output differs from the Encoder's at byte %d:\nwant …%q…\ngot  …%q…", n, i, w[max(0, i-40):min(len(w), i+40)], g[max(0, i-40):min(len(g), i+40)])
		}
	}
}

// BenchmarkJSON encodes a report of a thousand Dockerfiles' findings.
func BenchmarkJSON(b *testing.B) {
	r := *sample()
	r.Findings = nil
	for i := range 7000 {
		r.Findings = append(r.Findings, finding.New(&ruleRoot, r.Targets[0], finding.Location{Path: "svc/Dockerfile", Line: i}, fmt.Sprintf("USER root makes the container run as root (%d).", i)))
	}
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if err := JSON(&out, &r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(out.Len()))
}
