package sign

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/rule"
	"github.com/dockvet/dockvet/internal/ruletest"
)

// TestRuleCases runs the content-trust rules over the cases of
// testdata/rules: txtar archives whose comment holds the annotations
// (internal/ruletest) and whose files are the pass:
//
//	subject.json  the image as a surface names it (Subject)
//	signers.json  who the trust policy accepts for it ([]policy.Signer)
//	results.json  what verifying each of its digests showed, as
//	              `dockvet verify --format json` prints it ([]Result)
//
// Verification itself is tested against a registry (sign_test.go,
// check_test.go); these cases are what the rules make of its results.
func TestRuleCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "rules", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	var ran []string
	for _, file := range files {
		ran = append(ran, filepath.ToSlash(file))
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			c, a, err := ruletest.ParseArchive(file)
			if err != nil {
				t.Fatal(err)
			}
			var s Subject
			var signers []policy.Signer
			var results []*Result
			for _, f := range a.Files {
				var v any
				switch f.Name {
				case "subject.json":
					v = &s
				case "signers.json":
					v = &signers
				case "results.json":
					v = &results
				default:
					t.Fatalf("unknown file %s", f.Name)
				}
				if err := json.Unmarshal(f.Data, v); err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
			}
			if s.Target == (finding.Target{}) {
				s.Target = finding.Target{Kind: finding.SurfaceImage, Name: s.Name}
			}
			var out []finding.Finding
			rule.Run(rules, nil, func(r *finding.Rule) *Pass {
				return &Pass{Reporter: rule.NewReporter(r, s.Target, &out), Subject: s, Signers: signers, Results: results}
			})
			for _, f := range out {
				if f.Target != s.Target.Name || f.TargetKind != s.Target.Kind || f.Location != s.Location {
					t.Errorf("%s is about %s/%s at %+v, not the subject", f.RuleID, f.TargetKind, f.Target, f.Location)
				}
			}
			c.Check(t, ruletest.Whole(out), func(id string) bool {
				for _, r := range rules {
					if r.ID == id {
						return true
					}
				}
				return false
			})
		})
	}
	ruletest.RequireRun(t, "testdata", ran)
}
