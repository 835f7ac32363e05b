package sign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	st "github.com/dockvet/dockvet/internal/signtest"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParsePublicKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pkix, _ := x509.MarshalPKIXPublicKey(ec.Public())
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	strong, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecPriv, _ := x509.MarshalECPrivateKey(ec)
	n := st.NewNotary(t, "key test CA")
	cert, err := os.ReadFile(filepath.Join(n.Dir, "truststore", "x509", "ca", "test", "root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string // "" for a key
	}{
		{"PKIX ECDSA", pemBlock("PUBLIC KEY", pkix), ""},
		{"PKCS #1 RSA", pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&strong.PublicKey)), ""},
		{"a certificate's key", cert, ""},
		{"after other blocks", append(pemBlock("COMMENT", []byte("x")), pemBlock("PUBLIC KEY", pkix)...), ""},
		{"a private key", pemBlock("EC PRIVATE KEY", ecPriv), "holds a private key"},
		{"weak RSA", pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&weak.PublicKey)), "too weak"},
		{"not PEM", []byte("ssh-ed25519 AAAA…"), "holds no PEM public key"},
		{"broken DER", pemBlock("PUBLIC KEY", []byte{1, 2, 3}), "PUBLIC KEY block"},
	} {
		k, err := parsePublicKey("k.pem", tc.data)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == "" && !strings.HasPrefix(k.describe(), "key k.pem (sha256:"):
			t.Errorf("%s: %s", tc.name, k.describe())
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestLoaderErrors: every file a signer names is read with a clear
// one-line error naming it.
func TestLoaderErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := st.NewKey(t, "p256").File
	emptyRoot := write("empty.json", `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`)
	write("badpolicy/trustpolicy.oci.json", `{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],"signatureVerification":{"level":"fancy"},"trustStores":["ca:x"],"trustedIdentities":["*"]}]}`)
	write("notjson/trustpolicy.json", `{`)
	l := offline()
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"missing key", func() error { _, err := l.Key(filepath.Join(dir, "none.pub"), ""); return err }, "none.pub: no such file"},
		{"key with a missing root", func() error { _, err := l.Key(key, filepath.Join(dir, "none.json")); return err }, "trusted root"},
		{"root that is not JSON", func() error { _, err := l.TrustedRoot(write("bad.json", "{")); return err }, "bad.json"},
		{"root with nothing in it", func() error { _, err := l.TrustedRoot(emptyRoot); return err }, "lists no certificate authority"},
		{"keyless offline without a root", func() error {
			_, err := (&Loader{Offline: true, CacheDir: t.TempDir()}).Identity("a@b", "", "https://issuer", "", "")
			return err
		}, "give --trusted-root FILE"},
		{"bad identity regexp", func() error { _, err := l.Identity("", "(", "https://issuer", "", ""); return err }, "certificate identity"},
		{"no notation policy", func() error { _, err := l.Notation(dir); return err }, "has no trustpolicy.oci.json"},
		{"invalid notation policy", func() error { _, err := l.Notation(filepath.Join(dir, "badpolicy")); return err }, "notation trust policy in"},
		{"notation policy not JSON", func() error { _, err := l.Notation(filepath.Join(dir, "notjson")); return err }, "notation trust policy in"},
	} {
		err := tc.err()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want %q in one line", tc.name, err, tc.want)
		}
	}
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
