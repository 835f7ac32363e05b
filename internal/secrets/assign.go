package secrets

import (
	"math"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// Assignment judges NAME=VALUE. A value in a known secret format is a secret
// whatever its name; otherwise the name must say "secret" (password, token,
// api key, …) and the value must look like a real one.
//
// The value is scanned together with its name (`NAME=VALUE`), so rules that
// need the name see it ("AWS_SECRET_ACCESS_KEY=…" is an AWS secret access
// key, not just a literal credential); offsets are those of the value.
func Assignment(name, value string) (Match, bool) {
	v := strings.TrimSpace(value)
	if v == "" {
		return Match{}, false
	}
	prefix := name + "="
	for _, m := range Default().ScanBytes([]byte(prefix+v), "") {
		if m.Start >= len(prefix) {
			m.Start -= len(prefix)
			m.End -= len(prefix)
			m.Line, m.Column = 1, m.Start+1
			return m, true
		}
	}
	if !SensitiveName(name) || !LiteralSecret(v) {
		return Match{}, false
	}
	return Match{Rule: genericRule, Secret: v, Start: 0, End: len(v), Line: 1, Column: 1, Severity: genericRule.Severity}, true
}

// Tokens of a variable name that mark it as holding a secret.
var sensitiveTokens = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "pass": true, "passphrase": true, "psw": true, // Jenkins credentials: NAME_USR, NAME_PSW
	"secret": true, "token": true, "apikey": true, "credential": true, "credentials": true,
	"privatekey": true, "auth": true, "authtoken": true, "accesskey": true, "secretkey": true,
	"jwt": true, "bearer": true, "pat": true, "signingkey": true, "encryptionkey": true, "masterkey": true,
	"psk": true, "dsn": true, "conn": true, "connectionstring": true,
}

// "key" is sensitive only next to one of these ("API_KEY", "SECRET_KEY").
var keyQualifiers = map[string]bool{"api": true, "access": true, "secret": true, "private": true, "signing": true,
	"encryption": true, "master": true, "client": true, "auth": true, "license": true, "app": true, "service": true, "account": true}

// Tokens that make a name about a secret rather than holding one
// (PASSWORD_FILE holds a path, TOKEN_TTL a duration, PUBLIC_KEY is public).
var benignTokens = map[string]bool{
	"file": true, "path": true, "dir": true, "directory": true, "public": true, "pub": true, "url": true, "uri": true,
	"endpoint": true, "host": true, "port": true, "name": true, "user": true, "username": true, "id": true,
	"length": true, "len": true, "min": true, "max": true, "ttl": true, "expiry": true, "expires": true,
	"expiration": true, "timeout": true, "type": true, "enabled": true, "enable": true, "disable": true,
	"required": true, "header": true, "policy": true, "algorithm": true, "alg": true, "format": true,
	"size": true, "bits": true, "count": true, "version": true, "env": true, "prefix": true, "suffix": true,
	"fingerprint": true, "gpg": true, "pgp": true, "keyid": true, "keyring": true, "keyserver": true,
	"checksum": true, "sha": true, "sha1": true, "sha224": true, "sha256": true, "sha384": true, "sha512": true, "md5": true, "digest": true, "crc": true, "crc32": true, "hash": true, "mode": true,
	"method": true, "provider": true, "store": true, "helper": true, "location": true, "mount": true,
	"secrets": true, "reset": true, "hint": true, "csrf": true, "xsrf": true, "rotation": true, "arn": true, "hashes": true, "hashed": true,
	// How passwords are hashed or judged: MAILCOW_PASS_SCHEME=BLF-CRYPT
	// (a Dovecot scheme), PASSWORD_REGEX, PASSWORD_STRENGTH.
	"scheme": true, "regex": true, "pattern": true, "strength": true, "complexity": true,
}

// nameTokens splits FOO_BAR-baz.quxQuux into lower-case tokens, also
// splitting camelCase.
func nameTokens(name string) []string {
	// By hand rather than with a regexp split: this runs for every
	// secret-named assignment the engine meets.
	var out []string
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			out = append(out, strings.ToLower(name[start:end]))
		}
		start = -1
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		switch {
		case !alnum:
			flush(i)
		case start < 0:
			start = i
		case 'A' <= c && c <= 'Z' && 'a' <= name[i-1] && name[i-1] <= 'z':
			flush(i)
			start = i
		}
	}
	flush(len(name))
	return out
}

// nameWord is a name check for rules that find a provider's secret by its
// name (OKTA_API_TOKEN, twilioAuthToken): a word of the name must start
// with one of words, so that "okta" inside "rookTable" does not count.
func nameWord(words ...string) func(string) bool {
	return func(name string) bool {
		for _, t := range nameTokens(name) {
			for _, w := range words {
				if strings.HasPrefix(t, w) {
					return true
				}
			}
		}
		return false
	}
}

// SensitiveName reports whether a variable name says it holds a secret.
func SensitiveName(name string) bool {
	toks := nameTokens(name)
	sensitive := false
	for i, t := range toks {
		if benignTokens[t] {
			return false
		}
		if sensitiveTokens[t] {
			sensitive = true
		}
		if t == "key" && i > 0 && keyQualifiers[toks[i-1]] {
			sensitive = true
		}
		if t == "key" && len(toks) == 1 {
			sensitive = true
		}
	}
	// Joined spellings: APIKEY, SECRETKEY, DBPASSWORD. The word must end
	// a token: "tokenizer" and "passwordless" hold no secret.
	joined := strings.Join(toks, "")
	for _, s := range []string{"password", "passwd", "secret", "apikey", "accesskey", "privatekey", "authtoken", "token"} {
		if strings.HasSuffix(joined, s) {
			sensitive = true
		}
		for _, t := range toks {
			if strings.HasSuffix(t, s) {
				sensitive = true
			}
		}
	}
	return sensitive
}

var (
	placeholderRe = regexp.MustCompile(`(?i)^(?:changeme|change[_-]?me|change[_-]?this|replace[_-]?me|example|examplekey|sample|dummy|fake|test|testing|password|passwd|secret|token|none|null|nil|undefined|empty|todo|tbd|redacted|hidden|masked|default|placeholder|your[_-]?.*|my[_-]?(?:password|secret|token|key)|insert[_-]?.*|put[_-]?.*|enter[_-]?.*|some[_-]?.*|foo|bar|baz|foobar|xxx+|yyy+|zzz+|\*+|\.+|-+|_+|\?+|x+|0+|1234(?:5678?)?|abc|abc123|qwerty|letmein|admin)$`)
	bracketRe     = regexp.MustCompile(`^(?:<[^<>]*>|\[[^\[\]]*\]|\{\{.*\}\}|%[A-Za-z_]+%|__[A-Z_]+__|@[A-Za-z_]+@)$`)
	numberRe      = regexp.MustCompile(`^[+-]?[0-9]+(?:\.[0-9]+)?$`)
	versionRe     = regexp.MustCompile(`^v?[0-9]+(?:\.[0-9]+){1,3}(?:[-+~][0-9A-Za-z.+~-]*)?$`)
	hexRe         = regexp.MustCompile(`^(?:0x)?[0-9a-fA-F]+$`)
	uuidRe        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	durationRe    = regexp.MustCompile(`^[0-9]+(?:ms|s|m|h|d|w)$`)
	boolWords     = map[string]bool{"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true, "enabled": true, "disabled": true}
	pubKeyPrefix  = []string{"ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-", "ssh-dss ", "sk-ssh-", "-----BEGIN PUBLIC KEY", "-----BEGIN CERTIFICATE", "-----BEGIN PGP PUBLIC", "-----BEGIN RSA PUBLIC", "-----BEGIN X509"}
)

// IsReference reports whether a value refers to something else instead of
// being a literal: a shell or Compose variable, a template, a secret mount.
func IsReference(v string) bool {
	v = strings.Trim(v, `"'`)
	switch {
	case strings.HasPrefix(v, "$"), strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%"):
		return true
	case strings.Contains(v, "${") || strings.Contains(v, "$(") || strings.Contains(v, "{{"):
		return true
	}
	return bracketRe.MatchString(v)
}

// encryptedRe matches values encrypted for a tool that holds the key
// elsewhere: Maven's `{…}` (settings-security.xml holds the master
// password; Maven 4 adds `[name=…,cipher=…]`), Jasypt's `ENC(…)`.
var encryptedRe = regexp.MustCompile(`(?:^|\s)\{(?:\[[^\]{}]*\])?[A-Za-z0-9+/]{8,}={0,2}\}$|^ENC\([A-Za-z0-9+/=]{8,}\)$`)

// EncryptedValue reports whether a value is encrypted for a tool that keeps
// the key elsewhere (Maven's `{…}`, Jasypt's `ENC(…)`): the key, not the
// value, is the secret.
func EncryptedValue(v string) bool {
	return encryptedRe.MatchString(strings.TrimSpace(v))
}

// IsPlaceholder reports whether a value is an obvious stand-in.
func IsPlaceholder(v string) bool {
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	if v == "" || placeholderRe.MatchString(v) || bracketRe.MatchString(v) {
		return true
	}
	// "change_me!", "<replace-me>", "**your token**": the same words
	// with punctuation around them.
	if w := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, v); w != v && w != "" && placeholderRe.MatchString(w) && !strings.ContainsAny(w, "0123456789") {
		return true
	}
	l := strings.ToLower(v)
	for _, w := range []string{"example", "changeme", "placeholder", "your_", "your-", "<your", "xxxxxx", "dummy", "redacted", "not-a-real", "notreal", "fake"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return l == "akiaiosfodnn7example" || strings.HasSuffix(l, "example")
}

// LiteralSecret reports whether a value, assigned to a sensitive name, looks
// like an actual secret rather than a reference, path, URL, number, version,
// flag, fingerprint, public key or placeholder.
func LiteralSecret(v string) bool {
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	switch {
	case len(v) < 6:
		return false
	case IsReference(v), IsPlaceholder(v):
		return false
	case strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "~/") || strings.HasPrefix(v, "../"):
		return false
	case numberRe.MatchString(v), versionRe.MatchString(v), durationRe.MatchString(v), uuidRe.MatchString(v):
		return false
	case boolWords[strings.ToLower(v)]:
		return false
	case hexRe.MatchString(v) && (len(v) == 16 || len(v) == 8):
		// GPG key IDs. Longer hex under a secret's name is a secret
		// (SECRET_KEY=<64 hex>, a hex API token): fingerprints, commits
		// and checksums are named as such (GPG_KEY, *_SHA256), and
		// SensitiveName says no to those names.
		return false
	case hexRe.MatchString(v) && len(v) == 40 && strings.ToUpper(v) == v:
		// A GPG fingerprint as gpg prints it, in capitals, under the
		// bare name a shell loop gives it (key='B97B0AFC…'); generated
		// hex secrets are written in small letters.
		return false
	case EncryptedValue(v):
		return false
	}
	for _, p := range pubKeyPrefix {
		if strings.HasPrefix(v, p) {
			return false
		}
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		// A URL is a secret only with a password in it; the URL rule
		// finds those by format.
		return false
	}
	if strings.ContainsAny(v, " \t") && len(strings.Fields(v)) > 3 {
		return false // prose, a command line
	}
	if strings.Contains(v, "/") && !strings.ContainsAny(v, "+=") && strings.Count(v, "/") >= 2 {
		return false // a path-like value without base64 padding
	}
	// A short value must at least mix kinds of characters to be taken for
	// a password; long values are judged by entropy.
	if len(v) < 12 {
		return classes(v) >= 2
	}
	return Entropy(v) >= 3.0
}

// WeakLiteral reports whether a value assigned to a secret's name is a
// literal that LiteralSecret does not take for a real secret
// (`DB_PASSWORD=hunter2hunter2`, `POSTGRES_PASSWORD=postgres`), yet still
// a credential, weak or default, rather than a reference, a placeholder,
// an encrypted value, a path, a URL, a flag or a public key. Callers ask
// it only of values that LiteralSecret and the formats rejected.
func WeakLiteral(v string) bool {
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	switch {
	case len(v) < 4:
		return false
	case IsReference(v), IsPlaceholder(v), EncryptedValue(v):
		return false
	case strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "~/") || strings.HasPrefix(v, "../"):
		return false
	case boolWords[strings.ToLower(v)], durationRe.MatchString(v), versionRe.MatchString(v), uuidRe.MatchString(v):
		return false
	}
	for _, p := range pubKeyPrefix {
		if strings.HasPrefix(v, p) {
			return false
		}
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		return false
	}
	// Prose or a command line, not a password.
	return len(strings.Fields(v)) <= 2
}

// classes counts the kinds of characters in v: lower case, upper case,
// digits, others.
func classes(v string) int {
	lower, upper, digit, other := charKinds(v)
	n := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			n++
		}
	}
	return n
}

// charKinds says which kinds of characters v holds.
func charKinds(v string) (lower, upper, digit, other bool) {
	for _, r := range v {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	return
}

// Entropy is the Shannon entropy of s in bits per character.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	var h float64
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}

// Literal is a match of the context rule for a value its caller found in a
// credential position by other means (a command's password option).
func Literal(secret string) Match {
	return Match{Rule: genericRule, Secret: secret, Severity: genericRule.Severity}
}
