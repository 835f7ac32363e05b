package host

import (
	"net/netip"
	"net/url"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
)

// Registry hygiene beyond CIS 2.5 (insecure registries, DV4205): mirrors
// the daemon reaches over plain HTTP, and running containers whose images
// came from a registry the daemon reaches without TLS. Plaintext
// credentials are DV4810; DOCKER_CONTENT_TRUST is DV4405.

var rulePlainMirror = &Rule{
	Rule: finding.Rule{
		ID: "DV4820", Title: "Registry mirror over plain HTTP",
		Practice: finding.PracticeRegistry, Severity: finding.High,
		Description: "The daemon pulls Docker Hub images through a mirror whose URL is http://: every image pulled by tag can be altered by anyone on the path, and the mirror's credentials travel in clear. (A pull by digest is still checked against the digest.) dockerd uses an http:// mirror as written, whatever `insecure-registries` says.",
		Remediation: "Serve the mirror over HTTPS (`\"registry-mirrors\": [\"https://mirror.example.com\"]`, its CA in /etc/docker/certs.d/HOST/ca.crt if private), then restart dockerd.",
		References:  []string{"https://docs.docker.com/docker-hub/image-library/mirror/", "https://docs.docker.com/reference/cli/dockerd/#registry-mirror"},
		Benchmark:   "Ensure registry mirrors are reached over HTTPS",
	},
	Check: func(p *Pass) {
		var mirrors []string
		if e := p.engine(); e != nil && e.Info.RegistryConfig != nil {
			mirrors = e.Info.RegistryConfig.Mirrors
		} else {
			if !p.needConfig() {
				return
			}
			mirrors = p.cfg().RegistryMirrors
		}
		var plain []string
		for _, m := range mirrors {
			u, err := url.Parse(strings.TrimSpace(m))
			if err == nil && strings.EqualFold(u.Scheme, "http") && !isLoopbackRegistry(u.Host) {
				plain = append(plain, m)
			}
		}
		if len(plain) > 0 {
			p.Report(p.at("registry-mirrors"), "The daemon pulls Docker Hub images through %s over plain HTTP: %s.",
				plural(len(plain), "mirror", "mirrors"), list(plain, 5))
		}
	},
}

var ruleInsecureImage = &Rule{
	Rule: finding.Rule{
		ID: "DV4821", Title: "Running container's image comes from a registry reached without TLS",
		Practice: finding.PracticeRegistry, Severity: finding.Medium,
		Description: "A running container's image is named after a registry the daemon treats as insecure (`insecure-registries`): it was pulled over plain HTTP or unverified TLS, so unless it was pulled by digest, what runs is whatever answered for that registry on the day of the pull.",
		Remediation: "Give the registry a certificate and remove it from `insecure-registries`; pull the image again by digest and recreate the container. A `trust:` rule with `signatures:` in .dockvet.yaml and `dockvet host --verify` check what runs against its signatures.",
		References:  []string{"https://docs.docker.com/reference/cli/dockerd/#insecure-registries", "https://docs.docker.com/engine/security/certificates/"},
		Benchmark:   "Ensure running images were not pulled over plain HTTP",
	},
	Check: func(p *Pass) {
		if !p.needEngine() {
			return
		}
		rc := p.engine().Info.RegistryConfig
		if rc == nil {
			p.Skip("not checked: the Engine did not report its registry configuration")
			return
		}
		for i := range p.engine().Containers {
			c := &p.engine().Containers[i]
			if c.Inspect.Config == nil {
				continue
			}
			img, err := policy.ParseImage(c.Inspect.Config.Image)
			if err != nil || isLoopbackRegistry(img.Domain) {
				continue
			}
			insecure := false
			if ic := rc.IndexConfigs[img.Domain]; ic != nil {
				insecure = !ic.Secure
			} else if host := registryHost(img.Domain); host.IsValid() {
				for _, cidr := range rc.InsecureRegistryCIDRs {
					if cidr.Contains(host) {
						insecure = true
					}
				}
			}
			if !insecure {
				continue
			}
			pinned := ""
			if img.Digest != "" {
				pinned = " (by digest, so its content was checked; the credentials sent to the registry were not protected)"
			}
			p.ReportContainer(c, "Container %s runs image %s from %s, which the daemon reaches over plain HTTP or unverified TLS%s.",
				c.label(), img.Raw, img.Domain, pinned)
		}
	},
}

// registryHost is the IP address a registry name is, when it is one.
func registryHost(domain string) netip.Addr {
	host := domain
	if ap, err := netip.ParseAddrPort(domain); err == nil {
		return ap.Addr()
	}
	if i := strings.LastIndex(host, ":"); i > 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	a, _ := netip.ParseAddr(strings.Trim(host, "[]"))
	return a
}
