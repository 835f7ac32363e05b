package sign

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/dockvet/dockvet/internal/safefile"

	"github.com/notaryproject/notation-core-go/revocation"
	crlutil "github.com/notaryproject/notation-core-go/revocation/crl"
	"github.com/notaryproject/notation-core-go/revocation/purpose"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/dockvet/dockvet/internal/policy"
)

// Trust lists who may have signed an image; a signature that verifies
// with any one of them is enough.
type Trust []*Signer

// Signer is one accepted signer: a cosign public key, a keyless identity
// checked against a Sigstore trusted root, or a notation trust policy.
type Signer struct {
	// Name says who it is in messages.
	Name string

	key      *publicKey
	identity *verify.CertificateIdentity
	// root is the Sigstore trusted root: required for an identity (its
	// CAs and transparency logs), optional for a key (its logs).
	root *root.TrustedRoot
	// notary verifies notation signatures with a trust policy and store.
	notary notation.Verifier
}

// handles reports whether the signer can judge signatures of format f.
func (s *Signer) handles(f Format) bool {
	if s.notary != nil {
		return f == FormatNotation
	}
	return f == FormatCosign || f == FormatBundle
}

// Loader reads keys, trusted roots and notation configurations once, so a
// policy naming the same key for many images, or a host with many
// containers, reads each file once.
type Loader struct {
	// Offline forbids the network: the public Sigstore trusted root is then
	// read from the cache only, and notation's revocation checks cannot
	// reach OCSP responders or CRLs.
	Offline bool
	// CacheDir keeps the public Sigstore trusted root (TUF metadata).
	CacheDir string

	mu    sync.Mutex
	roots map[string]*root.TrustedRoot
	notes map[string]notation.Verifier
}

// Key is a signer holding the public key in a PEM file; trustedRoot, when
// not empty, is a Sigstore trusted root whose transparency logs must then
// vouch for the signature if it was logged.
func (l *Loader) Key(path, trustedRoot string) (*Signer, error) {
	data, err := safefile.ReadFile(path, safefile.MaxKey)
	if err != nil {
		return nil, fmt.Errorf("--key %s: %s", path, safefile.Message(err))
	}
	k, err := parsePublicKey(path, data)
	if err != nil {
		return nil, err
	}
	s := &Signer{Name: k.describe(), key: k}
	if trustedRoot != "" {
		if s.root, err = l.TrustedRoot(trustedRoot); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Identity is a keyless signer: a certificate for this subject (exact or
// regexp), vouched for by this OIDC issuer, issued by a CA of the trusted
// root ("" means the public Sigstore instance's root, through TUF).
func (l *Loader) Identity(subject, subjectRegexp, issuer, issuerRegexp, trustedRoot string) (*Signer, error) {
	id, err := verify.NewShortCertificateIdentity(issuer, issuerRegexp, subject, subjectRegexp)
	if err != nil {
		return nil, fmt.Errorf("certificate identity: %s", oneLine(err.Error()))
	}
	r, err := l.TrustedRoot(trustedRoot)
	if err != nil {
		return nil, err
	}
	name := policy.Signer{Identity: subject, IdentityRegexp: subjectRegexp, Issuer: issuer, IssuerRegexp: issuerRegexp}.Describe()
	return &Signer{Name: name, identity: &id, root: r}, nil
}

// Notation is a signer for notation signatures: the trust policy
// (trustpolicy.oci.json, or trustpolicy.json) and trust store
// (truststore/x509/TYPE/NAME/*.pem) of a notation configuration directory.
func (l *Loader) Notation(configDir string) (*Signer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.notes[configDir]; ok {
		return &Signer{Name: "the notation trust policy in " + configDir, notary: v}, nil
	}
	doc, err := readTrustPolicy(configDir)
	if err != nil {
		return nil, err
	}
	codeSigning, timestamping, err := revocationValidators(l.Offline)
	if err != nil {
		return nil, err
	}
	store := truststore.NewX509TrustStore(dir.NewSysFS(configDir))
	v, err := verifier.NewWithOptions(doc, store, nil, verifier.VerifierOptions{
		RevocationCodeSigningValidator: codeSigning, RevocationTimestampingValidator: timestamping})
	if err != nil {
		return nil, fmt.Errorf("notation trust policy in %s: %s", configDir, oneLine(err.Error()))
	}
	if l.notes == nil {
		l.notes = map[string]notation.Verifier{}
	}
	l.notes[configDir] = v
	return &Signer{Name: "the notation trust policy in " + configDir, notary: v}, nil
}

// readTrustPolicy reads notation's OCI trust policy from its configuration
// directory, under either name notation has used for it.
func readTrustPolicy(configDir string) (*trustpolicy.Document, error) {
	var data []byte
	var err error
	for _, name := range []string{"trustpolicy.oci.json", "trustpolicy.json"} {
		data, err = safefile.ReadFile(filepath.Join(configDir, name), safefile.MaxConfig)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("notation configuration %s has no trustpolicy.oci.json", configDir)
		}
		return nil, fmt.Errorf("notation trust policy in %s: %v", configDir, unwrapPath(err))
	}
	var doc trustpolicy.Document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("notation trust policy in %s: %s", configDir, oneLine(err.Error()))
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("notation trust policy in %s: %s", configDir, oneLine(err.Error()))
	}
	return &doc, nil
}

// revocationValidators are notation's certificate revocation checks
// (OCSP, then CRLs). Offline, every request fails at once: the trust
// policy then decides what an unknown revocation status means.
func revocationValidators(offline bool) (codeSigning, timestamping revocation.Validator, err error) {
	client := &http.Client{Timeout: 5 * time.Second}
	if offline {
		client = &http.Client{Transport: refuse{}}
	}
	fetcher, err := crlutil.NewHTTPFetcher(client)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range []struct {
		out *revocation.Validator
		use purpose.Purpose
	}{{&codeSigning, purpose.CodeSigning}, {&timestamping, purpose.Timestamping}} {
		v, err := revocation.NewWithOptions(revocation.Options{OCSPHTTPClient: client, CRLFetcher: fetcher, CertChainPurpose: p.use})
		if err != nil {
			return nil, nil, err
		}
		*p.out = v
	}
	return codeSigning, timestamping, nil
}

// refuse is the transport of an offline run.
type refuse struct{}

func (refuse) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("--offline: not fetching %s", r.URL.Redacted())
}

// TrustedRoot reads a Sigstore trusted root file; "" is the public
// Sigstore instance's root, fetched and verified through TUF (its
// metadata is cached, and offline only the cache is read).
func (l *Loader) TrustedRoot(path string) (*root.TrustedRoot, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.roots[path]; ok {
		return r, nil
	}
	var r *root.TrustedRoot
	var err error
	if path != "" {
		data, rerr := safefile.ReadFile(path, safefile.MaxConfig)
		if rerr != nil {
			return nil, fmt.Errorf("trusted root %s: %s", path, safefile.Message(rerr))
		}
		if r, err = parseTrustedRoot(data); err != nil {
			return nil, fmt.Errorf("trusted root %s: %v", path, err)
		}
	} else {
		opts := tuf.DefaultOptions()
		if l.CacheDir != "" {
			opts = opts.WithCachePath(filepath.Join(l.CacheDir, "sigstore-tuf"))
		}
		if l.Offline {
			opts = opts.WithForceCache()
		}
		if r, err = root.FetchTrustedRootWithOptions(opts); err != nil {
			if l.Offline {
				return nil, fmt.Errorf("keyless verification needs a trusted root: --offline forbids fetching Sigstore's, and none is cached; give --trusted-root FILE")
			}
			return nil, fmt.Errorf("fetching the Sigstore trusted root: %s (give --trusted-root FILE to verify offline)", oneLine(err.Error()))
		}
	}
	if l.roots == nil {
		l.roots = map[string]*root.TrustedRoot{}
	}
	l.roots[path] = r
	return r, nil
}

// parseTrustedRoot reads a trusted_root.json and insists it can vouch for
// something: a root without CAs or logs would make every keyless
// signature fail with a puzzling message.
func parseTrustedRoot(data []byte) (*root.TrustedRoot, error) {
	r, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, errors.New(oneLine(err.Error()))
	}
	if len(r.FulcioCertificateAuthorities()) == 0 && len(r.RekorLogs()) == 0 && len(r.TimestampingAuthorities()) == 0 {
		return nil, errors.New("it lists no certificate authority, transparency log or timestamp authority")
	}
	return r, nil
}

// FromPolicy builds the signers a trust rule lists.
func (l *Loader) FromPolicy(signers []policy.Signer) (Trust, error) {
	var t Trust
	for _, ps := range signers {
		var s *Signer
		var err error
		switch {
		case ps.Key != "":
			s, err = l.Key(ps.Key, ps.TrustedRoot)
		case ps.Notation != "":
			s, err = l.Notation(ps.Notation)
		default:
			s, err = l.Identity(ps.Identity, ps.IdentityRegexp, ps.Issuer, ps.IssuerRegexp, ps.TrustedRoot)
		}
		if err != nil {
			return nil, err
		}
		t = append(t, s)
	}
	return t, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
