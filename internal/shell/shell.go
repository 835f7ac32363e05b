// Package shell turns shell source (a Dockerfile RUN, a script, a CI step)
// into the simple commands it runs, with their arguments, pipes and nesting,
// using a real shell parser. Rules then ask "is apt-get run without -y?" or
// "does curl feed a shell?" about commands, never about substrings, so
// `echo sudo` is not sudo and `curl … | sudo -E bash -` is still a pipe to a
// shell.
package shell

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"
)

// Command is one simple command, after unwrapping prefixes that run another
// command (sudo, env, nice, xargs, …).
type Command struct {
	// Name is the program, without its directory: "apt-get" for
	// /usr/bin/apt-get. Empty for a statement of assignments only.
	Name string
	// Args are the arguments after Name. Quoting is removed; expansions
	// ($X, $(…)) are kept as written, so a rule can tell a literal from a
	// value only known at run time.
	Args []string
	// Assigns are the VAR=value prefixes (and the names set by export).
	Assigns []Assign
	// Line and Col are 1-based, relative to the parsed source.
	Line, Col int
	// Wrappers are the prefixes that were removed, outermost first
	// ("sudo", "env", …).
	Wrappers []string
	// Upstream are the commands whose output is piped into this one.
	Upstream []*Command
	// Substituted are commands whose output became part of this command's
	// arguments or input: $(…), `…`, <(…).
	Substituted []*Command
	// Parent is the command this one is nested in: the shell of `sh -c`,
	// the command whose argument held a $(…).
	Parent *Command
	// Redirects are the redirections of the statement ("> /dev/null").
	Redirects []Redirect
	// Index is the position of the command in Script.Commands.
	Index int
	// Negated is true for a command in a statement whose status `!`
	// inverts (`! grep x f`, `! { a | grep x; }`); Cond for one in the
	// condition of an if, while or until, whose status picks a branch.
	Negated, Cond bool
}

// Assign is one VAR=value.
type Assign struct {
	Name, Value string
}

// Redirect is one redirection: Op is its operator (">", ">>", "<", "<<",
// "2>", …), Target the word it points at.
type Redirect struct {
	Op, Target string
}

// Script is a parsed shell source.
type Script struct {
	// Commands lists every simple command in source order, nested ones
	// (sh -c, $(…), here-document scripts) included after their parent.
	Commands []*Command
	// Limit, when set, says which budget stopped the walk and that the
	// rest of the source was not analysed ("command nesting exceeds 8
	// levels (shell.MaxDepth); …"). The commands before it are complete.
	Limit string
}

// Options change how a source is parsed.
type Options struct {
	// LineOffset is added to every line number (the line of the source's
	// first line in the enclosing file, minus one).
	LineOffset int
	// LineAt, when set, maps a byte offset of the source to a line of the
	// enclosing file; it wins over LineOffset. A Dockerfile RUN is parsed as
	// BuildKit joined it, and LineAt maps back to its physical lines.
	LineAt func(offset int) int
}

// Parse parses shell source. Bash syntax is accepted, since it is a superset
// of what Dockerfiles and CI files use.
func Parse(src string, opts Options) (*Script, error) {
	if limit := tooBig(src); limit != "" {
		// Not handed to the parser at all: it recurses once per level of
		// nesting and builds a tree of every command before the walk
		// could stop at MaxCommands.
		return &Script{Limit: limit + "; it was not analysed"}, nil
	}
	parser := parsers.Get().(*syntax.Parser)
	defer parsers.Put(parser)
	f, err := parser.Parse(strings.NewReader(src), "")
	if err != nil {
		return nil, cleanError(err, opts)
	}
	w := &walker{opts: opts, script: &Script{}, budget: &budget{parser: parser}}
	w.stmts(f.Stmts, nil, 0)
	for i, c := range w.script.Commands {
		c.Index = i
	}
	w.script.Limit = w.budget.limit
	return w.script, nil
}

// parsers are reused: a Parser carries a read buffer of several kilobytes,
// and a thousand Dockerfiles parse thousands of RUN lines. Reuse is safe
// once a Parse is done: each Parse starts new node batches, so the trees
// already returned are never written again.
var parsers = sync.Pool{New: func() any { return syntax.NewParser(syntax.Variant(syntax.LangBash)) }}

// SyntaxError is a script the shell grammar refuses: a shell would stop
// there too. Line is a line of the enclosing file, mapped as the walk maps
// commands (Options.LineAt, else LineOffset).
type SyntaxError struct {
	Line int
	Text string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("shell syntax error at line %d: %s", e.Line, e.Text)
}

// cleanError drops the parser's file name and maps its position. An error
// that is not the grammar's (a construct the parser does not support) is
// not a SyntaxError: the script may well be valid.
func cleanError(err error, opts Options) error {
	if pe, ok := err.(syntax.ParseError); ok {
		line := int(pe.Pos.Line()) + opts.LineOffset
		if opts.LineAt != nil {
			line = opts.LineAt(int(pe.Pos.Offset()))
		}
		return &SyntaxError{Line: line, Text: pe.Text}
	}
	return fmt.Errorf("shell syntax error: %v", err)
}

// MaxDepth bounds nesting: $(…) in $(…), and scripts run by a command of
// a script (sh -c "sh -c …", eval, a here-document given to a shell),
// counted together. Real RUN lines and scripts nest two or three levels;
// eight leaves room for generated ones while a hostile `eval "$(eval
// "$(…)")"` chain costs at most eight passes over its text.
const MaxDepth = 8

// MaxCommands bounds the commands of one Script. The longest real RUN
// lines and CI scripts hold hundreds; 100,000 is linear input of a few
// megabytes and keeps a Script's memory near 50 MiB.
const MaxCommands = 100_000

// MaxInlineBytes bounds the text re-parsed as scripts of their own
// (sh -c, eval, here-documents given to a shell) in one Parse. With
// MaxDepth that text is at most a few times the source; the fixed bound
// holds whatever the shape of the nesting.
const MaxInlineBytes = 4 << 20

// MaxNesting bounds the syntactic nesting of a source handed to the
// parser: brackets, braces and compound commands opened inside one
// another. The parser and printer recurse once per level, and the
// collector rescans the whole stack at every cycle: 300 KB of `$($($(…`
// 100,000 deep took 38 s and 400 MiB, 3 MB exhausted the stack. Real
// scripts nest a handful of levels.
const MaxNesting = 500

// tooBig says which budget src breaks before it is parsed, or "": its
// nesting (MaxNesting) or its commands (twice MaxCommands: the walk stops
// at MaxCommands, but the parser would hold a tree of all of them — 290
// MiB for 500,000 `true &&`). Parse asks it of the whole source: a script
// it re-parses (sh -c, eval, a here-document) is text of the source with
// quotes removed, so never deeper nor with more separators.
func tooBig(src string) string {
	nest, seps := shape(src)
	switch {
	case nest > MaxNesting:
		return fmt.Sprintf("the script nests up to %d levels (shell.MaxNesting is %d)", nest, MaxNesting)
	case seps > 2*MaxCommands:
		return fmt.Sprintf("the script holds about %d commands (shell.MaxCommands is %d)", seps, MaxCommands)
	}
	return ""
}

// shape bounds src's nesting depth and counts what can separate commands,
// in one pass. An opening bracket or brace, or a word that opens a
// compound command (if, case, for, while, until, select), goes one level
// in, its closer one level out; ';', '&', '|' and line ends separate.
// Quoted text is counted too, which can only overestimate.
func shape(src string) (nest, seps int) {
	depth := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '(', '{':
			depth++
			nest = max(nest, depth)
		case ')', '}':
			depth = max(depth-1, 0)
		case ';', '&', '|', '\n':
			seps++
			if (c == '&' || c == '|') && i+1 < len(src) && src[i+1] == c {
				i++ // && and || separate once
			}
		default:
			if c < 'a' || c > 'w' || i > 0 && wordByte(src[i-1]) {
				continue
			}
			j := i
			for j < len(src) && wordByte(src[j]) {
				j++
			}
			switch src[i:j] {
			case "if", "case", "for", "while", "until", "select":
				depth++
				nest = max(nest, depth)
			case "fi", "esac", "done":
				depth = max(depth-1, 0)
			}
			i = j - 1
		}
	}
	return nest, seps
}

func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// substPlaceholder stands for a $(…) or <(…) of the outer shell in the
// text of a script it hands to sh -c or eval: the outer shell runs the
// substitution (it is walked once, as the outer command's Substituted)
// and the inner script sees only its output. Re-parsing the substitution
// as inner code would walk it twice at every level, 2^depth times in all.
const substPlaceholder = "__dockvet_substitution__"

// budget is shared by a Parse and the scripts it re-parses.
type budget struct {
	commands, inline int
	limit            string
	// parser is reused for every script re-parsed (a Parser may be, once
	// done): a new one per `sh -c` is a 2.5 KiB buffer each, 50 MiB for a
	// RUN of 20,000 of them.
	parser *syntax.Parser
}

func (b *budget) stop(format string, args ...any) {
	if b.limit == "" {
		b.limit = fmt.Sprintf(format, args...) + "; the rest was not analysed"
	}
}

type walker struct {
	opts   Options
	script *Script
	budget *budget
}

// deeper reports whether a nesting one level below depth may be walked,
// and records the limit when it may not.
func (w *walker) deeper(depth int) bool {
	if depth+1 >= MaxDepth {
		w.budget.stop("command nesting exceeds %d levels (shell.MaxDepth)", MaxDepth)
		return false
	}
	return true
}

// stmts walks a statement list and returns every command in it.
func (w *walker) stmts(list []*syntax.Stmt, parent *Command, depth int) []*Command {
	var all []*Command
	for _, s := range list {
		all = append(all, w.stmt(s, parent, depth)...)
	}
	return all
}

func (w *walker) stmt(s *syntax.Stmt, parent *Command, depth int) []*Command {
	out, _ := w.stmtTails(s, parent, depth)
	return out
}

// stmtTails walks a statement and returns its commands and, of those, the
// ones whose output leaves it: the last stage of a pipe (`a | b` outputs
// b's output only), both sides of && and ||. A pipe stage's Upstream is
// the tails of the stages before it, so each link is recorded once and a
// pipe of n stages costs n, not n² (Feeds follows the links).
func (w *walker) stmtTails(s *syntax.Stmt, parent *Command, depth int) (out, tails []*Command) {
	if s == nil || s.Cmd == nil {
		return nil, nil
	}
	if w.budget.commands >= MaxCommands {
		w.budget.stop("more than %d commands (shell.MaxCommands)", MaxCommands)
		return nil, nil
	}
	switch c := s.Cmd.(type) {
	case *syntax.CallExpr:
		out = w.call(c, s, parent, depth)
	case *syntax.BinaryCmd:
		// Pipes and lists nest to the left, one level per operator; the
		// loop walks that spine without recursion, so a RUN of 20,000
		// piped stages needs no stack of 20,000 frames.
		chain := []*syntax.BinaryCmd{c}
		x := c.X
		for x != nil && !x.Negated && len(x.Redirs) == 0 {
			b, ok := x.Cmd.(*syntax.BinaryCmd)
			if !ok {
				break
			}
			chain = append(chain, b)
			x = b.X
		}
		out, tails = w.stmtTails(x, parent, depth)
		// owned says tails is this loop's own slice: a list (`a && b`)
		// adds to it in place. Copying it at every operator instead
		// made a chain of 100,000 `&&` take 12 s.
		owned := false
		for i := len(chain) - 1; i >= 0; i-- {
			b := chain[i]
			right, rtails := w.stmtTails(b.Y, parent, depth)
			if b.Op == syntax.Pipe || b.Op == syntax.PipeAll {
				for _, r := range right {
					r.Upstream = append(r.Upstream, tails...)
				}
				tails, owned = rtails, false
			} else {
				if !owned {
					tails, owned = slices.Clone(tails), true
				}
				tails = append(tails, rtails...)
			}
			out = append(out, right...)
		}
		return w.finish(s, parent, depth, out), tails
	case *syntax.Subshell:
		out = w.stmts(c.Stmts, parent, depth)
	case *syntax.Block:
		out = w.stmts(c.Stmts, parent, depth)
	case *syntax.IfClause:
		for ic := c; ic != nil; ic = ic.Else {
			out = append(out, markCond(w.stmts(ic.Cond, parent, depth))...)
			out = append(out, w.stmts(ic.Then, parent, depth)...)
		}
	case *syntax.WhileClause:
		out = append(markCond(w.stmts(c.Cond, parent, depth)), w.stmts(c.Do, parent, depth)...)
	case *syntax.ForClause:
		out = w.stmts(c.Do, parent, depth)
	case *syntax.CaseClause:
		for _, item := range c.Items {
			out = append(out, w.stmts(item.Stmts, parent, depth)...)
		}
	case *syntax.FuncDecl:
		out = w.stmt(c.Body, parent, depth)
	case *syntax.TimeClause:
		out = w.stmt(c.Stmt, parent, depth)
	case *syntax.CoprocClause:
		out = w.stmt(c.Stmt, parent, depth)
	case *syntax.TestClause:
		// [[ … ]] is a command of its own; its words may hold $(…).
		cmd := &Command{Name: "[[", Parent: parent, Line: w.line(c.Pos()), Col: int(c.Pos().Col())}
		w.add(cmd)
		w.test(c.X, cmd, depth)
		out = []*Command{cmd}
	case *syntax.DeclClause:
		cmd := &Command{Name: c.Variant.Value, Parent: parent, Line: w.line(c.Pos()), Col: int(c.Pos().Col())}
		for _, a := range c.Args {
			if a.Name == nil {
				if a.Value != nil {
					cmd.Args = append(cmd.Args, w.word(a.Value, cmd, depth))
				}
				continue
			}
			val := ""
			if a.Value != nil {
				val = w.word(a.Value, cmd, depth)
			}
			cmd.Assigns = append(cmd.Assigns, Assign{Name: a.Name.Value, Value: val})
			cmd.Args = append(cmd.Args, a.Name.Value+"="+val)
		}
		w.add(cmd)
		out = []*Command{cmd}
	}
	out = w.finish(s, parent, depth, out)
	return out, out
}

// finish applies what belongs to the statement to its commands: `!` and
// the redirections (a here-document given to a shell is a script of its
// own).
func (w *walker) finish(s *syntax.Stmt, parent *Command, depth int, out []*Command) []*Command {
	if s.Negated {
		for _, cmd := range out {
			cmd.Negated = true
		}
	}
	if len(s.Redirs) == 0 {
		return out
	}
	for _, cmd := range out {
		if cmd.Parent != parent {
			continue
		}
		for _, r := range s.Redirs {
			cmd.Redirects = append(cmd.Redirects, w.redirect(r, cmd, depth))
		}
	}
	return out
}

func markCond(cmds []*Command) []*Command {
	for _, c := range cmds {
		c.Cond = true
	}
	return cmds
}

// test collects the words of a [[ … ]] expression as the arguments of
// cmd, walking the substitutions in them.
func (w *walker) test(x syntax.TestExpr, cmd *Command, depth int) {
	switch x := x.(type) {
	case *syntax.Word:
		cmd.Args = append(cmd.Args, w.word(x, cmd, depth))
	case *syntax.UnaryTest:
		cmd.Args = append(cmd.Args, x.Op.String())
		w.test(x.X, cmd, depth)
	case *syntax.BinaryTest:
		w.test(x.X, cmd, depth)
		cmd.Args = append(cmd.Args, x.Op.String())
		w.test(x.Y, cmd, depth)
	case *syntax.ParenTest:
		w.test(x.X, cmd, depth)
	}
}

func (w *walker) redirect(r *syntax.Redirect, cmd *Command, depth int) Redirect {
	op := r.Op.String()
	if r.N != nil {
		op = r.N.Value + op
	}
	rd := Redirect{Op: op}
	if r.Word != nil {
		rd.Target = w.word(r.Word, cmd, depth)
	}
	if r.Hdoc != nil && (r.Op == syntax.Hdoc || r.Op == syntax.DashHdoc) && IsShell(cmd.Name) && w.deeper(depth) {
		body := w.word(r.Hdoc, nil, depth)
		w.inline(body, cmd, depth+1, w.line(r.Hdoc.Pos())-1)
	}
	return rd
}

// inline walks a script that cmd runs (`sh -c SCRIPT`, eval, a
// here-document given to a shell) one level deeper, its commands children
// of cmd. They are run by cmd, not fed into it, so they are not
// Substituted. The text counts against MaxInlineBytes and the nesting
// against MaxDepth of the Parse that found it: a fresh Parse per level
// would start both from zero.
func (w *walker) inline(src string, cmd *Command, depth, lineOffset int) {
	if w.budget.inline+len(src) > MaxInlineBytes {
		w.budget.stop("scripts run by sh -c, eval or here-documents exceed %d bytes (shell.MaxInlineBytes)", MaxInlineBytes)
		return
	}
	w.budget.inline += len(src)
	if strings.TrimSpace(src) == substPlaceholder {
		return // `eval "$(…)"`: the code is the substitution's output, unknown here
	}
	f, err := w.budget.parser.Parse(strings.NewReader(src), "")
	if err != nil {
		return // a string the shell would reject; the outer command stands
	}
	sub := &walker{opts: Options{LineOffset: lineOffset}, script: w.script, budget: w.budget}
	sub.stmts(f.Stmts, cmd, depth)
}

func (w *walker) add(c *Command) {
	w.budget.commands++
	w.script.Commands = append(w.script.Commands, c)
}

func (w *walker) line(p syntax.Pos) int {
	if w.opts.LineAt != nil {
		return w.opts.LineAt(int(p.Offset()))
	}
	return int(p.Line()) + w.opts.LineOffset
}

func (w *walker) call(c *syntax.CallExpr, s *syntax.Stmt, parent *Command, depth int) []*Command {
	cmd := &Command{Parent: parent}
	if len(c.Args) > 0 {
		cmd.Line, cmd.Col = w.line(c.Args[0].Pos()), int(c.Args[0].Pos().Col())
	} else {
		cmd.Line, cmd.Col = w.line(s.Pos()), int(s.Pos().Col())
	}
	w.add(cmd)
	for _, a := range c.Assigns {
		if a.Name == nil {
			continue
		}
		val := ""
		if a.Value != nil {
			val = w.word(a.Value, cmd, depth)
		}
		cmd.Assigns = append(cmd.Assigns, Assign{Name: a.Name.Value, Value: val})
	}
	words := make([]string, 0, len(c.Args))
	scripts := make([]string, 0, len(c.Args))
	for _, a := range c.Args {
		text, script := w.words(a, cmd, depth)
		words, scripts = append(words, text), append(scripts, script)
	}
	if len(words) == 0 {
		return []*Command{cmd}
	}
	cmd.Name, cmd.Args = path.Base(words[0]), words[1:]
	if words[0] == "" {
		cmd.Name = ""
	}
	unwrap(cmd)
	// A shell given a command string runs a script of its own: parse it,
	// so `sh -c "curl … | sh"` is seen for what it is. unwrap keeps a
	// suffix of the words, so the script text is the same suffix of
	// scripts.
	args := scripts[len(scripts)-len(cmd.Args):]
	if script, ok := inlineScript(cmd.Name, args); ok && w.deeper(depth) {
		w.inline(script, cmd, depth+1, cmd.Line-1)
	}
	return []*Command{cmd}
}

// word renders a word as text. Command substitutions inside it are walked
// too, and their commands recorded as feeding owner.
func (w *walker) word(wd *syntax.Word, owner *Command, depth int) string {
	text, _ := w.words(wd, owner, depth)
	return text
}

// words renders a word twice: as text, and as the text a script run by
// the command (sh -c WORD, eval WORD) reads, where each substitution the
// outer shell runs is replaced by substPlaceholder.
func (w *walker) words(wd *syntax.Word, owner *Command, depth int) (text, script string) {
	var b, sb strings.Builder
	for _, p := range wd.Parts {
		w.part(&b, &sb, p, owner, depth, false)
	}
	return b.String(), sb.String()
}

func (w *walker) part(b, sb *strings.Builder, p syntax.WordPart, owner *Command, depth int, quoted bool) {
	switch p := p.(type) {
	case *syntax.Lit:
		v := p.Value
		if !quoted {
			v = unescape(v)
		}
		b.WriteString(v)
		sb.WriteString(v)
	case *syntax.SglQuoted:
		b.WriteString(p.Value)
		sb.WriteString(p.Value)
	case *syntax.DblQuoted:
		for _, q := range p.Parts {
			w.part(b, sb, q, owner, depth, true)
		}
	case *syntax.CmdSubst:
		b.WriteString(printNode(p))
		sb.WriteString(substPlaceholder)
		if owner != nil && w.deeper(depth) {
			owner.Substituted = append(owner.Substituted, w.stmts(p.Stmts, owner, depth+1)...)
		}
	case *syntax.ProcSubst:
		b.WriteString(printNode(p))
		sb.WriteString(substPlaceholder)
		if owner != nil && w.deeper(depth) {
			owner.Substituted = append(owner.Substituted, w.stmts(p.Stmts, owner, depth+1)...)
		}
	default:
		v := printNode(p)
		b.WriteString(v)
		sb.WriteString(v)
	}
}

func printNode(n syntax.Node) string {
	var buf bytes.Buffer
	if err := syntax.NewPrinter().Print(&buf, n); err != nil {
		return ""
	}
	return buf.String()
}

// unescape removes the backslashes of an unquoted literal ("a\ b" is "a b").
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
