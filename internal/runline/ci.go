package runline

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dockvet/dockvet/internal/shell"
)

// CI services run as containers the CI runner starts from what the file
// says: a GitHub Actions job's `container` and `services`, a GitLab CI
// `image` and `services` with the variables in force. Each becomes the
// `docker create` command the runner would run, every argument at the
// line of the file that wrote it, so the container rules judge it as they
// judge a Compose service or a `docker run` line, at its file and line.

// arg is one argument of a command being built, with its line.
type arg struct {
	v    string
	line int
}

func buildCommand(path string, at int, name, service string, args []arg, image arg) Command {
	c := Command{Args: []string{"docker", "create"}, Lines: []int{at, at}, Path: path, Line: at, Name: name, Service: service, Declared: true}
	for _, a := range args {
		c.Args = append(c.Args, a.v)
		c.Lines = append(c.Lines, a.line)
	}
	c.Args = append(c.Args, image.v)
	c.Lines = append(c.Lines, image.line)
	return c
}

// GitHubContainers returns the containers a GitHub Actions workflow has
// the runner start: each job's `container` (a job running inside an image)
// and `services` (its sidecars). Their `options` are `docker create`
// options and are read as such; `ports`, `env` and `volumes` are -p, -e
// and -v. ${{ … }} expressions are values known only when the workflow
// runs.
func GitHubContainers(path string, src []byte) ([]Command, error) {
	if !strings.Contains(string(src), "container") && !strings.Contains(string(src), "services") {
		return nil, nil
	}
	root, err := yamlRoot(path, src)
	if err != nil || root == nil {
		return nil, err
	}
	jobs := mapValue(root, "jobs")
	var out []Command
	for _, job := range pairs(jobs) {
		if c := job.v; c != nil {
			if spec := mapValue(c, "container"); spec != nil {
				cmd, err := githubContainer(path, job.k, "", spec)
				if err != nil {
					return nil, err
				}
				if cmd != nil {
					out = append(out, *cmd)
				}
			}
			for _, svc := range pairs(mapValue(c, "services")) {
				cmd, err := githubContainer(path, "", svc.k, svc.v)
				if err != nil {
					return nil, err
				}
				if cmd != nil {
					out = append(out, *cmd)
				}
			}
		}
	}
	return out, nil
}

func githubContainer(path, name, service string, n *yaml.Node) (*Command, error) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		if n.Value == "" {
			return nil, nil
		}
		c := buildCommand(path, n.Line, name, service, nil, arg{githubValue(n.Value), n.Line})
		return &c, nil
	}
	img := deref(mapValue(n, "image"))
	if img == nil || img.Kind != yaml.ScalarNode || img.Value == "" {
		return nil, nil // a service without an image is an error GitHub reports
	}
	var args []arg
	for _, kv := range pairs(mapValue(n, "env")) {
		if v := deref(kv.v); v.Kind == yaml.ScalarNode {
			args = append(args, arg{"-e", kv.line}, arg{kv.k + "=" + githubValue(v.Value), kv.line})
		}
	}
	for _, p := range items(mapValue(n, "ports")) {
		args = append(args, arg{"-p", p.Line}, arg{githubValue(p.Value), p.Line})
	}
	for _, v := range items(mapValue(n, "volumes")) {
		args = append(args, arg{"-v", v.Line}, arg{githubValue(v.Value), v.Line})
	}
	if opt := deref(mapValue(n, "options")); opt != nil && opt.Kind == yaml.ScalarNode && strings.TrimSpace(opt.Value) != "" {
		words, err := shellWords(githubValue(opt.Value))
		if err != nil {
			return nil, &Error{Path: path, Line: opt.Line, Msg: "options: " + err.Error()}
		}
		for _, w := range words {
			args = append(args, arg{w, opt.Line})
		}
	}
	c := buildCommand(path, keyLine(n, img), name, service, args, arg{githubValue(img.Value), img.Line})
	return &c, nil
}

// githubValue makes ${{ … }} expressions opaque variables, as for run:
// steps.
func githubValue(s string) string {
	return ghExpr.ReplaceAllStringFunc(s, func(e string) string { return "$" + strings.Repeat("_", len(e)-1) })
}

// gitlabReserved are the top-level keys of a GitLab CI file that are not
// jobs.
var gitlabReserved = map[string]bool{"default": true, "include": true, "stages": true, "variables": true, "workflow": true,
	"image": true, "services": true, "cache": true, "before_script": true, "after_script": true, "spec": true}

// GitLabContainers returns the containers a GitLab CI file has the runner
// start: the default `image` and `services` (top level or under
// `default:`), and each job's own. A service gets the variables in force
// for it (the file's, the job's, its own), as GitLab passes them; a job's
// image gets the file's and the job's. Hidden jobs (".name", templates)
// run only through extends and are not read.
func GitLabContainers(path string, src []byte) ([]Command, error) {
	if !strings.Contains(string(src), "image") && !strings.Contains(string(src), "services") {
		return nil, nil
	}
	root, err := yamlRoot(path, src)
	if err != nil || root == nil {
		return nil, err
	}
	global := gitlabVariables(mapValue(root, "variables"))
	var out []Command
	add := func(name string, vars []arg, image, services *yaml.Node) {
		if image != nil {
			if c := gitlabContainer(path, name, vars, image); c != nil {
				out = append(out, *c)
			}
		}
		for _, s := range items(services) {
			if c := gitlabContainer(path, "", vars, s); c != nil {
				out = append(out, *c)
			}
		}
	}
	def := mapValue(root, "default")
	add("default", global, firstOf(mapValue(root, "image"), mapValue(def, "image")), firstOf(mapValue(root, "services"), mapValue(def, "services")))
	for _, job := range pairs(root) {
		if gitlabReserved[job.k] || strings.HasPrefix(job.k, ".") || job.v.Kind != yaml.MappingNode {
			continue
		}
		vars := append(append([]arg{}, global...), gitlabVariables(mapValue(job.v, "variables"))...)
		add(job.k, vars, mapValue(job.v, "image"), mapValue(job.v, "services"))
	}
	return out, nil
}

// gitlabContainer is one image or service entry: a name, or a mapping
// with name, alias, variables (services) and entrypoint.
func gitlabContainer(path, job string, vars []arg, n *yaml.Node) *Command {
	n = deref(n)
	img, alias := n, ""
	if n.Kind == yaml.MappingNode {
		img = deref(mapValue(n, "name"))
		if a := deref(mapValue(n, "alias")); a != nil && a.Kind == yaml.ScalarNode {
			alias, _, _ = strings.Cut(a.Value, ",")
		}
		vars = append(append([]arg{}, vars...), gitlabVariables(mapValue(n, "variables"))...)
	}
	if img == nil || img.Kind != yaml.ScalarNode || strings.TrimSpace(img.Value) == "" {
		return nil
	}
	service := ""
	if job == "" { // a service: named by its host name
		service = alias
		if service == "" {
			service = gitlabAlias(img.Value)
		}
	}
	var args []arg
	for _, v := range vars {
		args = append(args, arg{"-e", v.line}, v)
	}
	c := buildCommand(path, img.Line, job, service, args, arg{img.Value, img.Line})
	return &c
}

// gitlabAlias is the host name GitLab gives a service: its image name
// without tag or digest, slashes as double underscores.
func gitlabAlias(image string) string {
	name, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return strings.ReplaceAll(name, "/", "__")
}

// gitlabVariables are a variables: mapping as `KEY=value` arguments; a
// value may be written as {value: …, description: …}.
func gitlabVariables(n *yaml.Node) []arg {
	var out []arg
	for _, kv := range pairs(n) {
		v := deref(kv.v)
		if v.Kind == yaml.MappingNode {
			v = deref(mapValue(v, "value"))
		}
		if v == nil || v.Kind != yaml.ScalarNode {
			continue
		}
		out = append(out, arg{kv.k + "=" + v.Value, kv.line})
	}
	return out
}

func yamlRoot(path string, src []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, &Error{Path: path, Msg: oneLine(err.Error())}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return deref(doc.Content[0]), nil
}

type pair struct {
	k    string
	v    *yaml.Node
	line int
}

// pairs are the entries of a mapping, aliases followed; `<<` merge keys
// are left out.
func pairs(m *yaml.Node) []pair {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var out []pair
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Value != "<<" {
			out = append(out, pair{k.Value, deref(m.Content[i+1]), k.Line})
		}
	}
	return out
}

// items are the scalar (or mapping) entries of a sequence.
func items(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		if c = deref(c); c != nil && (c.Kind == yaml.ScalarNode || c.Kind == yaml.MappingNode) {
			out = append(out, c)
		}
	}
	return out
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	return n
}

func firstOf(ns ...*yaml.Node) *yaml.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

// keyLine is the line a mapping starts on: its first key's.
func keyLine(m, fallback *yaml.Node) int {
	if m != nil && m.Kind == yaml.MappingNode && len(m.Content) > 0 {
		return m.Content[0].Line
	}
	return fallback.Line
}

// shellWords splits an options string as a shell would, keeping
// expansions as written.
func shellWords(s string) ([]string, error) {
	script, err := shell.Parse("options "+s, shell.Options{})
	if err != nil {
		return nil, err
	}
	if len(script.Commands) != 1 {
		return nil, fmt.Errorf("not a list of options: %q", s)
	}
	return script.Commands[0].Args, nil
}
