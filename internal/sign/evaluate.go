package sign

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// verdict is what a signer established about one signature: who made it,
// when, and which image it covers (an authenticated claim, still to be
// compared with the image being verified).
type verdict struct {
	digest     string
	signer     string
	signedAt   time.Time
	timeSource string
	log        *LogEntry
	statement  *statement
}

// evaluate verifies every candidate against the trust.
func evaluate(ctx context.Context, t *target, m *material, trust Trust) *Result {
	r := &Result{Ref: t.ref, Repository: t.repo.Name(), Digest: t.digest, MediaType: string(t.desc.MediaType), Truncated: m.truncated}
	for _, c := range m.signatures {
		s := Signature{Format: c.format, Source: c.source}
		v, err := check(ctx, t, c, trust)
		switch {
		case err != nil:
			s.Error = err.Error()
		case v.digest != t.digest.String():
			s.Digest, s.Signer = v.digest, v.signer
			s.Error = mismatch(t, v.digest)
		default:
			s.Digest, s.Signer, s.SignedAt, s.TimeSource, s.Log = v.digest, v.signer, v.signedAt, v.timeSource, v.log
		}
		r.Signatures = append(r.Signatures, s)
	}
	for _, c := range m.attestations {
		r.Attestations = append(r.Attestations, attest(ctx, t, c, trust))
	}
	return r
}

// check verifies one candidate with each signer that handles its format,
// until one accepts it.
func check(ctx context.Context, t *target, c *candidate, trust Trust) (*verdict, error) {
	if c.err != nil {
		return nil, c.err
	}
	var why []string
	for _, s := range trust {
		if !s.handles(c.format) {
			continue
		}
		v, err := s.check(ctx, t, c)
		if err == nil {
			return v, nil
		}
		why = append(why, err.Error())
	}
	if len(why) == 0 {
		return nil, fmt.Errorf("it is a %s signature, and no signer of that kind was given", c.format)
	}
	return nil, errors.New(strings.Join(dedupe(why), "; "))
}

// check verifies one candidate with this signer.
func (s *Signer) check(ctx context.Context, t *target, c *candidate) (*verdict, error) {
	switch {
	case c.notary != nil:
		return s.checkNotation(ctx, t, c.notary)
	case c.legacy != nil && c.legacy.dsse:
		v, err := s.checkSigstore(c.legacy.entity, verify.WithoutArtifactUnsafe())
		if err != nil {
			return nil, err
		}
		v.statement = c.legacy.statement
		v.digest = statementDigest(c.legacy.statement, t)
		return v, nil
	case c.legacy != nil:
		v, err := s.checkSigstore(c.legacy.entity, verify.WithArtifact(bytes.NewReader(c.legacy.payload)))
		if err != nil {
			return nil, err
		}
		v.digest = c.legacy.digest
		return v, nil
	case c.bundle != nil && c.bundle.statement != nil:
		v, err := s.checkSigstore(c.bundle.entity, verify.WithoutArtifactUnsafe())
		if err != nil {
			return nil, err
		}
		v.statement = c.bundle.statement
		v.digest = statementDigest(c.bundle.statement, t)
		return v, nil
	case c.bundle != nil:
		ms := c.bundle.entity.GetMessageSignature().GetMessageDigest()
		if ms.GetAlgorithm() != protocommon.HashAlgorithm_SHA2_256 {
			return nil, fmt.Errorf("the bundle's message digest is %s; image digests are SHA-256", ms.GetAlgorithm())
		}
		claimed := "sha256:" + hex.EncodeToString(ms.GetDigest())
		// The signed message of an image signature is its manifest: with
		// the manifest in hand every key type verifies (Ed25519 cannot be
		// verified from a digest alone).
		art := verify.WithArtifactDigest("sha256", ms.GetDigest())
		if claimed == t.digest.String() {
			art = verify.WithArtifact(bytes.NewReader(t.manifest))
		}
		v, err := s.checkSigstore(c.bundle.entity, art)
		if err != nil {
			return nil, err
		}
		v.digest = claimed
		return v, nil
	}
	return nil, errors.New("nothing to verify")
}

// statementDigest is the image digest a statement is about: the image
// being verified when it is among the subjects, else the first subject.
func statementDigest(st *statement, t *target) string {
	if st.names(t.digest.String()) {
		return t.digest.String()
	}
	if ds := st.digests(); len(ds) > 0 {
		return ds[0]
	}
	return ""
}

// checkSigstore verifies a Sigstore entity (a bundle, or a legacy cosign
// signature turned into one) with sigstore-go.
func (s *Signer) checkSigstore(e verify.SignedEntity, art verify.ArtifactPolicyOption) (*verdict, error) {
	var tm root.TrustedMaterial
	var popts []verify.PolicyOption
	var vopts []verify.VerifierOption
	entries, _ := e.TlogEntries()
	stamps, _ := e.Timestamps()
	if s.key != nil {
		key := root.NewExpiringKey(s.key.verifier, time.Time{}, time.Time{})
		km := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
		coll := root.TrustedMaterialCollection{km}
		switch {
		case s.root != nil && len(entries) > 0:
			coll = append(coll, s.root)
			vopts = append(vopts, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
		case s.root != nil && len(stamps) > 0 && len(s.root.TimestampingAuthorities()) > 0:
			coll = append(coll, s.root)
			vopts = append(vopts, verify.WithSignedTimestamps(1))
		default:
			// A key signature needs no time: the key does not expire.
			vopts = append(vopts, verify.WithNoObserverTimestamps())
		}
		tm = coll
		popts = append(popts, verify.WithKey())
	} else {
		tm = s.root
		if len(s.root.RekorLogs()) > 0 {
			vopts = append(vopts, verify.WithTransparencyLog(1))
		}
		// A Fulcio certificate lives for minutes: a log entry or a
		// timestamp must prove it was valid when it signed.
		vopts = append(vopts, verify.WithObserverTimestamps(1))
		if len(s.root.CTLogs()) > 0 {
			vopts = append(vopts, verify.WithSignedCertificateTimestamps(1))
		}
		popts = append(popts, verify.WithCertificateIdentity(*s.identity))
	}
	v, err := verify.NewVerifier(tm, vopts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", s.Name, oneLine(err.Error()))
	}
	res, err := v.Verify(e, verify.NewPolicy(art, popts...))
	if err != nil {
		return nil, errors.New(s.explain(e, err))
	}
	out := &verdict{signer: s.Name}
	if res.Signature != nil && res.Signature.Certificate != nil {
		out.signer = summaryName(*res.Signature.Certificate)
	}
	for _, ts := range res.VerifiedTimestamps {
		var src string
		switch ts.Type {
		case "Tlog":
			src = "transparency log"
		case "TimestampAuthority":
			src = "timestamp authority"
		default:
			continue
		}
		if out.signedAt.IsZero() || ts.Timestamp.Before(out.signedAt) {
			out.signedAt, out.timeSource = ts.Timestamp.UTC(), src
		}
		if src == "transparency log" && len(entries) > 0 && out.log == nil {
			out.log = &LogEntry{Index: entries[0].LogIndex(), IntegratedTime: entries[0].IntegratedTime().UTC()}
		}
	}
	return out, nil
}

// explain turns sigstore-go's error into one sentence about this
// signature and this signer, checking the common causes directly so the
// message names them.
func (s *Signer) explain(e verify.SignedEntity, err error) string {
	msg := oneLine(err.Error())
	var cert *x509.Certificate
	if vc, verr := e.VerificationContent(); verr == nil {
		cert = vc.Certificate()
	}
	switch {
	case s.key != nil && cert != nil:
		return fmt.Sprintf("it was signed keylessly (certificate for %s), not with %s", certName(cert), s.Name)
	case s.identity != nil && cert == nil:
		return fmt.Sprintf("it was signed with a key, not by %s", s.Name)
	case s.identity != nil:
		if sum, serr := certificate.SummarizeCertificate(cert); serr == nil {
			if _, ierr := (verify.CertificateIdentities{*s.identity}).Verify(sum); ierr != nil {
				return fmt.Sprintf("it was signed by %s, not by %s", summaryName(sum), s.Name)
			}
		}
		if why := certTime(e, cert); why != "" {
			return why
		}
	}
	// sigstore-go says "failed to verify <step>: <why>"; the step is said
	// below in dockvet's words, the why kept.
	inner := msg
	if _, after, ok := strings.Cut(msg, ": "); ok {
		inner = after
	}
	switch {
	case strings.Contains(msg, "not enough verified log entries"):
		return "no transparency log of the trusted root vouches for it (its entry is in another log, or does not verify)"
	case strings.HasPrefix(msg, "failed to verify log inclusion"):
		return fmt.Sprintf("its transparency log entry does not verify against the trusted root (%s)", inner)
	case strings.HasPrefix(msg, "failed to verify timestamps"):
		return fmt.Sprintf("nothing the trusted root vouches for proves when it was signed (%s)", inner)
	case strings.HasPrefix(msg, "failed to verify leaf certificate"):
		return fmt.Sprintf("its certificate for %s was not issued by a certificate authority of the trusted root (%s)", certName(cert), inner)
	case strings.HasPrefix(msg, "failed to verify signed certificate timestamp"):
		return fmt.Sprintf("its certificate carries no valid certificate transparency timestamp (%s)", inner)
	case strings.HasPrefix(msg, "failed to verify signature"):
		if s.key != nil {
			return fmt.Sprintf("the signature does not verify with %s", s.Name)
		}
		return "the signature does not verify with its certificate's key"
	}
	return fmt.Sprintf("it does not verify with %s: %s", s.Name, msg)
}

// certTime says when a certificate's validity does not cover the time
// the signature's log entries say it was made.
func certTime(e verify.SignedEntity, cert *x509.Certificate) string {
	entries, _ := e.TlogEntries()
	for _, en := range entries {
		at := en.IntegratedTime()
		if at.IsZero() {
			continue
		}
		switch {
		case at.After(cert.NotAfter):
			return fmt.Sprintf("the certificate for %s expired at %s, before the signature was logged at %s",
				certName(cert), cert.NotAfter.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
		case at.Before(cert.NotBefore):
			return fmt.Sprintf("the certificate for %s was not valid until %s, after the signature was logged at %s",
				certName(cert), cert.NotBefore.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
		}
	}
	return ""
}

// certName is a certificate's identity and issuer, as a person reads them.
func certName(cert *x509.Certificate) string {
	if cert == nil {
		return "an unknown identity"
	}
	if sum, err := certificate.SummarizeCertificate(cert); err == nil {
		return summaryName(sum)
	}
	return cert.Subject.String()
}

func summaryName(sum certificate.Summary) string {
	if sum.Extensions.Issuer != "" {
		return fmt.Sprintf("%s (issuer %s)", sum.SubjectAlternativeName, sum.Extensions.Issuer)
	}
	return sum.SubjectAlternativeName
}

// mismatch explains a genuine signature of another digest. When the
// signed image is in the repository, the two are compared, so an image
// changed after signing (a layer replaced, the tag moved) says what
// changed.
func mismatch(t *target, claimed string) string {
	base := fmt.Sprintf("it is a valid signature of %s, not of this image (%s)", claimed, t.digest)
	h, err := v1.NewHash(claimed)
	if err != nil {
		return base
	}
	signed, _, err := manifestAt(t, h)
	if err != nil || signed == nil {
		return base
	}
	now, err := readManifest(t.manifest)
	if err != nil {
		return base
	}
	if d := diffManifests(signed, now); d != "" {
		return fmt.Sprintf("the image was changed after it was signed: %s (the signature covers %s, the reference now names %s)", d, claimed, t.digest)
	}
	return base + ", which is another image"
}

// diffManifests says how an image differs from the signed one, or ""
// when they have nothing in common (another image altogether).
func diffManifests(signed, now *v1.Manifest) string {
	sameConfig := signed.Config.Digest == now.Config.Digest
	if len(signed.Layers) != len(now.Layers) {
		common := 0
		for i := 0; i < len(signed.Layers) && i < len(now.Layers) && signed.Layers[i].Digest == now.Layers[i].Digest; i++ {
			common++
		}
		if common == 0 {
			return ""
		}
		return fmt.Sprintf("it has %d layers where the signed image has %d (the first %d are the same)", len(now.Layers), len(signed.Layers), common)
	}
	var changed []string
	for i := range now.Layers {
		if now.Layers[i].Digest != signed.Layers[i].Digest {
			changed = append(changed, fmt.Sprintf("layer %d of %d is %s instead of the signed %s", i+1, len(now.Layers), short(now.Layers[i].Digest), short(signed.Layers[i].Digest)))
		}
	}
	switch {
	case len(changed) == len(now.Layers) && !sameConfig:
		return ""
	case len(changed) > 0:
		return strings.Join(changed, ", ")
	case !sameConfig:
		return fmt.Sprintf("its configuration is %s instead of the signed %s (same layers)", short(now.Config.Digest), short(signed.Config.Digest))
	}
	return "its manifest differs (same configuration and layers)"
}

func short(h v1.Hash) string {
	if len(h.Hex) > 12 {
		return h.Algorithm + ":" + h.Hex[:12]
	}
	return h.String()
}
