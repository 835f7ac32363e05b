package sign

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// predicateCosignSign is the predicate type of an image signature in
// cosign's bundle format: an in-toto statement whose subject is the image
// and whose predicate is empty. Any other predicate is an attestation.
const predicateCosignSign = "https://sigstore.dev/cosign/sign/v1"

// bundleSig is a Sigstore bundle attached to an image as a referrer.
type bundleSig struct {
	entity *bundle.Bundle
	// statement is the in-toto statement of a DSSE bundle, nil for a
	// message signature.
	statement *statement
}

// statement is the part of an in-toto statement dockvet reads: what it is
// about and what it says. The predicate is kept raw and decoded only
// after the signature verified.
type statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []subject       `json:"subject"`
	Predicate     json.RawMessage `json:"predicate"`
}

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// digests lists the subjects' digests as algorithm:hex.
func (s *statement) digests() []string {
	var out []string
	for _, sub := range s.Subject {
		for alg, hex := range sub.Digest {
			out = append(out, alg+":"+strings.ToLower(hex))
		}
	}
	return out
}

// names reports whether the statement is about the image with digest d.
func (s *statement) names(d string) bool {
	for _, x := range s.digests() {
		if x == d {
			return true
		}
	}
	return false
}

// parseStatement reads an in-toto statement (v0.1 or v1).
func parseStatement(payload []byte) (*statement, error) {
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("the DSSE payload is not an in-toto statement: %v", err)
	}
	if !strings.HasPrefix(st.Type, "https://in-toto.io/Statement/") {
		return nil, fmt.Errorf("the DSSE payload is not an in-toto statement (type %q)", st.Type)
	}
	if len(st.Subject) == 0 {
		return nil, errors.New("the in-toto statement has no subject")
	}
	return &st, nil
}

// parseBundle reads a Sigstore bundle as stored in a registry, and the
// statement inside when it is a DSSE bundle.
func parseBundle(raw []byte) (*bundleSig, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("not a valid Sigstore bundle: %s", oneLine(err.Error()))
	}
	bs := &bundleSig{entity: &b}
	if env := b.GetDsseEnvelope(); env != nil {
		st, err := parseStatement(env.Payload)
		if err != nil {
			return nil, err
		}
		bs.statement = st
	} else if ms := b.GetMessageSignature(); ms == nil || ms.GetMessageDigest() == nil {
		return nil, errors.New("the bundle holds neither a DSSE envelope nor a message signature with a digest")
	}
	return bs, nil
}

// readBundleManifest reads a bundle referrer: one layer, the bundle JSON.
func readBundleManifest(t *target, raw []byte, source string) *candidate {
	c := &candidate{format: FormatBundle, source: source}
	m, err := readManifest(raw)
	if err != nil {
		c.err = err
		return c
	}
	if len(m.Layers) != 1 || !strings.HasPrefix(string(m.Layers[0].MediaType), atBundlePrefix) {
		c.err = errors.New("it does not hold exactly one Sigstore bundle layer")
		return c
	}
	if m.Subject == nil || m.Subject.Digest != t.digest {
		c.err = fmt.Errorf("it is attached to %s, not to this image", subjectOf(m.Subject))
		return c
	}
	limit := int64(maxSignatureBytes)
	if p := m.Annotations[annBundlePredicate]; p != "" && p != predicateCosignSign {
		limit = maxAttestBytes
	}
	data, err := readBlob(t, m.Layers[0], limit)
	if err != nil {
		c.err = fmt.Errorf("it could not be read: %v", err)
		return c
	}
	c.bundle, c.err = parseBundle(data)
	return c
}

// attestation reports whether a candidate is an attestation rather than a
// signature of the image: a DSSE envelope whose statement says something
// other than "this image is signed".
func (c *candidate) attestation() bool {
	switch {
	case c.legacy != nil:
		return c.legacy.dsse
	case c.bundle != nil && c.bundle.statement != nil:
		return c.bundle.statement.PredicateType != predicateCosignSign
	}
	return false
}
