package watch

import (
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/rule"
)

// Pass is what a watch rule sees: the typed model of the event it judges
// (an exec, a network connection, an image event, a plugin, a daemon
// reload, or trouble of watch's own) and the project's trust policy.
type Pass[M any] struct {
	rule.Reporter
	Model  *M
	Policy *policy.Policy
	loc    finding.Location
}

// Rule is a watch check over the model M of one kind of event.
type Rule[M any] = rule.Rule[*Pass[M]]

func (p *Pass[M]) report(format string, args ...any) { p.Emit(p.loc, format, args...) }

// about is what every rule run on one model gets besides the model: the
// trust policy, and what its findings are about.
type about struct {
	policy *policy.Policy
	target finding.Target
	loc    finding.Location
}

// check runs rules over one model; enabled filters them (nil runs all).
func check[M any](rules []*Rule[M], m *M, a about, enabled rule.Filter) []finding.Finding {
	var out []finding.Finding
	rule.Run(rules, enabled, func(r *finding.Rule) *Pass[M] {
		return &Pass[M]{Reporter: rule.NewReporter(r, a.target, &out), Model: m, Policy: a.policy, loc: a.loc}
	})
	return out
}

// The watch rules, one list per kind of event, each by ID. Containers
// seen by watch are judged by the container rules (internal/live), whose
// IDs they keep.
var (
	execRules    = []*Rule[Exec]{ruleExecPrivileged, ruleExecRoot}
	connectRules = []*Rule[Connect]{ruleConnectHost, ruleConnectNetwork}
	imageRules   = []*Rule[ImageEvent]{rulePullUntrusted, rulePullLatest, rulePullTag, ruleTagDisguise, ruleImageLoaded}
	pluginRules  = []*Rule[Plugin]{rulePluginPrivileged, rulePluginInstalled}
	reloadRules  = []*Rule[Reload]{ruleReloadWeakened}
	troubleRules = []*Rule[Trouble]{ruleEventsMissed, ruleQueueOverflow, ruleNotAudited, ruleSinkRefuses, ruleStoppedEarly}
)

var surfaces = []finding.Surface{finding.SurfaceWatch}

// Catalog returns the metadata of the watch rules (DV5xxx), sorted by ID.
func Catalog() []finding.Rule {
	out := slices.Concat(
		rule.Catalog(surfaces, execRules),
		rule.Catalog(surfaces, connectRules),
		rule.Catalog(surfaces, imageRules),
		rule.Catalog(surfaces, pluginRules),
		rule.Catalog(surfaces, reloadRules),
		rule.Catalog(surfaces, troubleRules),
	)
	slices.SortFunc(out, func(a, b finding.Rule) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// CheckExec runs the exec rules (DV5001, DV5002) over x, with findings
// about target: `dockvet authz` judges an exec request with them before
// the Engine creates the exec, as watch judges the exec afterwards.
// enabled filters the rules (nil runs all).
func CheckExec(x *Exec, target finding.Target, enabled rule.Filter) []finding.Finding {
	return check(execRules, x, about{target: target, loc: finding.Location{Container: target.Name}}, enabled)
}
