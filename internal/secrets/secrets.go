// Package secrets finds credentials in text: by their format (an AWS key, a
// GitHub token, a private key block) anywhere, and by context in NAME=VALUE
// assignments (ENV, ARG, LABEL, Compose environment, `docker run -e`).
// It judges values, not names alone: a path, a variable reference, a URL
// without credentials, a version, a fingerprint or a placeholder is not a
// secret, whatever the variable is called.
package secrets

import (
	"regexp"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Rule is one kind of secret recognised by its format.
type Rule struct {
	ID       string
	Title    string
	Severity finding.Severity
	// Keywords are lower-case strings one of which must occur for the
	// regular expression to be tried.
	Keywords []string
	Regex    *regexp.Regexp
	// Group is the submatch holding the secret (0: the whole match).
	Group int
	// Valid, when set, must accept the secret (checksums, structure).
	Valid func(secret string) bool
}

// Match is one secret found.
type Match struct {
	Rule *Rule
	// Secret is the secret itself. It must never be printed: use Masked.
	Secret string
	// Start and End are byte offsets of the secret in the scanned text.
	Start, End int
}

// Kind names what was found, with an article, for messages: "an AWS
// access key ID", "a literal credential".
func (m Match) Kind() string {
	if m.Rule == GenericRule {
		return "a literal credential"
	}
	t := m.Rule.Title
	if t == "" {
		return "a secret"
	}
	switch t[0] {
	case 'A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u':
		return "an " + t
	}
	return "a " + t
}

// Masked is the secret as it may be shown.
func (m Match) Masked() string { return finding.Mask(m.Secret) }

// Fingerprint names the secret for ignore entries without revealing it.
func (m Match) Fingerprint() string { return finding.Fingerprint(m.Rule.ID, m.Secret) }

// Scan finds secrets by format in text.
func Scan(text string) []Match {
	lower := strings.ToLower(text)
	var out []Match
	for _, r := range Rules {
		if !hasKeyword(lower, r.Keywords) {
			continue
		}
		for _, loc := range r.Regex.FindAllStringSubmatchIndex(text, -1) {
			s, e := loc[2*r.Group], loc[2*r.Group+1]
			if s < 0 {
				continue
			}
			secret := text[s:e]
			if IsPlaceholder(secret) || r.Valid != nil && !r.Valid(secret) {
				continue
			}
			out = append(out, Match{Rule: r, Secret: secret, Start: s, End: e})
		}
	}
	return out
}

func hasKeyword(lower string, kws []string) bool {
	if len(kws) == 0 {
		return true
	}
	for _, k := range kws {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}
