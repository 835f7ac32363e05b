package sign

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"

	st "github.com/dockvet/dockvet/internal/signtest"
)

// offline is the loader of every test: nothing may reach the network (a
// keyless case without a trusted root file fails instead of fetching
// Sigstore's).
func offline() *Loader { return &Loader{Offline: true} }

func one(t *testing.T, s *Signer, err error) Trust {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return Trust{s}
}

func keyTrust(t *testing.T, file, root string) Trust {
	t.Helper()
	s, err := offline().Key(file, root)
	return one(t, s, err)
}

func identityTrust(t *testing.T, f *st.Fulcio, root string) Trust {
	t.Helper()
	s, err := offline().Identity(f.Identity, "", f.Issuer, "", root)
	return one(t, s, err)
}

func notationTrust(t *testing.T, n *st.Notary) Trust {
	t.Helper()
	s, err := offline().Notation(n.Dir)
	return one(t, s, err)
}

const p256 = protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256

type setup func(t *testing.T, r *st.Registry) (ref string, trust Trust)

// TestVerify signs images in every format dockvet reads, stores the
// signatures as the signing tools do, and verifies: every valid signature
// passes; every kind of bad one fails with a message that names the cause.
func TestVerify(t *testing.T) {
	const workflow = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
	cases := []struct {
		name      string
		referrers bool // the registry implements the referrers API (else the tag fallback)
		setup     setup
		// want is empty for a verified image, else words of the failure.
		want []string
		// signer is part of the verified signature's signer.
		signer string
		// logged: the verified signature has a log entry and its time.
		logged bool
	}{
		// cosign, key, the sha256-<digest>.sig tag
		{name: "cosign key P-256 tag", signer: "key ", setup: cosignKey("p256")},
		{name: "cosign key P-384 tag", signer: "key ", setup: cosignKey("p384")},
		{name: "cosign key Ed25519 tag", signer: "key ", setup: cosignKey("ed25519")},
		{name: "cosign key RSA tag", signer: "key ", setup: cosignKey("rsa")},
		{name: "cosign key referrer (API)", referrers: true, signer: "key ", setup: cosignReferrer},
		{name: "cosign key referrer (tag fallback)", signer: "key ", setup: cosignReferrer},
		{name: "cosign one of several signatures", signer: "key ", setup: func(t *testing.T, r *st.Registry) (string, Trust) {
			k, other := st.NewKey(t, "p256"), st.NewKey(t, "ed25519")
			_, d := r.PushImage("app", "1", 2)
			r.AttachCosignTag(d, "sig", other.SignCosign(t, st.CosignPayload(d)), k.SignCosign(t, st.CosignPayload(d)))
			return d.Context().Tag("1").String(), keyTrust(t, k.File, "")
		}},
		{name: "cosign wrong key", want: []string{"does not verify with key"}, setup: func(t *testing.T, r *st.Registry) (string, Trust) {
			signer, other := st.NewKey(t, "p256"), st.NewKey(t, "p256")
			_, d := r.PushImage("app", "1", 2)
			r.AttachCosignTag(d, "sig", signer.SignCosign(t, st.CosignPayload(d)))
			return d.String(), keyTrust(t, other.File, "")
		}},
		{name: "cosign signature of another digest", want: []string{"is a valid signature of sha256:", "not of this image", "which is another image"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				k := st.NewKey(t, "p256")
				_, a := r.PushImage("app", "1", 2)
				_, b := r.PushImage("app", "2", 2)
				r.AttachCosignTag(a, "sig", k.SignCosign(t, st.CosignPayload(b)))
				return a.String(), keyTrust(t, k.File, "")
			}},
		{name: "cosign tampered layer", want: []string{"changed after it was signed", "layer 3 of 3 is sha256:"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				k := st.NewKey(t, "p256")
				img, d := r.PushImage("app", "1", 3)
				sig := k.SignCosign(t, st.CosignPayload(d))
				r.AttachCosignTag(d, "sig", sig)
				// The tag now names a changed image; its signature was copied.
				r.AttachCosignTag(r.Tamper("app", "1", img), "sig", sig)
				return d.Context().Tag("1").String(), keyTrust(t, k.File, "")
			}},
		{name: "cosign malformed payload", want: []string{"not a cosign signature payload"}, setup: func(t *testing.T, r *st.Registry) (string, Trust) {
			k := st.NewKey(t, "p256")
			_, d := r.PushImage("app", "1", 1)
			r.AttachCosignTag(d, "sig", k.SignCosign(t, []byte("not json")))
			return d.String(), keyTrust(t, k.File, "")
		}},
		{name: "missing signature", want: []string{"no signature of sha256:", "was found"}, setup: func(t *testing.T, r *st.Registry) (string, Trust) {
			_, d := r.PushImage("app", "1", 1)
			return d.String(), keyTrust(t, st.NewKey(t, "p256").File, "")
		}},
		{name: "notation signature and only a key", want: []string{"is a notation signature, and no signer of that kind was given"}, referrers: true,
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				_, d := r.PushImage("app", "1", 1)
				st.NewNotary(t, "dockvet test notation CA").Sign(t, r, d, jws.MediaTypeEnvelope)
				return d.String(), keyTrust(t, st.NewKey(t, "p256").File, "")
			}},

		// cosign, keyless, as cosign 2 stores it (certificate and log entry in annotations)
		{name: "cosign keyless tag", signer: workflow + " (issuer https://token.actions.githubusercontent.com)", logged: true,
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				f, log := st.NewFulcio(t), st.NewRekor(t)
				_, d := r.PushImage("app", "1", 2)
				r.AttachCosignTag(d, "sig", st.LegacyKeyless(t, f, log, st.CosignPayload(d)))
				return d.String(), identityTrust(t, f, st.TrustedRoot(t, f, log))
			}},
		{name: "cosign keyless expired certificate", want: []string{"expired at", "before the signature was logged"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				f, log := st.NewFulcio(t), st.NewRekor(t)
				f.NotBefore, f.NotAfter = time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
				_, d := r.PushImage("app", "1", 2)
				r.AttachCosignTag(d, "sig", st.LegacyKeyless(t, f, log, st.CosignPayload(d)))
				return d.String(), identityTrust(t, f, st.TrustedRoot(t, f, log))
			}},
		{name: "cosign keyless other identity", want: []string{"was signed by https://github.com/mallory/", "not by identity https://github.com/acme/"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				f, log := st.NewFulcio(t), st.NewRekor(t)
				f.Identity = "https://github.com/mallory/app/.github/workflows/release.yml@refs/heads/main"
				_, d := r.PushImage("app", "1", 2)
				r.AttachCosignTag(d, "sig", st.LegacyKeyless(t, f, log, st.CosignPayload(d)))
				f.Identity = workflow
				return d.String(), identityTrust(t, f, st.TrustedRoot(t, f, log))
			}},
		{name: "cosign keyless with a key", want: []string{"signed keylessly", "not with key"}, setup: func(t *testing.T, r *st.Registry) (string, Trust) {
			f, log := st.NewFulcio(t), st.NewRekor(t)
			_, d := r.PushImage("app", "1", 2)
			r.AttachCosignTag(d, "sig", st.LegacyKeyless(t, f, log, st.CosignPayload(d)))
			return d.String(), keyTrust(t, st.NewKey(t, "p256").File, "")
		}},

		// Sigstore bundles (cosign's bundle format), keyless
		{name: "bundle keyless", referrers: true, logged: true, signer: workflow, setup: func(t *testing.T, r *st.Registry) (string, Trust) {
			f, log := st.NewFulcio(t), st.NewRekor(t)
			_, d := r.PushImage("app", "1", 2)
			r.AttachBundle(d, st.SignBundle(t, st.Ephemeral(t, p256), st.Statement(d, predicateCosignSign, "{}"), f, log), predicateCosignSign)
			return d.Context().Tag("1").String(), identityTrust(t, f, st.TrustedRoot(t, f, log))
		}},
		{name: "bundle keyless (tag fallback)", logged: true, signer: "issuer https://token.actions.githubusercontent.com",
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				f, log := st.NewFulcio(t), st.NewRekor(t)
				_, d := r.PushImage("app", "1", 2)
				r.AttachBundle(d, st.SignBundle(t, st.Ephemeral(t, p256), st.Statement(d, predicateCosignSign, "{}"), f, log), predicateCosignSign)
				return d.String(), identityTrust(t, f, st.TrustedRoot(t, f, log))
			}},
		{name: "bundle keyless expired certificate", referrers: true, want: []string{"expired at", "before the signature was logged"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				f, log := st.NewFulcio(t), st.NewRekor(t)
				f.NotBefore, f.NotAfter = time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
				_, d := r.PushImage("app", "1", 2)
				r.AttachBundle(d, st.SignBundle(t, st.Ephemeral(t, p256), st.Statement(d, predicateCosignSign, "{}"), f, log), predicateCosignSign)
				return d.String(), identityTrust(t, f, st.TrustedRoot(t, f, log))
			}},
		{name: "bundle keyless from another CA", referrers: true, want: []string{"not issued by a certificate authority of the trusted root"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				f, other, log := st.NewFulcio(t), st.NewFulcio(t), st.NewRekor(t)
				_, d := r.PushImage("app", "1", 2)
				r.AttachBundle(d, st.SignBundle(t, st.Ephemeral(t, p256), st.Statement(d, predicateCosignSign, "{}"), other, log), predicateCosignSign)
				return d.String(), identityTrust(t, f, st.TrustedRoot(t, f, log))
			}},
		{name: "bundle keyless logged elsewhere", referrers: true, want: []string{"no transparency log of the trusted root vouches for it"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				f, log, other := st.NewFulcio(t), st.NewRekor(t), st.NewRekor(t)
				_, d := r.PushImage("app", "1", 2)
				r.AttachBundle(d, st.SignBundle(t, st.Ephemeral(t, p256), st.Statement(d, predicateCosignSign, "{}"), f, other), predicateCosignSign)
				return d.String(), identityTrust(t, f, st.TrustedRoot(t, f, log))
			}},
		{name: "bundle for another digest", referrers: true, want: []string{"is a valid signature of sha256:", "which is another image"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				f, log := st.NewFulcio(t), st.NewRekor(t)
				_, a := r.PushImage("app", "1", 2)
				_, b := r.PushImage("app", "2", 2)
				r.AttachBundle(a, st.SignBundle(t, st.Ephemeral(t, p256), st.Statement(b, predicateCosignSign, "{}"), f, log), predicateCosignSign)
				return a.String(), identityTrust(t, f, st.TrustedRoot(t, f, log))
			}},
		{name: "bundle tampered layer", referrers: true, want: []string{"changed after it was signed", "layer 2 of 2 is sha256:"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				f, log := st.NewFulcio(t), st.NewRekor(t)
				img, d := r.PushImage("app", "1", 2)
				b := st.SignBundle(t, st.Ephemeral(t, p256), st.Statement(d, predicateCosignSign, "{}"), f, log)
				r.AttachBundle(d, b, predicateCosignSign)
				r.AttachBundle(r.Tamper("app", "1", img), b, predicateCosignSign)
				return d.Context().Tag("1").String(), identityTrust(t, f, st.TrustedRoot(t, f, log))
			}},

		// Sigstore bundles, keyed (cosign --key with the bundle format)
		{name: "bundle key P-256", referrers: true, signer: "key ", setup: bundleKey(p256)},
		{name: "bundle key P-384", referrers: true, signer: "key ", setup: bundleKey(protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384)},
		{name: "bundle key Ed25519", referrers: true, signer: "key ", setup: bundleKey(protocommon.PublicKeyDetails_PKIX_ED25519)},
		{name: "bundle key RSA", referrers: true, signer: "key ", setup: bundleKey(protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256)},
		{name: "bundle key logged", referrers: true, signer: "key ", logged: true, setup: func(t *testing.T, r *st.Registry) (string, Trust) {
			log := st.NewRekor(t)
			_, d := r.PushImage("app", "1", 2)
			kp := st.Ephemeral(t, p256)
			r.AttachBundle(d, st.SignBundle(t, kp, st.Statement(d, predicateCosignSign, "{}"), nil, log), predicateCosignSign)
			return d.String(), keyTrust(t, st.WritePublicKey(t, kp.GetPublicKey()), st.TrustedRoot(t, nil, log))
		}},
		{name: "bundle wrong key", referrers: true, want: []string{"does not verify with key"}, setup: func(t *testing.T, r *st.Registry) (string, Trust) {
			_, d := r.PushImage("app", "1", 2)
			r.AttachBundle(d, st.SignBundle(t, st.Ephemeral(t, p256), st.Statement(d, predicateCosignSign, "{}"), nil, nil), predicateCosignSign)
			return d.String(), keyTrust(t, st.NewKey(t, "p256").File, "")
		}},
		{name: "bundle keyed with an identity", referrers: true, want: []string{"signed with a key, not by identity"}, setup: func(t *testing.T, r *st.Registry) (string, Trust) {
			f, log := st.NewFulcio(t), st.NewRekor(t)
			_, d := r.PushImage("app", "1", 2)
			r.AttachBundle(d, st.SignBundle(t, st.Ephemeral(t, p256), st.Statement(d, predicateCosignSign, "{}"), nil, log), predicateCosignSign)
			return d.String(), identityTrust(t, f, st.TrustedRoot(t, f, log))
		}},

		// notation (Notary Project), referrers
		{name: "notation JWS", referrers: true, signer: "CN=release signer", setup: notationCase(jws.MediaTypeEnvelope)},
		{name: "notation COSE", referrers: true, signer: "CN=release signer", setup: notationCase(cose.MediaTypeEnvelope)},
		{name: "notation (tag fallback)", signer: "CN=release signer", setup: notationCase(jws.MediaTypeEnvelope)},
		{name: "notation untrusted signer", referrers: true, want: []string{"authenticity check failed", "does not contain any trusted certificate"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				trusted, other := st.NewNotary(t, "dockvet trusted CA"), st.NewNotary(t, "dockvet other CA")
				_, d := r.PushImage("app", "1", 2)
				other.Sign(t, r, d, jws.MediaTypeEnvelope)
				return d.String(), notationTrust(t, trusted)
			}},
		{name: "notation expired certificate", referrers: true, want: []string{"authenticTimestamp check failed", "expired"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				n := st.NewNotary(t, "dockvet test notation CA")
				_, d := r.PushImage("app", "1", 2)
				n.SignExpired(t, r, d)
				return d.String(), notationTrust(t, n)
			}},
		{name: "notation tampered layer", referrers: true, want: []string{"changed after it was signed", "layer 2 of 2"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				n := st.NewNotary(t, "dockvet test notation CA")
				img, d := r.PushImage("app", "1", 2)
				// The genuine signature of the old image, attached to the new one.
				n.SignOnto(t, r, d, r.Tamper("app", "1", img))
				return d.Context().Tag("1").String(), notationTrust(t, n)
			}},
		{name: "notation signature of another digest", referrers: true, want: []string{"is a valid signature of sha256:", "which is another image"},
			setup: func(t *testing.T, r *st.Registry) (string, Trust) {
				n := st.NewNotary(t, "dockvet test notation CA")
				_, a := r.PushImage("app", "1", 2)
				_, b := r.PushImage("app", "2", 2)
				n.SignOnto(t, r, b, a)
				return a.String(), notationTrust(t, n)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := st.NewRegistry(t, tc.referrers)
			ref, trust := tc.setup(t, r)
			res, err := Verify(context.Background(), ref, Options{Trust: trust})
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.want) == 0 {
				if !res.Verified() {
					t.Fatalf("not verified: %s", res.Problem())
				}
				checkVerified(t, res, tc.signer, tc.logged)
				return
			}
			if res.Verified() {
				t.Fatalf("verified, want a failure with %q", tc.want)
			}
			msg := res.Problem()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q\nlacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line: %q", msg)
			}
		})
	}
}

// checkVerified checks what a verified signature reports: who, when,
// which digest.
func checkVerified(t *testing.T, res *Result, signer string, logged bool) {
	t.Helper()
	for _, s := range res.Signatures {
		if !s.Verified() {
			continue
		}
		if s.Digest != res.Digest.String() {
			t.Errorf("signature covers %s, image is %s", s.Digest, res.Digest)
		}
		if !strings.Contains(s.Signer, signer) {
			t.Errorf("signer %q lacks %q", s.Signer, signer)
		}
		if logged && (s.Log == nil || s.TimeSource != "transparency log" || time.Since(s.SignedAt) > time.Hour) {
			t.Errorf("want a logged time, got %v from %q (log %v)", s.SignedAt, s.TimeSource, s.Log)
		}
		return
	}
	t.Fatal("no verified signature")
}

func cosignKey(alg string) setup {
	return func(t *testing.T, r *st.Registry) (string, Trust) {
		k := st.NewKey(t, alg)
		_, d := r.PushImage("team/app", "1.0", 2)
		r.AttachCosignTag(d, "sig", k.SignCosign(t, st.CosignPayload(d)))
		return d.Context().Tag("1.0").String(), keyTrust(t, k.File, "")
	}
}

func cosignReferrer(t *testing.T, r *st.Registry) (string, Trust) {
	k := st.NewKey(t, "p256")
	_, d := r.PushImage("app", "1", 2)
	r.AttachCosignReferrer(d, k.SignCosign(t, st.CosignPayload(d)))
	return d.String(), keyTrust(t, k.File, "")
}

func bundleKey(alg protocommon.PublicKeyDetails) setup {
	return func(t *testing.T, r *st.Registry) (string, Trust) {
		_, d := r.PushImage("app", "1", 2)
		kp := st.Ephemeral(t, alg)
		r.AttachBundle(d, st.SignBundle(t, kp, st.Statement(d, predicateCosignSign, "{}"), nil, nil), predicateCosignSign)
		return d.Context().Tag("1").String(), keyTrust(t, st.WritePublicKey(t, kp.GetPublicKey()), "")
	}
}

func notationCase(mediaType string) setup {
	return func(t *testing.T, r *st.Registry) (string, Trust) {
		n := st.NewNotary(t, "dockvet test notation CA")
		_, d := r.PushImage("app", "1", 2)
		n.Sign(t, r, d, mediaType)
		return d.Context().Tag("1").String(), notationTrust(t, n)
	}
}
