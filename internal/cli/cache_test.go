package cli

import (
	"os"
	"strings"
	"testing"
)

// TestLayerCache: a repeat scan gives the same report from the cache;
// --no-cache neither reads nor writes it; cache status and clean say
// what is there and empty it.
func TestLayerCache(t *testing.T) {
	p := keyImage(t)
	cache := t.TempDir()
	scan := func(extra ...string) string {
		t.Helper()
		args := append([]string{"image", "docker-archive:" + p, "--format", "json", "--config", os.DevNull, "--cache-dir", cache, "--fail-on", "none"}, extra...)
		code, out, errs := run(t, args...)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		// The same report apart from when it was made.
		return withoutScanTime(out)
	}
	status := func() string {
		t.Helper()
		code, out, errs := run(t, "cache", "status", "--cache-dir", cache)
		if code != ExitOK {
			t.Fatalf("cache status: exit %d: %s", code, errs)
		}
		return out
	}
	uncached := scan("--no-cache")
	if !strings.Contains(status(), "entries: 0") {
		t.Errorf("--no-cache wrote to the cache:\n%s", status())
	}
	cold, warm := scan(), scan()
	if cold != uncached || warm != cold {
		t.Errorf("reports differ:\nuncached\n%s\ncold\n%s\nwarm\n%s", uncached, cold, warm)
	}
	if st := status(); !strings.Contains(st, "entries: 3") || !strings.Contains(st, cache) {
		t.Errorf("after a scan of three layers:\n%s", st)
	}
	code, out, errs := run(t, "cache", "clean", "--cache-dir", cache)
	if code != ExitOK || !strings.Contains(out, "removed 3 entries") {
		t.Errorf("cache clean: exit %d, %q %q", code, out, errs)
	}
	if !strings.Contains(status(), "entries: 0") {
		t.Errorf("after clean:\n%s", status())
	}
	if code, _, errs := run(t, "cache"); code != ExitError || !strings.Contains(errs, "status or clean") {
		t.Errorf("cache without a subcommand: exit %d, %q", code, errs)
	}
}
