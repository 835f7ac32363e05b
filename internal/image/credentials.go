package image

import (
	"bytes"
	"path"
	"strings"

	"github.com/dockvet/dockvet/internal/secrets"
)

// credFile is a kind of file that holds credentials, known by its name.
type credFile struct {
	what string
	// confirm, when set, must accept the head of the file: a .pem that is
	// a certificate, or an .npmrc that only names a registry, is no leak.
	confirm func(head []byte) bool
}

func hasPrivateKey(head []byte) bool {
	for _, m := range secrets.Scan(string(head)) {
		if m.Rule.IsPrivateKey() {
			return true
		}
	}
	return false
}

func containsAny(words ...string) func([]byte) bool {
	return func(head []byte) bool {
		l := bytes.ToLower(head)
		for _, w := range words {
			if bytes.Contains(l, []byte(w)) {
				return true
			}
		}
		return false
	}
}

var (
	sshKeyNames = map[string]bool{"id_rsa": true, "id_dsa": true, "id_ecdsa": true, "id_ed25519": true, "id_ecdsa_sk": true, "id_ed25519_sk": true, "identity": true}
	envExamples = map[string]bool{".env.example": true, ".env.sample": true, ".env.template": true, ".env.dist": true, ".env.defaults": true, ".env.test": true}
)

// libraryDirs hold installed software whose test fixtures and examples
// carry well-known fake keys; a name there says nothing about this image's
// secrets (file contents are the secret engine's to judge).
var libraryDirs = []string{"/usr/share/", "/usr/lib/go", "/usr/local/go/", "/usr/src/", "/opt/conda/pkgs/"}
var librarySegments = []string{"/site-packages/", "/dist-packages/", "/node_modules/", "/vendor/", "/test/", "/tests/", "/testdata/",
	"/fixtures/", "/examples/", "/example/", "/gems/", "/go/pkg/mod/", "/.cargo/registry/"}

func inLibrary(p string) bool {
	for _, d := range libraryDirs {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	for _, s := range librarySegments {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}

// fileCredential says whether a File is a credential file, and what kind.
// The name is looked at first: the path is joined, and searched for
// library directories, only for a would-be credential file (13 searches
// of every path were a tenth of a walk of long names).
func fileCredential(f *File) (credFile, bool) {
	dir := "/"
	if f.nlen&nameFull != 0 {
		dir = path.Base(f.Dir())
	} else if f.dir != nil && f.dir.parent() != nil {
		dir = f.dir.name()
	}
	c, ok := credentialName(f.Name(), dir, f.Type)
	if !ok || inLibrary(f.Path()) {
		return credFile{}, false
	}
	return c, true
}

// credentialName is fileCredential without the library directories: base
// is the file's name, dir its directory's.
func credentialName(base, dir string, t Type) (credFile, bool) {
	lower := strings.ToLower(base)
	if t == Dir {
		if base == ".git" {
			return credFile{what: "a Git repository, with its history and remotes"}, true
		}
		return credFile{}, false
	}
	if t != Regular {
		return credFile{}, false
	}
	switch {
	case sshKeyNames[lower] && dir == ".ssh" || sshKeyNames[lower] && lower != "identity":
		return credFile{what: "an SSH private key"}, true
	case strings.HasPrefix(lower, "ssh_host_") && strings.HasSuffix(lower, "_key"):
		return credFile{what: "an SSH host private key, shared by every container of the image", confirm: hasPrivateKey}, true
	case lower == ".env" || strings.HasPrefix(lower, ".env.") && !envExamples[lower]:
		return credFile{what: "an environment file"}, true
	case dir == ".aws" && base != "config":
		return credFile{what: "AWS CLI credentials"}, true
	case dir == ".docker" && base == "config.json":
		return credFile{what: "Docker registry credentials", confirm: containsAny(`"auth"`, `"identitytoken"`)}, true
	case base == ".npmrc":
		return credFile{what: "an npm token", confirm: containsAny("_authtoken", "_auth=", "_password")}, true
	case base == ".pypirc":
		return credFile{what: "PyPI credentials", confirm: containsAny("password")}, true
	case base == ".netrc" || base == "_netrc":
		return credFile{what: "a .netrc with passwords", confirm: containsAny("password")}, true
	case base == ".git-credentials":
		return credFile{what: "Git credentials"}, true
	case base == ".pgpass":
		return credFile{what: "PostgreSQL passwords (.pgpass)"}, true
	case dir == ".kube" && base == "config" || lower == "kubeconfig" || strings.HasSuffix(lower, ".kubeconfig"):
		return credFile{what: "a kubeconfig with cluster credentials", confirm: containsAny("client-key-data", "token:", "password:", "client-key:")}, true
	case lower == "credentials.json" || strings.Contains(lower, "service-account") && strings.HasSuffix(lower, ".json"):
		return credFile{what: "a Google service account key", confirm: containsAny(`"private_key"`)}, true
	}
	switch path.Ext(lower) {
	case ".pem", ".key", ".priv":
		return credFile{what: "a private key", confirm: hasPrivateKey}, true
	case ".p12", ".pfx", ".jks", ".keystore":
		return credFile{what: "a key store"}, true
	}
	return credFile{}, false
}
