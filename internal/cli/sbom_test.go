package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/dockvet/dockvet/internal/testenv"
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
		{[]string{"sbom", "/nonexistent"}, "dockvet: /nonexistent: no such file\n"},
		// A file that is not a directory is read as an image archive.
		{[]string{"sbom", "../inventory/testdata/debian/etc/os-release"}, "dockvet: ../inventory/testdata/debian/etc/os-release: truncated archive\n"},
		{[]string{"sbom", "registry:127.0.0.1:1/x:1", "--offline"}, "offline"},
		{[]string{"sbom", "../inventory/testdata/debian", "--format", "sarif"}, "dockvet: --format sarif does not fit this command (use one of [table cyclonedx spdx cyclonedx-json spdx-json])\n"},
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

// sbomComponents reads a CycloneDX document's components as
// "name version layer N path".
func sbomComponents(t *testing.T, out string) (subject string, comps []string) {
	t.Helper()
	var bom struct {
		Metadata struct {
			Component struct {
				Type, Name string
				Hashes     []struct{ Alg, Content string }
			}
		}
		Components []struct {
			Type, Name, Version string
			Properties          []struct{ Name, Value string }
		}
	}
	if err := json.Unmarshal([]byte(out), &bom); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, c := range bom.Components {
		if c.Type == "operating-system" {
			comps = append(comps, "os "+c.Name+" "+c.Version)
			continue
		}
		props := map[string]string{}
		for _, p := range c.Properties {
			props[p.Name] = p.Value
		}
		comps = append(comps, fmt.Sprintf("%s %s layer %s %s @%s", c.Name, c.Version, props["dockvet:layerIndex"], props["dockvet:layerDigest"][:19], props["dockvet:path"]))
	}
	slices.Sort(comps)
	return bom.Metadata.Component.Type, comps
}

// TestSBOMImage: `dockvet sbom` takes every image source form and lists the
// same components, each with the layer that introduced it.
func TestSBOMImage(t *testing.T) {
	archive := vulnImage(t, "12")
	img, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	if _, err := layout.Write(dir, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/test/vulns:12"
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "sbom", "docker-archive:"+archive, "--format", "cyclonedx")
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	kind, want := sbomComponents(t, out)
	cf, _ := img.ConfigFile()
	layer := func(i int) string { return cf.RootFS.DiffIDs[i].String()[:19] }
	for _, c := range []string{
		"os debian 12",
		"libdevmapper1.02.1 2:1.02.185-2 layer 0 " + layer(0) + " @var/lib/dpkg/status",
		"lodash 4.17.20 layer 1 " + layer(1) + " @srv/web/package-lock.json",
		"cryptography 38.0.4 layer 1 " + layer(1) + " @usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/METADATA",
		"golang.org/x/text v0.3.0 layer 2 " + layer(2) + " @usr/local/bin/textapp",
		"stdlib v1.26.5 layer 2 " + layer(2) + " @usr/local/bin/textapp",
	} {
		if !slices.Contains(want, c) {
			t.Errorf("no component %q in\n%s", c, strings.Join(want, "\n"))
		}
	}
	if kind != "container" {
		t.Errorf("subject type %q", kind)
	}
	same := func(t *testing.T, r string) {
		t.Helper()
		code, out, errOut := run(t, "sbom", r, "--format", "cyclonedx", "--quiet")
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", r, code, errOut)
		}
		if _, got := sbomComponents(t, out); !slices.Equal(got, want) {
			t.Errorf("%s: components differ from the docker-archive's:\n got %q\nwant %q", r, got, want)
		}
	}
	for _, r := range []string{archive, "oci:" + dir, dir, "registry:" + ref} {
		same(t, r)
	}
	t.Run("docker", func(t *testing.T) {
		c := testenv.Docker(t)
		testenv.Load(t, c, img, "dockvet-test/sbom:engine")
		same(t, "docker:dockvet-test/sbom:engine")
	})
	code, out, _ = run(t, "sbom", archive, "--format", "spdx")
	if code != ExitOK || !strings.Contains(out, `"SPDX-2.3"`) || !strings.Contains(out, "dockvet:layerIndex") {
		t.Errorf("spdx: exit %d\n%.500s", code, out)
	}
	code, out, _ = run(t, "sbom", archive)
	if code != ExitOK || !strings.Contains(out, "LAYER") || !strings.Contains(out, "Debian GNU/Linux 12 (bookworm) (Debian:12)") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
}
