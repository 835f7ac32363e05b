package fleet

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/cli/cli/config/configfile"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/dockvet/dockvet/internal/fleet/store"
)

// Credential references: what a registered registry stores instead of
// credentials. The credentials themselves stay where they are (the
// server's Docker configuration and its helpers, or a file only the
// server's user reads) and are read when a crawl or scan needs them.
const (
	CredDockerConfig = "docker-config"
	credFilePrefix   = "file:"
)

// CheckCredentials validates a credential reference. It refuses anything
// else, so a password pasted into the field is never stored.
func CheckCredentials(ref string) error {
	switch {
	case ref == "" || ref == CredDockerConfig:
		return nil
	case strings.HasPrefix(ref, credFilePrefix):
		p := strings.TrimPrefix(ref, credFilePrefix)
		if !filepath.IsAbs(p) {
			return errors.New(`credentials: want "docker-config" or "file:/absolute/path/to/config.json"`)
		}
		return nil
	}
	return errors.New(`credentials: want "docker-config" or "file:/absolute/path/to/config.json" (a reference, never the credentials)`)
}

// keychain returns the keychain a credential reference names.
func keychain(ref string) (authn.Keychain, error) {
	switch {
	case ref == "" || ref == CredDockerConfig:
		return authn.DefaultKeychain, nil
	case strings.HasPrefix(ref, credFilePrefix):
		return fileKeychain(strings.TrimPrefix(ref, credFilePrefix)), nil
	}
	return nil, CheckCredentials(ref)
}

// fileKeychain reads a Docker config.json-style file each time it is
// asked, so a rotated credential is used without a restart.
type fileKeychain string

func (f fileKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	fh, err := os.Open(string(f))
	if err != nil {
		return nil, fmt.Errorf("registry credentials file: %w", err)
	}
	defer fh.Close()
	cf := configfile.New(string(f))
	// LoadFromReader decodes "auth" (base64 user:password) as docker does.
	if err := cf.LoadFromReader(fh); err != nil {
		return nil, fmt.Errorf("registry credentials file %s: %w", f, err)
	}
	key := r.RegistryStr()
	if key == "index.docker.io" {
		key = "https://index.docker.io/v1/"
	}
	ac, ok := cf.AuthConfigs[key]
	if !ok {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{Username: ac.Username, Password: ac.Password, Auth: ac.Auth,
		IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}), nil
}

// jobCred is a pull credential a scan request carried (Harbor sends a
// short-lived robot token with each request). It is held in this process's
// memory only, never in the database, and forgotten after a day.
type jobCred struct {
	kc    authn.Keychain
	until time.Time
}

// SubmitWithAuthorization queues a scan whose registry pull needs the
// Authorization header value given ("Basic BASE64" or "Bearer TOKEN").
// Only this process's workers have the credential: a worker elsewhere
// that claims the job uses its own, and the job is retried.
func (s *Service) SubmitWithAuthorization(ctx context.Context, ref, source, wantDigest, authorization string) (*store.Job, error) {
	j, err := s.Submit(ctx, ref, source, wantDigest, 0)
	if err != nil || authorization == "" || j.State == store.JobDone {
		return j, err
	}
	r, _ := ParseRef(ref)
	var cfg authn.AuthConfig
	switch {
	case strings.HasPrefix(authorization, "Basic "):
		cfg.Auth = strings.TrimSpace(strings.TrimPrefix(authorization, "Basic "))
	case strings.HasPrefix(authorization, "Bearer "):
		cfg.RegistryToken = strings.TrimSpace(strings.TrimPrefix(authorization, "Bearer "))
	default:
		return j, nil
	}
	now := time.Now()
	s.jobCreds.Range(func(k, v any) bool {
		if now.After(v.(jobCred).until) {
			s.jobCreds.Delete(k)
		}
		return true
	})
	s.jobCreds.Store(j.ID, jobCred{kc: hostKeychain{host: r.Registry, auth: authn.FromConfig(cfg)}, until: now.Add(24 * time.Hour)})
	return j, nil
}

// hostKeychain gives one authenticator for one registry host.
type hostKeychain struct {
	host string
	auth authn.Authenticator
}

func (k hostKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() == k.host {
		return k.auth, nil
	}
	return authn.Anonymous, nil
}

// keychainFor finds the credentials for a job: its registry's reference
// when a crawl queued it, else the registered registry on the same host,
// else the server's Docker configuration.
func (s *Service) keychainFor(ctx context.Context, jobID, registryID int64, host string) (authn.Keychain, error) {
	if v, ok := s.jobCreds.Load(jobID); ok {
		return v.(jobCred).kc, nil
	}
	if registryID != 0 {
		r, err := s.o.Store.Registry(ctx, registryID)
		if err == nil {
			return keychain(r.Credentials)
		}
	}
	regs, err := s.o.Store.Registries(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range regs {
		if u, err := url.Parse(r.URL); err == nil && u.Host == host {
			return keychain(r.Credentials)
		}
	}
	return authn.DefaultKeychain, nil
}
