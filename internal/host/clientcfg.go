package host

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// ClientConfig is one user's Docker client configuration
// (~/.docker/config.json). Credentials are never kept: only which
// registries have one in the file, and a fingerprint of it.
type ClientConfig struct {
	Path string `json:"path"`
	// User is the account whose home holds the file.
	User        string            `json:"user,omitempty"`
	File        File              `json:"file"`
	CredsStore  string            `json:"credsStore,omitempty"`
	CredHelpers map[string]string `json:"credHelpers,omitempty"`
	// Stored are the registries whose credentials are written in the
	// file itself.
	Stored []StoredAuth `json:"stored,omitempty"`
}

// StoredAuth is a credential written in config.json.
type StoredAuth struct {
	Registry string `json:"registry"`
	// Kind is the field that holds it: auth (base64 user:password),
	// password, identitytoken or registrytoken.
	Kind string `json:"kind"`
	// Username is the account name when the file says it (it is not
	// secret, and tells the owner which credential to revoke).
	Username    string `json:"username,omitempty"`
	Fingerprint string `json:"fingerprint"`
}

// credentialRuleID salts credential fingerprints: it is the rule that
// reports them, so an ignore entry for that rule can name one.
const credentialRuleID = "DV4810"

type clientConfigJSON struct {
	Auths map[string]struct {
		Auth          string `json:"auth"`
		Username      string `json:"username"`
		Password      string `json:"password"`
		IdentityToken string `json:"identitytoken"`
		RegistryToken string `json:"registrytoken"`
	} `json:"auths"`
	CredsStore  string            `json:"credsStore"`
	CredHelpers map[string]string `json:"credHelpers"`
}

// parseClientConfig reads a config.json. The Docker CLI refuses a file
// that is not JSON, and so does this.
func parseClientConfig(data []byte) (ClientConfig, error) {
	var c ClientConfig
	var raw clientConfigJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return c, fmt.Errorf("not a valid Docker client configuration: %v", err)
	}
	c.CredsStore, c.CredHelpers = raw.CredsStore, raw.CredHelpers
	regs := make([]string, 0, len(raw.Auths))
	for r := range raw.Auths {
		regs = append(regs, r)
	}
	sort.Strings(regs)
	for _, r := range regs {
		a := raw.Auths[r]
		user := a.Username
		for _, s := range []struct{ kind, value string }{
			{"auth", a.Auth}, {"password", a.Password}, {"identitytoken", a.IdentityToken}, {"registrytoken", a.RegistryToken},
		} {
			if s.value == "" {
				continue
			}
			if s.kind == "auth" && user == "" {
				if dec, err := base64.StdEncoding.DecodeString(s.value); err == nil {
					if u, _, ok := strings.Cut(string(dec), ":"); ok {
						user = u
					}
				}
			}
			c.Stored = append(c.Stored, StoredAuth{Registry: r, Kind: s.kind, Username: user,
				Fingerprint: finding.Fingerprint(credentialRuleID, s.value)})
			break
		}
	}
	return c, nil
}
