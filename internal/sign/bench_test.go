package sign

import (
	"context"
	"testing"

	st "github.com/dockvet/dockvet/internal/signtest"
)

// BenchmarkVerify measures one `dockvet verify` of an image against the
// in-process registry on loopback: resolving the tag, listing the .sig tag
// and the referrers, reading the artifacts and verifying them. The
// registry round trips are part of the cost, as they are in use.
func BenchmarkVerify(b *testing.B) {
	r := st.NewRegistry(b, true)
	k := st.NewKey(b, "p256")
	f, log := st.NewFulcio(b), st.NewRekor(b)
	n := st.NewNotary(b, "bench CA")
	_, keyed := r.PushImage("keyed", "1", 2)
	r.AttachCosignTag(keyed, "sig", k.SignCosign(b, st.CosignPayload(keyed)))
	_, keyless := r.PushImage("keyless", "1", 2)
	r.AttachBundle(keyless, st.SignBundle(b, st.Ephemeral(b, p256), st.Statement(keyless, predicateCosignSign, "{}"), f, log), predicateCosignSign)
	_, notarized := r.PushImage("notarized", "1", 2)
	n.Sign(b, r, notarized, "application/jose+json")
	root := st.TrustedRoot(b, f, log)
	l := offline()
	ks, err := l.Key(k.File, "")
	if err != nil {
		b.Fatal(err)
	}
	is, err := l.Identity(f.Identity, "", f.Issuer, "", root)
	if err != nil {
		b.Fatal(err)
	}
	ns, err := l.Notation(n.Dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		ref   string
		trust Trust
	}{
		{"cosign-key", keyed.Context().Tag("1").String(), Trust{ks}},
		{"bundle-keyless", keyless.Context().Tag("1").String(), Trust{is}},
		{"notation", notarized.Context().Tag("1").String(), Trust{ns}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				res, err := Verify(context.Background(), bc.ref, Options{Trust: bc.trust})
				if err != nil || !res.Verified() {
					b.Fatalf("%v %v", err, res)
				}
			}
		})
	}
}
