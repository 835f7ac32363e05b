package sign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dockvet/dockvet/internal/image"
)

// Artifact types and media types of signatures and attestations, as the
// tools that write them spell them.
const (
	mtSimpleSigning   = "application/vnd.dev.cosign.simplesigning.v1+json"
	mtDSSE            = "application/vnd.dsse.envelope.v1+json"
	atCosignSignature = "application/vnd.dev.cosign.artifact.sig.v1+json"
	atCosignAttest    = "application/vnd.dev.cosign.artifact.att.v1+json"
	atBundlePrefix    = "application/vnd.dev.sigstore.bundle"
	atNotation        = "application/vnd.cncf.notary.signature"
	mtJWS             = "application/jose+json"
	mtCOSE            = "application/cose"

	annBundleContent   = "dev.sigstore.bundle.content"
	annBundlePredicate = "dev.sigstore.bundle.predicateType"
)

// Limits on what a registry can make dockvet read. Signatures are small;
// attestations can carry an SBOM of a large image.
const (
	maxArtifacts      = 64       // signature and attestation manifests per image
	maxSignatureBytes = 1 << 20  // one payload, bundle or envelope
	maxAttestBytes    = 64 << 20 // one attestation (an SBOM in a bundle)
)

// target is the image being verified, resolved once.
type target struct {
	ref    string
	repo   name.Repository
	digest v1.Hash
	desc   v1.Descriptor
	// manifest is the image's manifest or index, as the registry served it
	// (checked against digest).
	manifest []byte
	opts     []remote.Option
}

func (t *target) digestRef(h v1.Hash) name.Digest { return t.repo.Digest(h.String()) }

// resolve finds the digest a reference names. A reference with a digest
// is taken at its word (and the registry's manifest is checked against
// it); a tag is resolved once.
func resolve(ctx context.Context, ref string, r Remote) (*target, error) {
	ref = strings.TrimPrefix(ref, image.SourceRegistry+":")
	for _, p := range []string{image.SourceDockerArchive, image.SourceOCIArchive, image.SourceOCI, image.SourceDocker} {
		if strings.HasPrefix(ref, p+":") {
			return nil, fmt.Errorf("%s: signatures are stored in the registry; name the image there (REGISTRY/REPOSITORY:TAG or @sha256:…)", ref)
		}
	}
	n, err := name.ParseReference(ref, image.NameOptions(r.open())...)
	if err != nil {
		return nil, fmt.Errorf("%s: not an image reference: %v", ref, err)
	}
	opts := image.RemoteOptions(ctx, r.open())
	d, err := remote.Get(n, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", ref, registryError(err))
	}
	return &target{ref: ref, repo: n.Context(), digest: d.Digest, desc: d.Descriptor, manifest: d.Manifest, opts: opts}, nil
}

// registryError is a registry's error in one line, with the common causes
// said plainly.
func registryError(err error) string {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusNotFound:
			return "not found in the registry"
		case http.StatusUnauthorized, http.StatusForbidden:
			return "the registry refused access (log in with `docker login`)"
		}
	}
	return oneLine(err.Error())
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

// material is every signature and attestation artifact found for a
// target, parsed but not yet verified.
type material struct {
	signatures   []*candidate
	attestations []*candidate
	truncated    bool
}

// candidate is one signature or attestation as stored. Exactly one of
// legacy, bundle and notation is set, or err says why it could not be
// read.
type candidate struct {
	format Format
	source string
	legacy *legacySig
	bundle *bundleSig
	notary *notarySig
	err    error
}

// collect lists the cosign tags and the referrers of the target and reads
// every signature (and, if asked, attestation) artifact. A malformed
// artifact becomes a candidate with an error: it is a signature that does
// not verify, not a failed run.
func collect(ctx context.Context, t *target, attestations bool) (*material, error) {
	m := &material{}
	count := 0
	budget := func() bool {
		if count >= maxArtifacts {
			m.truncated = true
			return false
		}
		count++
		return true
	}
	// The cosign tag scheme: one manifest whose layers are signatures.
	tags := []string{"sig"}
	if attestations {
		tags = append(tags, "att")
	}
	for _, suffix := range tags {
		tag := sigTag(t.digest, suffix)
		d, err := remote.Get(t.repo.Tag(tag), t.opts...)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading %s: %s", t.ref, tag, registryError(err))
		}
		if !budget() {
			break
		}
		cs := readCosignManifest(ctx, t, d.Manifest, "tag "+tag)
		if suffix == "sig" {
			m.signatures = append(m.signatures, cs...)
		} else {
			m.attestations = append(m.attestations, cs...)
		}
	}
	idx, err := remote.Referrers(t.digestRef(t.digest), t.opts...)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("%s: listing referrers: %s", t.ref, registryError(err))
	}
	if idx == nil {
		return m, nil
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: referrers: %s", t.ref, oneLine(err.Error()))
	}
	for _, desc := range im.Manifests {
		kind := referrerKind(desc)
		var d *remote.Descriptor
		if kind == "" && untyped(desc) {
			// Some registries (go-containerregistry's own, older ones)
			// list an artifact under its config's media type instead of
			// its artifactType: the manifest says what it is.
			if !budget() {
				break
			}
			if d, err = remote.Get(t.digestRef(desc.Digest), t.opts...); err == nil {
				if am, merr := readManifest(d.Manifest); merr == nil {
					desc.ArtifactType, desc.Annotations = am.ArtifactType, am.Annotations
					kind = referrerKind(desc)
				}
			}
			if kind != "" {
				count-- // counted once, below
			}
		}
		if kind == "" || kind == "attestation" && !attestations {
			continue
		}
		if !budget() {
			break
		}
		source := "referrer " + desc.Digest.String()
		if d == nil {
			d, err = remote.Get(t.digestRef(desc.Digest), t.opts...)
		}
		if err != nil {
			c := &candidate{source: source, err: fmt.Errorf("it could not be read: %s", registryError(err))}
			m.add(kind, c)
			continue
		}
		switch {
		case desc.ArtifactType == atCosignSignature || desc.ArtifactType == atCosignAttest:
			for _, c := range readCosignManifest(ctx, t, d.Manifest, source) {
				m.add(kind, c)
			}
		case strings.HasPrefix(desc.ArtifactType, atBundlePrefix):
			m.add(kind, readBundleManifest(t, d.Manifest, source))
		case desc.ArtifactType == atNotation:
			m.add(kind, readNotationManifest(t, d.Manifest, source))
		}
	}
	return m, nil
}

func (m *material) add(kind string, c *candidate) {
	if kind == "attestation" || c.attestation() {
		m.attestations = append(m.attestations, c)
		return
	}
	m.signatures = append(m.signatures, c)
}

// referrerKind sorts a referrer by its artifact type and annotations:
// "signature", "attestation", or "" for artifacts that are neither (SBOMs
// attached as plain files, other tools' data).
func referrerKind(d v1.Descriptor) string {
	switch {
	case d.ArtifactType == atCosignSignature, d.ArtifactType == atNotation:
		return "signature"
	case d.ArtifactType == atCosignAttest:
		return "attestation"
	case strings.HasPrefix(d.ArtifactType, atBundlePrefix):
		// cosign writes image signatures and attestations as the same
		// artifact type; the predicate type tells them apart, and the
		// bundle itself is read to be sure (see candidate.attestation).
		if p := d.Annotations[annBundlePredicate]; p != "" && p != predicateCosignSign {
			return "attestation"
		}
		return "signature"
	}
	return ""
}

// untyped reports whether a referrer is listed without a usable artifact
// type.
func untyped(d v1.Descriptor) bool {
	return d.ArtifactType == "" || d.ArtifactType == "application/vnd.oci.empty.v1+json" || d.ArtifactType == string(types.OCIConfigJSON)
}

// sigTag is the cosign tag of a digest's signatures ("sig") or
// attestations ("att"): sha256-<hex>.sig.
func sigTag(d v1.Hash, suffix string) string {
	return d.Algorithm + "-" + d.Hex + "." + suffix
}

// readManifest decodes an artifact manifest.
func readManifest(raw []byte) (*v1.Manifest, error) {
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("not a manifest: %v", err)
	}
	return &m, nil
}

// readBlob reads one blob of the target's repository, at most max bytes;
// go-containerregistry checks its digest as it is read.
func readBlob(t *target, d v1.Descriptor, max int64) ([]byte, error) {
	if d.Size > max {
		return nil, fmt.Errorf("blob %s is %d bytes, more than the %d dockvet reads", d.Digest, d.Size, max)
	}
	l, err := remote.Layer(t.digestRef(d.Digest), t.opts...)
	if err != nil {
		return nil, errors.New(registryError(err))
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, errors.New(registryError(err))
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(rc, max+1)); err != nil {
		return nil, fmt.Errorf("blob %s: %s", d.Digest, registryError(err))
	}
	if int64(buf.Len()) > max {
		return nil, fmt.Errorf("blob %s is larger than the %d bytes dockvet reads", d.Digest, max)
	}
	return buf.Bytes(), nil
}

// manifestAt fetches the manifest a digest names in the target's
// repository, to compare a signed image with the one the tag names now.
func manifestAt(t *target, h v1.Hash) (*v1.Manifest, *v1.IndexManifest, error) {
	d, err := remote.Get(t.digestRef(h), t.opts...)
	if err != nil {
		return nil, nil, err
	}
	if d.MediaType.IsIndex() {
		var im v1.IndexManifest
		if err := json.Unmarshal(d.Manifest, &im); err != nil {
			return nil, nil, err
		}
		return nil, &im, nil
	}
	m, err := readManifest(d.Manifest)
	return m, nil, err
}
