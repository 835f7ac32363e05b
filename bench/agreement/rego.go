package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// trivy-checks' Dockerfile tests (checks/docker/*_test.rego) are Rego
// rules `test_… if { … }` whose bodies call the check's deny rule on an
// input document (`deny with input as {…}`) and count the results. This
// file reads just enough Rego to replay them: JSON-like terms, local
// assignments, references into them, the test file's own helper functions,
// `some … in` over a table of cases and `every … in`. The input document is
// the parsed Dockerfile Trivy hands its checks (Stages of Commands, each a
// Cmd, its Flags and its Value); it is written back as a Dockerfile.

type rtok struct {
	kind byte // 's' string, 'i' ident/ref, 'n' number, 'p' punctuation/operator
	text string
	line int
}

func rtokenize(src string) []rtok {
	var toks []rtok
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			toks = append(toks, rtok{'p', "\n", line - 1})
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			var s string
			if err := json.Unmarshal([]byte(src[i:min(j+1, len(src))]), &s); err != nil {
				s = src[i+1 : min(j, len(src))]
			}
			toks = append(toks, rtok{'s', s, line})
			i = j + 1
		case c == '`':
			j := strings.IndexByte(src[i+1:], '`')
			if j < 0 {
				j = len(src) - i - 1
			}
			s := src[i+1 : i+1+j]
			toks = append(toks, rtok{'s', s, line})
			line += strings.Count(s, "\n")
			i += j + 2
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			toks = append(toks, rtok{'n', src[i:j], line})
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] == '.' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			toks = append(toks, rtok{'i', src[i:j], line})
			i = j
		default:
			for _, op := range []string{":=", "==", "!=", ">=", "<="} {
				if strings.HasPrefix(src[i:], op) {
					toks = append(toks, rtok{'p', op, line})
					i += len(op)
					goto next
				}
			}
			toks = append(toks, rtok{'p', string(c), line})
			i++
		next:
		}
	}
	return toks
}

// rval is a Rego value: nil, string, float64, bool, []any, map[string]any.
type rval = any

type rfunc struct {
	params []string
	body   []rtok
}

type rparser struct {
	toks  []rtok
	k     int
	funcs map[string]rfunc
	env   map[string]rval
	depth int
}

var errRego = fmt.Errorf("rego term not understood")

func (p *rparser) skipNL() {
	for p.k < len(p.toks) && p.toks[p.k].text == "\n" && p.toks[p.k].kind == 'p' {
		p.k++
	}
}

func (p *rparser) peek() rtok {
	if p.k < len(p.toks) {
		return p.toks[p.k]
	}
	return rtok{}
}

// term parses one term.
func (p *rparser) term() (rval, error) {
	if p.depth > 60 {
		return nil, errRego
	}
	p.depth++
	defer func() { p.depth-- }()
	p.skipNL()
	t := p.peek()
	switch {
	case t.kind == 's':
		p.k++
		return t.text, nil
	case t.kind == 'n':
		p.k++
		f, _ := strconv.ParseFloat(t.text, 64)
		return f, nil
	case t.kind == 'p' && t.text == "[":
		p.k++
		var out []any
		for {
			p.skipNL()
			if p.peek().text == "]" {
				p.k++
				return out, nil
			}
			v, err := p.term()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			p.skipNL()
			if p.peek().text == "," {
				p.k++
			}
		}
	case t.kind == 'p' && t.text == "{":
		p.k++
		obj := map[string]any{}
		var set []any
		isSet := false
		for {
			p.skipNL()
			if p.peek().text == "}" {
				p.k++
				if isSet {
					return set, nil
				}
				return obj, nil
			}
			key, err := p.term()
			if err != nil {
				return nil, err
			}
			p.skipNL()
			if p.peek().text == ":" {
				p.k++
				v, err := p.term()
				if err != nil {
					return nil, err
				}
				ks, ok := key.(string)
				if !ok {
					return nil, errRego
				}
				obj[ks] = v
			} else {
				isSet = true
				set = append(set, key)
			}
			p.skipNL()
			if p.peek().text == "," {
				p.k++
			}
		}
	case t.kind == 'i':
		p.k++
		switch t.text {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		if p.peek().text == "(" {
			return p.call(t.text)
		}
		return p.ref(t.text)
	}
	return nil, errRego
}

func (p *rparser) call(name string) (rval, error) {
	p.k++ // (
	var args []rval
	for {
		p.skipNL()
		if p.peek().text == ")" {
			p.k++
			break
		}
		v, err := p.term()
		if err != nil {
			return nil, err
		}
		args = append(args, v)
		p.skipNL()
		if p.peek().text == "," {
			p.k++
		}
	}
	f, ok := p.funcs[name]
	if !ok || len(f.params) != len(args) {
		return nil, errRego
	}
	sub := &rparser{toks: f.body, funcs: p.funcs, env: map[string]rval{}, depth: p.depth}
	for i, n := range f.params {
		sub.env[n] = args[i]
	}
	return sub.term()
}

func (p *rparser) ref(path string) (rval, error) {
	parts := strings.Split(path, ".")
	v, ok := p.env[parts[0]]
	if !ok {
		return nil, errRego
	}
	for _, f := range parts[1:] {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errRego
		}
		v = m[f]
	}
	return v, nil
}

// trivyCase is one call of the check on an input, with its expectation.
type trivyCase struct {
	file, test string
	line       int
	check      string // the check's ID, DS-0005
	positive   bool
	input      rval
	dockerfile string
	// configured cases set the check's own data (data.ds031…), which
	// dockvet has no counterpart for.
	configured bool
	err        error
}

// readTrivyExamples reads the good and bad Dockerfiles of each check's
// examples file (checks/docker/<check>.yaml), which trivy-checks' own
// integration test scans: a good one must pass the check, a bad one fail.
func readTrivyExamples(dir string) ([]trivyCase, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []trivyCase
	for _, f := range files {
		check, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".rego")
		if err != nil {
			continue // not a check's examples
		}
		m := idRe.FindSubmatch(check)
		if m == nil {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var ex struct {
			Dockerfile struct {
				Good []string `yaml:"good"`
				Bad  []string `yaml:"bad"`
			} `yaml:"dockerfile"`
		}
		if err := yaml.Unmarshal(data, &ex); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for i, d := range ex.Dockerfile.Good {
			out = append(out, trivyCase{file: filepath.Base(f), test: fmt.Sprintf("good[%d]", i), check: string(m[1]), dockerfile: d + "\n"})
		}
		for i, d := range ex.Dockerfile.Bad {
			out = append(out, trivyCase{file: filepath.Base(f), test: fmt.Sprintf("bad[%d]", i), check: string(m[1]), positive: true, dockerfile: d + "\n"})
		}
	}
	return out, nil
}

var idRe = regexp.MustCompile(`(?m)^#\s+id:\s*(\S+)`)

// readTrivy reads every *_test.rego under dir (checks/docker of a
// trivy-checks checkout) with the ID from its check's metadata.
func readTrivy(dir string) ([]trivyCase, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.rego"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no *_test.rego files (give checks/docker of a trivy-checks checkout)", dir)
	}
	sort.Strings(files)
	var out []trivyCase
	for _, f := range files {
		check, err := os.ReadFile(strings.TrimSuffix(f, "_test.rego") + ".rego")
		if err != nil {
			return nil, err
		}
		m := idRe.FindSubmatch(check)
		if m == nil {
			return nil, fmt.Errorf("%s: no id in the check's metadata", f)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		cases := readRegoTests(string(data), filepath.Base(f), string(m[1]))
		out = append(out, cases...)
	}
	return out, nil
}

func readRegoTests(src, file, check string) []trivyCase {
	toks := rtokenize(src)
	funcs := map[string]rfunc{}
	type test struct {
		name string
		line int
		body []rtok
	}
	var tests []test
	for k := 0; k < len(toks); k++ {
		t := toks[k]
		if t.kind != 'i' || (k > 0 && toks[k-1].text != "\n") {
			continue
		}
		switch {
		case k+1 < len(toks) && toks[k+1].text == "(":
			// name(params) := term
			j := k + 2
			var params []string
			for j < len(toks) && toks[j].text != ")" {
				if toks[j].kind == 'i' {
					params = append(params, toks[j].text)
				}
				j++
			}
			if j+1 < len(toks) && toks[j+1].text == ":=" {
				end := termEnd(toks, j+2)
				funcs[t.text] = rfunc{params: params, body: toks[j+2 : end]}
				k = end - 1
			}
		case strings.HasPrefix(t.text, "test_"):
			j := k + 1
			for j < len(toks) && toks[j].text != "{" {
				j++
			}
			end := matching(toks, j)
			if j >= len(toks) || end <= j {
				break // no body
			}
			tests = append(tests, test{t.text, t.line, toks[j+1 : end]})
			k = end
		}
	}
	var out []trivyCase
	for _, tc := range tests {
		p := &rparser{funcs: funcs}
		base := trivyCase{file: file, test: tc.name, line: tc.line, check: check}
		out = append(out, p.run(tc.body, map[string]rval{}, base)...)
	}
	return out
}

// termEnd finds the end of a term starting at k: the first newline
// outside brackets.
func termEnd(toks []rtok, k int) int {
	depth := 0
	for ; k < len(toks); k++ {
		switch toks[k].text {
		case "{", "[", "(":
			depth++
		case "}", "]", ")":
			depth--
		case "\n":
			if depth == 0 && toks[k].kind == 'p' {
				return k
			}
		}
	}
	return k
}

func matching(toks []rtok, k int) int {
	depth := 0
	for ; k < len(toks); k++ {
		switch toks[k].text {
		case "{", "[", "(":
			depth++
		case "}", "]", ")":
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return k
}

// statements splits a body into statements: lines outside brackets.
func statements(body []rtok) [][]rtok {
	var out [][]rtok
	for k := 0; k < len(body); {
		if body[k].text == "\n" || body[k].text == ";" {
			k++
			continue
		}
		end := termEnd(body, k)
		// `every x in y {` runs to its closing brace.
		out = append(out, body[k:end])
		k = end
	}
	return out
}

// run executes statements with env, returning one case per deny call
// whose result is counted.
func (p *rparser) run(body []rtok, env map[string]rval, base trivyCase) []trivyCase {
	stmts := statements(body)
	var out []trivyCase
	var pending *trivyCase
	for si, st := range stmts {
		switch {
		case len(st) >= 4 && st[0].text == "some":
			// some [k,] v in TERM: the remaining statements run once per element.
			in := indexOf(st, "in")
			if in < 1 {
				return append(out, fail(base, errRego))
			}
			var names []string
			for _, t := range st[1:in] {
				if t.kind == 'i' {
					names = append(names, t.text)
				}
			}
			sub := &rparser{toks: st[in+1:], funcs: p.funcs, env: env}
			coll, err := sub.term()
			if err != nil {
				return append(out, fail(base, err))
			}
			rest := joinStmts(stmts[si+1:])
			each(coll, func(k string, v rval) {
				e := clone(env)
				if len(names) == 2 {
					e[names[0]], e[names[1]] = k, v
				} else if len(names) == 1 {
					e[names[0]] = v
				}
				b := base
				if k != "" {
					b.test = base.test + "/" + k
				}
				out = append(out, p.run(rest, e, b)...)
			})
			return out
		case len(st) >= 4 && st[0].text == "every":
			in := indexOf(st, "in")
			open := indexOf(st, "{")
			if in < 0 || open < in {
				return append(out, fail(base, errRego))
			}
			name := st[1].text
			sub := &rparser{toks: st[in+1 : open], funcs: p.funcs, env: env}
			coll, err := sub.term()
			if err != nil {
				return append(out, fail(base, err))
			}
			close := matching(st, open)
			if close <= open || close > len(st) {
				return append(out, fail(base, errRego))
			}
			inner := st[open+1 : min(close, len(st))]
			each(coll, func(_ string, v rval) {
				e := clone(env)
				e[name] = v
				out = append(out, p.run(inner, e, base)...)
			})
		case len(st) >= 3 && st[0].kind == 'i' && st[1].text == ":=":
			name := st[0].text
			if w := indexOf(st, "with"); w > 0 && strings.HasSuffix(st[2].text, "deny") {
				c := base
				for w >= 0 && w < len(st) {
					as := indexOfFrom(st, "as", w)
					next := indexOfFrom(st, "with", w+1)
					if as < 0 {
						break
					}
					end := len(st)
					if next > 0 {
						end = next
					}
					if as+1 > end || w+1 >= len(st) {
						c.err = errRego
						break
					}
					target := st[w+1].text
					sub := &rparser{toks: st[as+1 : end], funcs: p.funcs, env: env}
					v, err := sub.term()
					switch {
					case err != nil:
						c.err = err
					case target == "input":
						c.input = v
					case strings.HasPrefix(target, "data."):
						c.configured = true
					}
					w = next
				}
				env[name] = denyMark
				pending = &c
				continue
			}
			sub := &rparser{toks: st[2:], funcs: p.funcs, env: env}
			v, err := sub.term()
			if err != nil {
				return append(out, fail(base, err))
			}
			env[name] = v
		case len(st) >= 6 && st[0].text == "count" && pending != nil:
			// count(r) OP N
			op := st[4].text
			sub := &rparser{toks: st[5:], funcs: p.funcs, env: env}
			v, err := sub.term()
			n, ok := v.(float64)
			c := *pending
			pending = nil
			switch {
			case err != nil || !ok:
				c.err = errRego
			case op == "==" || op == "=":
				c.positive = n > 0
			case op == ">" || op == ">=" && n > 0:
				c.positive = true
			default:
				c.err = errRego
			}
			out = append(out, c)
		}
	}
	return out
}

var denyMark = "\x00deny"

func fail(c trivyCase, err error) trivyCase { c.err = err; return c }

func indexOf(st []rtok, text string) int { return indexOfFrom(st, text, 0) }

func indexOfFrom(st []rtok, text string, from int) int {
	for i := from; i < len(st); i++ {
		if st[i].text == text {
			return i
		}
	}
	return -1
}

func joinStmts(stmts [][]rtok) []rtok {
	var out []rtok
	for _, s := range stmts {
		out = append(append(out, s...), rtok{'p', "\n", 0})
	}
	return out
}

func clone(m map[string]rval) map[string]rval {
	c := make(map[string]rval, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func each(coll rval, fn func(k string, v rval)) {
	switch c := coll.(type) {
	case []any:
		for _, v := range c {
			fn("", v)
		}
	case map[string]any:
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fn(k, c[k])
		}
	}
}

// trivyDockerfile writes Trivy's input document back as a Dockerfile.
func trivyDockerfile(input rval) (string, error) {
	doc, ok := input.(map[string]any)
	if !ok {
		return "", errRego
	}
	stages, _ := doc["Stages"].([]any)
	if len(stages) == 0 {
		return "", errRego
	}
	var b strings.Builder
	for _, s := range stages {
		st, _ := s.(map[string]any)
		cmds, _ := st["Commands"].([]any)
		first := ""
		if len(cmds) > 0 {
			if c, ok := cmds[0].(map[string]any); ok {
				first, _ = c["Cmd"].(string)
			}
		}
		name, _ := st["Name"].(string)
		// A stage without a name and without FROM holds the global ARGs.
		if first != "from" && name != "" {
			fmt.Fprintf(&b, "FROM %s\n", name)
		}
		for _, c := range cmds {
			cmd, _ := c.(map[string]any)
			line, err := trivyInstruction(cmd, name)
			if err != nil {
				return "", err
			}
			if line != "" {
				b.WriteString(line + "\n")
			}
		}
	}
	return b.String(), nil
}

// aliasRe finds the stage name in a stage's Name ("golang:1.7 as   dep"),
// which is where Trivy's checks read it.
var aliasRe = regexp.MustCompile(`(?i)\s+as\s+(\S+)\s*$`)

func trivyInstruction(cmd map[string]any, stage string) (string, error) {
	if o, ok := cmd["Original"].(string); ok && o != "" {
		return o, nil
	}
	name, _ := cmd["Cmd"].(string)
	var vals []string
	if vs, ok := cmd["Value"].([]any); ok {
		for _, v := range vs {
			s, _ := v.(string)
			vals = append(vals, s)
		}
	}
	var flags []string
	if fs, ok := cmd["Flags"].([]any); ok {
		for _, f := range fs {
			s, _ := f.(string)
			flags = append(flags, s)
		}
	}
	kw := strings.ToUpper(name)
	head := kw
	if len(flags) > 0 {
		head += " " + strings.Join(flags, " ")
	}
	switch name {
	case "comment":
		return "# " + strings.Join(vals, " "), nil
	case "from":
		if len(vals) > 0 {
			// One test writes the keyword into the value.
			line := head + " " + strings.TrimPrefix(vals[0], "FROM ")
			if m := aliasRe.FindStringSubmatch(stage); m != nil {
				line += " AS " + m[1]
			} else if len(vals) == 3 && strings.EqualFold(vals[1], "as") {
				line += " AS " + vals[2]
			}
			return line, nil
		}
	case "run", "cmd", "entrypoint", "shell":
		if len(vals) == 1 && name != "shell" {
			return head + " " + vals[0], nil
		}
		js, _ := json.Marshal(vals)
		if vals == nil {
			js = []byte("[]")
		}
		return head + " " + string(js), nil
	case "healthcheck":
		if len(vals) >= 2 && (vals[0] == "CMD" || vals[0] == "CMD-SHELL") {
			return head + " CMD " + strings.Join(vals[1:], " "), nil
		}
		return head + " " + strings.Join(vals, " "), nil
	case "env", "label":
		// Triples key, value, separator.
		var parts []string
		for i := 0; i+1 < len(vals); i += 3 {
			parts = append(parts, vals[i]+"="+strconv.Quote(vals[i+1]))
		}
		return head + " " + strings.Join(parts, " "), nil
	}
	return head + " " + strings.Join(vals, " "), nil
}
