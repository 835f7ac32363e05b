package report

import (
	"encoding/xml"
	"fmt"
	"io"

	"github.com/dockvet/dockvet/internal/finding"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes one test suite per target and one failed test case per
// finding, which CI systems show as a test report. A target without findings
// is one passing case, so a clean run is visible as passed tests, not as none.
func JUnit(w io.Writer, r *finding.Report, _ Options) error {
	out := junitSuites{Name: r.Tool.Name}
	targets, groups := byTarget(r)
	for _, t := range targets {
		s := junitSuite{Name: t.Name}
		for _, f := range groups[t] {
			name := f.RuleID + " " + f.Title
			if where := locationText(f); where != "" {
				name += " (" + where + ")"
			}
			text := fmt.Sprintf("%s\nSeverity: %s\nPractice: %s\nRemediation: %s", f.Message, f.Severity, f.Practice, f.Remediation)
			s.Cases = append(s.Cases, junitCase{Name: name, Classname: t.Name,
				Failure: &junitFailure{Message: f.Message, Type: f.Severity.String(), Text: text}})
			s.Failures++
		}
		if len(s.Cases) == 0 {
			s.Cases = append(s.Cases, junitCase{Name: "no findings", Classname: t.Name})
		}
		s.Tests = len(s.Cases)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Suites = append(out.Suites, s)
	}
	for _, e := range r.Errors {
		out.Suites = append(out.Suites, junitSuite{Name: e.Target, Tests: 1, Errors: 1, Cases: []junitCase{{
			Name: "audit", Classname: e.Target, Error: &junitFailure{Message: e.Message, Type: "error", Text: e.Message}}}})
		out.Tests++
		out.Errors++
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
