package sign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/notaryproject/notation-go"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// notarySig is a notation signature envelope stored as a referrer.
type notarySig struct {
	envelope  []byte
	mediaType string
}

// readNotationManifest reads a notation referrer: one layer, the JWS or
// COSE envelope.
func readNotationManifest(t *target, raw []byte, source string) *candidate {
	c := &candidate{format: FormatNotation, source: source}
	m, err := readManifest(raw)
	if err != nil {
		c.err = err
		return c
	}
	if len(m.Layers) != 1 {
		c.err = fmt.Errorf("it has %d layers; a notation signature has one", len(m.Layers))
		return c
	}
	mt := string(m.Layers[0].MediaType)
	if mt != mtJWS && mt != mtCOSE {
		c.err = fmt.Errorf("it holds a %s envelope, not JWS or COSE", mt)
		return c
	}
	if m.Subject == nil || m.Subject.Digest != t.digest {
		c.err = fmt.Errorf("it is attached to %s, not to this image", subjectOf(m.Subject))
		return c
	}
	env, err := readBlob(t, m.Layers[0], maxSignatureBytes)
	if err != nil {
		c.err = fmt.Errorf("it could not be read: %v", err)
		return c
	}
	c.notary = &notarySig{envelope: env, mediaType: mt}
	return c
}

func subjectOf(d *v1.Descriptor) string {
	if d == nil {
		return "no image"
	}
	return d.Digest.String()
}

// notationPayload is the signed content of a notation signature.
type notationPayload struct {
	TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
}

// checkNotation verifies a notation signature with the signer's trust
// policy and store.
func (s *Signer) checkNotation(ctx context.Context, t *target, n *notarySig) (*verdict, error) {
	desc := ocispec.Descriptor{MediaType: string(t.desc.MediaType), Digest: digest.Digest(t.digest.String()), Size: t.desc.Size}
	out, err := s.notary.Verify(ctx, desc, n.envelope, notation.VerifierVerifyOptions{
		ArtifactReference: notationRepo(t) + "@" + t.digest.String(), SignatureMediaType: n.mediaType})
	var claimed string
	if out != nil && out.EnvelopeContent != nil {
		var p notationPayload
		if json.Unmarshal(out.EnvelopeContent.Payload.Content, &p) == nil {
			claimed = p.TargetArtifact.Digest.String()
		}
	}
	if err != nil {
		// A signature that is genuine and trusted but names another
		// artifact is reported as that, not as an untrusted signature.
		if claimed != "" && claimed != t.digest.String() && notationAuthentic(out) {
			return &verdict{digest: claimed}, nil
		}
		return nil, errors.New(explainNotation(s, out, err))
	}
	if out == nil || out.EnvelopeContent == nil {
		// Level "skip" in the trust policy: nothing was checked.
		return nil, fmt.Errorf("%s skips verification for %s, so the signature was not checked", s.Name, notationRepo(t))
	}
	v := &verdict{digest: claimed}
	info := out.EnvelopeContent.SignerInfo
	if len(info.CertificateChain) > 0 {
		v.signer = "certificate " + info.CertificateChain[0].Subject.String()
	}
	v.signedAt = info.SignedAttributes.SigningTime
	v.timeSource = "the signing time the signer wrote"
	if len(info.UnsignedAttributes.TimestampSignature) > 0 {
		v.timeSource = "the signing time the signer wrote (the signature carries a timestamp countersignature)"
	}
	return v, nil
}

// notationAuthentic reports whether notation found the envelope intact
// and made by a trusted signer, whatever else failed.
func notationAuthentic(out *notation.VerificationOutcome) bool {
	if out == nil {
		return false
	}
	seen := 0
	for _, r := range out.VerificationResults {
		switch r.Type {
		case "integrity", "authenticity":
			if r.Error != nil {
				return false
			}
			seen++
		}
	}
	return seen == 2
}

// explainNotation is notation's verdict in one sentence: the check that
// failed and what notation said.
func explainNotation(s *Signer, out *notation.VerificationOutcome, err error) string {
	if out != nil {
		for _, r := range out.VerificationResults {
			if r.Error != nil && r.Action == "enforce" {
				return fmt.Sprintf("notation's %s check failed with %s: %s", r.Type, s.Name, oneLine(r.Error.Error()))
			}
		}
	}
	return fmt.Sprintf("it does not verify with %s: %s", s.Name, oneLine(err.Error()))
}

// notationRepo is the repository as notation's trust policy scopes name
// it: "docker.io/library/alpine", not go-containerregistry's
// "index.docker.io/library/alpine".
func notationRepo(t *target) string {
	n := t.repo.Name()
	if rest, ok := strings.CutPrefix(n, "index.docker.io/"); ok {
		return "docker.io/" + rest
	}
	return n
}
