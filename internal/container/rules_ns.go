package container

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

var refNamespaces = []string{"https://docs.docker.com/engine/containers/run/#network-settings", "https://docs.docker.com/reference/cli/docker/container/run/"}

// hostNamespaceRule reports a namespace mode "host".
func hostNamespaceRule(id, what string, practice finding.Practice, sev finding.Severity, cis, flag string,
	get func(*Namespaces) Setting[string], desc, fix string) *Rule {
	return rule(&Rule{
		Rule: finding.Rule{ID: id, Title: "Host " + what + " namespace shared", Practice: practice, Severity: sev, CIS: cis,
			Description: desc, Remediation: fix, References: refNamespaces},
		Check: func(p *Pass) {
			if s := get(&p.Spec.Namespaces); s.Set && strings.EqualFold(strings.TrimSpace(s.Value), "host") {
				p.Report(s.Src, "%s shares the host's %s namespace (%s: host).", p.Who(), what, flag)
			}
		},
	})
}

var ruleHostPID = hostNamespaceRule("DV3010", "PID", finding.PracticeNamespaces, finding.High, "5.16", "pid",
	func(n *Namespaces) Setting[string] { return n.PID },
	"The container sees and can signal every process on the host, read their environment and, with ptrace, inject into them.",
	"Remove `pid: host` / `--pid=host`; share another container's PID namespace (`pid: service:x`) if a sidecar needs it.")

var ruleHostIPC = hostNamespaceRule("DV3011", "IPC", finding.PracticeNamespaces, finding.High, "5.17", "ipc",
	func(n *Namespaces) Setting[string] { return n.IPC },
	"The container shares System V IPC and POSIX shared memory with host processes, which can leak or corrupt their data.",
	"Remove `ipc: host` / `--ipc=host`; use `ipc: shareable` and `ipc: service:x` between containers that need shared memory.")

var ruleHostUTS = hostNamespaceRule("DV3012", "UTS", finding.PracticeNamespaces, finding.Medium, "5.21", "uts",
	func(n *Namespaces) Setting[string] { return n.UTS },
	"The container shares the host's hostname and domain name and can change them for the whole host.",
	"Remove `uts: host` / `--uts=host`; set a hostname with `hostname:` if the workload needs one.")

var ruleHostNetwork = hostNamespaceRule("DV3013", "network", finding.PracticeNetwork, finding.High, "5.10", "network",
	func(n *Namespaces) Setting[string] { return n.Network },
	"With the host network the container's services listen on every host interface, it can reach services bound to the host's loopback "+
		"(and cloud metadata endpoints), and it can sniff host traffic with NET_RAW.",
	"Remove `network_mode: host` / `--network host`; publish only the ports needed, bound to a specific address (`127.0.0.1:8080:8080`).")

var ruleHostUserns = hostNamespaceRule("DV3014", "user", finding.PracticeNamespaces, finding.Medium, "5.31", "userns",
	func(n *Namespaces) Setting[string] { return n.User },
	"`userns=host` opts the container out of the daemon's user-namespace remapping, so uid 0 in the container is uid 0 on the host.",
	"Remove `userns_mode: host` / `--userns=host` so the daemon's `userns-remap` applies.")

var ruleHostCgroupns = hostNamespaceRule("DV3015", "cgroup", finding.PracticeNamespaces, finding.Medium, "", "cgroupns",
	func(n *Namespaces) Setting[string] { return n.Cgroup },
	"With the host cgroup namespace the container sees the host's whole cgroup tree, which leaks information about other containers "+
		"and helps cgroup-based escapes (release_agent).",
	"Remove `cgroup: host` / `--cgroupns=host`; the private cgroup namespace is the default on cgroup v2 hosts.")

var rulePropagation = rule(&Rule{
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
})

var ruleDevices = rule(&Rule{
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
})
