// Package dockerfile audits Dockerfiles. It parses with BuildKit's own
// parser (so dockvet reads a file exactly as `docker build` does), builds a
// model of stages, arguments and instructions, parses every RUN body with a
// real shell parser, and runs the rules of this package over that model.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	bkshell "github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/safefile"
	"github.com/dockvet/dockvet/internal/shell"
)

// File is a parsed Dockerfile.
type File struct {
	Path  string
	Lines []string
	// Escape is the escape character (a `# escape=` directive changes it).
	Escape rune
	// MetaArgs are the ARG instructions before the first FROM.
	MetaArgs []*Instruction
	// GlobalArgs are the values of the global ARGs with a default, as FROM
	// lines see them.
	GlobalArgs map[string]string
	Stages     []*Stage
	// Instructions lists every instruction in file order, FROM included.
	Instructions []*Instruction
	// Waivers are the "# dockvet ignore=…" comments.
	Waivers []finding.Waiver
}

// Stage is one FROM and the instructions after it.
type Stage struct {
	Index int
	// Name is the alias of `FROM x AS name`, lower-cased as BuildKit does.
	Name string
	From *Instruction
	// BaseRaw is the image or stage as written; Base is the same with
	// global ARG defaults substituted, and is empty if a variable has no
	// default (the real base is then only known at build time).
	BaseRaw, Base string
	// BaseStage is set when FROM names an earlier stage.
	BaseStage *Stage
	Platform  string
	// Instructions are the stage's instructions after FROM.
	Instructions []*Instruction
	// Shell is the shell RUN uses (SHELL changes it).
	Shell []string
	// Windows is true for a stage built on a Windows image (or told to
	// run PowerShell or cmd): its paths, users and commands are not
	// Linux's, and the rules about those leave it alone.
	Windows bool
	// scope is what variables mean at the end of the stage, for the
	// stages built FROM it.
	scope *Scope
	// installs caches installs(st) (nil: not read yet). A stage is
	// checked by one goroutine.
	installs  []install
	installBy map[*shell.Command]int // each installing command's index in installs
}

// Instruction is one Dockerfile instruction.
type Instruction struct {
	// Keyword is upper case: "RUN", "COPY".
	Keyword       string
	Line, EndLine int
	// Original is the logical line as BuildKit saw it (continuations
	// joined).
	Original string
	Flags    []string
	// Args are the instruction's arguments as BuildKit split them.
	Args []string
	// JSON is true for the exec form (`CMD ["a", "b"]`).
	JSON bool
	// Command is BuildKit's typed instruction (nil for FROM).
	Command  instructions.Command
	Stage    *Stage
	Heredocs []parser.Heredoc
	// Script is the parsed RUN body (shell form only, POSIX shells only).
	Script *shell.Script
	// ScriptErr says why a RUN body could not be parsed as shell: a
	// *shell.SyntaxError when its shell would refuse it too (DV1121),
	// another error when it is not shell (a non-POSIX SHELL, a here-document
	// for another interpreter).
	ScriptErr error
	// Limit, when set, names the budget that stopped the analysis of part
	// of the instruction: a RUN nested deeper than shell.MaxDepth, a word
	// whose expansion exceeds MaxValueBytes (kept as written).
	Limit string
	// Scope is what variables mean in this instruction (nil before the
	// first FROM).
	Scope *Scope
	// Written are an ENV's, ARG's or LABEL's values as the Dockerfile
	// writes them, before variables are expanded (Command holds what
	// BuildKit builds with), by key.
	Written map[string]string
}

// Error is a Dockerfile that BuildKit rejects; Line is 0 when unknown.
type Error struct {
	Path string
	Line int
	Err  error
}

func (e *Error) Error() string {
	msg := oneLine(e.Err.Error())
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// maxFileSize bounds what is read: real Dockerfiles are kilobytes, and a
// multi-megabyte "Dockerfile" is more likely a mistake or an attack on the
// parser than a build recipe.
const maxFileSize = 4 << 20

// ParseFile reads and parses a Dockerfile.
func ParseFile(path string) (*File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &Error{Path: path, Err: unwrapPath(err)}
	}
	if fi.IsDir() {
		return nil, &Error{Path: path, Err: errors.New("is a directory, not a Dockerfile")}
	}
	if fi.Size() > maxFileSize {
		return nil, &Error{Path: path, Err: fmt.Errorf("file is %d bytes; a Dockerfile over %d bytes is refused", fi.Size(), maxFileSize)}
	}
	src, err := safefile.ReadFile(path, maxFileSize)
	if err != nil {
		return nil, &Error{Path: path, Err: errors.New(safefile.Message(err))}
	}
	return Parse(path, src)
}

// Parse parses Dockerfile source; path names it in findings and errors.
func Parse(path string, src []byte) (*File, error) {
	if len(src) > maxFileSize {
		return nil, &Error{Path: path, Err: fmt.Errorf("source over %d bytes is refused", maxFileSize)}
	}
	if bytes.IndexByte(src, 0) >= 0 {
		return nil, &Error{Path: path, Err: errors.New("binary file (contains NUL bytes), not a Dockerfile")}
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, locatedError(path, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, locatedError(path, err)
	}
	if len(stages) == 0 {
		return nil, &Error{Path: path, Err: errors.New("no FROM instruction")}
	}
	f := &File{
		Path:   path,
		Lines:  strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n"),
		Escape: res.EscapeToken,
	}
	b := builder{f: f, lex: bkshell.NewLex(res.EscapeToken), args: map[string]string{}}
	if err := b.build(res.AST, stages, metaArgs); err != nil {
		return nil, err
	}
	f.GlobalArgs = b.args
	f.Waivers = waivers(f, res.AST)
	return f, nil
}

func locatedError(path string, err error) error {
	line := 0
	var loc *parser.LocationError
	if errors.As(err, &loc) && len(loc.Locations) > 0 && len(loc.Locations[0]) > 0 {
		line = loc.Locations[0][0].Start.Line
	}
	msg := err.Error()
	// BuildKit prefixes "dockerfile parse error on line N: "; the line is
	// already in our prefix.
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "dockerfile parse error on line") && i > 0 {
		msg = msg[i+2:]
		if line == 0 {
			fmt.Sscanf(err.Error(), "dockerfile parse error on line %d", &line)
		}
	}
	return &Error{Path: path, Line: line, Err: errors.New(msg)}
}

type builder struct {
	f    *File
	lex  *bkshell.Lex
	args map[string]string // global ARG defaults
	// unset lists global ARGs declared without a default.
	unset map[string]bool
	// cur is the instruction being expanded, expanded the bytes its
	// substitutions produced so far (overBudget).
	cur      *Instruction
	expanded int
}

func (b *builder) build(ast *parser.Node, stages []instructions.Stage, metaArgs []instructions.ArgCommand) error {
	b.unset = map[string]bool{}
	// BuildKit's stage list and the AST children are in the same order:
	// walk the AST, taking typed commands from the stages as we go.
	si, ci := -1, 0
	mi := 0
	var cur *Stage
	for _, n := range ast.Children {
		in := newInstruction(n)
		b.cur = in
		b.f.Instructions = append(b.f.Instructions, in)
		switch {
		case in.Keyword == "FROM":
			si++
			ci = 0
			st := stages[si]
			cur = &Stage{Index: si, Name: st.Name, From: in, BaseRaw: st.BaseName, Platform: st.Platform, Shell: []string{"/bin/sh", "-c"}, scope: newScope()}
			cur.Base = b.resolve(st.BaseName)
			for _, prev := range b.f.Stages {
				if prev.Name != "" && strings.EqualFold(prev.Name, cur.Base) {
					cur.BaseStage = prev
					cur.Shell = prev.Shell
					cur.Windows = prev.Windows
					cur.scope = prev.scope.clone()
				}
			}
			if cur.BaseStage == nil && windowsBase(cur) {
				cur.Windows = true
				cur.Shell = []string{"cmd", "/S", "/C"}
			}
			shellPragma(n, cur)
			in.Stage = cur
			b.f.Stages = append(b.f.Stages, cur)
		case cur == nil:
			// A global ARG before the first FROM.
			if in.Keyword == "ARG" && mi < len(metaArgs) {
				a := metaArgs[mi]
				mi++
				in.Command = &a
				b.globalArgs(&a)
			}
			b.f.MetaArgs = append(b.f.MetaArgs, in)
		default:
			st := stages[si]
			if ci < len(st.Commands) {
				in.Command = st.Commands[ci]
			}
			ci++
			in.Stage = cur
			cur.Instructions = append(cur.Instructions, in)
			shellPragma(n, cur)
			b.expand(in, cur)
			if sh, ok := in.Command.(*instructions.ShellCommand); ok {
				cur.Shell = sh.Shell
				if len(sh.Shell) > 0 && windowsShell(sh.Shell[0]) {
					cur.Windows = true
				}
			}
			if in.Keyword == "RUN" {
				if err := b.parseRun(in, cur); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// resolve substitutes global ARG defaults into a FROM word; "" when the
// word depends on a value given at build time.
func (b *builder) resolve(word string) string {
	if !strings.ContainsRune(word, '$') {
		return word
	}
	if b.overBudget(word, envMap(b.args).Get) {
		return ""
	}
	res, err := b.lex.ProcessWordWithMatches(word, envMap(b.args))
	if err != nil || b.unknown(res.Unmatched) {
		return ""
	}
	return res.Result
}

type envMap map[string]string

func (e envMap) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }
func (e envMap) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	return keys
}

func newInstruction(n *parser.Node) *Instruction {
	in := &Instruction{
		Keyword:  strings.ToUpper(n.Value),
		Line:     n.StartLine,
		EndLine:  n.EndLine,
		Original: n.Original,
		Flags:    n.Flags,
		JSON:     n.Attributes["json"],
		Heredocs: n.Heredocs,
	}
	for a := n.Next; a != nil; a = a.Next {
		in.Args = append(in.Args, a.Value)
	}
	return in
}

// Final returns the last stage.
func (f *File) Final() *Stage { return f.Stages[len(f.Stages)-1] }

// StageByName finds a stage by alias or index ("builder", "0").
func (f *File) StageByName(name string) *Stage {
	for _, s := range f.Stages {
		if s.Name != "" && strings.EqualFold(s.Name, name) {
			return s
		}
	}
	if i, err := strconv.Atoi(name); err == nil && strconv.Itoa(i) == name && i >= 0 && i < len(f.Stages) {
		return f.Stages[i]
	}
	return nil
}

// Chain returns s and the stages it is built on, s first.
func (s *Stage) Chain() []*Stage {
	var out []*Stage
	seen := map[*Stage]bool{}
	for c := s; c != nil && !seen[c]; c = c.BaseStage {
		seen[c] = true
		out = append(out, c)
	}
	return out
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// IsName reports whether a file name is a Dockerfile by the names Docker
// tools use: Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile,
// Containerfile. Templates (Dockerfile.j2, Dockerfile.tmpl, …) and
// BuildKit's per-Dockerfile ignore files (Dockerfile.dockerignore) are not
// Dockerfiles.
func IsName(name string) bool {
	for _, ext := range []string{".dockerignore", ".md", ".j2", ".jinja", ".jinja2", ".tmpl", ".tpl", ".template", ".erb", ".in", ".swp", ".orig", ".rej"} {
		if strings.HasSuffix(name, ext) {
			return false
		}
	}
	switch {
	case name == "Dockerfile", name == "dockerfile", name == "Containerfile":
		return true
	case strings.HasPrefix(name, "Dockerfile.") || strings.HasPrefix(name, "Containerfile."):
		return true
	case strings.HasSuffix(name, ".Dockerfile") || strings.HasSuffix(name, ".dockerfile"):
		return len(name) > len(".dockerfile")
	}
	return false
}
