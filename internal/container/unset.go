package container

import (
	"slices"

	"github.com/dockvet/dockvet/internal/finding"
)

// Unset is a hardening setting a container leaves at Docker's default:
// the rule that reports it, what the message calls it, and the Compose
// setting that sets it. A Compose service gets one finding listing them
// (DV3062); a setting given a weak value (`mem_limit: 0`,
// `no-new-privileges:false`) stays its own rule's finding, at its line.
type Unset struct {
	Rule    *finding.Rule
	Setting string
	Fix     string
}

// unsets are the hardening settings grouped for Compose, with the test
// that the spec leaves each one unset, which is also the case its rule
// leaves to the group there.
var unsets = []struct {
	rule         *Rule
	setting, fix string
	unset        func(*Spec) bool
}{
	{ruleMemory, "no memory limit", "mem_limit: 512m", noMemory},
	{ruleCPU, "no CPU limit", "cpus: 1.0", noCPU},
	{rulePids, "no pids limit", "pids_limit: 200", noPids},
	{ruleCapDrop, "Docker's default capabilities", "cap_drop: [ALL]", capsKept},
	{ruleReadOnly, "a writable root filesystem", "read_only: true", noReadOnly},
	{ruleNoNewPrivileges, "no no-new-privileges", `security_opt: ["no-new-privileges:true"]`, noNNP},
}

// Unsets lists the hardening settings s leaves unset.
func Unsets(s *Spec) []Unset {
	var out []Unset
	for _, u := range unsets {
		if u.unset(s) {
			out = append(out, Unset{Rule: &u.rule.Rule, Setting: u.setting, Fix: u.fix})
		}
	}
	return out
}

// grouped reports whether a rule's finding for s is part of the service's
// one finding of unset settings (DV3062) instead.
func grouped(s *Spec, unset func(*Spec) bool) bool { return s.Declared() && unset(s) }

// Declared reports whether s is a service written down in a file that
// declares containers (Compose, a CI file), where the settings it leaves
// at Docker's defaults are one finding: a `docker run` line or a live
// container gets them one rule at a time.
func (s *Spec) Declared() bool { return s.Origin == FromCompose || s.Origin == FromCI }

func noMemory(s *Spec) bool   { return !s.Resources.Memory.Set }
func noReadOnly(s *Spec) bool { return !s.ReadOnlyRootfs.Set }
func noNNP(s *Spec) bool      { return !s.Security.NoNewPrivileges.Set }

// noPids: Podman limits pids (2048) unless told otherwise.
func noPids(s *Spec) bool { return !s.Resources.PidsLimit.Set && s.Engine != "podman" }

func noCPU(s *Spec) bool {
	r := s.Resources
	return r.NanoCPUs.Value <= 0 && r.CPUQuota.Value <= 0 && r.CPUShares.Value <= 0 && r.CpusetCPUs.Value == ""
}

// capsKept: Docker's default capabilities are kept (privileged ignores
// cap_drop, and DV3001 says so).
func capsKept(s *Spec) bool {
	return !s.Privileged.Value && !slices.ContainsFunc(s.CapDrop, func(c Setting[string]) bool { return c.Value == "ALL" })
}
