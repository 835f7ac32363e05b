package report

import (
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
)

func TestBenchmarkTable(t *testing.T) {
	r := &finding.Report{Checks: []finding.Check{
		{Section: "1 - Host", CIS: "1.1.1", RuleID: "DV4101", Title: "Separate partition", Status: finding.CheckWarn, Note: "on /"},
		{Section: "1 - Host", CIS: "1.1.2", RuleID: "DV4102", Title: "Trusted users", Manual: true, Status: finding.CheckNote, Note: "members: alice"},
		{Section: "2 - Daemon", CIS: "2.2", RuleID: "DV4202", Title: "icc", Status: finding.CheckPass, Note: "not shown"},
		{Section: "2 - Daemon", CIS: "2.3", RuleID: "DV4203", Title: "log level", Status: finding.CheckInfo, Note: "not checked: permission denied"},
		{Section: "extra", RuleID: "DV4801", Title: "runc", Status: finding.CheckPass},
	}}
	r.Finalize()
	var b strings.Builder
	if err := Table(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"[INFO] 1 - Host\n[WARN] 1.1.1   DV4101  Separate partition\n[WARN]        * on /\n",
		"[NOTE] 1.1.2   DV4102  Trusted users (Manual)\n[NOTE]        * members: alice\n",
		"[PASS] 2.2     DV4202  icc\n[INFO] 2.3",
		"[INFO]        * not checked: permission denied\n",
		"[PASS] -       DV4801  runc\n",
		"Checks: 5 (passed 2, warnings 1, info 1, notes 1)\nScore: 1\n",
		"Summary: 0 findings",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not shown") {
		t.Error("a passed check's note is not printed")
	}
	// Manual checks count but do not score.
	s := ScoreChecks([]finding.Check{{Manual: true, Status: finding.CheckWarn}, {Status: finding.CheckWarn}, {Status: finding.CheckPass}, {Status: finding.CheckPass}})
	if s.Score != 1 || s.Checks != 4 || s.Warnings != 2 {
		t.Errorf("%+v", s)
	}
	// Without checks the table is the usual one.
	b.Reset()
	Table(&b, &finding.Report{}, Options{})
	if strings.Contains(b.String(), "Score:") {
		t.Error("reports without checks print no benchmark")
	}
}
