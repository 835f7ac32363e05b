package secrets

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Credential files and headers: the formats tools write credentials in.

var jsonWebToken = &Rule{
	Rule: finding.Rule{ID: "DV7011", Title: "JSON Web Token", Severity: finding.Medium,
		Description: "A JSON Web Token: three base64url parts joined by dots, the first two JSON objects and the header naming an algorithm. A bearer of the token is whoever it names until it expires; a long-lived one is a password",
		Peers:       []string{"jwt", "jwt-token"}},
	Keywords: []string{"eyJ"},
	Regex:    re(`eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,}`),
	After:    4096,
	Valid:    jwtShaped,
	Boundary: tokenChars,
	Fallback: 1,
}

var jwtBase64 = &Rule{
	Rule: finding.Rule{ID: "DV7130", Title: "JSON Web Token in base64", Severity: finding.Medium,
		Description: "A JSON Web Token encoded in base64 once more (`ZXlK…`), as Kubernetes Secret `data` and CI variables hold it; the decoded value must be a JWT whose header names an algorithm",
		Peers:       []string{"jwt-base64"}},
	Keywords: []string{"ZXlK"},
	Regex:    re(`ZXlK[A-Za-z0-9+/]{60,}={0,2}`),
	Valid: func(s string) bool {
		data, ok := decodeBase64(s)
		return ok && jwtShaped(strings.TrimSpace(string(data)))
	},
	After:    8192,
	Boundary: base64Chars,
}

var frameworkDefaultSecret = &Rule{
	Rule: finding.Rule{ID: "DV7128", Title: "Framework default secret", Severity: finding.Medium,
		Description: "A web framework's published default secret left in configuration (Symfony's `ThisTokenIsNotSoSecretChangeIt`, eZ Platform's `ThisEzPlatformTokenIsNotSoSecret_PleaseChangeIt`): everyone knows it, so anyone can forge the signed cookies, CSRF tokens and login links it protects",
		Peers:       []string{"symfony-default-secret"}},
	Keywords: []string{"TokenIsNotSoSecret"},
	Regex:    re(`ThisTokenIsNotSoSecretChangeIt|ThisEzPlatformTokenIsNotSoSecret_PleaseChangeIt`),
	Boundary: tokenChars,
	Near:     true,
	Before:   16,
	After:    40,
}

var htpasswdHash = &Rule{
	Rule: finding.Rule{ID: "DV7108", Title: "Password hash in .htpasswd", Severity: finding.Medium,
		Description: "A web server password hash (`user:$apr1$…`, `user:$2y$…` bcrypt or `user:{SHA}…`) as Apache and nginx .htpasswd files hold: weak passwords fall to an offline guess"},
	Keywords: []string{"$apr1$", "$2y$", "$2a$", "$2b$", "{sha}"},
	Near:     true,
	Before:   80,
	After:    128,
	Regex:    re(`(?m)^[\w.@-]{1,64}:(?P<secret>\$apr1\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22}|\$2[aby]\$[0-9]{2}\$[./0-9A-Za-z]{53}|\{SHA\}[A-Za-z0-9+/]{27}=)[ \t]*\r?$`),
}

var shadowHash = &Rule{
	Rule: finding.Rule{ID: "DV7109", Title: "Password hash in a shadow file", Severity: finding.Medium,
		Description: "A crypt(3) password hash in an /etc/shadow line (`user:$6$…:…`): an account with a password baked into the image, the same in every container; base images lock accounts with `*` or `!` instead"},
	Keywords: []string{"$6$", "$5$", "$1$", "$y$", "$gy$"},
	Near:     true,
	Before:   40,
	After:    256,
	Regex:    re(`(?m)^[a-z_][a-z0-9_.-]{0,31}\$?:(?P<secret>\$(?:1|5|6|y|gy)\$[^:\s]{8,}):[0-9]*:[0-9]*:[0-9]*:[0-9]*:[0-9]*:[0-9]*:[^:\r\n]*\r?$`),
}

var kubeconfigClientKey = &Rule{
	Rule: finding.Rule{ID: "DV7110", Title: "Client key in a kubeconfig", Severity: finding.Critical,
		Description: "A `client-key-data` entry of a kubeconfig: the base64 of the private key that authenticates the user to the cluster (the decoded bytes must be a PEM private key)"},
	Keywords: []string{"client-key-data"},
	Regex:    re(`client-key-data"?\s*:\s*"?(?P<secret>[A-Za-z0-9+/]{100,}={0,2})`),
	Valid: func(s string) bool {
		data, ok := decodeBase64(s)
		return ok && bytes.Contains(data, []byte("PRIVATE KEY-----"))
	},
	After: 16 << 10,
}

var yamlBearerToken = &Rule{
	Rule: finding.Rule{ID: "DV7111", Title: "Bearer token in a kubeconfig or YAML file", Severity: finding.High,
		Description: "A literal `token:` value in YAML, as kubeconfig users, Helm values and CI configuration hold it: a bearer token for the API it belongs to. A `${{ secrets.X }}` or `${VAR}` reference is not reported"},
	Keywords:   []string{"token:"},
	Regex:      re(`(?m)^[ \t]*(?:- )?(?i:token|bearer[_-]?token|access[_-]?token|auth[_-]?token):[ \t]*["']?(?P<secret>[A-Za-z0-9._~+/=-]{20,})["']?[ \t]*\r?$`),
	Valid:      all(literalValue, notHex, func(s string) bool { return !dottedName.MatchString(s) }),
	MinEntropy: 3.5,
	Near:       true,
	Before:     64,
	Fallback:   1,
}

var netrcPassword = &Rule{
	Rule: finding.Rule{ID: "DV7112", Title: "Password in .netrc", Severity: finding.Critical,
		Description: "A `machine … login … password …` entry of a .netrc (or _netrc): curl, Git, ftp and pip send it to that host"},
	Keywords: []string{"machine "},
	// The machine must be a host name or address: a struct with
	// fields named machine, login and password is not a .netrc.
	Regex:     re(`(?s)machine\s+(?:(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]+|localhost)\s+(?:login\s+\S+\s+)?(?:account\s+\S+\s+)?password\s+(?P<secret>\S+)`),
	Valid:     urlPassword,
	MultiLine: true,
	Before:    16,
	After:     512,
	Fallback:  1,
}

var gitCredentials = &Rule{
	Rule: finding.Rule{ID: "DV7113", Title: "Credential in .git-credentials", Severity: finding.Critical,
		Description: "A line of a Git credential store (.git-credentials, git/credentials, written by `credential.helper store`): `https://user:token@host` in plain text"},
	Keywords: []string{"://"},
	Paths:    re(`(?:^|/)(?:\.git-credentials|git/credentials)$`),
	Regex:    re(`(?m)^[a-z][a-z0-9+.-]*://[^:\s/@]+:(?P<secret>[^@\s]+)@[^\s/]+/?\r?$`),
	Valid:    urlPassword,
	Near:     true,
	Before:   24,
	Fallback: 1,
}

var basicAuthHeader = &Rule{
	Rule: finding.Rule{ID: "DV7114", Title: "Basic credentials in an Authorization header", Severity: finding.High,
		Description: "An HTTP `Authorization: Basic` header with base64 of user:password, as curl commands, HTTP client configuration and proxy settings (nginx `proxy_set_header Authorization \"Basic …\"`) carry it",
		Peers:       []string{"curl-auth-header"}},
	Keywords: []string{"authorization"},
	Regex:    re(`(?i:authorization)["']?(?:\s*[:=]\s*|\s+)["']?(?i:basic)\s+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})`),
	Valid:    basicCredential,
	Boundary: base64Chars,
	Fallback: 1,
}

var bearerAuthHeader = &Rule{
	Rule: finding.Rule{ID: "DV7115", Title: "Bearer token in an Authorization header", Severity: finding.High,
		Description: "An HTTP `Authorization: Bearer` header with a literal token, as curl commands, scripts and HTTP client configuration carry it",
		Peers:       []string{"curl-auth-header"}},
	Keywords:   []string{"authorization"},
	Regex:      re(`(?i:authorization)["']?(?:\s*[:=]\s*|\s+)["']?(?i:bearer|token)\s+(?P<secret>[A-Za-z0-9._~+/=-]{20,})`),
	Valid:      all(literalValue, notHex),
	MinEntropy: 3.5,
	Boundary:   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/=-",
	Fallback:   1,
}

var laravelAppKey = &Rule{
	Rule: finding.Rule{ID: "DV7116", Title: "Laravel application key", Severity: finding.Critical,
		Description: "A Laravel `APP_KEY=base64:…` (32 random bytes): it decrypts the application's cookies and encrypted data, and forged cookies have led to remote code execution"},
	Keywords: []string{"app_key"},
	Regex:    re(`(?i:APP_KEY)["']?\s*[=:]\s*["']?base64:(?P<secret>[A-Za-z0-9+/]{43}=)`),
	Valid:    decodesTo(32),
	Boundary: base64Chars,
}

var railsSecretKeyBase = &Rule{
	Rule: finding.Rule{ID: "DV7117", Title: "Rails secret_key_base", Severity: finding.Critical,
		Description: "A Rails `secret_key_base` (at least 64 hex digits): it signs and encrypts sessions and cookies; with it, anyone can forge them"},
	Keywords:   []string{"secret_key_base"},
	Precheck:   assignment,
	Regex:      assign(`secret_key_base`, `[0-9a-f]{64,}`),
	Boundary:   alnumChars,
	MinEntropy: 3.5,
}

// dottedName is a code expression such as config.auth.token: names
// joined by dots. A part that is long, mixes capitals, small letters and
// digits and has a token's entropy is not a name (hvs.CAESIJ2kX9wz…, a
// Vault token): such a value is no code expression.
var dottedName memberExpr

var dottedRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$`)

type memberExpr struct{}

func (memberExpr) MatchString(s string) bool {
	if !dottedRe.MatchString(s) {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if len(part) >= 16 && classes(part) >= 3 && Entropy(part) >= 3.8 {
			return false
		}
	}
	return true
}

func (m memberExpr) Match(b []byte) bool { return m.MatchString(string(b)) }

// identifierLike is made of words without digits: in code and
// configuration a value like this is a variable, a field list or a name
// (password = passwordField, "groupname:password:GID:user_list",
// tokenizer: bert-base-uncased), not a password.
var identifierLike = regexp.MustCompile(`^[A-Za-z_.:-]+$`)

// hexNumber is a numeric constant (TOKEN_ADJUST_PRIVILEGES = 0x0020).
var hexNumber = regexp.MustCompile(`^[-+]?0[xX][0-9a-fA-F]+$`)

// wordsJoined is lower-case words joined by separators: an algorithm, a
// model or a setting (scram-sha-256, bert-base-uncased), not a password. A
// part longer than a word is random (ghp_…, sk_test_…): a token.
// A word may lead with a digit (1password-…, 3scale-…, 2fa-…).
var wordsJoined = regexp.MustCompile(`^[0-9]?[a-z]+(?:[-_.][a-z0-9]{1,15})+$`)

// fileNameLike is a file or a glob of files named in a list or a setting
// (".docker/config.json", "service-account*.json", ".kube/config"): a
// name with a file extension or inside a dot-directory, made of path
// characters only, is where a secret may be, not the secret.
var fileNameLike = regexp.MustCompile(`^(?:\.?[\w*-]+/)*[\w*.-]*\.(?:json|ya?ml|toml|ini|conf|cfg|config|txt|env|xml|properties|pem|crt|cer|key|p12|pfx|jks|keystore|ppk|pub|gpg|asc|tfvars|db|sqlite)$|^\.[\w-]+/[\w.*-]+$`)

// base64Padded is base64 with its padding: the only place an "=" belongs
// in a value (in "scmVersion=" it starts another assignment).
var base64Padded = regexp.MustCompile(`^[A-Za-z0-9+/_-]+={1,2}$`)

// genericRule is the context rule: a name that says "secret" assigned a
// literal that looks like one, in a file (`DB_PASSWORD=…`, `"apiKey":
// "…"`, `secret: …`, `var apiToken string = "…"`, `<apiToken>…</apiToken>`,
// `System.setProperty("db.password", "…")`) or in a NAME=VALUE setting
// (ENV, Compose environment, `docker run -e`, where Assignment applies
// it). It never gives way to a format rule that rejected a value: a
// GitHub token whose checksum fails or a Vault token of an older length,
// assigned to a secret's name, is still a literal credential there. A
// format rule that accepts the value wins the bytes (Fallback 2).
var genericRule = &Rule{
	Rule: finding.Rule{ID: "DV7099", Title: "Credential in a sensitive variable or option", Severity: finding.High,
		Description: "A literal value assigned to a name that says it holds a secret (password, passwd, secret, token, api key, access key, private key, credentials), " +
			"in any syntax: environment and properties files, YAML, JSON, TOML, INI, shell, Makefiles, Go, Java, Kotlin, C#, PHP and Python assignments, " +
			"`System.setProperty(name, value)`, and XML elements. A value a more specific rule rejected (a token with a wrong checksum, a key of another length) is judged here. " +
			"References (`${VAR}`, `$(cmd)`, `{{ … }}`), paths, URLs without a password, numbers, versions, UUIDs, placeholders, encrypted values (`{…}`, `ENC(…)`) and code identifiers are not reported",
		Peers: []string{"generic-api-key"}},
	Keywords: []string{"password", "passwd", "secret", "token", "apikey", "api_key", "api-key", "access_key", "accesskey", "private_key",
		"credential", "pwd", "auth_key", "authkey", "accountkey", "account_key", "passphrase"},
	// Lengths are checked by genericValue: counted repetitions would
	// make the program ten times larger and the matcher slower.
	Regex: re(`(?i)(?P<name>(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|account[_-]?key|private[_-]?key|credentials?|auth[_-]?key|passphrase)[\w.-]*)` +
		`(?:` +
		// NAME = VALUE, with an optional type between (Go `var x
		// string = …`, Kotlin `val x: String = …`) and the operators of
		// env files, YAML, code, Makefiles (:= ::= :::= ?=), PHP (.=)
		// and Logstash (=>).
		`(?:["']|\\")?(?:[ \t]+(?:string|str|const)|[ \t]*:[ \t]*(?:String|string|str))?[ \t]*(?::::=|::=|:=|=>|\?\?=|\?=|\.=|=|:)[ \t]*` +
		`(?:"(?P<secret>[^"\r\n\\]+)"|'(?P<secret>[^'\r\n\\]+)'|\\"(?P<secret>[^"\r\n\\]+)\\"|\x60(?P<secret>[^\x60\r\n]+)\x60|` +
		`(?P<secret>[^\s"'\x60<>;,()\[\]{}\\=!&|][^\s"'\x60<>;,()\[\]{}\\|]*)(?:[\s"'\x60;,]|\\[nrt"]|$))` +
		// "NAME", "VALUE": System.setProperty, map puts, headers.
		`|(?:["']|\\")[ \t]*,[ \t]*(?:"(?P<secret>[^"\r\n\\]+)"|'(?P<secret>[^'\r\n\\]+)')` +
		// <NAME>VALUE</NAME>, on one line or three.
		`|>[ \t]*(?:\r?\n[ \t]*)?(?P<secret>[^<>\s"']+)[ \t]*(?:\r?\n[ \t]*)?</` +
		`)`),
	ValidName: SensitiveName,
	Valid:     genericValue,
	Precheck:  genericAssignment,
	// An XML element's value may stand on the next line.
	MultiLine: true,
	Fallback:  2,
}

// genericAssignment is the generic rule's precheck: after the keyword,
// the rest of a name and then an assignment of something that is not a
// reference (see literalAssignment), `", "` (a name and a value as two
// arguments), or `>` (an XML element).
func genericAssignment(text []byte) bool {
	i := 0
	for i < len(text) && i < 64 && nameChars[text[i]] {
		i++
	}
	rest := text[i:]
	switch {
	case len(rest) > 0 && rest[0] == '>':
		return true
	case len(rest) > 1 && (rest[0] == '"' || rest[0] == '\'') && bytes.IndexByte(rest[1:min(len(rest), 8)], ',') >= 0:
		return true
	}
	// A type between the name and the operator (Go, Kotlin).
	j := 0
	if j < len(rest) && (rest[j] == '"' || rest[j] == '\'') {
		j++
	}
	k := j
	for k < len(rest) && (rest[k] == ' ' || rest[k] == '\t' || rest[k] == ':') {
		k++
	}
	for _, t := range []string{"string", "String", "str", "const"} {
		if n := k + len(t); bytes.HasPrefix(rest[k:], []byte(t)) && (n == len(rest) || !nameChars[rest[n]]) && literalAssignment(rest[n:]) {
			return true
		}
	}
	// Operators valueAt does not know: Makefile ::= and :::=, PHP .=
	// and ??=.
	for k = j; k < len(rest) && (rest[k] == ' ' || rest[k] == '\t'); k++ {
	}
	for _, op := range []string{":::=", "::=", ".=", "??="} {
		if bytes.HasPrefix(rest[k:], []byte(op)) {
			return literalAssignment(append([]byte("="), rest[k+len(op):]...))
		}
	}
	return literalAssignment(text)
}

// publicByDesign are prefixes of values that are public by design: a
// Stripe publishable key is meant for browsers. Named as a secret, they
// are still not one.
var publicByDesign = []string{"pk_live_", "pk_test_"}

// genericValue judges the value of a secret-named assignment in a file.
func genericValue(v string) bool {
	// Files are not ENV lines: a value under ten characters there is a
	// grammar fragment, a name or an example far more often than a
	// password (gitleaks' generic rule draws the line at ten too).
	if len(v) < 10 || len(v) > 200 {
		return false
	}
	for _, p := range publicByDesign {
		if strings.HasPrefix(v, p) {
			return false
		}
	}
	padded := base64Padded.MatchString(v) && len(v)%4 == 0
	for _, op := range []string{"&&", "||", "==", "!=", "=>", "->"} {
		if strings.Contains(v, op) && !(op == "==" && padded) {
			return false // an expression, not a value
		}
	}
	if strings.Contains(v, "=") && !padded {
		return false
	}
	return LiteralSecret(v) && !identifierLike.MatchString(v) && !dottedName.MatchString(v) &&
		!hexNumber.MatchString(v) && !wordsJoined.MatchString(v) && !fileNameLike.MatchString(v) && !strings.ContainsAny(v, " \t\\") && !repetitive(v)
}
