package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/dockvet/dockvet/internal/finding"
)

// InformationURI is where SARIF consumers send people for the tool.
const InformationURI = "https://github.com/dockvet/dockvet"

// SARIF writes SARIF 2.1.0 for code-scanning services. Every rule that ran is
// described (help text, practice tags, a security-severity GitHub ranks
// by); every result carries a physical location with a line region, so the
// service can annotate the offending line.
func SARIF(w io.Writer, r *finding.Report, _ Options) error {
	rep := sarif.NewReport()
	run := sarif.NewRunWithInformationURI(r.Tool.Name, InformationURI)
	run.Tool.Driver.WithVersion(r.Tool.Version).WithSemanticVersion(r.Tool.Version)

	described := map[string]bool{}
	describe := func(rule finding.Rule) {
		if described[rule.ID] {
			return
		}
		described[rule.ID] = true
		props := sarif.NewPropertyBag()
		props.WithTags(append([]string{"security", string(rule.Practice)}, surfaceTags(rule.Surfaces)...))
		if s := securitySeverity(rule.Severity); s != "" {
			props.Add("security-severity", s)
		}
		if rule.CIS != "" {
			props.Add("cis", rule.CIS)
		}
		d := run.AddRule(rule.ID).
			WithName(ruleName(rule.Title)).
			WithShortDescription(sarif.NewMultiformatMessageString().WithText(rule.Title)).
			WithFullDescription(sarif.NewMultiformatMessageString().WithText(rule.Description)).
			WithHelp(sarif.NewMultiformatMessageString().WithText(helpText(rule)).WithMarkdown(helpMarkdown(rule))).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(level(rule.Severity))).
			WithProperties(props)
		if len(rule.References) > 0 {
			d.WithHelpURI(rule.References[0])
		}
	}
	for _, rule := range r.Rules {
		describe(rule)
	}
	for _, f := range r.Findings {
		if !described[f.RuleID] {
			// A finding of a rule the caller did not list still gets a
			// descriptor, so that ruleIndex is always valid.
			describe(finding.Rule{ID: f.RuleID, Title: f.Title, Practice: f.Practice, Severity: f.Severity,
				Surfaces: []finding.Surface{f.TargetKind}, CIS: f.CIS, Description: f.Title, Remediation: f.Remediation, References: f.References})
		}
		res := run.CreateResultForRule(f.RuleID).
			WithLevel(level(f.Severity)).
			WithMessage(sarif.NewTextMessage(f.Message + " " + f.Remediation))
		phys := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation(artifactURI(f)))
		if f.Location.Line > 0 {
			reg := sarif.NewRegion().WithStartLine(f.Location.Line)
			if f.Location.EndLine > f.Location.Line {
				reg.WithEndLine(f.Location.EndLine)
			}
			if f.Location.Column > 0 {
				reg.WithStartColumn(f.Location.Column)
			}
			phys.WithRegion(reg)
		}
		res.AddLocation(sarif.NewLocationWithPhysicalLocation(phys))
		res.WithPartialFingerprints(map[string]string{"dockvet/v1": resultFingerprint(f)})
		props := sarif.NewPropertyBag().Add("severity", f.Severity.String()).Add("target", f.Target).Add("targetKind", string(f.TargetKind))
		if l := f.Location.LayerIndex; l != nil {
			props.Add("layerIndex", *l)
		}
		if f.Location.Layer != "" {
			props.Add("layer", f.Location.Layer)
		}
		if f.Location.Container != "" {
			props.Add("container", f.Location.Container)
		}
		if f.Location.Service != "" {
			props.Add("service", f.Location.Service)
		}
		if f.Vulnerability != nil {
			props.Add("vulnerability", f.Vulnerability)
		}
		if len(f.Missing) > 0 {
			// A grouped finding (DV3062) stands for the findings of its
			// member rules: code scanning filters and dashboards keyed on
			// those rule IDs still find them here.
			props.Add("missing", f.Missing)
		}
		res.WithProperties(props)
	}
	sarifRunInfo(run, r)
	if len(r.Checks) > 0 {
		if run.Properties == nil {
			run.WithProperties(sarif.NewPropertyBag())
		}
		run.Properties.Add("cisBenchmark", benchmarkProperty(r.Checks))
	}
	rep.AddRun(run)
	// go-sarif fills every member the schema gives a default (empty
	// arrays, -1 indexes, "kind": "fail"): more than half the bytes of a
	// report, and all of it what a reader assumes anyway. The model is
	// encoded, then those members are taken out again.
	raw, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	doc, _ = prune(doc, "")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// sarifDefaults are the values SARIF 2.1.0's schema declares as defaults
// for members of these names, which go-sarif writes out.
var sarifDefaults = map[string]string{
	"index":            "-1",
	"id":               "-1",
	"byteOffset":       "-1",
	"charOffset":       "-1",
	"rank":             "-1",
	"enabled":          "true",
	"kind":             "fail",
	"language":         "en-US",
	"newlineSequences": `["\r\n","\n"]`,
	"columnKind":       "unicodeCodePoints",
}

// prune drops empty arrays and objects and members holding their schema
// default; a property bag (user data) is kept as written. It reports
// whether anything is left of v.
func prune(v any, key string) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		if key == "properties" {
			return v, len(v) > 0
		}
		for k, e := range v {
			if d, ok := sarifDefaults[k]; ok && jsonText(e) == d {
				delete(v, k)
				continue
			}
			pe, keep := prune(e, k)
			if !keep {
				delete(v, k)
				continue
			}
			v[k] = pe
		}
		return v, len(v) > 0
	case []any:
		out := v[:0]
		for _, e := range v {
			if pe, keep := prune(e, ""); keep {
				out = append(out, pe)
			}
		}
		return out, len(out) > 0
	}
	return v, true
}

func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// benchmarkProperty is the host audit's CIS table for SARIF consumers:
// SARIF has no place for passed or unchecked checks, so the rows and the
// score travel in the run's property bag.
func benchmarkProperty(checks []finding.Check) map[string]any {
	sc := ScoreChecks(checks)
	rows := make([]map[string]any, 0, len(checks))
	for _, c := range checks {
		row := map[string]any{"section": c.Section, "ruleId": c.RuleID, "title": c.Title, "status": c.Status.String()}
		if c.CIS != "" {
			row["cis"] = c.CIS
		}
		if c.Manual {
			row["manual"] = true
		}
		if c.Note != "" {
			row["note"] = c.Note
		}
		rows = append(rows, row)
	}
	return map[string]any{"version": "1.6.0", "score": sc.Score, "scoreExplained": sc.ScoreText(),
		"passed": sc.Passed, "warnings": sc.Warnings, "info": sc.Info, "notes": sc.Notes, "checks": rows}
}

// level maps severities onto SARIF's three result levels.
func level(s finding.Severity) string {
	switch {
	case s >= finding.High:
		return "error"
	case s == finding.Medium:
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity is the score GitHub code scanning uses to rank security
// results (>= 9 critical, >= 7 high, >= 4 medium, > 0 low).
func securitySeverity(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "9.5"
	case finding.High:
		return "8.0"
	case finding.Medium:
		return "5.5"
	case finding.Low:
		return "3.0"
	}
	return ""
}

func surfaceTags(ss []finding.Surface) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "surface:" + string(s)
	}
	return out
}

// ruleName is the PascalCase name SARIF viewers show next to the ID.
func ruleName(title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

func helpText(r finding.Rule) string {
	s := r.Description + "\n\nRemediation: " + r.Remediation
	if r.CIS != "" {
		s += "\n\nCIS Docker Benchmark 1.6.0: " + r.CIS
	}
	return s
}

func helpMarkdown(r finding.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (%s, practice `%s`)\n\n%s\n\n**Remediation:** %s\n", r.Title, r.Severity, r.Practice, r.Description, r.Remediation)
	if r.CIS != "" {
		fmt.Fprintf(&b, "\nCIS Docker Benchmark 1.6.0: %s\n", r.CIS)
	}
	for _, ref := range r.References {
		fmt.Fprintf(&b, "\n- <%s>", ref)
	}
	return b.String()
}

// artifactURI is a relative URI for files of the repository, and a
// "image/path" form for a path inside an image's filesystem. Every other
// surface's paths are files of the repository (Dockerfiles, Compose files,
// scripts, env files) or of the host.
func artifactURI(f finding.Finding) string {
	p := f.Location.Path
	switch {
	case p == "":
		p = f.Target
	case f.TargetKind == finding.SurfaceImage && p != f.Target:
		p = f.Target + "/" + strings.TrimPrefix(p, "/")
	}
	p = filepath.ToSlash(p)
	p = strings.TrimPrefix(p, "./")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func resultFingerprint(f finding.Finding) string {
	key := strings.Join([]string{f.RuleID, f.Target, f.Location.Path, f.Location.Container, f.Location.Service, f.Message, f.Fingerprint}, "\x00")
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16])
}
