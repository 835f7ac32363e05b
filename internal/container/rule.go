package container

import (
	"fmt"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
)

// Rule is one container check: its metadata and one function over a spec.
type Rule struct {
	finding.Rule
	Check func(p *Pass)
}

// Pass is what a rule sees: one spec, the project's trust policy, and a way
// to report.
type Pass struct {
	Spec   *Spec
	Policy *policy.Policy
	target finding.Target
	rule   *Rule
	out    *[]finding.Finding
}

// Report records a finding at src; a setting that was never given has no
// source, and the finding then points at the container as a whole.
func (p *Pass) Report(src Source, format string, args ...any) *finding.Finding {
	msg := fmt.Sprintf(format, args...)
	if !src.Known() {
		src.Path, src.Line = p.Spec.Src.Path, p.Spec.Src.Line
	}
	switch {
	case src.Note == "":
	case strings.HasSuffix(msg, ")."):
		msg = strings.TrimSuffix(msg, ").") + "; " + src.Note + ")."
	default:
		msg = strings.TrimSuffix(msg, ".") + " (" + src.Note + ")."
	}
	loc := finding.Location{Path: src.Path, Line: src.Line, Service: p.Spec.Service}
	if p.Spec.Origin != FromCompose {
		loc.Container = p.Spec.Name
	}
	*p.out = append(*p.out, finding.New(&p.rule.Rule, p.target, loc, msg))
	return &(*p.out)[len(*p.out)-1]
}

// Who names the container at the start of a message: "Service web",
// "Container api".
func (p *Pass) Who() string {
	l := p.Spec.Label()
	return strings.ToUpper(l[:1]) + l[1:]
}

var registry = finding.NewRegistry[*Rule](finding.SurfaceContainer, finding.SurfaceCompose)

// rule registers a rule; rule files declare `var x = rule(&Rule{…})`.
func rule(r *Rule) *Rule { return registry.Add(r) }

// Rules returns every container rule, sorted by ID.
func Rules() []*Rule { return registry.Sorted() }

// Catalog returns the metadata of every container rule.
func Catalog() []finding.Rule { return registry.Catalog() }

// Options configure a check.
type Options struct {
	// Target is what the findings belong to: the Compose file, the script
	// holding a `docker run` line, the live container.
	Target finding.Target
	Policy *policy.Policy
	// Enabled filters rules; nil runs all.
	Enabled func(*finding.Rule) bool
}

// Check runs every rule over a spec.
func Check(s *Spec, opts Options) []finding.Finding {
	var out []finding.Finding
	pol := opts.Policy
	if pol == nil {
		pol = &policy.Policy{}
	}
	for _, r := range Rules() {
		if opts.Enabled != nil && !opts.Enabled(&r.Rule) {
			continue
		}
		r.Check(&Pass{Spec: s, Policy: pol, target: opts.Target, rule: r, out: &out})
	}
	return out
}
