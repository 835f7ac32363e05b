package secrets

import (
	"encoding/json"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Package and image registries, and the files their clients keep
// credentials in.

var npmToken = &Rule{
	Rule: finding.Rule{ID: "DV7008", Title: "npm access token", Severity: finding.Critical,
		Description: "An npm access token (`npm_` and 36 characters): it publishes packages as its owner, the classic supply-chain compromise",
		Peers:       []string{"npm-access-token"}},
	Keywords:   []string{"npm_"},
	Regex:      re(`npm_[A-Za-z0-9]{36}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var pypiToken = &Rule{
	Rule: finding.Rule{ID: "DV7051", Title: "PyPI API token", Severity: finding.Critical,
		Description: "A PyPI or TestPyPI API token (`pypi-` and a macaroon whose encoded header names pypi.org): it uploads releases of the projects it is scoped to",
		Peers:       []string{"pypi-upload-token"}},
	Keywords: []string{"pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"},
	Regex:    re(`pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}`),
	After:    1024,
	Boundary: tokenChars,
}

var rubygemsKey = &Rule{
	Rule: finding.Rule{ID: "DV7052", Title: "RubyGems API key", Severity: finding.Critical,
		Description: "A RubyGems.org API key (`rubygems_` and 48 hex digits), which pushes gems as its owner",
		Peers:       []string{"rubygems-api-token"}},
	Keywords:   []string{"rubygems_"},
	Regex:      re(`rubygems_[0-9a-f]{48}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var nugetKey = &Rule{
	Rule: finding.Rule{ID: "DV7053", Title: "NuGet API key", Severity: finding.Critical,
		Description: "A nuget.org API key (`oy2` and 43 lower-case letters and digits), which pushes packages as its owner"},
	Keywords:   []string{"oy2"},
	Regex:      re(`oy2[a-z0-9]{43}`),
	Boundary:   tokenChars,
	MinEntropy: 3.8,
	Valid:      func(s string) bool { return charClasses(s) >= 2 },
}

var npmrcToken = &Rule{
	Rule: finding.Rule{ID: "DV7054", Title: "Registry token in .npmrc", Severity: finding.Critical,
		Description: "A literal `_authToken=` in an npm or Yarn configuration (.npmrc): the registry token npm, Yarn and pnpm send. A `${NPM_TOKEN}` reference is not reported"},
	Keywords:   []string{"_authtoken"},
	Regex:      re(`(?i:_authToken)[ \t]*=[ \t]*["']?(?P<secret>[^\s"'$]{16,})`),
	Valid:      literalValue,
	MinEntropy: 3.0,
	Fallback:   1,
}

var npmrcPassword = &Rule{
	Rule: finding.Rule{ID: "DV7055", Title: "Registry password in .npmrc", Severity: finding.Critical,
		Description: "A literal `_auth=` (base64 of user:password) or `_password=` (base64 of the password) in .npmrc"},
	Keywords: []string{"_auth", "_password"},
	Regex:    re(`(?m)(?:^|[\s:])(?:_auth|(?P<pw>_password))[ \t]*=[ \t]*["']?(?P<secret>[A-Za-z0-9+/]{8,}={0,2})["']?[ \t]*$`),
	Valid: func(s string) bool {
		data, ok := decodeBase64(s)
		return ok && len(data) >= 4 && printable(data) && !IsPlaceholder(string(data))
	},
	Boundary: base64Chars,
	Precheck: equalsNext,
	Near:     true,
	Before:   4,
	After:    256,
	Fallback: 1,
}

var pypircPassword = &Rule{
	Rule: finding.Rule{ID: "DV7056", Title: "Password in .pypirc", Severity: finding.Critical,
		Description: "A `password =` line in a .pypirc, the upload credential twine and setuptools read (a `pypi-` token there is reported as a PyPI token)"},
	Keywords: []string{"password"},
	Paths:    re(`(?:^|/)\.pypirc$`),
	Regex:    re(`(?im)^[ \t]*password[ \t]*[:=][ \t]*(?P<secret>\S[^\r\n]*?)[ \t]*$`),
	Valid:    literalValue,
	Near:     true,
	Before:   64,
	Fallback: 1,
}

var dockerConfigAuth = &Rule{
	Rule: finding.Rule{ID: "DV7057", Title: "Registry credential in Docker config.json", Severity: finding.Critical,
		Description: "An `auth` entry of a Docker client configuration (~/.docker/config.json `auths`): base64 of user:password, which logs in to the registry without a credential helper"},
	Keywords: []string{`"auth"`},
	Regex:    re(`"auth"\s*:\s*"(?P<secret>[A-Za-z0-9+/]{6,}={0,2})"`),
	Valid:    basicCredential,
	Fallback: 1,
}

var dockerConfigIdentityToken = &Rule{
	Rule: finding.Rule{ID: "DV7058", Title: "Registry identity token in Docker config.json", Severity: finding.Critical,
		Description: "An `identitytoken` of a Docker client configuration: an OAuth refresh token for the registry"},
	Keywords:   []string{`"identitytoken"`},
	Regex:      re(`"identitytoken"\s*:\s*"(?P<secret>[^"\s]{16,})"`),
	Valid:      literalValue,
	MinEntropy: 3.5,
	Fallback:   1,
}

var dockerHubPAT = &Rule{
	Rule: finding.Rule{ID: "DV7009", Title: "Docker Hub personal access token", Severity: finding.Critical,
		Description: "A Docker Hub personal access token (`dckr_pat_` and 27 characters): it pushes and pulls the owner's repositories"},
	Keywords:   []string{"dckr_pat_"},
	Regex:      re(`dckr_pat_[A-Za-z0-9_-]{27,}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var dockerHubOrgToken = &Rule{
	Rule: finding.Rule{ID: "DV7059", Title: "Docker Hub organization access token", Severity: finding.Critical,
		Description: "A Docker Hub organization access token (`dckr_oat_`), with the repository permissions the organisation granted it"},
	Keywords:   []string{"dckr_oat_"},
	Regex:      re(`dckr_oat_[A-Za-z0-9_-]{27,}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var swarmJoinToken = &Rule{
	Rule: finding.Rule{ID: "DV7118", Title: "Docker Swarm join token", Severity: finding.Critical,
		Description: "A Docker Swarm join token (`SWMTKN-1-`, 50 and 25 base-36 characters): with the manager token, any machine joins the swarm as a manager and controls every service and secret in it; with the worker token, it receives tasks and their secrets"},
	Keywords:   []string{"SWMTKN-1-"},
	Regex:      re(`SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var swarmUnlockKey = &Rule{
	Rule: finding.Rule{ID: "DV7119", Title: "Docker Swarm unlock key", Severity: finding.Critical,
		Description: "A Docker Swarm unlock key (`SWMKEY-1-` and 43 characters): it decrypts a locked swarm's Raft logs, which hold the swarm's secrets and TLS keys"},
	Keywords:   []string{"SWMKEY-1-"},
	Regex:      re(`SWMKEY-1-[A-Za-z0-9+/]{43}`),
	Boundary:   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-",
	MinEntropy: 4.0,
}

var jfrogToken = &Rule{
	Rule: finding.Rule{ID: "DV7060", Title: "JFrog Artifactory token", Severity: finding.Critical,
		Description: "A JFrog Artifactory API key (`AKCp` and 69 characters) or reference token (`cmVmd…`, 64 characters): they read and deploy artifacts and images",
		Peers:       []string{"artifactory-api-key", "artifactory-reference-token"}},
	Keywords:   []string{"AKCp", "cmVmd"},
	Regex:      re(`AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59}`),
	Boundary:   alnumChars,
	MinEntropy: 4.0,
}

var mavenSettingsPassword = &Rule{
	Rule: finding.Rule{ID: "DV7061", Title: "Password in Maven settings.xml", Severity: finding.High,
		Description: "A `<password>` of a Maven settings.xml server entry (~/.m2/settings.xml), used to deploy to and read from repositories, or a `<passphrase>` of a server's private key; a `${env.…}` reference or a Maven-encrypted `{…}` value is not reported (the master password that decrypts it is, DV7124)",
		Peers:       []string{"maven-settings-password", "maven-settings-passphrase"}},
	Keywords: []string{"<password>", "<passphrase>"},
	Regex:    re(`<(?:password|passphrase)>\s*(?P<secret>[^<\s][^<]{4,}?)\s*</(?:password|passphrase)>`),
	Valid:    literalValue,
	Fallback: 1,
}

var mavenMasterPassword = &Rule{
	Rule: finding.Rule{ID: "DV7124", Title: "Maven master password", Severity: finding.Critical,
		Description: "The `<master>` password of a Maven settings-security.xml: it decrypts every `{…}` password of settings.xml. Maven encrypts the master itself with a constant, published passphrase, so an encrypted `{…}` master is as good as plain text and is reported too",
		Peers:       []string{"maven-settings-security-master"}},
	Keywords: []string{"<master>"},
	Paths:    re(`(?:^|/)settings-security\.xml$`),
	Regex:    re(`<master>\s*(?P<secret>[^<\s][^<]{3,}?)\s*</master>`),
	Valid:    func(s string) bool { return !IsReference(s) && !IsPlaceholder(s) && !repetitive(s) },
}

var composerAuthPassword = &Rule{
	Rule: finding.Rule{ID: "DV7062", Title: "Password in Composer auth.json", Severity: finding.High,
		Description: "An `http-basic` password of a Composer auth.json, used to install private PHP packages"},
	Keywords:  []string{`"http-basic"`},
	Regex:     re(`"http-basic"\s*:\s*\{[^}]*?"password"\s*:\s*"(?P<secret>[^"]{6,})"`),
	Valid:     literalValue,
	MultiLine: true,
	Before:    16,
	After:     2048,
	Fallback:  1,
}

// hasLower reports whether s has a lower-case letter.
func hasLower(s string) bool { return strings.ToUpper(s) != s }

var kubernetesPullSecret = &Rule{
	Rule: finding.Rule{ID: "DV7122", Title: "Registry credential in a Kubernetes pull secret", Severity: finding.Critical,
		Description: "The `.dockerconfigjson` (or legacy `.dockercfg`) of a Kubernetes `kubernetes.io/dockerconfigjson` Secret: base64 of a Docker config whose `auths` hold a registry password or token. The value is decoded and reported only when it holds a credential",
		Peers:       []string{"dockerconfig-secret"}},
	Keywords:  []string{".dockerconfigjson", ".dockercfg"},
	Regex:     re(`\.docker(?:configjson|cfg)["']?[ \t]*:[ \t]*(?:[|>][-+]?[ \t]*\r?\n[ \t]*)?["']?(?P<secret>[A-Za-z0-9+/]{16,}={0,2})`),
	Valid:     dockerConfigCredential,
	MultiLine: true,
	After:     16 << 10,
	Boundary:  base64Chars,
}

// dockerConfigCredential decodes a base64 Docker configuration
// (.dockerconfigjson: {"auths": {REGISTRY: {…}}}; .dockercfg: {REGISTRY:
// {…}}) and reports whether an entry holds a credential: an `auth` of
// user:password, a password or an identity token that is not a
// placeholder.
func dockerConfigCredential(b64 string) bool {
	data, ok := decodeBase64(b64)
	if !ok {
		return false
	}
	var cfg struct {
		Auths map[string]dockerAuth `json:"auths"`
	}
	entries := map[string]dockerAuth{}
	if json.Unmarshal(data, &cfg) == nil && cfg.Auths != nil {
		entries = cfg.Auths
	} else if json.Unmarshal(data, &entries) != nil {
		return false
	}
	for _, e := range entries {
		if e.Auth != "" && basicCredential(e.Auth) ||
			e.Password != "" && urlPassword(e.Password) ||
			e.IdentityToken != "" && literalValue(e.IdentityToken) {
			return true
		}
	}
	return false
}

type dockerAuth struct {
	Auth          string `json:"auth"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
}

var privatePackagistToken = &Rule{
	Rule: finding.Rule{ID: "DV7123", Title: "Private Packagist token", Severity: finding.Critical,
		Description: "A Private Packagist organisation or user token (`packagist_ort_`, `packagist_out_`, `packagist_uut_` and 68 hex digits): it installs, and with write access publishes, the organisation's private PHP packages",
		Peers:       []string{"private-packagist-token"}},
	Keywords:   []string{"packagist_"},
	Regex:      re(`packagist_(?:ort|out|uut|uat)_[a-f0-9]{68}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var nugetConfigPassword = &Rule{
	Rule: finding.Rule{ID: "DV7131", Title: "Password in NuGet.Config", Severity: finding.High,
		Description: "A `ClearTextPassword` of a NuGet.Config `packageSourceCredentials` entry: the password of a private package feed, in plain text (an encrypted `Password` entry is tied to the machine that wrote it)",
		Peers:       []string{"nuget-config-password"}},
	Keywords: []string{`key="cleartextpassword"`},
	Regex:    re(`(?i:key)="(?i:ClearTextPassword)"\s+(?i:value)="(?P<secret>[^"]{6,})"`),
	Valid:    literalValue,
}
