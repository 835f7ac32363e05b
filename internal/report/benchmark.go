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
	Score                                 int
}

// ScoreChecks computes the score of a benchmark run.
func ScoreChecks(checks []finding.Check) Score {
	var s Score
	for _, c := range checks {
		s.Checks++
		switch c.Status {
		case finding.CheckPass:
			s.Passed++
			if !c.Manual {
				s.Score++
			}
		case finding.CheckWarn:
			s.Warnings++
			if !c.Manual {
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

// benchmark writes the checks as a docker-bench-security user expects them:
// a header per section, one line per check with its status, the reason
// under checks that were not made or are left to a person, and the score.
func benchmark(bw *bufio.Writer, checks []finding.Check, color bool) {
	paint := func(s finding.CheckStatus, text string) string {
		if !color {
			return text
		}
		return checkColor[s] + text + colorReset
	}
	section := ""
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
		fmt.Fprintf(bw, "%s %-7s %-7s %s\n", paint(c.Status, status), id, c.RuleID, oneLine(title))
		if c.Note != "" && c.Status != finding.CheckPass {
			fmt.Fprintf(bw, "%s        * %s\n", paint(c.Status, status), oneLine(c.Note))
		}
	}
	s := ScoreChecks(checks)
	fmt.Fprintf(bw, "\nChecks: %d (passed %d, warnings %d, info %d, notes %d)\nScore: %d\n\n",
		s.Checks, s.Passed, s.Warnings, s.Info, s.Notes, s.Score)
}
