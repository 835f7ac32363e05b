package sign

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// The annotations cosign writes on a signature layer.
const (
	annSignature   = "dev.cosignproject.cosign/signature"
	annCertificate = "dev.sigstore.cosign/certificate"
	annChain       = "dev.sigstore.cosign/chain"
	annRekorBundle = "dev.sigstore.cosign/bundle"
	annRFC3161     = "dev.sigstore.cosign/rfc3161timestamp"
	annPredicate   = "predicateType"

	// simpleSigningType is the critical.type of a cosign image signature.
	simpleSigningType = "cosign container image signature"
	// legacyBundleType is the media type of the bundle a legacy signature
	// is equivalent to: v0.1 takes a log entry's signed promise without an
	// inclusion proof, which is what cosign stored before bundles.
	legacyBundleType = "application/vnd.dev.sigstore.bundle+json;version=0.1"
)

// legacySig is one layer of a cosign signature (or attestation) manifest.
type legacySig struct {
	// payload is the simple signing payload (a signature) or the DSSE
	// envelope (an attestation) the layer holds.
	payload []byte
	// digest is the image digest the payload names (signatures only;
	// for attestations the statement's subjects name it).
	digest string
	// reference is the payload's critical.identity.docker-reference.
	reference string
	// entity is the payload, signature, certificate, log entry and
	// timestamp as the Sigstore bundle they amount to.
	entity *bundle.Bundle
	dsse   bool
	// statement is the in-toto statement of an attestation.
	statement *statement
}

// simpleSigning is cosign's signature payload (the "simple signing"
// format of containers/image, with cosign's type string).
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// parseSimpleSigning reads a signature payload and checks it is one.
func parseSimpleSigning(payload []byte) (*simpleSigning, error) {
	var ss simpleSigning
	if err := json.Unmarshal(payload, &ss); err != nil {
		return nil, fmt.Errorf("the payload is not a cosign signature payload: %v", err)
	}
	if !strings.EqualFold(ss.Critical.Type, simpleSigningType) {
		return nil, fmt.Errorf("the payload's type is %q, not %q", ss.Critical.Type, simpleSigningType)
	}
	if _, err := v1.NewHash(ss.Critical.Image.DockerManifestDigest); err != nil {
		return nil, fmt.Errorf("the payload names no image digest (%q)", ss.Critical.Image.DockerManifestDigest)
	}
	return &ss, nil
}

// rekorBundle is cosign's dev.sigstore.cosign/bundle annotation: a Rekor
// entry and the log's signed promise to include it.
type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

// logEntry turns the annotation into the bundle's log entry.
func (rb *rekorBundle) logEntry() (*protorekor.TransparencyLogEntry, error) {
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil {
		return nil, fmt.Errorf("log entry body is not base64: %v", err)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil || len(logID) == 0 {
		return nil, fmt.Errorf("log ID %q is not hex", rb.Payload.LogID)
	}
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kv); err != nil || kv.Kind == "" || kv.APIVersion == "" {
		return nil, errors.New("log entry body names no kind and version")
	}
	if rb.Payload.LogIndex < 0 || len(rb.SignedEntryTimestamp) == 0 {
		return nil, errors.New("log entry has no index or no signed entry timestamp")
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}, nil
}

// readCosignManifest reads the layers of a cosign signature or
// attestation manifest (the .sig/.att tag, or the same manifest as an OCI
// referrer). Each layer is one signature.
func readCosignManifest(_ context.Context, t *target, raw []byte, source string) []*candidate {
	m, err := readManifest(raw)
	if err != nil {
		return []*candidate{{format: FormatCosign, source: source, err: err}}
	}
	var out []*candidate
	for i, l := range m.Layers {
		src := source
		if len(m.Layers) > 1 {
			src = fmt.Sprintf("%s (layer %d of %d)", source, i+1, len(m.Layers))
		}
		c := &candidate{format: FormatCosign, source: src}
		out = append(out, c)
		if string(l.MediaType) != mtSimpleSigning && string(l.MediaType) != mtDSSE {
			c.err = fmt.Errorf("it holds a %s layer, not a cosign signature", l.MediaType)
			continue
		}
		limit := int64(maxSignatureBytes)
		if string(l.MediaType) == mtDSSE {
			limit = maxAttestBytes
		}
		payload, err := readBlob(t, l, limit)
		if err != nil {
			c.err = fmt.Errorf("it could not be read: %v", err)
			continue
		}
		c.legacy, c.err = parseLegacy(payload, string(l.MediaType), l.Annotations)
	}
	if len(out) == 0 {
		out = append(out, &candidate{format: FormatCosign, source: source, err: errors.New("it has no signature layers")})
	}
	return out
}

// parseLegacy reads one cosign layer: its payload and its annotations,
// and builds the Sigstore bundle it is equivalent to.
func parseLegacy(payload []byte, mediaType string, ann map[string]string) (*legacySig, error) {
	ls := &legacySig{payload: payload}
	pb := &protobundle.Bundle{MediaType: legacyBundleType, VerificationMaterial: &protobundle.VerificationMaterial{}}
	if mediaType == mtDSSE {
		ls.dsse = true
		env, err := parseDSSE(payload)
		if err != nil {
			return nil, err
		}
		if ls.statement, err = parseStatement(env.Payload); err != nil {
			return nil, err
		}
		pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env}
	} else {
		ss, err := parseSimpleSigning(payload)
		if err != nil {
			return nil, err
		}
		ls.digest, ls.reference = ss.Critical.Image.DockerManifestDigest, ss.Critical.Identity.DockerReference
		sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ann[annSignature]))
		if err != nil || len(sig) == 0 {
			return nil, errors.New("the layer has no signature annotation (" + annSignature + ")")
		}
		sum := sha256.Sum256(payload)
		pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}}
	}
	if c := strings.TrimSpace(ann[annCertificate]); c != "" {
		cert, err := parseCertPEM([]byte(c))
		if err != nil {
			return nil, fmt.Errorf("certificate annotation: %v", err)
		}
		// The chain annotation is not used: the trusted root holds the
		// CA's intermediates, and a chain the signer ships proves nothing.
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}}
	} else {
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}}
	}
	if rb := strings.TrimSpace(ann[annRekorBundle]); rb != "" {
		var b rekorBundle
		if err := json.Unmarshal([]byte(rb), &b); err != nil {
			return nil, fmt.Errorf("transparency log annotation is not JSON: %v", err)
		}
		e, err := b.logEntry()
		if err != nil {
			return nil, fmt.Errorf("transparency log annotation: %v", err)
		}
		pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{e}
	}
	if ts := strings.TrimSpace(ann[annRFC3161]); ts != "" {
		var t struct {
			SignedRFC3161Timestamp []byte `json:"SignedRFC3161Timestamp"`
		}
		if err := json.Unmarshal([]byte(ts), &t); err != nil || len(t.SignedRFC3161Timestamp) == 0 {
			return nil, errors.New("timestamp annotation holds no RFC 3161 timestamp")
		}
		pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: t.SignedRFC3161Timestamp}},
		}
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("not a valid signature: %v", oneLine(err.Error()))
	}
	ls.entity = b
	return ls, nil
}

// dsseJSON is a DSSE envelope as JSON carries it (payload in base64).
type dsseJSON struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

func parseDSSE(raw []byte) (*protodsse.Envelope, error) {
	var e dsseJSON
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("not a DSSE envelope: %v", err)
	}
	payload, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil || len(payload) == 0 {
		return nil, errors.New("the DSSE envelope has no base64 payload")
	}
	if len(e.Signatures) == 0 {
		return nil, errors.New("the DSSE envelope holds no signature")
	}
	env := &protodsse.Envelope{Payload: payload, PayloadType: e.PayloadType}
	for _, s := range e.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			return nil, errors.New("a DSSE signature is not base64")
		}
		env.Signatures = append(env.Signatures, &protodsse.Signature{Sig: sig, Keyid: s.KeyID})
	}
	return env, nil
}

// parseCertPEM reads the first certificate of a PEM text.
func parseCertPEM(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM certificate")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}
