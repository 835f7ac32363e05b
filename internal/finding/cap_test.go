package finding

import (
	"fmt"
	"strings"
	"testing"
)

// TestFindingsCap checks the cap per target: past it the most severe are
// kept, the rest counted by severity in a notice naming the cap; another
// target under the cap keeps everything, and a report under the cap has
// no notice.
func TestFindingsCap(t *testing.T) {
	var r Report
	for i := range 12 {
		sev := Low
		if i%4 == 0 {
			sev = Critical
		}
		r.Findings = append(r.Findings, Finding{RuleID: "DV7002", Target: "img:1", Severity: sev, Message: fmt.Sprint(i)})
	}
	r.Findings = append(r.Findings, Finding{RuleID: "DV7002", Target: "other", Severity: Info})
	r.MaxFindings = 5
	r.Finalize()
	perTarget := map[string]int{}
	for _, f := range r.Findings {
		perTarget[f.Target]++
	}
	if perTarget["img:1"] != 5 || perTarget["other"] != 1 {
		t.Errorf("kept %v, want 5 of img:1 and 1 of other", perTarget)
	}
	if r.Summary.Critical != 3 || r.Summary.Low != 2 || r.Summary.Total() != 6 {
		t.Errorf("summary %+v: want the 3 critical first, then 2 low, and the other target's one", r.Summary)
	}
	want := "img:1: 7 more findings not listed (7 low): a report lists at most 5 findings per target, the most severe first"
	if len(r.Notices) != 1 || r.Notices[0] != want {
		t.Errorf("notices %q, want %q", r.Notices, want)
	}
	// Finalize again (config.Apply does): no second notice.
	r.Finalize()
	if len(r.Notices) != 1 {
		t.Errorf("notices after a second Finalize: %q", r.Notices)
	}

	var small Report
	small.Findings = []Finding{{RuleID: "DV7002", Target: "img:1", Severity: High}}
	small.Finalize()
	if len(small.Notices) != 0 || len(small.Findings) != 1 {
		t.Errorf("under the cap: notices %q, %d findings", small.Notices, len(small.Findings))
	}

	var all Report
	all.MaxFindings = -1
	for range MaxFindingsPerTarget + 1 {
		all.Findings = append(all.Findings, Finding{Target: "t", Severity: Low})
	}
	all.Finalize()
	if len(all.Findings) != MaxFindingsPerTarget+1 || len(all.Notices) != 0 {
		t.Errorf("no cap: %d findings, notices %q", len(all.Findings), strings.Join(all.Notices, "; "))
	}
}
