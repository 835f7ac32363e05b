package authz

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/sign"
	st "github.com/dockvet/dockvet/internal/signtest"
)

// countingKeychain counts the registry operations sign makes (each asks
// the keychain for credentials).
type countingKeychain struct{ n atomic.Int64 }

func (k *countingKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	k.n.Add(1)
	return authn.Anonymous, nil
}

// TestSignatures: with a verifier, pulls and creates of images the trust
// policy requires signed are checked through internal/sign (DV6501), by
// digest, and a digest is verified once.
func TestSignatures(t *testing.T) {
	r := st.NewRegistry(t, true)
	k := st.NewKey(t, "p256")
	_, signed := r.PushImage("acme/app", "1", 1)
	r.AttachCosignTag(signed, "sig", k.SignCosign(t, st.CosignPayload(signed)))
	_, unsigned := r.PushImage("acme/tool", "1", 1)

	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("trust:\n  - images: [%s/acme]\n    signatures: [{key: %s}]\n", r.Host, k.File)), 0o600)
	kc := &countingKeychain{}
	verifier := func(c *config.Config) (Verifier, error) {
		return &sign.Checker{Policy: c.Policy(), Remote: sign.Remote{Keychain: kc}, Loader: &sign.Loader{Offline: true}, Enabled: c.Enabled}, nil
	}
	d := New(Options{Load: func() (*Policy, error) { return LoadPolicy(cfg, "", verifier) }})
	if err := d.LoadError(); err != nil {
		t.Fatal(err)
	}
	decide := func(method, uri string, body any) *Decision {
		t.Helper()
		req := &Request{RequestMethod: method, RequestURI: uri}
		if body != nil {
			req.RequestBody = []byte(mustJSON(t, mustRaw(t, body)))
		}
		return d.Decide(context.Background(), req)
	}
	pull := func(ref string) string {
		repo, tag, _ := strings.Cut(ref, "@")
		return "/v1.41/images/create?fromImage=" + repo + "&tag=" + tag
	}

	if dec := decide("POST", pull(signed.String()), nil); !dec.Allowed() {
		t.Fatalf("signed pull: %+v", dec)
	}
	calls := kc.n.Load()
	if calls == 0 {
		t.Fatal("the registry was not asked")
	}
	if dec := decide("POST", pull(signed.String()), nil); !dec.Allowed() || kc.n.Load() != calls {
		t.Fatalf("second pull of the same digest: %+v, %d registry calls more", dec, kc.n.Load()-calls)
	}
	dec := decide("POST", pull(unsigned.String()), nil)
	if dec.Allowed() || !strings.HasPrefix(dec.Message, "dockvet: DV6501 denied: image "+unsigned.String()+" is not signed by key ") {
		t.Fatalf("unsigned pull: %+v", dec)
	}
	dec = decide("POST", "/images/create?fromImage="+signed.Context().String()+"&tag=1", nil)
	if dec.Allowed() || !strings.Contains(dec.Message, "is pulled by tag, so the signature the trust policy requires cannot be checked before the pull") {
		t.Fatalf("pull by tag: %+v", dec)
	}

	// Creates: by digest, and the signed digest is still cached.
	calls = kc.n.Load()
	if dec := decide("POST", "/containers/create?name=app", create(nil, &containertypes.Config{Image: signed.String()})); !dec.Allowed() || kc.n.Load() != calls {
		t.Fatalf("signed create: %+v (%d registry calls)", dec, kc.n.Load()-calls)
	}
	dec = decide("POST", "/containers/create?name=tool", create(nil, &containertypes.Config{Image: unsigned.String()}))
	if dec.Allowed() || !strings.HasPrefix(dec.Message, "dockvet: DV6501 denied: container tool runs image "+unsigned.String()+", which is not signed") {
		t.Fatalf("unsigned create: %+v", dec)
	}
	// A tag with no Engine to ask for its digest cannot be checked.
	dec = decide("POST", "/containers/create?name=app", create(nil, &containertypes.Config{Image: signed.Context().Tag("1").String()}))
	if dec.Allowed() || !strings.Contains(dec.Message, "has no registry digest") {
		t.Fatalf("create by tag: %+v", dec)
	}
}
