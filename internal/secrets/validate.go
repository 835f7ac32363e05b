package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"net/url"
	"regexp"
	"strings"
)

// documentedExamples are credentials printed in vendors' documentation and
// copied into countless READMEs and tests. They grant nothing.
var documentedExamples = map[string]bool{
	// AWS documentation.
	"AKIAIOSFODNN7EXAMPLE":                     true,
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": true,
	"AKIAI44QH8DHBEXAMPLE":                     true,
	"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY": true,
	// jwt.io's sample token and its secret.
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c":                  true,
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.KMUFsIDTnFmyG3nMiGM6H9FNFUROf3wh7SmqJp-QV30": true,
	"your-256-bit-secret": true,
	// Stripe's documentation keys.
	"sk_test_4eC39HqLyjWDarjtT1zdp7dc": true,
	"sk_test_BQokikJOvBiI2HlWgH4olfQ2": true,
	// Slack's documentation token.
	"xoxb-not-a-real-token-this-will-not-work": true,
	// GitHub's documentation token (it fails the checksum as well).
	"ghp_16C7e42F292c6912E7710c838347Ae178B4a": true,
	// Google's documentation API key.
	"AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe": true,
	// The example keys of the Firebase Android SDK's documentation and
	// tests (github.com/firebase/firebase-android-sdk).
	"AIzaSyabcdefghijklmnopqrstuvwxyz1234567": true, "AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs": true,
	"AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM": true, "AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU": true,
	"AIzaSyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0": true, "AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A": true,
	"AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c": true, "AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4": true,
	"AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY": true, "AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM": true,
	"AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ": true, "AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g": true,
	"AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU": true, "AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw": true,
	"AIzaSyB8qGxt4ec15vitgn44duC5ucxaOi4FmqE": true, "AIzaSyA8vmApnrHNFE0bApF4hoZ11srVL_n0nvY": true,
	// The public, search-only Algolia key of Yarn's documentation search,
	// in every copy of Yarn's bundled release.
	"6fe4476ee5a1832882e326b506d14126": true,
	// The Azure Storage emulator's (Azurite) fixed, published account key.
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==": true,
	// Discord's API documentation bot token.
	"MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs": true,
	// The Docker Engine API documentation's swarm tokens and password.
	"SWMTKN-1-1h8aps2yszaiqmz2l3oc5392pgk8e49qhx2aj3nyv0ui0hez2a-6qmn92w6bu3jdvnglku58u11a": true,
	"SWMTKN-1-1h8aps2yszaiqmz2l3oc5392pgk8e49qhx2aj3nyv0ui0hez2a-8llk83c4wm9lwioey2s316r9l": true,
	"SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx": true,
	"SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-7p73s1dx5in4tatdymyhg9hu2": true,
	"SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8":                                  true,
	"conta1n3rize14": true,
	// The passwords of Microsoft's NuGet.Config reference.
	"33f!!lloppa": true, "hal+9ooo_da!sY": true,
	// Python's urllib documentation password.
	"geheim$parole": true,
	// Twilio's documentation auth token and SID.
	"ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX": true,
}

func documentedExample(s string) bool { return documentedExamples[s] }

// placeholderSecret reports stand-ins: the obvious ones anywhere, and for
// short values also words that only stand-ins contain ("changeme",
// "example", "xxxx"). Long random values (keys of hundreds of characters)
// contain such words by chance and are judged by their structure instead.
func placeholderSecret(s string) bool {
	if cryptHash.MatchString(s) {
		// "$6$salt$hash" is a hash, not a "$VARIABLE".
		return false
	}
	if IsReference(s) || bracketRe.MatchString(s) {
		return true
	}
	if len(s) <= 120 {
		// "9cbaf023786cd7..." is a value cut short for the page.
		return IsPlaceholder(s) || repetitive(s) || strings.Contains(s, "...") || strings.Contains(s, "…")
	}
	return false
}

var cryptHash = regexp.MustCompile(`^(?:\$[0-9a-z]{1,5}\$|\{SHA\})`)

// repetitive reports values made of one character or a short run repeated
// ("aaaaaaaa", "abcabcabc", "0123456789…"), or an alphabet run.
func repetitive(s string) bool {
	if len(s) < 8 {
		return false
	}
	distinct := map[rune]bool{}
	for _, r := range s {
		distinct[r] = true
	}
	if len(distinct) <= 3 {
		return true
	}
	l := strings.ToLower(s)
	for _, run := range []string{"abcdefghijklmnop", "0123456789abcdef", "1234567890", "qwertyuiop", "xxxxxxxx", "00000000", "12345678"} {
		if strings.Contains(l, run) {
			return true
		}
	}
	return false
}

// classes counts the kinds of characters in s: lower, upper, digit, other.
func charClasses(s string) int { return classes(s) }

// isHex reports whether s is hexadecimal digits only.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// decodeBase64 decodes standard or URL-safe base64, padded or not,
// ignoring line breaks and the escaped "\n" of JSON strings.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.NewReplacer("\\n", "", "\\r", "", "\n", "", "\r", "", " ", "", "\t", "").Replace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// pemBody checks the body of a PEM block: header lines ("Proc-Type: …")
// are allowed, the rest must be base64 of at least min bytes, and when der
// is set the bytes must start an ASN.1 SEQUENCE (every PKCS#1, PKCS#8, EC
// and DSA key and every certificate does; a "<your key here>" or a body
// cut with "..." does not decode).
func pemBody(body string, min int, der bool) bool {
	body = strings.ReplaceAll(body, "\\n", "\n")
	var b64 strings.Builder
	encrypted := false
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if strings.Contains(line, ":") {
			if strings.Contains(line, "ENCRYPTED") {
				encrypted = true
			}
			continue
		}
		b64.WriteString(line)
	}
	data, ok := decodeBase64(b64.String())
	if !ok || len(data) < min {
		return false
	}
	if der && !encrypted {
		return data[0] == 0x30
	}
	return true
}

// base62 digits in GitHub's token checksum order.
const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// githubChecksum checks the CRC32 that GitHub's 40-character tokens carry
// in their last six characters (base62 of the CRC32 of the 30 random
// characters after the prefix).
func githubChecksum(tok string) bool {
	i := strings.IndexByte(tok, '_')
	if i < 0 || len(tok)-i-1 != 36 {
		return false
	}
	random, sum := tok[i+1:i+31], tok[i+31:]
	return base62(crc32.ChecksumIEEE([]byte(random)), 6) == sum
}

func base62(v uint32, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = base62Digits[v%62]
		v /= 62
	}
	return string(b)
}

// jwtShaped checks that the first two parts of a token decode to JSON
// objects and the header has a JOSE header parameter: a JWT, not three random
// base64 words joined by dots.
func jwtShaped(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	var header map[string]any
	h, ok := decodeBase64(parts[0])
	if !ok || json.Unmarshal(h, &header) != nil {
		return false
	}
	if !joseHeader(header) {
		return false
	}
	var claims map[string]any
	p, ok := decodeBase64(parts[1])
	if !ok || json.Unmarshal(p, &claims) != nil {
		return false
	}
	return len(parts[2]) >= 16 || header["alg"] == "none" || header["alg"] == nil
}

// joseHeaders are the registered JOSE header parameters (IANA's "JSON Web
// Signature and Encryption Header Parameters"): a JWT's header names its
// algorithm, and tokens in the wild also carry only a key ID, a key URL
// or a type.
var joseHeaders = []string{"alg", "enc", "zip", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
	"epk", "apu", "apv", "iv", "tag", "p2s", "p2c", "iss", "sub", "aud", "b64", "ppt", "url", "nonce", "svt"}

func joseHeader(h map[string]any) bool {
	for _, k := range joseHeaders {
		if _, ok := h[k]; ok {
			return true
		}
	}
	return false
}

// basicCredential checks that a base64 value decodes to user:password
// with a real password.
func basicCredential(b64 string) bool {
	data, ok := decodeBase64(b64)
	if !ok {
		return false
	}
	user, pass, found := strings.Cut(string(data), ":")
	if !found || pass == "" || user == "" {
		return false
	}
	if !printable(data) {
		return false
	}
	return !IsPlaceholder(pass) && !IsReference(pass)
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == 0x7F {
			return false
		}
	}
	return true
}

// decodesTo checks that a base64 value decodes to exactly n bytes.
func decodesTo(n int) func(string) bool {
	return func(s string) bool {
		b, ok := decodeBase64(s)
		return ok && len(b) == n
	}
}

// literalValue accepts an assigned value that is a literal, not a
// reference or placeholder, with some variety of characters.
func literalValue(s string) bool {
	s = strings.Trim(s, `"'`)
	return len(s) >= 6 && !IsReference(s) && !IsPlaceholder(s) && !EncryptedValue(s) && !repetitive(s) && charClasses(s) >= 2
}

// randomToken accepts a value that looks machine-generated: mixed
// characters and a high entropy for its length.
func randomToken(min float64) func(string) bool {
	return func(s string) bool {
		return charClasses(s) >= 2 && Entropy(s) >= min && !repetitive(s)
	}
}

// notHex rejects pure hexadecimal values (digests, git SHAs).
func notHex(s string) bool { return !isHex(s) }

// examplePasswords are what documentation puts in URLs and connection
// strings to show where a password goes.
var examplePasswords = map[string]bool{"pass": true, "pwd": true, "passw0rd": true, "p@ssword": true, "p@ssw0rd": true,
	"pa55word": true, "pass123": true, "password1": true, "password123": true, "mypassword": true, "yourpassword": true,
	"user": true, "username": true, "guest": true, "hunter2": true, "xyzzy": true}

// urlPassword accepts a URL or connection-string password that is a
// literal, not a reference, a placeholder or a documentation example.
func urlPassword(s string) bool {
	if p, err := url.PathUnescape(s); err == nil {
		s = p
	}
	return len(s) >= 4 && !IsReference(s) && !IsPlaceholder(s) && !examplePasswords[strings.ToLower(s)] &&
		!strings.HasPrefix(s, "$") && !bytes.ContainsAny([]byte(s), "{}<>\\")
}

// all combines validators.
func all(vs ...func(string) bool) func(string) bool {
	return func(s string) bool {
		for _, v := range vs {
			if !v(s) {
				return false
			}
		}
		return true
	}
}
