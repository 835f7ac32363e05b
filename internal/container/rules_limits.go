package container

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

var refResources = []string{"https://docs.docker.com/engine/containers/resource_constraints/"}

var ruleMemory = &Rule{
	Rule: finding.Rule{
		ID: "DV3030", Title: "No memory limit", Practice: finding.PracticeResourceLimits, Severity: finding.Medium, CIS: "5.11",
		Description: "Without a memory limit one container can take all of the host's memory: a leak or an attack on it makes the kernel's " +
			"OOM killer stop other containers or the daemon.",
		Remediation: "Set a limit: `mem_limit: 512m` or `deploy.resources.limits.memory` in Compose, `--memory 512m` for `docker run`.",
		References:  refResources,
	},
	Check: func(p *Pass) {
		m := p.Spec.Resources.Memory
		switch {
		case grouped(p.Spec, noMemory):
		case m.Set && m.Value > 0:
		case m.Set:
			p.Report(m.Src, "%s sets no memory limit (0 means unlimited).", p.Who())
		default:
			p.Report(Source{}, "%s has no memory limit.", p.Who())
		}
	},
}

var ruleCPU = &Rule{
	Rule: finding.Rule{
		ID: "DV3031", Title: "No CPU limit", Practice: finding.PracticeResourceLimits, Severity: finding.Low, CIS: "5.12",
		Description: "Without a CPU limit or a CPU share a busy or compromised container can starve the other containers and the host.",
		Remediation: "Set `cpus: 1.0` (or `deploy.resources.limits.cpus`), `cpu_shares`, or `--cpus` / `--cpu-shares` for `docker run`.",
		References:  refResources,
	},
	Check: func(p *Pass) {
		if !noCPU(p.Spec) || grouped(p.Spec, noCPU) {
			return
		}
		p.Report(Source{}, "%s has no CPU limit or CPU share.", p.Who())
	},
}

var rulePids = &Rule{
	Rule: finding.Rule{
		ID: "DV3032", Title: "No pids limit", Practice: finding.PracticeResourceLimits, Severity: finding.Medium, CIS: "5.29",
		Description: "Without a pids limit a fork bomb in one container exhausts the host's process table and takes every other container down.",
		Remediation: "Set `pids_limit: 200` (or `deploy.resources.limits.pids`), `--pids-limit 200` for `docker run`.",
		References:  refResources,
	},
	Check: func(p *Pass) {
		l := p.Spec.Resources.PidsLimit
		switch {
		case grouped(p.Spec, noPids):
		case l.Set && l.Value > 0:
		case l.Set:
			p.Report(l.Src, "%s sets pids limit %d, which means unlimited.", p.Who(), l.Value)
		case p.Spec.Engine == "podman":
			// Podman limits pids (2048) unless told otherwise.
		default:
			p.Report(Source{}, "%s has no pids limit.", p.Who())
		}
	},
}

var ruleUlimit = &Rule{
	Rule: finding.Rule{
		ID: "DV3033", Title: "Unlimited ulimit", Practice: finding.PracticeResourceLimits, Severity: finding.Medium, CIS: "5.19",
		Description: "A ulimit set to unlimited (-1) removes a per-process bound that the daemon's defaults would otherwise keep (open files, " +
			"processes, locked memory, core size).",
		Remediation: "Give the ulimit a finite value sized for the workload, e.g. `ulimits: {nofile: {soft: 65536, hard: 65536}}`.",
		References:  []string{"https://docs.docker.com/reference/cli/docker/container/run/#ulimit"},
	},
	Check: func(p *Pass) {
		for _, u := range p.Spec.Ulimits {
			if u.Soft < 0 || u.Hard < 0 {
				p.Report(u.Src, "%s sets ulimit %s to unlimited.", p.Who(), u.Name)
			}
		}
	},
}

var ruleRestartHealth = &Rule{
	Rule: finding.Rule{
		ID: "DV3034", Title: "Restarted forever without a health check", Practice: finding.PracticeHygiene, Severity: finding.Low, CIS: "5.27",
		Description: "The restart policy (`always`, `unless-stopped`) brings the container back whenever its process exits, but nothing checks " +
			"that it works: a hung process stays up and looks healthy, and a crash loop restarts forever.",
		Remediation: "Add a `healthcheck:` (or `--health-cmd`) so the Engine and orchestrators can see a broken container, or use " +
			"`on-failure` with a retry limit.",
		References: []string{"https://docs.docker.com/reference/compose-file/services/#healthcheck"},
	},
	Check: func(p *Pass) {
		r := p.Spec.Restart
		if !r.Set || r.Value.Name != "always" && r.Value.Name != "unless-stopped" {
			return
		}
		h := p.Spec.Healthcheck
		switch {
		case h.Set && h.Value.Disabled:
			p.Report(r.Src, "%s restarts %s but its health check is disabled.", p.Who(), r.Value.Name)
		case h.Set:
		case p.Spec.ImageDefaultsKnown:
			p.Report(r.Src, "%s restarts %s and neither it nor its image defines a health check.", p.Who(), r.Value.Name)
		default:
			p.Report(r.Src, "%s restarts %s without a health check, unless its image defines HEALTHCHECK.", p.Who(), r.Value.Name)
		}
	},
}

var ruleRestartRetries = &Rule{
	Rule: finding.Rule{
		ID: "DV3035", Title: "on-failure restart without a retry limit", Practice: finding.PracticeResourceLimits, Severity: finding.Low, CIS: "5.15",
		Description: "`on-failure` without a maximum retry count restarts a failing container forever, which can hide an attack that crashes it " +
			"and keeps spending host resources.",
		Remediation: "Bound the retries: `restart: on-failure:5` (`--restart on-failure:5`), or `deploy.restart_policy.max_attempts: 5`.",
		References:  []string{"https://docs.docker.com/engine/containers/start-containers-automatically/"},
	},
	Check: func(p *Pass) {
		if r := p.Spec.Restart; r.Set && strings.EqualFold(r.Value.Name, "on-failure") && r.Value.MaxRetries <= 0 {
			p.Report(r.Src, "%s restarts on failure without a retry limit.", p.Who())
		}
	},
}

// defaultCgroupParents are the parents the Engine uses when none is given:
// "/docker" with the cgroupfs driver, "system.slice" with systemd's.
// Naming one of them explicitly changes nothing.
var defaultCgroupParents = map[string]bool{"/docker": true, "docker": true, "system.slice": true}

var ruleCgroupParent = &Rule{
	Rule: finding.Rule{
		ID: "DV3036", Title: "Container placed under a non-default cgroup parent", Practice: finding.PracticeResourceLimits, Severity: finding.Low, CIS: "5.25",
		Description: "The container's cgroup is created under a parent chosen at run time instead of the daemon's. The limits and accounting " +
			"the administrator set on the daemon's cgroup then do not apply to it, and a parent with looser limits (or another service's " +
			"slice) can give it more resources or put it beside processes it should not share limits with.",
		Remediation: "Remove `cgroup_parent:` / `--cgroup-parent` and let the daemon place the container (set `cgroup-parent` in daemon.json " +
			"if all containers belong elsewhere), or confirm that the parent is intended and limited.",
		References: []string{"https://docs.docker.com/reference/cli/docker/container/run/#cgroup-parent"},
	},
	Check: func(p *Pass) {
		cp := p.Spec.CgroupParent
		if v := strings.TrimSpace(cp.Value); cp.Set && v != "" && !defaultCgroupParents[strings.TrimSuffix(v, "/")] {
			p.Report(cp.Src, "%s runs under cgroup parent %s instead of the daemon's.", p.Who(), v)
		}
	},
}
