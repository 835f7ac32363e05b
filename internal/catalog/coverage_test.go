package catalog

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/ruletest"
)

// exempt lists the rules that cannot have a case of one kind, and why.
// Every entry is a deliberate decision; the test fails for any other rule
// without a positive and a negative case.
var exempt = map[string]string{
	"DV4121": "a manual CIS check (1.2.1, host hardening) that asks a person to review every host: no input makes it pass, so it has no negative case",
}

// TestEveryRuleHasCases walks every surface's testdata and requires, for
// every rule of the catalog, at least one case that wants it (positive)
// and one that declares it ok (negative). The surfaces' own harness tests
// run those cases exactly (internal/ruletest) and fail on an annotated
// file they do not run, so an annotation counted here is one a test checks.
func TestEveryRuleHasCases(t *testing.T) {
	pos, neg := map[string]int{}, map[string]int{}
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || !strings.Contains(filepath.ToSlash(p), "/testdata/") {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > 4<<20 {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !ruletest.Annotated(data) {
			return nil
		}
		want, ok, err := ruletest.Names(data)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		for _, id := range want {
			pos[id]++
		}
		for _, id := range ok {
			neg[id]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range All() {
		known[r.ID] = true
		why, isExempt := exempt[r.ID]
		switch {
		case isExempt && why == "":
			t.Errorf("%s is exempt without a reason", r.ID)
		case isExempt:
		case pos[r.ID] == 0 && neg[r.ID] == 0:
			t.Errorf("%s (%s) has no case", r.ID, r.Title)
		case pos[r.ID] == 0:
			t.Errorf("%s (%s) has no positive case (want)", r.ID, r.Title)
		case neg[r.ID] == 0:
			t.Errorf("%s (%s) has no negative case (ok)", r.ID, r.Title)
		}
	}
	var unknown []string
	for id := range pos {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	for id := range neg {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	slices.Sort(unknown)
	for _, id := range slices.Compact(unknown) {
		t.Errorf("testdata names %s, which is not in the catalog", id)
	}
	for id := range exempt {
		if !known[id] {
			t.Errorf("exempt lists %s, which is not in the catalog", id)
		}
	}
}
