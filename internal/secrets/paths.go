package secrets

import (
	"path"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// DefaultSkipPaths are the path prefixes whose files are not read. Each
// holds content that distributions and packages ship, never a user's
// secret, and that is large enough to matter for speed:
//
//   - documentation, manual and info pages: usr/share/doc, man, info,
//     and the licence texts;
//   - locale and internationalisation data: usr/share/locale,
//     usr/lib/locale, usr/share/i18n, usr/share/X11/locale;
//   - time zone, terminal, MIME, icon and font databases;
//   - public CA certificate bundles: etc/ssl/certs, usr/share/ca-certificates,
//     etc/pki/ca-trust, etc/ca-certificates (certificates are public; a
//     private key placed there is under etc/ssl/private, which is read);
//   - the kernel's virtual filesystems of a live container: proc, sys, dev.
//
// A skipped file is counted in Stats and reported by ScanFile with the
// reason; it is never dropped silently.
var DefaultSkipPaths = []string{
	"usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/common-licenses/", "usr/share/licenses/",
	"usr/share/locale/", "usr/lib/locale/", "usr/share/i18n/", "usr/share/X11/locale/",
	"usr/share/zoneinfo/", "usr/share/terminfo/", "lib/terminfo/", "usr/share/mime/", "usr/share/icons/", "usr/share/fonts/",
	"etc/ssl/certs/", "usr/share/ca-certificates/", "etc/pki/ca-trust/", "etc/ca-certificates/",
	"proc/", "sys/", "dev/",
}

// cleanPath makes a path slash-separated and relative to the root:
// "/usr/share/doc/x", "./usr/share/doc/x" and "usr/share/doc/x" are one.
func cleanPath(p string) string {
	if strings.IndexByte(p, '\\') >= 0 {
		p = strings.ReplaceAll(p, "\\", "/")
	}
	for strings.HasPrefix(p, "./") || strings.HasPrefix(p, "/") {
		p = strings.TrimPrefix(strings.TrimPrefix(p, "./"), "/")
	}
	return p
}

// SkipReason says why the engine does not read a file at path, or "" when
// it reads it. An image walker calls it before reading a file's bytes.
func (e *Engine) SkipReason(p string) string {
	if p == "" {
		return ""
	}
	c := cleanPath(p)
	for _, prefix := range e.opts.SkipPaths {
		// The directory itself ("usr/share/doc" for "usr/share/doc/")
		// is skipped too; compared without building c+"/" for every
		// prefix of every file.
		if strings.HasPrefix(c, prefix) || len(prefix) == len(c)+1 && strings.HasPrefix(prefix, c) && prefix[len(c)] == '/' {
			return "under /" + prefix + ", which holds distribution data, not user secrets"
		}
	}
	return ""
}

// Directories whose files belong to someone else's package, and directory
// and file names of test fixtures. A secret there is more likely a sample
// than a live credential, but it ships all the same: it is reported at low
// severity, never hidden.
var (
	vendoredDirs = map[string]bool{"node_modules": true, "vendor": true, "third_party": true, "third-party": true,
		"site-packages": true, "dist-packages": true, "bower_components": true, "jspm_packages": true}
	fixtureDirs = map[string]bool{"testdata": true, "test": true, "tests": true, "__tests__": true, "spec": true, "specs": true,
		"fixtures": true, "__fixtures__": true, "fixture": true, "mocks": true, "__mocks__": true, "example": true, "examples": true}
	fixtureSuffixes = []string{"_test.go", "_test.py", ".test.js", ".test.ts", ".spec.js", ".spec.ts", "_spec.rb", "test.java"}
)

// placement returns how a path changes a match's severity.
func placement(p string) func(finding.Severity) (finding.Severity, string) {
	keep := func(s finding.Severity) (finding.Severity, string) { return s, "" }
	if p == "" {
		return keep
	}
	c := cleanPath(p)
	dir, base := path.Split(c)
	why := ""
	for _, seg := range strings.Split(strings.TrimSuffix(dir, "/"), "/") {
		switch {
		case vendoredDirs[seg]:
			why = "under " + seg + "/, a vendored package"
		case fixtureDirs[strings.ToLower(seg)] && why == "":
			why = "under " + seg + "/, a test or example path"
		}
	}
	if strings.Contains(c, "/pkg/mod/") || strings.HasPrefix(c, "pkg/mod/") {
		why = "in the Go module cache, a vendored package"
	}
	lb := strings.ToLower(base)
	for _, s := range fixtureSuffixes {
		if strings.HasSuffix(lb, s) && why == "" {
			why = "in a test file"
		}
	}
	if strings.HasPrefix(lb, "test_") && strings.HasSuffix(lb, ".py") && why == "" {
		why = "in a test file"
	}
	if why == "" {
		return keep
	}
	return func(s finding.Severity) (finding.Severity, string) {
		if s <= finding.Low {
			return s, ""
		}
		return finding.Low, why + ": severity lowered to low"
	}
}
