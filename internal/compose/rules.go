package compose

import (
	"slices"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/rule"
)

// Rule is a check of a Compose project as a whole: what no single
// service's container spec shows (top-level secrets and configs). The
// services themselves are judged by the container rules.
type Rule = rule.Rule[*Pass]

// Pass is what a project rule sees: the loaded project; the Reporter it
// embeds records the findings.
type Pass struct {
	rule.Reporter
	Project *Project
}

// Report records a finding at a place in one of the project's files.
func (p *Pass) Report(src container.Source, format string, args ...any) *finding.Finding {
	return p.Emit(finding.Location{Path: src.Path, Line: src.Line}, format, args...)
}

// surfaces are where the project rules apply.
var surfaces = []finding.Surface{finding.SurfaceCompose}

// rules are the project rules, sorted by ID.
var rules = []*Rule{
	ruleStoredSecret, // DV3061
	ruleEscape,       // DV3063
}

// Rules returns the rules only Compose projects have, sorted by ID.
func Rules() []*Rule { return slices.Clone(rules) }

// Catalog is the metadata of the rules only Compose projects have.
func Catalog() []finding.Rule { return rule.Catalog(surfaces, rules) }
