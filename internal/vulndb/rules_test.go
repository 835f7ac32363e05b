package vulndb

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/ruletest"
)

// TestRuleCases runs the vulnerability rules over the cases of
// testdata/rules: txtar archives whose comment holds the annotations
// (internal/ruletest) and whose files are an inventory and a database:
//
//	packages.json  the packages found ([]inventory.Package)
//	osv/ID.json    OSV records, imported into a database of their own
//
// Every finding is one match of a package and a vulnerability; which rule
// reports it depends on the package (OS package, Go standard library,
// application dependency).
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
			records, cache := t.TempDir(), t.TempDir()
			var pkgs []inventory.Package
			for _, f := range a.Files {
				switch {
				case f.Name == "packages.json":
					if err := json.Unmarshal(f.Data, &pkgs); err != nil {
						t.Fatalf("%s: %v", f.Name, err)
					}
				case strings.HasPrefix(f.Name, "osv/") && strings.HasSuffix(f.Name, ".json"):
					if err := os.WriteFile(filepath.Join(records, filepath.Base(f.Name)), f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
				default:
					t.Fatalf("unknown file %s", f.Name)
				}
			}
			if _, err := Import(context.Background(), cache, records, testNow); err != nil {
				t.Fatal(err)
			}
			db, err := Open(cache)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			fs, err := Match(db, pkgs, Options{Target: target})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if f.TargetKind != target.Kind || f.Target != target.Name || f.Vulnerability == nil || f.Location.Path == "" {
					t.Errorf("%s: %+v", f.RuleID, f)
				}
			}
			c.Check(t, ruletest.Whole(fs), func(id string) bool {
				for _, r := range rules {
					if r.ID == id {
						return true
					}
				}
				return false
			})
			if t.Failed() {
				for _, f := range fs {
					t.Logf("%s %s: %s", f.RuleID, f.Location.Path, f.Message)
				}
			}
		})
	}
	ruletest.RequireRun(t, "testdata", ran)
}
