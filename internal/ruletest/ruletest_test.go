package ruletest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
)

// recorder keeps what the harness says instead of failing the test.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func got(path string, line int, id, msg string) Got {
	return Got{Path: path, Line: line, Finding: finding.Finding{RuleID: id, Message: msg}}
}

const sample = `# dockvet-test rules=DV1001,DV1003
FROM alpine
# want DV1003 "^` + "`sudo apk`" + `"
RUN sudo apk add x
# ok DV1003
RUN echo sudo
RUN a && \
  b
# want@-2 DV1001 "root" DV1001 "again"
image: x   # want DV1003 "trailing"
`

func parse(t *testing.T) *Case {
	t.Helper()
	c := &Case{}
	if err := c.Add("Dockerfile", []byte(sample)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParse(t *testing.T) {
	c := parse(t)
	var ws []string
	for _, w := range c.Wants {
		ws = append(ws, fmt.Sprintf("%d %s %s", w.Line, w.Rule, w.Msg))
	}
	want := "4 DV1003 ^`sudo apk`|7 DV1001 root|7 DV1001 again|10 DV1003 trailing"
	if g := strings.Join(ws, "|"); g != want {
		t.Errorf("wants %s\nwant     %s", g, want)
	}
	if len(c.OKs) != 1 || c.OKs[0].Line != 6 || c.OKs[0].Rule != "DV1003" {
		t.Errorf("oks %+v", c.OKs)
	}
	if c.Directive("rules") != "DV1001,DV1003" {
		t.Errorf("directive %q", c.Directive("rules"))
	}
}

func TestExact(t *testing.T) {
	all := []Got{
		got("Dockerfile", 4, "DV1003", "`sudo apk` runs as root."),
		got("Dockerfile", 7, "DV1001", "runs as root"),
		got("Dockerfile", 7, "DV1001", "root again"),
		got("Dockerfile", 10, "DV1003", "a trailing one"),
	}
	for _, tc := range []struct {
		name string
		got  []Got
		errs []string
	}{
		{"all found", all, nil},
		{"one missing", all[1:], []string{"Dockerfile:4 (Dockerfile:3): want DV1003 \"^`sudo apk`\", not reported"}},
		{"an extra finding", append(all[:4:4], got("Dockerfile", 6, "DV1003", "x")),
			[]string{`Dockerfile:6: unexpected DV1003 "x"`}},
		{"a wrong message", append([]Got{got("Dockerfile", 4, "DV1003", "sudo apk")}, all[1:]...),
			[]string{`Dockerfile:4: unexpected DV1003 "sudo apk"`,
				"Dockerfile:4 (Dockerfile:3): want DV1003 \"^`sudo apk`\"; its message was \"sudo apk\""}},
		{"reported twice, wanted once", append(all[:4:4], all[0]), []string{"Dockerfile:4: unexpected DV1003 \"`sudo apk` runs as root.\""}},
		{"another file", append(all[:4:4], got("ctx/.env", 4, "DV1003", "`sudo apk`")), []string{"ctx/.env:4: unexpected DV1003 \"`sudo apk`\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{}
			parse(t).Check(r, tc.got, nil)
			if strings.Join(r.errs, "\n") != strings.Join(tc.errs, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(r.errs, "\n"), strings.Join(tc.errs, "\n"))
			}
		})
	}
}

func TestRan(t *testing.T) {
	r := &recorder{}
	c := parse(t)
	c.Check(r, []Got{
		got("Dockerfile", 4, "DV1003", "`sudo apk`"), got("Dockerfile", 7, "DV1001", "root"),
		got("Dockerfile", 7, "DV1001", "again"), got("Dockerfile", 10, "DV1003", "trailing"),
	}, func(id string) bool { return id == "DV1001" })
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "DV1003, which did not run") {
		t.Errorf("errors %q", r.errs)
	}
}

func TestHeader(t *testing.T) {
	c := &Case{}
	if err := c.ParseHeader("case.txt", []byte("A host that fails.\n# want DV4101 \"/etc/fstab\"\n# ok DV4102\n")); err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	c.Check(r, Whole([]finding.Finding{{RuleID: "DV4101", Message: "no separate partition for /etc/fstab"}}), nil)
	if len(r.errs) != 0 || len(c.OKs) != 1 {
		t.Errorf("errors %q, oks %v", r.errs, c.OKs)
	}
}

func TestMalformed(t *testing.T) {
	for _, src := range []string{
		"# want DV1001\nFROM x\n",        // no message
		"# want DV1001 \"(\"\nFROM x\n",  // bad regexp
		"# want dv1001 \"x\"\nFROM x\n",  // not an ID
		"FROM x\n# want DV1001 \"x\"\n",  // applies to no line
		"# dockvet-test rules\nFROM x\n", // not key=value
	} {
		if err := (&Case{}).Add("f", []byte(src)); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
	if !Annotated([]byte("x\n  # ok DV1001\n")) || Annotated([]byte("# dockvet-test a=b\nhttp://want DV1001\n")) {
		t.Error("Annotated")
	}
}

func TestEmptyMessageRefused(t *testing.T) {
	for _, src := range []string{"# want DV1001 \".*\"\nFROM x\n", "# want DV1001 \"\"\nFROM x\n"} {
		if err := (&Case{}).Add("f", []byte(src)); err == nil || !strings.Contains(err.Error(), "empty message") {
			t.Errorf("%q: %v", src, err)
		}
	}
}

func TestOwnLineThenTrailing(t *testing.T) {
	c := &Case{}
	if err := c.Add("c.yaml", []byte("# ok DV3001\nprivileged: true   # want DV3002 \"x\"\n")); err != nil {
		t.Fatal(err)
	}
	if len(c.OKs) != 1 || c.OKs[0].Line != 2 || len(c.Wants) != 1 || c.Wants[0].Line != 2 {
		t.Errorf("oks %+v wants %+v", c.OKs, c.Wants)
	}
}
