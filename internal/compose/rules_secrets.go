package compose

import (
	"strings"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/secrets"
)

var ruleStoredSecret = &Rule{
	Rule: finding.Rule{
		ID: "DV3061", Title: "Compose secret or config value stored in the project", Practice: finding.PracticeSecrets, Severity: finding.High,
		Description: "A top-level secret or config gets a credential from the project itself: inline `content:`, or `environment:` naming a " +
			"variable that the project's .env file sets. The value then sits in the repository next to the Compose file. A secret with " +
			"`file:` pointing at a file kept out of version control, or `environment:` filled by the deployment, is the right way.",
		Remediation: "Revoke and rotate the credential, remove it from the project, and declare the secret with `file: ./secrets/NAME` " +
			"(listed in .gitignore) or `environment:` set by the deployment environment.",
		References: []string{"https://docs.docker.com/reference/compose-file/secrets/", "https://docs.docker.com/compose/how-tos/use-secrets/"},
	},
	Check: checkStoredSecrets,
}

// checkStoredSecrets looks at the top-level secrets and configs: a value
// taken from a variable the project's env files set to a credential, or a
// credential written inline in `content:`.
func checkStoredSecrets(p *Pass) {
	pr := p.Project
	type object struct {
		kind, name, env, content string
	}
	var objs []object
	for _, name := range sortedKeys(pr.Model.Secrets) {
		s := pr.Model.Secrets[name]
		objs = append(objs, object{"secret", name, s.Environment, s.Content})
	}
	for _, name := range sortedKeys(pr.Model.Configs) {
		c := pr.Model.Configs[name]
		objs = append(objs, object{"config", name, c.Environment, c.Content})
	}
	for _, o := range objs {
		top := o.kind + "s"
		switch {
		case o.env != "":
			d, ok := pr.env.defs[o.env]
			val := pr.env.values[o.env]
			if !ok || !secrets.LiteralSecret(val) {
				continue // set by whoever deploys the project
			}
			where, _ := pr.loc.find([]string{top, o.name, "environment"}, "")
			f := p.Report(container.Source{Path: d.path, Line: d.line},
				"%s %s takes its value from %s, which %s sets to a credential in the project (%s; declared in %s line %d).",
				capital(o.kind), o.name, o.env, d.path, finding.Mask(val), where.Path, where.Line)
			f.Fingerprint = finding.Fingerprint(p.Rule().ID, val)
		case o.content != "":
			m, ok := contentSecret(o.content)
			if !ok {
				continue
			}
			where, _ := pr.loc.find([]string{top, o.name, "content"}, "")
			f := p.Report(where, "%s %s has %s written inline in its content (%s).", capital(o.kind), o.name, m.Kind(), m.Masked())
			f.Fingerprint = m.Fingerprint()
		}
	}
}

// contentSecret finds a credential in inline content: by its format, or
// as NAME=VALUE / NAME: VALUE on a line.
func contentSecret(content string) (secrets.Match, bool) {
	if ms := secrets.Scan(content); len(ms) > 0 {
		return ms[0], true
	}
	for _, line := range strings.Split(content, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v, ok = strings.Cut(line, ":")
		}
		if ok {
			if m, found := secrets.Assignment(strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)); found {
				return m, true
			}
		}
	}
	return secrets.Match{}, false
}

func capital(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

var ruleEscape = &Rule{
	Rule: finding.Rule{
		ID: "DV3063", Title: "Compose file reads a file outside the project directory", Practice: finding.PracticeSecrets, Severity: finding.High,
		Description: "An `env_file`, the project's `.env`, an `include` or an `extends` file lies outside the project directory: an absolute " +
			"path (`include: [/etc/shadow]`), a `../` path that climbs out, or a symbolic link that points out of the project. " +
			"Whoever runs `docker compose` then feeds a file of their own machine — a credentials file, a key — into the project's " +
			"containers or configuration, and a repository cannot be audited by what it holds. dockvet does not read such a file.",
		Remediation: "Keep env files, included and extended Compose files inside the project directory (a symbolic link must point inside " +
			"it too), or pass host-specific values through the deployment environment (`docker compose --env-file`).",
		References: []string{"https://docs.docker.com/reference/compose-file/services/#env_file", "https://docs.docker.com/reference/compose-file/include/"},
	},
	Check: checkEscapes,
}

// checkEscapes reports every file reference that leaves the project
// directory; the loader has already left those files unread.
func checkEscapes(p *Pass) {
	seen := map[Escape]bool{}
	for _, e := range p.Project.Escapes {
		if seen[e] {
			continue
		}
		seen[e] = true
		if e.Kind == ".env" {
			p.Report(e.Src, "The project's .env leads outside the project directory (to %s); it was not read.", e.Ref)
			continue
		}
		p.Report(e.Src, "%s %s leaves the project directory; it was not read.", e.Kind, p.Project.display(e.Ref))
	}
}
