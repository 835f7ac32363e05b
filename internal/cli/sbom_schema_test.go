package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dockvet/dockvet/internal/testenv"
)

// schemaOf compiles a schema of internal/sbom/testdata (the official
// ones, see its README) with the resources it refers to.
func schemaOf(t *testing.T, id string, files map[string]string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for url, file := range files {
		f, err := os.Open(filepath.Join("../sbom/testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// debianImage is a Debian 12 image: its dpkg database and the copyright
// files Debian packages install (real ones, internal/inventory/testdata).
func debianImage(t *testing.T) string {
	t.Helper()
	root := "../inventory/testdata/debian"
	var files []testenv.File
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files = append(files, testenv.File{Path: filepath.ToSlash(rel), Body: b})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	img := testenv.Image(t, v1.Config{}, []v1.Layer{testenv.Layer(t, files...)}, "ADD rootfs.tar /")
	p := filepath.Join(t.TempDir(), "debian.tar")
	if err := tarball.WriteToFile(p, name.MustParseReference("dockvet-test/debian:12"), img); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSBOMDebianValidates is the acceptance of SBOMs: `dockvet sbom` of a
// Debian image, as spdx-json and cyclonedx-json, passes the SPDX 2.3 JSON
// schema (the 2.3 release's and its revision's) and the CycloneDX 1.6
// schema, and every dpkg package whose copyright file names a licence
// carries it.
func TestSBOMDebianValidates(t *testing.T) {
	ref := "docker-archive:" + debianImage(t)
	spdx := []*jsonschema.Schema{
		schemaOf(t, "http://spdx.org/rdf/terms/2.3", map[string]string{"http://spdx.org/rdf/terms/2.3": "spdx-2.3-release-schema.json"}),
		schemaOf(t, "http://spdx.org/rdf/terms/2.3", map[string]string{"http://spdx.org/rdf/terms/2.3": "spdx-2.3-schema.json"}),
	}
	cdx := schemaOf(t, "http://cyclonedx.org/schema/bom-1.6.schema.json", map[string]string{
		"http://cyclonedx.org/schema/bom-1.6.schema.json":  "bom-1.6.schema.json",
		"http://cyclonedx.org/schema/spdx.schema.json":     "spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "jsf-0.82.schema.json",
	})
	sbomOf := func(format string) (string, any) {
		t.Helper()
		code, out, errOut := run(t, "sbom", ref, "--format", format)
		if code != ExitOK || errOut != "" {
			t.Fatalf("--format %s: exit %d: %s", format, code, errOut)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		return out, inst
	}

	out, inst := sbomOf("spdx-json")
	for i, s := range spdx {
		if err := s.Validate(inst); err != nil {
			t.Errorf("SPDX schema %d: %v", i, err)
		}
	}
	var sd struct {
		Packages []struct {
			Name            string `json:"name"`
			LicenseDeclared string `json:"licenseDeclared"`
		} `json:"packages"`
	}
	if err := json.Unmarshal([]byte(out), &sd); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range sd.Packages {
		got[p.Name] = p.LicenseDeclared
	}
	for pkg, want := range map[string]string{
		"libssl3":            "Apache-2.0 AND (Artistic-1.0 OR GPL-1.0-or-later)",
		"base-files":         "GPL-2.0-or-later",
		"libdevmapper1.02.1": "BSD-2-Clause AND GPL-2.0-only AND GPL-2.0-or-later AND LGPL-2.1-only",
	} {
		if got[pkg] != want {
			t.Errorf("SPDX %s: licenseDeclared %q, want %q", pkg, got[pkg], want)
		}
	}
	if !strings.Contains(got["libblkid1"], "LGPL-2.1-or-later") {
		t.Errorf("SPDX libblkid1: %q", got["libblkid1"])
	}

	out, inst = sbomOf("cyclonedx-json")
	if err := cdx.Validate(inst); err != nil {
		t.Errorf("CycloneDX 1.6 schema: %v", err)
	}
	var bom struct {
		Components []struct {
			Name     string            `json:"name"`
			Licenses []json.RawMessage `json:"licenses"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(out), &bom); err != nil {
		t.Fatal(err)
	}
	licensed := 0
	for _, c := range bom.Components {
		if len(c.Licenses) > 0 {
			licensed++
		}
	}
	// libssl3, base-files, libblkid1 and libdevmapper1.02.1 (through its
	// source package lvm2): all but openssl, whose copyright file is
	// not in the image.
	if licensed != 4 {
		t.Errorf("%d CycloneDX components with licences, want 4:\n%s", licensed, out)
	}
}
