// Package rule is what a dockvet rule is, on every surface: a value that
// holds its metadata (finding.Rule: ID, title, practice, severity, CIS,
// description, remediation) and one check function over the surface's pass.
//
// A pass is the surface's own type. It holds the model the rule judges (a
// parsed Dockerfile, an image's walked view, a container spec, a host
// snapshot, an Engine event) and what the run gives every rule (the trust
// policy, the clock, thresholds), and it reports findings through the
// Reporter it embeds. A rule that needs more than its model gets it through
// the pass, never through a package variable.
//
// Each surface lists its rules explicitly, in one slice, and hands that
// slice to Run; nothing registers itself when a package initialises. The
// catalog, docs/rules.md and SARIF rule descriptors are read from the same
// slices (Catalog), so a rule is described in exactly one place.
package rule

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Rule is one check: its metadata and one function over the surface's pass
// P. The pass is made for the rule by the surface's driver (Run's pass
// argument) and carries the model and the reporter.
type Rule[P any] struct {
	finding.Rule
	Check func(P)
}

// Filter says whether a rule runs: the configuration's enable and disable
// lists. A nil Filter runs every rule.
type Filter func(*finding.Rule) bool

// Allows reports whether f lets r run.
func (f Filter) Allows(r *finding.Rule) bool { return f == nil || f(r) }

// Run runs every rule of rules that enabled allows, in the order of the
// list, each with the pass that pass makes for it.
func Run[P any](rules []*Rule[P], enabled Filter, pass func(r *finding.Rule) P) {
	for _, r := range rules {
		if enabled.Allows(&r.Rule) {
			r.Check(pass(&r.Rule))
		}
	}
}

// Catalog returns the metadata of rules, sorted by ID, with the given
// surfaces filled in for rules that declare none (most rules apply only to
// their own surface and say nothing).
func Catalog[P any](surfaces []finding.Surface, rules []*Rule[P]) []finding.Rule {
	out := make([]finding.Rule, 0, len(rules))
	for _, r := range rules {
		out = append(out, Meta(&r.Rule, surfaces))
	}
	slices.SortFunc(out, func(a, b finding.Rule) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Meta returns a copy of m with surfaces filled in when m declares none.
func Meta(m *finding.Rule, surfaces []finding.Surface) finding.Rule {
	c := *m
	if len(c.Surfaces) == 0 {
		c.Surfaces = slices.Clone(surfaces)
	}
	return c
}

// Reporter turns what a check says into findings of its rule about one
// target. Every surface's pass embeds one and adds the helpers that locate
// a finding in its model (a Dockerfile instruction, a file in a layer, a
// Compose setting).
type Reporter struct {
	rule   *finding.Rule
	target finding.Target
	out    *[]finding.Finding
}

// NewReporter makes a reporter for rule r about target, appending to out.
func NewReporter(r *finding.Rule, target finding.Target, out *[]finding.Finding) Reporter {
	return Reporter{rule: r, target: target, out: out}
}

// Rule is the metadata of the rule being checked.
func (p Reporter) Rule() *finding.Rule { return p.rule }

// Target is what the findings are about.
func (p Reporter) Target() finding.Target { return p.target }

// Emit records a finding at loc and returns it, so that a caller can add
// what only it knows (a secret's fingerprint, a vulnerability).
func (p Reporter) Emit(loc finding.Location, format string, args ...any) *finding.Finding {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	*p.out = append(*p.out, finding.New(p.rule, p.target, loc, msg))
	return &(*p.out)[len(*p.out)-1]
}
