// Package report renders a finding.Report in the formats users and CI read.
// Renderers only format: sorting, filtering and masking happen before them,
// so every format shows the same findings.
package report

import (
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Options are what a renderer may need beyond the report.
type Options struct {
	// Color enables ANSI colours (table only; set on a terminal).
	Color bool
	// Width is the terminal's width in columns, 0 when not writing to a
	// terminal (table: wrap nothing).
	Width int
	// FailOn is the severity at or above which the run fails (--fail-on);
	// 0 never fails. JUnit reports only those findings as failures.
	FailOn finding.Severity
	// Template is the template of --format template (text/template over
	// the JSON report).
	Template *Template
}

// Renderer writes one format.
type Renderer func(w io.Writer, r *finding.Report, o Options) error

var renderers = map[string]Renderer{
	"table":      Table,
	"json":       JSON,
	"sarif":      SARIF,
	"junit":      JUnit,
	"html":       HTML,
	"markdown":   Markdown,
	"checkstyle": Checkstyle,
	"gitlab":     GitLab,
	"template":   RenderTemplate,
}

// Formats lists the formats that render findings, sorted.
func Formats() []string {
	names := make([]string, 0, len(renderers))
	for n := range renderers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the renderer of a format, or an error naming the choices.
func Lookup(format string) (Renderer, error) {
	if r, ok := renderers[format]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("unknown format %q for findings (want %s)", format, strings.Join(Formats(), ", "))
}

// locationText is the short "where" of a finding shown in text formats.
func locationText(f finding.Finding) string {
	var parts []string
	l := f.Location
	p := l.Path
	if p == f.Target {
		p = ""
	}
	// A file next to the target (a build-context file of a Dockerfile, an
	// env file of a Compose project) is named relative to the target's
	// directory: the table stays narrow and the group heading gives the rest.
	if dir := path.Dir(filepath.ToSlash(f.Target)); p != "" && dir != "." && strings.HasPrefix(filepath.ToSlash(p), dir+"/") {
		p = strings.TrimPrefix(filepath.ToSlash(p), dir+"/")
	}
	switch {
	case p != "" && l.Line > 0:
		parts = append(parts, fmt.Sprintf("%s:%d", p, l.Line))
	case p != "":
		parts = append(parts, p)
	case l.Line > 0:
		parts = append(parts, fmt.Sprintf("line %d", l.Line))
	}
	if l.LayerIndex != nil {
		parts = append(parts, fmt.Sprintf("layer %d", *l.LayerIndex))
	}
	if l.Service != "" {
		parts = append(parts, "service "+l.Service)
	}
	if l.Container != "" && l.Container != l.Service {
		parts = append(parts, "container "+l.Container)
	}
	return strings.Join(parts, " ")
}

// byTarget groups findings by target (kind and name: a directory can be
// both a Compose project and hold a Dockerfile of the same name), keeping
// the report's order of targets and listing targets without findings too.
func byTarget(r *finding.Report) ([]finding.Target, map[finding.Target][]finding.Finding) {
	groups := map[finding.Target][]finding.Finding{}
	targets := slices.Clone(r.Targets)
	known := map[finding.Target]bool{}
	for _, t := range targets {
		known[t] = true
	}
	for _, f := range r.Findings {
		t := finding.Target{Kind: f.TargetKind, Name: f.Target}
		groups[t] = append(groups[t], f)
		if !known[t] {
			known[t] = true
			targets = append(targets, t)
		}
	}
	return targets, groups
}
