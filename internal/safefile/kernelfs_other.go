//go:build !linux

package safefile

import (
	"os"
	"path/filepath"
	"strings"
)

// kernelMade names the pseudo filesystem an opened file lives on, or "".
// Without fstatfs's filesystem types, the path is resolved and judged by
// where it lands.
func kernelMade(f *os.File) string {
	abs, err := filepath.Abs(f.Name())
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for _, r := range []string{"/proc", "/sys"} {
		if abs == r || strings.HasPrefix(abs, r+"/") {
			return strings.TrimPrefix(r, "/")
		}
	}
	return ""
}
