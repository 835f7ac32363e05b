package compose

import (
	"fmt"
	"strings"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/secrets"
)

// AuditOptions configure an audit.
type AuditOptions struct {
	Policy *policy.Policy
	// Enabled filters rules; nil runs all.
	Enabled func(*finding.Rule) bool
}

// Target is what the project's findings belong to: its main file.
func (p *Project) Target() finding.Target {
	return finding.Target{Kind: finding.SurfaceCompose, Name: p.Files[0]}
}

// Audit runs the container rules over every service and job, and the
// project rules over the top-level secrets and configs.
func (p *Project) Audit(opts AuditOptions) []finding.Finding {
	var out []finding.Finding
	for _, s := range p.Specs {
		out = append(out, container.Check(s, container.Options{Target: p.Target(), Policy: opts.Policy, Enabled: opts.Enabled})...)
	}
	if opts.Enabled == nil || opts.Enabled(&ruleStoredSecret) {
		out = append(out, p.storedSecrets()...)
	}
	return out
}

// Catalog is the metadata of the rules only Compose projects have.
func Catalog() []finding.Rule { return []finding.Rule{ruleStoredSecret} }

var ruleStoredSecret = finding.Rule{
	ID: "DV3061", Title: "Compose secret or config value stored in the project", Practice: finding.PracticeSecrets, Severity: finding.High,
	Surfaces: []finding.Surface{finding.SurfaceCompose},
	Description: "A top-level secret or config gets a credential from the project itself: inline `content:`, or `environment:` naming a " +
		"variable that the project's .env file sets. The value then sits in the repository next to the Compose file. A secret with " +
		"`file:` pointing at a file kept out of version control, or `environment:` filled by the deployment, is the right way.",
	Remediation: "Revoke and rotate the credential, remove it from the project, and declare the secret with `file: ./secrets/NAME` " +
		"(listed in .gitignore) or `environment:` set by the deployment environment.",
	References: []string{"https://docs.docker.com/reference/compose-file/secrets/", "https://docs.docker.com/compose/how-tos/use-secrets/"},
}

// storedSecrets checks top-level secrets and configs.
func (p *Project) storedSecrets() []finding.Finding {
	var out []finding.Finding
	report := func(src container.Source, fp, format string, args ...any) {
		f := finding.New(&ruleStoredSecret, p.Target(), finding.Location{Path: src.Path, Line: src.Line}, fmt.Sprintf(format, args...))
		f.Fingerprint = fp
		out = append(out, f)
	}
	type object struct {
		kind, name, env, content string
	}
	var objs []object
	for _, name := range sortedKeys(p.Model.Secrets) {
		s := p.Model.Secrets[name]
		objs = append(objs, object{"secret", name, s.Environment, s.Content})
	}
	for _, name := range sortedKeys(p.Model.Configs) {
		c := p.Model.Configs[name]
		objs = append(objs, object{"config", name, c.Environment, c.Content})
	}
	for _, o := range objs {
		top := o.kind + "s"
		switch {
		case o.env != "":
			d, ok := p.env.defs[o.env]
			val := p.env.values[o.env]
			if !ok || !secrets.LiteralSecret(val) {
				continue // set by whoever deploys the project
			}
			where, _ := p.loc.find([]string{top, o.name, "environment"}, "")
			report(container.Source{Path: d.path, Line: d.line}, finding.Fingerprint(ruleStoredSecret.ID, val),
				"%s %s takes its value from %s, which %s sets to a credential in the project (%s; declared in %s line %d).",
				capital(o.kind), o.name, o.env, d.path, finding.Mask(val), where.Path, where.Line)
		case o.content != "":
			m, ok := contentSecret(o.content)
			if !ok {
				continue
			}
			where, _ := p.loc.find([]string{top, o.name, "content"}, "")
			report(where, m.Fingerprint(), "%s %s has %s written inline in its content (%s).", capital(o.kind), o.name, m.Kind(), m.Masked())
		}
	}
	return out
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
