package container

import (
	"github.com/dockvet/dockvet/internal/finding"
)

var ruleUnset = &Rule{
	Rule: finding.Rule{
		ID: "DV3062", Title: "Service leaves hardening settings at Docker's defaults", Practice: finding.PracticeCapabilities, Severity: finding.Medium,
		Description: "A service declared in a Compose or CI file sets none of some hardening settings: a memory, CPU or pids limit (DV3030, DV3031, DV3032), `cap_drop: [ALL]` (DV3003), " +
			"`read_only: true` (DV3009), `no-new-privileges` (DV3004). Such a service gets one finding that lists what is missing, with the " +
			"one change that sets it all; the JSON report's `missing` list names each setting's rule, and --severity, ignores, severity overrides and " +
			"`rules.disable` act on those rules as on findings of their own. The severity is the highest of the listed rules'. A setting given a weak " +
			"value (`mem_limit: 0`, `no-new-privileges:false`) is reported by its own rule at its line.",
		Remediation: "Set the missing settings for the service (`dockvet compose --fix-preview` writes them as an override file to review), " +
			"or waive the ones that do not apply by their own rule IDs.",
		References: []string{"https://docs.docker.com/engine/containers/resource_constraints/", "https://docs.docker.com/engine/security/"},
	},
	Check: checkUnset,
}

// checkUnset reports the hardening settings a declared service leaves
// unset whose rules the run enables.
func checkUnset(p *Pass) {
	s := p.Spec
	if !s.Declared() {
		return
	}
	{
		var ms []finding.Missing
		for _, u := range Unsets(p.Spec) {
			if !p.Enabled.Allows(u.Rule) {
				continue
			}
			ms = append(ms, finding.Missing{RuleID: u.Rule.ID, Title: u.Rule.Title, Severity: u.Rule.Severity, Practice: u.Rule.Practice,
				CIS: u.Rule.CIS, Setting: u.Setting, Fix: u.Fix})
		}
		if len(ms) == 0 {
			return
		}
		f := p.Report(Source{}, "unset settings")
		f.SetMissing(ms)
	}
}
