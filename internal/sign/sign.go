// Package sign verifies image signatures stored in registries next to the
// images: cosign signatures (the `sha256-<digest>.sig` tag and OCI 1.1
// referrers), Sigstore bundles (cosign's new bundle format, keyed or
// keyless), and notation (Notary Project) signatures, and the in-toto
// attestations attached the same ways (SLSA provenance, SBOMs).
//
// Artifacts are fetched with go-containerregistry through the same
// credentials and transport as image reads; the cryptography is
// sigstore-go's (legacy cosign signatures are turned into the Sigstore
// bundles they are equivalent to, so one verifier checks keys,
// certificates, transparency log entries and timestamps) and notation-go's.
// cosign itself is not linked.
//
// Verify answers "is this image signed by someone we trust?" for one
// reference; Checker answers it for the images a trust policy
// (internal/policy) requires signatures of, as findings.
package sign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockvet/dockvet/internal/image"
)

// Format is the kind of a signature artifact.
type Format string

// The formats dockvet reads.
const (
	FormatCosign   Format = "cosign"          // simple signing payload + signature annotation
	FormatBundle   Format = "sigstore-bundle" // application/vnd.dev.sigstore.bundle…
	FormatNotation Format = "notation"        // JWS or COSE envelope, application/vnd.cncf.notary.signature
)

// Remote says how registries are reached.
type Remote struct {
	// Insecure allows plain HTTP and unverified TLS (--insecure-registry);
	// a loopback registry may always use plain HTTP.
	Insecure bool
	// Keychain finds credentials; nil means the Docker configuration.
	Keychain authn.Keychain
}

func (r Remote) open() image.OpenOptions {
	return image.OpenOptions{Insecure: r.Insecure, Keychain: r.Keychain}
}

// Options configure Verify.
type Options struct {
	Remote Remote
	// Trust lists who may have signed the image; a signature verified by
	// any one of them is enough.
	Trust Trust
	// Attestations also verifies the in-toto attestations attached to the
	// image (with the same signers) and reads their predicates.
	Attestations bool
}

// Result is what was found and verified for one image.
type Result struct {
	// Ref is the reference as given; Repository and Digest name what was
	// verified (a tag is resolved once, so every signature is checked
	// against the same digest).
	Ref        string  `json:"reference"`
	Repository string  `json:"repository"`
	Digest     v1.Hash `json:"digest"`
	MediaType  string  `json:"mediaType"`
	// Signatures are every signature artifact found, verified or not.
	Signatures []Signature `json:"signatures"`
	// Attestations are the attestations found, when asked for.
	Attestations []Attestation `json:"attestations,omitempty"`
	// Truncated says more artifacts were listed than are checked.
	Truncated bool `json:"truncated,omitempty"`
}

// Verified reports whether at least one signature verified.
func (r *Result) Verified() bool {
	for _, s := range r.Signatures {
		if s.Verified() {
			return true
		}
	}
	return false
}

// Problem says in one sentence why the image is not verified; "" when it is.
func (r *Result) Problem() string {
	if r.Verified() {
		return ""
	}
	if len(r.Signatures) == 0 {
		return fmt.Sprintf("no signature of %s was found (neither the cosign tag %s nor OCI referrers)", r.Digest, sigTag(r.Digest, "sig"))
	}
	var why []string
	for _, s := range r.Signatures {
		why = append(why, s.Source+": "+s.Error)
	}
	if len(r.Signatures) == 1 {
		return fmt.Sprintf("the only signature of %s does not verify: %s", r.Digest, why[0])
	}
	return fmt.Sprintf("none of the %d signatures of %s verifies: %s", len(r.Signatures), r.Digest, strings.Join(dedupe(why), "; "))
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// Signature is one signature artifact and what verifying it showed.
type Signature struct {
	Format Format `json:"format"`
	// Source is where it was found: "tag sha256-….sig (layer 1 of 2)",
	// "referrer sha256:…".
	Source string `json:"source"`
	// Digest is the image digest the signature says it covers.
	Digest string `json:"digest,omitempty"`
	// Signer names who signed, when the signature verified: the key, the
	// certificate's identity and issuer, or the notation certificate's
	// subject.
	Signer string `json:"signer,omitempty"`
	// SignedAt is when it was signed, by a verified timestamp or log
	// entry (or notation's signed signing time); zero when nothing
	// trustworthy says.
	SignedAt time.Time `json:"signedAt,omitzero"`
	// TimeSource says what vouches for SignedAt.
	TimeSource string `json:"timeSource,omitempty"`
	// Log is the transparency log entry, when one was verified.
	Log *LogEntry `json:"log,omitempty"`
	// Error says why it did not verify, in a sentence about "it" (the
	// signature at Source); "" when it verified.
	Error string `json:"error,omitempty"`
}

// Verified reports whether this signature verified.
func (s Signature) Verified() bool { return s.Error == "" }

// LogEntry is a transparency log entry that vouches for a signature.
type LogEntry struct {
	Index          int64     `json:"index"`
	IntegratedTime time.Time `json:"integratedTime"`
}

// Attestation is one in-toto attestation attached to the image.
type Attestation struct {
	Format        Format    `json:"format"`
	Source        string    `json:"source"`
	PredicateType string    `json:"predicateType,omitempty"`
	Digest        string    `json:"digest,omitempty"`
	Signer        string    `json:"signer,omitempty"`
	SignedAt      time.Time `json:"signedAt,omitzero"`
	Error         string    `json:"error,omitempty"`
	// Read from the predicate of a verified attestation only.
	Builder          string `json:"builder,omitempty"`
	SourceRepository string `json:"sourceRepository,omitempty"`
	SourceRevision   string `json:"sourceRevision,omitempty"`
	// Summary describes an SBOM: its format and how many packages it lists.
	Summary string `json:"summary,omitempty"`
}

// Verified reports whether this attestation verified.
func (a Attestation) Verified() bool { return a.Error == "" }

// ErrNoSigners is returned when Verify has nobody to verify with.
var ErrNoSigners = errors.New("nothing to verify with: give --key, --certificate-identity with --certificate-oidc-issuer, or --notation, or a trust rule with signatures in .dockvet.yaml")

// Verify finds the signatures of the image ref names and verifies them.
// An error means the check could not be made (bad reference, unreachable
// registry); a signature that does not verify is part of the Result.
func Verify(ctx context.Context, ref string, o Options) (*Result, error) {
	if len(o.Trust) == 0 {
		return nil, ErrNoSigners
	}
	t, err := resolve(ctx, ref, o.Remote)
	if err != nil {
		return nil, err
	}
	m, err := collect(ctx, t, o.Attestations)
	if err != nil {
		return nil, err
	}
	return evaluate(ctx, t, m, o.Trust), nil
}
