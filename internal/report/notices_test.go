package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
)

// TestCapNotice checks that a report cut by the findings cap per target
// says so in every format that shows notices (JSON, table, Markdown,
// HTML, SARIF), and that a report under the cap says nothing.
func TestCapNotice(t *testing.T) {
	img := finding.Target{Kind: finding.SurfaceImage, Name: "docker-archive:app.tar"}
	r := &finding.Report{Tool: finding.Tool{Name: "dockvet", Version: "0.1.0"}, Targets: []finding.Target{img}, Rules: []finding.Rule{ruleKey}, MaxFindings: 2}
	for i := range 3 {
		f := finding.New(&ruleKey, img, finding.Location{Path: fmt.Sprintf("/k%d", i)}, "Private key (-----****) in a layer.")
		r.Findings = append(r.Findings, f)
	}
	r.Finalize()
	want := "docker-archive:app.tar: 1 more findings not listed (1 critical): a report lists at most 2 findings per target"
	for _, format := range []string{"json", "table", "markdown", "html", "sarif"} {
		fn, err := Lookup(format)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := fn(&b, r, Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s: no notice %q", format, want)
		}
		var clean bytes.Buffer
		if err := fn(&clean, sample(), Options{}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(clean.String(), "findings not listed") {
			t.Errorf("%s: a notice in a report under the cap", format)
		}
	}
}
