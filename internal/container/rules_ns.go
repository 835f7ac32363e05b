package container

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

var refNamespaces = []string{"https://docs.docker.com/engine/containers/run/#network-settings", "https://docs.docker.com/reference/cli/docker/container/run/"}

// hostNamespace reports a namespace mode "host": what names the namespace
// in the message, flag is the Compose key / run option that sets it.
type hostNamespace struct {
	what, flag string
	get        func(*Namespaces) Setting[string]
}

func (h hostNamespace) check(p *Pass) {
	if s := h.get(&p.Spec.Namespaces); s.Set && strings.EqualFold(strings.TrimSpace(s.Value), "host") {
		p.Report(s.Src, "%s shares the host's %s namespace (%s: host).", p.Who(), h.what, h.flag)
	}
}

var ruleHostPID = &Rule{
	Rule: finding.Rule{
		ID: "DV3010", Title: "Host PID namespace shared", Practice: finding.PracticeNamespaces, Severity: finding.High, CIS: "5.16",
		Description: "The container sees and can signal every process on the host, read their environment and, with ptrace, inject into them.",
		Remediation: "Remove `pid: host` / `--pid=host`; share another container's PID namespace (`pid: service:x`) if a sidecar needs it.",
		References:  refNamespaces,
	},
	Check: hostNamespace{what: "PID", flag: "pid", get: func(n *Namespaces) Setting[string] { return n.PID }}.check,
}

var ruleHostIPC = &Rule{
	Rule: finding.Rule{
		ID: "DV3011", Title: "Host IPC namespace shared", Practice: finding.PracticeNamespaces, Severity: finding.High, CIS: "5.17",
		Description: "The container shares System V IPC and POSIX shared memory with host processes, which can leak or corrupt their data.",
		Remediation: "Remove `ipc: host` / `--ipc=host`; use `ipc: shareable` and `ipc: service:x` between containers that need shared memory.",
		References:  refNamespaces,
	},
	Check: hostNamespace{what: "IPC", flag: "ipc", get: func(n *Namespaces) Setting[string] { return n.IPC }}.check,
}

var ruleHostUTS = &Rule{
	Rule: finding.Rule{
		ID: "DV3012", Title: "Host UTS namespace shared", Practice: finding.PracticeNamespaces, Severity: finding.Medium, CIS: "5.21",
		Description: "The container shares the host's hostname and domain name and can change them for the whole host.",
		Remediation: "Remove `uts: host` / `--uts=host`; set a hostname with `hostname:` if the workload needs one.",
		References:  refNamespaces,
	},
	Check: hostNamespace{what: "UTS", flag: "uts", get: func(n *Namespaces) Setting[string] { return n.UTS }}.check,
}

var ruleHostNetwork = &Rule{
	Rule: finding.Rule{
		ID: "DV3013", Title: "Host network namespace shared", Practice: finding.PracticeNetwork, Severity: finding.High, CIS: "5.10",
		Description: "With the host network the container's services listen on every host interface, it can reach services bound to the host's loopback " +
			"(and cloud metadata endpoints), and it can sniff host traffic with NET_RAW.",
		Remediation: "Remove `network_mode: host` / `--network host`; publish only the ports needed, bound to a specific address (`127.0.0.1:8080:8080`).",
		References:  refNamespaces,
	},
	Check: hostNamespace{what: "network", flag: "network", get: func(n *Namespaces) Setting[string] { return n.Network }}.check,
}

var ruleHostUserns = &Rule{
	Rule: finding.Rule{
		ID: "DV3014", Title: "Host user namespace shared", Practice: finding.PracticeNamespaces, Severity: finding.Medium, CIS: "5.31",
		Description: "`userns=host` opts the container out of the daemon's user-namespace remapping, so uid 0 in the container is uid 0 on the host.",
		Remediation: "Remove `userns_mode: host` / `--userns=host` so the daemon's `userns-remap` applies.",
		References:  refNamespaces,
	},
	Check: hostNamespace{what: "user", flag: "userns", get: func(n *Namespaces) Setting[string] { return n.User }}.check,
}

var ruleHostCgroupns = &Rule{
	Rule: finding.Rule{
		ID: "DV3015", Title: "Host cgroup namespace shared", Practice: finding.PracticeNamespaces, Severity: finding.Medium,
		Description: "With the host cgroup namespace the container sees the host's whole cgroup tree, which leaks information about other containers " +
			"and helps cgroup-based escapes (release_agent).",
		Remediation: "Remove `cgroup: host` / `--cgroupns=host`; the private cgroup namespace is the default on cgroup v2 hosts.",
		References:  refNamespaces,
	},
	Check: hostNamespace{what: "cgroup", flag: "cgroupns", get: func(n *Namespaces) Setting[string] { return n.Cgroup }}.check,
}

var rulePropagation = &Rule{
	Rule: finding.Rule{
		ID: "DV3016", Title: "Mount propagation is shared", Practice: finding.PracticeNamespaces, Severity: finding.Medium, CIS: "5.20",
		Description: "A bind mount with `shared` or `rshared` propagation passes mounts made inside the container back to the host (and the other way), " +
			"so the container can change what the host sees under that path.",
		Remediation: "Use the default `rprivate` propagation; use `rslave` if the container only needs to see new host mounts.",
		References:  []string{"https://docs.docker.com/engine/storage/bind-mounts/#configure-bind-propagation"},
	},
	Check: func(p *Pass) {
		for _, m := range p.Spec.Mounts {
			if prop := strings.ToLower(m.Propagation); prop == "shared" || prop == "rshared" {
				p.Report(m.Src, "%s mounts %s with %s propagation, so its mounts reach the host.", p.Who(), m.Target, prop)
			}
		}
	},
}

var ruleDevices = &Rule{
	Rule: finding.Rule{
		ID: "DV3017", Title: "Host device exposed", Practice: finding.PracticeNamespaces, Severity: finding.Medium, CIS: "5.18",
		Description: "A host device given to a container (`devices`, `--device`, or a device cgroup rule that allows all devices) lets it read " +
			"or write hardware directly: a disk device gives the host's filesystem, /dev/mem the host's memory.",
		Remediation: "Remove the device, or give only the one device the workload needs, read-only (`/dev/x:/dev/x:r`) where possible.",
		References:  []string{"https://docs.docker.com/reference/cli/docker/container/run/#device"},
	},
	Check: func(p *Pass) {
		for _, d := range p.Spec.Devices {
			perms := d.Permissions
			if perms == "" {
				perms = "rwm"
			}
			p.Report(d.Src, "%s is given host device %s (%s).", p.Who(), d.Host, perms)
		}
		for _, r := range p.Spec.DeviceCgroupRules {
			f := strings.Fields(r.Value)
			if len(f) > 0 && (f[0] == "a" || len(f) > 1 && strings.HasPrefix(f[1], "*:*")) {
				p.Report(r.Src, "%s may use every host device of its kind (device cgroup rule %q).", p.Who(), r.Value)
			}
		}
	},
}
