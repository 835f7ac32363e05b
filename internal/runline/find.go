package runline

import (
	"bytes"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/shell"
)

// mayHold is a cheap test that saves parsing files that cannot hold a
// container start command.
func mayHold(src []byte) bool {
	return (bytes.Contains(src, []byte("docker")) || bytes.Contains(src, []byte("podman"))) &&
		(bytes.Contains(src, []byte("run")) || bytes.Contains(src, []byte("create")))
}

// FromShell finds the container start commands of a shell script.
func FromShell(path string, src []byte) ([]Command, error) {
	if !mayHold(src) {
		return nil, nil
	}
	script, err := shell.Parse(string(src), shell.Options{})
	if err != nil {
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	return commands(script, lines(src), path), limitError(path, script)
}

// limitError is the error of a script a budget cut short (shell.MaxDepth,
// …): the commands found before it are returned with it, and the error
// says the rest was not analysed, so the report is not taken as complete.
func limitError(path string, script *shell.Script) error {
	if script.Limit == "" {
		return nil
	}
	return &Error{Path: path, Msg: script.Limit}
}

// commands picks the container start commands of a parsed script and
// finds the line of each argument in the file.
func commands(script *shell.Script, fileLines []string, path string) []Command {
	var out []Command
	for _, c := range script.Commands {
		args := append([]string{c.Name}, c.Args...)
		if _, _, ok := Match(args); !ok {
			continue
		}
		ls := argLines(fileLines, c.Line, args)
		out = append(out, Command{Args: args, Lines: ls, Path: path, Line: ls[0]})
	}
	return out
}

func lines(src []byte) []string {
	return strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
}

// argLines finds each argument of a command in the file, from the line the
// command starts on: quoting is gone from the arguments, so the search
// falls back to a prefix, and keeps the previous line when even that is
// not found.
func argLines(fileLines []string, start int, args []string) []int {
	out := make([]int, len(args))
	line, col := start, 0
	// The command ends where its backslash continuations end; an argument
	// not written there (it came from a variable) stays on the line before.
	end := start
	for end >= 1 && end < len(fileLines) && strings.HasSuffix(strings.TrimRight(fileLines[end-1], " \t\r"), `\`) {
		end++
	}
	for i, a := range args {
		out[i] = max(line, 1)
		if a == "" {
			continue
		}
		needles := []string{a}
		if len(a) > 6 {
			needles = append(needles, a[:6])
		}
	search:
		for _, n := range needles {
			for l, c := line, col; l >= 1 && l <= len(fileLines) && l <= end; l, c = l+1, 0 {
				text := fileLines[l-1]
				if c > len(text) {
					c = len(text)
				}
				if k := strings.Index(text[c:], n); k >= 0 {
					out[i], line, col = l, l, c+k+len(n)
					break search
				}
			}
		}
	}
	return out
}

// FromMakefile finds container start commands in the recipes of a
// Makefile. A recipe line (and its backslash continuations) is what make
// hands to the shell: leading @, - and + are make's, $$ is a shell $, and
// simple variables ($(DOCKER), ${DOCKER}) set in the file are expanded.
func FromMakefile(path string, src []byte) ([]Command, error) {
	if !mayHold(src) {
		return nil, nil
	}
	ls := lines(src)
	vars := makeVars(ls)
	var out []Command
	var limited error
	inRule := false
	for i := 0; i < len(ls); i++ {
		l := ls[i]
		switch {
		case strings.HasPrefix(l, "\t") && inRule:
		case strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#"):
			continue
		default:
			inRule = ruleLine.MatchString(l)
			continue
		}
		first := i + 1
		var body strings.Builder
		body.WriteString(strings.TrimLeft(strings.TrimPrefix(l, "\t"), "@-+ \t"))
		for strings.HasSuffix(strings.TrimRight(ls[i], " "), `\`) && i+1 < len(ls) {
			i++
			body.WriteString("\n")
			body.WriteString(strings.TrimPrefix(ls[i], "\t"))
		}
		text := makeToShell(body.String(), vars)
		if !mayHold([]byte(text)) {
			continue
		}
		script, err := shell.Parse(text, shell.Options{LineOffset: first - 1})
		if err != nil {
			return nil, &Error{Path: path, Msg: "recipe: " + err.Error()}
		}
		out = append(out, commands(script, ls, path)...)
		if limited == nil {
			limited = limitError(path, script)
		}
	}
	return out, limited
}

var (
	ruleLine    = regexp.MustCompile(`^[^\t#=][^=]*?:([^=]|$)`)
	makeAssign  = regexp.MustCompile(`^\s*(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:\?|:|::|:::)?=\s*(.*)$`)
	makeVarRef  = regexp.MustCompile(`\$[({]([A-Za-z_][A-Za-z0-9_.-]*)[)}]`)
	makeAutoVar = regexp.MustCompile(`\$[<^%|+]`)
)

func makeVars(ls []string) map[string]string {
	vars := map[string]string{}
	for _, l := range ls {
		if strings.HasPrefix(l, "\t") {
			continue
		}
		if m := makeAssign.FindStringSubmatch(l); m != nil && !strings.Contains(m[2], "$") {
			vars[m[1]] = strings.TrimSpace(m[2])
		}
	}
	return vars
}

// maxRecipeBytes bounds a recipe once Make variables are substituted: a
// value of a few hundred KiB referenced thousands of times in one recipe
// would be gigabytes. Real recipes are a few KiB; past the budget the
// references are kept as written, as for a variable defined elsewhere.
const maxRecipeBytes = 1 << 20

func makeToShell(s string, vars map[string]string) string {
	size := len(s)
	for _, m := range makeVarRef.FindAllStringSubmatch(s, -1) {
		if size += len(vars[m[1]]); size > maxRecipeBytes {
			vars = nil
			break
		}
	}
	s = makeVarRef.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := vars[ref[2:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
	s = makeAutoVar.ReplaceAllString(s, "$_")
	return strings.ReplaceAll(s, "$$", "$")
}

// FromDockerfile finds container start commands in the RUN instructions
// of a parsed Dockerfile.
func FromDockerfile(f *dockerfile.File) []Command {
	var out []Command
	for _, st := range f.Stages {
		st.Runs(func(in *dockerfile.Instruction) {
			out = append(out, commands(in.Script, f.Lines, f.Path)...)
		})
	}
	return out
}

// ghExpr is a GitHub Actions expression, which is not shell syntax.
var ghExpr = regexp.MustCompile(`\$\{\{[^}]*\}\}`)

// FromGitHubWorkflow finds container start commands in the `run:` steps of
// a GitHub Actions workflow or composite action. Steps run by a non-POSIX
// shell (pwsh, cmd, python) are left out; ${{ … }} expressions are read as
// values known only when the workflow runs.
func FromGitHubWorkflow(path string, src []byte) ([]Command, error) {
	return fromYAMLScripts(path, src, func(key string, parent *yaml.Node) bool {
		if key != "run" {
			return false
		}
		sh := mapValue(parent, "shell")
		return sh == nil || posixShell(sh.Value)
	}, func(s string) string {
		return ghExpr.ReplaceAllStringFunc(s, func(e string) string { return "$" + strings.Repeat("_", len(e)-1) })
	})
}

// FromGitLabCI finds container start commands in the `script`,
// `before_script` and `after_script` lists of a GitLab CI file.
func FromGitLabCI(path string, src []byte) ([]Command, error) {
	return fromYAMLScripts(path, src, func(key string, _ *yaml.Node) bool {
		return key == "script" || key == "before_script" || key == "after_script"
	}, nil)
}

func posixShell(s string) bool {
	f := strings.Fields(s)
	if len(f) == 0 {
		return true
	}
	return shell.IsShell(strings.TrimSuffix(f[0], ".exe"))
}

// fromYAMLScripts walks a YAML file and parses, as shell, every scalar
// (or list of scalars) held by a key that want accepts.
func fromYAMLScripts(path string, src []byte, want func(key string, parent *yaml.Node) bool, prepare func(string) string) ([]Command, error) {
	if !mayHold(src) {
		return nil, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, &Error{Path: path, Msg: oneLine(err.Error())}
	}
	fileLines := lines(src)
	var out []Command
	var firstErr error
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 64 || firstErr != nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, val := n.Content[i], n.Content[i+1]
				if want(k.Value, n) {
					for _, s := range scalars(val, 0) {
						cmds, err := scriptCommands(path, s, fileLines, prepare)
						out = append(out, cmds...) // those before a budget's limit too
						if err != nil {
							firstErr = err
							return
						}
					}
					continue
				}
				walk(val, depth+1)
			}
			return
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(&doc, 0)
	return out, firstErr
}

// scalars are the script texts of a value: a scalar, or a list of them
// (lists may nest through anchors).
func scalars(n *yaml.Node, depth int) []*yaml.Node {
	if n == nil || depth > 8 {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return scalars(n.Alias, depth+1)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return []*yaml.Node{n}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range n.Content {
			out = append(out, scalars(c, depth+1)...)
		}
		return out
	}
	return nil
}

func scriptCommands(path string, n *yaml.Node, fileLines []string, prepare func(string) string) ([]Command, error) {
	text := n.Value
	if !mayHold([]byte(text)) {
		return nil, nil
	}
	start := n.Line
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		start++ // the text starts on the line after `|` or `>`
	}
	if prepare != nil {
		text = prepare(text)
	}
	script, err := shell.Parse(text, shell.Options{LineOffset: start - 1})
	if err != nil {
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	return commands(script, fileLines, path), limitError(path, script)
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
