package sign

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/rule"
)

// Pass is what a content-trust rule sees: an image a surface names, the
// signers the trust policy requires for it, and what verifying its
// signatures showed.
type Pass struct {
	rule.Reporter
	Subject Subject
	// Signers are who the trust policy accepts for the image.
	Signers []policy.Signer
	// Results are the verification of each of the subject's digests, in
	// order; empty when the image has no registry digest to verify.
	Results []*Result
}

// Report records a finding about the subject.
func (p *Pass) Report(format string, args ...any) {
	p.Emit(p.Subject.Location, format, args...)
}

// Subject is an image as a surface knows it.
type Subject struct {
	// Name is the reference as written: the image a container runs, the
	// image `dockvet image` audits.
	Name string
	// Digests are registry references by digest (repo@sha256:…) that name
	// the image, most exact first: a platform's manifest, then the index
	// that lists it. Empty when the image has none (built locally, never
	// pushed or pulled).
	Digests []string
	Target  finding.Target
	// Location is where findings point (a container's name).
	Location finding.Location
	// Who starts a message: "Image ghcr.io/acme/app:1", "Container web (3f4e5d6c7b8a)".
	Who string
}

var ruleUnsigned = &Rule{
	Rule: finding.Rule{
		ID: "DV6501", Title: "Image not signed as the trust policy requires", Practice: finding.PracticeContentTrust, Severity: finding.High,
		Description: "The `trust:` rules of .dockvet.yaml require a signature of this image (by a cosign key, a keyless identity checked " +
			"against a Sigstore trusted root, or a notation trust policy), and none verifies: the image has no signature, its signatures " +
			"were made by someone else, cover another image, or their certificates had expired. Anyone able to push to the registry, or " +
			"to answer in its place, could have supplied it. Checked by `dockvet image --verify`, `dockvet container --verify` and " +
			"`dockvet host --verify`; `dockvet verify REF` shows every signature found.",
		Remediation: "Run only images your release process signed: sign in CI (`cosign sign --key …` or keyless, `notation sign`), and " +
			"deploy by digest. If the image is trustworthy but signed by someone the policy does not list yet, add that signer to its " +
			"`trust:` rule after review.",
		References: []string{"https://docs.sigstore.dev/cosign/verifying/verify/", "https://notaryproject.dev/docs/user-guides/how-to/verify-signatures/",
			"https://docs.docker.com/engine/security/trust/"},
	},
	Check: func(p *Pass) {
		who := describeSigners(p.Signers)
		if len(p.Results) == 0 {
			p.Report("%s has no registry digest, so its signature by %s, which the trust policy requires, cannot be checked.", p.Subject.Who, who)
			return
		}
		for _, r := range p.Results {
			if r.Verified() {
				return
			}
		}
		p.Report("%s is not signed by %s as the trust policy requires: %s.", p.Subject.Who, who, p.Results[0].Problem())
	},
}

func describeSigners(ss []policy.Signer) string {
	var d []string
	for _, s := range ss {
		d = append(d, s.Describe())
	}
	if len(d) > 1 {
		return strings.Join(d[:len(d)-1], ", ") + " or " + d[len(d)-1]
	}
	return strings.Join(d, "")
}

// Checker checks images against the signature requirements of a trust
// policy. Each image digest is verified once per set of signers, however
// many containers run it.
type Checker struct {
	Policy *policy.Policy
	Remote Remote
	Loader *Loader
	// Enabled filters rules; nil runs all.
	Enabled func(*finding.Rule) bool

	mu    sync.Mutex
	cache map[string]*Result
}

// Requires reports whether the policy requires a signature of the image a
// reference names; false for references the policy cannot judge (image
// IDs, names with variables).
func (c *Checker) Requires(ref string) bool {
	img, err := policy.ParseImage(ref)
	return err == nil && len(c.Policy.RequiredSigners(img)) > 0
}

// Check verifies the subject's signatures when the policy requires them
// and reports DV6501 when none verifies. An error means the check could
// not be made: an unreadable key, an unreachable registry.
func (c *Checker) Check(ctx context.Context, s Subject) ([]finding.Finding, error) {
	enabled := rule.Filter(c.Enabled)
	if !slices.ContainsFunc(rules, func(r *Rule) bool { return enabled.Allows(&r.Rule) }) {
		return nil, nil // nothing to verify for
	}
	img, err := policy.ParseImage(s.Name)
	if err != nil {
		return nil, nil
	}
	signers := c.Policy.RequiredSigners(img)
	if len(signers) == 0 {
		return nil, nil
	}
	trust, err := c.Loader.FromPolicy(signers)
	if err != nil {
		return nil, err
	}
	var results []*Result
	for _, ref := range s.Digests {
		r, err := c.verify(ctx, ref, signers, trust)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
		if r.Verified() {
			break
		}
	}
	var out []finding.Finding
	rule.Run(rules, enabled, func(r *finding.Rule) *Pass {
		return &Pass{Reporter: rule.NewReporter(r, s.Target, &out), Subject: s, Signers: signers, Results: results}
	})
	return out, nil
}

func (c *Checker) verify(ctx context.Context, ref string, signers []policy.Signer, trust Trust) (*Result, error) {
	key, _ := json.Marshal(signers)
	k := ref + "\x00" + string(key)
	c.mu.Lock()
	r, ok := c.cache[k]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := Verify(ctx, ref, Options{Remote: c.Remote, Trust: trust})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]*Result{}
	}
	c.cache[k] = r
	c.mu.Unlock()
	return r, nil
}

// Container checks the image a live container runs: by the digest its
// reference pins, or by the registry digests the Engine recorded when it
// pulled the image. `dockvet container`, `dockvet host` and `dockvet
// watch` call it for each container.
func (c *Checker) Container(ctx context.Context, lc *live.Container, target finding.Target) ([]finding.Finding, error) {
	if lc.Inspect.Config == nil || !c.Requires(lc.Inspect.Config.Image) {
		return nil, nil
	}
	ref := lc.Inspect.Config.Image
	s := Subject{Name: ref, Target: target, Location: finding.Location{Container: lc.Name()},
		Who: fmt.Sprintf("Container %s runs image %s, which", containerLabel(lc), ref)}
	if target == (finding.Target{}) {
		s.Target = live.Target(lc)
	}
	var repoDigests []string
	if lc.Image != nil {
		repoDigests = lc.Image.RepoDigests
	}
	s.Digests = RepoDigests(ref, repoDigests)
	return c.Check(ctx, s)
}

func containerLabel(lc *live.Container) string {
	if n, id := lc.Name(), lc.ShortID(); n != id && id != "" {
		return n + " (" + id + ")"
	}
	return lc.Name()
}

// RepoDigests are the registry digests of an image named ref: ref itself
// when it has a digest, else those of the Engine's RepoDigests that are
// of ref's repository.
func RepoDigests(ref string, repoDigests []string) []string {
	img, err := policy.ParseImage(ref)
	if err != nil {
		return nil
	}
	if img.Digest != "" {
		return []string{img.Repository + "@" + img.Digest}
	}
	var out []string
	for _, rd := range repoDigests {
		d, err := policy.ParseImage(rd)
		if err == nil && d.Repository == img.Repository && d.Digest != "" {
			out = append(out, d.Repository+"@"+d.Digest)
		}
	}
	return out
}

// ImageDigests are the registry digests of an audited image: its own
// manifest's and, when its name resolves to an index that lists that
// manifest, the index's (a multi-platform image is usually signed as a
// whole). Images that did not come from a registry have none here; the
// caller adds what the Engine recorded.
func ImageDigests(ctx context.Context, img *image.Image, r Remote) ([]string, error) {
	if img.Source != image.SourceRegistry || img.Digest == (v1.Hash{}) {
		return nil, nil
	}
	n, err := name.ParseReference(img.Name, image.NameOptions(r.open())...)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", img.Name, err)
	}
	out := []string{n.Context().Digest(img.Digest.String()).String()}
	if _, pinned := n.(name.Digest); pinned && n.Identifier() == img.Digest.String() {
		return out, nil
	}
	d, err := remote.Get(n, image.RemoteOptions(ctx, r.open())...)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", img.Name, registryError(err))
	}
	if d.Digest == img.Digest || !d.MediaType.IsIndex() {
		return out, nil
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(d.Manifest, &im); err != nil {
		return out, nil
	}
	for _, m := range im.Manifests {
		if m.Digest == img.Digest {
			return append(out, n.Context().Digest(d.Digest.String()).String()), nil
		}
	}
	return out, nil
}
