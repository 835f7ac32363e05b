package cli

import (
	"os"
	"testing"
)

// TestMain points the cache directory at an empty one, so that no test
// depends on a vulnerability database the machine happens to have; tests
// that need one import it into a directory of their own.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dockvet-cli-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("DOCKVET_CACHE_DIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
