// Package ruletest is the one test harness for dockvet's rules, on every
// surface, in the manner of golang.org/x/tools' analysistest: a test case
// is an input in the surface's own form (a Dockerfile, a Compose file, a
// script, an image description, a fixture host, a sequence of Engine
// events, a text file for the secret engine) carrying annotations, and the
// test fails on every finding that is not wanted and every want that is
// not found, messages included.
//
// Annotations follow a comment marker (`#` or `//`):
//
//	want DV1001 "runs as root"          a finding of DV1001 whose message
//	                                    matches the regular expression
//	want DV1040 "AWS" DV1041 "token"    several on one line
//	ok DV1003                           a negative case: this line must not
//	                                    get DV1003 (a place a naive rule
//	                                    would flag)
//	dockvet-test key=value              a directive for the surface's test
//
// An annotation that is a line of its own applies to the next line that is
// neither blank nor an annotation; one at the end of a line applies to that line; `want@-2`
// applies two lines above (a shell line ending in a backslash cannot carry
// a comment). Annotations in a case header (ParseHeader: a txtar comment,
// a fixture host's case.txt) apply to the case as a whole: line 0, for
// findings that have no line in the case (a host, an event).
//
// Every want consumes exactly one finding, so a finding reported twice
// needs two wants. Messages are regular expressions, matched anywhere in
// the message (anchor them with ^ and $ to pin a whole message).
package ruletest

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/txtar"

	"github.com/dockvet/dockvet/internal/finding"
)

// Want is one expected finding.
type Want struct {
	Path string
	Line int
	Rule string
	Msg  *regexp.Regexp
	// At is where the annotation was written, for error messages.
	At string
}

// OK is one negative case: rule Rule must not be reported at Path:Line.
type OK struct {
	Path string
	Line int
	Rule string
	At   string
}

// Case is the annotations of one test case, over all its files.
type Case struct {
	Wants []Want
	OKs   []OK
	// Directives are the `dockvet-test key=value` lines, in order.
	Directives map[string][]string
}

// Directive returns the last value of a directive, or "".
func (c *Case) Directive(key string) string {
	if v := c.Directives[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// Rules are the rule IDs the case names, wanted or ok.
func (c *Case) Rules() []string {
	var out []string
	for _, w := range c.Wants {
		out = append(out, w.Rule)
	}
	for _, o := range c.OKs {
		out = append(out, o.Rule)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var (
	markerRe = regexp.MustCompile(`(?:^|\s)(?:#|//)\s*(want(?:@[+-]\d+)?|ok|dockvet-test)\s+(.*)$`)
	ruleIDRe = regexp.MustCompile(`^[A-Z]{2}\d{4}$`)
)

// ParseFile reads the annotations of one file of a case; path is the name
// findings give the file (Location.Path).
func ParseFile(path string) (*Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &Case{}
	return c, c.Add(path, data)
}

// Add reads the line-attached annotations of one more file of the case.
func (c *Case) Add(path string, data []byte) error {
	lines := strings.Split(string(data), "\n")
	var pending []func(line int)
	for i, l := range lines {
		n := i + 1
		m := markerRe.FindStringSubmatchIndex(l)
		if m == nil {
			if strings.TrimSpace(l) == "" {
				continue // an annotation applies to the next line with content
			}
			for _, p := range pending {
				p(n)
			}
			pending = nil
			continue
		}
		kind, rest := l[m[2]:m[3]], l[m[4]:m[5]]
		ownLine := strings.TrimSpace(l[:m[0]]) == ""
		if !ownLine {
			// A line with content and a trailing annotation is still the
			// line that annotations above it point at.
			for _, p := range pending {
				p(n)
			}
			pending = nil
		}
		at := fmt.Sprintf("%s:%d", path, n)
		attach := func(f func(line int)) {
			if ownLine {
				pending = append(pending, f)
			} else {
				f(n)
			}
		}
		if strings.HasPrefix(kind, "want@") {
			off, _ := strconv.Atoi(kind[len("want@"):])
			kind, ownLine = "want", false
			n += off
		}
		if err := c.annotate(path, kind, rest, at, attach); err != nil {
			return err
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("%s: annotation at the end of the file applies to no line", path)
	}
	return nil
}

// ParseHeader reads annotations that apply to a case as a whole (line 0):
// the comment of a txtar archive, a fixture host's case.txt. Lines without
// an annotation are the case's description.
func (c *Case) ParseHeader(name string, text []byte) error {
	for i, l := range strings.Split(string(text), "\n") {
		m := markerRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if strings.HasPrefix(m[1], "want@") {
			return fmt.Errorf("%s:%d: a case header has no lines to point at", name, i+1)
		}
		at := fmt.Sprintf("%s:%d", name, i+1)
		if err := c.annotate("", m[1], m[2], at, func(f func(int)) { f(0) }); err != nil {
			return err
		}
	}
	return nil
}

// Names returns the rule IDs that data's annotations want and declare ok,
// wherever they point: what the catalog test counts.
func Names(data []byte) (want, ok []string, err error) {
	c := &Case{}
	for i, l := range strings.Split(string(data), "\n") {
		m := markerRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		kind, _, _ := strings.Cut(m[1], "@")
		if err := c.annotate("", kind, m[2], fmt.Sprintf("line %d", i+1), func(f func(int)) { f(0) }); err != nil {
			return nil, nil, err
		}
	}
	for _, w := range c.Wants {
		want = append(want, w.Rule)
	}
	for _, o := range c.OKs {
		ok = append(ok, o.Rule)
	}
	return want, ok, nil
}

func (c *Case) annotate(path, kind, rest, at string, attach func(func(int))) error {
	switch kind {
	case "dockvet-test":
		for _, kv := range strings.Fields(rest) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("%s: directive %q is not key=value", at, kv)
			}
			if c.Directives == nil {
				c.Directives = map[string][]string{}
			}
			c.Directives[k] = append(c.Directives[k], v)
		}
	case "ok":
		for _, id := range strings.Fields(rest) {
			if !ruleIDRe.MatchString(id) {
				return fmt.Errorf("%s: ok %q is not a rule ID", at, id)
			}
			attach(func(line int) { c.OKs = append(c.OKs, OK{Path: path, Line: line, Rule: id, At: at}) })
		}
	default:
		wants, err := parseWants(rest)
		if err != nil {
			return fmt.Errorf("%s: %v", at, err)
		}
		for _, w := range wants {
			w.Path, w.At = path, at
			attach(func(line int) { w.Line = line; c.Wants = append(c.Wants, w) })
		}
	}
	return nil
}

// parseWants reads `ID "regexp" ID "regexp"…`.
func parseWants(s string) ([]Want, error) {
	var out []Want
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		id, rest, _ := strings.Cut(s, " ")
		if !ruleIDRe.MatchString(id) {
			return nil, fmt.Errorf("want %q is not a rule ID", id)
		}
		rest = strings.TrimSpace(rest)
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return nil, fmt.Errorf("want %s needs a quoted message regexp", id)
		}
		pat, _ := strconv.Unquote(q)
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("want %s: %v", id, err)
		}
		if re.MatchString("") {
			// ".*" or "" would accept any message: say what the message is.
			return nil, fmt.Errorf("want %s: the message regexp %q matches the empty message", id, pat)
		}
		out = append(out, Want{Rule: id, Msg: re})
		s = rest[len(q):]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("want names no rule")
	}
	return out, nil
}

// Got is a finding placed in the case: the file and line of the case it
// belongs to (0 for the case as a whole).
type Got struct {
	Path string
	Line int
	finding.Finding
}

// At places findings by their own location: Location.Path and Line.
func At(fs []finding.Finding) []Got {
	out := make([]Got, len(fs))
	for i, f := range fs {
		out[i] = Got{Path: f.Location.Path, Line: f.Location.Line, Finding: f}
	}
	return out
}

// Whole places findings at the case as a whole (line 0).
func Whole(fs []finding.Finding) []Got {
	out := make([]Got, len(fs))
	for i, f := range fs {
		out[i] = Got{Finding: f}
	}
	return out
}

// TB is the part of testing.TB the harness uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Check compares what was reported with the case: every finding must be
// wanted where it is, with a matching message, and every want found. ran,
// when not nil, says which rules ran on the case: an annotation naming a
// rule that did not run proves nothing and is an error.
func (c *Case) Check(t TB, got []Got, ran func(id string) bool) {
	t.Helper()
	used := make([]bool, len(c.Wants))
	for _, g := range got {
		i := slices.IndexFunc(c.Wants, func(w Want) bool {
			return w.Path == g.Path && w.Line == g.Line && w.Rule == g.RuleID && w.Msg.MatchString(g.Message)
		})
		for i >= 0 && used[i] {
			j := slices.IndexFunc(c.Wants[i+1:], func(w Want) bool {
				return w.Path == g.Path && w.Line == g.Line && w.Rule == g.RuleID && w.Msg.MatchString(g.Message)
			})
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i < 0 {
			t.Errorf("%s: unexpected %s %q", where(g.Path, g.Line), g.RuleID, g.Message)
			continue
		}
		used[i] = true
	}
	for i, w := range c.Wants {
		if used[i] {
			continue
		}
		var near []string
		for _, g := range got {
			if g.Path == w.Path && g.Line == w.Line && g.RuleID == w.Rule {
				near = append(near, strconv.Quote(g.Message))
			}
		}
		if len(near) > 0 {
			t.Errorf("%s (%s): want %s %q; its message was %s", where(w.Path, w.Line), w.At, w.Rule, w.Msg, strings.Join(near, ", "))
		} else {
			t.Errorf("%s (%s): want %s %q, not reported", where(w.Path, w.Line), w.At, w.Rule, w.Msg)
		}
	}
	for _, o := range c.OKs {
		if slices.ContainsFunc(c.Wants, func(w Want) bool { return w.Path == o.Path && w.Line == o.Line && w.Rule == o.Rule }) {
			t.Errorf("%s: %s is both wanted and ok", o.At, o.Rule)
		}
	}
	if ran != nil {
		for _, id := range c.Rules() {
			if !ran(id) {
				t.Errorf("the case names %s, which did not run on it", id)
			}
		}
	}
}

func where(path string, line int) string {
	switch {
	case path == "" && line == 0:
		return "case"
	case line == 0:
		return path
	}
	return fmt.Sprintf("%s:%d", path, line)
}

// Annotated reports whether data holds an annotation, so that a surface's
// test can make sure it runs every annotated file under its testdata.
func Annotated(data []byte) bool {
	for _, l := range bytes.Split(data, []byte("\n")) {
		if m := markerRe.FindSubmatch(l); m != nil && !bytes.Equal(m[1], []byte("dockvet-test")) {
			return true
		}
	}
	return false
}

// ParseArchive reads a case written as a txtar archive: its comment holds
// the annotations, for the case as a whole, and its files are the inputs
// (an Engine event and the inspect data it leads to, a host's answers).
func ParseArchive(path string) (*Case, *txtar.Archive, error) {
	a, err := txtar.ParseFile(path)
	if err != nil {
		return nil, nil, err
	}
	c := &Case{}
	if err := c.ParseHeader(path, a.Comment); err != nil {
		return nil, nil, err
	}
	return c, a, nil
}

// RequireRun fails for every annotated file under dir that is not among
// ran (slash-separated paths as the walk gives them): an annotated case
// that no test runs would count as coverage in the catalog test while
// proving nothing.
func RequireRun(t interface {
	TB
	Fatal(args ...any)
}, dir string, ran []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if Annotated(data) && !slices.Contains(ran, filepath.ToSlash(p)) {
			t.Errorf("%s: annotated, but no test runs it", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
