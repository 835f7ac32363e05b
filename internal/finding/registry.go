package finding

import (
	"slices"
	"strings"
)

// Registry collects the rules of one surface. R is the surface's rule type,
// which embeds Rule (its metadata) next to its check function; rule files
// register with Add when the package initialises, and the catalog, the
// docs and SARIF read the metadata back through Catalog.
type Registry[R interface{ Meta() *Rule }] struct {
	defaults []Surface
	rules    []R
}

// NewRegistry makes a registry whose rules default to the given surfaces.
func NewRegistry[R interface{ Meta() *Rule }](defaults ...Surface) *Registry[R] {
	return &Registry[R]{defaults: defaults}
}

// Add registers r, giving it the registry's surfaces when it declares none.
func (g *Registry[R]) Add(r R) R {
	if m := r.Meta(); len(m.Surfaces) == 0 {
		m.Surfaces = slices.Clone(g.defaults)
	}
	g.rules = append(g.rules, r)
	return r
}

// Sorted returns the rules sorted by ID.
func (g *Registry[R]) Sorted() []R {
	out := slices.Clone(g.rules)
	slices.SortFunc(out, func(a, b R) int { return strings.Compare(a.Meta().ID, b.Meta().ID) })
	return out
}

// Catalog returns the rules' metadata sorted by ID.
func (g *Registry[R]) Catalog() []Rule {
	var out []Rule
	for _, r := range g.Sorted() {
		out = append(out, *r.Meta())
	}
	return out
}

// Meta returns the rule itself; surface rule types embed Rule and so get
// Meta too, which is how a Registry reads their metadata.
func (r *Rule) Meta() *Rule { return r }
