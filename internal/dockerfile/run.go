package dockerfile

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"

	"github.com/dockvet/dockvet/internal/shell"
)

// parseRun parses a RUN body as shell. The body is the string BuildKit hands
// to the shell (continuations joined), so dockvet sees exactly what runs;
// positions are mapped back to the physical lines of the file so that a
// finding points at the line of the offending command, not the RUN.
func (b *builder) parseRun(in *Instruction, st *Stage) error {
	run, ok := in.Command.(*instructions.RunCommand)
	if !ok {
		return nil
	}
	// BuildKit evaluates --mount options only when it expands the
	// instruction at build time; evaluate them now, leaving variables as
	// written, so rules can see mount types and targets, and so a mount
	// BuildKit would reject is rejected here too.
	if err := run.Expand(func(word string) (string, error) { return word, nil }); err != nil {
		return &Error{Path: b.f.Path, Line: in.Line, Err: err}
	}
	if len(run.CmdLine) == 0 {
		return nil
	}
	if !run.PrependShell {
		in.Script, in.ScriptErr = execScript(run.CmdLine, in.Line)
		if in.Script != nil && in.Script.Limit != "" && in.Limit == "" {
			in.Limit = in.Script.Limit
		}
		return nil
	}
	if !posixShell(st.Shell) {
		in.ScriptErr = errors.New("its shell is not a POSIX shell")
		return nil
	}
	body := run.CmdLine[0]
	var opts shell.Options
	if len(run.Files) > 0 {
		src, lineAt, ok := heredocScript(body, run.Files, in)
		if !ok {
			in.ScriptErr = errors.New("its here-document is for another interpreter")
			return nil
		}
		body, opts.LineAt = src, lineAt
	} else {
		opts.LineAt = b.lineMap(in, body)
	}
	script, err := shell.Parse(body, opts)
	if err != nil {
		var se *shell.SyntaxError
		if name := runShell(body, st); errors.As(err, &se) && !bashGrammar[name] {
			// zsh and the Korn shells accept what bash does not: the
			// error may be the parser's, not the script's (no DV1121).
			err = fmt.Errorf("its shell, %s, has a grammar of its own (%v)", name, err)
		}
		in.ScriptErr = err
		return nil
	}
	in.Script = script
	if script.Limit != "" && in.Limit == "" {
		in.Limit = script.Limit
	}
	return nil
}

// execScript is the exec form of RUN (`RUN ["apt-get", "install", "x"]`):
// no shell runs, the words are the program and its arguments. They are
// quoted back into one shell command, so the rules see the same command a
// shell-form RUN would give them, and `["sh", "-c", "…"]` still has its
// script read.
func execScript(argv []string, line int) (*shell.Script, error) {
	words := make([]string, len(argv))
	for i, a := range argv {
		q, err := syntax.Quote(a, syntax.LangBash)
		if err != nil {
			return nil, err
		}
		words[i] = q
	}
	return shell.Parse(strings.Join(words, " "), shell.Options{LineOffset: line - 1})
}

// bashGrammar are the shells whose grammar the parser (mvdan's, in bash
// mode) reads as they do: what it refuses, they refuse.
var bashGrammar = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true}

// runShell names the shell that runs a RUN body: a here-document script's
// #! line, else the stage's SHELL (sh by default).
func runShell(body string, st *Stage) string {
	if strings.HasPrefix(body, "#!") {
		if f := strings.Fields(strings.TrimPrefix(strings.SplitN(body, "\n", 2)[0], "#!")); len(f) > 0 {
			if name := path.Base(f[0]); name != "env" || len(f) < 2 {
				return name
			}
			return f[1]
		}
	}
	if len(st.Shell) == 0 {
		return "sh"
	}
	return path.Base(st.Shell[0])
}

func posixShell(sh []string) bool {
	if len(sh) == 0 {
		return true
	}
	return shell.IsShell(path.Base(sh[0]))
}

// heredocScript builds the shell source of a RUN with here-documents.
// `RUN <<EOF` alone runs the document as a script; otherwise the documents
// are the inputs of the command line, as in a shell.
func heredocScript(cmdline string, files []instructions.ShellInlineFile, in *Instruction) (string, func(int) int, bool) {
	first := in.EndLine
	for _, f := range files {
		first -= strings.Count(f.Data, "\n") + 1
	}
	// Lines: the command line is at in.Line; the documents follow it and
	// end at in.EndLine.
	trimmed := strings.TrimSpace(cmdline)
	if len(files) == 1 && (trimmed == "<<"+files[0].Name || trimmed == "<<-"+files[0].Name ||
		trimmed == "<<'"+files[0].Name+"'" || trimmed == `<<"`+files[0].Name+`"`) {
		data := files[0].Data
		if strings.HasPrefix(data, "#!") {
			interp := strings.Fields(strings.TrimPrefix(strings.SplitN(data, "\n", 2)[0], "#!"))
			if len(interp) > 0 {
				name := path.Base(interp[0])
				if name == "env" && len(interp) > 1 {
					name = interp[1]
				}
				if !shell.IsShell(name) {
					return "", nil, false
				}
			}
		}
		start := first + 1
		return data, byNewlines(data, start), true
	}
	var sb strings.Builder
	sb.WriteString(cmdline)
	sb.WriteString("\n")
	for _, f := range files {
		sb.WriteString(f.Data)
		if !strings.HasSuffix(f.Data, "\n") && f.Data != "" {
			sb.WriteString("\n")
		}
		sb.WriteString(f.Name)
		sb.WriteString("\n")
	}
	src := sb.String()
	headerEnd := len(cmdline) + 1
	body := byNewlines(src[headerEnd:], first+1)
	return src, func(off int) int {
		if off < headerEnd {
			return in.Line
		}
		return body(off - headerEnd)
	}, true
}

// byNewlines maps offsets of text to lines, text starting at line start.
func byNewlines(text string, start int) func(int) int {
	var nl []int
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			nl = append(nl, i)
		}
	}
	return func(off int) int { return start + sort.SearchInts(nl, off) }
}

// lineMap rebuilds the joined logical line the way BuildKit does (drop the
// escape character at line ends, skip comment and empty lines inside the
// continuation) while remembering where each physical line starts, then
// finds the RUN body in it.
func (b *builder) lineMap(in *Instruction, body string) func(int) int {
	type seg struct{ off, line int }
	var segs []seg
	var joined strings.Builder
	esc := string(b.f.Escape)
	for ln := in.Line; ln <= in.EndLine && ln <= len(b.f.Lines); ln++ {
		raw := strings.TrimRight(b.f.Lines[ln-1], "\r")
		trim := strings.TrimLeft(raw, " \t")
		if ln > in.Line && (strings.HasPrefix(trim, "#") || trim == "") {
			continue
		}
		if ln == in.Line {
			raw = trim
		}
		t := strings.TrimRight(raw, " \t")
		if strings.HasSuffix(t, esc) {
			raw = strings.TrimSuffix(t, esc)
		}
		segs = append(segs, seg{joined.Len(), ln})
		joined.WriteString(raw)
	}
	base := strings.Index(joined.String(), body)
	if base < 0 {
		return func(int) int { return in.Line }
	}
	return func(off int) int {
		abs := base + off
		i := sort.Search(len(segs), func(i int) bool { return segs[i].off > abs }) - 1
		if i < 0 {
			return in.Line
		}
		return segs[i].line
	}
}

// Runs calls fn for every RUN with a parsed body in the stage.
func (s *Stage) Runs(fn func(in *Instruction)) {
	for _, in := range s.Instructions {
		if in.Keyword == "RUN" && in.Script != nil {
			fn(in)
		}
	}
}

// Commands calls fn for every shell command of every RUN in the stage.
func (s *Stage) Commands(fn func(in *Instruction, c *shell.Command)) {
	s.Runs(func(in *Instruction) {
		for _, c := range in.Script.Commands {
			fn(in, c)
		}
	})
}

// Mounts returns the --mount options of a RUN.
func (in *Instruction) Mounts() []*instructions.Mount {
	if run, ok := in.Command.(*instructions.RunCommand); ok {
		return instructions.GetMounts(run)
	}
	return nil
}
