package host

import (
	"fmt"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// The auditing user's client side (content trust, DOCKER_HOST, stored
// registry credentials) and the benchmark's host-level checks of
// sections 4, 5 and 6.

var ruleContentTrust = &Rule{
	Rule: finding.Rule{
		ID: "DV4405", Title: "Docker Content Trust is not enabled", CIS: "4.5",
		Practice: finding.PracticeContentTrust, Severity: finding.Info,
		Description: "With DOCKER_CONTENT_TRUST=1 the docker CLI pulls, runs and builds only signed image tags. It is a client setting: this checks the environment dockvet runs in. Docker Content Trust is Notary v1, which few images are signed with today and which Docker is retiring; its modern equivalent is a signature policy over cosign/Sigstore and Notary v2 (notation) signatures: the `trust:` rules of .dockvet.yaml, enforced by `dockvet verify`, `dockvet image --verify` and `dockvet host --verify`.",
		Remediation: "export DOCKER_CONTENT_TRUST=1 for users and CI jobs that pull Notary v1-signed images; for cosign and notation signatures, declare who signs which images in the `trust:` rules of .dockvet.yaml and verify before deploying (`dockvet verify REF`).",
		References:  []string{"https://docs.docker.com/engine/security/trust/"},
		Benchmark:   "Ensure Content trust for Docker is Enabled",
	},
	Check: func(p *Pass) {
		v, set := p.Snap.Env["DOCKER_CONTENT_TRUST"]
		if v == "1" || strings.EqualFold(v, "true") {
			return
		}
		if set {
			p.Report(finding.Location{}, "DOCKER_CONTENT_TRUST is %q: the docker client does not require signed images.", v)
			return
		}
		p.Report(finding.Location{}, "DOCKER_CONTENT_TRUST is not set: the docker client does not require signed images.")
	},
}

var ruleSwarmMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4501", Title: "Swarm mode is active", CIS: "5.1",
		Practice: finding.PracticeNetwork, Severity: finding.Info,
		Description: "Swarm mode opens the cluster's management (2377), gossip (7946) and overlay (4789) ports and keeps cluster secrets on the node; a host that does not need it should not run it.",
		Remediation: "If this host does not take part in a swarm, leave it: `docker swarm leave`.",
		References:  []string{"https://docs.docker.com/engine/swarm/"},
		Benchmark:   "Ensure swarm mode is not Enabled, if not needed",
		Manual:      true,
	},
	Check: func(p *Pass) {
		if !p.needEngine() {
			return
		}
		if !p.Snap.SwarmActive() {
			return
		}
		sw := p.engine().Info.Swarm
		role := "worker"
		if sw.ControlAvailable {
			role = "manager"
		}
		p.Note("node %s is a swarm %s", sw.NodeID, role)
		p.Report(finding.Location{}, "Swarm mode is active (this node is a %s); confirm the host needs it.", role)
	},
}

var ruleImageSprawl = &Rule{
	Rule: finding.Rule{
		ID: "DV4601", Title: "Local images to review", CIS: "6.1",
		Practice: finding.PracticeHygiene, Severity: finding.Info,
		Description: "Images that no container uses still carry their vulnerabilities and secrets on the host, and make it hard to tell what is in use.",
		Remediation: "Remove images no container uses (`docker image prune -a`), and keep only the tags you deploy.",
		References:  []string{"https://docs.docker.com/reference/cli/docker/image/prune/"},
		Benchmark:   "Ensure that image sprawl is avoided",
		Manual:      true,
	},
	Check: func(p *Pass) {
		if !p.needEngine() {
			return
		}
		n := p.engine().Info.Images
		if n == 0 {
			p.Note("no local images")
			return
		}
		p.Note("%s", plural(n, "image", "images"))
		p.Report(finding.Location{}, "%s stored on this host; remove the ones no container uses.", plural(n, "image is", "images are"))
	},
}

var ruleContainerSprawl = &Rule{
	Rule: finding.Rule{
		ID: "DV4602", Title: "Stopped containers to review", CIS: "6.2",
		Practice: finding.PracticeHygiene, Severity: finding.Info,
		Description: "Stopped containers keep their file systems, environment (often with secrets) and logs on the host.",
		Remediation: "Remove containers that will not be started again (`docker container prune`).",
		References:  []string{"https://docs.docker.com/reference/cli/docker/container/prune/"},
		Benchmark:   "Ensure that container sprawl is avoided",
		Manual:      true,
	},
	Check: func(p *Pass) {
		if !p.needEngine() {
			return
		}
		info := p.engine().Info
		p.Note("%s, %d running", plural(info.Containers, "container", "containers"), info.ContainersRunning)
		if info.ContainersStopped > 0 {
			p.Report(finding.Location{}, "%s of %d are stopped; remove the ones that will not be started again.",
				plural(info.ContainersStopped, "container", "containers"), info.Containers)
		}
	},
}

var rulePlaintextCredentials = &Rule{
	Rule: finding.Rule{
		ID: "DV4810", Title: "Registry credentials stored in plain text",
		Practice: finding.PracticeRegistry, Severity: finding.High,
		Description: "docker login wrote the password or token into config.json (base64 is not encryption): anyone who reads the file, a backup of it, or a container that mounts the home directory can push and pull as this account. A credential helper (credsStore, credHelpers) keeps it in the system's keychain instead.",
		Remediation: "Configure a credential helper (docker-credential-pass, -secretservice, -osxkeychain, -ecr-login …) in config.json, `docker logout` and log in again, and rotate the exposed credential.",
		References:  []string{"https://docs.docker.com/reference/cli/docker/login/#credential-stores"},
		Benchmark:   "Ensure registry credentials are kept in a credential helper",
	},
	Check: func(p *Pass) {
		var denied []string
		for _, c := range p.Snap.ClientConfigs {
			if c.File.State != Present {
				denied = append(denied, c.Path)
				continue
			}
			for _, a := range c.Stored {
				who := ""
				if a.Username != "" {
					who = fmt.Sprintf(" (user %q)", a.Username)
				}
				owner := ""
				if c.User != "" {
					owner = c.User + "'s "
				}
				exposure := ""
				if c.File.Mode.Perm()&0o044 != 0 {
					exposure = fmt.Sprintf(", and the file is readable by others (mode %04o)", c.File.Mode.Perm())
				}
				f := p.ReportAt(c.Path, 0, "%s%s holds a plaintext %s credential for %s%s%s.", owner, c.Path, a.Kind, a.Registry, who, exposure)
				f.Fingerprint = a.Fingerprint
			}
		}
		if len(denied) > 0 {
			p.Note("not checked: permission denied reading %s", list(denied, 3))
			if len(p.Snap.ClientConfigs) == len(denied) {
				p.Skip("not checked: permission denied reading %s", list(denied, 3))
			}
		}
	},
}

var ruleClientTCP = &Rule{
	Rule: finding.Rule{
		ID: "DV4811", Title: "DOCKER_HOST reaches the daemon over TCP without TLS",
		Practice: finding.PracticeDaemonSocket, Severity: finding.High,
		Description: "The docker client is pointed at a TCP address without TLS verification: its commands, registry credentials and the secrets it passes travel in clear, and whatever answers on that address is trusted as the daemon.",
		Remediation: "Use DOCKER_HOST=ssh://user@host, or set DOCKER_TLS_VERIFY=1 with DOCKER_CERT_PATH holding the client certificate and the daemon's CA.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure the docker client reaches the daemon over TLS or SSH",
	},
	Check: func(p *Pass) {
		env := p.Snap.Env
		h := env["DOCKER_HOST"]
		if !strings.HasPrefix(h, "tcp://") {
			return
		}
		// The docker CLI verifies TLS when DOCKER_TLS_VERIFY has any
		// value, "0" included.
		if env["DOCKER_TLS_VERIFY"] != "" {
			return
		}
		p.Report(finding.Location{}, "DOCKER_HOST is %s and DOCKER_TLS_VERIFY is not set: the client talks to the daemon unencrypted and unauthenticated.", h)
	},
}
