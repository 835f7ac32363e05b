// Package catalog gathers the rule metadata of every surface. `dockvet
// rules`, docs/rules.md and SARIF rule descriptions are generated from it,
// so a rule is described in exactly one place: its value.
package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/compose"
	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/host"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/secrets"
	"github.com/dockvet/dockvet/internal/sign"
	"github.com/dockvet/dockvet/internal/vulndb"
	"github.com/dockvet/dockvet/internal/watch"
)

// sources lists every surface's catalog. A new surface adds one line.
var sources = []func() []finding.Rule{
	dockerfile.Catalog,
	secrets.Catalog,
	container.Catalog,
	compose.Catalog,
	host.Catalog,
	live.Catalog,
	vulndb.Catalog,
	image.Catalog,
	sign.Catalog,
	watch.Catalog,
}

// All returns every rule, sorted by ID.
func All() []finding.Rule {
	var out []finding.Rule
	for _, src := range sources {
		out = append(out, src()...)
	}
	slices.SortFunc(out, func(a, b finding.Rule) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Lookup finds a rule by ID, case-insensitively.
func Lookup(id string) (finding.Rule, bool) {
	for _, r := range All() {
		if strings.EqualFold(r.ID, id) {
			return r, true
		}
	}
	return finding.Rule{}, false
}

// Validate checks every rule's metadata and that IDs are unique.
func Validate() error {
	seen := map[string]bool{}
	for _, r := range All() {
		if err := r.Validate(); err != nil {
			return err
		}
		if seen[r.ID] {
			return fmt.Errorf("rule ID %s is used twice", r.ID)
		}
		seen[r.ID] = true
	}
	return nil
}
