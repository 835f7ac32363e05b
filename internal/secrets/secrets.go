// Package secrets finds credentials in text: by their format (an AWS key, a
// GitHub token, a private key block) anywhere, and by context in NAME=VALUE
// assignments (ENV, ARG, LABEL, Compose environment, `docker run -e`).
// It judges values, not names alone: a path, a variable reference, a URL
// without credentials, a version, a fingerprint or a placeholder is not a
// secret, whatever the variable is called.
//
// One Engine serves every surface. Each input is read once: a keyword index
// finds where a rule could match, and only that rule's regular expression
// runs, only on the text around the hit (see Engine).
package secrets

import (
	"fmt"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Rule is one kind of secret recognised by its format: its metadata (ID,
// Title, Severity, and a Description that says what the secret unlocks
// and how it is recognised; Meta adds what every secret rule shares) and
// the detection data the Engine runs. Secret formats are data for one
// keyword-indexed engine rather than check functions: the engine reads
// each input once for every rule.
type Rule struct {
	finding.Rule
	// Keywords are the strings one of which must occur for the regular
	// expression to be tried, at least three bytes long. A keyword in
	// lower case matches in any case; one with an upper-case letter
	// matches exactly ("SG." is SendGrid's prefix, "msg." is not).
	Keywords []string
	// Regex is matched at each keyword occurrence: it must begin with
	// what the keyword matches (a token's prefix, the start of a name),
	// and it is tried once there, anchored. Near rules instead search the
	// text around the keyword.
	Regex *Expr
	// Precheck, when set, is a cheap test of the text after a keyword
	// that must pass for Regex to be tried there (or, for a Near rule,
	// for the keyword to open a window): that a name is assigned
	// (assignment), that a URL has user information (urlUserinfo).
	// Keywords such as "token" or "://" occur thousands of times per
	// megabyte of code and logs; a few byte comparisons reject most of
	// them before the regular expression machine starts.
	Precheck func(rest []byte) bool
	// Closing, when set, is a literal every match holds after its
	// keyword, and nothing of a match lies more than closingTail bytes
	// past its first occurrence (a PEM block's "-----END "): the window
	// ends there, and where it does not occur the expression is not run.
	// A block's expression searches lazily for its end, so without it a
	// window that holds no end is searched to its last byte.
	Closing string
	// Near rules find their secret near a keyword rather than at it (an
	// AWS secret key a few lines from its key ID, a token in a line that
	// mentions Discord): Regex is searched for in the window that Before
	// and After bound.
	Near bool
	// Group is the submatch holding the secret (0: the whole match). A
	// submatch named "secret" takes precedence: the first one that
	// participated in the match is the secret, so alternatives may each
	// name theirs.
	Group int
	// Valid, when set, must accept the secret (checksums, structure).
	Valid func(secret string) bool
	// ValidName, when set, must accept the submatch named "name": the
	// variable or key the secret is assigned to (for a rule matched at its
	// keyword, with the part of the name before the keyword). A match
	// without that submatch is not judged by it.
	ValidName func(name string) bool
	// ValidHost, when set, must accept the submatch named "host" (the
	// host of a URL with a password).
	ValidHost func(host string) bool
	// MinEntropy is the least Shannon entropy (bits per character) the
	// secret must have; 0 disables the check.
	MinEntropy float64
	// Paths, when set, restricts the rule to files whose slash-separated
	// path matches (a .pypirc's "password =" means nothing elsewhere).
	Paths *Expr
	// MultiLine rules see text across line ends (PEM blocks, .netrc);
	// others see only the line of the keyword.
	MultiLine bool
	// After bounds, in bytes, the text after a keyword occurrence that
	// the expression sees (default 320); Before bounds the text before it
	// for Near rules (default 256).
	Before, After int
	// Boundary lists the characters that may not touch the secret on
	// either side: "ghp_…" inside a longer word is not a GitHub token.
	Boundary string
	// Fallback ranks how general a rule is. When two matches claim the
	// same bytes the least general wins: 0 is a specific format, 1 a
	// container that a specific format may fill (a .npmrc token, a URL
	// password in a PostgreSQL URL, a JWT), 2 a catch-all (a password in
	// any URL, a sensitive name with a literal value).
	Fallback int
}

// Default window around a keyword occurrence.
const (
	defaultBefore = 256
	defaultAfter  = 320
)

func (r *Rule) before() int {
	if r.Before > 0 {
		return r.Before
	}
	return defaultBefore
}

func (r *Rule) after() int {
	if r.After > 0 {
		return r.After
	}
	return defaultAfter
}

// Match is one secret found.
type Match struct {
	Rule *Rule
	// Secret is the secret itself. It must never be printed: use Masked.
	Secret string
	// Start and End are byte offsets of the secret in the scanned input.
	Start, End int
	// Line and Column (1-based; the column counts bytes) locate Start.
	// They are 0 when the input was not line-structured text (printable
	// strings pulled out of a binary file).
	Line, Column int
	// Severity is the rule's severity, lowered where the place says the
	// secret is less likely to be live (a test fixture, a vendored
	// package); Note then says why.
	Severity finding.Severity
	Note     string
	// stored stands in for Secret in a match restored from a result
	// cache (StoredMatch), which never holds the secret.
	stored *storedSecret
}

// Kind names what was found, with an article, for messages: "an AWS
// access key ID", "a literal credential".
func (m Match) Kind() string {
	if m.Rule == genericRule {
		return "a literal credential"
	}
	return withArticle(m.Rule.Title)
}

// withArticle puts "a" or "an" before a title, by how it is spoken:
// "an AWS key", "an RSA private key", "a GitHub token", "an npm token".
func withArticle(t string) string {
	if t == "" {
		return "a secret"
	}
	word := t
	if i := strings.IndexAny(t, " -"); i > 0 {
		word = t[:i]
	}
	an := false
	switch {
	case word == "npm" || word == "SSH" || word == "SSH2" || word == "HMAC":
		an = true
	case len(word) > 1 && isUpper(word[0]) && isUpper(word[1]):
		// An acronym is spelled out: "an RSA", "an SSH", "a JWT".
		an = strings.ContainsRune("AEFHILMNORSX", rune(word[0]))
	default:
		an = strings.ContainsRune("AEIOUaeiou", rune(word[0]))
	}
	// Common nouns lose their capital inside a sentence ("a password in
	// a URL"); names keep it ("a GitHub token").
	switch word {
	case "Private", "Certificate", "Encrypted", "Password", "Registry", "Client", "Bearer", "Credential", "Basic", "Connection":
		t = strings.ToLower(t[:1]) + t[1:]
	}
	if an {
		return "an " + t
	}
	return "a " + t
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// Masked is the secret as it may be shown.
func (m Match) Masked() string {
	if m.stored != nil {
		return m.stored.masked
	}
	return finding.Mask(m.Secret)
}

// Fingerprint names the secret for ignore entries without revealing it.
func (m Match) Fingerprint() string {
	if m.stored != nil {
		return m.stored.fingerprint
	}
	return finding.Fingerprint(m.Rule.ID, m.Secret)
}

// Describe is the finding message for a match in a file: where, what, and
// the masked value.
func (m Match) Describe(path string) string {
	where := path
	if m.Line > 0 {
		where = fmt.Sprintf("%s line %d, column %d", path, m.Line, m.Column)
	} else if path != "" {
		where = fmt.Sprintf("%s at byte %d", path, m.Start)
	}
	msg := fmt.Sprintf("%s holds %s (%s)", where, m.Kind(), m.Masked())
	if where == "" {
		msg = fmt.Sprintf("Found %s (%s)", m.Kind(), m.Masked())
	}
	if m.Note != "" {
		msg += "; " + m.Note
	}
	return msg + "."
}

// Finding turns a match into a finding of its secret rule: the severity is
// the match's, the line and column come from the match unless loc already
// has them, and the fingerprint is set. Surfaces that report under a rule
// of their own (a Dockerfile's DV1047) build the finding themselves and use
// Describe and Fingerprint.
func (m Match) Finding(target finding.Target, loc finding.Location) finding.Finding {
	meta := m.Rule.Meta()
	if loc.Line == 0 {
		loc.Line, loc.Column = m.Line, m.Column
	}
	f := finding.New(&meta, target, loc, m.Describe(loc.Path))
	f.Severity = m.Severity
	f.Fingerprint = m.Fingerprint()
	return f
}

// Scan finds secrets by format in text with the default engine. It
// reports secrets only, not informational matches such as certificates.
func Scan(text string) []Match {
	return Default().ScanBytes([]byte(text), "")
}
