package dockerfile

import (
	"fmt"
	"strings"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/shell"
)

// Rule is one Dockerfile check: its metadata and one function over the
// parsed file.
type Rule struct {
	finding.Rule
	Check func(p *Pass)
}

// Pass is what a rule sees: the file, the project's policy, and a way to
// report.
type Pass struct {
	File   *File
	Policy *policy.Policy
	// Now is the time rules that depend on dates (end of life) compare with.
	Now time.Time
	// Context is the build context directory ("" means the Dockerfile's).
	Context string
	rule    *Rule
	out     *[]finding.Finding
}

// Report records a finding at an instruction.
func (p *Pass) Report(in *Instruction, format string, args ...any) {
	p.ReportLine(in, in.Line, format, args...)
}

// ReportCmd records a finding at the line of a command inside a RUN.
func (p *Pass) ReportCmd(in *Instruction, c *shell.Command, format string, args ...any) {
	line := c.Line
	if line < in.Line || line > in.EndLine {
		line = in.Line
	}
	p.ReportLine(in, line, format, args...)
}

// ReportLine records a finding at a given line of an instruction.
func (p *Pass) ReportLine(in *Instruction, line int, format string, args ...any) {
	loc := finding.Location{Path: p.File.Path, Line: line}
	if in != nil && in.EndLine > line && line == in.Line {
		loc.EndLine = in.EndLine
	}
	*p.out = append(*p.out, finding.New(&p.rule.Rule, finding.Target{Kind: finding.SurfaceDockerfile, Name: p.File.Path}, loc, fmt.Sprintf(format, args...)))
}

// lineWith returns the physical line of an instruction that contains
// needle (the line of `KEY=` in a multi-line ENV), or the first line.
func (p *Pass) lineWith(in *Instruction, needle string) int {
	for l := in.Line; l <= in.EndLine && l <= len(p.File.Lines); l++ {
		if strings.Contains(p.File.Lines[l-1], needle) {
			return l
		}
	}
	return in.Line
}

// ReportSecret records a secret finding; the fingerprint lets an ignore
// entry name this exact secret.
func (p *Pass) ReportSecret(in *Instruction, line int, fingerprint, format string, args ...any) {
	p.ReportLine(in, line, format, args...)
	(*p.out)[len(*p.out)-1].Fingerprint = fingerprint
}

var registry = finding.NewRegistry[*Rule](finding.SurfaceDockerfile)

// rule registers a rule; rule files declare `var x = rule(&Rule{…})`.
func rule(r *Rule) *Rule { return registry.Add(r) }

// Rules returns every Dockerfile rule, sorted by ID.
func Rules() []*Rule { return registry.Sorted() }

// Catalog returns the metadata of every Dockerfile rule.
func Catalog() []finding.Rule { return registry.Catalog() }

// Options configure a check.
type Options struct {
	Policy *policy.Policy
	// Enabled filters rules; nil runs all.
	Enabled func(*finding.Rule) bool
	// Now is the current time (time.Now when zero).
	Now time.Time
	// Context is the build context directory, as given to `docker build`;
	// empty means the Dockerfile's directory.
	Context string
}

// Check runs the rules over a parsed file.
func Check(f *File, opts Options) []finding.Finding {
	var out []finding.Finding
	pol := opts.Policy
	if pol == nil {
		pol = &policy.Policy{}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	for _, r := range Rules() {
		if opts.Enabled != nil && !opts.Enabled(&r.Rule) {
			continue
		}
		r.Check(&Pass{File: f, Policy: pol, Now: now, Context: opts.Context, rule: r, out: &out})
	}
	return out
}
