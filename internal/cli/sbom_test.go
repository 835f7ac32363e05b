package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSBOMDirectory(t *testing.T) {
	dir := "../inventory/testdata/debian"
	code, out, errOut := run(t, "sbom", dir)
	if code != 0 || errOut != "" {
		t.Fatalf("table: %d %q", code, errOut)
	}
	for _, want := range []string{"Debian GNU/Linux 12 (bookworm) (Debian:12)", "libssl3", "3.0.19-1~deb12u2", "5 packages"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = run(t, "sbom", dir, "--format", "cyclonedx")
	var bom struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Components  []struct {
			Name, PURL string
		} `json:"components"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &bom) != nil || bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.6" || len(bom.Components) != 6 {
		t.Errorf("cyclonedx: %d %+v", code, bom)
	}

	file := filepath.Join(t.TempDir(), "sbom.spdx.json")
	code, out, _ = run(t, "sbom", dir, "--format", "spdx", "--output", file)
	b, _ := os.ReadFile(file)
	var doc struct {
		SPDXVersion string                  `json:"spdxVersion"`
		Name        string                  `json:"name"`
		Packages    []struct{ Name string } `json:"packages"`
	}
	if code != 0 || out != "" || json.Unmarshal(b, &doc) != nil || doc.SPDXVersion != "SPDX-2.3" || doc.Name != dir || len(doc.Packages) != 7 {
		t.Errorf("spdx: %d %q %+v", code, out, doc)
	}
}

func TestSBOMErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sbom", "/nonexistent"}, "dockvet: /nonexistent: no such directory\n"},
		{[]string{"sbom", "../inventory/testdata/debian/etc/os-release"}, "dockvet: ../inventory/testdata/debian/etc/os-release: not a directory\n"},
		{[]string{"sbom", "../inventory/testdata/debian", "--format", "sarif"}, "dockvet: --format sarif does not fit this command (use one of [table cyclonedx spdx])\n"},
		{[]string{"sbom"}, "accepts 1 arg(s), received 0"},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, out %q, err %q", tc.args, code, out, errOut)
		}
	}
}

// TestSBOMReportsUnreadableFiles: a broken manifest is named on standard
// error and the rest of the inventory is still written.
func TestSBOMReportsUnreadableFiles(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "app/node_modules/bad"), 0o755)
	os.MkdirAll(filepath.Join(root, "app/node_modules/good"), 0o755)
	os.WriteFile(filepath.Join(root, "app/node_modules/bad/package.json"), []byte(`{"name":`), 0o644)
	os.WriteFile(filepath.Join(root, "app/node_modules/good/package.json"), []byte(`{"name":"good","version":"1.0.0"}`), 0o644)
	code, out, errOut := run(t, "sbom", root)
	if code != 0 || !strings.Contains(out, "good") || !strings.Contains(errOut, "app/node_modules/bad/package.json: npm: skipped: package.json: unexpected end of JSON input") {
		t.Errorf("%d %q %q", code, out, errOut)
	}
	code, _, errOut = run(t, "sbom", root, "--quiet")
	if code != 0 || errOut != "" {
		t.Errorf("--quiet: %d %q", code, errOut)
	}
}
