package sign

import (
	"slices"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/rule"
)

// Rule is a content-trust check: its metadata and one function over a
// Pass.
type Rule = rule.Rule[*Pass]

// rules are the content-trust rules, by ID.
var rules = []*Rule{ruleUnsigned}

// surfaces are where images are verified: audited images, live
// containers, and the containers a host runs.
var surfaces = []finding.Surface{finding.SurfaceImage, finding.SurfaceContainer, finding.SurfaceHost}

// Rules returns the content-trust rules, by ID.
func Rules() []*Rule { return slices.Clone(rules) }

// Catalog returns the metadata of the content-trust rules.
func Catalog() []finding.Rule { return rule.Catalog(surfaces, rules) }
