package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature"
)

// publicKey is a verification key from a PEM file.
type publicKey struct {
	name string
	// id is sha256 of the key's PKIX encoding, as `cosign public-key`
	// users compare keys.
	id       string
	pub      crypto.PublicKey
	verifier signature.Verifier
}

// describe is "key NAME (sha256:0123456789ab…)".
func (k *publicKey) describe() string {
	return fmt.Sprintf("key %s (%s…)", k.name, k.id[:len("sha256:")+12])
}

// parsePublicKey reads a PEM public key: PKIX ("PUBLIC KEY"), PKCS #1
// ("RSA PUBLIC KEY") or the key of a certificate. ECDSA (P-256, P-384,
// P-521), Ed25519 and RSA (2048 bits or more) keys are accepted.
func parsePublicKey(name string, data []byte) (*publicKey, error) {
	rest := bytes.TrimSpace(data)
	for len(rest) > 0 {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var pub crypto.PublicKey
		var err error
		switch b.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(b.Bytes)
		case "CERTIFICATE":
			var c *x509.Certificate
			if c, err = x509.ParseCertificate(b.Bytes); err == nil {
				pub = c.PublicKey
			}
		default:
			if strings.Contains(b.Type, "PRIVATE KEY") {
				return nil, fmt.Errorf("%s holds a private key; give the public key (cosign public-key --key %s)", name, name)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s block: %v", name, b.Type, err)
		}
		return newPublicKey(name, pub)
	}
	return nil, fmt.Errorf("%s holds no PEM public key", name)
}

func newPublicKey(name string, pub crypto.PublicKey) (*publicKey, error) {
	v, err := keyVerifier(pub)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	sum := sha256.Sum256(der)
	return &publicKey{name: name, id: "sha256:" + hex.EncodeToString(sum[:]), pub: pub, verifier: v}, nil
}

// keyVerifier is the verifier of a key as cosign and sigstore-go sign
// with it. ECDSA signatures use the curve's hash (what current clients
// write) or SHA-256 (what older cosign wrote for every curve); RSA
// signatures PKCS #1 v1.5 or PSS with SHA-256; Ed25519 the pure scheme.
func keyVerifier(pub crypto.PublicKey) (signature.Verifier, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		var hashes []crypto.Hash
		switch k.Curve {
		case elliptic.P256():
			hashes = []crypto.Hash{crypto.SHA256}
		case elliptic.P384():
			hashes = []crypto.Hash{crypto.SHA384, crypto.SHA256}
		case elliptic.P521():
			hashes = []crypto.Hash{crypto.SHA512, crypto.SHA256}
		default:
			return nil, errors.New("unsupported ECDSA curve (P-256, P-384 and P-521 are)")
		}
		var vs []signature.Verifier
		for _, h := range hashes {
			v, err := signature.LoadECDSAVerifier(k, h)
			if err != nil {
				return nil, err
			}
			vs = append(vs, v)
		}
		return anyVerifier(vs), nil
	case ed25519.PublicKey:
		return signature.LoadED25519Verifier(k)
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits is too weak (2048 or more)", k.N.BitLen())
		}
		p1, err := signature.LoadRSAPKCS1v15Verifier(k, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		pss, err := signature.LoadRSAPSSVerifier(k, crypto.SHA256, nil)
		if err != nil {
			return nil, err
		}
		return anyVerifier{p1, pss}, nil
	}
	return nil, fmt.Errorf("unsupported key type %T (ECDSA, Ed25519 and RSA are)", pub)
}

// anyVerifier accepts a signature any of its verifiers accepts: one key,
// several ways its signatures are made.
type anyVerifier []signature.Verifier

func (a anyVerifier) PublicKey(opts ...signature.PublicKeyOption) (crypto.PublicKey, error) {
	return a[0].PublicKey(opts...)
}

func (a anyVerifier) VerifySignature(sig, message io.Reader, opts ...signature.VerifyOption) error {
	s, err := io.ReadAll(sig)
	if err != nil {
		return err
	}
	var m []byte
	if message != nil {
		if m, err = io.ReadAll(message); err != nil {
			return err
		}
	}
	for _, v := range a {
		if err = v.VerifySignature(bytes.NewReader(s), bytes.NewReader(m), opts...); err == nil {
			return nil
		}
	}
	return err
}
