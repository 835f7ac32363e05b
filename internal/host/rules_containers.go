package host

import (
	"path"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
)

// The checks of CIS section 5 that need a running container, not its
// settings: what runs in it, its exec sessions and the network it is on.
// The settings themselves are judged by the container rules (containers.go).

// running returns the running containers, or skips the check (no Engine,
// or nothing running) and returns nil.
func (p *Pass) running() []Container {
	if !p.needEngine() {
		return nil
	}
	if len(p.engine().Containers) == 0 {
		p.Skip("no running containers")
		return nil
	}
	return p.engine().Containers
}

// label names a container in messages with its short ID, as the container
// rules do, so a report stays exact after a name is reused.
func (c *Container) label() string {
	if id := c.ShortID(); id != "" && id != c.Name {
		return c.Name + " (" + id + ")"
	}
	return c.Name
}

// notChecked collects the containers a check could not look at, and skips
// the check with their names when it found nothing.
type notChecked struct {
	names []string
	why   string
}

func (n *notChecked) add(c *Container, why string) {
	n.names = append(n.names, c.Name)
	if n.why == "" {
		n.why = why
	}
}

func (n *notChecked) skipIfClean(p *Pass, found int) {
	if len(n.names) > 0 && found == 0 {
		p.Skip("not checked for %s: %s", list(n.names, 5), n.why)
	}
}

// sshServers are the programs that serve SSH logins.
var sshServers = map[string]bool{"sshd": true, "dropbear": true}

// isSSHServer reports whether a command line (as ps shows it) is an SSH
// server. sshd rewrites its title ("sshd: /usr/sbin/sshd -D [listener]",
// "sshd: alice@pts/0"), so the first word is read without its colon.
func isSSHServer(cmd string) bool {
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return false
	}
	return sshServers[path.Base(strings.TrimSuffix(f[0], ":"))]
}

var ruleSSHServer = &Rule{
	Rule: finding.Rule{
		ID: "DV4507", Title: "SSH server runs in a container", CIS: "5.7",
		Practice: finding.PracticeNetwork, Severity: finding.Medium,
		Description: "An SSH server in a container is one more service to patch and one more set of credentials to manage, and a way in that bypasses the Engine's access control and audit: `docker exec` already gives an administrator a shell. The check reads the container's processes as `docker top` lists them, so an sshd started by a script or a supervisor is found too.",
		Remediation: "Remove the SSH server from the image and its start-up; use `docker exec` (or your orchestrator's exec) to get a shell.",
		References:  []string{"https://docs.docker.com/reference/cli/docker/container/exec/"},
		Benchmark:   "Ensure sshd is not run within containers",
	},
	Check: func(p *Pass) {
		cs := p.running()
		var nc notChecked
		found := 0
		for i := range cs {
			c := &cs[i]
			if c.Processes == nil {
				nc.add(c, c.ProcessesErr)
				continue
			}
			for _, pr := range c.Processes {
				if isSSHServer(pr.Command) {
					p.ReportContainer(c, "Container %s runs an SSH server (pid %s: %s).", c.label(), pr.PID, oneLine(pr.Command, 80))
					found++
					break
				}
			}
		}
		nc.skipIfClean(p, found)
	},
}

// execCommand names an exec session's program. Its arguments are left
// out: a command line given to exec can carry a password or a token.
func execCommand(x *containertypes.ExecInspectResponse) string {
	if x.ProcessConfig == nil || strings.TrimSpace(x.ProcessConfig.Entrypoint) == "" {
		return "an unknown program"
	}
	prog := strings.TrimSpace(x.ProcessConfig.Entrypoint)
	if n := len(x.ProcessConfig.Arguments); n > 0 {
		return prog + " with " + plural(n, "argument", "arguments")
	}
	return prog
}

// execState says whether a session runs or waits to be started.
func execState(x *containertypes.ExecInspectResponse) string {
	if x.Running {
		return "running, pid " + itoa(x.Pid)
	}
	return "created, not started"
}

var rulePrivilegedExec = &Rule{
	Rule: finding.Rule{
		ID: "DV4523", Title: "Privileged exec session in a container", CIS: "5.23",
		Practice: finding.PracticeCapabilities, Severity: finding.High,
		Description: "`docker exec --privileged` runs a process with every capability and without the container's seccomp and AppArmor confinement, even when the container itself is confined: a shell that can load kernel modules or mount the host's disks. The Engine keeps an exec session in the container's inspect data while it is running (or created and not yet started) and forgets it when it ends, so this check sees the sessions open now; finished ones are only in the Engine's event stream and the host's audit log.",
		Remediation: "Do not use `docker exec --privileged`; if a task needs more than the container has, run it in a separate, short-lived container with exactly the capability it needs. Restrict who may call the Engine's exec API (an authorization plugin, CIS 2.12).",
		References:  []string{"https://docs.docker.com/reference/cli/docker/container/exec/"},
		Benchmark:   "Ensure that docker exec commands are not used with the privileged option",
	},
	Check: func(p *Pass) {
		cs := p.running()
		var nc notChecked
		found := 0
		for i := range cs {
			c := &cs[i]
			if c.ExecsErr != "" {
				nc.add(c, c.ExecsErr)
			}
			for j := range c.Execs {
				x := &c.Execs[j]
				if x.ProcessConfig != nil && x.ProcessConfig.Privileged != nil && *x.ProcessConfig.Privileged {
					p.ReportContainer(c, "Container %s has a privileged exec session (%s): %s.", c.label(), execState(x), oneLine(execCommand(x), 60))
					found++
				}
			}
		}
		nc.skipIfClean(p, found)
	},
}

var ruleRootExec = &Rule{
	Rule: finding.Rule{
		ID: "DV4524", Title: "Exec sessions as root to review", CIS: "5.24",
		Practice: finding.PracticeNonRoot, Severity: finding.Info,
		Description: "`docker exec --user root` (or an exec in a container that runs as root) gives whoever calls it root in the container. The benchmark leaves it to a person to confirm such sessions are expected; this lists the ones the Engine holds now (running, or created and not started).",
		Remediation: "Exec as the container's unprivileged user; restrict who may call the Engine's exec API (an authorization plugin, CIS 2.12).",
		References:  []string{"https://docs.docker.com/reference/cli/docker/container/exec/"},
		Benchmark:   "Ensure that docker exec commands are not used with the user=root option",
		Manual:      true,
	},
	Check: func(p *Pass) {
		cs := p.running()
		var nc notChecked
		var names []string
		for i := range cs {
			c := &cs[i]
			if c.ExecsErr != "" {
				nc.add(c, c.ExecsErr)
			}
			for j := range c.Execs {
				x := &c.Execs[j]
				if x.ProcessConfig == nil {
					continue
				}
				user := strings.TrimSpace(x.ProcessConfig.User)
				if user == "" && c.Inspect.Config != nil {
					user = strings.TrimSpace(c.Inspect.Config.User)
				}
				if user == "" || container.IsRootUser(user) {
					p.ReportContainer(c, "Container %s has an exec session as root (%s): %s.", c.label(), execState(x), oneLine(execCommand(x), 60))
					names = append(names, c.Name)
				}
			}
		}
		if len(names) > 0 {
			p.Note("exec sessions as root in %s", list(names, 5))
		}
		nc.skipIfClean(p, len(names))
	},
}

// onDefaultBridge reports whether a container is attached to the default
// bridge network ("bridge", docker0).
func onDefaultBridge(c *Container) bool {
	if ns := c.Inspect.NetworkSettings; ns != nil && ns.Networks != nil {
		_, ok := ns.Networks["bridge"]
		return ok
	}
	if hc := c.Inspect.HostConfig; hc != nil {
		m := string(hc.NetworkMode)
		return m == "default" || m == "bridge"
	}
	return false
}

var ruleDefaultBridge = &Rule{
	Rule: finding.Rule{
		ID: "DV4530", Title: "Containers on the default bridge to review", CIS: "5.30",
		Practice: finding.PracticeNetwork, Severity: finding.Info,
		Description: "Every container on the default bridge (docker0) shares one network with all the others there: with inter-container communication on (CIS 2.2) they reach each other's ports, and the default bridge has no name resolution between containers, which invites legacy links. User-defined networks separate applications.",
		Remediation: "Create a network per application (`docker network create app`, or Compose's project network) and start containers on it with `--network app`.",
		References:  []string{"https://docs.docker.com/engine/network/drivers/bridge/#differences-between-user-defined-bridges-and-the-default-bridge"},
		Benchmark:   "Ensure that Docker's default bridge \"docker0\" is not used",
		Manual:      true,
	},
	Check: func(p *Pass) {
		cs := p.running()
		var names []string
		for i := range cs {
			c := &cs[i]
			if onDefaultBridge(c) {
				p.ReportContainer(c, "Container %s is on the default bridge network (docker0).", c.label())
				names = append(names, c.Name)
			}
		}
		if len(names) > 0 {
			p.Note("%s on docker0: %s", plural(len(names), "container", "containers"), list(names, 5))
		}
	},
}

// defaultCgroupnsHost says whether the Engine creates containers in the
// host's cgroup namespace when they do not ask for their own, and why.
// The Engine lists the security option "cgroupns" exactly when its default
// is a private namespace (cgroup v2, or default-cgroupns-mode private).
func (s *Snapshot) defaultCgroupnsHost() (bool, string) {
	if s.Engine == nil || hasSecurityOption(s.Engine.Info.SecurityOptions, "cgroupns") {
		return false, ""
	}
	switch {
	case s.Daemon.Config.DefaultCgroupnsMode == "host":
		return true, "default-cgroupns-mode is host"
	case s.Engine.Info.CgroupVersion == "1":
		return true, "a cgroup v1 host, where the Engine's default mode is host"
	case s.Engine.Info.CgroupVersion == "":
		return true, "Engine " + s.Engine.Info.ServerVersion + " has no cgroup namespaces"
	}
	return true, "the Engine reports no private cgroup namespace default"
}

var ruleDefaultCgroupns = &Rule{
	Rule: finding.Rule{
		ID: "DV4812", Title: "Containers share the host's cgroup namespace by default",
		Practice: finding.PracticeNamespaces, Severity: finding.Medium,
		Description: "On a cgroup v1 host (or with default-cgroupns-mode host) the Engine starts every container that does not ask for `--cgroupns private` in the host's cgroup namespace: it sees the host's whole cgroup tree, which leaks information about other containers and helps cgroup-based escapes (release_agent). Every such container would report DV3015; the host audit reports the daemon's default once here, listing the running containers it applies to, instead.",
		Remediation: "Move the host to cgroup v2 (systemd.unified_cgroup_hierarchy=1; the Engine's default is then private), or set `\"default-cgroupns-mode\": \"private\"` in daemon.json; start containers that must see the host's tree with an explicit `--cgroupns host`.",
		References:  []string{"https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file", "https://docs.docker.com/engine/containers/runmetrics/#running-docker-on-cgroup-v2"},
		Benchmark:   "Ensure containers get a private cgroup namespace by default",
	},
	Check: func(p *Pass) {
		if !p.needEngine() {
			return
		}
		host, why := p.Snap.defaultCgroupnsHost()
		if !host {
			return
		}
		var names []string
		for i := range p.engine().Containers {
			if c := &p.engine().Containers[i]; sharesHostCgroupns(c) {
				names = append(names, c.Name)
			}
		}
		which := "no running container shares it now"
		if len(names) > 0 {
			which = plural(len(names), "running container shares", "running containers share") + " it: " + list(names, 10)
		}
		p.Report(p.at("default-cgroupns-mode"), "Containers that do not ask for their own cgroup namespace get the host's (%s); %s.", why, which)
	},
}

// sharesHostCgroupns reports whether a container is in the host's cgroup
// namespace ("" is an Engine before 20.10, which has no other).
func sharesHostCgroupns(c *Container) bool {
	if c.Inspect.HostConfig == nil {
		return false
	}
	m := strings.TrimSpace(string(c.Inspect.HostConfig.CgroupnsMode))
	return m == "" || strings.EqualFold(m, "host")
}
