package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/yuin/goldmark"

	"github.com/dockvet/dockvet/internal/finding"
)

// HTML writes one self-contained page (no script, no external resource, so
// it can be attached to a CI run, mailed, or served under a
// Content-Security-Policy that forbids both): the details of the run, a
// chart of findings by practice and severity, filters by severity,
// surface and target, the findings grouped by practice under the seed
// article's advice, the host benchmark with its score explained, each
// image's layers, and what was suppressed.
//
// The filters are checkboxes and style rules: each input precedes the page
// as a sibling, so `#id:not(:checked) ~ .page .class` hides what it
// filters, and a practice group is shown by one rule per (severity,
// surface, target) it holds that says when at least one of its findings is
// visible. html/template escapes every value, so a hostile file name or
// message cannot inject markup; remediation text is Markdown rendered by
// goldmark, which drops raw HTML and unsafe links.
func HTML(w io.Writer, r *finding.Report, _ Options) error {
	d := buildPage(r)
	var buf bytes.Buffer
	if err := htmlPage.Execute(&buf, d); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type pageFilter struct {
	ID, Label, Class string
	Count            int
}

type pageFinding struct {
	Anchor      string
	Classes     string
	F           finding.Finding
	Target      string
	Where       string
	Remediation template.HTML
	References  []pageLink
	Advisories  []pageLink
}

type pageLink struct{ Text, URL string }

type pageGroup struct {
	ID       string
	Practice finding.Practice
	Seed     seedSection
	Findings []pageFinding
	Counts   finding.Summary
}

type chartRow struct {
	ID       string
	Practice finding.Practice
	Title    string
	Total    int
	Segments []chartSegment
}

type chartSegment struct {
	Severity string
	Count    int
	Style    template.CSS
}

type pageLayers struct {
	Classes string
	Target  string
	Size    int64
	Wasted  int64
	Layers  []pageLayer
}

type pageLayer struct {
	finding.Layer
	Findings []pageLink
	Packages string
}

type pageCheckSection struct {
	Name   string
	Checks []finding.Check
}

type page struct {
	R       *finding.Report
	Details []detail
	// Identity says what was scanned, with what (identity.go).
	Identity   []string
	Targets    []pageTarget
	Severities []pageFilter
	Kinds      []pageFilter
	TargetFlt  []pageFilter
	FilterCSS  template.CSS
	Chart      []chartRow
	Groups     []pageGroup
	Layers     []pageLayers
	Bench      []pageCheckSection
	Score      Score
	ScoreText  string
	BenchClass string
}

type pageTarget struct {
	finding.Target
	Count   int
	Details []detail
}

func buildPage(r *finding.Report) page {
	d := page{R: r, Details: reportDetails(r), Identity: identityShown(r)}
	targets, groups := byTarget(r)
	tIndex := map[finding.Target]int{}
	for i, t := range targets {
		tIndex[t] = i
		d.Targets = append(d.Targets, pageTarget{Target: t, Count: len(groups[t]), Details: targetDetails(t)})
		d.TargetFlt = append(d.TargetFlt, pageFilter{ID: fmt.Sprintf("ft-%d", i), Class: fmt.Sprintf("t-%d", i), Label: t.Name, Count: len(groups[t])})
	}
	kinds := map[finding.Surface]int{}
	for _, t := range targets {
		kinds[t.Kind] += len(groups[t])
	}
	for _, k := range finding.Surfaces {
		if n, ok := kinds[k]; ok {
			d.Kinds = append(d.Kinds, pageFilter{ID: "fk-" + string(k), Class: "k-" + string(k), Label: string(k), Count: n})
		}
	}
	sevCount := map[finding.Severity]int{}
	for _, f := range r.Findings {
		sevCount[f.Severity]++
	}
	for _, s := range finding.Severities {
		d.Severities = append(d.Severities, pageFilter{ID: "fs-" + s.String(), Class: "s-" + s.String(), Label: s.String(), Count: sevCount[s]})
	}

	// Findings by practice, in the seed article's order.
	byPractice := map[finding.Practice][]finding.Finding{}
	for _, f := range r.Findings {
		byPractice[f.Practice] = append(byPractice[f.Practice], f)
	}
	maxTotal := 0
	for _, fs := range byPractice {
		maxTotal = max(maxTotal, len(fs))
	}
	var css strings.Builder
	for _, flt := range slices.Concat(d.Severities, d.Kinds, d.TargetFlt) {
		fmt.Fprintf(&css, "#%s:not(:checked)~.page .%s{display:none}\n", flt.ID, flt.Class)
		fmt.Fprintf(&css, "#%s:not(:checked)~.page label[for=%s]{opacity:.45;text-decoration:line-through}\n", flt.ID, flt.ID)
		fmt.Fprintf(&css, "#%s:focus-visible~.page label[for=%s]{outline:2px solid #1565c0}\n", flt.ID, flt.ID)
	}
	n := 0
	for _, p := range finding.Practices {
		fs := byPractice[p]
		if len(fs) == 0 {
			continue
		}
		g := pageGroup{ID: "p-" + string(p), Practice: p, Seed: seedSections[p]}
		combos := map[string]bool{}
		for _, f := range fs {
			t := finding.Target{Kind: f.TargetKind, Name: f.Target}
			ti := tIndex[t]
			g.Counts.Add(f.Severity)
			n++
			pf := pageFinding{
				Anchor:      fmt.Sprintf("f-%d", n),
				Classes:     fmt.Sprintf("s-%s k-%s t-%d", f.Severity, f.TargetKind, ti),
				F:           f,
				Target:      f.Target,
				Where:       locationText(f),
				Remediation: markdownHTML(f.Remediation),
			}
			for _, ref := range f.References {
				if u, ok := safeURL(ref); ok {
					pf.References = append(pf.References, pageLink{Text: ref, URL: u})
				}
			}
			if v := f.Vulnerability; v != nil {
				for _, id := range append([]string{v.ID}, v.Aliases...) {
					pf.Advisories = append(pf.Advisories, pageLink{Text: id, URL: advisoryURL(id)})
				}
			}
			g.Findings = append(g.Findings, pf)
			key := fmt.Sprintf("#fs-%s:checked~#fk-%s:checked~#ft-%d:checked~.page #%s{display:block}\n", f.Severity, f.TargetKind, ti, g.ID)
			if !combos[key] {
				combos[key] = true
				css.WriteString(key)
			}
		}
		d.Groups = append(d.Groups, g)
		row := chartRow{ID: g.ID, Practice: p, Title: g.Seed.Title, Total: len(fs)}
		for _, s := range finding.Severities {
			c := 0
			for _, f := range fs {
				if f.Severity == s {
					c++
				}
			}
			if c > 0 {
				row.Segments = append(row.Segments, chartSegment{Severity: s.String(), Count: c,
					Style: template.CSS(fmt.Sprintf("width:%.2f%%", 100*float64(c)/float64(maxTotal)))})
			}
		}
		d.Chart = append(d.Chart, row)
	}
	d.FilterCSS = template.CSS(css.String())

	// Layers, with what each added: its findings (by anchor) and packages.
	anchors := map[string][]pageLink{}
	for _, g := range d.Groups {
		for _, pf := range g.Findings {
			if li := pf.F.Location.LayerIndex; li != nil {
				k := fmt.Sprintf("%s\x00%d", pf.F.Target, *li)
				anchors[k] = append(anchors[k], pageLink{Text: pf.F.RuleID, URL: "#" + pf.Anchor})
			}
		}
	}
	for _, il := range r.Layers {
		pl := pageLayers{Target: il.Target, Classes: "k-image"}
		if i, ok := tIndex[finding.Target{Kind: finding.SurfaceImage, Name: il.Target}]; ok {
			pl.Classes = fmt.Sprintf("k-image t-%d", i)
		}
		for _, l := range il.Layers {
			pl.Size += l.Size
			pl.Wasted += l.Wasted
			var pk []string
			for _, typ := range sortedTypes(l.Packages) {
				pk = append(pk, fmt.Sprintf("%d %s", l.Packages[typ], typ))
			}
			pkText := ""
			if len(pk) > 0 {
				pkText = strings.Join(pk, ", ") + " packages"
			}
			pl.Layers = append(pl.Layers, pageLayer{Layer: l, Findings: anchors[fmt.Sprintf("%s\x00%d", il.Target, l.Index)], Packages: pkText})
		}
		d.Layers = append(d.Layers, pl)
	}

	if len(r.Checks) > 0 {
		d.Score = ScoreChecks(r.Checks)
		d.ScoreText = d.Score.ScoreText()
		for _, c := range r.Checks {
			if len(d.Bench) == 0 || d.Bench[len(d.Bench)-1].Name != c.Section {
				d.Bench = append(d.Bench, pageCheckSection{Name: c.Section})
			}
			d.Bench[len(d.Bench)-1].Checks = append(d.Bench[len(d.Bench)-1].Checks, c)
		}
		d.BenchClass = "k-host"
		for i, t := range targets {
			if t.Kind == finding.SurfaceHost {
				d.BenchClass = fmt.Sprintf("k-host t-%d", i)
				break
			}
		}
	}
	return d
}

func sortedTypes(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var markdown = goldmark.New()

// markdownHTML renders rule text written in Markdown (`code`, links).
// goldmark leaves raw HTML out and refuses javascript: and similar links
// unless told otherwise, so the result is safe to embed.
func markdownHTML(s string) template.HTML {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(s), &b); err != nil {
		return template.HTML(template.HTMLEscapeString(s))
	}
	return template.HTML(b.String())
}

// safeURL accepts http and https references only.
func safeURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", false
	}
	return u.String(), true
}

// advisoryURL is where an advisory ID is published: NVD for CVEs, GitHub
// for GHSAs, OSV for everything else (OSV serves every ID it imports).
func advisoryURL(id string) string {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "https://nvd.nist.gov/vuln/detail/" + url.PathEscape(id)
	case strings.HasPrefix(id, "GHSA-"):
		return "https://github.com/advisories/" + url.PathEscape(id)
	}
	return "https://osv.dev/vulnerability/" + url.PathEscape(id)
}

func ruleURL(id string) string { return RulesDoc + "#" + strings.ToLower(id) }

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"upper":   strings.ToUpper,
	"bytes":   humanBytes,
	"ruleURL": ruleURL,
	"lower":   func(s fmt.Stringer) string { return s.String() },
	"status":  func(s finding.CheckStatus) string { return strings.ToUpper(s.String()) },
}).Parse(htmlTemplate))
