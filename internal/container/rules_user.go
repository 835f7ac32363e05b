package container

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

var refUser = []string{"https://docs.docker.com/engine/containers/run/#user", "https://docs.docker.com/engine/security/userns-remap/"}

// IsRootUser reports whether a user spec ("root", "0", "0:0", "root:app")
// names uid 0.
func IsRootUser(u string) bool {
	name, _, _ := strings.Cut(strings.TrimSpace(u), ":")
	return name == "root" || name == "0"
}

var ruleRootUser = &Rule{
	Rule: finding.Rule{
		ID: "DV3050", Title: "Container runs as root", Practice: finding.PracticeNonRoot, Severity: finding.High,
		Description: "The container's process runs as uid 0. Root in a container shares the host kernel with root on the host; one kernel or " +
			"runtime bug, or one extra capability or mount, and it is root on the host. A live container that runs as root only because " +
			"its image sets no USER (or USER root) gets DV3100 instead, which names the image.",
		Remediation: "Run as an unprivileged user: `user: \"10001:10001\"` (`--user 10001:10001`), or build the image with a non-root USER; " +
			"enable `userns-remap` or rootless Docker as a second line of defence.",
		References: refUser,
	},
	Check: func(p *Pass) {
		u := p.Spec.User
		switch {
		case p.Spec.UserFromImage:
			// The image's USER is the cause and the fix: DV3100 says so,
			// once, naming the image.
		case u.Set && IsRootUser(u.Value):
			p.Report(u.Src, "%s runs as root (user %s).", p.Who(), u.Value)
		case (!u.Set || strings.TrimSpace(u.Value) == "") && p.Spec.ImageDefaultsKnown:
			p.Report(u.Src, "%s runs as root: neither it nor its image sets a user.", p.Who())
		}
	},
}

var ruleUserUnset = &Rule{
	Rule: finding.Rule{
		ID: "DV3051", Title: "Container user not set", Practice: finding.PracticeNonRoot, Severity: finding.Medium,
		Description: "No user is given where the container is started, so it runs as the image's USER — root unless the image sets another. " +
			"The image cannot be seen from here; setting the user where the container is started makes non-root explicit and verifiable.",
		Remediation: "Set `user: \"10001:10001\"` (`--user 10001:10001`), or check that the image sets a non-root USER and say so with the same user here.",
		References:  refUser,
	},
	Check: func(p *Pass) {
		u := p.Spec.User
		if p.Spec.ImageDefaultsKnown || u.Set && strings.TrimSpace(u.Value) != "" {
			return
		}
		p.Report(u.Src, "%s sets no user, so it runs as root unless its image sets USER.", p.Who())
	},
}
