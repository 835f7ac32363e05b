package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain points the cache directory at an empty one, so that no test
// depends on a vulnerability database the machine happens to have; tests
// that need one import it into a directory of their own.
//
// Run as docker-vet (the name TestDockerCLIPlugin installs this test
// binary under), it is dockvet, the Docker CLI's plugin.
// asDockvet, set to 1 in a child's environment, runs the test binary as
// dockvet (see TestInterrupt).
const asDockvet = "DOCKVET_TEST_AS_DOCKVET"

func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == pluginBinary || os.Getenv(asDockvet) == "1" {
		os.Exit(Main())
	}
	// Run as a child with DOCKVET_TEST_MAIN=1 (asChild), it is dockvet
	// itself: a test can run it under another user.
	if os.Getenv("DOCKVET_TEST_MAIN") == "1" {
		os.Exit(Main())
	}
	dir, err := os.MkdirTemp("", "dockvet-cli-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("DOCKVET_CACHE_DIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
