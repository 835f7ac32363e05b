package container

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

var ruleSocket = &Rule{
	Rule: finding.Rule{
		ID: "DV3020", Title: "Docker socket mounted into the container", Practice: finding.PracticeDaemonSocket, Severity: finding.Critical, CIS: "5.32",
		Description: "The container can reach the Engine's API socket: it is bind-mounted (as a file, through a directory that holds it, " +
			"or through a volume that binds it), mounted by `use_api_socket`, or named by DOCKER_HOST. Whoever controls the API can start a " +
			"privileged container that mounts the host's root: this is root on the host, and mounting the socket read-only does not change that.",
		Remediation: "Do not give containers the Engine socket. If a tool must watch containers, put a filtering proxy in front of the socket " +
			"(allow only the read-only calls it needs) or use rootless Docker for it.",
		References: []string{"https://docs.docker.com/engine/security/#docker-daemon-attack-surface", "https://docs.docker.com/engine/security/protect-access/"},
	},
	Check: func(p *Pass) {
		for _, m := range p.Spec.Mounts {
			sock, ok := EngineSocket(m.HostPath)
			if !ok {
				continue
			}
			how := "mounts"
			if m.Type == MountVolume {
				how = "mounts volume " + m.Source + ", which binds"
			}
			ro := ""
			if m.ReadOnly {
				ro = " (read-only does not limit the API)"
			}
			if sock == m.HostPath {
				p.Report(m.Src, "%s %s the engine socket %s at %s%s.", p.Who(), how, m.HostPath, m.Target, ro)
			} else {
				p.Report(m.Src, "%s %s %s at %s, which holds the engine socket %s%s.", p.Who(), how, m.HostPath, m.Target, sock, ro)
			}
		}
		for _, e := range p.Spec.EffectiveEnv() {
			if e.Name != "DOCKER_HOST" || !e.Known {
				continue
			}
			v := strings.Trim(strings.TrimSpace(e.Value), `"'`)
			if rest, ok := cutScheme(v, "unix://"); ok {
				p.Report(e.Src, "%s sets DOCKER_HOST=unix://%s, so it expects to drive the engine through its socket.", p.Who(), rest)
			} else if rest, ok := cutScheme(v, "npipe://"); ok {
				p.Report(e.Src, "%s sets DOCKER_HOST=npipe://%s, so it expects to drive the engine through its pipe.", p.Who(), rest)
			}
		}
	},
}

func cutScheme(v, scheme string) (string, bool) {
	if len(v) >= len(scheme) && strings.EqualFold(v[:len(scheme)], scheme) {
		return v[len(scheme):], true
	}
	return "", false
}

var ruleDockerHostTCP = &Rule{
	Rule: finding.Rule{
		ID: "DV3021", Title: "Container talks to a Docker daemon over TCP without TLS", Practice: finding.PracticeDaemonSocket, Severity: finding.High,
		Description: "DOCKER_HOST in the container points at a daemon on plain TCP (`tcp://…`) without DOCKER_TLS_VERIFY. The container can " +
			"drive that daemon, and so can anyone on the network path: an unauthenticated Docker API is root on its host.",
		Remediation: "Use TLS with client certificates (`DOCKER_TLS_VERIFY=1`, port 2376, certificates mounted as secrets) or `ssh://`; better, " +
			"do not give the container a Docker daemon at all.",
		References: []string{"https://docs.docker.com/engine/security/protect-access/"},
	},
	Check: func(p *Pass) {
		host, ok := p.Spec.LookupEnv("DOCKER_HOST")
		if !ok || !host.Known {
			return
		}
		if _, tcp := cutScheme(strings.Trim(strings.TrimSpace(host.Value), `"'`), "tcp://"); !tcp {
			return
		}
		if v, ok := p.Spec.LookupEnv("DOCKER_TLS_VERIFY"); ok && (!v.Known || v.Value != "" && v.Value != "0" && !strings.EqualFold(v.Value, "false")) {
			return
		}
		p.Report(host.Src, "%s sets DOCKER_HOST=%s without DOCKER_TLS_VERIFY, so it drives a daemon over unauthenticated TCP.", p.Who(), host.Value)
	},
}

var ruleSensitiveMount = &Rule{
	Rule: finding.Rule{
		ID: "DV3022", Title: "Sensitive host path mounted", Practice: finding.PracticeNamespaces, Severity: finding.High, CIS: "5.6",
		Description: "A host system directory (/, /etc, /proc, /sys, /boot, /dev, /var/lib/docker, /root, …), a home directory or a credential " +
			"directory (~/.ssh, ~/.aws, ~/.docker, ~/.kube) is mounted into the container. Writable, it lets the container change the host " +
			"(users, cron, kernel settings); read-only, it still exposes secrets and host state.",
		Remediation: "Mount only the project directory or a named volume the workload needs, read-only where possible; pass credentials as secrets.",
		References:  []string{"https://docs.docker.com/engine/storage/bind-mounts/"},
	},
	Check: func(p *Pass) {
		for _, m := range p.Spec.Mounts {
			if sock, ok := EngineSocket(m.HostPath); ok && sock == m.HostPath {
				continue // the socket itself is DV3020's
			}
			why := SensitiveHostPath(m.HostPath, m.ReadOnly)
			if why == "" {
				continue
			}
			mode := "read-write"
			if m.ReadOnly {
				mode = "read-only"
			}
			via := ""
			if m.Type == MountVolume {
				via = " through volume " + m.Source
			}
			p.Report(m.Src, "%s mounts %s, %s, at %s %s%s.", p.Who(), m.HostPath, why, m.Target, mode, via)
		}
	},
}
