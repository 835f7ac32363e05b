package sign

import (
	"context"
	"strings"
	"testing"

	st "github.com/dockvet/dockvet/internal/signtest"
)

const slsaV1 = `{"buildDefinition":{"buildType":"https://actions.github.io/buildtypes/workflow/v1",
 "externalParameters":{"workflow":{"ref":"refs/heads/main","repository":"https://github.com/acme/app","path":".github/workflows/release.yml"}},
 "resolvedDependencies":[{"uri":"git+https://github.com/acme/app@refs/heads/main","digest":{"gitCommit":"0123456789abcdef0123456789abcdef01234567"}}]},
 "runDetails":{"builder":{"id":"https://github.com/actions/runner/github-hosted"}}}`

const slsaV02 = `{"builder":{"id":"https://github.com/docker/buildx@v0.17.0"},"buildType":"https://mobyproject.org/buildkit@v1",
 "invocation":{"configSource":{"uri":"https://github.com/acme/tool.git#refs/tags/v1.2.0","digest":{"sha1":"89abcdef0123456789abcdef0123456789abcdef"},"entryPoint":"Dockerfile"}},
 "materials":[{"uri":"pkg:docker/alpine@3.20","digest":{"sha256":"00"}}]}`

const spdx = `{"spdxVersion":"SPDX-2.3","name":"app","packages":[{"name":"musl"},{"name":"busybox"},{"name":"app"}]}`

// TestAttestations: in-toto attestations attached as cosign does (a .att
// tag of DSSE layers) and as Sigstore bundles are verified with the same
// signers, and their provenance and SBOM are read once verified.
func TestAttestations(t *testing.T) {
	r := st.NewRegistry(t, true)
	k := st.NewKey(t, "p256")
	f, log := st.NewFulcio(t), st.NewRekor(t)
	_, d := r.PushImage("app", "1", 2)
	_, other := r.PushImage("app", "2", 1)
	// A signature, so the image is verified; attestations do not count as one.
	r.AttachCosignTag(d, "sig", k.SignCosign(t, st.CosignPayload(d)))
	r.AttachCosignTag(d, "att",
		k.SignDSSE(t, st.Statement(d, predicateSLSA02, slsaV02), predicateSLSA02),
		k.SignDSSE(t, st.Statement(d, predicateSPDX, spdx), predicateSPDX),
		k.SignDSSE(t, st.Statement(other, predicateSPDX, spdx), predicateSPDX))
	r.AttachBundle(d, st.SignBundle(t, st.Ephemeral(t, p256), st.Statement(d, predicateSLSA1, slsaV1), f, log), predicateSLSA1)
	untrusted := st.NewKey(t, "p256")
	r.AttachCosignReferrer(d, untrusted.SignCosign(t, st.CosignPayload(d)))

	ks, err := offline().Key(k.File, "")
	if err != nil {
		t.Fatal(err)
	}
	is, err := offline().Identity(f.Identity, "", f.Issuer, "", st.TrustedRoot(t, f, log))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(context.Background(), d.String(), Options{Trust: Trust{ks, is}, Attestations: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified() || len(res.Signatures) != 2 {
		t.Fatalf("signatures %+v", res.Signatures)
	}
	byType := map[string][]Attestation{}
	for _, a := range res.Attestations {
		byType[a.PredicateType] = append(byType[a.PredicateType], a)
	}
	if len(res.Attestations) != 4 {
		t.Fatalf("attestations %+v", res.Attestations)
	}
	if a := byType[predicateSLSA1][0]; !a.Verified() || a.Builder != "https://github.com/actions/runner/github-hosted" ||
		a.SourceRepository != "https://github.com/acme/app" || a.SourceRevision != "refs/heads/main (0123456789abcdef0123456789abcdef01234567)" ||
		!strings.Contains(a.Signer, "release.yml") {
		t.Errorf("SLSA v1 %+v", a)
	}
	if a := byType[predicateSLSA02][0]; !a.Verified() || a.Builder != "https://github.com/docker/buildx@v0.17.0" ||
		a.SourceRepository != "https://github.com/acme/tool.git#refs/tags/v1.2.0" || a.SourceRevision != "89abcdef0123456789abcdef0123456789abcdef" {
		t.Errorf("SLSA v0.2 %+v", a)
	}
	var good, bad int
	for _, a := range byType[predicateSPDX] {
		switch {
		case a.Verified() && a.Summary == "SBOM, SPDX-2.3, 3 packages":
			good++
		case !a.Verified() && strings.Contains(a.Error, "not about this image"):
			bad++
		default:
			t.Errorf("SBOM %+v", a)
		}
	}
	if good != 1 || bad != 1 {
		t.Errorf("SBOMs: %d verified, %d about another image", good, bad)
	}

	// An image with attestations only is not signed.
	_, lone := r.PushImage("lone", "1", 1)
	r.AttachBundle(lone, st.SignBundle(t, st.Ephemeral(t, p256), st.Statement(lone, predicateSLSA1, slsaV1), f, log), predicateSLSA1)
	res, err = Verify(context.Background(), lone.String(), Options{Trust: Trust{is}, Attestations: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified() || len(res.Attestations) != 1 || !res.Attestations[0].Verified() {
		t.Errorf("an attestation is not a signature: %+v", res)
	}
}
