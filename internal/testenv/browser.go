package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireBrowserEnv turns "no browser" from a skip into a failure.
const RequireBrowserEnv = "DOCKVET_REQUIRE_BROWSER"

// Chromium finds headless Chromium (Debian's chromium package): the test
// skips without one, and fails under DOCKVET_REQUIRE_BROWSER=1.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(RequireBrowserEnv) == "1" {
		t.Fatal(RequireBrowserEnv + "=1 but no chromium on PATH (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); " + RequireBrowserEnv + "=1 makes this a failure")
	return ""
}
