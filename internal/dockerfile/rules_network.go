package dockerfile

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/ports"
	"github.com/dockvet/dockvet/internal/shell"
)

// exposed calls fn for every literal port range an EXPOSE of the final image
// publishes (EXPOSE in earlier, unrelated stages does not reach the image).
func exposed(p *Pass, fn func(in *Instruction, raw string, r ports.Range, err error)) {
	for _, st := range p.File.Final().Chain() {
		for _, in := range st.Instructions {
			e, ok := in.Command.(*instructions.ExposeCommand)
			if !ok {
				continue
			}
			for _, raw := range e.Ports {
				if strings.Contains(raw, "$") {
					continue // known at build time only
				}
				r, err := ports.ParseRange(raw)
				fn(in, raw, r, err)
			}
		}
	}
}

var refExpose = []string{"https://docs.docker.com/reference/dockerfile/#expose"}

// exposedClass is the check of the rules about a class of sensitive port
// published by EXPOSE: one finding per EXPOSE instruction, naming every
// port of the class.
type exposedClass struct {
	class ports.Class
	// own leaves out a port of the service the image itself is (an
	// etcd image exposing etcd's port).
	own bool
}

// serviceWords show that a Dockerfile builds the service a control-plane
// port belongs to: the words appear in its base image or instructions.
var serviceWords = map[int][]string{
	9000: {"php-fpm", "minio"}, 15672: {"rabbitmq"}, 2379: {"etcd"}, 2380: {"etcd"}, 6443: {"kube-apiserver", "k3s"},
	10250: {"kubelet"}, 8500: {"consul"}, 8200: {"vault"}, 2049: {"nfs-kernel-server", "nfs-ganesha", "nfsd"},
	111: {"rpcbind"}, 445: {"samba", "smbd"}, 161: {"snmpd"},
}

// isService reports whether the final image is the service a port
// belongs to.
func isService(p *Pass, port int) bool {
	var text strings.Builder
	for _, st := range p.File.Final().Chain() {
		text.WriteString(strings.ToLower(st.Base + " " + st.BaseRaw + "\n"))
		for _, in := range st.Instructions {
			text.WriteString(strings.ToLower(in.Original) + "\n")
		}
	}
	for _, w := range serviceWords[port] {
		if strings.Contains(text.String(), w) {
			return true
		}
	}
	return false
}

func (e exposedClass) check(p *Pass) {
	var order []*Instruction
	found := map[*Instruction][]string{}
	exposed(p, func(in *Instruction, raw string, r ports.Range, err error) {
		if err != nil {
			return
		}
		for _, port := range ports.SensitiveIn(r) {
			if e.own && isService(p, port) {
				continue
			}
			if s, _ := ports.Lookup(port); s.Class == e.class {
				if found[in] == nil {
					order = append(order, in)
				}
				found[in] = append(found[in], fmt.Sprintf("%d (%s)", port, s.Name))
			}
		}
	})
	for _, in := range order {
		p.Report(in, "EXPOSE publishes port %s.", strings.Join(found[in], ", "))
	}
}

var ruleExposeSSH = &Rule{
	Rule: finding.Rule{
		ID: "DV1020", Title: "Remote shell port exposed", Practice: finding.PracticeNetwork, Severity: finding.Medium, CIS: "5.7",
		Peers: []string{"AVD-DS-0004"},
		Description: "The image exposes a remote-login port (SSH, telnet, RDP, VNC). A container should not run a login service: it is an extra way in, " +
			"with credentials to manage, and `docker exec` already gives operators a shell.",
		Remediation: "Remove the EXPOSE and the SSH/remote-desktop server; use `docker exec` or your orchestrator's exec for debugging.",
		References:  refExpose,
	},
	Check: exposedClass{class: ports.Shell}.check,
}

var ruleExposeDocker = &Rule{
	Rule: finding.Rule{
		ID: "DV1021", Title: "Docker API port exposed", Practice: finding.PracticeNetwork, Severity: finding.High,
		Description: "The image exposes the Docker daemon's TCP port (2375 plain, 2376 TLS, 2377 Swarm). Whoever reaches a Docker API controls the host.",
		Remediation: "Do not run or expose a Docker daemon in an application image; if a daemon must be reachable, bind it to a Unix socket or use TLS with client certificates on a private network.",
		References:  refExpose,
	},
	Check: exposedClass{class: ports.Docker}.check,
}

var ruleExposeDB = &Rule{
	Rule: finding.Rule{
		ID: "DV1022", Title: "Database or admin port exposed", Practice: finding.PracticeNetwork, Severity: finding.Low,
		Description: "The image exposes a database, cache or broker port. Exposing it documents that the service should be reachable; " +
			"make sure it is published only on private networks, never on all host interfaces.",
		Remediation: "Keep the EXPOSE only if other containers need the port, and publish it at run time on a private network or 127.0.0.1, never 0.0.0.0.",
		References:  refExpose,
	},
	Check: exposedClass{class: ports.Database}.check,
}

var ruleExposeAdmin = &Rule{
	Rule: finding.Rule{
		ID: "DV1026", Title: "Cluster or admin API port exposed", Practice: finding.PracticeNetwork, Severity: finding.Medium,
		Description: "The image exposes an administrative or cluster control-plane port (etcd, kubelet, Kubernetes API, Consul, Vault, NFS, SMB, PHP-FPM, …) " +
			"of a service it does not itself run: an image built to be that service (its base image or instructions name it) is not reported.",
		Remediation: "Expose control-plane ports only from images that are that control plane, and publish them only on private networks.",
		References:  refExpose,
	},
	Check: exposedClass{class: ports.Admin, own: true}.check,
}

var ruleExposeInvalid = &Rule{
	Rule: finding.Rule{
		ID: "DV1023", Title: "EXPOSE with an invalid port", Practice: finding.PracticeNetwork, Severity: finding.Medium,
		Peers:       []string{"DL3011", "AVD-DS-0008"},
		Description: "An EXPOSE value is not a port number in 0-65535 (or a valid range/protocol); the build fails or the port is silently wrong.",
		Remediation: "Use `EXPOSE <port>[/tcp|/udp]` with a port between 1 and 65535.",
		References:  refExpose,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				e, ok := in.Command.(*instructions.ExposeCommand)
				if !ok {
					continue
				}
				for _, raw := range e.Ports {
					if strings.Contains(raw, "$") {
						continue
					}
					if _, err := ports.ParseRange(raw); err != nil {
						p.Report(in, "%s.", capitalize(err.Error()))
					}
				}
			}
		}
	},
}

var sshServers = map[string]bool{"openssh-server": true, "dropbear": true, "dropbear-bin": true, "ssh-server": true, "telnetd": true, "xinetd": true, "tigervnc-standalone-server": true, "x11vnc": true}

var ruleSSHServer = &Rule{
	Rule: finding.Rule{
		ID: "DV1024", Title: "Remote login server installed", Practice: finding.PracticeNetwork, Severity: finding.Medium, CIS: "5.7",
		Surfaces: historySurfaces,
		Description: "The Dockerfile installs an SSH, telnet or VNC server. A container should run one application; a login daemon " +
			"adds credentials, keys and a network service to maintain, and bypasses the Engine's access control.",
		Remediation: "Do not install a login server; use `docker exec` (or kubectl exec) to get a shell in a running container.",
		References:  []string{"https://docs.docker.com/engine/security/"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, i := range installs(st) {
				for _, pkg := range i.Packages {
					if sshServers[pkgName(pkg)] {
						p.ReportCmd(i.in, i.Cmd, "%s installs %s, a remote login server.", i.Manager, pkgName(pkg))
					}
				}
			}
		}
	},
}

var ruleRunNetworkHost = &Rule{
	Rule: finding.Rule{
		ID: "DV1025", Title: "RUN with the host network", Practice: finding.PracticeNetwork, Severity: finding.Low,
		Description: "`RUN --network=host` gives a build step the host's network stack: it can reach services bound to the host's loopback " +
			"(metadata endpoints, local databases) and needs the `network.host` entitlement, which weakens the builder for everyone.",
		Remediation: "Use the default build network; if a step needs a local service, expose it to the build explicitly instead.",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#run---network"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				if run, ok := in.Command.(*instructions.RunCommand); ok && instructions.GetNetwork(run) == "host" {
					p.Report(in, "RUN --network=host runs this step on the host's network.")
				}
			}
		}
	},
}

var ruleDockerHost = &Rule{
	Rule: finding.Rule{
		ID: "DV1030", Title: "DOCKER_HOST points at a TCP daemon without TLS", Practice: finding.PracticeDaemonSocket, Severity: finding.High, CIS: "2.7",
		Surfaces: historySurfaces,
		Description: "The image or a build step talks to a Docker daemon over plain TCP (`tcp://…` without TLS verification). " +
			"Such a daemon accepts commands from anyone who can reach the port, which is root on its host.",
		Remediation: "Use TLS with client certificates (`DOCKER_TLS_VERIFY=1`, port 2376, `DOCKER_CERT_PATH`) or an SSH connection (`ssh://user@host`).",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			tlsVerify := false
			for _, in := range st.Instructions {
				if env, ok := in.Command.(*instructions.EnvCommand); ok {
					for _, kv := range env.Env {
						if kv.Key == "DOCKER_TLS_VERIFY" && kv.Value != "" && kv.Value != "0" {
							tlsVerify = true
						}
					}
					for _, kv := range env.Env {
						if kv.Key == "DOCKER_HOST" && plainTCP(kv.Value) && !tlsVerify {
							p.Report(in, "ENV DOCKER_HOST=%s connects to a Docker daemon over TCP without TLS verification.", kv.Value)
						}
					}
				}
			}
			st.Commands(func(in *Instruction, c *shell.Command) {
				for _, a := range c.Assigns {
					if a.Name == "DOCKER_HOST" && plainTCP(a.Value) && !tlsVerify && !assigned(c, "DOCKER_TLS_VERIFY") {
						p.ReportCmd(in, c, "DOCKER_HOST=%s connects to a Docker daemon over TCP without TLS verification.", a.Value)
					}
				}
				if c.Name == "docker" || c.Name == "docker-compose" {
					if h, ok := c.Value("-H", "--host"); ok && plainTCP(h) && !c.Has("--tlsverify") {
						p.ReportCmd(in, c, "docker -H %s talks to a Docker daemon over TCP without --tlsverify.", h)
					}
				}
			})
		}
	},
}

func plainTCP(v string) bool {
	return strings.HasPrefix(strings.ToLower(strings.Trim(v, `"'`)), "tcp://")
}

func assigned(c *shell.Command, name string) bool {
	for _, a := range c.Assigns {
		if a.Name == name && a.Value != "" && a.Value != "0" {
			return true
		}
	}
	return false
}

var dockerSockets = []string{"/var/run/docker.sock", "/run/docker.sock", "/var/run/docker", "/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock", "/run/podman/podman.sock"}

var ruleSocket = &Rule{
	Rule: finding.Rule{
		ID: "DV1031", Title: "Docker socket used in the image or build", Practice: finding.PracticeDaemonSocket, Severity: finding.High, CIS: "5.32",
		Surfaces: historySurfaces,
		Description: "The Dockerfile declares the Docker (or containerd) socket as a VOLUME, or mounts it into a build step. " +
			"A container with the daemon's socket controls the daemon, and so the host, even when the mount is read-only.",
		Remediation: "Do not design images around the host's Docker socket. For builds use BuildKit features; for tools that need an API, " +
			"use a socket proxy that allows only the calls they need, or rootless Docker.",
		References: []string{"https://docs.docker.com/engine/security/#docker-daemon-attack-surface"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				switch c := in.Command.(type) {
				case *instructions.VolumeCommand:
					for _, v := range c.Volumes {
						if isSocket(v) {
							p.Report(in, "VOLUME %s expects the Docker socket to be mounted into the container.", v)
						}
					}
				case *instructions.RunCommand:
					for _, m := range in.Mounts() {
						if isSocket(m.Source) || isSocket(m.Target) {
							p.Report(in, "RUN mounts the socket %s into a build step.", firstNonEmpty(m.Source, m.Target))
						}
					}
				}
			}
		}
	},
}

func isSocket(p string) bool {
	p = strings.TrimRight(strings.TrimSpace(p), "/")
	for _, s := range dockerSockets {
		if p == s {
			return true
		}
	}
	return strings.HasSuffix(p, "/docker.sock")
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
