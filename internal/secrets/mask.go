package secrets

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// MaskText hides, in a line of text meant for a person (a finding's
// message, an excerpt of an instruction), every secret found by its format
// and every KEY=VALUE whose value is a credential, as Mask shows them.
func MaskText(s string) string {
	for _, m := range Scan(s) {
		s = strings.ReplaceAll(s, m.Secret, finding.Mask(m.Secret))
	}
	for _, tok := range strings.Fields(s) {
		k, v, ok := strings.Cut(strings.Trim(tok, `"';`), "=")
		v = strings.Trim(v, `"';`)
		if !ok || v == "" {
			continue
		}
		if _, secret := Assignment(strings.TrimLeft(k, "-"), v); secret {
			s = strings.ReplaceAll(s, v, finding.Mask(v))
		}
	}
	return s
}
