package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"regexp"
	"strings"
)

// trivy's fixtures hold values no issuer would produce: alphabet runs
// ("ABCDEFGHIJ…", "0123456789"), repeated words ("KEYKEYKEY…"), a GitHub
// token whose checksum fails, an AWS key ID with digits base32 has not,
// a PEM body cut to one line. dockvet rejects such values on purpose
// (placeholders and checksums are how it stays quiet on documentation and
// test data), so recall is also measured with realistic values: each
// expected secret is replaced by a random one of the same format — the
// prefix, the fixed markers and the length kept, the characters drawn
// from the alphabet the issuer uses, checksums recomputed, structured
// values (JWTs, PEM keys, Docker configurations) rebuilt with real
// structure — while the file around it stays trivy's. Values that are
// the point of the rule (Symfony's published default secret) are kept.

// realistic returns a realistic replacement for a secret trivy's rule
// reports, or the secret itself when it is realistic already.
func realistic(r *rand.Rand, rule, secret string) string {
	switch rule {
	case "aws-access-key-id":
		return keep(r, secret, `^(?:AKIA|ASIA|A3T[A-Z0-9])`, b32)
	case "aws-secret-access-key":
		return keep(r, secret, `^$`, b64)
	case "github-pat", "github-oauth", "github-refresh-token":
		return githubToken(r, secret[:4])
	case "github-app-token":
		if m := regexp.MustCompile(`^ghs_[0-9]+_`).FindString(secret); m != "" {
			return m + jwt(r)
		}
		return githubToken(r, secret[:4])
	case "github-fine-grained-pat":
		return keep(r, secret, `^github_pat_|_`, "")
	case "hugging-face-access-token":
		return "hf_" + draw(r, letters, 34)
	case "alibaba-access-key-id":
		return keep(r, secret, `^LTAI`, alnum)
	case "dockerconfig-secret":
		auth := base64.StdEncoding.EncodeToString([]byte("ci-bot:" + draw(r, alnum, 24)))
		cfg := `{"auths":{"registry.internal:5000":{"username":"ci-bot","auth":"` + auth + `"}}}`
		return base64.StdEncoding.EncodeToString([]byte(cfg))
	case "grafana-api-token":
		quoted := strings.HasPrefix(secret, `"`)
		tok := base64.StdEncoding.EncodeToString([]byte(`{"k":"` + draw(r, alnum, 32) + `","n":"deploy","id":1}`))
		if quoted {
			return `"` + tok + `"`
		}
		return tok
	case "jwt-token":
		i := strings.LastIndexByte(secret, '.')
		return secret[:i+1] + base64.RawURLEncoding.EncodeToString(bytesOf(r, 32))
	case "private-packagist-token":
		return keep(r, secret, `^packagist_[ou][ru]t_`, hexd)
	case "azure-storage-account-key":
		return base64.StdEncoding.EncodeToString(bytesOf(r, 64))
	case "azure-sas-token":
		return base64.StdEncoding.EncodeToString(bytesOf(r, 32))
	case "azure-devops-pat":
		return draw(r, "abcdefghijklmnopqrstuvwxyz234567", len(secret))
	case "azure-container-registry-credential", "azure-ai-services-key":
		// Microsoft's identifiable keys: random base64 around a fixed
		// signature (JQQJ99…, AZCR, ACOG).
		return keep(r, secret, `JQQJ99C[A-Z](?:ACYeBjFEqg7NAAA[A-Z]AZCR|[A-Za-z0-9+/]{7}XJ3w3[A-Za-z0-9+/]{4}ACOG)`, b64)
	case "azure-container-registry-password", "azure-app-config-connection-string":
		return keep(r, secret, `^$`, b64)
	case "openai-project-api-key", "openai-service-account-key", "openai-admin-api-key", "openai-legacy-api-key", "openai-service-api-key":
		return keep(r, secret, `^sk-(?:proj-|svcacct-|admin-|service-[a-z0-9-]+-|None-)?|T3BlbkFJ`, alnum)
	case "openai-realtime-client-secret":
		return keep(r, secret, `^ek_`, hexd)
	case "maven-settings-password", "maven-settings-passphrase", "maven-settings-security-master":
		return draw(r, alnum, 12) + "#" + draw(r, "0123456789", 3)
	}
	return secret
}

const (
	upper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower   = "abcdefghijklmnopqrstuvwxyz"
	digits  = "0123456789"
	letters = upper + lower
	alnum   = letters + digits
	b64     = alnum + "+/"
	b32     = upper + "234567"
	hexd    = "0123456789abcdef"
)

func draw(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func bytesOf(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// keep redraws the letters and digits of s from alphabet ("" keeps each
// character's class: upper, lower, digit) except where kept matches;
// other characters (separators, padding) stay.
func keep(r *rand.Rand, s, kept, alphabet string) string {
	fixed := make([]bool, len(s))
	for _, loc := range regexp.MustCompile(kept).FindAllStringIndex(s, -1) {
		for i := loc[0]; i < loc[1]; i++ {
			fixed[i] = true
		}
	}
	b := []byte(s)
	for i, c := range b {
		if fixed[i] || !strings.ContainsRune(alnum, rune(c)) {
			continue
		}
		a := alphabet
		if a == "" {
			switch {
			case strings.ContainsRune(upper, rune(c)):
				a = upper
			case strings.ContainsRune(lower, rune(c)):
				a = lower
			default:
				a = digits
			}
		}
		b[i] = a[r.IntN(len(a))]
	}
	return string(b)
}

// githubToken is a GitHub token with a valid checksum: 30 random base62
// characters and six of CRC32 (github.blog, "Behind GitHub's new
// authentication token formats").
func githubToken(r *rand.Rand, prefix string) string {
	const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	random := draw(r, alnum, 30)
	v := crc32.ChecksumIEEE([]byte(random))
	sum := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		sum[i] = base62[v%62]
		v /= 62
	}
	return prefix + random + string(sum)
}

func jwt(r *rand.Rand) string {
	enc := base64.RawURLEncoding
	claims := fmt.Sprintf(`{"iss":"Iv1.%s","iat":%d,"exp":%d}`, hex.EncodeToString(bytesOf(r, 8)), 1_700_000_000+r.IntN(1e6), 1_700_003_600+r.IntN(1e6))
	return enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString(bytesOf(r, 256))
}

// pemKey is a real private key of the PEM label's kind, as the body of
// a block laid out like body: wrapped lines, JSON's "\n" escapes, or one
// line.
func pemKey(r *rand.Rand, label, body string) string {
	var der []byte
	switch label {
	case "RSA PRIVATE KEY":
		k, err := rsa.GenerateKey(rngReader{r}, 1024)
		if err != nil {
			panic(err)
		}
		der = x509.MarshalPKCS1PrivateKey(k)
	case "EC PRIVATE KEY":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rngReader{r})
		if err != nil {
			panic(err)
		}
		der, _ = x509.MarshalECPrivateKey(k)
	default:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rngReader{r})
		if err != nil {
			panic(err)
		}
		der, _ = x509.MarshalPKCS8PrivateKey(k)
	}
	b := base64.StdEncoding.EncodeToString(der)
	switch {
	case strings.Contains(body, `\n`):
		return `\n` + wrap(b, 64, `\n`) + `\n`
	case strings.Contains(body, "\n"):
		return wrap(b, 64, "\n") + "\n"
	}
	return b
}

func wrap(s string, width int, nl string) string {
	var parts []string
	for len(s) > width {
		parts = append(parts, s[:width])
		s = s[width:]
	}
	return strings.Join(append(parts, s), nl)
}

type rngReader struct{ r *rand.Rand }

func (g rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(g.r.UintN(256))
	}
	return len(p), nil
}
