// Package policy decides which images a project trusts. Every surface that
// names an image (Dockerfile FROM, Compose and `docker run` images, image
// audits, live containers) asks the same Policy, so one .dockvet.yaml gives
// one answer everywhere.
package policy

import (
	"fmt"
	"strings"

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
	for _, pat := range p.TrustedRegistries {
		if strings.TrimSpace(pat) == "" {
			return fmt.Errorf("trustedRegistries: empty entry")
		}
		if _, err := patternmatcher.New([]string{pat}); err != nil {
			return fmt.Errorf("trustedRegistries: bad pattern %q: %w", pat, err)
		}
	}
	return nil
}

// HasAllowList reports whether any trusted registry is configured.
func (p *Policy) HasAllowList() bool { return p != nil && len(p.TrustedRegistries) > 0 }

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
