package sign

import (
	"encoding/json"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/dockvet/dockvet/internal/fuzztest"
	st "github.com/dockvet/dockvet/internal/signtest"
)

// seedDigest is an image every seed signs.
var seedDigest = name.MustParseReference("registry.example.com/app@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").(name.Digest)

// Executions per second: about a thousand per CPU second, not thousands.
// Go's fuzzer copies and compares the test binary's coverage counters, and
// ships them between coordinator and worker, on every execution: a fixed
// cost that grows with all the binary links (Sigstore, notation,
// go-containerregistry). Profiled (internal/sign, a JSON decode), that is
// most of a worker's time; .ci/fuzz prints each package's counters.

// FuzzParseLegacy feeds cosign signature layers (payload and annotations,
// as a registry serves them) to the reader: never a panic, and a layer
// accepted names an image digest and becomes a bundle.
func FuzzParseLegacy(f *testing.F) {
	k := st.NewKey(f, "p256")
	signed := k.SignCosign(f, st.CosignPayload(seedDigest))
	fulcio, log := st.NewFulcio(f), st.NewRekor(f)
	keyless := st.LegacyKeyless(f, fulcio, log, st.CosignPayload(seedDigest))
	att := k.SignDSSE(f, st.Statement(seedDigest, predicateSLSA1, slsaV1), predicateSLSA1)
	for _, l := range []st.CosignLayer{signed, keyless, att} {
		f.Add(l.Payload, l.MediaType, l.Annotations[annSignature], l.Annotations[annCertificate], l.Annotations[annRekorBundle], "")
	}
	f.Add([]byte(`{"critical":{"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"}}`), mtSimpleSigning, "AAAA", "", `{"Payload":{}}`, `{"SignedRFC3161Timestamp":"AAAA"}`)
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, payload []byte, mediaType, sig, cert, rekor, tsr string) {
		defer fuzztest.Budget(t)()
		ann := map[string]string{annSignature: sig, annCertificate: cert, annRekorBundle: rekor, annRFC3161: tsr}
		ls, err := parseLegacy(payload, mediaType, ann)
		if err != nil {
			return
		}
		if ls.entity == nil {
			t.Fatal("accepted without an entity")
		}
		if !ls.dsse && ls.digest == "" {
			t.Fatal("a signature that names no digest was accepted")
		}
		if ls.dsse && (ls.statement == nil || len(ls.statement.Subject) == 0) {
			t.Fatal("an attestation without a subject was accepted")
		}
	})
}

// FuzzParseBundle feeds Sigstore bundles (cosign's bundle format) to the
// reader: never a panic; an accepted DSSE bundle has a statement with a
// subject.
func FuzzParseBundle(f *testing.F) {
	fulcio, log := st.NewFulcio(f), st.NewRekor(f)
	kp := st.Ephemeral(f, p256)
	f.Add(st.SignBundle(f, kp, st.Statement(seedDigest, predicateCosignSign, "{}"), fulcio, log))
	f.Add(st.SignBundle(f, kp, st.Statement(seedDigest, predicateSLSA1, slsaV1), nil, nil))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		b, err := parseBundle(data)
		if err != nil {
			return
		}
		if b.entity == nil {
			t.Fatal("accepted without an entity")
		}
		if b.entity.GetDsseEnvelope() != nil && (b.statement == nil || len(b.statement.Subject) == 0) {
			t.Fatal("a DSSE bundle without a statement subject was accepted")
		}
	})
}

// FuzzReadPredicate: provenance and SBOM predicates of any shape are read
// without a panic.
func FuzzReadPredicate(f *testing.F) {
	for _, s := range []struct{ typ, body string }{{predicateSLSA1, slsaV1}, {predicateSLSA02, slsaV02}, {predicateSPDX, spdx},
		{predicateCycloneDX, `{"specVersion":"1.6","components":[{"name":"a"}]}`}, {predicateSLSA1, `{"buildDefinition":{"externalParameters":{"source":3}}}`}} {
		f.Add(s.typ, []byte(s.body))
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		defer fuzztest.Budget(t)()
		var a Attestation
		readPredicate(typ, json.RawMessage(body), &a)
	})
}

// FuzzParsePublicKey: key files of any content are read without a panic.
func FuzzParsePublicKey(f *testing.F) {
	for _, alg := range []string{"p256", "p384", "ed25519", "rsa"} {
		data, err := readFile(st.NewKey(f, alg).File)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		k, err := parsePublicKey("k", data)
		if err == nil && (k.verifier == nil || k.id == "") {
			t.Fatal("a key without a verifier was accepted")
		}
	})
}

// FuzzParseTrustedRoot: trusted root files of any content are read
// without a panic.
func FuzzParseTrustedRoot(f *testing.F) {
	data, err := readFile(st.TrustedRoot(f, st.NewFulcio(f), st.NewRekor(f)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{}]}`))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		_, _ = parseTrustedRoot(data)
	})
}

// FuzzDiffManifests: two manifests as registries serve them are compared
// without a panic.
func FuzzDiffManifests(f *testing.F) {
	f.Add([]byte(`{"config":{"digest":"sha256:aa"},"layers":[{"digest":"sha256:01"},{"digest":"sha256:02"}]}`),
		[]byte(`{"config":{"digest":"sha256:bb"},"layers":[{"digest":"sha256:01"},{"digest":"sha256:03"}]}`))
	f.Add([]byte(`{"layers":[]}`), []byte(`{"layers":[{}]}`))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		defer fuzztest.Budget(t)()
		ma, err := readManifest(a)
		if err != nil {
			return
		}
		mb, err := readManifest(b)
		if err != nil {
			return
		}
		_ = diffManifests(ma, mb)
	})
}
