package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/dockvet/dockvet/internal/catalog"
	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/report"
)

// findingFormats are the formats every audit command writes.
var findingFormats = []string{"table", "json", "sarif", "junit", "html"}

// newReport starts a report for this run.
func newReport() *finding.Report {
	return &finding.Report{Tool: finding.Tool{Name: "dockvet", Version: Version}}
}

// checkFormat rejects a format the command cannot write (a usage error).
func (g *globals) checkFormat(allowed []string) (string, error) {
	f := g.format
	if f == "" {
		f = "table"
	}
	if !slices.Contains(allowed, f) {
		return "", fail("--format %s does not fit this command (use one of %v)", f, allowed)
	}
	return f, nil
}

// finish is the end of every audit: apply the project's configuration and
// the flags, render, write atomically, and turn the result into an exit
// code. A run whose inputs could not all be read exits 2, and says so in
// the report instead of passing it off as complete.
func (g *globals) finish(r *finding.Report, allowed []string) error {
	format, err := g.checkFormat(allowed)
	if err != nil {
		return err
	}
	for _, e := range r.Errors {
		fmt.Fprintf(g.streams.Err, "dockvet: %s: %s\n", e.Target, e.Message)
	}
	if len(r.Errors) > 0 && len(r.Targets) == 0 {
		// Nothing was audited: no report at all, only the errors.
		return &exitError{code: ExitError}
	}
	flt := &config.Filter{Config: g.cfg, IgnoreFile: g.ignores, Severities: g.severities, Now: g.now}
	for _, n := range flt.Apply(r) {
		g.notice("%s", n)
	}
	r.Rules = ruleMetadata(r)
	render, err := report.Lookup(format)
	if err != nil {
		return fail("%v", err)
	}
	var buf bytes.Buffer
	if err := render(&buf, r, report.Options{Color: g.color()}); err != nil {
		return fail("rendering %s: %v", format, err)
	}
	if err := g.write(buf.Bytes()); err != nil {
		return err
	}
	if len(r.Errors) > 0 {
		return &exitError{code: ExitError}
	}
	if g.failLevel != 0 && r.Max() >= g.failLevel {
		return &exitError{code: ExitFindings}
	}
	return nil
}

// ruleMetadata lists the catalog entries of the rules that produced
// findings, for SARIF's rule table.
func ruleMetadata(r *finding.Report) []finding.Rule {
	ids := map[string]bool{}
	for _, f := range r.Findings {
		ids[f.RuleID] = true
	}
	var out []finding.Rule
	for _, rule := range catalog.All() {
		if ids[rule.ID] {
			out = append(out, rule)
		}
	}
	return append(out, r.Rules...)
}

// write sends the report to --output (atomically: a reader never sees a
// half-written file) or to standard output. An output that exists and is
// not a regular file (/dev/null, /dev/stdout, a FIFO) is written to as it
// is: renaming over it would replace a device with a file.
func (g *globals) write(data []byte) error {
	if g.output == "" || g.output == "-" {
		_, err := g.streams.Out.Write(data)
		if err != nil {
			return fail("writing the report: %v", err)
		}
		return nil
	}
	if fi, err := os.Stat(g.output); err == nil && !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return fail("--output %s: is a directory", g.output)
		}
		f, err := os.OpenFile(g.output, os.O_WRONLY, 0)
		if err != nil {
			return fail("--output %s: %v", g.output, unwrap(err))
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fail("--output %s: %v", g.output, unwrap(werr))
		}
		return nil
	}
	dir := filepath.Dir(g.output)
	tmp, err := os.CreateTemp(dir, ".dockvet-report-*")
	if err != nil {
		return fail("--output %s: %v", g.output, unwrap(err))
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), g.output)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fail("--output %s: %v", g.output, unwrap(werr))
	}
	return nil
}

// notice prints an informational line on standard error unless --quiet.
func (g *globals) notice(format string, args ...any) {
	if g.quiet {
		return
	}
	fmt.Fprintf(g.streams.Err, "dockvet: "+format+"\n", args...)
}

// unwrap drops the "op path:" prefix of file errors; the message already
// names the file.
func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
