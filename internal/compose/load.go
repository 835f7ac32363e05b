// Package compose loads Compose projects with compose-spec/compose-go —
// several -f files and overrides, include, extends, profiles, .env files
// and interpolation, exactly as `docker compose` reads them — turns every
// service into a container spec, and maps each setting back to the line of
// the file that wrote it, which compose-go does not keep.
package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/dockvet/dockvet/internal/safefile"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
	"gopkg.in/yaml.v3"

	"github.com/dockvet/dockvet/internal/container"
)

// Options say which project to load.
type Options struct {
	// Files are the Compose files, as `-f` gives them: the first is the
	// main file, the others override it.
	Files []string
	// ProjectDir is the project directory (default: the main file's).
	ProjectDir string
	// EnvFiles interpolate the files (default: ProjectDir/.env when it
	// exists). The process environment is not used: a finding must come
	// from what the repository holds, not from the shell dockvet runs in.
	EnvFiles []string
	// Profiles select services as `--profile` does; empty loads every
	// service, whatever its profiles.
	Profiles []string
	// Display turns an absolute path into the one findings show (default:
	// relative to the working directory when below it).
	Display func(abs string) string
}

// Project is a loaded Compose project.
type Project struct {
	Model *types.Project
	// Files are the Compose files as displayed; Files[0] is the main one.
	Files []string
	// Specs are the containers the project starts, one per service and
	// job, in name order.
	Specs []*container.Spec

	// Escapes are the files the project refers to outside its project
	// directory; they were not read (DV3063).
	Escapes []Escape

	loc     *locator
	env     *environment
	display func(string) string
}

// Escape is a file a project refers to that lies outside its project
// directory — an absolute path, ../, or a symbolic link out: an env_file
// pointing at a credentials file, `include: [/etc/shadow]`. Reading it
// would put another file's content into the audit (and its errors), so it
// is reported and not read.
type Escape struct {
	// Kind is what refers to it: "env_file", ".env", "include",
	// "include env_file", "extends".
	Kind string
	// Ref is the reference as written (after interpolation).
	Ref string
	// Src is where the reference is written.
	Src container.Source
}

// Error is a project that cannot be loaded, located when possible.
type Error struct {
	Path string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Path != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	case e.Path != "":
		return e.Path + ": " + e.Msg
	}
	return e.Msg
}

// compose-go reports warnings (unset variables, the obsolete `version`
// key) through logrus; dockvet reports on its own terms, so they are not
// printed.
var quietLogs sync.Once

// Load reads a Compose project.
func Load(ctx context.Context, opts Options) (*Project, error) {
	quietLogs.Do(func() { logrus.SetOutput(io.Discard) })
	if len(opts.Files) == 0 {
		return nil, errors.New("no Compose file given")
	}
	display := opts.Display
	if display == nil {
		display = DisplayPath
	}
	var files []string
	for _, f := range opts.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, &Error{Path: f, Msg: err.Error()}
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, &Error{Path: f, Msg: unwrapPath(err).Error()}
		}
		if fi.IsDir() {
			return nil, &Error{Path: f, Msg: "is a directory, not a Compose file"}
		}
		files = append(files, abs)
	}
	projectDir := opts.ProjectDir
	if projectDir == "" {
		projectDir = filepath.Dir(files[0])
	}
	projectDir, _ = filepath.Abs(projectDir)
	envFiles, escapes, err := envFileList(projectDir, opts.EnvFiles, display)
	if err != nil {
		return nil, err
	}
	// Budgets first: compose-go expands env files and interpolates the
	// files without a bound (budget.go).
	budget := newExpansion(display)
	for _, f := range envFiles {
		if err := budget.checkEnvFile(f); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		if err := budget.checkComposeFile(f); err != nil {
			return nil, err
		}
	}
	env, err := newEnvironment(envFiles, display)
	if err != nil {
		return nil, err
	}

	loc := newLocator(display, projectDir)
	loc.escapes = escapes
	for _, f := range files {
		if err := loc.addFile(f, env); err != nil {
			var se *SyntaxError
			if errors.As(err, &se) {
				return nil, &Error{Path: se.Path, Line: se.Line, Msg: se.Msg}
			}
			return nil, &Error{Path: display(f), Msg: unwrapPath(err).Error()}
		}
	}

	if loc.refused != nil {
		return nil, loc.refused
	}
	if err := checkLocated(loc); err != nil {
		return nil, err
	}
	stubs, cleanup, err := writeStubs(loc.stubs)
	if err != nil {
		return nil, err
	}
	model, err := loadModel(ctx, files, projectDir, envFiles, opts.Profiles, env, stubs)
	cleanup()
	if err != nil {
		return nil, loc.locateError(err, display(files[0]))
	}
	if model, err = loc.resolveEnvFiles(model); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e // located already
		}
		return nil, loc.locateError(err, display(files[0]))
	}
	p := &Project{Model: model, loc: loc, env: env, display: display, Escapes: loc.escapes}
	for _, f := range files {
		p.Files = append(p.Files, display(f))
	}
	p.buildSpecs()
	return p, nil
}

// loadModel runs compose-go. A required variable (${X:?}) that no project
// file sets is an error for `docker compose` until the caller exports it;
// an audit of the repository goes on with the variable's own reference as
// its value, so it tries again with a placeholder for each one reported.
func loadModel(ctx context.Context, files []string, projectDir string, envFiles, profiles []string, env *environment, stubs map[string]string) (*types.Project, error) {
	if len(profiles) == 0 {
		profiles = []string{"*"}
	}
	name := loader.NormalizeProjectName(filepath.Base(projectDir))
	for range 64 {
		fns := []cli.ProjectOptionsFn{
			cli.WithWorkingDirectory(projectDir),
			cli.WithProfiles(profiles),
			// Include and extends files outside the project are replaced
			// by stubs: compose-go does not read them.
			cli.WithResourceLoader(stubLoader(stubs)),
			cli.WithLoadOptions(func(o *loader.Options) {
				// Env files are read below, tolerating missing ones;
				// labels are not audited.
				o.SkipResolveEnvironment, o.SkipResolveLabels = true, true
				if o.Interpolate != nil {
					o.Interpolate.LookupValue = env.lookup
					o.Interpolate.Substitute = func(s string, m template.Mapping) (string, error) {
						return template.SubstituteWithOptions(s, m, template.WithoutLogging)
					}
				}
			}),
		}
		if name == "" {
			fns = append(fns, cli.WithName("project"))
		}
		// The env files were vetted (envFileList). With none, compose-go
		// is not asked for its default: it would stat and read .env
		// itself, following a link to /dev/zero.
		if len(envFiles) > 0 {
			fns = append(fns, cli.WithEnvFiles(envFiles...), cli.WithDotEnv)
		}
		o, err := cli.NewProjectOptions(files, fns...)
		if err != nil {
			return nil, err
		}
		p, err := o.LoadProject(ctx)
		if err == nil {
			return p, nil
		}
		missing := missingVariables(err)
		added := false
		for _, v := range missing {
			if !env.placeholders[v] {
				env.placeholders[v] = true
				added = true
			}
		}
		if !added {
			return nil, err
		}
	}
	return nil, errors.New("too many required variables without a value")
}

// resolveEnvFiles merges each service's env files into its environment as
// compose-go does, except that an env file that is not there is skipped:
// a repository often leaves out the env file its deployment provides
// (.env.local, secrets.env), and its values are then not the repository's.
//
// An env file outside the project directory is an escape (DV3063) and is
// left out; one that is not a regular file, or over the cap, stops the
// load with one line naming it (compose-go would block on a FIFO).
func (l *locator) resolveEnvFiles(p *types.Project) (*types.Project, error) {
	for _, name := range sortedKeys(p.Services) {
		s := p.Services[name]
		var kept []types.EnvFile
		for _, ef := range s.EnvFiles {
			if l.escaped("env_file", ef.Path, ef.Path, l.envFileSource(name)) {
				continue
			}
			if _, err := safefile.ReadFile(ef.Path, safefile.MaxSource); err != nil && !errors.Is(err, fs.ErrNotExist) {
				src := l.envFileSource(name)
				return nil, &Error{Path: src.Path, Line: src.Line, Msg: "env_file " + l.display(ef.Path) + ": " + safefile.Message(err)}
			}
			ef.Required = false
			kept = append(kept, ef)
		}
		s.EnvFiles = kept
		p.Services[name] = s
	}
	// Budgets before compose-go expands what is kept (budget.go).
	if err := newExpansionFrom(p.Environment, l.display).checkServiceEnvFiles(p); err != nil {
		return nil, err
	}
	return p.WithServicesEnvironmentResolved(false)
}

func (l *locator) envFileSource(service string) container.Source {
	src, _ := l.find([]string{"services", service, "env_file"}, "")
	return src
}

// stubLoader hands compose-go a stub for every include or extends
// reference that leaves the project directory.
type stubLoader map[string]string

func (s stubLoader) Accept(p string) bool                             { _, ok := s[p]; return ok }
func (s stubLoader) Load(_ context.Context, p string) (string, error) { return s[p], nil }
func (s stubLoader) Dir(p string) string                              { return filepath.Dir(s[p]) }

// writeStubs writes, for each escaping reference, a Compose file with the
// services it must provide (empty ones: an extends base adds nothing), in
// a temporary directory that cleanup removes.
func writeStubs(refs map[string][]string) (map[string]string, func(), error) {
	if len(refs) == 0 {
		return nil, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "dockvet-compose-stub-*")
	if err != nil {
		return nil, nil, err
	}
	out := map[string]string{}
	i := 0
	for ref, services := range refs {
		doc := map[string]map[string]any{"services": {}}
		for _, s := range services {
			if s != "" {
				doc["services"][s] = map[string]any{}
			}
		}
		data, _ := yaml.Marshal(doc)
		i++
		p := filepath.Join(dir, fmt.Sprintf("stub%d.yaml", i))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		out[ref] = p
	}
	return out, func() { os.RemoveAll(dir) }, nil
}

// missingVariables lists the required variables an error reports.
func missingVariables(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		var mr *template.MissingRequiredError
		if errors.As(e, &mr) {
			out = append(out, mr.Variable)
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}

// envFileList vets the env files that interpolate the project: those the
// caller names (--env-file: the user's choice, read wherever they are, but
// only when regular files under the cap), else the project's .env, which
// must stay in the project directory — a .env linking to /dev/zero or to a
// file outside is an escape, reported and not read.
func envFileList(projectDir string, given []string, display func(string) string) ([]string, []Escape, error) {
	if len(given) > 0 {
		var out []string
		for _, f := range given {
			abs, err := filepath.Abs(f)
			if err != nil {
				return nil, nil, err
			}
			if _, err := safefile.ReadFile(abs, safefile.MaxSource); err != nil {
				return nil, nil, &Error{Path: f, Msg: "env file: " + safefile.Message(err)}
			}
			out = append(out, abs)
		}
		return out, nil, nil
	}
	def := filepath.Join(projectDir, ".env")
	fi, err := os.Lstat(def)
	if err != nil || fi.IsDir() {
		return nil, nil, nil
	}
	if _, err := safefile.Within(projectDir, def); err != nil {
		to, _ := filepath.EvalSymlinks(def)
		if to == "" {
			to, _ = os.Readlink(def)
		}
		return nil, []Escape{{Kind: ".env", Ref: to, Src: container.Source{Path: display(def)}}}, nil
	}
	if _, err := os.Stat(def); errors.Is(err, fs.ErrNotExist) {
		// A link to a file that is not there: docker compose then reads
		// no .env (compose-go asks os.Stat), and neither does dockvet.
		// mailcow ships .env -> mailcow.conf, which its setup script
		// writes. A link out of the project is still reported: where it
		// resolves, compose reads it.
		if to, err := os.Readlink(def); err == nil {
			if !filepath.IsAbs(to) {
				to = filepath.Join(filepath.Dir(def), to)
			}
			if _, err := safefile.Within(projectDir, to); err != nil {
				return nil, []Escape{{Kind: ".env", Ref: to, Src: container.Source{Path: display(def)}}}, nil
			}
		}
		return nil, nil, nil
	}
	if _, err := safefile.ReadFile(def, safefile.MaxSource); err != nil {
		return nil, nil, &Error{Path: display(def), Msg: safefile.Message(err)}
	}
	return []string{def}, nil, nil
}

func newEnvironment(envFiles []string, display func(string) string) (*environment, error) {
	env := &environment{values: map[string]string{}, defs: map[string]envDef{}, placeholders: map[string]bool{}}
	vals, err := readEnvFiles(nil, envFiles)
	if err != nil {
		return nil, err
	}
	env.values = vals
	for _, f := range envFiles {
		data, err := safefile.ReadFile(f, safefile.MaxSource)
		if err != nil {
			return nil, &Error{Path: display(f), Msg: unwrapPath(err).Error()}
		}
		for name, line := range envLines(data) {
			env.defs[name] = envDef{path: display(f), line: line}
		}
	}
	return env, nil
}

// readEnvFiles reads env files with compose-go's own parser, so values are
// what `docker compose` would interpolate.
func readEnvFiles(current map[string]string, files []string) (map[string]string, error) {
	if current == nil {
		current = map[string]string{}
	}
	vals, err := dotenv.GetEnvFromFile(current, files)
	if err != nil {
		return nil, &Error{Msg: oneLine(err.Error())}
	}
	if vals == nil {
		vals = map[string]string{}
	}
	return vals, nil
}

var (
	keyPathRe    = regexp.MustCompile(`\b((?:services|jobs|volumes|networks|secrets|configs|include|models)(?:\.[A-Za-z0-9_\-\[\]]+)+)`)
	validatingRe = regexp.MustCompile(`^validating (\S+): `)
	serviceRe    = regexp.MustCompile(`service "([^"]+)"`)
	falseSchema  = regexp.MustCompile(`^(.*)\.([^.\s]+) false schema$`)
	parseFailRe  = regexp.MustCompile(`^failed to parse (\S+): yaml: (?:construct errors: )?(?:line (\d+)(?:, column \d+)?: )?(?:yaml: )?(.*)$`)
)

// locateError turns a compose-go error into one line naming the file and
// line: compose-go names the setting by its path (services.web.image), and
// the locator knows where that path is.
func (l *locator) locateError(err error, mainFile string) error {
	msg := oneLine(err.Error())
	file := ""
	if m := validatingRe.FindStringSubmatch(msg); m != nil {
		file = m[1]
		msg = strings.TrimPrefix(msg, m[0])
	}
	msg = strings.TrimPrefix(msg, "error while interpolating ")
	if m := parseFailRe.FindStringSubmatch(msg); m != nil {
		line := 0
		fmt.Sscanf(m[2], "%d", &line)
		return &Error{Path: l.display(m[1]), Line: line, Msg: m[3]}
	}
	if m := falseSchema.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("%s: unknown key %q", m[1], m[2])
		if src, ok := l.find(append(strings.Split(m[1], "."), m[2]), file); ok {
			return &Error{Path: src.Path, Line: src.Line, Msg: msg}
		}
	}
	if m := keyPathRe.FindStringSubmatch(msg); m != nil {
		if src, ok := l.find(strings.Split(m[1], "."), file); ok {
			return &Error{Path: src.Path, Line: src.Line, Msg: msg}
		}
	}
	// Some errors name the offending value but not its path ("invalid IP
	// address: 80:80"): find the value.
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i > 4 {
		if src, ok := l.findValue(msg[i+2:]); ok {
			return &Error{Path: src.Path, Line: src.Line, Msg: msg}
		}
	}
	if m := serviceRe.FindStringSubmatch(msg); m != nil {
		if src := l.service("services", m[1]).Src(); src.Path != "" {
			return &Error{Path: src.Path, Line: src.Line, Msg: msg}
		}
	}
	if file != "" {
		return &Error{Path: l.display(file), Msg: msg}
	}
	return &Error{Path: mainFile, Msg: msg}
}

// find locates the deepest existing prefix of a key path, preferring the
// named file, then the last file that has it.
func (l *locator) find(path []string, file string) (container.Source, bool) {
	var files []*yfile
	if f, ok := l.files[file]; ok {
		files = append(files, f)
	}
	order := slices.Clone(l.order)
	slices.Reverse(order)
	files = append(files, order...)
	for n := len(path); n > 0; n-- {
		for _, f := range files {
			for _, doc := range f.docs {
				if k, _ := lookupPath(doc, path[:n]); k != nil {
					return l.at(f, k), true
				}
			}
		}
	}
	return container.Source{}, false
}

// findValue finds the last scalar of the files that contains text.
func (l *locator) findValue(text string) (container.Source, bool) {
	for i := len(l.order) - 1; i >= 0; i-- {
		f := l.order[i]
		for _, doc := range f.docs {
			if n := findScalar(doc, text, 0); n != nil {
				return l.at(f, n), true
			}
		}
	}
	return container.Source{}, false
}

func findScalar(n *yaml.Node, text string, depth int) *yaml.Node {
	if n == nil || depth > 64 || n.Kind == yaml.AliasNode {
		return nil
	}
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, text) {
		return n
	}
	for _, c := range n.Content {
		if r := findScalar(c, text, depth+1); r != nil {
			return r
		}
	}
	return nil
}

// DisplayPath shows a path relative to the working directory when it is
// below it, and absolute otherwise.
func DisplayPath(abs string) string {
	wd, err := os.Getwd()
	if err != nil {
		return abs
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return abs
	}
	return rel
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
