package shell

import (
	"path"
	"slices"
	"strings"
)

// shells run scripts; a download piped into one of these runs unreviewed
// code.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true}

// interpreters also run code read from standard input.
var interpreters = map[string]bool{"python": true, "python2": true, "python3": true, "perl": true, "ruby": true, "node": true, "php": true}

// IsShell reports whether name is a POSIX-style shell.
func IsShell(name string) bool { return shells[name] }

// IsInterpreter reports whether name runs code given on standard input: a
// shell or a scripting language.
func IsInterpreter(name string) bool {
	if shells[name] || interpreters[name] {
		return true
	}
	// python3.12, perl5.36, …
	for p := range interpreters {
		if strings.HasPrefix(name, p) && strings.Trim(name[len(p):], "0123456789.") == "" {
			return true
		}
	}
	return false
}

// Is reports whether the command is one of names.
func (c *Command) Is(names ...string) bool { return slices.Contains(names, c.Name) }

// Positional returns the arguments that are not options, dropping the values
// of options listed in valued ("-o", "--target-release"). Everything after
// "--" is positional.
func (c *Command) Positional(valued ...string) []string {
	var out []string
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		if a == "--" {
			return append(out, c.Args[i+1:]...)
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			if slices.Contains(valued, a) {
				i++
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// Subcommand is the first positional argument ("install" in
// `apt-get -y install x`), skipping the values of the options in valued.
func (c *Command) Subcommand(valued ...string) string {
	if p := c.Positional(valued...); len(p) > 0 {
		return p[0]
	}
	return ""
}

// Has reports whether any of the options is given. A long option matches
// "--opt" and "--opt=value"; a one-letter option "-y" also matches inside a
// bundle of short options ("-qy").
func (c *Command) Has(opts ...string) bool {
	for _, a := range c.Args {
		if a == "--" {
			return false
		}
		for _, o := range opts {
			if a == o || strings.HasPrefix(o, "--") && strings.HasPrefix(a, o+"=") {
				return true
			}
			if len(o) == 2 && o[0] == '-' && isShortBundle(a) && strings.ContainsRune(a[1:], rune(o[1])) {
				return true
			}
		}
	}
	return false
}

// isShortBundle reports whether a is a group of short options, "-qqy".
func isShortBundle(a string) bool {
	if len(a) < 2 || a[0] != '-' || a[1] == '-' {
		return false
	}
	for _, r := range a[1:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// Value returns the value of the first of the options given: "--opt=v",
// "--opt v", "-o v" or "-ov".
func (c *Command) Value(opts ...string) (string, bool) {
	for i, a := range c.Args {
		if a == "--" {
			break
		}
		for _, o := range opts {
			switch {
			case a == o && i+1 < len(c.Args):
				return c.Args[i+1], true
			case strings.HasPrefix(o, "--") && strings.HasPrefix(a, o+"="):
				return a[len(o)+1:], true
			case len(o) == 2 && !strings.HasPrefix(a, "--") && strings.HasPrefix(a, o) && len(a) > 2:
				return a[2:], true
			case len(o) == 2 && len(a) > 2 && a[0] == '-' && a[1] != '-':
				// In a bundle of short options the valued one takes the rest
				// of the word ("-qO-") or, last in the bundle, the next word
				// ("-fsSLo FILE").
				if v, ok := bundleValue(a, o[1], c.Args[i+1:]); ok {
					return v, true
				}
			}
		}
	}
	return "", false
}

func bundleValue(a string, opt byte, rest []string) (string, bool) {
	for j := 1; j < len(a); j++ {
		ch := a[j]
		if ch == opt {
			if j+1 < len(a) {
				return a[j+1:], true
			}
			if len(rest) > 0 {
				return rest[0], true
			}
			return "", false
		}
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z') {
			return "", false
		}
	}
	return "", false
}

// Wrapped reports whether the command was run through one of the wrappers.
func (c *Command) Wrapped(names ...string) bool {
	for _, w := range c.Wrappers {
		if slices.Contains(names, w) {
			return true
		}
	}
	return false
}

// Feeds reports whether any command matching pred feeds this one through a
// pipe or a substitution, directly or through intermediate commands
// (`curl | tee x | sh`).
//
// The walk keeps its own stack: a pipe of 20,000 stages is 20,000 links
// deep, and recursion would grow the goroutine stack with it.
func (c *Command) Feeds(pred func(*Command) bool) *Command {
	seen := map[*Command]bool{}
	stack := []*Command{c}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		// Pushed in reverse so the first source is visited first, as
		// a depth-first walk in source order.
		for _, list := range [][]*Command{x.Substituted, x.Upstream} {
			for i := len(list) - 1; i >= 0; i-- {
				if src := list[i]; !seen[src] {
					seen[src] = true
					stack = append(stack, src)
				}
			}
		}
		if x != c && pred(x) {
			return x
		}
	}
	return nil
}

// wrapperOpts lists, for each wrapper, the options that take a value, so the
// wrapped command is found after them.
var wrapperOpts = map[string][]string{
	"sudo":      {"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "--user", "--group", "--host", "--prompt", "--chdir", "--role", "--type", "--other-user", "--command-timeout", "--close-from"},
	"env":       {"-u", "-C", "-S", "--unset", "--chdir", "--split-string"},
	"nice":      {"-n", "--adjustment"},
	"ionice":    {"-c", "-n", "-p", "-P", "-u", "--class", "--classdata"},
	"nohup":     {},
	"time":      {"-f", "-o", "--format", "--output"},
	"command":   {},
	"exec":      {"-a"},
	"stdbuf":    {"-i", "-o", "-e"},
	"xargs":     {"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter", "--max-args", "--max-procs", "--max-lines"},
	"timeout":   {"-k", "-s", "--kill-after", "--signal"},
	"doas":      {"-u", "-C"},
	"chronic":   {},
	"eatmydata": {},
	"builtin":   {},
	"busybox":   {},
}

// userWrappers run their command as another user and take the user first.
var userWrappers = map[string]bool{"gosu": true, "su-exec": true}

// unwrap replaces a wrapper command by the command it runs, recording the
// wrapper. `sudo -E apt-get install x` becomes apt-get with Wrappers
// ["sudo"]; `env A=1 B=2 make` gets the assignments.
func unwrap(c *Command) {
	for range MaxDepth {
		var rest []string
		switch {
		case c.Name == "su":
			return // su -c "…" is handled as an inline script
		case userWrappers[c.Name]:
			if len(c.Args) < 2 {
				return
			}
			rest = c.Args[1:]
		case c.Name == "runuser":
			i := slices.Index(c.Args, "--")
			if i < 0 || i+1 >= len(c.Args) {
				return
			}
			rest = c.Args[i+1:]
		default:
			valued, ok := wrapperOpts[c.Name]
			if !ok {
				return
			}
			rest = afterOptions(c.Name, c.Args, valued, c)
			if c.Name == "timeout" && len(rest) > 0 {
				rest = rest[1:] // the duration
			}
		}
		if len(rest) == 0 {
			return
		}
		c.Wrappers = append(c.Wrappers, c.Name)
		c.Name, c.Args = path.Base(rest[0]), rest[1:]
	}
}

// afterOptions skips a wrapper's own options (and env's VAR=value words) and
// returns the wrapped command line.
func afterOptions(name string, args, valued []string, c *Command) []string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return args[i+1:]
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if slices.Contains(valued, a) {
				i++
			}
		case name == "env" && strings.Contains(a, "=") && !strings.HasPrefix(a, "="):
			k, v, _ := strings.Cut(a, "=")
			c.Assigns = append(c.Assigns, Assign{Name: k, Value: v})
		default:
			return args[i:]
		}
	}
	return nil
}

// inlineScript returns the script a command runs from its arguments:
// `sh -c SCRIPT`, `bash -lc SCRIPT`, `su -c SCRIPT`, `eval WORDS`.
func inlineScript(name string, args []string) (string, bool) {
	switch {
	case name == "eval":
		return strings.Join(args, " "), len(args) > 0
	case IsShell(name) || name == "su":
		for i, a := range args {
			if a == "-c" || isShortBundle(a) && strings.HasSuffix(a, "c") || a == "--command" {
				if i+1 < len(args) {
					return args[i+1], true
				}
			}
		}
	}
	return "", false
}

// FedBy answers c.Feeds(pred) for the commands of one script, remembering
// each command's answer: a rule that asks it of every command of a pipe of
// n stages follows n links in all, not n² (a RUN of 20,000 piped `sh -c`
// stages asked Feeds of each). The answer is the one Feeds gives: the first
// source matching pred, depth first, Upstream before Substituted. The walk
// keeps its own stack, as Feeds does.
func FedBy(pred func(*Command) bool) func(*Command) *Command {
	type frame struct {
		c    *Command
		srcs []*Command
		i    int
	}
	memo := map[*Command]*Command{}
	done := map[*Command]bool{}
	open := map[*Command]bool{}
	sources := func(c *Command) []*Command {
		return append(slices.Clip(c.Upstream), c.Substituted...)
	}
	return func(c *Command) *Command {
		if done[c] {
			return memo[c]
		}
		stack := []frame{{c: c, srcs: sources(c)}}
		open[c] = true
		resolve := func(v *Command) {
			f := stack[len(stack)-1]
			memo[f.c], done[f.c], open[f.c] = v, true, false
			stack = stack[:len(stack)-1]
		}
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.i == len(f.srcs) {
				resolve(nil)
				continue
			}
			s := f.srcs[f.i]
			switch {
			case pred(s):
				resolve(s)
			case done[s] && memo[s] != nil:
				resolve(memo[s])
			case done[s] || open[s]:
				f.i++
			default:
				open[s] = true
				stack = append(stack, frame{c: s, srcs: sources(s)})
			}
		}
		return memo[c]
	}
}
