package secrets

import (
	"strings"
	"sync"

	"github.com/dockvet/dockvet/internal/finding"
)

// MaskText hides, in a line of text meant for a person (a finding's
// message, an excerpt of an instruction), every secret found by its format
// and every KEY=VALUE whose value is a credential, as Mask shows them.
func MaskText(s string) string {
	if len(s) > maxMemoText {
		return maskText(s)
	}
	masked.Lock()
	out, ok := masked.m[s]
	masked.Unlock()
	if ok {
		return out
	}
	out = maskText(s)
	masked.Lock()
	if len(masked.m) >= maxMemo {
		clear(masked.m)
	}
	masked.m[s] = out
	masked.Unlock()
	return out
}

// masked remembers MaskText's answers: a thousand Dockerfiles of one
// monorepo give thousands of findings but a hundred distinct messages,
// and each is scanned once. Bounded in entries and in the length of a
// text kept; it lives in memory only, like the text itself.
var masked = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

const (
	maxMemo     = 4096
	maxMemoText = 1024
)

func maskText(s string) string {
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
