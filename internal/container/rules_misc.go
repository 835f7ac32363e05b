package container

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/secrets"
)

var ruleEnvSecret = &Rule{
	Rule: finding.Rule{
		ID: "DV3060", Title: "Secret in the container environment", Practice: finding.PracticeSecrets, Severity: finding.High,
		Description: "A credential is passed as an environment variable value written in the Compose file, an env file, the `docker run` line " +
			"or the container's configuration. It is readable by anyone who can read that file or run `docker inspect`, it is inherited by " +
			"every child process and often ends up in logs and crash reports.",
		Remediation: "Revoke and rotate it, and pass it as a secret instead: Compose `secrets:` with `file:` (the app reads /run/secrets/NAME, " +
			"or NAME_FILE), or a secret store. Keep env files with real values out of the repository.",
		References: []string{"https://docs.docker.com/compose/how-tos/use-secrets/", "https://docs.docker.com/reference/compose-file/secrets/"},
	},
	Check: func(p *Pass) {
		for _, e := range p.Spec.EffectiveEnv() {
			if !e.Known {
				continue
			}
			if m, ok := secrets.Assignment(e.Name, e.Value); ok {
				f := p.Report(e.Src, "%s gets %s in environment variable %s (%s).", p.Who(), m.Kind(), e.Name, m.Masked())
				f.Fingerprint = m.Fingerprint()
			}
		}
	},
}

// imageRef is the spec's image when it names something pulled from a
// registry and is fully known.
func imageRef(s *Spec) (policy.Image, bool) {
	ref := strings.TrimSpace(s.Image.Value)
	if !s.Image.Set || s.Build || ref == "" || strings.Contains(ref, "$") {
		return policy.Image{}, false
	}
	img, err := policy.ParseImage(ref)
	return img, err == nil
}

var refImages = []string{"https://docs.docker.com/reference/cli/docker/image/pull/#pull-an-image-by-digest-immutable-identifier"}

var ruleImageLatest = &Rule{
	Rule: finding.Rule{
		ID: "DV3070", Title: "Image without a tag or with :latest", Practice: finding.PracticeRegistry, Severity: finding.Medium,
		Description: "The container runs an image referenced without a tag or by `latest`: what runs is whatever the registry served on the " +
			"day of the pull, different hosts can run different code, and a bad push reaches you silently.",
		Remediation: "Name a version tag and pin its digest: `image: nginx:1.27@sha256:…`.",
		References:  refImages,
	},
	Check: func(p *Pass) {
		img, ok := imageRef(p.Spec)
		switch {
		case !ok || img.Digest != "" || p.Policy.RequiresDigest(img): // DV3073 reports it
		case img.Tag == "":
			p.Report(p.Spec.Image.Src, "%s runs image %s, which has no tag and so means :latest.", p.Who(), img.Raw)
		case img.Tag == "latest":
			p.Report(p.Spec.Image.Src, "%s runs image %s, with the mutable :latest tag.", p.Who(), img.Raw)
		}
	},
}

var ruleImageDigest = &Rule{
	Rule: finding.Rule{
		ID: "DV3071", Title: "Image not pinned by digest", Practice: finding.PracticeRegistry, Severity: finding.Low,
		Description: "A tag can be moved to other content at any time; only a digest names exactly the image that was reviewed and scanned.",
		Remediation: "Add the digest: `image: redis:7.4@sha256:…`, and let Renovate or Dependabot keep it current.",
		References:  refImages,
	},
	Check: func(p *Pass) {
		if img, ok := imageRef(p.Spec); ok && img.Digest == "" && img.Tag != "" && img.Tag != "latest" && !p.Policy.RequiresDigest(img) {
			p.Report(p.Spec.Image.Src, "%s runs image %s, pinned by tag only.", p.Who(), img.Raw)
		}
	},
}

var ruleImageTrusted = &Rule{
	Rule: finding.Rule{
		ID: "DV3072", Title: "Image from a registry outside the trusted list", Practice: finding.PracticeRegistry, Severity: finding.High, CIS: "4.2",
		Description: "The project's .dockvet.yaml lists trusted registries and this container's image comes from another one (the same policy " +
			"as Dockerfile FROM lines). Only checked when `trustedRegistries` is configured.",
		Remediation: "Use an image from a trusted registry (mirror it), or add the registry to `trustedRegistries` after review.",
		References:  []string{"https://docs.docker.com/docker-hub/repos/manage/trusted-content/"},
	},
	Check: func(p *Pass) {
		if !p.Policy.HasAllowList() {
			return
		}
		if img, ok := imageRef(p.Spec); ok && !p.Policy.Trusted(img) {
			p.Report(p.Spec.Image.Src, "%s runs image %s from %s, which is not in trustedRegistries.", p.Who(), img.Raw, img.Domain)
		}
	},
}

var rulePolicyDigest = &Rule{
	Rule: finding.Rule{
		ID: "DV3073", Title: "Image not pinned by digest as the trust policy requires", Practice: finding.PracticeRegistry, Severity: finding.High, CIS: "4.2",
		Description: "A `trust:` rule of .dockvet.yaml says images from this registry or repository run by digest only (`digests: required`), " +
			"and this container names a tag: which image runs depends on where the tag pointed when the host pulled it. The same rule " +
			"as Dockerfile FROM lines (DV1016); DV3070 and DV3071 give way to it for images the policy covers.",
		Remediation: "Name the image by digest: `image: registry.example.com/team/app:1.4@sha256:…` (`docker run …@sha256:…`), or set " +
			"`digests: optional` for this image's rule if tags are acceptable there.",
		References: refImages,
	},
	Check: func(p *Pass) {
		if img, ok := imageRef(p.Spec); ok && !img.Pinned() && p.Policy.RequiresDigest(img) {
			how := "the mutable tag :" + img.Tag
			if img.Tag == "" {
				how = "no tag at all (so :latest)"
			}
			p.Report(p.Spec.Image.Src, "%s runs image %s by %s, but the trust policy requires a digest for %s.", p.Who(), img.Raw, how, img.Repository)
		}
	},
}

var ruleSysctl = &Rule{
	Rule: finding.Rule{
		ID: "DV3080", Title: "Sysctl that weakens the host", Practice: finding.PracticeNamespaces, Severity: finding.Medium,
		Description: "The container sets a kernel parameter that is not confined to it: `kernel.*` parameters (shared memory and message queues) " +
			"change the host's when the IPC namespace is the host's, `net.*` parameters change the host's network stack when the container " +
			"uses the host network, and `route_localnet` lets traffic reach services bound to loopback.",
		Remediation: "Remove the sysctl, or set it on the host deliberately; never combine `net.*` sysctls with the host network.",
		References:  []string{"https://docs.docker.com/reference/cli/docker/container/run/#sysctl"},
	},
	Check: func(p *Pass) {
		hostNet := strings.EqualFold(p.Spec.Namespaces.Network.Value, "host")
		hostIPC := strings.EqualFold(p.Spec.Namespaces.IPC.Value, "host")
		for _, s := range p.Spec.Sysctls {
			name := strings.ToLower(strings.ReplaceAll(s.Name, "/", "."))
			switch {
			case strings.HasPrefix(name, "kernel.") && hostIPC:
				p.Report(s.Src, "%s sets %s=%s while sharing the host's IPC namespace, which changes it for the host.", p.Who(), s.Name, s.Value)
			case strings.HasPrefix(name, "kernel.") && !strings.HasPrefix(name, "kernel.msg") && !strings.HasPrefix(name, "kernel.sem") && !strings.HasPrefix(name, "kernel.shm"):
				p.Report(s.Src, "%s sets %s=%s, a kernel parameter that is not namespaced.", p.Who(), s.Name, s.Value)
			case strings.HasPrefix(name, "net.") && hostNet:
				p.Report(s.Src, "%s sets %s=%s on the host network, which changes the host's network stack.", p.Who(), s.Name, s.Value)
			case strings.HasSuffix(name, ".route_localnet") && s.Value == "1":
				p.Report(s.Src, "%s sets %s=1, which routes outside traffic to loopback-only services.", p.Who(), s.Name)
			}
		}
	},
}

var ruleLogging = &Rule{
	Rule: finding.Rule{
		ID: "DV3090", Title: "Container logging disabled", Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "The `none` logging driver throws away everything the container writes: there is nothing to investigate after an incident.",
		Remediation: "Use the daemon's default driver, or `json-file`/`local` with `max-size` and `max-file`, or ship logs to your collector.",
		References:  []string{"https://docs.docker.com/engine/logging/configure/"},
	},
	Check: func(p *Pass) {
		if l := p.Spec.Log; l.Set && strings.EqualFold(l.Value.Driver, "none") {
			p.Report(l.Src, "%s discards its logs (logging driver none).", p.Who())
		}
	},
}
