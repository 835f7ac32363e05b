package vulndb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/inventory"
)

// feedTree gives every file of root to s as one image layer, as an image
// walker would.
func feedTree(t *testing.T, s *inventory.Scanner, layer int, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil || !s.Wants(rel, info.Mode(), info.Size()) {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return s.File(context.Background(), inventory.Layer{Index: layer, Digest: fmt.Sprintf("sha256:layer%d", layer)},
			inventory.Input{Path: rel, Reader: f, Size: info.Size(), Mode: info.Mode()})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLayeredFilesystemEndToEnd takes the inventory of a two-layer
// filesystem made of real files (a Debian 12 dpkg database in the base
// layer; npm's, Debian's Python and Java packages, lockfiles, manifests
// and a cargo-auditable binary in the next) and matches it: exactly these
// findings, each at the file and layer its package came from.
func TestLayeredFilesystemEndToEnd(t *testing.T) {
	s := inventory.NewScanner()
	feedTree(t, s, 0, "../inventory/testdata/debian")
	feedTree(t, s, 1, "../inventory/testdata/app")
	rust, err := os.ReadFile("../inventory/testdata/cargo/rust-app")
	if err != nil {
		t.Fatal(err)
	}
	s.File(t.Context(), inventory.Layer{Index: 2, Digest: "sha256:layer2"},
		inventory.Input{Path: "usr/local/bin/rust-app", Reader: bytesReader(rust), Size: int64(len(rust)), Mode: 0o755})
	inv := s.Result()
	if len(inv.Errors) > 0 {
		t.Fatalf("inventory errors %v", inv.Errors)
	}
	fs, err := Match(openShared(t), inv.Packages, Options{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s %s %s %s@%s layer %d", f.RuleID, f.Vulnerability.ID, f.Location.Path, f.Vulnerability.Package, f.Vulnerability.Installed, *f.Location.LayerIndex))
	}
	slices.Sort(got)
	want := []string{
		// libdevmapper1.02.1 2:1.02.185-2 is built from lvm2 2.03.16-2, before the fix 2.03.16-3.
		"DV6001 CVE-2023-29383 var/lib/dpkg/status libdevmapper1.02.1@2:1.02.185-2 layer 0",
		"DV6002 CVE-2020-7598 srv/yarn-classic/yarn.lock minimist@1.2.5 layer 1",
		"DV6002 CVE-2021-23337 srv/web/package-lock.json lodash@4.17.20 layer 1",
		"DV6002 CVE-2021-25900 usr/local/bin/rust-app smallvec@1.6.0 layer 2",
		"DV6002 CVE-2022-24894 srv/php/vendor/composer/installed.json symfony/http-kernel@5.4.19 layer 1",
		"DV6002 CVE-2022-24999 srv/web/package-lock.json qs@6.7.0 layer 1",
		"DV6002 CVE-2022-30123 srv/ruby/gems/3.2.0/specifications/rack-2.2.3.gemspec rack@2.2.3 layer 1",
		"DV6002 CVE-2023-23931 usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/METADATA cryptography@38.0.4 layer 1",
		"DV6002 CVE-2024-21907 srv/dotnet/webapp.deps.json Newtonsoft.Json@12.0.1 layer 1",
		"DV6002 PYSEC-2099-1 usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA PyYAML@6.0 layer 1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}
	for _, f := range fs {
		if f.Location.Layer == "" || f.TargetKind != finding.SurfaceImage {
			t.Errorf("finding without layer digest or kind: %+v", f)
		}
	}
}
