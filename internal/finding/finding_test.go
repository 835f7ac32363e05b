package finding

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "****"},
		{"hunter2", "****"},
		{"s3cr3tPass", "s3****"},
		{"ghp_0123456789abcdefghij", "ghp_****"},
		{"пароль-очень-длинный-123", "паро****"},
	} {
		if got := Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	a := Fingerprint("DV7001", "secret-value")
	if a != Fingerprint("DV7001", "secret-value") {
		t.Error("fingerprints must be stable")
	}
	if a == Fingerprint("DV7002", "secret-value") || a == Fingerprint("DV7001", "secret-valuf") {
		t.Error("fingerprints must differ by rule and by value")
	}
	if !strings.HasPrefix(a, "fp:") || strings.Contains(a, "secret") {
		t.Errorf("fingerprint %q", a)
	}
}

func TestSeverityJSON(t *testing.T) {
	b, err := json.Marshal(struct{ S Severity }{High})
	if err != nil || string(b) != `{"S":"high"}` {
		t.Fatalf("%s %v", b, err)
	}
	var v struct{ S Severity }
	if err := json.Unmarshal([]byte(`{"S":"Critical"}`), &v); err != nil || v.S != Critical {
		t.Errorf("%v %v", v.S, err)
	}
	if json.Unmarshal([]byte(`{"S":"severe"}`), &v) == nil {
		t.Error("unknown severity accepted")
	}
	if _, err := json.Marshal(Severity(0)); err == nil {
		t.Error("the zero severity must not marshal")
	}
}

func TestSortAndSummary(t *testing.T) {
	r := &Report{Findings: []Finding{
		{RuleID: "B", Severity: Low, Target: "a", Location: Location{Line: 2}},
		{RuleID: "A", Severity: Critical, Target: "z"},
		{RuleID: "C", Severity: Low, Target: "a", Location: Location{Line: 1}},
	}}
	r.Finalize()
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.RuleID)
	}
	if strings.Join(got, "") != "ACB" || r.Summary.Critical != 1 || r.Summary.Low != 2 || r.Max() != Critical {
		t.Errorf("order %v summary %+v", got, r.Summary)
	}
	if r.Targets == nil {
		t.Error("targets must encode as [] not null")
	}
}

func TestWaiverCovers(t *testing.T) {
	w := Waiver{Path: "D", Line: 3, EndLine: 5, RuleIDs: []string{"DV1"}}
	for line, want := range map[int]bool{2: false, 3: true, 5: true, 6: false} {
		if got := w.Covers(Finding{RuleID: "DV1", Location: Location{Path: "D", Line: line}}); got != want {
			t.Errorf("line %d: %v", line, got)
		}
	}
	if w.Covers(Finding{RuleID: "DV2", Location: Location{Path: "D", Line: 3}}) {
		t.Error("other rules are not waived")
	}
}
