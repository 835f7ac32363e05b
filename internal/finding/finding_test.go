package finding

import (
	"encoding/json"
	"slices"
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

// TestComparePaths: numbers in paths sort as numbers, and the order is a
// total order (checked over every pair and triple of a set built to
// stress it: prefixes, leading zeros, digits next to other bytes).
func TestComparePaths(t *testing.T) {
	want := []string{"history[2]", "history[5]", "history[14]", "history[100]"}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortFunc(got, comparePaths)
	if !slices.Equal(got, want) {
		t.Errorf("sorted %v, want %v", got, want)
	}
	if comparePaths("usr/lib/python3.9/x", "usr/lib/python3.10/x") >= 0 {
		t.Error("python3.9 sorts after python3.10")
	}
	if comparePaths("app/b", "app/a") <= 0 || comparePaths("app", "app/a") >= 0 {
		t.Error("paths without numbers are not in byte order")
	}
	var set []string
	for _, p := range []string{"", "x", "x-", "xa"} {
		for _, n := range []string{"", "0", "00", "01", "1", "001", "9", "10", "010", "2"} {
			for _, s := range []string{"", "a", "-", "1", "0"} {
				set = append(set, p+n+s)
			}
		}
	}
	for _, a := range set {
		if comparePaths(a, a) != 0 {
			t.Fatalf("%q is not equal to itself", a)
		}
		for _, b := range set {
			ab, ba := comparePaths(a, b), comparePaths(b, a)
			if ab != -ba || (ab == 0) != (a == b) {
				t.Fatalf("%q vs %q: %d, reversed %d", a, b, ab, ba)
			}
			if ab >= 0 {
				continue
			}
			for _, c := range set {
				if comparePaths(b, c) < 0 && comparePaths(a, c) >= 0 {
					t.Fatalf("%q < %q < %q, but not %q < %q", a, b, c, a, c)
				}
			}
		}
	}
}
