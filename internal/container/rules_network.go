package container

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/ports"
)

var refPorts = []string{"https://docs.docker.com/engine/network/port-publishing/"}

var ruleSensitivePort = &Rule{
	Rule: finding.Rule{
		ID: "DV3040", Title: "Sensitive port published on all interfaces", Practice: finding.PracticeNetwork, Severity: finding.High, CIS: "5.14",
		Description: "A remote shell, the Docker API, a database, a cache, a broker or an admin interface is published on every host interface " +
			"(no host IP, or 0.0.0.0). Docker's published ports bypass host firewalls such as ufw, so the service faces whatever network the host is on.",
		Remediation: "Do not publish the port if only other containers use it (they reach it over the Compose network); otherwise bind it to " +
			"loopback or a private address: `127.0.0.1:5432:5432`.",
		References: refPorts,
	},
	Check: func(p *Pass) {
		if strings.EqualFold(p.Spec.Namespaces.Network.Value, "host") {
			return // ports are ignored with the host network; DV3013 reports it
		}
		for _, pt := range p.Spec.Ports {
			if !pt.AllInterfaces() {
				continue
			}
			to := pt.ContainerTo
			if to < pt.Container {
				to = pt.Container
			}
			for _, port := range ports.SensitiveIn(ports.Range{From: pt.Container, To: to, Proto: pt.Proto}) {
				svc, _ := ports.Lookup(port)
				p.Report(pt.Src, "%s publishes port %d (%s) on all host interfaces (%s).", p.Who(), port, svc.Name, pt.String())
			}
		}
	},
}

// webPorts are the privileged ports a reverse proxy is expected to take.
var webPorts = map[int]bool{80: true, 443: true}

var rulePrivilegedPort = &Rule{
	Rule: finding.Rule{
		ID: "DV3041", Title: "Privileged host port published", Practice: finding.PracticeNetwork, Severity: finding.Low, CIS: "5.8",
		Description: "A host port below 1024 is published. Ports below 1024 are reserved for system services; taking one from a container " +
			"invites confusion with (or impersonation of) a host service. HTTP and HTTPS (80, 443) on a reverse proxy are the expected exception.",
		Remediation: "Publish on a port of 1024 or above (`8080:80`) and let a reverse proxy or load balancer own the well-known port.",
		References:  refPorts,
	},
	Check: func(p *Pass) {
		for _, pt := range p.Spec.Ports {
			if pt.HostFrom > 0 && pt.HostFrom < 1024 && !webPorts[pt.HostFrom] {
				p.Report(pt.Src, "%s publishes privileged host port %d (%s).", p.Who(), pt.HostFrom, pt.String())
			}
		}
	},
}

var rulePublishAll = &Rule{
	Rule: finding.Rule{
		ID: "DV3042", Title: "Every exposed port published", Practice: finding.PracticeNetwork, Severity: finding.Low, CIS: "5.9",
		Description: "`-P` / `--publish-all` publishes every port the image EXPOSEs, on every host interface, on random host ports: " +
			"what is reachable depends on the image, not on this command.",
		Remediation: "Publish the ports you need explicitly, bound to an address: `-p 127.0.0.1:8080:8080`.",
		References:  refPorts,
	},
	Check: func(p *Pass) {
		if s := p.Spec.PublishAll; s.Set && s.Value {
			p.Report(s.Src, "%s publishes every port its image exposes on all interfaces (-P).", p.Who())
		}
	},
}
