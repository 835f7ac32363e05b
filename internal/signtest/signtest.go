// Package signtest is the signature lab of dockvet's tests: a real
// registry on loopback (go-containerregistry's pkg/registry), a
// certificate authority issuing Fulcio-style certificates, a transparency
// log keeping an RFC 6962 Merkle tree and signing entries and checkpoints
// as Rekor does, and a notation certificate authority with the
// configuration directory that trusts it. Signatures are made with the
// sigstore and notation libraries and stored the way cosign and notation
// store them: genuine artifacts, nothing mocked. Only tests import it.
package signtest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	"github.com/go-openapi/strfmt"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go"
	notationregistry "github.com/notaryproject/notation-go/registry"
	notationsigner "github.com/notaryproject/notation-go/signer"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/rekor/pkg/generated/client/entries"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/pki"
	rekortypes "github.com/sigstore/rekor/pkg/types"
	"github.com/sigstore/rekor/pkg/types/hashedrekord"
	rekorutil "github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	sigsig "github.com/sigstore/sigstore/pkg/signature"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"google.golang.org/protobuf/encoding/protojson"
)

// The media and artifact types and annotations the signing tools write,
// spelled here on the writer's side.
const (
	MediaSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	MediaDSSE          = "application/vnd.dsse.envelope.v1+json"
	MediaBundle        = "application/vnd.dev.sigstore.bundle.v0.3+json"
	ArtifactCosignSig  = "application/vnd.dev.cosign.artifact.sig.v1+json"
	ArtifactNotation   = "application/vnd.cncf.notary.signature"
	// PredicateCosignSign is cosign's image signature statement.
	PredicateCosignSign = "https://sigstore.dev/cosign/sign/v1"

	annSignature   = "dev.cosignproject.cosign/signature"
	annCertificate = "dev.sigstore.cosign/certificate"
	annRekorBundle = "dev.sigstore.cosign/bundle"
)

// Registry is an in-process registry on loopback.
type Registry struct {
	t    testing.TB
	Host string
}

// NewRegistry starts a registry; referrersAPI says whether it answers the
// OCI 1.1 referrers API (else clients use the referrers tag scheme).
func NewRegistry(t testing.TB, referrersAPI bool) *Registry {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(referrersAPI), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &Registry{t: t, Host: u.Host}
}

func (r *Registry) opts() []remote.Option {
	return []remote.Option{remote.WithContext(context.Background())}
}

// Repo is a repository of the registry.
func (r *Registry) Repo(path string) name.Repository {
	repo, err := name.NewRepository(r.Host + "/" + path)
	if err != nil {
		r.t.Fatal(err)
	}
	return repo
}

// PushImage pushes a random image of n layers under repo:tag.
func (r *Registry) PushImage(repo, tag string, n int) (v1.Image, name.Digest) {
	r.t.Helper()
	img, err := random.Image(512, int64(n))
	if err != nil {
		r.t.Fatal(err)
	}
	return img, r.Push(repo, tag, img)
}

// Push pushes img under repo:tag and returns its digest reference.
func (r *Registry) Push(repo, tag string, img v1.Image) name.Digest {
	r.t.Helper()
	if err := remote.Write(r.Repo(repo).Tag(tag), img, r.opts()...); err != nil {
		r.t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		r.t.Fatal(err)
	}
	return r.Repo(repo).Digest(d.String())
}

// Tamper replaces the top layer of img, as someone with push access
// would, and pushes the result under the same tag.
func (r *Registry) Tamper(repo, tag string, img v1.Image) name.Digest {
	r.t.Helper()
	layers, err := img.Layers()
	if err != nil {
		r.t.Fatal(err)
	}
	evil, err := random.Layer(512, types.DockerLayer)
	if err != nil {
		r.t.Fatal(err)
	}
	changed, err := mutate.AppendLayers(empty.Image, append(layers[:len(layers)-1:len(layers)-1], evil)...)
	if err != nil {
		r.t.Fatal(err)
	}
	return r.Push(repo, tag, changed)
}

// Descriptor is what the registry says of a manifest.
func (r *Registry) Descriptor(d name.Digest) v1.Descriptor {
	r.t.Helper()
	desc, err := remote.Head(d, r.opts()...)
	if err != nil {
		r.t.Fatal(err)
	}
	return *desc
}

// rawManifest is a manifest pushed as written.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// Blob is one layer of an artifact.
type Blob struct {
	MediaType   string
	Data        []byte
	Annotations map[string]string
}

// PushArtifact pushes an OCI 1.1 artifact referring to subject (an empty
// config, one layer per blob, the artifact type and annotations), as
// cosign's bundle format and notation write them. The registry's referrers
// API, or go-containerregistry's tag fallback, lists it.
func (r *Registry) PushArtifact(subject name.Digest, artifactType string, annotations map[string]string, blobs ...Blob) v1.Hash {
	r.t.Helper()
	repo := subject.Context()
	emptyCfg := []byte("{}")
	if err := remote.WriteLayer(repo, static.NewLayer(emptyCfg, "application/vnd.oci.empty.v1+json"), r.opts()...); err != nil {
		r.t.Fatal(err)
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: artifactType, Annotations: annotations,
		Config: v1.Descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: digestOf(emptyCfg), Size: int64(len(emptyCfg))}}
	for _, b := range blobs {
		if err := remote.WriteLayer(repo, static.NewLayer(b.Data, types.MediaType(b.MediaType)), r.opts()...); err != nil {
			r.t.Fatal(err)
		}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.MediaType(b.MediaType), Digest: digestOf(b.Data), Size: int64(len(b.Data)), Annotations: b.Annotations})
	}
	desc := r.Descriptor(subject)
	m.Subject = &v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	raw, err := json.Marshal(m)
	if err != nil {
		r.t.Fatal(err)
	}
	h := digestOf(raw)
	if err := remote.Put(repo.Digest(h.String()), rawManifest{raw, types.OCIManifestSchema1}, r.opts()...); err != nil {
		r.t.Fatal(err)
	}
	return h
}

func digestOf(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// CosignLayer is one cosign signature: its payload and annotations.
type CosignLayer struct {
	Payload     []byte
	MediaType   string
	Annotations map[string]string
}

// AttachCosignTag writes signatures as cosign does without bundles: an
// image at the tag sha256-<digest>.<suffix> ("sig", or "att" for
// attestations) whose layers are the payloads, their annotations the
// signatures.
func (r *Registry) AttachCosignTag(subject name.Digest, suffix string, layers ...CosignLayer) {
	r.t.Helper()
	img := mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1)
	for _, cl := range layers {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(cl.Payload, types.MediaType(cl.MediaType)), Annotations: cl.Annotations})
		if err != nil {
			r.t.Fatal(err)
		}
	}
	tag := strings.Replace(subject.DigestStr(), ":", "-", 1) + "." + suffix
	if err := remote.Write(subject.Context().Tag(tag), img, r.opts()...); err != nil {
		r.t.Fatal(err)
	}
}

// AttachCosignReferrer writes the same signatures as an OCI 1.1 referrer
// (cosign --registry-referrers-mode=oci-1-1).
func (r *Registry) AttachCosignReferrer(subject name.Digest, layers ...CosignLayer) {
	r.t.Helper()
	var blobs []Blob
	for _, cl := range layers {
		blobs = append(blobs, Blob{MediaType: cl.MediaType, Data: cl.Payload, Annotations: cl.Annotations})
	}
	r.PushArtifact(subject, ArtifactCosignSig, nil, blobs...)
}

// AttachBundle stores a Sigstore bundle as cosign's bundle format does.
func (r *Registry) AttachBundle(subject name.Digest, bundle []byte, predicateType string) {
	r.t.Helper()
	r.PushArtifact(subject, MediaBundle, map[string]string{"dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": predicateType},
		Blob{MediaType: MediaBundle, Data: bundle})
}

// CosignPayload is the simple signing payload cosign signs for an image.
func CosignPayload(d name.Digest) []byte {
	return []byte(fmt.Sprintf(`{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`,
		d.Context().Name(), d.DigestStr()))
}

// Key is a signing key and its public key file.
type Key struct {
	Priv crypto.Signer
	// File is the PEM public key, as `cosign public-key` writes it.
	File string
}

// NewKey makes a key: "p256", "p384", "ed25519" or "rsa".
func NewKey(t testing.TB, alg string) *Key {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case "p256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ed25519":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case "rsa":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("unknown algorithm %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &Key{Priv: priv, File: WritePublicKey(t, priv.Public())}
}

// WritePublicKey writes a PEM public key file.
func WritePublicKey(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(t.TempDir(), "*.pub")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// SignCosign signs a payload as cosign does with a key: the payload
// itself, in the key's default scheme, the signature in an annotation.
func (k *Key) SignCosign(t testing.TB, payload []byte) CosignLayer {
	t.Helper()
	s, err := sigsig.LoadDefaultSigner(k.Priv)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.SignMessage(strings.NewReader(string(payload)))
	if err != nil {
		t.Fatal(err)
	}
	return CosignLayer{Payload: payload, MediaType: MediaSimpleSigning, Annotations: map[string]string{annSignature: base64.StdEncoding.EncodeToString(sig)}}
}

// SignDSSE wraps an in-toto statement in a DSSE envelope signed with the
// key, as cosign attest writes it into a .att layer.
func (k *Key) SignDSSE(t testing.TB, statement []byte, predicateType string) CosignLayer {
	t.Helper()
	const payloadType = "application/vnd.in-toto+json"
	pae := fmt.Sprintf("DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(statement), statement)
	s, err := sigsig.LoadDefaultSigner(k.Priv)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.SignMessage(strings.NewReader(pae))
	if err != nil {
		t.Fatal(err)
	}
	env, err := json.Marshal(map[string]any{"payloadType": payloadType, "payload": base64.StdEncoding.EncodeToString(statement),
		"signatures": []map[string]string{{"keyid": "", "sig": base64.StdEncoding.EncodeToString(sig)}}})
	if err != nil {
		t.Fatal(err)
	}
	return CosignLayer{Payload: env, MediaType: MediaDSSE, Annotations: map[string]string{"predicateType": predicateType}}
}

// Ephemeral is a sigstore-go signing key of the given algorithm.
func Ephemeral(t testing.TB, alg protocommon.PublicKeyDetails) *sgsign.EphemeralKeypair {
	t.Helper()
	kp, err := sgsign.NewEphemeralKeypair(&sgsign.EphemeralKeypairOptions{Algorithm: alg})
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// Fulcio is a certificate authority issuing short-lived code signing
// certificates with Fulcio's identity extension.
type Fulcio struct {
	root, inter *x509.Certificate
	interKey    *ecdsa.PrivateKey
	// Identity and Issuer go into the next certificates; NotBefore and
	// NotAfter are their validity (default: from a minute ago, for ten
	// minutes).
	Identity, Issuer    string
	NotBefore, NotAfter time.Time
}

// Fulcio's OID for the OIDC issuer (v2, a DER UTF8String).
var oidIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}

// NewFulcio makes a root and an intermediate; certificates name a GitHub
// Actions release workflow.
func NewFulcio(t testing.TB) *Fulcio {
	t.Helper()
	now := time.Now()
	rootKey := mustECDSA(t)
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dockvet test Fulcio root", Organization: []string{"dockvet"}},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	rootCert := mustCert(t, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	interKey := mustECDSA(t)
	interTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "dockvet test Fulcio intermediate", Organization: []string{"dockvet"}},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	inter := mustCert(t, interTmpl, rootCert, interKey.Public(), rootKey)
	return &Fulcio{root: rootCert, inter: inter, interKey: interKey,
		Identity: "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main", Issuer: "https://token.actions.githubusercontent.com"}
}

// GetCertificate issues a certificate for the keypair's public key:
// sigstore-go's signer calls it as it would call Fulcio.
func (f *Fulcio) GetCertificate(_ context.Context, kp sgsign.Keypair, _ *sgsign.CertificateProviderOptions) ([]byte, error) {
	return f.Issue(kp.GetPublicKey())
}

// Issue makes a certificate for pub.
func (f *Fulcio) Issue(pub crypto.PublicKey) ([]byte, error) {
	nb, na := f.NotBefore, f.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Minute)
		na = nb.Add(10 * time.Minute)
	}
	u, err := url.Parse(f.Identity)
	if err != nil {
		return nil, err
	}
	iss, err := asn1.MarshalWithParams(f.Issuer, "utf8")
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, NotBefore: nb, NotAfter: na, URIs: []*url.URL{u},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: []pkix.Extension{{Id: oidIssuerV2, Value: iss}}}
	return x509.CreateCertificate(rand.Reader, tmpl, f.inter, pub, f.interKey)
}

// Rekor is a transparency log: entries are canonicalized by Rekor's own
// types, appended to an RFC 6962 Merkle tree, and answered with a signed
// entry timestamp and an inclusion proof under a signed checkpoint. It is
// the client sigstore-go's signer talks to.
type Rekor struct {
	mu     sync.Mutex
	key    *ecdsa.PrivateKey
	signer sigsig.Signer
	logID  string
	tree   *testonly.Tree
}

// NewRekor starts a log with a few entries of others in it, so inclusion
// proofs have a path.
func NewRekor(t testing.TB) *Rekor {
	t.Helper()
	key := mustECDSA(t)
	s, err := sigsig.LoadECDSASignerVerifier(key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	r := &Rekor{key: key, signer: s, logID: hex.EncodeToString(sum[:]), tree: testonly.New(rfc6962.DefaultHasher)}
	for i := range 5 {
		r.tree.AppendData([]byte(fmt.Sprintf(`{"entry":%d}`, i)))
	}
	return r
}

// CreateLogEntry logs a proposed entry (Rekor's API, as sigstore-go calls it).
func (r *Rekor) CreateLogEntry(params *entries.CreateLogEntryParams, _ ...entries.ClientOption) (*entries.CreateLogEntryCreated, error) {
	ctx := params.Context
	if ctx == nil {
		ctx = context.Background()
	}
	impl, err := rekortypes.UnmarshalEntry(params.ProposedEntry)
	if err != nil {
		return nil, err
	}
	body, err := rekortypes.CanonicalizeEntry(ctx, impl)
	if err != nil {
		return nil, err
	}
	entry, uuid, err := r.append(ctx, body, time.Now())
	if err != nil {
		return nil, err
	}
	return &entries.CreateLogEntryCreated{ETag: uuid, Payload: models.LogEntry{uuid: entry}}, nil
}

// GetLogEntryByUUID is only asked for entries logged twice, which the
// tests never do.
func (r *Rekor) GetLogEntryByUUID(*entries.GetLogEntryByUUIDParams, ...entries.ClientOption) (*entries.GetLogEntryByUUIDOK, error) {
	return nil, fmt.Errorf("the test log has no duplicate entries to look up")
}

func (r *Rekor) append(ctx context.Context, body []byte, at time.Time) (models.LogEntryAnon, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	index := int64(r.tree.Size())
	r.tree.AppendData(body)
	size := r.tree.Size()
	it := at.Unix()
	b64 := base64.StdEncoding.EncodeToString(body)
	payload, err := json.Marshal(tlog.RekorPayload{Body: b64, IntegratedTime: it, LogIndex: index, LogID: r.logID})
	if err != nil {
		return models.LogEntryAnon{}, "", err
	}
	canonical, err := jsoncanonicalizer.Transform(payload)
	if err != nil {
		return models.LogEntryAnon{}, "", err
	}
	sum := sha256.Sum256(canonical)
	set, err := ecdsa.SignASN1(rand.Reader, r.key, sum[:])
	if err != nil {
		return models.LogEntryAnon{}, "", err
	}
	path, err := r.tree.InclusionProof(uint64(index), size)
	if err != nil {
		return models.LogEntryAnon{}, "", err
	}
	rootHash := r.tree.Hash()
	cp, err := rekorutil.CreateAndSignCheckpoint(ctx, "rekor.localhost", 1, size, rootHash, r.signer)
	if err != nil {
		return models.LogEntryAnon{}, "", err
	}
	var hashes []string
	for _, h := range path {
		hashes = append(hashes, hex.EncodeToString(h))
	}
	rh, cps, sz, logID := hex.EncodeToString(rootHash), string(cp), int64(size), r.logID
	return models.LogEntryAnon{Body: b64, IntegratedTime: &it, LogID: &logID, LogIndex: &index,
		Verification: &models.LogEntryAnonVerification{SignedEntryTimestamp: strfmt.Base64(set),
			InclusionProof: &models.InclusionProof{Checkpoint: &cps, Hashes: hashes, LogIndex: &index, RootHash: &rh, TreeSize: &sz}}}, hex.EncodeToString(r.tree.LeafHash(uint64(index))), nil
}

// TrustedRoot writes a trusted_root.json naming the CA and the log
// (either may be nil).
func TrustedRoot(t testing.TB, f *Fulcio, r *Rekor) string {
	t.Helper()
	now := time.Now()
	var cas []root.CertificateAuthority
	if f != nil {
		cas = append(cas, &root.FulcioCertificateAuthority{Root: f.root, Intermediates: []*x509.Certificate{f.inter},
			ValidityPeriodStart: now.Add(-24 * time.Hour), URI: "https://fulcio.test"})
	}
	logs := map[string]*root.TransparencyLog{}
	if r != nil {
		id, err := hex.DecodeString(r.logID)
		if err != nil {
			t.Fatal(err)
		}
		logs[r.logID] = &root.TransparencyLog{BaseURL: "https://rekor.localhost", ID: id, ValidityPeriodStart: now.Add(-24 * time.Hour),
			HashFunc: crypto.SHA256, PublicKey: r.key.Public(), SignatureHashFunc: crypto.SHA256}
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, cas, nil, nil, logs)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// Statement is an in-toto statement about the image d: cosign's image
// signature (predicate type PredicateCosignSign, predicate {}) or an
// attestation.
func Statement(d name.Digest, predicateType, predicate string) []byte {
	h := strings.TrimPrefix(d.DigestStr(), "sha256:")
	return []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":%q,"digest":{"sha256":%q}}],"predicateType":%q,"predicate":%s}`,
		d.Context().Name(), h, predicateType, predicate))
}

// SignBundle signs a statement with sigstore-go into a bundle: with a
// certificate from f when it is set, logged in r when it is set.
func SignBundle(t testing.TB, kp sgsign.Keypair, statement []byte, f *Fulcio, r *Rekor) []byte {
	t.Helper()
	opts := sgsign.BundleOptions{Context: context.Background()}
	if f != nil {
		opts.CertificateProvider = f
	}
	if r != nil {
		opts.TransparencyLogs = []sgsign.Transparency{sgsign.NewRekor(&sgsign.RekorOptions{Client: r})}
	}
	b, err := sgsign.Bundle(&sgsign.DSSEData{Data: statement, PayloadType: "application/vnd.in-toto+json"}, kp, opts)
	if err != nil {
		t.Fatal(err)
	}
	return BundleJSON(t, b)
}

// BundleJSON is a bundle as stored.
func BundleJSON(t testing.TB, b *protobundle.Bundle) []byte {
	t.Helper()
	data, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// LegacyKeyless signs a payload as cosign 2 does keylessly: an ephemeral
// key, a certificate from f, a hashedrekord entry in r, all in the
// layer's annotations.
func LegacyKeyless(t testing.TB, f *Fulcio, r *Rekor, payload []byte) CosignLayer {
	t.Helper()
	kp := Ephemeral(t, protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256)
	der, err := f.Issue(kp.GetPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := cryptoutils.MarshalCertificateToPEM(cert)
	if err != nil {
		t.Fatal(err)
	}
	sig, sum, err := kp.SignData(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	pe, err := hashedrekord.New().CreateProposedEntry(context.Background(), "", rekortypes.ArtifactProperties{
		PKIFormat: string(pki.X509), PublicKeyBytes: [][]byte{certPEM}, SignatureBytes: sig, ArtifactHash: "sha256:" + hex.EncodeToString(sum)})
	if err != nil {
		t.Fatal(err)
	}
	created, err := r.CreateLogEntry(&entries.CreateLogEntryParams{ProposedEntry: pe, Context: context.Background()})
	if err != nil {
		t.Fatal(err)
	}
	e := created.Payload[created.ETag]
	rb, err := json.Marshal(map[string]any{"SignedEntryTimestamp": e.Verification.SignedEntryTimestamp,
		"Payload": map[string]any{"body": e.Body, "integratedTime": *e.IntegratedTime, "logIndex": *e.LogIndex, "logID": *e.LogID}})
	if err != nil {
		t.Fatal(err)
	}
	return CosignLayer{Payload: payload, MediaType: MediaSimpleSigning, Annotations: map[string]string{
		annSignature: base64.StdEncoding.EncodeToString(sig), annCertificate: string(certPEM), annRekorBundle: string(rb)}}
}

// notaryRepo is the registry as notation-go sees it, over
// go-containerregistry: notation.Sign pushes its signatures through it.
type notaryRepo struct {
	r    *Registry
	repo name.Repository
}

var _ notationregistry.Repository = (*notaryRepo)(nil)

func (n *notaryRepo) Resolve(_ context.Context, reference string) (ocispec.Descriptor, error) {
	// notation passes the digest or tag part of the reference.
	var ref name.Reference = n.repo.Tag(reference)
	if strings.HasPrefix(reference, "sha256:") {
		ref = n.repo.Digest(reference)
	}
	d, err := remote.Head(ref, n.r.opts()...)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: string(d.MediaType), Digest: digest.Digest(d.Digest.String()), Size: d.Size}, nil
}

func (n *notaryRepo) ListSignatures(context.Context, ocispec.Descriptor, func([]ocispec.Descriptor) error) error {
	return fmt.Errorf("the lab only writes signatures; dockvet reads them")
}

func (n *notaryRepo) FetchSignatureBlob(context.Context, ocispec.Descriptor) ([]byte, ocispec.Descriptor, error) {
	return nil, ocispec.Descriptor{}, fmt.Errorf("the lab only writes signatures; dockvet reads them")
}

func (n *notaryRepo) PushSignature(_ context.Context, mediaType string, blob []byte, subject ocispec.Descriptor, annotations map[string]string) (ocispec.Descriptor, ocispec.Descriptor, error) {
	h := n.r.PushArtifact(n.repo.Digest(subject.Digest.String()), ArtifactNotation, annotations, Blob{MediaType: mediaType, Data: blob})
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(blob), Size: int64(len(blob))},
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.Digest(h.String())}, nil
}

// Notary is a notation certificate authority and the configuration
// directory (trust policy and trust store) that trusts it.
type Notary struct {
	root    *x509.Certificate
	rootKey *ecdsa.PrivateKey
	// Dir holds trustpolicy.oci.json and truststore/x509/ca/test/root.pem.
	Dir string
}

// NewNotary makes a CA named cn and a configuration trusting it for every
// repository at level strict.
func NewNotary(t testing.TB, cn string) *Notary {
	t.Helper()
	key := mustECDSA(t)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"dockvet"}, Country: []string{"US"}, Province: []string{"WA"}},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	n := &Notary{root: mustCert(t, tmpl, tmpl, key.Public(), key), rootKey: key, Dir: t.TempDir()}
	store := filepath.Join(n.Dir, "truststore", "x509", "ca", "test")
	if err := os.MkdirAll(store, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(store, "root.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: n.root.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	policy := `{"version":"1.0","trustPolicies":[{"name":"test","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:test"],"trustedIdentities":["*"]}]}`
	if err := os.WriteFile(filepath.Join(n.Dir, "trustpolicy.oci.json"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

// leaf issues a code signing certificate valid from nb to na.
func (n *Notary) leaf(t testing.TB, nb, na time.Time) (*ecdsa.PrivateKey, []*x509.Certificate) {
	t.Helper()
	key := mustECDSA(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:   pkix.Name{CommonName: "release signer", Organization: []string{"acme"}, Country: []string{"US"}, Province: []string{"WA"}},
		NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	return key, []*x509.Certificate{mustCert(t, tmpl, n.root, key.Public(), n.rootKey), n.root}
}

// Sign signs the image with notation-go, which pushes the signature as a
// referrer through the registry.
func (n *Notary) Sign(t testing.TB, r *Registry, subject name.Digest, mediaType string) {
	t.Helper()
	key, chain := n.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	s, err := notationsigner.NewGenericSigner(key, chain)
	if err != nil {
		t.Fatal(err)
	}
	_, err = notation.Sign(context.Background(), s, &notaryRepo{r: r, repo: subject.Context()},
		notation.SignOptions{SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: mediaType}, ArtifactReference: subject.String()})
	if err != nil {
		t.Fatal(err)
	}
}

// SignExpired signs with notation's signature library at a time the
// certificate was valid; it has expired since.
func (n *Notary) SignExpired(t testing.TB, r *Registry, subject name.Digest) {
	t.Helper()
	now := time.Now()
	key, chain := n.leaf(t, now.Add(-3*time.Hour), now.Add(-time.Hour))
	n.envelope(t, r, subject, subject, key, chain, now.Add(-2*time.Hour))
}

// SignOnto signs the image signed and attaches the signature to the
// image onto: what someone copying a genuine signature to another image
// does.
func (n *Notary) SignOnto(t testing.TB, r *Registry, signed, onto name.Digest) {
	t.Helper()
	key, chain := n.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	n.envelope(t, r, signed, onto, key, chain, time.Now())
}

func (n *Notary) envelope(t testing.TB, r *Registry, signed, onto name.Digest, key crypto.PrivateKey, chain []*x509.Certificate, at time.Time) {
	t.Helper()
	desc := r.Descriptor(signed)
	payload := fmt.Sprintf(`{"targetArtifact":{"mediaType":%q,"digest":%q,"size":%d}}`, desc.MediaType, desc.Digest, desc.Size)
	ls, err := signature.NewLocalSigner(chain, key)
	if err != nil {
		t.Fatal(err)
	}
	env, err := signature.NewEnvelope(jws.MediaTypeEnvelope)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := env.Sign(&signature.SignRequest{Payload: signature.Payload{ContentType: "application/vnd.cncf.notary.payload.v1+json", Content: []byte(payload)},
		Signer: ls, SigningTime: at, SigningScheme: signature.SigningSchemeX509, SigningAgent: "dockvet test"})
	if err != nil {
		t.Fatal(err)
	}
	r.PushArtifact(onto, ArtifactNotation, nil, Blob{MediaType: jws.MediaTypeEnvelope, Data: blob})
}

func mustECDSA(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
