package host

import (
	"fmt"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
)

// Section 7 of the CIS Docker Benchmark: Swarm. These rules run only when
// the Engine is part of a swarm; most need a manager's view.

// needManager skips a check on swarm workers.
func (p *Pass) needManager() bool {
	if !p.Snap.SwarmManager() {
		p.Skip("not applicable: this node is a swarm worker; audit a manager")
		return false
	}
	return true
}

var ruleSwarmManagers = &Rule{
	Rule: finding.Rule{
		ID: "DV4701", Title: "Swarm has an unhelpful number of managers", CIS: "7.1",
		Practice: finding.PracticeHygiene, Severity: finding.Low,
		Description: "Raft needs a majority of managers: an even number tolerates no more failures than one fewer, and more than seven slows every decision. Each manager also holds the cluster's secrets and CA key.",
		Remediation: "Run an odd number of managers, at most seven (`docker node demote`).",
		References:  []string{"https://docs.docker.com/engine/swarm/admin_guide/#add-manager-nodes-for-fault-tolerance"},
		Benchmark:   "Ensure that the minimum number of manager nodes have been created in a swarm",
	},
	Check: func(p *Pass) {
		if !p.RequireSwarm() {
			return
		}
		if !p.needManager() {
			return
		}
		m := p.engine().Info.Swarm.Managers
		p.Note("%s", plural(m, "manager", "managers"))
		switch {
		case m > 7:
			p.Report(finding.Location{}, "The swarm has %d managers; more than seven slows consensus without needed fault tolerance.", m)
		case m > 0 && m%2 == 0:
			p.Report(finding.Location{}, "The swarm has %d managers; an even number tolerates no more failures than %d.", m, m-1)
		}
	},
}

var ruleSwarmListen = &Rule{
	Rule: finding.Rule{
		ID: "DV4702", Title: "Swarm management port listens on every interface", CIS: "7.2",
		Practice: finding.PracticeNetwork, Severity: finding.Medium,
		Description: "The manager's cluster port (2377) listens on all addresses, so every network the host is on can reach the swarm's control plane.",
		Remediation: "Initialise or join with `--listen-addr` on the management interface's address.",
		References:  []string{"https://docs.docker.com/reference/cli/docker/swarm/init/#listen-addr"},
		Benchmark:   "Ensure that swarm services are bound to a specific host interface",
	},
	Check: func(p *Pass) {
		if !p.RequireSwarm() {
			return
		}
		n := p.Snap.Network
		if n.NotChecked != "" {
			p.Skip("not checked: %s", n.NotChecked)
			return
		}
		for _, l := range n.TCP {
			if l.Port == 2377 && l.Addr.IsUnspecified() {
				p.Report(finding.Location{}, "The swarm management port 2377 listens on %s, every interface of the host.", l.Addr)
				return
			}
		}
	},
}

var ruleOverlayEncryption = &Rule{
	Rule: finding.Rule{
		ID: "DV4703", Title: "Overlay network is not encrypted", CIS: "7.3",
		Practice: finding.PracticeNetwork, Severity: finding.Medium,
		Description: "Traffic between containers on different nodes of an unencrypted overlay network crosses the hosts' network in clear.",
		Remediation: "Create overlay networks with `--opt encrypted` (IPsec between nodes).",
		References:  []string{"https://docs.docker.com/engine/network/drivers/overlay/#encrypt-traffic-on-an-overlay-network"},
		Benchmark:   "Ensure that all Docker swarm overlay networks are encrypted",
	},
	Check: func(p *Pass) {
		if !p.RequireSwarm() {
			return
		}
		for _, n := range p.engine().Networks {
			if n.Driver != "overlay" {
				continue
			}
			if _, ok := n.Options["encrypted"]; !ok {
				p.Report(finding.Location{}, "Overlay network %s is not encrypted.", n.Name)
			}
		}
	},
}

var ruleSwarmSecrets = &Rule{
	Rule: finding.Rule{
		ID: "DV4704", Title: "Swarm secrets to review", CIS: "7.4",
		Practice: finding.PracticeSecrets, Severity: finding.Info,
		Description: "Swarm services should get credentials from `docker secret` (encrypted in the Raft log, mounted in memory) rather than from environment variables or files in images.",
		Remediation: "Move service credentials to `docker secret create` and reference them in the service definitions.",
		References:  []string{"https://docs.docker.com/engine/swarm/secrets/"},
		Benchmark:   "Ensure that Docker's secret management commands are used for managing secrets in a swarm cluster",
		Manual:      true,
	},
	Check: func(p *Pass) {
		if !p.RequireSwarm() {
			return
		}
		p.Report(finding.Location{}, "Review that the swarm's services take their credentials from docker secrets, not environment variables.")
	},
}

var ruleSwarmAutolock = &Rule{
	Rule: finding.Rule{
		ID: "DV4705", Title: "Swarm managers are not auto-locked", CIS: "7.5",
		Practice: finding.PracticeSecrets, Severity: finding.Medium,
		Description: "Without autolock, the keys that decrypt the Raft log (with every swarm secret) and the managers' TLS keys sit on disk unencrypted: whoever copies a manager's /var/lib/docker/swarm gets them.",
		Remediation: "`docker swarm update --autolock=true` and keep the unlock key off the managers.",
		References:  []string{"https://docs.docker.com/engine/swarm/swarm_manager_locking/"},
		Benchmark:   "Ensure that swarm manager is run in auto-lock mode",
	},
	Check: func(p *Pass) {
		if !p.RequireSwarm() {
			return
		}
		if !p.needManager() {
			return
		}
		c := p.engine().Info.Swarm.Cluster
		if c == nil {
			p.Skip("not checked: the Engine did not describe the cluster")
			return
		}
		if !c.Spec.EncryptionConfig.AutoLockManagers {
			p.Report(finding.Location{}, "Swarm autolock is off: the managers' Raft and TLS keys are stored unencrypted.")
		}
	},
}

var ruleUnlockKeyRotation = &Rule{
	Rule: finding.Rule{
		ID: "DV4706", Title: "Swarm unlock key rotation to review", CIS: "7.6",
		Practice: finding.PracticeSecrets, Severity: finding.Info,
		Description: "The autolock unlock key should be rotated periodically and whenever someone who knew it leaves.",
		Remediation: "`docker swarm unlock-key --rotate` on a schedule.",
		References:  []string{"https://docs.docker.com/engine/swarm/swarm_manager_locking/#rotate-the-unlock-key"},
		Benchmark:   "Ensure that the swarm manager auto-lock key is rotated periodically",
		Manual:      true,
	},
	Check: func(p *Pass) {
		if !p.RequireSwarm() {
			return
		}
		if !p.needManager() {
			return
		}
		if c := p.engine().Info.Swarm.Cluster; c == nil || !c.Spec.EncryptionConfig.AutoLockManagers {
			p.Skip("not applicable: autolock is off (see DV4705)")
			return
		}
		p.Report(finding.Location{}, "Review when the swarm's unlock key was last rotated.")
	},
}

var ruleNodeCertRotation = &Rule{
	Rule: finding.Rule{
		ID: "DV4707", Title: "Swarm node certificate rotation to review", CIS: "7.7",
		Practice: finding.PracticeSecrets, Severity: finding.Info,
		Description: "Node certificates expire and are renewed automatically; a shorter expiry limits how long a stolen node certificate is useful.",
		Remediation: "Set the expiry with `docker swarm update --cert-expiry` to what your policy requires.",
		References:  []string{"https://docs.docker.com/reference/cli/docker/swarm/update/"},
		Benchmark:   "Ensure that node certificates are rotated as appropriate",
		Manual:      true,
	},
	Check: func(p *Pass) {
		if !p.RequireSwarm() {
			return
		}
		if !p.needManager() {
			return
		}
		expiry := "the default of 90 days"
		if c := p.engine().Info.Swarm.Cluster; c != nil && c.Spec.CAConfig.NodeCertExpiry > 0 {
			expiry = fmt.Sprintf("%g days", c.Spec.CAConfig.NodeCertExpiry.Hours()/24)
		}
		p.Note("node certificates expire after %s", expiry)
		p.Report(finding.Location{}, "Node certificates are renewed after %s; confirm that matches your policy.", expiry)
	},
}

var ruleSwarmCARotation = &Rule{
	Rule: finding.Rule{
		ID: "DV4708", Title: "Swarm CA rotation to review", CIS: "7.8",
		Practice: finding.PracticeSecrets, Severity: finding.Info,
		Description: "The swarm's root CA signs every node certificate; rotate it when a manager may have been compromised and on a schedule.",
		Remediation: "`docker swarm ca --rotate`.",
		References:  []string{"https://docs.docker.com/engine/swarm/how-swarm-mode-works/pki/#rotating-the-ca-certificate"},
		Benchmark:   "Ensure that CA certificates are rotated as appropriate",
		Manual:      true,
	},
	Check: func(p *Pass) {
		if !p.RequireSwarm() {
			return
		}
		if !p.needManager() {
			return
		}
		age := ""
		if c := p.engine().Info.Swarm.Cluster; c != nil && !c.CreatedAt.IsZero() {
			age = fmt.Sprintf(" (the swarm was created %s)", c.CreatedAt.UTC().Format(time.DateOnly))
		}
		p.Report(finding.Location{}, "Review when the swarm's root CA was last rotated%s.", age)
	},
}

var rulePlaneSeparation = &Rule{
	Rule: finding.Rule{
		ID: "DV4709", Title: "Swarm plane separation to review", CIS: "7.9",
		Practice: finding.PracticeNetwork, Severity: finding.Info,
		Description: "Management traffic (Raft, the API) and container traffic can use separate interfaces, so that a flood or sniffing on the data network does not reach the control plane.",
		Remediation: "Join or initialise with `--advertise-addr` on the management network and `--data-path-addr` on the data network.",
		References:  []string{"https://docs.docker.com/engine/swarm/networking/#use-a-separate-interface-for-control-and-data-traffic"},
		Benchmark:   "Ensure that management plane traffic is separated from data plane traffic",
		Manual:      true,
	},
	Check: func(p *Pass) {
		if !p.RequireSwarm() {
			return
		}
		addr := p.engine().Info.Swarm.NodeAddr
		p.Note("node address %s", addr)
		p.Report(finding.Location{}, "Review whether management and data traffic share the interface of %s.", addr)
	},
}
