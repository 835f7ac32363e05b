package host

import (
	"path"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Section 1 of the CIS Docker Benchmark: the host.

var ruleDataPartition = &Rule{
	Rule: finding.Rule{
		ID: "DV4101", Title: "Docker's data directory is not on its own partition", CIS: "1.1.1",
		Practice: finding.PracticeResourceLimits, Severity: finding.Low,
		Description: "Containers, images and volumes live under the data root (/var/lib/docker). When it shares a file system with the rest of the host, a container that fills its disk fills the host's too; a bind mount of a directory of the root file system looks like a mount point but is the same partition.",
		Remediation: "Give the data root its own partition or logical volume (LVM) and mount it there (an /etc/fstab entry or a systemd mount unit).",
		References:  []string{"https://docs.docker.com/engine/daemon/#daemon-data-directory"},
		Benchmark:   "Ensure a separate partition for containers has been created",
	},
	Check: func(p *Pass) {
		s := p.Snap
		dir := s.Paths.DataRoot
		real := s.resolve(dir)
		if len(s.Mounts.Info) > 0 {
			var here, under *MountInfo
			for i := range s.Mounts.Info {
				m := &s.Mounts.Info[i]
				if m.MountPoint == real || m.MountPoint == dir {
					here = m
				}
				if isUnder(real, m.MountPoint) && (under == nil || len(m.MountPoint) > len(under.MountPoint)) {
					under = m
				}
			}
			switch {
			case here == nil && under != nil:
				p.ReportAt(dir, 0, "%s is on the file system mounted at %s (%s), not on a partition of its own.", dir, under.MountPoint, under.Source)
			case here == nil:
				p.ReportAt(dir, 0, "%s is not a mount point.", dir)
			case here.Root != "/" && under != nil && under.Device == here.Device:
				p.ReportAt(dir, 0, "%s is a bind mount of %s from %s, the device of %s, so it is not a separate partition.", dir, here.Root, here.Source, under.MountPoint)
			}
			return
		}
		if len(s.Mounts.Fstab) > 0 {
			for _, e := range s.Mounts.Fstab {
				if path.Clean(e.File) == dir || path.Clean(e.File) == real {
					return
				}
			}
			p.ReportAt("/etc/fstab", 0, "No /etc/fstab entry mounts %s on a partition of its own.", dir)
			return
		}
		p.Skip("not checked: %s", s.Mounts.NotChecked)
	},
}

var ruleDockerGroup = &Rule{
	Rule: finding.Rule{
		ID: "DV4102", Title: "Users in the docker group control the daemon", CIS: "1.1.2",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Info,
		Description: "Members of the docker group can use the Docker socket, and whoever can use the socket can start a privileged container that mounts the host's root: membership is root on the host. Users whose primary group is docker count too.",
		Remediation: "Keep only trusted administrators in the docker group (`gpasswd -d USER docker`); give others rootless Docker or sudo rules for specific commands.",
		References:  []string{"https://docs.docker.com/engine/security/#docker-daemon-attack-surface"},
		Benchmark:   "Ensure only trusted users are allowed to control Docker daemon",
		Manual:      true,
	},
	Check: func(p *Pass) {
		u := &p.Snap.Users
		if u.NotChecked != "" {
			p.Skip("not checked: %s", u.NotChecked)
			return
		}
		g := u.Group(dockerGroup(p.Snap))
		if g == nil {
			p.Note("there is no docker group: only root can use the socket")
			return
		}
		members := append([]string(nil), g.Members...)
		for _, pw := range u.Passwd {
			if pw.GID == g.GID && !contains(members, pw.Name) {
				members = append(members, pw.Name)
			}
		}
		if len(members) == 0 {
			p.Note("the %s group has no members", g.Name)
			return
		}
		p.Note("members: %s", strings.Join(members, ", "))
		p.ReportAt("/etc/group", 0, "%s in the %s group can control the Docker daemon, which is root on this host: %s; confirm each is trusted.",
			plural(len(members), "user", "users"), g.Name, list(members, 10))
	},
}

// dockerGroup is the group the daemon gives its socket (-G, "group").
func dockerGroup(s *Snapshot) string {
	if g := s.Daemon.Config.Group; g != "" {
		return g
	}
	return "docker"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// auditWatch checks that the Linux audit system watches a Docker file
// (CIS 1.1.3-1.1.18). The rule names the file as the benchmark does; the
// check looks at the path the host really has (dockerd is
// /usr/sbin/dockerd on Debian, the data root may be moved).
type auditWatch struct {
	// paths returns the host paths of the file; the check applies to the
	// ones that exist.
	paths func(s *Snapshot) []string
}

func fixed(p string) func(*Snapshot) []string { return func(*Snapshot) []string { return []string{p} } }

func binary(name string) func(*Snapshot) []string {
	return func(s *Snapshot) []string {
		if p := s.Paths.Binaries[name]; p != "" {
			return []string{p}
		}
		return []string{"/usr/bin/" + name}
	}
}

func unitPath(name string) func(*Snapshot) []string {
	return func(s *Snapshot) []string {
		if u := s.Units[name]; u != nil && u.Path != "" && !u.Masked {
			return []string{u.Path}
		}
		return []string{"/lib/systemd/system/" + name}
	}
}

func containerdSockets(s *Snapshot) []string {
	if len(s.Paths.ContainerdSockets) > 0 {
		return s.Paths.ContainerdSockets
	}
	return []string{"/run/containerd/containerd.sock"}
}

func (a auditWatch) check(p *Pass) {
	s := p.Snap
	var existing []string
	for _, q := range a.paths(s) {
		f := s.Files[q]
		switch {
		case f == nil || f.State == Absent:
		case f.State == Present:
			existing = append(existing, q)
		default:
			p.Skip("not checked: %s", notReadable(f))
			return
		}
	}
	if len(existing) == 0 {
		p.Skip("%s is not present", strings.Join(a.paths(s), ", "))
		return
	}
	if s.Audit.NotChecked != "" {
		p.Skip("not checked: %s", s.Audit.NotChecked)
		return
	}
	for _, q := range existing {
		if r := s.Audit.Covering(q, s.resolve); r != nil {
			continue
		}
		p.ReportAt(q, 0, "No audit rule watches %s (%s).", q, auditSource(s))
	}
}

var ruleAuditDockerd = &Rule{
	Rule: finding.Rule{
		ID: "DV4103", Title: "No audit rule for the Docker daemon", CIS: "1.1.3",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to the Docker daemon, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for the Docker daemon",
	},
	Check: auditWatch{paths: binary("dockerd")}.check,
}

var ruleAuditContainerdRun = &Rule{
	Rule: finding.Rule{
		ID: "DV4104", Title: "No audit rule for /run/containerd", CIS: "1.1.4",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /run/containerd, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /run/containerd",
	},
	Check: auditWatch{paths: fixed("/run/containerd")}.check,
}

var ruleAuditDataRoot = &Rule{
	Rule: finding.Rule{
		ID: "DV4105", Title: "No audit rule for /var/lib/docker", CIS: "1.1.5",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /var/lib/docker, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /var/lib/docker",
	},
	Check: auditWatch{paths: func(s *Snapshot) []string { return []string{s.Paths.DataRoot} }}.check,
}

var ruleAuditEtcDocker = &Rule{
	Rule: finding.Rule{
		ID: "DV4106", Title: "No audit rule for /etc/docker", CIS: "1.1.6",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /etc/docker, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /etc/docker",
	},
	Check: auditWatch{paths: fixed("/etc/docker")}.check,
}

var ruleAuditDockerService = &Rule{
	Rule: finding.Rule{
		ID: "DV4107", Title: "No audit rule for docker.service", CIS: "1.1.7",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to docker.service, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - docker.service",
	},
	Check: auditWatch{paths: unitPath("docker.service")}.check,
}

var ruleAuditContainerdSock = &Rule{
	Rule: finding.Rule{
		ID: "DV4108", Title: "No audit rule for containerd.sock", CIS: "1.1.8",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to containerd.sock, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - containerd.sock",
	},
	Check: auditWatch{paths: containerdSockets}.check,
}

var ruleAuditDockerSocket = &Rule{
	Rule: finding.Rule{
		ID: "DV4109", Title: "No audit rule for docker.socket", CIS: "1.1.9",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to docker.socket, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - docker.socket",
	},
	Check: auditWatch{paths: unitPath("docker.socket")}.check,
}

var ruleAuditDefaultDocker = &Rule{
	Rule: finding.Rule{
		ID: "DV4110", Title: "No audit rule for /etc/default/docker", CIS: "1.1.10",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /etc/default/docker, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /etc/default/docker",
	},
	Check: auditWatch{paths: fixed("/etc/default/docker")}.check,
}

var ruleAuditDaemonJSON = &Rule{
	Rule: finding.Rule{
		ID: "DV4111", Title: "No audit rule for /etc/docker/daemon.json", CIS: "1.1.11",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /etc/docker/daemon.json, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /etc/docker/daemon.json",
	},
	Check: auditWatch{paths: func(s *Snapshot) []string { return []string{s.Paths.DaemonJSON} }}.check,
}

var ruleAuditContainerdConfig = &Rule{
	Rule: finding.Rule{
		ID: "DV4112", Title: "No audit rule for /etc/containerd/config.toml", CIS: "1.1.12",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /etc/containerd/config.toml, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /etc/containerd/config.toml",
	},
	Check: auditWatch{paths: fixed("/etc/containerd/config.toml")}.check,
}

var ruleAuditSysconfigDocker = &Rule{
	Rule: finding.Rule{
		ID: "DV4113", Title: "No audit rule for /etc/sysconfig/docker", CIS: "1.1.13",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /etc/sysconfig/docker, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /etc/sysconfig/docker",
	},
	Check: auditWatch{paths: fixed("/etc/sysconfig/docker")}.check,
}

var ruleAuditContainerd = &Rule{
	Rule: finding.Rule{
		ID: "DV4114", Title: "No audit rule for /usr/bin/containerd", CIS: "1.1.14",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /usr/bin/containerd, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd",
	},
	Check: auditWatch{paths: binary("containerd")}.check,
}

var ruleAuditShim = &Rule{
	Rule: finding.Rule{
		ID: "DV4115", Title: "No audit rule for /usr/bin/containerd-shim", CIS: "1.1.15",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /usr/bin/containerd-shim, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim",
	},
	Check: auditWatch{paths: binary("containerd-shim")}.check,
}

var ruleAuditShimRuncV1 = &Rule{
	Rule: finding.Rule{
		ID: "DV4116", Title: "No audit rule for /usr/bin/containerd-shim-runc-v1", CIS: "1.1.16",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /usr/bin/containerd-shim-runc-v1, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v1",
	},
	Check: auditWatch{paths: binary("containerd-shim-runc-v1")}.check,
}

var ruleAuditShimRuncV2 = &Rule{
	Rule: finding.Rule{
		ID: "DV4117", Title: "No audit rule for /usr/bin/containerd-shim-runc-v2", CIS: "1.1.17",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /usr/bin/containerd-shim-runc-v2, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v2",
	},
	Check: auditWatch{paths: binary("containerd-shim-runc-v2")}.check,
}

var ruleAuditRunc = &Rule{
	Rule: finding.Rule{
		ID: "DV4118", Title: "No audit rule for /usr/bin/runc", CIS: "1.1.18",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "Changes to /usr/bin/runc, and its use, are not recorded by the Linux audit system, so tampering with Docker on this host leaves no trace. A watch on a directory covers the files under it.",
		Remediation: "Add a watch rule to /etc/audit/rules.d/docker.rules, e.g. `-w PATH -p rwxa -k docker`, then load it (`augenrules --load` or restart auditd).",
		References:  []string{"https://man7.org/linux/man-pages/man8/auditctl.8.html"},
		Benchmark:   "Ensure auditing is configured for Docker files and directories - /usr/bin/runc",
	},
	Check: auditWatch{paths: binary("runc")}.check,
}

func auditSource(s *Snapshot) string {
	if strings.HasPrefix(s.Audit.Source, "no audit rules") {
		return s.Audit.Source
	}
	return "rules read from " + s.Audit.Source
}

var ruleHostHardening = &Rule{
	Rule: finding.Rule{
		ID: "DV4121", Title: "Host hardening to review", CIS: "1.2.1",
		Practice: finding.PracticeUpdate, Severity: finding.Info,
		Description: "Containers share the host's kernel: a hardened host (few services, patched kernel, a configuration benchmark of its own) is the base of every container's isolation. dockvet checks the kernel's known escape bugs; the rest is for a person to review.",
		Remediation: "Apply the CIS benchmark of the host's operating system, remove services the host does not need, and keep the kernel and packages patched.",
		References:  []string{"https://www.cisecurity.org/cis-benchmarks"},
		Benchmark:   "Ensure the container host has been Hardened",
		Manual:      true,
	},
	Check: func(p *Pass) {
		s := p.Snap
		osName := s.OS.PrettyName
		if osName == "" {
			osName = "an unknown operating system"
		}
		kernel := s.Kernel.Release
		if kernel == "" {
			kernel = "unknown"
		}
		p.Note("%s, kernel %s", osName, kernel)
		p.Report(finding.Location{}, "Review the hardening of this host (%s, kernel %s) against its operating system's own benchmark.", osName, kernel)
	},
}

var ruleEngineEOL = &Rule{
	Rule: finding.Rule{
		ID: "DV4122", Title: "Docker Engine is end-of-life", CIS: "1.2.2",
		Practice: finding.PracticeUpdate, Severity: finding.Medium,
		Description: "The Engine's release branch no longer gets security fixes upstream: vulnerabilities found from now on stay open unless the distribution that packaged it backports the fixes.",
		Remediation: "Upgrade to a maintained Docker Engine release (see the Moby project's BRANCHES-AND-TAGS.md), or confirm the distribution still supports its package.",
		References:  []string{"https://github.com/moby/moby/blob/master/project/BRANCHES-AND-TAGS.md", "https://endoflife.date/docker-engine"},
		Benchmark:   "Ensure that the version of Docker is up to date",
	},
	Check: func(p *Pass) {
		in := p.installed(CompEngine)
		if Upstream(in.Version) == "" {
			if p.needEngine() {
				p.Skip("not checked: the Engine reports no version")
			}
			return
		}
		e := endOfLifeOf(CompEngine, in.Version, p.Now)
		if e == nil {
			p.Note("Docker Engine %s", in.Version)
			return
		}
		p.Report(finding.Location{}, "%s is end-of-life since %s: branch %s gets no upstream security fixes%s.",
			in, e.Date, branch(in.Version), distroCaveat(in))
	},
}
