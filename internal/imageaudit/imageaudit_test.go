package imageaudit

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/vulndb"
)

var now = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

func pkgs(ecos ...string) []inventory.Package {
	var out []inventory.Package
	for _, e := range ecos {
		out = append(out, inventory.Package{Name: "p", Version: "1", Ecosystem: e})
	}
	return out
}

// TestDescribeDatabase: what a report records of the vulnerability data
// for a target's packages: missing, partial, complete, and stale.
func TestDescribeDatabase(t *testing.T) {
	debian := vulndb.Meta{Ecosystem: "Debian", Records: 10, Updated: now.Add(-2 * time.Hour)}
	goEco := vulndb.Meta{Ecosystem: "Go", Records: 5, Updated: now.Add(-10 * 24 * time.Hour)}

	info := DescribeDB(nil, 7*24*time.Hour, now)
	DescribeCoverage(info, pkgs("Debian:12", "Go", ""), "img")
	if info.Status != finding.DatabaseMissing || !slices.Equal(info.Missing, []string{"Debian", "Go"}) || len(info.Notices) != 1 ||
		!strings.Contains(info.Notices[0], "img: no vulnerability database, so its Debian, Go packages were not checked") ||
		info.DefaultSeverity != vulndb.DefaultSeverity {
		t.Errorf("missing: %+v", info)
	}

	info = DescribeDB([]vulndb.Meta{goEco}, 0, now)
	DescribeCoverage(info, pkgs("Debian:12", "Go"), "img")
	if info.Status != finding.DatabasePartial || !slices.Equal(info.Missing, []string{"Debian"}) || info.Stale ||
		len(info.Notices) != 1 || !strings.Contains(info.Notices[0], "has no Debian data") {
		t.Errorf("partial: %+v", info)
	}

	info = DescribeDB([]vulndb.Meta{debian, goEco}, 7*24*time.Hour, now)
	DescribeCoverage(info, pkgs("Debian:12", "Go"), "img")
	if info.Status != finding.DatabaseComplete || len(info.Missing) != 0 || !info.Stale || info.MaxAge != "7 days" ||
		len(info.Notices) != 1 || !strings.Contains(info.Notices[0], "last updated 10 days ago (2026-08-22), more than --db-max-age 7 days") {
		t.Errorf("stale: %+v", info)
	}
	r := &finding.Report{Scan: &finding.ScanInfo{VulnerabilityDatabase: info}}
	if r.MissingData() {
		t.Error("a complete but stale database is not missing data")
	}

	info = DescribeDB([]vulndb.Meta{debian}, 7*24*time.Hour, now)
	DescribeCoverage(info, nil, "img")
	if info.Status != finding.DatabaseComplete || info.Stale || len(info.Notices) != 0 || len(info.Needed) != 0 {
		t.Errorf("no packages: %+v", info)
	}
}
