package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// trivyWant is one finding trivy's TestSecretScanner expects of a built-in
// rule in one of its fixture files.
type trivyWant struct {
	File      string // relative to pkg/fanal/secret
	Rule      string
	StartLine int
	EndLine   int
	Offset    int // byte offset of the secret in the file
	Length    int // secret length, from the masked Match; 0 when unknown
}

// trivyCase is one fixture file: what trivy's built-in rules must find in
// it (nothing, for the files its tests use to prove it stays quiet).
type trivyCase struct {
	File  string
	Wants []trivyWant
}

// readTrivy reads trivy's checkout: the built-in rule IDs
// (pkg/fanal/secret/builtin-rules.go) and TestSecretScanner's table
// (scanner_test.go), whose cases name a fixture file and the findings
// expected in it. Only findings of built-in rules count (the other rules
// come from test configurations); a file is a negative case when a test
// that runs the built-in rules with no allow rules of its own (the
// skip-test.yaml configuration) expects nothing in it. The streaming test
// builds its inputs in code and is left out.
func readTrivy(root string) ([]trivyCase, []string, error) {
	dir := filepath.Join(root, "pkg", "fanal", "secret")
	builtin, err := trivyBuiltinIDs(filepath.Join(dir, "builtin-rules.go"))
	if err != nil {
		return nil, nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(dir, "scanner_test.go"), nil, 0)
	if err != nil {
		return nil, nil, err
	}
	var fn *ast.FuncDecl
	for _, d := range f.Decls {
		if d, ok := d.(*ast.FuncDecl); ok && d.Name.Name == "TestSecretScanner" {
			fn = d
		}
	}
	if fn == nil {
		return nil, nil, fmt.Errorf("%s: no TestSecretScanner", dir)
	}
	// The expected findings are composite literals, bound to names or
	// built by a local helper (openAIFinding(rule, title, severity, n));
	// they are evaluated with a small interpreter of the expressions the
	// table uses: literals, +, strings.Repeat, local variables and calls
	// of local function literals.
	ev := &evaluator{funcs: map[string]*ast.FuncLit{}, vars: map[string]any{}}
	var table *ast.CompositeLit
	for _, st := range fn.Body.List {
		as, ok := st.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			continue
		}
		id, _ := as.Lhs[0].(*ast.Ident)
		if id == nil {
			continue
		}
		switch rhs := as.Rhs[0].(type) {
		case *ast.FuncLit:
			ev.funcs[id.Name] = rhs
		case *ast.CompositeLit:
			if id.Name == "tests" {
				table = rhs
			} else {
				ev.vars[id.Name] = ev.finding(rhs, ev.vars)
			}
		case *ast.CallExpr:
			ev.vars[id.Name] = ev.eval(rhs, ev.vars)
		}
	}
	if table == nil {
		return nil, nil, fmt.Errorf("%s: TestSecretScanner has no tests table", dir)
	}
	byFile := map[string]*trivyCase{}
	negative := map[string]bool{}
	var order []string
	for _, el := range table.Elts {
		tc, ok := el.(*ast.CompositeLit)
		if !ok {
			continue
		}
		fields := keyed(tc)
		file := pathExpr(fields["inputFilePath"])
		config := pathExpr(fields["configPath"])
		if file == "" {
			continue
		}
		c := byFile[file]
		if c == nil {
			c = &trivyCase{File: file}
			byFile[file] = c
			order = append(order, file)
		}
		var wants []trivyWant
		if want, ok := fields["want"].(*ast.CompositeLit); ok {
			if fl, ok := keyed(want)["Findings"].(*ast.CompositeLit); ok {
				for _, e := range fl.Elts {
					w, ok := ev.eval(e, ev.vars).(trivyWant)
					if !ok || !builtin[w.Rule] {
						continue
					}
					w.File = file
					wants = append(wants, w)
				}
			}
		}
		if len(wants) == 0 && filepath.Base(config) == "skip-test.yaml" {
			negative[file] = true
		}
		for _, w := range wants {
			if !slices.ContainsFunc(c.Wants, func(x trivyWant) bool { return x.Rule == w.Rule && x.Offset == w.Offset }) {
				c.Wants = append(c.Wants, w)
			}
		}
	}
	var out []trivyCase
	for _, file := range order {
		c := byFile[file]
		if len(c.Wants) > 0 || negative[file] {
			out = append(out, *c)
		}
	}
	ids := make([]string, 0, len(builtin))
	for id := range builtin {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return out, ids, nil
}

// trivyBuiltinIDs lists the IDs of the rules in builtinRules.
func trivyBuiltinIDs(path string) (map[string]bool, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*ID:\s*"([^"]+)"`).FindAllSubmatch(src, -1) {
		ids[string(m[1])] = true
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: no rule IDs", path)
	}
	return ids, nil
}

// keyed maps the keys of a keyed composite literal to their values.
func keyed(lit *ast.CompositeLit) map[string]ast.Expr {
	m := map[string]ast.Expr{}
	for _, e := range lit.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if k, ok := kv.Key.(*ast.Ident); ok {
				m[k.Name] = kv.Value
			}
		}
	}
	return m
}

// pathExpr evaluates the path expressions the table uses: a string
// literal, or filepath.Join of string literals.
func pathExpr(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		s, _ := strconv.Unquote(e.Value)
		return filepath.ToSlash(s)
	case *ast.CallExpr:
		var parts []string
		for _, a := range e.Args {
			parts = append(parts, pathExpr(a))
		}
		return strings.Join(parts, "/")
	}
	return ""
}

// evaluator evaluates the expressions of trivy's test table.
type evaluator struct {
	funcs map[string]*ast.FuncLit
	vars  map[string]any
}

func (ev *evaluator) eval(e ast.Expr, env map[string]any) any {
	switch e := e.(type) {
	case *ast.BasicLit:
		switch e.Kind {
		case token.STRING:
			s, _ := strconv.Unquote(e.Value)
			return s
		case token.INT:
			n, _ := strconv.Atoi(e.Value)
			return n
		}
	case *ast.Ident:
		return env[e.Name]
	case *ast.ParenExpr:
		return ev.eval(e.X, env)
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			a, _ := ev.eval(e.X, env).(string)
			b, _ := ev.eval(e.Y, env).(string)
			return a + b
		}
	case *ast.CompositeLit:
		return ev.finding(e, env)
	case *ast.CallExpr:
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Repeat" && len(e.Args) == 2 {
			s, _ := ev.eval(e.Args[0], env).(string)
			n, _ := ev.eval(e.Args[1], env).(int)
			return strings.Repeat(s, n)
		}
		id, ok := e.Fun.(*ast.Ident)
		if !ok || ev.funcs[id.Name] == nil {
			return nil
		}
		fl := ev.funcs[id.Name]
		local := map[string]any{}
		i := 0
		for _, f := range fl.Type.Params.List {
			for _, n := range f.Names {
				if i < len(e.Args) {
					local[n.Name] = ev.eval(e.Args[i], env)
				}
				i++
			}
		}
		for _, st := range fl.Body.List {
			switch st := st.(type) {
			case *ast.AssignStmt:
				if id, ok := st.Lhs[0].(*ast.Ident); ok && len(st.Rhs) == 1 {
					local[id.Name] = ev.eval(st.Rhs[0], local)
				}
			case *ast.ReturnStmt:
				if len(st.Results) == 1 {
					return ev.eval(st.Results[0], local)
				}
			}
		}
	}
	return nil
}

// finding reads an expected types.SecretFinding.
func (ev *evaluator) finding(lit *ast.CompositeLit, env map[string]any) trivyWant {
	var w trivyWant
	for k, v := range keyed(lit) {
		switch k {
		case "RuleID":
			w.Rule, _ = ev.eval(v, env).(string)
		case "StartLine":
			w.StartLine, _ = ev.eval(v, env).(int)
		case "EndLine":
			w.EndLine, _ = ev.eval(v, env).(int)
		case "Offset":
			w.Offset, _ = ev.eval(v, env).(int)
		case "Match":
			m, _ := ev.eval(v, env).(string)
			// trivy masks the secret with one '*' per byte; the longest
			// run is the secret (a line cut short cuts it too).
			for _, run := range regexp.MustCompile(`\*+`).FindAllString(m, -1) {
				w.Length = max(w.Length, len(run))
			}
		}
	}
	return w
}
