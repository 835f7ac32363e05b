package compose

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/safefile"

	"github.com/compose-spec/compose-go/v2/template"
	"gopkg.in/yaml.v3"

	"github.com/dockvet/dockvet/internal/container"
)

// compose-go merges files, includes and extends into one model and keeps
// no positions. The locator reads the same files again with yaml.v3, which
// does, and answers "where was this written?" for a setting of the loaded
// model: it keeps, for every service, the YAML mappings that defined it
// (extends bases first, then each file in load order) and looks a key up
// from the last of them back, as compose-go's override order decides which
// one wins.

// yfile is one Compose file read for positions.
type yfile struct {
	path string       // absolute
	docs []*yaml.Node // top-level mapping of each document
	env  *environment // interpolation environment for this file
}

// layer is one mapping that contributes to a service.
type layer struct {
	file *yfile
	key  *yaml.Node // the service name
	node *yaml.Node // the service mapping
	base bool       // an extends base, not the service itself
}

// locator maps settings of a loaded project back to YAML positions.
type locator struct {
	files   map[string]*yfile
	order   []*yfile           // top-level and included files, in load order
	layers  map[string][]layer // "services/NAME" or "jobs/NAME" → layers
	display func(string) string
	// maxFiles bounds include and extends chains.
	maxFiles int
	// root is the project directory: include and extends files outside
	// it are escapes (DV3063) and are not read.
	root    string
	escapes []Escape
	// stubs are the include and extends references that escape, as
	// compose-go will see them, with the services each must provide.
	stubs map[string][]string
	// refused is an escape compose-go would read itself, with no hook to
	// stop it (an included project's env file): the project is not loaded.
	refused error
}

func newLocator(display func(string) string, root string) *locator {
	return &locator{files: map[string]*yfile{}, layers: map[string][]layer{}, display: display, maxFiles: 256, root: root, stubs: map[string][]string{}}
}

// escapes reports whether abs leaves the project directory, and records
// the escape when it does.
func (l *locator) escaped(kind, ref, abs string, src container.Source) bool {
	if strings.Contains(abs, "://") {
		return false // remote includes are compose-go's to fetch
	}
	_, err := safefile.Within(l.root, abs)
	var ee *safefile.EscapeError
	if !errors.As(err, &ee) {
		return false
	}
	l.escapes = append(l.escapes, Escape{Kind: kind, Ref: ref, Src: src})
	return true
}

// SyntaxError is a Compose file that is not valid YAML.
type SyntaxError struct {
	Path string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+)(?:, column \d+)?: (.*)$`)

// aliasCycle returns an alias that stands inside the node it refers to
// (`a: &a {b: *a}`), or nil. compose-go resolves such a document by
// recursion without end until the stack is exhausted: a few dozen bytes
// ended the process. Every alias cycle has this shape, since an anchor must
// be written before any alias to it.
func aliasCycle(n *yaml.Node, open map[*yaml.Node]bool) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		if open[n.Alias] {
			return n
		}
		return nil
	}
	open[n] = true
	defer delete(open, n)
	for _, c := range n.Content {
		if a := aliasCycle(c, open); a != nil {
			return a
		}
	}
	return nil
}

// within keeps a line the YAML parser named inside the file: it places
// what it found missing at the end of a file (an empty document after
// "---", an unclosed flow) on the line after the last, which an editor
// does not have. Lines are counted as YAML counts them (a lone carriage
// return ends one too).
func within(data []byte, line int) int {
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	return min(line, strings.Count(text, "\n")+1)
}

// parseYAML reads every document of a Compose file.
func parseYAML(display string, data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			msg := strings.Join(strings.Fields(err.Error()), " ")
			if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
				var line int
				fmt.Sscanf(m[1], "%d", &line)
				return nil, &SyntaxError{Path: display, Line: within(data, line), Msg: m[2]}
			}
			return nil, &SyntaxError{Path: display, Msg: strings.TrimPrefix(msg, "yaml: ")}
		}
		if len(doc.Content) == 0 {
			continue
		}
		if a := aliasCycle(&doc, map[*yaml.Node]bool{}); a != nil {
			return nil, &SyntaxError{Path: display, Line: within(data, a.Line), Msg: fmt.Sprintf("alias *%s refers to a node that contains it, so the document never ends", a.Value)}
		}
		top := deref(doc.Content[0])
		if top.Kind != yaml.MappingNode {
			return nil, &SyntaxError{Path: display, Line: within(data, top.Line), Msg: "the top level of a Compose file must be a mapping"}
		}
		docs = append(docs, top)
	}
	return docs, nil
}

// addFile reads a Compose file, its includes (first, as compose-go merges
// them) and the extends bases of its services.
func (l *locator) addFile(path string, env *environment) error {
	if len(l.files) >= l.maxFiles {
		return fmt.Errorf("more than %d Compose files through include and extends", l.maxFiles)
	}
	if f, ok := l.files[path]; ok {
		l.order = append(l.order, f)
		l.addServices(f)
		return nil
	}
	data, err := safefile.ReadFile(path, safefile.MaxSource)
	if err != nil {
		return err
	}
	docs, err := parseYAML(l.display(path), data)
	if err != nil {
		return err
	}
	f := &yfile{path: path, docs: docs, env: env}
	l.files[path] = f
	for _, doc := range docs {
		if inc := mapGet(doc, "include"); inc != nil {
			if err := l.addIncludes(f, inc); err != nil {
				return err
			}
		}
	}
	l.order = append(l.order, f)
	l.addServices(f)
	return nil
}

// addIncludes follows `include:` entries: a path, or {path, project_directory,
// env_file}. Their files are interpolated with their own .env (or env_file)
// under the including project's variables.
func (l *locator) addIncludes(f *yfile, inc *yaml.Node) error {
	inc = deref(inc)
	if inc.Kind != yaml.SequenceNode {
		return nil
	}
	dir := filepath.Dir(f.path)
	for _, item := range inc.Content {
		item = deref(item)
		var paths, envFiles []string
		projectDir := ""
		switch item.Kind {
		case yaml.ScalarNode:
			paths = []string{f.env.interpolate(item.Value)}
		case yaml.MappingNode:
			paths = stringList(mapGet(item, "path"), f.env)
			envFiles = stringList(mapGet(item, "env_file"), f.env)
			if pd := mapGet(item, "project_directory"); pd != nil {
				projectDir = f.env.interpolate(deref(pd).Value)
			}
		}
		if len(paths) == 0 {
			continue
		}
		src := l.at(f, item)
		var kept []string
		for _, p := range paths {
			if l.escaped("include", p, absFrom(dir, p), src) {
				l.stubs[p] = append(l.stubs[p], "")
				continue
			}
			kept = append(kept, absFrom(dir, p))
		}
		if len(kept) == 0 {
			continue
		}
		paths = kept
		if projectDir == "" {
			projectDir = filepath.Dir(paths[0])
		} else {
			projectDir = absFrom(dir, projectDir)
		}
		if len(envFiles) == 0 {
			// As compose-go decides (os.Stat): a link to nothing is no .env.
			if fi, err := os.Stat(filepath.Join(projectDir, ".env")); err == nil && !fi.IsDir() {
				envFiles = []string{filepath.Join(projectDir, ".env")}
			}
		} else {
			for i, e := range envFiles {
				envFiles[i] = absFrom(dir, e)
			}
		}
		// compose-go reads an included project's env files itself, with
		// no hook to leave one out: one that escapes stops the load.
		for _, e := range envFiles {
			if l.escaped("include env_file", e, e, src) && l.refused == nil {
				l.refused = &Error{Path: src.Path, Line: src.Line, Msg: "the env file of an include, " + e + ", leaves the project directory: not read, and the project is not loaded"}
			}
		}
		if l.refused != nil {
			continue
		}
		if err := checkInclude(f.env, envFiles, paths, l.display); err != nil {
			return err // budget.go: before the env files are expanded
		}
		env := f.env.child(envFiles, l.display)
		for _, p := range paths {
			if strings.Contains(p, "://") {
				continue // remote includes (git, oci) are not read for positions
			}
			if err := l.addFile(p, env); err != nil {
				return err
			}
		}
	}
	return nil
}

func absFrom(dir, p string) string {
	if filepath.IsAbs(p) || strings.Contains(p, "://") {
		return p
	}
	return filepath.Join(dir, p)
}

func stringList(n *yaml.Node, env *environment) []string {
	n = deref(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{env.interpolate(n.Value)}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			c = deref(c)
			if c.Kind == yaml.ScalarNode {
				out = append(out, env.interpolate(c.Value))
			} else if p := mapGet(c, "path"); p != nil {
				out = append(out, env.interpolate(deref(p).Value))
			}
		}
		return out
	}
	return nil
}

// addServices records the services and jobs a file defines, each after
// the layers of what it extends.
func (l *locator) addServices(f *yfile) {
	for _, kind := range []string{"services", "jobs"} {
		for _, doc := range f.docs {
			m := deref(mapGet(doc, kind))
			if m == nil || m.Kind != yaml.MappingNode {
				continue
			}
			for i := 0; i+1 < len(m.Content); i += 2 {
				name := m.Content[i].Value
				id := kind + "/" + name
				l.layers[id] = append(l.layers[id], l.extendsLayers(f, kind, deref(m.Content[i+1]), 0)...)
				l.layers[id] = append(l.layers[id], layer{file: f, key: m.Content[i], node: deref(m.Content[i+1])})
			}
		}
	}
}

// extendsLayers are the layers a service inherits through `extends`.
func (l *locator) extendsLayers(f *yfile, kind string, svc *yaml.Node, depth int) []layer {
	ext := deref(mapGet(svc, "extends"))
	if ext == nil || depth > 16 {
		return nil
	}
	var ref, file string
	switch ext.Kind {
	case yaml.ScalarNode:
		ref = f.env.interpolate(ext.Value)
	case yaml.MappingNode:
		if s := deref(mapGet(ext, "service")); s != nil {
			ref = f.env.interpolate(s.Value)
		}
		if fl := deref(mapGet(ext, "file")); fl != nil {
			file = f.env.interpolate(fl.Value)
		}
	}
	if ref == "" {
		return nil
	}
	base := f
	if file != "" {
		p := absFrom(filepath.Dir(f.path), file)
		if l.escaped("extends", file, p, l.at(f, ext)) {
			l.stubs[file] = append(l.stubs[file], ref)
			return nil
		}
		bf, ok := l.files[p]
		if !ok && len(l.files) < l.maxFiles {
			data, err := safefile.ReadFile(p, safefile.MaxSource)
			if err != nil {
				return nil
			}
			docs, err := parseYAML(l.display(p), data)
			if err != nil {
				return nil
			}
			bf = &yfile{path: p, docs: docs, env: f.env}
			l.files[p] = bf
		}
		if bf == nil {
			return nil
		}
		base = bf
	}
	var out []layer
	for _, doc := range base.docs {
		m := deref(mapGet(doc, kind))
		key, node := mapGetKey(m, ref)
		if node == nil {
			continue
		}
		node = deref(node)
		out = append(out, l.extendsLayers(base, kind, node, depth+1)...)
		out = append(out, layer{file: base, key: key, node: node, base: true})
	}
	return out
}

// svc is the position view of one service.
type svc struct {
	l      *locator
	layers []layer
}

func (l *locator) service(kind, name string) *svc {
	return &svc{l: l, layers: l.layers[kind+"/"+name]}
}

// Src is where the service itself is declared: its key in the first file
// that defines it (not an extends base).
func (s *svc) Src() container.Source {
	for _, ly := range s.layers {
		if !ly.base {
			return s.l.at(ly.file, ly.key)
		}
	}
	if len(s.layers) > 0 {
		return s.l.at(s.layers[0].file, s.layers[0].key)
	}
	return container.Source{}
}

// key finds the last definition of a key path ("deploy", "resources",
// "limits", "memory") and returns where its value is and the value node.
func (s *svc) key(path ...string) (container.Source, *yaml.Node, bool) {
	for i := len(s.layers) - 1; i >= 0; i-- {
		ly := s.layers[i]
		k, v := lookupPath(ly.node, path)
		if k != nil {
			return s.l.value(ly.file, k, v), v, true
		}
	}
	return container.Source{}, nil, false
}

// scalar returns the interpolated text of a key's value and whether the
// text depends on a variable that no project file sets.
func (s *svc) scalar(path ...string) (text string, unknown bool, ok bool) {
	for i := len(s.layers) - 1; i >= 0; i-- {
		ly := s.layers[i]
		k, v := lookupPath(ly.node, path)
		if k == nil {
			continue
		}
		v = deref(v)
		if v == nil || v.Kind != yaml.ScalarNode {
			return "", false, true
		}
		return ly.file.env.interpolate(v.Value), ly.file.env.undefined(v.Value), true
	}
	return "", false, false
}

// item finds the last list item under a key path that match accepts. match
// gets the item node and the file's environment to interpolate with.
func (s *svc) item(path []string, match func(n *yaml.Node, env *environment) bool) (container.Source, *yaml.Node, bool) {
	for i := len(s.layers) - 1; i >= 0; i-- {
		ly := s.layers[i]
		k, v := lookupPath(ly.node, path)
		if k == nil {
			continue
		}
		v = deref(v)
		switch v.Kind {
		case yaml.SequenceNode:
			for j := len(v.Content) - 1; j >= 0; j-- {
				it := deref(v.Content[j])
				if match(it, ly.file.env) {
					return s.l.value(ly.file, it, it), it, true
				}
			}
		case yaml.ScalarNode:
			if match(v, ly.file.env) {
				return s.l.value(ly.file, k, v), v, true
			}
		}
	}
	return container.Source{}, nil, false
}

// entry finds NAME in a key that is a mapping (NAME: value) or a list
// ("NAME=value", "NAME"), such as environment, sysctls and labels.
func (s *svc) entry(path []string, name string) (container.Source, *yaml.Node, bool) {
	for i := len(s.layers) - 1; i >= 0; i-- {
		ly := s.layers[i]
		k, v := lookupPath(ly.node, path)
		if k == nil {
			continue
		}
		v = deref(v)
		switch v.Kind {
		case yaml.MappingNode:
			if ek, ev := mapGetKey(v, name); ek != nil {
				return s.l.value(ly.file, ek, ev), ev, true
			}
		case yaml.SequenceNode:
			for j := len(v.Content) - 1; j >= 0; j-- {
				it := deref(v.Content[j])
				if it.Kind != yaml.ScalarNode {
					continue
				}
				n, _, _ := strings.Cut(it.Value, "=")
				if strings.TrimSpace(n) == name {
					return s.l.value(ly.file, it, it), it, true
				}
			}
		}
	}
	return container.Source{}, nil, false
}

// at is the position of a node.
func (l *locator) at(f *yfile, n *yaml.Node) container.Source {
	if n == nil {
		return container.Source{Path: l.display(f.path)}
	}
	return container.Source{Path: l.display(f.path), Line: n.Line}
}

// value is the position of a setting whose key is k and value v. When the
// value is a variable that a project env file sets, the finding belongs
// where the value was written: that line of the env file.
func (l *locator) value(f *yfile, k, v *yaml.Node) container.Source {
	src := l.at(f, k)
	v = deref(v)
	if v == nil || v.Kind != yaml.ScalarNode || f.env == nil {
		return src
	}
	var defined []string
	for _, name := range variables(v.Value) {
		if _, ok := f.env.defs[name]; ok && !slices.Contains(defined, name) {
			defined = append(defined, name)
		}
	}
	if len(defined) != 1 {
		return src
	}
	d := f.env.defs[defined[0]]
	return container.Source{Path: d.path, Line: d.line,
		Note: fmt.Sprintf("value of ${%s}, used in %s line %d", defined[0], src.Path, src.Line)}
}

var varRe = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))`)

// variables lists the variables a Compose value interpolates ($$ is a
// literal dollar).
func variables(s string) []string {
	s = strings.ReplaceAll(s, "$$", "")
	var out []string
	for _, m := range varRe.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1]+m[2])
	}
	return out
}

// lookupPath follows a key path through mappings, YAML aliases and merge
// keys (<<: *defaults), returning the last key node and its value.
func lookupPath(n *yaml.Node, path []string) (*yaml.Node, *yaml.Node) {
	var k *yaml.Node
	for _, p := range path {
		n = deref(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return nil, nil
		}
		k, n = mapGetKey(n, p)
		if k == nil {
			return nil, nil
		}
	}
	return k, n
}

// mapGetKey finds key in a mapping, then in what its merge keys bring in.
func mapGetKey(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	return mapGetKeyDepth(m, key, 0)
}

func mapGetKeyDepth(m *yaml.Node, key string, depth int) (*yaml.Node, *yaml.Node) {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode || depth > 16 {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key && k.Tag != "!!merge" {
			return k, m.Content[i+1]
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Tag == "!!merge" || k.Value == "<<" && k.Style == 0 {
			src := deref(m.Content[i+1])
			var srcs []*yaml.Node
			if src != nil && src.Kind == yaml.SequenceNode {
				srcs = src.Content
			} else {
				srcs = []*yaml.Node{src}
			}
			for _, s := range srcs {
				if fk, fv := mapGetKeyDepth(s, key, depth+1); fk != nil {
					return fk, fv
				}
			}
		}
	}
	return nil, nil
}

func mapGet(m *yaml.Node, key string) *yaml.Node {
	_, v := mapGetKey(m, key)
	return v
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// field is the interpolated text of a scalar field of a mapping item
// (the long syntax of ports, volumes, devices).
func field(n *yaml.Node, env *environment, key string) string {
	v := deref(mapGet(n, key))
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return env.interpolate(v.Value)
}

// environment is what a file is interpolated with, and where each
// variable was set.
type environment struct {
	values map[string]string
	defs   map[string]envDef
	// placeholders are required variables that no file sets; they are
	// given their own reference as value so that loading goes on.
	placeholders map[string]bool
}

type envDef struct {
	path string
	line int
}

func (e *environment) lookup(name string) (string, bool) {
	if v, ok := e.values[name]; ok {
		return v, true
	}
	if e.placeholders[name] {
		return "${" + name + "}", true
	}
	// ${HOME} and ${PWD} mean the same on every machine: the user's home
	// and the project directory.
	switch name {
	case "HOME":
		return "~", true
	case "PWD":
		return ".", true
	}
	return "", false
}

// interpolate substitutes variables as compose-go does; text that cannot
// be interpolated is returned as written.
func (e *environment) interpolate(s string) string {
	if e == nil || !strings.Contains(s, "$") {
		return s
	}
	out, err := template.SubstituteWithOptions(s, e.lookup, template.WithoutLogging)
	if err != nil {
		return s
	}
	return out
}

// undefined reports whether a value uses a variable that no project file
// sets and that has no default: its value is only known where Compose runs.
func (e *environment) undefined(s string) bool {
	if e == nil {
		return strings.Contains(s, "$")
	}
	for _, name := range variables(s) {
		_, ok := e.values[name]
		if !ok && name != "HOME" && name != "PWD" && !hasDefault(s, name) {
			return true
		}
	}
	return false
}

func hasDefault(s, name string) bool {
	return strings.Contains(s, "${"+name+":-") || strings.Contains(s, "${"+name+"-")
}

// child is the environment of an included project: the including
// project's variables win over the included project's env files.
func (e *environment) child(envFiles []string, display func(string) string) *environment {
	c := &environment{values: map[string]string{}, defs: map[string]envDef{}, placeholders: e.placeholders}
	for _, f := range envFiles {
		if data, err := safefile.ReadFile(f, safefile.MaxSource); err == nil {
			for name, line := range envLines(data) {
				c.defs[name] = envDef{path: display(f), line: line}
			}
		}
	}
	if vals, err := readEnvFiles(e.values, envFiles); err == nil {
		for k, v := range vals {
			c.values[k] = v
		}
	}
	for k, v := range e.values {
		c.values[k] = v
	}
	for k, d := range e.defs {
		c.defs[k] = d
	}
	return c
}

var envLineRe = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]`)

// envLines maps each variable of an env file to the line that sets it
// last.
func envLines(data []byte) map[string]int {
	out := map[string]int{}
	for i, line := range strings.Split(string(data), "\n") {
		if m := envLineRe.FindStringSubmatch(line); m != nil {
			out[m[1]] = i + 1
		}
	}
	return out
}
