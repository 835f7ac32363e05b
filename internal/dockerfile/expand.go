package dockerfile

import (
	"regexp"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	bkshell "github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/dockvet/dockvet/internal/shell"
)

// Scope is what the variables in an instruction's words mean when BuildKit
// builds it: the ARG defaults and ENV values set before the instruction in
// its stage and the stages it is built FROM, and the ARGs declared there
// without a value, which the build gives (--build-arg) or leaves empty.
// Variables of the base image's environment are not known here.
//
// Every instruction keeps the scope before it. A copy per instruction was
// quadratic (5,000 ARG lines: 790 MiB), so a stage's changes are one log
// that every snapshot shares: a snapshot is a length into it, and a name's
// value at a snapshot is its last change before that length, found by
// binary search in the name's own list of changes.
type Scope struct {
	log *scopeLog
	n   int // the changes this scope sees: log.changes[:n]
}

type scopeLog struct {
	changes []scopeChange
	byName  map[string][]int // indexes into changes, ascending
}

// scopeChange is a name's state after a change: its value if it has one,
// and whether it is an ARG the build gives.
type scopeChange struct {
	name, value string
	has, arg    bool
}

func newScope() *Scope { return &Scope{log: &scopeLog{byName: map[string][]int{}}} }

// state is name's last change this scope sees.
func (s *Scope) state(k string) (scopeChange, bool) {
	idx := s.log.byName[k]
	i := sort.SearchInts(idx, s.n) // first change at or after n
	if i == 0 {
		return scopeChange{}, false
	}
	return s.log.changes[idx[i-1]], true
}

// set records a change of the live scope (the stage's, never a snapshot).
func (s *Scope) set(c scopeChange) {
	s.log.byName[c.name] = append(s.log.byName[c.name], len(s.log.changes))
	s.log.changes = append(s.log.changes, c)
	s.n = len(s.log.changes)
}

// setValue gives name a value (ENV, ARG with a default).
func (s *Scope) setValue(k, v string) { s.set(scopeChange{name: k, value: v, has: true}) }

// setArg marks name as given by the build, keeping a value it has.
func (s *Scope) setArg(k string) {
	c, _ := s.state(k)
	c.name, c.arg = k, true
	s.set(c)
}

// setUnknown makes name a value given by the build and nothing else.
func (s *Scope) setUnknown(k string) { s.set(scopeChange{name: k, arg: true}) }

// snapshot is the scope as it is now, shared, in constant time.
func (s *Scope) snapshot() *Scope { return &Scope{log: s.log, n: s.n} }

// clone is a new live scope with the same values, for a stage built FROM
// another: it has a log of its own, one change per name.
func (s *Scope) clone() *Scope {
	c := newScope()
	for _, k := range s.names() {
		if st, ok := s.state(k); ok {
			c.set(st)
		}
	}
	return c
}

func (s *Scope) names() []string {
	var out []string
	for k, idx := range s.log.byName {
		if len(idx) > 0 && idx[0] < s.n {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Get makes a Scope an environment for BuildKit's lexer.
func (s *Scope) Get(k string) (string, bool) {
	c, ok := s.state(k)
	if !ok || !c.has {
		return "", false
	}
	return c.value, true
}

// IsArg reports whether name is an ARG declared without a value here: the
// build gives it.
func (s *Scope) IsArg(k string) bool {
	c, ok := s.state(k)
	return ok && c.arg
}

// Keys lists the names with a value.
func (s *Scope) Keys() []string {
	var keys []string
	for _, k := range s.names() {
		if _, ok := s.Get(k); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// word expands one word as BuildKit expands the words of ENV, LABEL,
// WORKDIR, COPY, ADD, USER and VOLUME at build time: quotes are removed
// and known variables substituted. A variable with no value here (an ARG
// the build gives, the base image's ENV) is kept as written, so rules can
// still tell that part is decided elsewhere. A word BuildKit's lexer
// rejects fails the build; the model keeps it without its outer quotes.
func (b *builder) word(s *Scope, w string) string {
	out, _ := b.wordOK(s, w)
	return out
}

// wordOK is word, and false when the word's expansion is over a budget
// (overBudget) and so kept as written.
func (b *builder) wordOK(s *Scope, w string) (string, bool) {
	if !strings.ContainsAny(w, `"'$\`+string(b.f.Escape)) {
		return w, true
	}
	if b.overBudget(w, s.Get) {
		return w, false
	}
	lex := bkshell.NewLex(b.f.Escape)
	lex.SkipUnsetEnv = true
	out, _, err := lex.ProcessWord(w, s)
	if err != nil {
		return trimQuotes(w), true
	}
	return out, true
}

func trimQuotes(w string) string {
	if len(w) >= 2 && (w[0] == '"' || w[0] == '\'') && w[len(w)-1] == w[0] {
		return w[1 : len(w)-1]
	}
	return w
}

// expand applies an instruction to the stage's scope the way BuildKit's
// dispatcher does: the instruction's words are expanded with the scope
// before it (an ENV's values see the variables from before that ENV), then
// ARG and ENV change the scope. The typed command is expanded in place, so
// rules see the values BuildKit builds with; Instruction.Args keeps the
// words as written.
func (b *builder) expand(in *Instruction, st *Stage) {
	in.Scope = st.scope.snapshot()
	in.Written = written(in.Command)
	switch c := in.Command.(type) {
	case *instructions.ArgCommand:
		for i, kv := range c.Args {
			switch {
			case kv.Value != nil:
				v, ok := b.wordOK(st.scope, *kv.Value)
				if !ok {
					// Too large to know here: to the rules, like an
					// ARG the build gives, so `$NAME` stays as written.
					st.scope.setUnknown(kv.Key)
					continue
				}
				c.Args[i].Value = &v
				st.scope.setValue(kv.Key, v)
			case b.hasGlobal(kv.Key):
				// `ARG NAME` brings a global ARG's default into the stage.
				prev, _ := st.scope.state(kv.Key)
				st.scope.set(scopeChange{name: kv.Key, value: b.args[kv.Key], has: true, arg: prev.arg})
			default:
				st.scope.setArg(kv.Key)
			}
		}
	case *instructions.RunCommand:
		// Mount options are expanded by parseRun; the body by the shell.
	case instructions.SupportsSingleWordExpansion:
		_ = c.Expand(func(w string) (string, error) { return b.word(st.scope, w), nil })
		if env, ok := c.(*instructions.EnvCommand); ok {
			for _, kv := range env.Env {
				st.scope.setValue(kv.Key, kv.Value)
			}
		}
	}
}

func (b *builder) hasGlobal(k string) bool { _, ok := b.args[k]; return ok }

// globalArgs records the ARGs before the first FROM, whose defaults FROM
// lines see. A default is expanded as BuildKit expands it: quotes removed,
// earlier global ARGs substituted. One that depends on a global ARG
// without a default is given at build time, so it is unknown too.
func (b *builder) globalArgs(a *instructions.ArgCommand) {
	for _, kv := range a.Args {
		if kv.Value == nil {
			if _, ok := b.args[kv.Key]; !ok {
				b.unset[kv.Key] = true
			}
			continue
		}
		if b.overBudget(*kv.Value, envMap(b.args).Get) {
			// Too large to know: treated as a value given at build time.
			delete(b.args, kv.Key)
			b.unset[kv.Key] = true
			continue
		}
		res, err := b.lex.ProcessWordWithMatches(*kv.Value, envMap(b.args))
		if err != nil || b.unknown(res.Unmatched) {
			delete(b.args, kv.Key)
			b.unset[kv.Key] = true
			continue
		}
		b.args[kv.Key] = res.Result
		delete(b.unset, kv.Key)
	}
}

// platformArgs are the ARGs BuildKit defines in the global scope itself.
var platformArgs = map[string]bool{
	"BUILDPLATFORM": true, "BUILDOS": true, "BUILDARCH": true, "BUILDVARIANT": true,
	"TARGETPLATFORM": true, "TARGETOS": true, "TARGETARCH": true, "TARGETVARIANT": true,
}

// unknown reports whether some of the unmatched names of a FROM word (or a
// global ARG default) get their value at build time: a global ARG without
// a default, or a platform ARG. Any other name is declared nowhere a FROM
// can see, and BuildKit expands it to nothing.
func (b *builder) unknown(unmatched map[string]struct{}) bool {
	for k := range unmatched {
		if b.unset[k] || platformArgs[k] {
			return true
		}
	}
	return false
}

// windowsBase recognises the images Windows containers are built FROM:
// Microsoft's Windows base images and the many images tagged for a
// Windows release.
func windowsBase(st *Stage) bool {
	if strings.HasPrefix(strings.ToLower(st.Platform), "windows") {
		return true
	}
	ref := strings.ToLower(st.Base)
	if ref == "" {
		ref = strings.ToLower(st.BaseRaw)
	}
	if strings.HasPrefix(ref, "mcr.microsoft.com/windows") {
		return true
	}
	for _, w := range []string{"windowsservercore", "nanoserver", "servercore", "windows-ltsc", "-ltsc20", ":ltsc20"} {
		if strings.Contains(ref, w) {
			return true
		}
	}
	return false
}

// shellPragmaRe is hadolint's `# hadolint shell=powershell`, and the same
// in dockvet's name: the shell the base image runs RUN with, for a base
// whose default shell is not sh and that no SHELL names (a Windows image
// built FROM a name dockvet cannot recognise, as jenkins' test images are).
var shellPragmaRe = regexp.MustCompile(`^(?:hadolint|dockvet)\s+shell\s*=\s*(\S+)$`)

// shellPragma applies a shell comment above an instruction to its stage,
// from that instruction on, as a SHELL instruction would.
func shellPragma(n *parser.Node, st *Stage) {
	for _, c := range n.PrevComment {
		if m := shellPragmaRe.FindStringSubmatch(strings.TrimSpace(c)); m != nil {
			st.Shell = []string{m[1]}
			if windowsShell(m[1]) {
				st.Windows = true
			}
		}
	}
}

func windowsShell(name string) bool {
	n := strings.ToLower(name)
	n = n[strings.LastIndexAny(n, `/\`)+1:]
	n = strings.TrimSuffix(n, ".exe")
	return n == "powershell" || n == "pwsh" || n == "cmd"
}

var shellVar = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// runWord expands the variables of a word of a RUN command as the shell
// running it will: with the command's environment (assignments, exports,
// the stage's ENV and ARG). A name the Dockerfile declares elsewhere but
// not where this RUN can see it is empty at build time; a name it never
// declares may come from the base image and is kept as written.
func runWord(f *File, in *Instruction, c *shell.Command, w string) string {
	if !strings.Contains(w, "$") {
		return w
	}
	if expandedSize(w, func(name string) (string, bool) { return envOf(in, c, name) }) > MaxValueBytes {
		return w // as written: a value decided at build time to the rules
	}
	return shellVar.ReplaceAllStringFunc(w, func(m string) string {
		name := shellVar.FindStringSubmatch(m)[1]
		if strings.HasPrefix(m, "${") && !strings.HasSuffix(m, "}") {
			return m // ${name:-default} and the like: leave it
		}
		if v, ok := envOf(in, c, name); ok {
			return v
		}
		if in.Scope != nil && in.Scope.IsArg(name) || !f.declares(name) {
			return m
		}
		return ""
	})
}

// declares reports whether an ARG or ENV anywhere in the file sets name.
func (f *File) declares(name string) bool {
	for _, in := range f.Instructions {
		switch c := in.Command.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				if kv.Key == name {
					return true
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				if kv.Key == name {
					return true
				}
			}
		}
	}
	return false
}

// written are the values of an ENV, ARG or LABEL before expansion.
func written(c instructions.Command) map[string]string {
	m := map[string]string{}
	switch c := c.(type) {
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			m[kv.Key] = kv.Value
		}
	case *instructions.LabelCommand:
		for _, kv := range c.Labels {
			m[kv.Key] = kv.Value
		}
	case *instructions.ArgCommand:
		for _, kv := range c.Args {
			if kv.Value != nil {
				m[kv.Key] = *kv.Value
			}
		}
	default:
		return nil
	}
	return m
}
