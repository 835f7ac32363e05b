package watch_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/catalog"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/watch"
)

// TestCatalog: the watch rules are in dockvet's catalog, valid, in the
// DV5xxx range, on the watch surface.
func TestCatalog(t *testing.T) {
	rules := watch.Catalog()
	if len(rules) == 0 {
		t.Fatal("no rules")
	}
	for _, r := range rules {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		if !strings.HasPrefix(r.ID, "DV5") || !slices.Equal(r.Surfaces, []finding.Surface{finding.SurfaceWatch}) {
			t.Errorf("%s: surfaces %v", r.ID, r.Surfaces)
		}
		if _, ok := catalog.Lookup(r.ID); !ok {
			t.Errorf("%s is not in the catalog", r.ID)
		}
	}
}
