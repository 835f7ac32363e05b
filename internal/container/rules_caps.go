package container

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

var refRuntime = []string{"https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities"}
var refSecurityOpt = []string{"https://docs.docker.com/engine/security/", "https://docs.docker.com/reference/cli/docker/container/run/#security-opt"}

var rulePrivileged = &Rule{
	Rule: finding.Rule{
		ID: "DV3001", Title: "Container runs privileged", Practice: finding.PracticeCapabilities, Severity: finding.Critical, CIS: "5.5",
		Description: "A privileged container gets every capability, every host device, no seccomp or AppArmor confinement and a writable /sys. " +
			"Root in it is root on the host: mounting the host's disk or loading a kernel module is one command away.",
		Remediation: "Remove `privileged: true` / `--privileged`. Grant only the capabilities (`cap_add`) and devices (`devices`) the workload needs.",
		References:  refRuntime,
	},
	Check: func(p *Pass) {
		if s := p.Spec.Privileged; s.Set && s.Value {
			p.Report(s.Src, "%s runs privileged: every capability and host device, no seccomp or AppArmor.", p.Who())
		}
	},
}

// dangerousCaps are capabilities that let a process escape, reconfigure the
// host, or read what it should not. Docker's default set is not listed
// except NET_RAW, which a hardened container (cap_drop: ALL) gets back only
// by asking.
var dangerousCaps = map[string]string{
	"ALL":                "every capability",
	"SYS_ADMIN":          "mount, namespaces, BPF and most of the kernel's admin interface",
	"SYS_MODULE":         "loading kernel modules",
	"SYS_PTRACE":         "tracing and injecting into other processes",
	"SYS_RAWIO":          "raw I/O to devices and memory",
	"SYS_BOOT":           "rebooting the host",
	"SYS_TIME":           "setting the host clock",
	"SYS_RESOURCE":       "overriding resource limits",
	"SYS_PACCT":          "process accounting",
	"DAC_READ_SEARCH":    "reading any file by handle (the 'shocker' escape)",
	"NET_ADMIN":          "reconfiguring network interfaces, routes and firewall rules",
	"NET_RAW":            "raw sockets for spoofing and sniffing",
	"MAC_ADMIN":          "changing the LSM policy",
	"MAC_OVERRIDE":       "bypassing the LSM policy",
	"BPF":                "loading BPF programs",
	"PERFMON":            "kernel performance monitoring",
	"SYSLOG":             "reading and clearing the kernel log",
	"LINUX_IMMUTABLE":    "changing immutable files",
	"AUDIT_CONTROL":      "changing the kernel audit rules",
	"IPC_OWNER":          "bypassing IPC permission checks",
	"CHECKPOINT_RESTORE": "checkpointing other processes",
}

// DangerousCap says what a capability gives, when it is one a container
// should not be given.
func DangerousCap(name string) (string, bool) {
	why, ok := dangerousCaps[NormalizeCap(name)]
	return why, ok
}

var ruleDangerousCap = &Rule{
	Rule: finding.Rule{
		ID: "DV3002", Title: "Dangerous capability added", Practice: finding.PracticeCapabilities, Severity: finding.High, CIS: "5.4",
		Description: "The container is given a capability that lets it reconfigure or escape to the host (SYS_ADMIN, SYS_MODULE, SYS_PTRACE, " +
			"DAC_READ_SEARCH, NET_ADMIN, NET_RAW, ALL, …). Each one removes part of the isolation that makes a container a container.",
		Remediation: "Remove the capability from `cap_add` / `--cap-add`. If the workload truly needs it, run it in a dedicated, " +
			"isolated container (no host namespaces, no sensitive mounts) and document why.",
		References: []string{"https://man7.org/linux/man-pages/man7/capabilities.7.html", refRuntime[0]},
	},
	Check: func(p *Pass) {
		for _, c := range p.Spec.CapAdd {
			if why, ok := dangerousCaps[c.Value]; ok {
				p.Report(c.Src, "%s is given capability %s: %s.", p.Who(), c.Value, why)
			}
		}
	},
}

var ruleCapDrop = &Rule{
	Rule: finding.Rule{
		ID: "DV3003", Title: "Capabilities not dropped", Practice: finding.PracticeCapabilities, Severity: finding.Low, CIS: "5.4",
		Description: "The container keeps Docker's default capabilities (CHOWN, DAC_OVERRIDE, FOWNER, SETUID, SETGID, NET_RAW, MKNOD, …). " +
			"Most applications need none of them; dropping all and adding back the few that are needed shrinks what a compromise can do.",
		Remediation: "Add `cap_drop: [ALL]` (`--cap-drop ALL`) and add back only what the process needs, e.g. `cap_add: [NET_BIND_SERVICE]`.",
		References:  refRuntime,
	},
	Check: func(p *Pass) {
		if !capsKept(p.Spec) || grouped(p.Spec, capsKept) {
			return
		}
		p.Report(Source{}, "%s does not drop Docker's default capabilities (no cap_drop: ALL).", p.Who())
	},
}

var ruleNoNewPrivileges = &Rule{
	Rule: finding.Rule{
		ID: "DV3004", Title: "no-new-privileges not set", Practice: finding.PracticeCapabilities, Severity: finding.Medium, CIS: "5.26",
		Description: "Without `no-new-privileges`, a process in the container can gain privileges through setuid/setgid binaries or file capabilities " +
			"(su, sudo, ping, a planted setuid shell).",
		Remediation: "Set `security_opt: [\"no-new-privileges:true\"]` (`--security-opt no-new-privileges`), or make it the daemon default " +
			"(`\"no-new-privileges\": true` in daemon.json).",
		References: refSecurityOpt,
	},
	Check: func(p *Pass) {
		nnp := p.Spec.Security.NoNewPrivileges
		switch {
		case grouped(p.Spec, noNNP):
		case nnp.Set && nnp.Value:
		case nnp.Set:
			p.Report(nnp.Src, "%s sets no-new-privileges to false, so setuid binaries can raise privileges.", p.Who())
		default:
			p.Report(Source{}, "%s does not set no-new-privileges, so setuid binaries can raise privileges.", p.Who())
		}
	},
}

var ruleSeccomp = &Rule{
	Rule: finding.Rule{
		ID: "DV3005", Title: "Seccomp disabled", Practice: finding.PracticeCapabilities, Severity: finding.High, CIS: "5.22",
		Description: "`seccomp=unconfined` removes Docker's default system-call filter, which blocks dozens of calls used in kernel exploits " +
			"and container escapes (keyctl, add_key, bpf, unshare, mount, …).",
		Remediation: "Remove `seccomp=unconfined`. If a call is really needed, start from Docker's default profile and allow only that call in a custom profile.",
		References:  []string{"https://docs.docker.com/engine/security/seccomp/"},
	},
	Check: func(p *Pass) {
		if s := p.Spec.Security.Seccomp; s.Set && strings.EqualFold(s.Value, "unconfined") {
			p.Report(s.Src, "%s runs without a seccomp profile (seccomp=unconfined).", p.Who())
		}
	},
}

var ruleAppArmor = &Rule{
	Rule: finding.Rule{
		ID: "DV3006", Title: "AppArmor disabled", Practice: finding.PracticeCapabilities, Severity: finding.High, CIS: "5.2",
		Description: "`apparmor=unconfined` removes the AppArmor profile (docker-default) that stops the container writing to /proc and /sys, " +
			"mounting filesystems and more, on hosts that use AppArmor.",
		Remediation: "Remove `apparmor=unconfined`; if the default profile is too strict, write and load a profile for the workload.",
		References:  []string{"https://docs.docker.com/engine/security/apparmor/"},
	},
	Check: func(p *Pass) {
		if s := p.Spec.Security.AppArmor; s.Set && strings.EqualFold(s.Value, "unconfined") {
			p.Report(s.Src, "%s runs without an AppArmor profile (apparmor=unconfined).", p.Who())
		}
	},
}

var ruleSELinux = &Rule{
	Rule: finding.Rule{
		ID: "DV3007", Title: "SELinux labeling disabled", Practice: finding.PracticeCapabilities, Severity: finding.Medium, CIS: "5.3",
		Description: "`label=disable` turns off SELinux separation for the container on hosts that enforce SELinux: it runs as an unconfined " +
			"domain and can touch host files that carry other labels.",
		Remediation: "Remove `label=disable`; relabel bind mounts with `:z`/`:Z` instead, or give the container a specific type with `label=type:…`.",
		References:  []string{"https://docs.docker.com/reference/cli/docker/container/run/#security-opt"},
	},
	Check: func(p *Pass) {
		for _, l := range p.Spec.Security.SELinux {
			if strings.EqualFold(l.Value, "disable") {
				p.Report(l.Src, "%s runs with SELinux labeling disabled (label=disable).", p.Who())
			}
		}
	},
}

var ruleSystemPaths = &Rule{
	Rule: finding.Rule{
		ID: "DV3008", Title: "Kernel paths unmasked", Practice: finding.PracticeCapabilities, Severity: finding.High,
		Description: "`systempaths=unconfined` (Podman: `unmask=ALL`) lifts the masking of /proc/kcore, /proc/sysrq-trigger, /sys/firmware and " +
			"other kernel interfaces, and makes /proc/sys writable paths reachable.",
		Remediation: "Remove `systempaths=unconfined` / `unmask`; expose a single path another way if one is really needed.",
		References:  refSecurityOpt,
	},
	Check: func(p *Pass) {
		if s := p.Spec.Security.SystemPaths; s.Set && strings.EqualFold(s.Value, "unconfined") {
			p.Report(s.Src, "%s unmasks the kernel's /proc and /sys paths.", p.Who())
		}
	},
}

var ruleReadOnly = &Rule{
	Rule: finding.Rule{
		ID: "DV3009", Title: "Root filesystem is writable", Practice: finding.PracticeCapabilities, Severity: finding.Low, CIS: "5.13",
		Description: "A writable root filesystem lets an intruder change binaries and configuration inside the container and persist across " +
			"restarts of the process. Most services only need a few writable directories.",
		Remediation: "Set `read_only: true` (`--read-only`) and give the process tmpfs or volumes for the directories it writes (`tmpfs: [/tmp]`).",
		References:  []string{"https://docs.docker.com/reference/cli/docker/container/run/#read-only"},
	},
	Check: func(p *Pass) {
		if ro := p.Spec.ReadOnlyRootfs; ro.Set && ro.Value || grouped(p.Spec, noReadOnly) {
			return
		}
		p.Report(p.Spec.ReadOnlyRootfs.Src, "%s has a writable root filesystem.", p.Who())
	},
}
