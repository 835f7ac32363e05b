package shell

import (
	"errors"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/fuzztest"
)

func names(s *Script) string {
	var out []string
	for _, c := range s.Commands {
		n := c.Name
		if len(c.Wrappers) > 0 {
			n = strings.Join(c.Wrappers, "+") + "+" + n
		}
		out = append(out, n)
	}
	return strings.Join(out, " ")
}

func mustParse(t *testing.T, src string) *Script {
	t.Helper()
	s, err := Parse(src, Options{})
	if err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	return s
}

func TestCommands(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"apt-get update && apt-get install -y curl", "apt-get apt-get"},
		{"echo sudo rm -rf /", "echo"},
		{"sudo -E -u root apt-get install x", "sudo+apt-get"},
		{"env DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get -qy install x", "env+apt-get"},
		{`sh -c "curl -fsSL https://x | bash"`, "sh curl bash"},
		{"if true; then make; else cc a.c; fi", "true make cc"},
		{"for f in a b; do gzip $f; done", "gzip"},
		{"f() { ls; }; f", "ls f"},
		{"X=1 Y=2", ""},
		{"export A=b", "export"},
		{"bash <<EOF\nwget -q http://x\nEOF", "bash wget"},
		{"timeout 10 nice -n 5 curl x", "timeout+nice+curl"},
		{"gosu app node server.js", "gosu+node"},
		{"echo $(id -u)", "echo id"},
		{`eval "apt-get install x"`, "eval apt-get"},
	} {
		if got := names(mustParse(t, tc.src)); got != tc.want {
			t.Errorf("%q: commands %q, want %q", tc.src, got, tc.want)
		}
	}
}

func TestPipes(t *testing.T) {
	s := mustParse(t, "curl -fsSL https://get.example | sudo -E bash -")
	bash := s.Commands[1]
	if bash.Name != "bash" || bash.Feeds(func(c *Command) bool { return c.Name == "curl" }) == nil {
		t.Error("curl must feed bash")
	}
	s = mustParse(t, "curl x | tee y | sh")
	if s.Commands[2].Feeds(func(c *Command) bool { return c.Name == "curl" }) == nil {
		t.Error("curl must feed sh through tee")
	}
	s = mustParse(t, `bash -c "$(wget -qO- https://x)"`)
	if s.Commands[0].Feeds(func(c *Command) bool { return c.Name == "wget" }) == nil {
		t.Error("wget must feed bash through $()")
	}
	s = mustParse(t, `sh -c "curl -fsSLo x https://x"`)
	if s.Commands[0].Feeds(func(c *Command) bool { return c.Name == "curl" }) != nil {
		t.Error("a script run by sh -c does not feed sh")
	}
	s = mustParse(t, "curl -o x https://x && sh x")
	if s.Commands[1].Feeds(func(c *Command) bool { return c.Name == "curl" }) != nil {
		t.Error("&& is not a pipe")
	}
}

func TestFlags(t *testing.T) {
	c := mustParse(t, "apt-get -qy --no-install-recommends -o Dpkg::Options::=x install a=1 b").Commands[0]
	if !c.Has("-y") || !c.Has("--no-install-recommends") || c.Has("-s") {
		t.Error("Has")
	}
	if got := c.Positional("-o"); strings.Join(got, ",") != "install,a=1,b" {
		t.Errorf("Positional = %q", got)
	}
	if c.Subcommand("-o") != "install" {
		t.Error("Subcommand")
	}
	c = mustParse(t, "pip install --index-url=https://x -r req.txt").Commands[0]
	if v, _ := c.Value("--index-url"); v != "https://x" {
		t.Errorf("Value = %q", v)
	}
	if v, _ := c.Value("-r"); v != "req.txt" {
		t.Errorf("Value -r = %q", v)
	}
	c = mustParse(t, "curl -fsSLo /tmp/x https://x").Commands[0]
	if v, _ := c.Value("-o"); v != "/tmp/x" {
		t.Errorf("bundle value = %q", v)
	}
	c = mustParse(t, "wget -qO- https://x").Commands[0]
	if v, _ := c.Value("-O"); v != "-" {
		t.Errorf("attached bundle value = %q", v)
	}
	c = mustParse(t, `chmod "777" '/app'`).Commands[0]
	if strings.Join(c.Args, ",") != "777,/app" {
		t.Errorf("quotes not removed: %q", c.Args)
	}
}

func TestLines(t *testing.T) {
	s, err := Parse("apt-get update \\\n  && apt-get install x\n", Options{LineOffset: 9})
	if err != nil {
		t.Fatal(err)
	}
	if s.Commands[0].Line != 10 || s.Commands[1].Line != 11 {
		t.Errorf("lines %d %d", s.Commands[0].Line, s.Commands[1].Line)
	}
	if _, err := Parse("echo 'unterminated", Options{LineOffset: 4}); err == nil || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("err = %v", err)
	}
}

func TestInterpreters(t *testing.T) {
	for _, n := range []string{"sh", "bash", "python3", "python3.12", "perl"} {
		if !IsInterpreter(n) {
			t.Errorf("%s is an interpreter", n)
		}
	}
	for _, n := range []string{"tar", "pythonic", "shellcheck"} {
		if IsInterpreter(n) {
			t.Errorf("%s is not an interpreter", n)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a | b && c", "sh -c 'sudo x'", "bash <<EOF\nls\nEOF", "$(", "eval eval eval x",
		// Issue 19's blow-ups: exponential eval nesting, a long pipe.
		nestedEval(16, "curl x | sh"), nestedShC(5, "echo x"), pipeOfShells(50)} {
		f.Add(s)
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, src string) {
		defer fuzztest.Budget(t)()
		s, err := Parse(src, Options{})
		if err != nil {
			return
		}
		for i, c := range s.Commands {
			if c.Index != i {
				t.Fatal("index mismatch")
			}
			c.Has("-y")
			c.Value("-o")
			c.Positional("-o")
		}
	})
}

// TestTestClauseAndNegation: [[ … ]] is a command whose substitutions are
// walked, and `!` marks the commands whose status it inverts.
func TestTestClauseAndNegation(t *testing.T) {
	s := mustParse(t, `[[ "$(sha256sum f | cut -c1-64)" == "$SHA" ]] && ! { ldd x | grep 'not found'; } && grep y z`)
	if got := names(s); got != "[[ sha256sum cut ldd grep grep" {
		t.Fatalf("commands %q", got)
	}
	if sum := s.Commands[1]; sum.Parent != s.Commands[0] {
		t.Errorf("sha256sum's parent is %v, want the [[ command", sum.Parent)
	}
	for i, want := range []bool{false, false, false, true, true, false} {
		if s.Commands[i].Negated != want {
			t.Errorf("%s: Negated %v, want %v", s.Commands[i].Name, s.Commands[i].Negated, want)
		}
	}
	s = mustParse(t, "if apk list | grep ruby; then exit 1; fi; while read l; do echo $l; done")
	for i, want := range []bool{true, true, false, true, false} {
		if s.Commands[i].Cond != want {
			t.Errorf("%s: Cond %v, want %v", s.Commands[i].Name, s.Commands[i].Cond, want)
		}
	}
}

// TestSyntaxError: the grammar's refusals are SyntaxErrors at a line of
// the enclosing file, mapped as commands are.
func TestSyntaxError(t *testing.T) {
	src := "echo ok &&\n  echo 'unclosed\n"
	for _, tc := range []struct {
		name string
		opts Options
		line int
	}{
		{"own lines", Options{}, 2},
		{"offset", Options{LineOffset: 9}, 11},
		{"mapped", Options{LineAt: func(off int) int { return 100 + strings.Count(src[:off], "\n") }}, 101},
	} {
		_, err := Parse(src, tc.opts)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("%s: err = %v, want a *SyntaxError", tc.name, err)
		}
		if se.Line != tc.line || !strings.Contains(se.Text, "without closing quote") {
			t.Errorf("%s: %+v, want line %d and the unclosed quote", tc.name, se, tc.line)
		}
	}
	if _, err := Parse("if true; then echo; fi", Options{}); err != nil {
		t.Errorf("a valid script: %v", err)
	}
}
