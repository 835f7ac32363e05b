package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"path/filepath"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

type checkstyleDoc struct {
	XMLName xml.Name         `xml:"checkstyle"`
	Version string           `xml:"version,attr"`
	Files   []checkstyleFile `xml:"file"`
}

type checkstyleFile struct {
	Name   string            `xml:"name,attr"`
	Errors []checkstyleError `xml:"error"`
}

type checkstyleError struct {
	Line     int    `xml:"line,attr,omitempty"`
	Column   int    `xml:"column,attr,omitempty"`
	Severity string `xml:"severity,attr"`
	Message  string `xml:"message,attr"`
	Source   string `xml:"source,attr"`
}

// Checkstyle writes checkstyle XML (the format hadolint, ShellCheck and
// many linters write, and that reviewdog, Jenkins' warnings plugin and
// SonarQube read): one <file> per file, one <error> per finding.
// critical and high are "error", medium "warning", low and info "info".
func Checkstyle(w io.Writer, r *finding.Report, _ Options) error {
	doc := checkstyleDoc{Version: "4.3"}
	index := map[string]int{}
	for _, f := range r.Findings {
		name := filePath(f)
		i, ok := index[name]
		if !ok {
			i = len(doc.Files)
			index[name] = i
			doc.Files = append(doc.Files, checkstyleFile{Name: name})
		}
		sev := "info"
		switch {
		case f.Severity >= finding.High:
			sev = "error"
		case f.Severity == finding.Medium:
			sev = "warning"
		}
		doc.Files[i].Errors = append(doc.Files[i].Errors, checkstyleError{Line: f.Location.Line, Column: f.Location.Column,
			Severity: sev, Message: f.Message, Source: "dockvet." + f.RuleID})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// filePath is the file a finding is in, for formats that only know files
// of the repository: a path inside an image is given as the image's
// target; everything else is the finding's file, or its target.
func filePath(f finding.Finding) string {
	p := f.Location.Path
	if p == "" || f.TargetKind == finding.SurfaceImage || f.TargetKind == finding.SurfaceHost && strings.HasPrefix(p, "/") {
		p = f.Target
	}
	return strings.TrimPrefix(filepath.ToSlash(p), "./")
}

type codeQualityIssue struct {
	Description string              `json:"description"`
	CheckName   string              `json:"check_name"`
	Fingerprint string              `json:"fingerprint"`
	Severity    string              `json:"severity"`
	Location    codeQualityLocation `json:"location"`
	Categories  []string            `json:"categories,omitempty"`
}

type codeQualityLocation struct {
	Path  string           `json:"path"`
	Lines codeQualityLines `json:"lines"`
}

type codeQualityLines struct {
	Begin int `json:"begin"`
	End   int `json:"end,omitempty"`
}

// gitlabSeverity maps dockvet's five severities onto GitLab's five, in
// order.
var gitlabSeverity = map[finding.Severity]string{
	finding.Critical: "blocker", finding.High: "critical", finding.Medium: "major", finding.Low: "minor", finding.Info: "info",
}

// GitLab writes a GitLab Code Quality report (the Code Climate issue
// subset GitLab reads from `artifacts:reports:codequality`): an array of
// issues with a description, check name, a stable fingerprint, a severity
// and the file and line. A finding with no line is placed at line 1, as
// GitLab requires a line.
func GitLab(w io.Writer, r *finding.Report, _ Options) error {
	issues := make([]codeQualityIssue, 0, len(r.Findings))
	for _, f := range r.Findings {
		begin := max(f.Location.Line, 1)
		lines := codeQualityLines{Begin: begin}
		if f.Location.EndLine > begin {
			lines.End = f.Location.EndLine
		}
		issues = append(issues, codeQualityIssue{
			Description: f.RuleID + ": " + f.Message,
			CheckName:   f.RuleID,
			Fingerprint: codeQualityFingerprint(f),
			Severity:    gitlabSeverity[f.Severity],
			Location:    codeQualityLocation{Path: filePath(f), Lines: lines},
			Categories:  []string{"Security"},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(issues)
}

// codeQualityFingerprint identifies a finding across runs: what it is and
// where, not its line (which moves when lines are added above it).
func codeQualityFingerprint(f finding.Finding) string {
	h := sha256.Sum256([]byte(strings.Join([]string{f.RuleID, f.Target, f.Location.Path, f.Location.Container, f.Location.Service, f.Message, f.Fingerprint}, "\x00")))
	return hex.EncodeToString(h[:16])
}
