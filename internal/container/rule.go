package container

import (
	"fmt"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/rule"
)

// Rule is one container check: its metadata and one function over a spec.
type Rule = rule.Rule[*Pass]

// Pass is what a rule sees: one spec and the project's trust policy; the
// Reporter it embeds records the findings.
type Pass struct {
	rule.Reporter
	Spec   *Spec
	Policy *policy.Policy
	// Enabled is the run's rule filter: the grouped finding of unset
	// settings (DV3062) lists only the rules it lets run.
	Enabled rule.Filter
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
	return p.Emit(loc, "%s", msg)
}

// Who names the container at the start of a message: "Service web",
// "Container api".
func (p *Pass) Who() string {
	l := p.Spec.Label()
	return strings.ToUpper(l[:1]) + l[1:]
}

// Options configure a check.
type Options struct {
	// Target is what the findings belong to: the Compose file, the script
	// holding a `docker run` line, the live container.
	Target finding.Target
	Policy *policy.Policy
	// Enabled filters rules; nil runs all.
	Enabled rule.Filter
}

// Check runs every rule over a spec.
func Check(s *Spec, opts Options) []finding.Finding {
	var out []finding.Finding
	pol := opts.Policy
	if pol == nil {
		pol = &policy.Policy{}
	}
	rule.Run(rules, opts.Enabled, func(r *finding.Rule) *Pass {
		return &Pass{Reporter: rule.NewReporter(r, opts.Target, &out), Spec: s, Policy: pol, Enabled: opts.Enabled}
	})
	return out
}
