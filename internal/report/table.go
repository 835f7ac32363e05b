package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

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

// sevWidth is the width of the severity column: "CRITICAL".
const sevWidth = 8

// Table writes findings for a person: the report's details and the
// benchmark table first when there are any (the host audit), then one block
// per target, one row per finding, the layers of each image, and a summary
// line. Each row names the rule, so `dockvet rules ID` explains it.
//
// Columns are measured in terminal columns of the text without colour
// (colour is added after padding), so every row's rule ID starts at the
// same column. With o.Width set (a terminal), locations and messages are
// wrapped inside their own columns at that width.
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
	for _, d := range reportDetails(r) {
		writeWrapped(bw, d.Label+": ", d.Value, o.Width)
	}
	if len(r.Checks) > 0 {
		benchmark(bw, r.Checks, o)
	}
	tableIdentity(bw, r)
	targets, groups := byTarget(r)
	for _, t := range targets {
		fs := groups[t]
		fmt.Fprintf(bw, "%s (%s): %s\n", bold(t.Name), t.Kind, countText(len(fs)))
		for _, d := range targetDetails(t) {
			writeWrapped(bw, "  "+d.Label+": ", d.Value, o.Width)
		}
		if len(fs) > 0 {
			findingRows(bw, fs, o.Width, paint)
		}
		fmt.Fprintln(bw)
	}
	for _, il := range r.Layers {
		layerTable(bw, il, o.Width)
		fmt.Fprintln(bw)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(bw, "%s %s: %s\n", paint(finding.High, "ERROR"), e.Target, e.Message)
	}
	s := r.Summary
	sum := fmt.Sprintf("%s — %d critical, %d high, %d medium, %d low, %d info",
		countText(s.Total()), s.Critical, s.High, s.Medium, s.Low, s.Info)
	if n := len(r.Suppressed); n > 0 {
		sum += fmt.Sprintf("; %d suppressed", n)
	}
	if n := len(r.Errors); n > 0 {
		sum += fmt.Sprintf("; %d input(s) could not be audited", n)
	}
	sum += fmt.Sprintf(" (%d target(s))", len(targets))
	for i, l := range wrap(sum, max(o.Width-len("Summary: "), 0)) {
		if i == 0 {
			fmt.Fprintf(bw, "%s: %s\n", bold("Summary"), l)
		} else {
			fmt.Fprintf(bw, "         %s\n", l)
		}
	}
	return bw.Flush()
}

// findingRows writes one row per finding: severity, rule, location and
// message columns, the last two wrapped inside their columns.
func findingRows(bw *bufio.Writer, fs []finding.Finding, total int, paint func(finding.Severity, string) string) {
	const indent, gap = 2, 2
	ruleW, locW := 0, 0
	for _, f := range fs {
		ruleW = max(ruleW, width(f.RuleID))
		locW = max(locW, width(locationText(f)))
	}
	fixed := indent + sevWidth + gap + ruleW + gap
	msgW := 0 // no limit
	if total > 0 {
		// The location column takes what it needs up to a third of what
		// is left (a file name and line fit in 24 columns whatever the
		// width); the message the rest, never less than 24 columns.
		const minMsg = 24
		locW = min(locW, max((total-fixed)/3, 24), max(total-fixed-gap-minMsg, 8))
		msgW = max(total-fixed-locW-gap, minMsg)
	}
	blank := strings.Repeat(" ", fixed)
	for _, f := range fs {
		loc := wrap(locationText(f), locW)
		msg := wrap(f.Message, msgW)
		for i := 0; i < max(len(loc), len(msg)); i++ {
			l, m := "", ""
			if i < len(loc) {
				l = loc[i]
			}
			if i < len(msg) {
				m = msg[i]
			}
			if i == 0 {
				fmt.Fprintf(bw, "  %s  %s  ", paint(f.Severity, pad(strings.ToUpper(f.Severity.String()), sevWidth)), pad(f.RuleID, ruleW))
			} else {
				bw.WriteString(blank)
			}
			if m == "" {
				fmt.Fprintln(bw, strings.TrimRight(l, " "))
				continue
			}
			fmt.Fprintf(bw, "%s  %s\n", pad(l, locW), m)
		}
	}
}

// writeWrapped writes a labelled value, continuation lines under the value.
func writeWrapped(bw *bufio.Writer, label, value string, total int) {
	w := 0
	if total > 0 {
		w = max(total-width(label), 20)
	}
	for i, l := range wrap(value, w) {
		if i == 0 {
			bw.WriteString(label)
		} else {
			bw.WriteString(strings.Repeat(" ", width(label)))
		}
		bw.WriteString(l + "\n")
	}
}

// layerTable writes an image's layers: index, size, files, wasted bytes
// and the instruction, wrapped inside its column at the terminal width.
func layerTable(bw *bufio.Writer, il finding.ImageLayers, total int) {
	var size, wasted int64
	for _, l := range il.Layers {
		size += l.Size
		wasted += l.Wasted
	}
	writeWrapped(bw, "", fmt.Sprintf("Layers of %s: %s in %s, %s wasted", il.Target, humanBytes(size), plural(len(il.Layers), "layer"), humanBytes(wasted)), total)
	rows := [][]string{{"#", "SIZE", "FILES", "WASTED", "CREATED BY"}}
	for _, l := range il.Layers {
		by := l.CreatedBy
		if by == "" {
			by = "-"
		}
		rows = append(rows, []string{fmt.Sprint(l.Index), humanBytes(l.Size), fmt.Sprint(l.Files), humanBytes(l.Wasted), by})
	}
	ws := make([]int, 4)
	for _, r := range rows {
		for i := range ws {
			ws[i] = max(ws[i], width(r[i]))
		}
	}
	fixed := 2 + ws[0] + 2 + ws[1] + 2 + ws[2] + 2 + ws[3] + 2
	byW := 0
	if total > 0 {
		byW = max(total-fixed, 20)
	}
	for _, r := range rows {
		for j, line := range wrap(r[4], byW) {
			if j == 0 {
				fmt.Fprintf(bw, "  %*s  %*s  %*s  %*s  %s\n", ws[0]+len(r[0])-width(r[0]), r[0], ws[1], r[1], ws[2], r[2], ws[3], r[3], line)
				continue
			}
			fmt.Fprintf(bw, "%s%s\n", strings.Repeat(" ", fixed), line)
		}
	}
}

// humanBytes is a size in binary units, as docker prints them.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func countText(n int) string {
	if n == 1 {
		return "1 finding"
	}
	return fmt.Sprintf("%d findings", n)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
