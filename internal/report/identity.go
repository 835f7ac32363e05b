package report

// What a report says it scanned and with which data (finding.ScanInfo,
// finding.ImageInfo), for each format: SARIF's run (invocation,
// properties, version control provenance), a few header lines for the
// table and the HTML page. JSON carries the report's own fields.

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/dockvet/dockvet/internal/finding"
)

// sarifRunInfo records the scan in a SARIF run: the invocation (when, whether
// it completed, the notices about missing data as tool execution
// notifications), the scan and image identities as run properties, and an
// image's source repository and revision as version control provenance.
func sarifRunInfo(run *sarif.Run, r *finding.Report) {
	inv := sarif.NewInvocation().WithExecutionSuccessful(len(r.Errors) == 0)
	props := sarif.NewPropertyBag()
	if s := r.Scan; s != nil {
		if !s.Time.IsZero() {
			inv.WithStartTimeUtc(s.Time.UTC().Format(time.RFC3339Nano))
		}
		if db := s.VulnerabilityDatabase; db != nil {
			for _, n := range db.Notices {
				inv.AddToolExecutionNotification(sarif.NewNotification().WithLevel("warning").WithMessage(sarif.NewTextMessage(n)))
			}
		}
		props.Add("scan", s)
	}
	for _, n := range r.Notices {
		inv.AddToolExecutionNotification(sarif.NewNotification().WithLevel("warning").WithMessage(sarif.NewTextMessage(n)))
	}
	for _, e := range r.Errors {
		inv.AddToolExecutionNotification(sarif.NewNotification().WithLevel("error").WithMessage(sarif.NewTextMessage(e.Target + ": " + e.Message)))
	}
	run.AddInvocation(inv)
	if len(r.Images) > 0 {
		props.Add("images", r.Images)
	}
	for _, img := range r.Images {
		if img.Repository == "" {
			continue
		}
		vc := sarif.NewVersionControlDetails().WithRepositoryURI(img.Repository)
		if img.Revision != "" {
			vc.WithRevisionID(img.Revision)
		}
		run.AddVersionControlProvenance(vc)
	}
	if len(props.Properties) > 0 {
		run.WithProperties(props)
	}
}

// identityLines are the header lines of the table and the HTML page: each
// image read, the report's notices (findings past the cap per target), the
// Engine, the vulnerability database. Empty for reports that have none of
// them (a Dockerfile).
func identityLines(r *finding.Report) []string {
	var lines []string
	for _, img := range r.Images {
		where := img.Source
		if img.Location != "" {
			where += " " + img.Location
		}
		head := []string{where}
		if img.Platform != "" {
			head = append(head, img.Platform)
		}
		if s := img.OS.String(); s != "" {
			head = append(head, s)
		}
		lines = append(lines, fmt.Sprintf("Image %s: %s", img.Target, strings.Join(head, ", ")))
		id := "  ID " + img.ID
		if img.ManifestDigest != "" {
			id += ", manifest " + img.ManifestDigest
		}
		lines = append(lines, id)
		for _, d := range img.RepoDigests {
			lines = append(lines, "  "+d)
		}
		detail := fmt.Sprintf("  %d layers, %s", img.Layers, units.HumanSize(float64(img.Size)))
		if img.Created != nil {
			detail += ", created " + img.Created.Format(time.RFC3339)
		}
		lines = append(lines, detail)
		if img.SourceNote != "" {
			lines = append(lines, "  "+img.SourceNote)
		}
	}
	for _, n := range r.Notices {
		lines = append(lines, "Notice: "+n)
	}
	s := r.Scan
	if s == nil {
		return lines
	}
	if e := s.Engine; e != nil {
		l := "Docker Engine " + e.Host + " (context " + e.Context + ", from " + e.From
		if e.TLS != "" {
			l += ", TLS " + e.TLS
		}
		lines = append(lines, l+")")
	}
	if db := s.VulnerabilityDatabase; db != nil {
		var ecos []string
		for _, e := range db.Ecosystems {
			ecos = append(ecos, fmt.Sprintf("%s %d records, updated %s", e.Name, e.Records, e.Updated.Format("2006-01-02")))
		}
		l := "Vulnerability database: " + db.Status
		if len(ecos) > 0 {
			l += " (" + strings.Join(ecos, "; ") + ")"
		}
		if len(db.Missing) > 0 {
			l += "; no data for " + strings.Join(db.Missing, ", ") + ": those packages were not checked"
		}
		if db.Stale {
			l += "; older than " + db.MaxAge
		}
		lines = append(lines, l)
	}
	if len(lines) > 0 || !s.Time.IsZero() {
		lines = append(lines, "Scanned "+s.Time.UTC().Format(time.RFC3339))
	}
	return lines
}

// tableIdentity writes the identity lines before the findings, and a
// blank line after them.
func tableIdentity(w io.Writer, r *finding.Report) {
	if len(r.Images) == 0 && len(r.Notices) == 0 && (r.Scan == nil || r.Scan.Engine == nil && r.Scan.VulnerabilityDatabase == nil) {
		return
	}
	for _, l := range identityLines(r) {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
}

// identityShown are identityLines for the reports that read an image, an
// Engine or a database (the HTML page, Markdown); none for the others.
func identityShown(r *finding.Report) []string {
	if len(r.Images) == 0 && len(r.Notices) == 0 && (r.Scan == nil || r.Scan.Engine == nil && r.Scan.VulnerabilityDatabase == nil) {
		return nil
	}
	return identityLines(r)
}
