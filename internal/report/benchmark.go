package report

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

var checkColor = map[finding.CheckStatus]string{
	finding.CheckPass: "\x1b[1;32m",
	finding.CheckWarn: "\x1b[1;31m",
	finding.CheckInfo: "\x1b[1;34m",
	finding.CheckNote: "\x1b[1;33m",
}

// Score counts checks the way docker-bench-security does: every automated
// check that passed adds one, every automated check that warned takes one
// away; manual and unchecked checks count but do not score.
type Score struct {
	Checks, Passed, Warnings, Info, Notes int
	// AutoPassed and AutoWarned are the automated checks that passed and
	// warned: what the score adds and takes away. Manual counts the
	// checks the benchmark leaves to a person, whatever their status.
	AutoPassed, AutoWarned, Manual int
	Score                          int
}

// ScoreChecks computes the score of a benchmark run.
func ScoreChecks(checks []finding.Check) Score {
	var s Score
	for _, c := range checks {
		s.Checks++
		if c.Manual {
			s.Manual++
		}
		switch c.Status {
		case finding.CheckPass:
			s.Passed++
			if !c.Manual {
				s.AutoPassed++
				s.Score++
			}
		case finding.CheckWarn:
			s.Warnings++
			if !c.Manual {
				s.AutoWarned++
				s.Score--
			}
		case finding.CheckInfo:
			s.Info++
		case finding.CheckNote:
			s.Notes++
		}
	}
	return s
}

// ScoreText explains a score in one sentence: what was added, what was
// taken away, and what does not count.
func (s Score) ScoreText() string {
	return fmt.Sprintf("Score %d = %d automated checks passed (+1 each) − %d warned (−1 each), as docker-bench-security counts; "+
		"the %d not checked (INFO) and the %d manual checks count 0. The highest possible score is the number of automated checks, %d.",
		s.Score, s.AutoPassed, s.AutoWarned, s.Info, s.Manual, s.Checks-s.Manual)
}

// benchmark writes the checks as a docker-bench-security user expects them:
// a header per section, one line per check with its status, the reason
// under checks that were not made or are left to a person, and the score
// with what it counts.
func benchmark(bw *bufio.Writer, checks []finding.Check, o Options) {
	paint := func(s finding.CheckStatus, text string) string {
		if !o.Color {
			return text
		}
		return checkColor[s] + text + colorReset
	}
	section := ""
	idW := 7
	for _, c := range checks {
		idW = max(idW, width(c.CIS))
	}
	titleW := 0
	if o.Width > 0 {
		titleW = max(o.Width-(7+idW+1+7+1), 20)
	}
	for _, c := range checks {
		if c.Section != section {
			if section != "" {
				fmt.Fprintln(bw)
			}
			section = c.Section
			fmt.Fprintf(bw, "%s %s\n", paint(finding.CheckInfo, "[INFO]"), section)
		}
		id := c.CIS
		if id == "" {
			id = "-"
		}
		title := c.Title
		if c.Manual {
			title += " (Manual)"
		}
		status := "[" + strings.ToUpper(c.Status.String()) + "]"
		indent := strings.Repeat(" ", 7+idW+1+7+1)
		for i, l := range wrap(title, titleW) {
			if i == 0 {
				fmt.Fprintf(bw, "%s %s %-7s %s\n", paint(c.Status, status), pad(id, idW), c.RuleID, l)
			} else {
				fmt.Fprintf(bw, "%s%s\n", indent, l)
			}
		}
		if c.Note != "" && c.Status != finding.CheckPass {
			noteW := 0
			if o.Width > 0 {
				noteW = max(o.Width-(7+7+2), 20)
			}
			for i, l := range wrap(c.Note, noteW) {
				if i == 0 {
					fmt.Fprintf(bw, "%s        * %s\n", paint(c.Status, status), l)
				} else {
					fmt.Fprintf(bw, "%s%s\n", strings.Repeat(" ", 7+7+2), l)
				}
			}
		}
	}
	s := ScoreChecks(checks)
	fmt.Fprintf(bw, "\nChecks: %d (passed %d, warnings %d, info %d, notes %d)\nScore: %d\n", s.Checks, s.Passed, s.Warnings, s.Info, s.Notes, s.Score)
	for _, l := range wrap(s.ScoreText(), o.Width) {
		fmt.Fprintf(bw, "  %s\n", l)
	}
	fmt.Fprintln(bw)
}
