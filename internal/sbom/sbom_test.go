package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/spdx/tools-golang/spdx"

	"github.com/dockvet/dockvet/internal/inventory"
)

var created = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

func addResource(t *testing.T, c *jsonschema.Compiler, url, file string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
}

// validator is the schemas a document must pass, all of them.
type validator []*jsonschema.Schema

func cyclonedxValidator(t *testing.T) validator {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	addResource(t, c, "http://cyclonedx.org/schema/bom-1.6.schema.json", "testdata/bom-1.6.schema.json")
	addResource(t, c, "http://cyclonedx.org/schema/spdx.schema.json", "testdata/spdx.schema.json")
	addResource(t, c, "http://cyclonedx.org/schema/jsf-0.82.schema.json", "testdata/jsf-0.82.schema.json")
	s, err := c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return validator{s}
}

// spdxValidator validates against both published SPDX 2.3 JSON schemas:
// the 2.3 release's and the revised one (testdata/README.md). They
// differ in one value dockvet could write (primaryPackagePurpose
// OPERATING_SYSTEM, OPERATING-SYSTEM); a document must pass both.
func spdxValidator(t *testing.T) validator {
	t.Helper()
	return validator{spdxSchema(t, "testdata/spdx-2.3-release-schema.json"), spdxSchema(t, "testdata/spdx-2.3-schema.json")}
}

func spdxSchema(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	addResource(t, c, "http://spdx.org/rdf/terms/2.3", file)
	s, err := c.Compile("http://spdx.org/rdf/terms/2.3")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, v validator, b []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	for _, s := range v {
		if err := s.Validate(inst); err != nil {
			return err
		}
	}
	return nil
}

// imageInventory is an inventory as an image walker produces it: the
// Debian and language fixtures of internal/inventory fed as two layers.
func imageInventory(t *testing.T) *inventory.Result {
	t.Helper()
	s := inventory.NewScanner()
	feed := func(layer int, root string) {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			info, _ := d.Info()
			if !s.Wants(rel, info.Mode(), info.Size()) {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return s.File(context.Background(), inventory.Layer{Index: layer, Digest: fmt.Sprintf("sha256:%064d", layer)},
				inventory.Input{Path: rel, Reader: f, Size: info.Size(), Mode: info.Mode()})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	feed(0, "../inventory/testdata/debian")
	feed(1, "../inventory/testdata/app")
	r := s.Result()
	if len(r.Errors) > 0 || len(r.Packages) < 30 {
		t.Fatalf("inventory: %d packages, errors %v", len(r.Packages), r.Errors)
	}
	return r
}

func document(t *testing.T) *Document {
	return &Document{
		Subject:   Subject{Name: "registry.example/shop:1.0", Image: true, Digest: "sha256:" + strings.Repeat("ab", 32)},
		Inventory: imageInventory(t),
		Tool:      "dockvet", ToolVersion: "0.1.0", Created: created,
	}
}

func TestCycloneDXValidates(t *testing.T) {
	doc := document(t)
	var buf bytes.Buffer
	if err := CycloneDX(&buf, doc); err != nil {
		t.Fatal(err)
	}
	s := cyclonedxValidator(t)
	if err := validate(t, s, buf.Bytes()); err != nil {
		t.Fatalf("CycloneDX output does not validate against bom-1.6.schema.json: %v", err)
	}
	var bom struct {
		SpecVersion string `json:"specVersion"`
		Serial      string `json:"serialNumber"`
		Metadata    struct {
			Timestamp string `json:"timestamp"`
			Component struct {
				Type, Name string
			} `json:"component"`
		} `json:"metadata"`
		Components []struct {
			BOMRef     string `json:"bom-ref"`
			Type       string `json:"type"`
			Name       string `json:"name"`
			Version    string `json:"version"`
			PURL       string `json:"purl"`
			Licenses   []map[string]any
			Properties []struct{ Name, Value string }
			Evidence   struct {
				Occurrences []struct{ Location string } `json:"occurrences"`
			} `json:"evidence"`
		} `json:"components"`
	}
	if err := json.Unmarshal(buf.Bytes(), &bom); err != nil {
		t.Fatal(err)
	}
	if bom.SpecVersion != "1.6" || !strings.HasPrefix(bom.Serial, "urn:uuid:") || bom.Metadata.Timestamp != "2026-09-01T12:00:00Z" ||
		bom.Metadata.Component.Type != "container" || bom.Metadata.Component.Name != "registry.example/shop:1.0" {
		t.Errorf("header %+v", bom)
	}
	if len(bom.Components) != len(doc.Inventory.Packages)+1 || bom.Components[0].Type != "operating-system" || bom.Components[0].Name != "debian" {
		t.Fatalf("%d components for %d packages", len(bom.Components), len(doc.Inventory.Packages))
	}
	refs := map[string]bool{}
	byName := map[string]int{}
	for i, c := range bom.Components {
		if refs[c.BOMRef] {
			t.Errorf("bom-ref %s twice", c.BOMRef)
		}
		refs[c.BOMRef] = true
		if i > 0 && (c.PURL == "" || len(c.Evidence.Occurrences) != 1) {
			t.Errorf("component %+v", c)
		}
		byName[c.Name] = i
	}
	props := func(name string) map[string]string {
		m := map[string]string{}
		for _, p := range bom.Components[byName[name]].Properties {
			m[p.Name] = p.Value
		}
		return m
	}
	if p := props("libssl3"); p[PropLayerIndex] != "0" || p[PropEcosystem] != "Debian:12" || p[PropSource] != "openssl 3.0.19-1~deb12u2" || p[PropPath] != "var/lib/dpkg/status" {
		t.Errorf("libssl3 properties %v", p)
	}
	if p := props("semver"); p[PropLayerIndex] != "1" || p[PropLayerDigest] != fmt.Sprintf("sha256:%064d", 1) {
		t.Errorf("semver properties %v", p)
	}
	lic := func(name string) string {
		b, _ := json.Marshal(bom.Components[byName[name]].Licenses)
		return string(b)
	}
	for name, want := range map[string]string{
		"cryptography": `[{"expression":"BSD-3-Clause OR Apache-2.0"}]`,
		"semver":       `[{"license":{"id":"ISC"}}]`,
		"wsgiref":      `[{"license":{"name":"PSF or ZPL"}}]`,
		"oauthlib":     `[{"license":{"name":"BSD"}}]`,
		// From /usr/share/doc/libssl3/copyright (DEP-5) and base-files's
		// (free text): dpkg's database names no licence.
		"libssl3":    `[{"expression":"Apache-2.0 AND (Artistic-1.0 OR GPL-1.0-or-later)"}]`,
		"base-files": `[{"license":{"id":"GPL-2.0-or-later"}}]`,
	} {
		if got := lic(name); got != want {
			t.Errorf("%s licenses %s, want %s", name, got, want)
		}
	}
	// The validator must be able to fail.
	bad := bytes.Replace(buf.Bytes(), []byte(`"type": "library"`), []byte(`"type": "gadget"`), 1)
	if validate(t, s, bad) == nil {
		t.Error("schema validation accepted an unknown component type")
	}
}

func TestSPDXValidates(t *testing.T) {
	doc := document(t)
	var buf bytes.Buffer
	if err := SPDX(&buf, doc); err != nil {
		t.Fatal(err)
	}
	s := spdxValidator(t)
	if err := validate(t, s, buf.Bytes()); err != nil {
		t.Fatalf("SPDX output does not validate against the SPDX 2.3 schema: %v\n%s", err, buf.String()[:2000])
	}
	var sd struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			SPDXID          string `json:"SPDXID"`
			Name            string `json:"name"`
			VersionInfo     string `json:"versionInfo"`
			LicenseDeclared string `json:"licenseDeclared"`
			Purpose         string `json:"primaryPackagePurpose"`
			ExternalRefs    []struct {
				Category string `json:"referenceCategory"`
				Type     string `json:"referenceType"`
				Locator  string `json:"referenceLocator"`
			} `json:"externalRefs"`
			Annotations []struct {
				Comment string `json:"comment"`
			} `json:"annotations"`
		} `json:"packages"`
		Relationships []struct {
			A    string `json:"spdxElementId"`
			B    string `json:"relatedSpdxElement"`
			Type string `json:"relationshipType"`
		} `json:"relationships"`
		Extracted []struct {
			ID   string `json:"licenseId"`
			Text string `json:"extractedText"`
		} `json:"hasExtractedLicensingInfos"`
	}
	if err := json.Unmarshal(buf.Bytes(), &sd); err != nil {
		t.Fatal(err)
	}
	n := len(doc.Inventory.Packages)
	if sd.SPDXVersion != "SPDX-2.3" || len(sd.Packages) != n+2 || sd.Packages[0].Purpose != "CONTAINER" {
		t.Fatalf("%s, %d packages for %d", sd.SPDXVersion, len(sd.Packages), n)
	}
	if r := sd.Relationships[0]; r.A != "SPDXRef-DOCUMENT" || r.B != "SPDXRef-Subject" || r.Type != "DESCRIBES" || len(sd.Relationships) != n+2 {
		t.Errorf("relationships %v", sd.Relationships[:2])
	}
	byName := map[string]int{}
	for i, p := range sd.Packages {
		byName[p.Name] = i
	}
	ssl := sd.Packages[byName["libssl3"]]
	if len(ssl.ExternalRefs) != 1 || ssl.ExternalRefs[0].Type != "purl" || ssl.ExternalRefs[0].Category != "PACKAGE-MANAGER" ||
		!strings.HasPrefix(ssl.ExternalRefs[0].Locator, "pkg:deb/debian/libssl3@") {
		t.Errorf("libssl3 refs %+v", ssl.ExternalRefs)
	}
	var comments []string
	for _, a := range ssl.Annotations {
		comments = append(comments, a.Comment)
	}
	if !slices.Contains(comments, "dockvet:layerIndex=0") {
		t.Errorf("libssl3 annotations %v", comments)
	}
	for name, want := range map[string]string{
		"cryptography": "BSD-3-Clause OR Apache-2.0",
		"semver":       "ISC",
		"wsgiref":      "LicenseRef-PSF-or-ZPL",
		"libssl3":      "Apache-2.0 AND (Artistic-1.0 OR GPL-1.0-or-later)",
		"base-files":   "GPL-2.0-or-later",
		"PyYAML":       "MIT",
	} {
		if got := sd.Packages[byName[name]].LicenseDeclared; got != want {
			t.Errorf("%s licenseDeclared %q, want %q", name, got, want)
		}
	}
	found := false
	for _, e := range sd.Extracted {
		found = found || e.ID == "LicenseRef-PSF-or-ZPL" && e.Text == "PSF or ZPL"
	}
	if !found {
		t.Errorf("no extracted licensing info for PSF or ZPL: %v", sd.Extracted)
	}
	bad := bytes.Replace(buf.Bytes(), []byte(`"SPDXID": "SPDXRef-Package-1"`), []byte(`"SPDXID": "Package 1"`), 1)
	if validate(t, s, bad) == nil {
		t.Error("schema validation accepted an invalid SPDXID")
	}
}

// TestDirectorySubject: a directory is described as an application, and
// packages outside images carry no layer.
func TestDirectorySubject(t *testing.T) {
	inv, err := inventory.ScanDir(context.Background(), "../inventory/testdata/alpine")
	if err != nil {
		t.Fatal(err)
	}
	doc := &Document{Subject: Subject{Name: "rootfs"}, Inventory: inv, Tool: "dockvet", ToolVersion: "0.1.0", Created: created}
	var c, s bytes.Buffer
	if err := CycloneDX(&c, doc); err != nil {
		t.Fatal(err)
	}
	if err := SPDX(&s, doc); err != nil {
		t.Fatal(err)
	}
	if err := validate(t, cyclonedxValidator(t), c.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := validate(t, spdxValidator(t), s.Bytes()); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(c.Bytes(), []byte(PropLayerIndex)) || bytes.Contains(s.Bytes(), []byte(PropLayerIndex)) {
		t.Error("layer given for a directory")
	}
	if !bytes.Contains(c.Bytes(), []byte(`"type": "application"`)) || !bytes.Contains(s.Bytes(), []byte(`"primaryPackagePurpose": "APPLICATION"`)) {
		t.Error("directory not described as an application")
	}
}

// TestLicenseRefsDistinct: two free-text licences that make the same
// identifier keep one each, with their own text.
func TestLicenseRefsDistinct(t *testing.T) {
	others := map[string]*spdx.OtherLicense{}
	got := spdxLicense([]string{"Foo License+", "Foo License", "Foo License+"}, others)
	if got != "LicenseRef-Foo-License AND LicenseRef-Foo-License-2 AND LicenseRef-Foo-License" || len(others) != 2 ||
		others["LicenseRef-Foo-License"].ExtractedText != "Foo License+" || others["LicenseRef-Foo-License-2"].ExtractedText != "Foo License" {
		t.Errorf("%q %+v", got, others)
	}
}

func TestClassifyLicenses(t *testing.T) {
	for in, want := range map[string]license{
		"MIT":                        {raw: "MIT", id: "MIT"},
		"apache-2.0":                 {raw: "apache-2.0", id: "Apache-2.0"},
		"BSD-3-Clause OR Apache-2.0": {raw: "BSD-3-Clause OR Apache-2.0", expression: "BSD-3-Clause OR Apache-2.0"},
		"MIT License":                {raw: "MIT License"},
		"GPLv3+":                     {raw: "GPLv3+"},
	} {
		if got := classify(in); got != want {
			t.Errorf("classify(%q) = %+v, want %+v", in, got, want)
		}
	}
}
