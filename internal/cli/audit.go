package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/secrets"

	"github.com/dockvet/dockvet/internal/catalog"
	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/report"
)

// findingFormats are the formats every audit command writes.
var findingFormats = []string{"table", "json", "sarif", "junit", "html", "markdown", "checkstyle", "gitlab", "template"}

// newReport starts a report for this run.
func newReport() *finding.Report {
	return &finding.Report{Tool: finding.Tool{Name: "dockvet", Version: Version}}
}

// checkFormat rejects a format the command cannot write (a usage error).
func (s *Shared) checkFormat(allowed []string) (string, error) {
	f := s.Format
	if f == "" {
		f = "table"
	}
	if !slices.Contains(allowed, f) {
		return "", fail("--format %s does not fit this command (use one of %v)", f, allowed)
	}
	if f == "template" && s.template == nil {
		return "", fail("--format template needs --template FILE (a Go template over the JSON report)")
	}
	if f != "template" && s.Template != "" {
		return "", fail("--template is for --format template")
	}
	return f, nil
}

// filter applies the project's configuration, the ignore file and
// --severity to r, and says which ignores have expired.
func (s *Shared) filter(r *finding.Report) {
	// In-source waivers may name another tool's rules (# hadolint
	// ignore=DL3008): they waive the dockvet rules carrying that check.
	for i, w := range r.Waivers {
		var ids []string
		for _, id := range w.RuleIDs {
			if res := catalog.Resolve(id); len(res) > 0 {
				ids = append(ids, res...)
			} else {
				ids = append(ids, id)
			}
		}
		r.Waivers[i].RuleIDs = ids
	}
	if u := s.configUsed; u != nil && (u.File != "" || u.IgnoreFile != "") && r.Config == nil {
		r.Config = u
	}
	flt := &config.Filter{Config: s.cfg, IgnoreFile: s.ignores, Severities: s.severities, Now: s.Now}
	for _, n := range flt.Apply(r) {
		s.notice("%s", n)
	}
}

// finish is the end of every audit: apply the project's configuration and
// the flags, render, write atomically, and turn the result into an exit
// code. A run whose inputs could not all be read exits 2, and says so in
// the report instead of passing it off as complete.
func (s *Shared) finish(r *finding.Report, allowed []string) error {
	format, err := s.checkFormat(allowed)
	if err != nil {
		return err
	}
	if s.buildContexts != nil {
		// Parts of build contexts that could not be read: the context
		// secret scan (DV1047) did not see them.
		for _, p := range s.buildContexts.Problems() {
			r.Errors = append(r.Errors, finding.InputError{Target: p.Path, Kind: finding.SurfaceDockerfile, Message: "build context: " + p.Msg})
		}
	}
	// Errors quote outside input (a parser's complaint about a line): they
	// are masked as findings are before standard error or any report
	// shows them.
	for i := range r.Errors {
		r.Errors[i].Message = secrets.MaskError(oneLine(r.Errors[i].Message))
		r.Errors[i].Target = secrets.MaskError(r.Errors[i].Target)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(s.IO.Err, "dockvet: %s: %s\n", e.Target, e.Message)
	}
	if len(r.Errors) > 0 && len(r.Targets) == 0 {
		// Nothing was audited: no report at all, only the errors.
		return &exitError{code: ExitError}
	}
	if r.Scan == nil {
		r.Scan = &finding.ScanInfo{}
	}
	if r.Scan.Time.IsZero() {
		r.Scan.Time = s.Now().UTC()
	}
	if s.engineSaid && r.Scan.Engine == nil {
		r.Scan.Engine = s.engineInfo()
	}
	s.filter(r)
	r.Rules = ruleMetadata(r)
	render, err := report.Lookup(format)
	if err != nil {
		return fail("%v", err)
	}
	var buf bytes.Buffer
	// Sized for the findings once (a JSON finding is about 700 bytes), not
	// regrown page by page while a report of thousands is written.
	buf.Grow(4096 + 768*len(r.Findings))
	if err := render(&buf, r, report.Options{Color: s.color(), Width: s.width(), FailOn: s.failLevel, Template: s.template}); err != nil {
		return fail("rendering %s: %v", format, err)
	}
	if err := s.write(buf.Bytes()); err != nil {
		return err
	}
	if len(r.Errors) > 0 && !s.AcceptPartial {
		return &exitError{code: ExitError}
	}
	if s.FailOnMissingData && r.MissingData() {
		db := r.Scan.VulnerabilityDatabase
		what := "no vulnerability database"
		if db.Status == finding.DatabasePartial {
			what = "no vulnerability data for " + strings.Join(db.Missing, ", ")
		}
		return fail("%s: the report is incomplete (--fail-on-missing-data)", what)
	}
	if s.failLevel != 0 && r.Max() >= s.failLevel {
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
func (s *Shared) write(data []byte) error {
	if s.interrupt != nil && s.interrupt.Err() != nil {
		// A run cancelled by Ctrl-C may have partial results: nothing is
		// written, so no half-made report passes for a complete one.
		return &exitError{code: ExitInterrupted}
	}
	out := s.Output
	if out == "" || out == "-" {
		_, err := s.IO.Out.Write(data)
		if err != nil {
			return fail("writing the report: %v", err)
		}
		return nil
	}
	if fi, err := os.Stat(out); err == nil && !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return fail("--output %s: is a directory", out)
		}
		f, err := os.OpenFile(out, os.O_WRONLY, 0)
		if err != nil {
			return fail("--output %s: %v", out, unwrap(err))
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fail("--output %s: %v", out, unwrap(werr))
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".dockvet-report-*")
	if err != nil {
		return fail("--output %s: %v", out, unwrap(err))
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
		werr = os.Rename(tmp.Name(), out)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fail("--output %s: %v", out, unwrap(werr))
	}
	return nil
}

// writeJSON writes v as indented JSON, as write does.
func (s *Shared) writeJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fail("%v", err)
	}
	return s.write(append(b, '\n'))
}

// notice prints an informational line on standard error unless --quiet.
func (s *Shared) notice(format string, args ...any) {
	if s.Quiet {
		return
	}
	fmt.Fprintf(s.IO.Err, "dockvet: %s\n", secrets.MaskError(fmt.Sprintf(format, args...)))
}

// warn prints a warning on standard error unless --quiet: something in
// the user's files that does nothing, and would otherwise go unnoticed.
func (s *Shared) warn(format string, args ...any) {
	s.notice("warning: "+format, args...)
}

// alert prints a line on standard error even under --quiet: what a quiet
// run must not hide (vulnerability data that was missing, a source other
// than the one a name usually means).
func (s *Shared) alert(format string, args ...any) {
	fmt.Fprintf(s.IO.Err, "dockvet: %s\n", secrets.MaskError(fmt.Sprintf(format, args...)))
}

// say prints a result line on standard output unless --quiet.
func (s *Shared) say(format string, args ...any) {
	if !s.Quiet {
		fmt.Fprintf(s.IO.Out, format+"\n", args...)
	}
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
