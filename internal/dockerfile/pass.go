package dockerfile

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/rule"
	"github.com/dockvet/dockvet/internal/secrets"
	"github.com/dockvet/dockvet/internal/shell"
)

// Rule is one Dockerfile check: its metadata and one function over the
// pass.
type Rule = rule.Rule[*Pass]

// Pass is what a rule sees: the file, what the run gives every rule (the
// project's policy, the clock, the build context), and the reporter of its
// findings.
type Pass struct {
	rule.Reporter
	File   *File
	Policy *policy.Policy
	// Now is the time rules that depend on dates (end of life) compare with.
	Now time.Time
	// Context is the build context directory ("" means the Dockerfile's,
	// NoBuildContext none).
	Context string
	// Contexts are the build contexts of the run (nil: this file's own).
	Contexts *Contexts
}

// NoBuildContext is the Context of a Dockerfile built without one, as
// `docker build - < Dockerfile` builds: COPY and ADD have no files to take.
const NoBuildContext = "-"

// Report records a finding at an instruction.
func (p *Pass) Report(in *Instruction, format string, args ...any) *finding.Finding {
	return p.ReportLine(in, in.Line, format, args...)
}

// ReportCmd records a finding at the line of a command inside a RUN.
func (p *Pass) ReportCmd(in *Instruction, c *shell.Command, format string, args ...any) *finding.Finding {
	return p.ReportLine(in, lineOf(in, c), format, args...)
}

// ReportLine records a finding at a given line of an instruction; a
// finding on the instruction's first line spans the whole instruction.
func (p *Pass) ReportLine(in *Instruction, line int, format string, args ...any) *finding.Finding {
	loc := finding.Location{Path: p.File.Path, Line: line}
	if in.EndLine > line && line == in.Line {
		loc.EndLine = in.EndLine
	}
	return p.Emit(loc, format, args...)
}

// lineOf is the line of a command inside a RUN, or the RUN's first line
// when the command's own line is not one of the instruction's (a command
// of a here-document whose position is unknown).
func lineOf(in *Instruction, c *shell.Command) int {
	if c.Line < in.Line || c.Line > in.EndLine {
		return in.Line
	}
	return c.Line
}

// contextDir is the build context directory.
func (p *Pass) contextDir() string {
	if p.Context == NoBuildContext {
		return ""
	}
	if p.Context != "" {
		return p.Context
	}
	return filepath.Dir(p.File.Path)
}

// lineWith returns the physical line of an instruction that contains
// needle (the line of `KEY=` in a multi-line ENV), or the first line.
// Comment lines inside the instruction are not part of it.
func (p *Pass) lineWith(in *Instruction, needle string) int {
	for l := in.Line; l <= in.EndLine && l <= len(p.File.Lines); l++ {
		text := p.File.Lines[l-1]
		if l > in.Line && strings.HasPrefix(strings.TrimSpace(text), "#") {
			continue
		}
		if strings.Contains(text, needle) {
			return l
		}
	}
	return in.Line
}

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
	// Contexts, when set, shares build contexts and their secret scans
	// among the Dockerfiles of a run (NewContexts); nil loads the
	// context for this file alone.
	Contexts *Contexts
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
	target := finding.Target{Kind: finding.SurfaceDockerfile, Name: f.Path}
	// One pass, re-aimed at each rule in turn: checks run one after the
	// other and keep nothing of their pass.
	p := &Pass{File: f, Policy: pol, Now: now, Context: opts.Context, Contexts: opts.Contexts}
	rule.Run(rules, opts.Enabled, func(r *finding.Rule) *Pass {
		p.Reporter = rule.NewReporter(r, target, &out)
		return p
	})
	// Messages quote instructions (a download URL, a command line); a
	// credential in one is shown masked, as the secret rules show theirs.
	for i := range out {
		out[i].Message = secrets.MaskText(out[i].Message)
	}
	return out
}
