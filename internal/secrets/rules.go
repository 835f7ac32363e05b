package secrets

import (
	"regexp"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Rules are the built-in secret rules, sorted by ID. Their regular
// expressions, keywords and validators are documented rule by rule in the
// rules_*.go files; docs/rules.md is generated from them.
var Rules = sortedRules(keyRules, cloudRules, codeRules, registryRules, chatRules, paymentRules, serviceRules, connRules, fileRules, []*Rule{GenericRule})

func sortedRules(groups ...[]*Rule) []*Rule {
	var out []*Rule
	for _, g := range groups {
		out = append(out, g...)
	}
	slices.SortFunc(out, func(a, b *Rule) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Characters that may not touch a token on either side: a token inside a
// longer word is not that token.
const (
	tokenChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	alnumChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// re compiles a rule's regular expression.
func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// assign matches `NAME <op> VALUE` from a keyword in the name: the name
// starts with ctx (matched case-insensitively; what precedes the keyword
// in the name is added by the engine) assigned with =, :=, :, =>, ?= or a comma (env files,
// YAML, JSON, TOML, shell, code), the value optionally quoted. The value
// pattern val is case-sensitive and is the secret.
func assign(ctx, val string) *regexp.Regexp { return regexp.MustCompile(assignPattern(ctx, val)) }

// assignPattern is assign's expression, to combine with alternatives.
func assignPattern(ctx, val string) string {
	return `(?:(?i)(?P<name>(?:` + ctx + `)[\w.-]*)(?:["']|\\")?[ \t]*(?:=|:=|:|=>|\?=|,)[ \t]*(?:["'\x60]|\\")?(?P<secret>(?-i:` + val + `)))`
}

// Surfaces on which a secret can be found.
var secretSurfaces = []finding.Surface{finding.SurfaceDockerfile, finding.SurfaceImage, finding.SurfaceCompose, finding.SurfaceContainer}

// Meta is the catalog entry of a secret rule.
func (r *Rule) Meta() finding.Rule {
	desc := r.Description
	if desc != "" && !strings.HasSuffix(desc, ".") {
		desc += "."
	}
	if desc != "" {
		desc += " "
	}
	desc += "Found in a place that ends up in an image, a container's configuration, or a repository, anyone who can pull the image " +
		"or read the file can use it; deleting it in a later layer does not remove it."
	rem := "Revoke and rotate the credential, remove it from the source, and pass it at build time with " +
		"`RUN --mount=type=secret` or at run time with a secret store (Docker/Compose secrets, a vault)."
	if r.Severity == finding.Info {
		desc = r.Description + ". Public by design; reported for inventory only, when informational matches are asked for."
		rem = "Nothing to do unless the matching private key is stored next to it."
	}
	return finding.Rule{
		ID: r.ID, Title: r.Title, Practice: finding.PracticeSecrets, Severity: r.Severity,
		Surfaces:    slices.Clone(secretSurfaces),
		CIS:         "4.10",
		Description: desc,
		Remediation: rem,
		References:  []string{"https://docs.docker.com/build/building/secrets/"},
	}
}

// Catalog lists the metadata of every secret rule.
func Catalog() []finding.Rule {
	out := make([]finding.Rule, 0, len(Rules))
	for _, r := range Rules {
		out = append(out, r.Meta())
	}
	return out
}
