package secrets

import (
	"bytes"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// pemBlock matches a PEM block of one label; the secret is the body
// between the armour lines (real newlines, or the "\n" escapes of a JSON
// string).
func pemBlock(label string) string {
	return `-----BEGIN ` + label + `-----(?:\s|\\[rn])*(?P<secret>[\s\S]+?)(?:\s|\\[rn])*-----END ` + label + `-----`
}

// pemKeywords is the keyword of a PEM block of one label: its BEGIN line.
func pemKeywords(label string) []string {
	return []string{"-----begin " + strings.ToLower(label) + "-----"}
}

// pemWindow is the text after a PEM keyword a rule sees: PEM blocks run
// over many lines, and 16 KiB holds an 8192-bit RSA key.
const pemWindow = 16 << 10

// pemEnd starts every PEM block's last line: a block's window ends just
// after the first one (Rule.Closing), and a window without one is not
// searched — a file of BEGIN lines costs no more than any other text.
const pemEnd = "-----END "

// A PKCS#8 key is also the inside of a GCP service-account file; the
// more specific rule names it when both match.
var keyPKCS8 = &Rule{
	Rule: finding.Rule{ID: "DV7001", Title: "Private key (PKCS#8)", Severity: finding.Critical,
		Description: "An unencrypted PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`), the form OpenSSL, Java and cloud consoles write for RSA, EC and Ed25519 keys; the body must be base64 of a DER SEQUENCE",
		Peers:       []string{"private-key"}},
	Keywords:  pemKeywords("PRIVATE KEY"),
	Regex:     re(pemBlock("PRIVATE KEY")),
	Valid:     func(b string) bool { return pemBody(b, 32, true) },
	MultiLine: true, After: pemWindow, Closing: pemEnd,
	Fallback: 1,
}

var keyRSA = &Rule{
	Rule: finding.Rule{ID: "DV7013", Title: "RSA private key", Severity: finding.Critical,
		Description: "A PKCS#1 RSA private key (`-----BEGIN RSA PRIVATE KEY-----`), used for TLS, SSH and signing; an encrypted one (Proc-Type: 4,ENCRYPTED) is reported too, since its passphrase is the only barrier",
		Peers:       []string{"private-key"}},
	Keywords:  pemKeywords("RSA PRIVATE KEY"),
	Regex:     re(pemBlock("RSA PRIVATE KEY")),
	Valid:     func(b string) bool { return pemBody(b, 64, true) },
	MultiLine: true, After: pemWindow, Closing: pemEnd,
}

var keyEC = &Rule{
	Rule: finding.Rule{ID: "DV7014", Title: "EC private key", Severity: finding.Critical,
		Description: "An SEC 1 elliptic-curve private key (`-----BEGIN EC PRIVATE KEY-----`), used for TLS and signing",
		Peers:       []string{"private-key"}},
	Keywords:  pemKeywords("EC PRIVATE KEY"),
	Regex:     re(pemBlock("EC PRIVATE KEY")),
	Valid:     func(b string) bool { return pemBody(b, 32, true) },
	MultiLine: true, After: pemWindow, Closing: pemEnd,
}

var keyDSA = &Rule{
	Rule: finding.Rule{ID: "DV7015", Title: "DSA private key", Severity: finding.Critical,
		Description: "A DSA private key (`-----BEGIN DSA PRIVATE KEY-----`), still found as old SSH host and user keys",
		Peers:       []string{"private-key"}},
	Keywords:  pemKeywords("DSA PRIVATE KEY"),
	Regex:     re(pemBlock("DSA PRIVATE KEY")),
	Valid:     func(b string) bool { return pemBody(b, 64, true) },
	MultiLine: true, After: pemWindow, Closing: pemEnd,
}

var keyOpenSSH = &Rule{
	Rule: finding.Rule{ID: "DV7016", Title: "OpenSSH private key", Severity: finding.Critical,
		Description: "An OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`, the default of ssh-keygen): whoever has it logs in wherever its public key is authorised. The body must decode to the `openssh-key-v1` structure",
		Peers:       []string{"private-key"}},
	Keywords: pemKeywords("OPENSSH PRIVATE KEY"),
	Regex:    re(pemBlock("OPENSSH PRIVATE KEY")),
	Valid: func(b string) bool {
		data, ok := decodeBase64(pemLines(b))
		return ok && bytes.HasPrefix(data, []byte("openssh-key-v1\x00"))
	},
	MultiLine: true, After: pemWindow, Closing: pemEnd,
}

var keyEncryptedPKCS8 = &Rule{
	Rule: finding.Rule{ID: "DV7017", Title: "Encrypted private key (PKCS#8)", Severity: finding.High,
		Description: "A passphrase-protected PKCS#8 private key (`-----BEGIN ENCRYPTED PRIVATE KEY-----`): only the passphrase stands between it and its use, and passphrases are guessed offline",
		Peers:       []string{"private-key"}},
	Keywords:  pemKeywords("ENCRYPTED PRIVATE KEY"),
	Regex:     re(pemBlock("ENCRYPTED PRIVATE KEY")),
	Valid:     func(b string) bool { return pemBody(b, 64, true) },
	MultiLine: true, After: pemWindow, Closing: pemEnd,
}

var keyPGP = &Rule{
	Rule: finding.Rule{ID: "DV7018", Title: "PGP private key block", Severity: finding.Critical,
		Description: "An ASCII-armoured OpenPGP secret key (`-----BEGIN PGP PRIVATE KEY BLOCK-----`): signs packages and commits and decrypts mail in the owner's name. The body must decode to an OpenPGP packet",
		Peers:       []string{"private-key"}},
	Keywords: pemKeywords("PGP PRIVATE KEY BLOCK"),
	Regex:    re(pemBlock("PGP PRIVATE KEY BLOCK")),
	Valid: func(b string) bool {
		data, ok := decodeBase64(pgpBody(b))
		return ok && len(data) >= 64 && data[0]&0x80 != 0
	},
	MultiLine: true, After: pemWindow, Closing: pemEnd,
}

var keyPuTTY = &Rule{
	Rule: finding.Rule{ID: "DV7019", Title: "PuTTY private key", Severity: finding.Critical,
		Description: "A PuTTY private key file (`PuTTY-User-Key-File-2:` or `-3:`), PuTTY's SSH key format; the private lines must be base64"},
	Keywords: []string{"putty-user-key-file-"},
	Regex:    re(`PuTTY-User-Key-File-[23]: [^\r\n]+[\s\S]*?Private-Lines: \d+(?:\r?\n|\\r?\\n)(?P<secret>[A-Za-z0-9+/=\r\n\\]+?)(?:\r?\n|\\r?\\n)Private-(?:MAC|Hash):`),
	Valid: func(b string) bool {
		data, ok := decodeBase64(b)
		return ok && len(data) >= 16
	},
	MultiLine: true,
	After:     16 << 10,
}

var keySSH2 = &Rule{
	Rule: finding.Rule{ID: "DV7020", Title: "SSH2 private key (ssh.com)", Severity: finding.Critical,
		Description: "A private key in the SSH Communications / Tectia format (`---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`); the body must decode to that format's magic number"},
	Keywords: []string{"---- begin ssh2 encrypted private key"},
	Regex:    re(`---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----(?:\s|\\[rn])*(?P<secret>[\s\S]+?)(?:\s|\\[rn])*---- END SSH2 ENCRYPTED PRIVATE KEY ----`),
	Valid: func(b string) bool {
		data, ok := decodeBase64(pemLines(b))
		return ok && bytes.HasPrefix(data, []byte{0x3f, 0x6f, 0xf9, 0xeb})
	},
	MultiLine: true,
	After:     16 << 10,
	Closing:   "---- END SSH2 ",
}

var ageSecretKey = &Rule{
	Rule: finding.Rule{ID: "DV7021", Title: "age secret key", Severity: finding.Critical,
		Description: "An age encryption identity (`AGE-SECRET-KEY-1…`): it decrypts every file encrypted to its recipient (SOPS, backups). The Bech32 checksum must be valid",
		Peers:       []string{"age-secret-key"}},
	Keywords: []string{"AGE-SECRET-KEY-1"},
	Regex:    re(`AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}`),
	Valid:    bech32Valid,
	Boundary: tokenChars,
}

var keyOtherPEM = &Rule{
	Rule: finding.Rule{ID: "DV7022", Title: "Private key (other PEM type)", Severity: finding.Critical,
		Description: "A PEM block whose label ends in PRIVATE KEY and that no more specific rule recognised (`-----BEGIN X25519 PRIVATE KEY-----` and the like); the body must be base64",
		Peers:       []string{"private-key"}},
	Keywords:  []string{"-----begin "},
	Regex:     re(`-----BEGIN (?P<label>[A-Z0-9 ]{0,40})PRIVATE KEY-----(?:\s|\\[rn])*(?P<secret>[\s\S]+?)(?:\s|\\[rn])*-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----`),
	Valid:     func(b string) bool { return pemBody(b, 32, false) },
	MultiLine: true,
	After:     16 << 10,
	Closing:   pemEnd,
	Fallback:  2,
}

var certificate = &Rule{
	Rule: finding.Rule{ID: "DV7023", Title: "Certificate", Severity: finding.Info,
		Description: "An X.509 certificate (`-----BEGIN CERTIFICATE-----`). A certificate is public: it is not a secret, and is reported, as info only, when informational matches are asked for"},
	Keywords:  pemKeywords("CERTIFICATE"),
	Regex:     re(pemBlock("CERTIFICATE")),
	Valid:     func(b string) bool { return pemBody(b, 64, true) },
	MultiLine: true, After: pemWindow, Closing: pemEnd,
}

// pemLines drops PEM header lines and escapes, leaving the base64.
func pemLines(body string) string {
	body = strings.ReplaceAll(body, "\\n", "\n")
	var b strings.Builder
	for _, l := range strings.Split(body, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, ":") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// pgpBody is the base64 of an armoured OpenPGP block: after the header
// lines and the blank line, without the "=XXXX" CRC-24 line.
func pgpBody(body string) string {
	body = strings.ReplaceAll(body, "\\n", "\n")
	var b strings.Builder
	for _, l := range strings.Split(body, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.Contains(l, ": ") || strings.HasPrefix(l, "=") && len(l) == 5 {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

// bech32Valid checks the Bech32 checksum of an age identity.
func bech32Valid(s string) bool {
	s = strings.ToLower(s)
	sep := strings.LastIndexByte(s, '1')
	if sep < 1 || sep+7 > len(s) {
		return false
	}
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	hrp, data := s[:sep], s[sep+1:]
	values := make([]int, 0, len(hrp)*2+1+len(data))
	for i := 0; i < len(hrp); i++ {
		values = append(values, int(hrp[i]>>5))
	}
	values = append(values, 0)
	for i := 0; i < len(hrp); i++ {
		values = append(values, int(hrp[i]&31))
	}
	for i := 0; i < len(data); i++ {
		v := strings.IndexByte(charset, data[i])
		if v < 0 {
			return false
		}
		values = append(values, v)
	}
	gen := [5]int{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := 1
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ v
		for i := 0; i < 5; i++ {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk == 1
}

// privateKeyIDs are the rules whose secret is a private key file's body.
var privateKeyIDs = map[string]bool{"DV7001": true, "DV7013": true, "DV7014": true, "DV7015": true, "DV7016": true,
	"DV7017": true, "DV7018": true, "DV7019": true, "DV7020": true, "DV7022": true}

// IsPrivateKey reports whether the rule finds private keys, so that a
// surface judging a file by its name (id_rsa, *.key) can confirm by content
// that it holds a key of any kind.
func (r *Rule) IsPrivateKey() bool { return r != nil && privateKeyIDs[r.ID] }
