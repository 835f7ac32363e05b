package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/dockvet/dockvet/internal/finding"
)

// identified is sample() with what a scan of an image records: the image,
// the Engine, a partial vulnerability database.
func identified() *finding.Report {
	r := sample()
	created := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	r.Images = []finding.ImageInfo{{
		Target: "docker-archive:app.tar", Source: "docker", Location: "unix:///var/run/docker.sock (context prod)", Name: "app:1",
		ID: "sha256:" + strings.Repeat("c", 64), RepoDigests: []string{"registry.example/app@sha256:" + strings.Repeat("d", 64)},
		Platform: "linux/amd64", OS: &finding.OSInfo{ID: "debian", VersionID: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"},
		Created: &created, Layers: 3, Size: 5 << 20, Repository: "https://github.com/acme/app", Revision: "0123abc",
	}}
	r.Scan = &finding.ScanInfo{
		Time:   time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC),
		Engine: &finding.EngineInfo{Host: "unix:///var/run/docker.sock", Context: "prod", From: "DOCKER_CONTEXT"},
		VulnerabilityDatabase: &finding.DatabaseInfo{Status: finding.DatabasePartial, DefaultSeverity: finding.Medium,
			Ecosystems: []finding.EcosystemInfo{{Name: "Go", Records: 4274, Updated: time.Date(2026, 8, 30, 0, 0, 0, 0, time.UTC)}},
			Needed:     []string{"Debian", "Go"}, Missing: []string{"Debian"},
			Notices: []string{"docker-archive:app.tar: the vulnerability database has no Debian data; those packages were not checked"}},
	}
	return r
}

func renderReport(t *testing.T, format string, r *finding.Report) string {
	t.Helper()
	fn, err := Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := fn(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestIdentityJSON: the image identity and scan information are additive
// top-level keys of the JSON report.
func TestIdentityJSON(t *testing.T) {
	var doc struct {
		Scan   finding.ScanInfo    `json:"scan"`
		Images []finding.ImageInfo `json:"images"`
	}
	out := renderReport(t, "json", identified())
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Scan.Engine.Context != "prod" || doc.Scan.VulnerabilityDatabase.Status != "partial" || len(doc.Images) != 1 || doc.Images[0].OS.VersionID != "12" {
		t.Errorf("%+v", doc)
	}
	if strings.Contains(renderReport(t, "json", sample()), `"scan"`) {
		t.Error("a report without scan information must not invent one")
	}
}

// TestIdentitySARIF: the invocation (start time, success, the missing-data
// notice), the run properties and the image's source as version control
// provenance, valid against the SARIF 2.1.0 schema.
func TestIdentitySARIF(t *testing.T) {
	out := renderReport(t, "sarif", identified())
	if err := sarifSchema(t).Validate(mustJSON(t, []byte(out))); err != nil {
		t.Fatalf("SARIF does not validate: %v", err)
	}
	rep, err := sarif.FromBytes([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	run := rep.Runs[0]
	if len(run.Invocations) != 1 {
		t.Fatalf("invocations %d", len(run.Invocations))
	}
	inv := run.Invocations[0]
	if inv.ExecutionSuccessful == nil || !*inv.ExecutionSuccessful || inv.StartTimeUtc == nil || *inv.StartTimeUtc != "2026-09-01T12:00:00Z" ||
		len(inv.ToolExecutionNotifications) != 1 || inv.ToolExecutionNotifications[0].Level != "warning" ||
		!strings.Contains(*inv.ToolExecutionNotifications[0].Message.Text, "no Debian data") {
		t.Errorf("invocation %s", out)
	}
	if len(run.VersionControlProvenance) != 1 || *run.VersionControlProvenance[0].RepositoryURI != "https://github.com/acme/app" ||
		*run.VersionControlProvenance[0].RevisionID != "0123abc" {
		t.Errorf("provenance %+v", run.VersionControlProvenance)
	}
	if run.Properties == nil || run.Properties.Properties["images"] == nil || run.Properties.Properties["scan"] == nil {
		t.Errorf("run properties %+v", run.Properties)
	}
}

// TestIdentityTable and HTML: a few header lines name the image, the
// Engine and the database; reports that read none have none.
func TestIdentityTableHTML(t *testing.T) {
	table := renderReport(t, "table", identified())
	for _, want := range []string{
		"Image docker-archive:app.tar: docker unix:///var/run/docker.sock (context prod), linux/amd64, Debian GNU/Linux 12 (bookworm)\n",
		"  ID sha256:cccc",
		"  3 layers, 5.243MB, created 2026-08-01T10:00:00Z\n",
		"Docker Engine unix:///var/run/docker.sock (context prod, from DOCKER_CONTEXT)\n",
		"Vulnerability database: partial (Go 4274 records, updated 2026-08-30); no data for Debian: those packages were not checked\n",
		"Scanned 2026-09-01T12:00:00Z\n\n",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(renderReport(t, "table", sample()), "Scanned") {
		t.Error("a Dockerfile's table has no image header")
	}
	page := renderReport(t, "html", identified())
	if !strings.Contains(page, "Docker Engine unix:///var/run/docker.sock (context prod, from DOCKER_CONTEXT)") ||
		!strings.Contains(page, "no data for Debian") {
		t.Errorf("HTML lacks the identity:\n%s", page)
	}
}
