// Package policy decides which images a project trusts. Every surface that
// names an image (Dockerfile FROM, Compose and `docker run` images, image
// audits, live containers) asks the same Policy, so one .dockvet.yaml gives
// one answer everywhere.
package policy

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/distribution/reference"
	"github.com/moby/patternmatcher"
)

// Policy is the trust part of .dockvet.yaml.
type Policy struct {
	// TrustedRegistries are registry hosts or repository prefixes, with
	// globs: "docker.io", "*.gcr.io", "ghcr.io/acme/*",
	// "registry.example.com/team". Empty means every registry is trusted
	// (no allow-list configured).
	TrustedRegistries []string
	// Rules are the `trust:` entries: for the images they name, whether a
	// tag is enough or a digest is required, and who must have signed
	// them. The first rule whose images match an image applies to it, as
	// in a firewall: put narrow scopes before broad ones.
	Rules []Rule
}

// Rule is one `trust:` entry.
type Rule struct {
	// Images are registry hosts or repository prefixes with globs, as in
	// TrustedRegistries; "*" is every image.
	Images []string `yaml:"images" json:"images"`
	// Digests is DigestsRequired (only references with a digest are
	// accepted) or DigestsOptional (mutable tags are allowed; the default).
	Digests string `yaml:"digests" json:"digests,omitempty"`
	// Signatures lists who may have signed the images; when not empty, at
	// least one signature must verify with one of them.
	Signatures []Signer `yaml:"signatures" json:"signatures,omitempty"`
}

// The values of Rule.Digests.
const (
	DigestsRequired = "required"
	DigestsOptional = "optional"
)

// Signer is one accepted signer: a cosign public key, a keyless identity
// (certificate subject and OIDC issuer, checked against a Sigstore trusted
// root), or a notation trust policy with its trust store. Exactly one of
// Key, Identity/IdentityRegexp and Notation is set.
type Signer struct {
	// Key is a PEM public key file (ECDSA, Ed25519 or RSA).
	Key string `yaml:"key" json:"key,omitempty"`
	// Identity (exact) or IdentityRegexp is the certificate's subject
	// alternative name: an e-mail address or a workflow URI.
	Identity       string `yaml:"identity" json:"identity,omitempty"`
	IdentityRegexp string `yaml:"identityRegexp" json:"identityRegexp,omitempty"`
	// Issuer (exact) or IssuerRegexp is the OIDC issuer that vouched for
	// the identity, e.g. https://token.actions.githubusercontent.com.
	Issuer       string `yaml:"issuer" json:"issuer,omitempty"`
	IssuerRegexp string `yaml:"issuerRegexp" json:"issuerRegexp,omitempty"`
	// TrustedRoot is a Sigstore trusted root file (trusted_root.json); for
	// an identity it is required offline, for a key it makes the
	// transparency log entry checked.
	TrustedRoot string `yaml:"trustedRoot" json:"trustedRoot,omitempty"`
	// Notation is a notation configuration directory: trustpolicy.oci.json
	// (or trustpolicy.json) and truststore/x509/….
	Notation string `yaml:"notation" json:"notation,omitempty"`
}

// Describe names the signer in messages: "key keys/cosign.pub",
// "identity ci@example.com (issuer https://…)", "notation trust policy in DIR".
func (s Signer) Describe() string {
	switch {
	case s.Key != "":
		return "key " + s.Key
	case s.Notation != "":
		return "the notation trust policy in " + s.Notation
	}
	id, iss := s.Identity, s.Issuer
	if id == "" {
		id = "matching /" + s.IdentityRegexp + "/"
	}
	if iss == "" {
		iss = "matching /" + s.IssuerRegexp + "/"
	}
	return "identity " + id + " (issuer " + iss + ")"
}

// Image is an image reference taken apart the way the Docker CLI does it:
// "alpine" is docker.io/library/alpine:latest.
type Image struct {
	Raw        string // as written
	Domain     string // registry host, "docker.io" for Docker Hub
	Repository string // domain/path, e.g. "docker.io/library/alpine"
	Path       string // path without the domain, e.g. "library/alpine"
	Tag        string // "" when none was written
	Digest     string // "" when none was written
}

// Named reports the familiar short name ("alpine", "gcr.io/x/y").
func (i Image) Named() string {
	if i.Domain == "docker.io" {
		return strings.TrimPrefix(i.Path, "library/")
	}
	return i.Repository
}

// ParseImage parses an image reference. Names with variables that could not
// be resolved are an error; callers decide what an unknown image means.
func ParseImage(ref string) (Image, error) {
	parsed.Lock()
	p, ok := parsed.m[ref]
	parsed.Unlock()
	if ok {
		return p.img, p.err
	}
	img, err := parseImage(ref)
	parsed.Lock()
	if len(parsed.m) >= maxParsed {
		clear(parsed.m)
	}
	parsed.m[ref] = parsedImage{img, err}
	parsed.Unlock()
	return img, err
}

// parsed remembers references already parsed: a monorepo's Dockerfiles
// name the same few base images hundreds of times, and distribution's
// parser is a backtracking regular expression. Bounded, so a hostile file
// of distinct names cannot grow it without end.
var parsed = struct {
	sync.Mutex
	m map[string]parsedImage
}{m: map[string]parsedImage{}}

const maxParsed = 4096

type parsedImage struct {
	img Image
	err error
}

func parseImage(ref string) (Image, error) {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return Image{}, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	img := Image{
		Raw:        ref,
		Domain:     reference.Domain(n),
		Path:       reference.Path(n),
		Repository: n.Name(),
	}
	if t, ok := n.(reference.Tagged); ok {
		img.Tag = t.Tag()
	}
	if d, ok := n.(reference.Digested); ok {
		img.Digest = d.Digest().String()
	}
	return img, nil
}

// Validate checks the patterns once, so that a typo in .dockvet.yaml is an
// error at start-up rather than an image that is silently never trusted.
func (p *Policy) Validate() error {
	if err := validPatterns("trustedRegistries", p.TrustedRegistries); err != nil {
		return err
	}
	for i, r := range p.Rules {
		where := fmt.Sprintf("trust[%d]", i)
		if len(r.Images) == 0 {
			return fmt.Errorf("%s: images is required (\"*\" for every image)", where)
		}
		if err := validPatterns(where+".images", r.Images); err != nil {
			return err
		}
		switch r.Digests {
		case "", DigestsRequired, DigestsOptional:
		default:
			return fmt.Errorf("%s.digests: %q is neither %q nor %q", where, r.Digests, DigestsRequired, DigestsOptional)
		}
		for j, s := range r.Signatures {
			if err := s.validate(); err != nil {
				return fmt.Errorf("%s.signatures[%d]: %w", where, j, err)
			}
		}
	}
	return nil
}

func validPatterns(where string, pats []string) error {
	for _, pat := range pats {
		if strings.TrimSpace(pat) == "" {
			return fmt.Errorf("%s: empty entry", where)
		}
		if _, err := patternmatcher.New([]string{pat}); err != nil {
			return fmt.Errorf("%s: bad pattern %q: %w", where, pat, err)
		}
	}
	return nil
}

func (s Signer) validate() error {
	kinds := 0
	for _, set := range []bool{s.Key != "", s.Identity != "" || s.IdentityRegexp != "", s.Notation != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return fmt.Errorf("give exactly one of key, identity (or identityRegexp) and notation")
	}
	for _, re := range []struct{ name, expr string }{{"identityRegexp", s.IdentityRegexp}, {"issuerRegexp", s.IssuerRegexp}} {
		if re.expr == "" {
			continue
		}
		if _, err := regexp.Compile(re.expr); err != nil {
			return fmt.Errorf("%s: %v", re.name, err)
		}
	}
	keyless := s.Identity != "" || s.IdentityRegexp != ""
	switch {
	case s.Identity != "" && s.IdentityRegexp != "":
		return fmt.Errorf("give identity or identityRegexp, not both")
	case s.Issuer != "" && s.IssuerRegexp != "":
		return fmt.Errorf("give issuer or issuerRegexp, not both")
	case keyless && s.Issuer == "" && s.IssuerRegexp == "":
		return fmt.Errorf("an identity needs its OIDC issuer (issuer or issuerRegexp)")
	case !keyless && (s.Issuer != "" || s.IssuerRegexp != ""):
		return fmt.Errorf("issuer belongs with an identity")
	case s.Notation != "" && s.TrustedRoot != "":
		return fmt.Errorf("trustedRoot does not apply to notation signatures")
	}
	return nil
}

// ResolvePaths makes the signers' relative file names relative to dir,
// the directory of the configuration file that wrote them.
func (p *Policy) ResolvePaths(dir string) {
	abs := func(s *string) {
		if *s != "" && !filepath.IsAbs(*s) {
			*s = filepath.Join(dir, *s)
		}
	}
	for i := range p.Rules {
		for j := range p.Rules[i].Signatures {
			s := &p.Rules[i].Signatures[j]
			abs(&s.Key)
			abs(&s.TrustedRoot)
			abs(&s.Notation)
		}
	}
}

// Files lists every file and directory the signers name, for a check
// that they exist when the configuration is loaded.
func (p *Policy) Files() []string {
	var out []string
	for _, r := range p.Rules {
		for _, s := range r.Signatures {
			for _, f := range []string{s.Key, s.TrustedRoot, s.Notation} {
				if f != "" {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// RuleFor is the trust rule that applies to img: the first whose images
// match it. Nil when none does.
func (p *Policy) RuleFor(img Image) *Rule {
	if p == nil {
		return nil
	}
	for i := range p.Rules {
		for _, pat := range p.Rules[i].Images {
			if matchRepo(pat, img) {
				return &p.Rules[i]
			}
		}
	}
	return nil
}

// RequiresDigest reports whether the policy accepts img only when it is
// named by digest.
func (p *Policy) RequiresDigest(img Image) bool {
	r := p.RuleFor(img)
	return r != nil && r.Digests == DigestsRequired
}

// Pinned reports whether a reference names exactly one image: by digest.
func (i Image) Pinned() bool { return i.Digest != "" }

// RequiredSigners lists who must have signed img; empty when the policy
// requires no signature of it.
func (p *Policy) RequiredSigners(img Image) []Signer {
	if r := p.RuleFor(img); r != nil {
		return r.Signatures
	}
	return nil
}

// RequiresSignatures reports whether any rule asks for a signature, so a
// command can tell the user that --verify would check them.
func (p *Policy) RequiresSignatures() bool {
	if p == nil {
		return false
	}
	for _, r := range p.Rules {
		if len(r.Signatures) > 0 {
			return true
		}
	}
	return false
}

// HasAllowList reports whether any trusted registry is configured.
func (p *Policy) HasAllowList() bool { return p != nil && len(p.TrustedRegistries) > 0 }

// Configured reports whether the policy says anything about images: an
// allow-list or `trust:` rules. Without it, "only trusted images" cannot be
// judged.
func (p *Policy) Configured() bool { return p.HasAllowList() || p != nil && len(p.Rules) > 0 }

// Trusted reports whether img comes from a trusted registry. With no
// allow-list configured every image is trusted.
func (p *Policy) Trusted(img Image) bool {
	if !p.HasAllowList() {
		return true
	}
	for _, pat := range p.TrustedRegistries {
		if matchRepo(pat, img) {
			return true
		}
	}
	return false
}

// dockerHubPath reads a repository pattern as Docker reads a name: one
// whose first component is not a registry host ("acme/app",
// "library/alpine") is on Docker Hub.
func dockerHubPath(pat string) string {
	first, _, _ := strings.Cut(pat, "/")
	if strings.ContainsAny(first, ".:*?[") || first == "localhost" {
		return pat
	}
	return "docker.io/" + pat
}

// matchRepo matches one allow-list entry. An entry without a slash names a
// registry host; an entry with one names a repository prefix. A plain entry
// also covers everything below it, as a registry or namespace does.
func matchRepo(pat string, img Image) bool {
	pat = strings.TrimSuffix(strings.TrimSpace(pat), "/")
	if pat == "docker.io" || pat == "index.docker.io" || pat == "registry-1.docker.io" {
		return img.Domain == "docker.io"
	}
	subject := img.Repository
	if !strings.Contains(pat, "/") {
		subject = img.Domain
	} else {
		pat = dockerHubPath(pat)
	}
	if subject == pat || strings.HasPrefix(subject, pat+"/") {
		return true
	}
	ok, err := patternmatcher.Matches(subject, []string{pat})
	if err == nil && ok {
		return true
	}
	// "ghcr.io/acme/*" should trust ghcr.io/acme/tools/x too.
	ok, err = patternmatcher.MatchesOrParentMatches(subject, []string{pat})
	return err == nil && ok
}
