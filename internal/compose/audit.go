package compose

import (
	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/rule"
)

// AuditOptions configure an audit.
type AuditOptions struct {
	Policy *policy.Policy
	// Enabled filters rules; nil runs all.
	Enabled rule.Filter
}

// Target is what the project's findings belong to: its main file.
func (p *Project) Target() finding.Target {
	return finding.Target{Kind: finding.SurfaceCompose, Name: p.Files[0]}
}

// Audit runs the container rules over every service and job, and the
// project rules over the top-level secrets and configs.
func (p *Project) Audit(opts AuditOptions) []finding.Finding {
	var out []finding.Finding
	for _, s := range p.Specs {
		out = append(out, container.Check(s, container.Options{Target: p.Target(), Policy: opts.Policy, Enabled: opts.Enabled})...)
	}
	rule.Run(rules, opts.Enabled, func(r *finding.Rule) *Pass {
		return &Pass{Reporter: rule.NewReporter(r, p.Target(), &out), Project: p, Enabled: opts.Enabled}
	})
	return out
}
