package vulndb

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/inventory"
)

// aliasRecords are advisories that rate nothing themselves and the
// records the database holds of their aliases.
var aliasRecords = map[string]string{
	// The Go database rates nothing; its advisory is an alias of a GHSA
	// advisory with a CVSS vector (which matches another range here).
	"GO-2099-0001.json": `{"id":"GO-2099-0001","modified":"2026-01-01T00:00:00Z","aliases":["GHSA-aaaa-bbbb-cccc","CVE-2099-0001"],
	  "affected":[{"package":{"ecosystem":"Go","name":"example.com/mod"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}]}`,
	"GHSA-aaaa-bbbb-cccc.json": `{"id":"GHSA-aaaa-bbbb-cccc","modified":"2026-01-01T00:00:00Z","aliases":["CVE-2099-0001","GO-2099-0001"],
	  "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
	  "affected":[{"package":{"ecosystem":"Go","name":"example.com/mod"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.5.0"},{"fixed":"1.6.0"}]}]}]}`,
	// Another Go advisory aliases only a CVE that a PyPI advisory with a
	// CVSS vector also names.
	"GO-2099-0002.json": `{"id":"GO-2099-0002","modified":"2026-01-01T00:00:00Z","aliases":["CVE-2099-0002"],
	  "affected":[{"package":{"ecosystem":"Go","name":"example.com/other"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]}]}`,
	"PYSEC-2099-2.json": `{"id":"PYSEC-2099-2","modified":"2026-01-01T00:00:00Z","aliases":["CVE-2099-0002"],
	  "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N"}],
	  "affected":[{"package":{"ecosystem":"PyPI","name":"other"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}]}`,
	// A Go advisory nobody rates keeps the default.
	"GO-2099-0003.json": `{"id":"GO-2099-0003","modified":"2026-01-01T00:00:00Z","aliases":["CVE-2099-0003"],
	  "affected":[{"package":{"ecosystem":"Go","name":"example.com/third"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"3.0.0"}]}]}]}`,
	// Debian rates nothing; Ubuntu's priority of the same CVE is about
	// Ubuntu's build and is not lent.
	"DEBIAN-CVE-2099-0004.json": `{"id":"DEBIAN-CVE-2099-0004","modified":"2026-01-01T00:00:00Z","upstream":["CVE-2099-0004"],
	  "affected":[{"package":{"ecosystem":"Debian:12","name":"libfoo"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.1-1"}]}]}]}`,
	"UBUNTU-CVE-2099-0004.json": `{"id":"UBUNTU-CVE-2099-0004","modified":"2026-01-01T00:00:00Z","upstream":["CVE-2099-0004"],
	  "severity":[{"type":"Ubuntu","score":"high"}],
	  "affected":[{"package":{"ecosystem":"Ubuntu:24.04:LTS","name":"libfoo"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.1-1"}]}]}]}`,
}

// TestSeverityFromAliases: an advisory that rates nothing takes the rating
// of an alias the database holds, from any ecosystem, when that rating is
// a CVSS score or GitHub's; otherwise DefaultSeverity. Each finding says
// where its severity came from.
func TestSeverityFromAliases(t *testing.T) {
	dir := t.TempDir()
	for name, body := range aliasRecords {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cache := t.TempDir()
	if _, err := Import(context.Background(), cache, dir, testNow); err != nil {
		t.Fatal(err)
	}
	db, err := Open(cache)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pkgs := []inventory.Package{
		lang("golang", "Go", "example.com/mod", "v1.0.0"),
		lang("golang", "Go", "example.com/other", "v1.0.0"),
		lang("golang", "Go", "example.com/third", "v1.0.0"),
		lang("pypi", "PyPI", "other", "1.0"),
		deb("Debian:12", "libfoo", "1.0-1", "libfoo", "1.0-1"),
	}
	fs, err := Match(db, pkgs, Options{Target: finding.Target{Kind: finding.SurfaceImage, Name: "img"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Vulnerability.Package+" "+f.Vulnerability.ID+" "+f.Severity.String()+" "+f.Vulnerability.SeveritySource)
	}
	slices.Sort(got)
	want := []string{
		"example.com/mod CVE-2099-0001 critical alias GHSA-aaaa-bbbb-cccc",
		"example.com/other CVE-2099-0002 low alias PYSEC-2099-2",
		"example.com/third CVE-2099-0003 medium default",
		"libfoo CVE-2099-0004 medium default",
		"other CVE-2099-0002 low cvss",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// The borrowed rating is the score of the record lent from.
	for _, f := range fs {
		if f.Vulnerability.Package == "example.com/mod" && f.Vulnerability.CVSS != 9.8 {
			t.Errorf("borrowed score %v, want 9.8", f.Vulnerability.CVSS)
		}
	}
}
