package image

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/ports"
	"github.com/dockvet/dockvet/internal/secrets"
)

var refUser = []string{"https://docs.docker.com/build/building/best-practices/#user"}

// userName splits the config's User ("app", "1000:1000", "root:root").
func userName(u string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(u), ":")
	return name
}

var ruleRootUser = &Rule{
	Rule: finding.Rule{
		ID: "DV2001", Title: "Image runs as root", Practice: finding.PracticeNonRoot, Severity: finding.High, CIS: "4.1",
		Description: "The image's configured user is root: no User at all, `root`, `0`, `0:0`, or a name that /etc/passwd gives UID 0. " +
			"Every container started from it runs as root unless the runtime overrides the user, and a process running as root " +
			"inside a container is one kernel or runtime bug away from root on the host.",
		Remediation: "Create an unprivileged user in the image and set it last: `RUN useradd --uid 10001 --no-create-home app` and `USER 10001`; " +
			"or build from a base that runs as non-root (distroless `:nonroot`, Chainguard).",
		References: refUser,
	},
	Check: func(p *Pass) {
		u := strings.TrimSpace(p.Image.Config.User)
		name := userName(u)
		switch {
		case u == "":
			p.Report("The image sets no user, so its containers run as root.")
		case name == "root" || name == "0":
			p.Report("The image's user is %s, so its containers run as root.", u)
		default:
			accts, _ := p.Image.Accounts()
			for _, a := range accts {
				if a.Name == name && a.UID == 0 {
					p.Report("The image's user %s has UID 0 in /etc/passwd, so its containers run as root.", name)
					return
				}
			}
		}
	},
}

var ruleUnknownUser = &Rule{
	Rule: finding.Rule{
		ID: "DV2002", Title: "Image user missing from /etc/passwd", Practice: finding.PracticeHygiene, Severity: finding.Medium,
		Description: "The image's user is a name that /etc/passwd does not define. The runtime resolves names inside the image, " +
			"so a container fails to start with `unable to find user`, and anyone who fixes that in a hurry tends to fall back to root.",
		Remediation: "Create the user in the image (`RUN useradd --uid 10001 app`) or set a numeric UID (`USER 10001`), which needs no entry.",
		References:  refUser,
	},
	Check: func(p *Pass) {
		name := userName(p.Image.Config.User)
		if name == "" || name == "root" || strings.Trim(name, "0123456789") == "" || strings.Contains(name, "$") {
			return
		}
		accts, f := p.Image.Accounts()
		if f == nil {
			return // no /etc/passwd at all: distroless-style images use numeric users
		}
		for _, a := range accts {
			if a.Name == name {
				return
			}
		}
		p.Report("The image's user %s is not defined in /etc/passwd, so containers fail to start.", name)
	},
}

var refSecrets = []string{"https://docs.docker.com/build/building/secrets/"}

var ruleEnvSecret = &Rule{
	Rule: finding.Rule{
		ID: "DV2003", Title: "Secret in the image environment", Practice: finding.PracticeSecrets, Severity: finding.Critical, CIS: "4.10",
		Description: "An environment variable of the image configuration holds a credential. The configuration is readable by anyone " +
			"who can pull the image (`docker inspect`) and is inherited by every process in every container.",
		Remediation: "Revoke and rotate the credential, remove it from the image's ENV, and pass it only where it is needed: " +
			"`RUN --mount=type=secret` at build time, or a runtime secret (Docker/Compose secrets, a vault) for the container.",
		References: refSecrets,
	},
	Check: func(p *Pass) {
		for _, kv := range p.Image.Config.Env {
			k, v, _ := strings.Cut(kv, "=")
			if m, ok := secrets.Assignment(k, v); ok {
				p.reportSecret(finding.Location{}, m, "Environment variable %s holds %s (%s).", display(k), m.Kind(), m.Masked())
			}
		}
	},
}

var ruleLabelSecret = &Rule{
	Rule: finding.Rule{
		ID: "DV2004", Title: "Secret in an image label", Practice: finding.PracticeSecrets, Severity: finding.High, CIS: "4.10",
		Description: "A label of the image configuration holds a credential. Labels are public metadata: registries, " +
			"`docker inspect` and every inventory tool show them.",
		Remediation: "Revoke and rotate the credential, remove it from the image's labels, and pass it only where it is needed: " +
			"`RUN --mount=type=secret` at build time, or a runtime secret (Docker/Compose secrets, a vault) for the container.",
		References: refSecrets,
	},
	Check: func(p *Pass) {
		for _, k := range sortedKeys(p.Image.Config.Labels) {
			if m, ok := secrets.Assignment(k, p.Image.Config.Labels[k]); ok {
				p.reportSecret(finding.Location{}, m, "Label %s holds %s (%s).", display(k), m.Kind(), m.Masked())
			}
		}
	},
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var refExpose = []string{"https://docs.docker.com/reference/dockerfile/#expose"}

// exposedClass reports the image's exposed ports of one class of
// service; the classes and severities are those of the Dockerfile EXPOSE
// rules.
type exposedClass struct{ class ports.Class }

func (e exposedClass) check(p *Pass) {
	for _, raw := range sortedPorts(p.Image.Config.ExposedPorts) {
		r, err := ports.ParseRange(raw)
		if err != nil {
			continue
		}
		for _, port := range ports.SensitiveIn(r) {
			if s, _ := ports.Lookup(port); s.Class == e.class {
				p.Report("The image exposes %s (%s).", raw, s.Name)
			}
		}
	}
}

func sortedPorts(m map[string]struct{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		pa, _ := strconv.Atoi(strings.Split(strings.Split(a, "/")[0], "-")[0])
		pb, _ := strconv.Atoi(strings.Split(strings.Split(b, "/")[0], "-")[0])
		if pa != pb {
			return pa - pb
		}
		return strings.Compare(a, b)
	})
	return keys
}

var ruleExposeShell = &Rule{
	Rule: finding.Rule{
		ID: "DV2006", Title: "Remote shell port exposed", Practice: finding.PracticeNetwork, Severity: finding.Medium, CIS: "5.7",
		Description: "The image exposes a remote-login port (SSH, telnet, RDP, VNC). A container should not run a login service: it is one more way in, " +
			"with credentials to manage, and `docker exec` already gives operators a shell.",
		Remediation: "Remove the login server and its EXPOSE; use `docker exec` (or the orchestrator's exec) to debug.",
		References:  refExpose,
	},
	Check: exposedClass{class: ports.Shell}.check,
}

var ruleExposeDocker = &Rule{
	Rule: finding.Rule{
		ID: "DV2007", Title: "Docker API port exposed", Practice: finding.PracticeNetwork, Severity: finding.High,
		Description: "The image exposes the Docker daemon's TCP port (2375 plain, 2376 TLS, 2377 Swarm). Whoever reaches a Docker API controls the host.",
		Remediation: "Do not run or expose a Docker daemon in an application image; a daemon that must be reachable listens on a Unix socket or on TLS with client certificates.",
		References:  refExpose,
	},
	Check: exposedClass{class: ports.Docker}.check,
}

var ruleExposeDB = &Rule{
	Rule: finding.Rule{
		ID: "DV2008", Title: "Database port exposed", Practice: finding.PracticeNetwork, Severity: finding.Low,
		Description: "The image exposes a database, cache or broker port. That documents the service as reachable; it must then be published only on private networks.",
		Remediation: "Keep the EXPOSE only if other containers need the port, and publish it on a private network or 127.0.0.1, never on all interfaces.",
		References:  refExpose,
	},
	Check: exposedClass{class: ports.Database}.check,
}

var ruleExposeAdmin = &Rule{
	Rule: finding.Rule{
		ID: "DV2009", Title: "Cluster or admin API port exposed", Practice: finding.PracticeNetwork, Severity: finding.Medium,
		Description: "The image exposes an administrative or control-plane port (etcd, kubelet, Kubernetes API, Consul, Vault, NFS, SMB, …).",
		Remediation: "Expose control-plane ports only from images that are that control plane, and publish them only on private networks.",
		References:  refExpose,
	},
	Check: exposedClass{class: ports.Admin}.check,
}

var ruleNoHealthcheck = &Rule{
	Rule: finding.Rule{
		ID: "DV2010", Title: "No HEALTHCHECK", Practice: finding.PracticeHygiene, Severity: finding.Low, CIS: "4.6",
		Description: "The image defines no health check (or disables it with HEALTHCHECK NONE). The Engine then only knows whether the " +
			"process runs, not whether it works, so a hung service is never restarted or taken out of rotation.",
		Remediation: "Add a check that exercises the service: `HEALTHCHECK --interval=30s --timeout=3s CMD [\"/app\", \"healthcheck\"]`; " +
			"leave it out only where the orchestrator probes health itself.",
		References: []string{"https://docs.docker.com/reference/dockerfile/#healthcheck"},
	},
	Check: func(p *Pass) {
		hc := p.Image.Config.Healthcheck
		switch {
		case hc == nil || len(hc.Test) == 0:
			p.Report("The image defines no HEALTHCHECK.")
		case strings.EqualFold(hc.Test[0], "NONE"):
			p.Report("The image disables health checks (HEALTHCHECK NONE).")
		}
	},
}

var ruleStale = &Rule{
	Rule: finding.Rule{
		ID: "DV2011", Title: "Image built long ago", Practice: finding.PracticeUpdate, Severity: finding.Low,
		Description: "The image was built longer ago than the configured age (180 days by default). Its packages carry every fix " +
			"published since only if it is rebuilt; an old build is a list of known vulnerabilities waiting to be found.",
		Remediation: "Rebuild the image regularly (a scheduled CI build with `--pull` and without cache for the package steps), and redeploy.",
		References:  []string{"https://docs.docker.com/build/building/best-practices/#rebuild-your-images-often"},
	},
	Check: func(p *Pass) {
		cf := p.Image.Image.Config
		if cf == nil || cf.Created.IsZero() || cf.Created.Year() <= 1980 {
			return // reproducible builds record the epoch: no date to judge
		}
		age := p.Now.Sub(cf.Created.Time)
		if age > p.Settings.MaxAge {
			p.Report("The image was built on %s, %d days ago (more than %d).", cf.Created.UTC().Format("2006-01-02"),
				int(age.Hours()/24), int(p.Settings.MaxAge.Hours()/24))
		}
	},
}

var ruleUntrusted = &Rule{
	Rule: finding.Rule{
		ID: "DV2014", Title: "Image from a registry outside the trusted list", Practice: finding.PracticeRegistry, Severity: finding.High, CIS: "4.2",
		Description: "The project's trusted registries (`trustedRegistries` in .dockvet.yaml) do not include the registry this image is named after.",
		Remediation: "Mirror the image into a trusted registry and use it from there, or add its registry to `trustedRegistries` after review.",
		References:  []string{"https://docs.docker.com/docker-hub/image-library/trusted-content/"},
	},
	Check: func(p *Pass) {
		name := p.Image.Image.Name
		if name == "" || !p.Policy.HasAllowList() {
			return
		}
		img, err := policy.ParseImage(name)
		if err != nil {
			return
		}
		if !p.Policy.Trusted(img) {
			p.Report("%s comes from %s, which is not a trusted registry.", img.Named(), img.Domain)
		}
	},
}

// plural is "1 file" / "3 files".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
