package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitFailure   `xml:"failure,omitempty"`
	Error      *junitFailure   `xml:"error,omitempty"`
	Skipped    *junitSkipped   `xml:"skipped,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// JUnit writes one test suite per target and one test case per finding,
// which CI systems show as a test report. A finding at or above --fail-on
// is a failure; the others are passed cases that carry the finding in
// their properties and output, so the report fails exactly when the run
// does. A target without findings is one passing case, so a clean run is
// visible as passed tests. The host benchmark is a suite of its own, one
// case per check, with the score in its properties.
func JUnit(w io.Writer, r *finding.Report, o Options) error {
	out := junitSuites{Name: r.Tool.Name}
	fails := func(s finding.Severity) bool { return o.FailOn != 0 && s >= o.FailOn }
	targets, groups := byTarget(r)
	for _, t := range targets {
		s := junitSuite{Name: t.Name}
		for _, f := range groups[t] {
			name := f.RuleID + " " + f.Title
			if where := locationText(f); where != "" {
				name += " (" + where + ")"
			}
			text := fmt.Sprintf("%s\nSeverity: %s\nPractice: %s\nRemediation: %s", f.Message, f.Severity, f.Practice, f.Remediation)
			c := junitCase{Name: name, Classname: t.Name, Properties: findingProperties(f)}
			if fails(f.Severity) {
				c.Failure = &junitFailure{Message: f.Message, Type: f.Severity.String(), Text: text}
				s.Failures++
			} else {
				c.SystemOut = text
			}
			s.Cases = append(s.Cases, c)
		}
		if len(s.Cases) == 0 {
			s.Cases = append(s.Cases, junitCase{Name: "no findings", Classname: t.Name})
		}
		out.add(s)
	}
	if len(r.Checks) > 0 {
		out.add(benchmarkSuite(r, fails))
	}
	for _, e := range r.Errors {
		out.add(junitSuite{Name: e.Target, Errors: 1, Cases: []junitCase{{
			Name: "audit", Classname: e.Target, Error: &junitFailure{Message: e.Message, Type: "error", Text: e.Message}}}})
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

func (out *junitSuites) add(s junitSuite) {
	s.Tests = len(s.Cases)
	out.Tests += s.Tests
	out.Failures += s.Failures
	out.Errors += s.Errors
	out.Skipped += s.Skipped
	out.Suites = append(out.Suites, s)
}

func findingProperties(f finding.Finding) []junitProperty {
	ps := []junitProperty{{"ruleId", f.RuleID}, {"severity", f.Severity.String()}, {"practice", string(f.Practice)}}
	if f.CIS != "" {
		ps = append(ps, junitProperty{"cis", f.CIS})
	}
	if v := f.Vulnerability; v != nil {
		ps = append(ps, junitProperty{"vulnerability", v.ID}, junitProperty{"package", v.Package + " " + v.Installed})
	}
	return ps
}

// benchmarkSuite is the CIS table as test cases: a WARN fails when one of
// its findings reaches --fail-on, a check not made is skipped with the
// reason, a manual one passes with what to look at.
func benchmarkSuite(r *finding.Report, fails func(finding.Severity) bool) junitSuite {
	worst := map[string]finding.Severity{}
	for _, f := range r.Findings {
		worst[f.RuleID] = max(worst[f.RuleID], f.Severity)
	}
	sc := ScoreChecks(r.Checks)
	s := junitSuite{Name: "CIS Docker Benchmark 1.6.0", Properties: []junitProperty{
		{"score", fmt.Sprint(sc.Score)}, {"scoreExplained", sc.ScoreText()},
		{"passed", fmt.Sprint(sc.Passed)}, {"warnings", fmt.Sprint(sc.Warnings)}, {"info", fmt.Sprint(sc.Info)}, {"notes", fmt.Sprint(sc.Notes)},
	}}
	for _, c := range r.Checks {
		id := c.CIS
		if id == "" {
			id = c.RuleID
		}
		tc := junitCase{Name: id + " " + c.Title, Classname: c.Section,
			Properties: []junitProperty{{"status", strings.ToUpper(c.Status.String())}, {"ruleId", c.RuleID}}}
		switch c.Status {
		case finding.CheckWarn:
			msg := "WARN: " + c.Title
			if c.Note != "" {
				msg += " — " + c.Note
			}
			if fails(worst[c.RuleID]) {
				tc.Failure = &junitFailure{Message: msg, Type: worst[c.RuleID].String(), Text: msg}
				s.Failures++
			} else {
				tc.SystemOut = msg
			}
		case finding.CheckInfo:
			tc.Skipped = &junitSkipped{Message: c.Note}
			s.Skipped++
		default:
			tc.SystemOut = strings.ToUpper(c.Status.String()) + ": " + c.Note
		}
		s.Cases = append(s.Cases, tc)
	}
	return s
}
