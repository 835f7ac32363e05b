package secrets

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/dockvet/dockvet/internal/finding"
)

// quotedRe finds the excerpts parsers quote in their errors: "…", `…`,
// and '…' without spaces (a quote in prose, "can't", has a space after).
var quotedRe = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`|'[^'\\s]+'")

// MaskError rewrites a message built from outside input — a parser's or a
// library's error quoting the line it choked on (compose-go, dotenv, YAML,
// BuildKit, JSON, templates) — before it reaches standard error or a
// report: every secret MaskText finds is masked, and so is every quoted
// excerpt that could hold one (an assignment, a token-like word, a long
// stretch of a line). Short names (`unknown key "foo"`) stay readable.
//
// Unquoted, a word long enough to be a token that mixes letters and
// digits is masked too ("invalid containerPort: <value>"); paths, digests
// and URLs, which name where the problem is, are kept.
func MaskError(s string) string {
	s = MaskText(s)
	s = quotedRe.ReplaceAllStringFunc(s, func(q string) string {
		inner := q[1 : len(q)-1]
		if !mayHoldSecret(inner) {
			return q
		}
		return q[:1] + finding.Mask(inner) + q[len(q)-1:]
	})
	return tokenRe.ReplaceAllStringFunc(s, func(w string) string {
		if !tokenLike(w) {
			return w
		}
		return finding.Mask(w)
	})
}

// tokenRe finds unquoted words: runs of the characters tokens are made of.
var tokenRe = regexp.MustCompile(`[A-Za-z0-9_+/=.:~-]{20,}`)

// tokenLike says whether an unquoted word looks like a token rather than a
// path, a digest, a URL or a name.
func tokenLike(w string) bool {
	if strings.HasSuffix(w, "****") || strings.HasPrefix(w, "/") || strings.HasPrefix(w, ".") ||
		strings.Contains(w, "://") || strings.HasPrefix(w, "sha256:") || strings.HasPrefix(w, "sha512:") ||
		strings.Count(w, "/") > 1 || strings.Count(w, ".") > 1 {
		return false
	}
	lower, upper, digit, _ := charKinds(w)
	// Mixed case and digits: what random tokens are, and names rarely.
	return lower && upper && digit
}

// mayHoldSecret says whether a quoted excerpt could be (or contain) a
// credential: an assignment with a value, a long stretch of text, or one
// word of letters mixed with digits long enough to be a token.
func mayHoldSecret(x string) bool {
	if strings.HasSuffix(x, "****") {
		return false // masked already
	}
	if len(x) > 40 {
		return true
	}
	if len(x) > 7 && strings.HasSuffix(x, "...") {
		return true // a value the parser cut short: the start of it shows
	}
	// An assignment whose value is one word long enough to be a
	// credential ("Name: value" in a usage message is not).
	if i := strings.IndexAny(x, "=:"); i > 0 {
		if v := strings.TrimSpace(x[i+1:]); len(v) >= 8 && !strings.ContainsAny(v, " \t") {
			return true
		}
	}
	if len(x) < 12 || strings.ContainsAny(x, " \t") {
		return false
	}
	var letter, digit bool
	for _, r := range x {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r):
			digit = true
		}
	}
	return letter && digit
}
