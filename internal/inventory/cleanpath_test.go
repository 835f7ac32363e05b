package inventory

import (
	"path"
	"strings"
	"testing"
)

// CleanPath's fast path (an absolute path already clean) must say what
// cleaning it says, for every path.
func TestCleanPathFastPath(t *testing.T) {
	for _, p := range []string{"", "/", "//", "/a", "/a/", "/a//b", "/a/./b", "/a/../b", "/a/.", "/a/..", "/.a", "/a/.b/..c",
		"/a/b..", "/a/...", "/a\\b", "a/b", "/usr/lib/os-release", "/..", "/.", "/./a", "/../a"} {
		want := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(p, "\\", "/")), "/")
		if got := CleanPath(p); got != want {
			t.Errorf("CleanPath(%q) = %q, want %q", p, got, want)
		}
	}
}
