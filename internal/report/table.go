package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dockvet/dockvet/internal/finding"
)

var severityColor = map[finding.Severity]string{
	finding.Critical: "\x1b[1;35m",
	finding.High:     "\x1b[1;31m",
	finding.Medium:   "\x1b[33m",
	finding.Low:      "\x1b[36m",
	finding.Info:     "\x1b[2m",
}

const colorReset = "\x1b[0m"

// Table writes findings for a person: the benchmark table first when the
// report has checks (the host audit), then one block per target, one line per
// finding, and a summary line. Each line names the rule, so `dockvet rules
// ID` explains it and tells how to fix it.
func Table(w io.Writer, r *finding.Report, o Options) error {
	bw := bufio.NewWriter(w)
	paint := func(s finding.Severity, text string) string {
		if !o.Color {
			return text
		}
		return severityColor[s] + text + colorReset
	}
	bold := func(text string) string {
		if !o.Color {
			return text
		}
		return "\x1b[1m" + text + colorReset
	}
	if len(r.Checks) > 0 {
		benchmark(bw, r.Checks, o.Color)
	}
	tableIdentity(bw, r)
	targets, groups := byTarget(r)
	for _, t := range targets {
		fs := groups[t]
		fmt.Fprintf(bw, "%s (%s): %s\n", bold(t.Name), t.Kind, countText(len(fs)))
		if len(fs) == 0 {
			fmt.Fprintln(bw)
			continue
		}
		// The tabwriter pads the uncoloured text; colour codes are added to
		// the severity cell only, padded first so columns stay aligned.
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		for _, f := range fs {
			sev := fmt.Sprintf("%-8s", strings.ToUpper(f.Severity.String()))
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", paint(f.Severity, sev), f.RuleID, locationText(f), oneLine(f.Message))
		}
		tw.Flush()
		fmt.Fprintln(bw)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(bw, "%s %s: %s\n", paint(finding.High, "ERROR"), e.Target, e.Message)
	}
	s := r.Summary
	fmt.Fprintf(bw, "%s: %s — %d critical, %d high, %d medium, %d low, %d info",
		bold("Summary"), countText(s.Total()), s.Critical, s.High, s.Medium, s.Low, s.Info)
	if n := len(r.Suppressed); n > 0 {
		fmt.Fprintf(bw, "; %d suppressed", n)
	}
	if n := len(r.Errors); n > 0 {
		fmt.Fprintf(bw, "; %d input(s) could not be audited", n)
	}
	fmt.Fprintf(bw, " (%d target(s))\n", len(targets))
	return bw.Flush()
}

func countText(n int) string {
	if n == 1 {
		return "1 finding"
	}
	return fmt.Sprintf("%d findings", n)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
