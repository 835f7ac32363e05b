package host

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/osv-scalibr/semantic"
)

// upstreamRe takes the upstream part of a version string as the Engine
// and distributions write them: "20.10.24+dfsg1", "1.6.20~ds1",
// "v1.1.12", "1.0.0-rc93", "17.03.1-ce". A suffix is kept only when it is
// a pre-release tag (rc, alpha, beta, ce): "-1" in a distribution version
// is a package revision, not a pre-release.
var upstreamRe = regexp.MustCompile(`^v?(\d+(?:\.\d+){1,3})([-~](?:rc|alpha|beta|ce|ee|0)[0-9A-Za-z.]*)?`)

// rcRe finds pre-release tags written without a dot ("rc93"): SemVer
// compares "rc93" and "rc7" as text, so they are rewritten "rc.93".
var rcRe = regexp.MustCompile(`-(rc|alpha|beta)(\d+)`)

// Upstream returns the comparable upstream version in v, or "" when v is
// not a version (a git commit, as older Engines report runc's). A Debian
// package version's epoch ("5:") is dropped, and its "~rc93" is the
// pre-release "-rc.93".
func Upstream(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ':'); i > 0 && i < 4 {
		v = v[i+1:]
	}
	m := upstreamRe.FindStringSubmatch(v)
	if m == nil {
		return ""
	}
	pre := m[2]
	if strings.HasPrefix(pre, "~") {
		pre = "-" + pre[1:]
	}
	return rcRe.ReplaceAllString(m[1]+pre, "-$1.$2")
}

// compareUpstream compares two upstream versions with SemVer precedence.
func compareUpstream(a, b string) int {
	c, err := semantic.ParseSemverVersion(Upstream(a)).CompareStr(Upstream(b))
	if err != nil {
		return 0
	}
	return c
}

// inRange reports whether v is in r.
func (r Range) contains(v string) bool {
	if r.Introduced != "" && compareUpstream(v, r.Introduced) < 0 {
		return false
	}
	return compareUpstream(v, r.Fixed) < 0
}

// affected returns the range of a that contains v, if any.
func (a *Advisory) affected(v string) (Range, bool) {
	for _, r := range a.Affected {
		if r.contains(v) {
			return r, true
		}
	}
	return Range{}, false
}

// label is the advisory as messages name it: "CVE-2024-21626 (Leaky Vessels)".
func (a *Advisory) label() string {
	if a.Name != "" {
		return a.ID + " (" + a.Name + ")"
	}
	return a.ID
}

// distroFixed reports whether a distribution package version carries the
// fix of a, and whether the table knows that distribution's fix at all.
func (a *Advisory) distroFixed(ecosystem, pkgVersion string) (fixed, known bool) {
	want, ok := a.Distro[ecosystem]
	if !ok || pkgVersion == "" {
		return false, false
	}
	v, err := semantic.Parse(pkgVersion, ecosystem)
	if err != nil {
		return false, false
	}
	c, err := v.CompareStr(want)
	if err != nil {
		return false, false
	}
	return c >= 0, true
}

// branch is MAJOR.MINOR of a version.
func branch(v string) string {
	parts := strings.SplitN(Upstream(v), ".", 3)
	if len(parts) < 2 {
		return ""
	}
	minor, _, _ := strings.Cut(parts[1], "-")
	return parts[0] + "." + minor
}

// endOfLifeOf returns the end-of-life row for a version of c that was
// end-of-life at now, or nil. A version older than every listed branch is
// end-of-life since the oldest listed date.
func endOfLifeOf(c Component, v string, now time.Time) *EndOfLife {
	b := branch(v)
	if b == "" {
		return nil
	}
	var oldest *EndOfLife
	for i := range endOfLife {
		e := &endOfLife[i]
		if e.Component != c {
			continue
		}
		if oldest == nil || compareUpstream(e.Branch, oldest.Branch) < 0 {
			oldest = e
		}
		if e.Branch == b {
			if !now.Before(mustDate(e.Date)) {
				return e
			}
			return nil
		}
	}
	if oldest != nil && compareUpstream(b+".0", oldest.Branch+".0") < 0 {
		return oldest
	}
	return nil
}

func mustDate(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(fmt.Sprintf("advisories.go: bad date %q", s))
	}
	return t
}

// installed is one component's version on the host: the upstream version
// the Engine reports and, when the distribution's package database knows
// it, the package that provides it.
type installed struct {
	Component Component
	// Version is the version as reported ("1.1.5+ds1").
	Version string
	// Package is the distribution package providing the component, with
	// Ecosystem its OSV ecosystem; empty for upstream builds.
	Package   *Package
	Ecosystem string
	// FromPackage is true when Version is the package's (no Engine).
	FromPackage bool
}

func (in installed) String() string {
	s := string(in.Component) + " " + in.Version
	switch {
	case in.FromPackage && in.Package != nil:
		s = string(in.Component) + " (package " + in.Package.Name + " " + in.Package.Version + ")"
	case in.FromPackage:
		s = string(in.Component) + " (package version " + in.Version + ")"
	case in.Package != nil:
		s += " (package " + in.Package.Name + " " + in.Package.Version + ")"
	}
	return s
}

// distroPackages names the distribution packages of each component. The
// packages of Docker's own repositories (docker-ce, containerd.io) are
// upstream builds and are compared as upstream versions.
var distroPackages = map[Component][]string{
	CompEngine:     {"docker.io", "moby-engine"},
	CompContainerd: {"containerd"},
	CompRunc:       {"runc"},
}

// upstreamPackages are packages of Docker's own repositories, by the
// component whose version they carry (containerd.io also ships runc, but
// under containerd's version).
var upstreamPackages = map[Component]string{CompEngine: "docker-ce", CompContainerd: "containerd.io"}
