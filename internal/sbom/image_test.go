package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/testenv"
)

// treeLayer makes a layer of a directory of the inventory testdata.
func treeLayer(t *testing.T, root string) v1.Layer {
	t.Helper()
	var files []testenv.File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
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
	return testenv.Layer(t, files...)
}

// TestImageSBOMValidates takes the inventory of a real two-layer image the
// way `dockvet sbom REF` does (one walk with the package analyzer) and
// checks both formats against their schemas, every component with its
// layer.
func TestImageSBOMValidates(t *testing.T) {
	img := testenv.Image(t, v1.Config{}, []v1.Layer{
		treeLayer(t, "../inventory/testdata/debian"),
		treeLayer(t, "../inventory/testdata/app"),
	}, "ADD rootfs.tar /", "COPY . /")
	p := filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.WriteToFile(p, name.MustParseReference("dockvet-test/sbom:1"), img); err != nil {
		t.Fatal(err)
	}
	opened, err := image.Open(context.Background(), "docker-archive:"+p, image.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	pkgs := image.NewPackages(context.Background())
	if _, err := image.Walk(context.Background(), opened, image.DefaultOptions(), pkgs); err != nil {
		t.Fatal(err)
	}
	inv := pkgs.Result()
	if len(inv.Packages) < 30 || len(inv.Errors) > 0 {
		t.Fatalf("inventory: %d packages, errors %v", len(inv.Packages), inv.Errors)
	}
	doc := &Document{Subject: Subject{Name: "docker-archive:" + p, Image: true, Digest: opened.ConfigDigest.String()},
		Inventory: inv, Tool: "dockvet", ToolVersion: "0.1.0", Created: created}

	var cdxOut, spdxOut bytes.Buffer
	if err := CycloneDX(&cdxOut, doc); err != nil {
		t.Fatal(err)
	}
	if err := validate(t, cyclonedxValidator(t), cdxOut.Bytes()); err != nil {
		t.Errorf("CycloneDX output of an image does not validate: %v", err)
	}
	if err := SPDX(&spdxOut, doc); err != nil {
		t.Fatal(err)
	}
	if err := validate(t, spdxValidator(t), spdxOut.Bytes()); err != nil {
		t.Errorf("SPDX output of an image does not validate: %v", err)
	}

	cf, _ := img.ConfigFile()
	var bom struct {
		Components []struct {
			Type       string
			Name       string
			Properties []struct{ Name, Value string }
		}
	}
	if err := json.Unmarshal(cdxOut.Bytes(), &bom); err != nil {
		t.Fatal(err)
	}
	for _, c := range bom.Components {
		if c.Type == "operating-system" {
			continue
		}
		props := map[string]string{}
		for _, p := range c.Properties {
			props[p.Name] = p.Value
		}
		i, err := strconv.Atoi(props[PropLayerIndex])
		if err != nil || i < 0 || i > 1 || props[PropLayerDigest] != cf.RootFS.DiffIDs[i].String() {
			t.Errorf("%s: layer %q %q", c.Name, props[PropLayerIndex], props[PropLayerDigest])
		}
		if want := map[bool]int{true: 0, false: 1}[props[PropPath] == "var/lib/dpkg/status"]; i != want {
			t.Errorf("%s from %s: layer %d, want %d", c.Name, props[PropPath], i, want)
		}
	}
}
