package dockerfile

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/shell"
)

var refUser = []string{"https://docs.docker.com/build/building/best-practices/#user"}

var ruleNoUser = &Rule{
	Rule: finding.Rule{
		ID: "DV1001", Title: "Final stage runs as root (no USER)", Practice: finding.PracticeNonRoot, Severity: finding.High, CIS: "4.1",
		Peers: []string{"AVD-DS-0002"},
		Description: "The final stage never sets USER, so the container runs as the base image's user, which is root for almost every base image. " +
			"A process running as root inside a container is one kernel or runtime bug away from root on the host.",
		Remediation: "Create an unprivileged user and switch to it before CMD: `RUN useradd --uid 10001 --no-create-home app` and `USER 10001`, " +
			"or use a base image that already runs as non-root (e.g. distroless `:nonroot`).",
		References: refUser,
	},
	Check: func(p *Pass) {
		final := p.File.Final()
		if final.Windows {
			return // ContainerUser and ContainerAdministrator are not uid 0 and the rest
		}
		if _, ok := effectiveUser(final); ok {
			return
		}
		// Bases that are known to default to a non-root user.
		for _, s := range final.Chain() {
			if s.BaseStage == nil && nonRootBase(s.Base) {
				return
			}
		}
		if strings.EqualFold(baseStage(final).BaseRaw, "scratch") {
			p.Report(final.From, "The final stage is built FROM scratch and sets no USER, so its process runs as uid 0.")
			return
		}
		p.Report(final.From, "The final stage sets no USER, so the container runs as root unless the base image %s sets a non-root user.", quoteBase(final))
	},
}

var ruleRootUser = &Rule{
	Rule: finding.Rule{
		ID: "DV1002", Title: "Final USER is root", Practice: finding.PracticeNonRoot, Severity: finding.High, CIS: "4.1",
		Peers:       []string{"DL3002", "AVD-DS-0002"},
		Description: "The last USER of the final stage is root (`root`, `0`, `0:0`), so the container runs as root.",
		Remediation: "Switch back to an unprivileged user after the steps that need root: `USER 10001` (or a named user created in the image).",
		References:  refUser,
	},
	Check: func(p *Pass) {
		final := p.File.Final()
		in, ok := effectiveUser(final)
		if !ok || final.Windows {
			return
		}
		if u := in.Command.(*instructions.UserCommand).User; isRootUser(u) {
			p.Report(in, "USER %s is the last user of the final stage, so the container runs as root.", u)
		}
	},
}

// effectiveUser is the USER in force at the end of a stage, following FROM
// <stage> to earlier stages.
func effectiveUser(s *Stage) (*Instruction, bool) {
	for _, st := range s.Chain() {
		for i := len(st.Instructions) - 1; i >= 0; i-- {
			in := st.Instructions[i]
			if _, ok := in.Command.(*instructions.UserCommand); ok {
				return in, true
			}
		}
	}
	return nil, false
}

func isRootUser(u string) bool {
	name, _, _ := strings.Cut(strings.TrimSpace(u), ":")
	return name == "root" || name == "0"
}

// nonRootBase recognises images published to run as non-root by default.
func nonRootBase(ref string) bool {
	r := strings.ToLower(ref)
	switch {
	case strings.Contains(r, ":nonroot"), strings.Contains(r, "-nonroot"), strings.Contains(r, ":rootless"), strings.Contains(r, "-rootless"):
		return true
	case strings.HasPrefix(r, "cgr.dev/chainguard/") && !strings.Contains(r, "-dev"):
		return true // Chainguard images run as uid 65532 unless -dev
	}
	return false
}

// quoteBase names the image a stage is built on, as written when a
// variable leaves it unknown.
func quoteBase(s *Stage) string {
	if st := baseStage(s); st.Base != "" {
		return st.Base
	}
	return baseStage(s).BaseRaw
}

var ruleSudo = &Rule{
	Rule: finding.Rule{
		ID: "DV1003", Title: "sudo used in RUN", Practice: finding.PracticeNonRoot, Severity: finding.High,
		Peers:    []string{"DL3004", "AVD-DS-0010"},
		Surfaces: historySurfaces,
		Description: "RUN already runs as the current USER; `sudo` in a build means sudo is installed and configured in the image, " +
			"which hands root to anything that can run it at run time, and its TTY and environment handling makes builds unpredictable.",
		Remediation: "Run the step as root (`USER root` … `USER app`) instead of with sudo, and do not install sudo in the image. " +
			"To drop privileges in an entrypoint, use `gosu` or `su-exec`.",
		References: []string{"https://docs.docker.com/build/building/best-practices/#user"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if c.Name == "sudo" || c.Wrapped("sudo") {
					p.ReportCmd(in, c, "`sudo %s` runs in a build step; sudo in an image gives root to whoever can run it.", c.Name)
				}
			})
		}
	},
}

var ruleSu = &Rule{
	Rule: finding.Rule{
		ID: "DV1004", Title: "su used to switch user in RUN", Practice: finding.PracticeNonRoot, Severity: finding.Medium,
		Surfaces:    historySurfaces,
		Description: "`su` in a build step switches users through PAM and a login shell; it needs root or a password and hides which user a step really runs as.",
		Remediation: "Use the USER instruction to change the user of the following steps, or `gosu`/`su-exec` in an entrypoint.",
		References:  refUser,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if c.Name == "su" {
					p.ReportCmd(in, c, "`su` switches user inside a RUN; use USER instead.")
				}
			})
		}
	},
}

var ruleUserName = &Rule{
	Rule: finding.Rule{
		ID: "DV1005", Title: "Final USER is a name, not a numeric UID", Practice: finding.PracticeNonRoot, Severity: finding.Info,
		Peers:    []string{"DL3066"},
		Surfaces: historySurfaces,
		Description: "A USER given by name can only be resolved inside the image. Orchestrators that enforce non-root (Kubernetes `runAsNonRoot`, " +
			"admission policies) cannot verify a name and refuse or mis-judge the image; a numeric UID is unambiguous.",
		Remediation: "Give the numeric UID (and GID): `USER 10001:10001`.",
		References:  []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/"},
	},
	Check: func(p *Pass) {
		in, ok := effectiveUser(p.File.Final())
		if !ok || p.File.Final().Windows {
			return // Windows users have names, not UIDs
		}
		u := in.Command.(*instructions.UserCommand).User
		name, _, _ := strings.Cut(u, ":")
		if name == "" || isRootUser(u) || strings.Contains(name, "$") || strings.Trim(name, "0123456789") == "" {
			return
		}
		p.Report(in, "USER %s is a name; give its numeric UID so that non-root can be verified without the image.", u)
	},
}
