package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// hadolint's rule specs (test/Hadolint/Rule/DLxxxxSpec.hs) are Haskell.
// The cases are calls `ruleCatches "DL3008" <dockerfile>` and
// `ruleCatchesNot …`, where <dockerfile> is a string literal, a list of
// lines given to Text.unlines, or a name bound by a `let` before the call.
// This file reads just enough Haskell to evaluate those arguments: string
// literals with their escapes and gaps, lists, application of the Text
// functions that build a file, `$`, `<>`, and the nearest binding of a
// name. A call whose argument cannot be evaluated is counted as
// unreadable, not guessed.

type htoken struct {
	kind      byte // 's' string, 'i' identifier, 'o' operator, 'p' punctuation, 'n' number, 'c' char
	text      string
	line, col int
	off       int
}

func htokenize(src string) []htoken {
	var toks []htoken
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n && i < len(src); k++ {
			if src[i] == '\n' {
				line++
				col = 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n' || c == ' ' || c == '\t' || c == '\r':
			adv(1)
		case strings.HasPrefix(src[i:], "--") && (i+2 >= len(src) || !isHSym(src[i+2]) || src[i+2] == '-'):
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
		case strings.HasPrefix(src[i:], "{-"):
			depth := 0
			for i < len(src) {
				if strings.HasPrefix(src[i:], "{-") {
					depth++
					adv(2)
					continue
				}
				if strings.HasPrefix(src[i:], "-}") {
					depth--
					adv(2)
					if depth == 0 {
						break
					}
					continue
				}
				adv(1)
			}
		case c == '"':
			l, cl, off := line, col, i
			s, n, ok := hstring(src[i:])
			if !ok {
				adv(1)
				continue
			}
			adv(n)
			toks = append(toks, htoken{'s', s, l, cl, off})
		case c == '\'' && (len(toks) == 0 || !adjacentIdent(src, i)):
			l, cl, off := line, col, i
			j := i + 1
			if j < len(src) && src[j] == '\\' {
				j += 2
			} else {
				j++
			}
			for j < len(src) && src[j] != '\'' && j-i < 8 {
				j++
			}
			adv(j - i + 1)
			toks = append(toks, htoken{'c', src[off:min(j+1, len(src))], l, cl, off})
		case unicode.IsLetter(rune(c)) || c == '_':
			l, cl, off := line, col, i
			j := i
			for j < len(src) {
				r := src[j]
				if unicode.IsLetter(rune(r)) || unicode.IsDigit(rune(r)) || r == '_' || r == '\'' {
					j++
					continue
				}
				// A qualified name: Text.unlines.
				if r == '.' && j+1 < len(src) && unicode.IsLetter(rune(src[j+1])) && unicode.IsUpper(rune(src[off])) {
					j++
					continue
				}
				break
			}
			adv(j - i)
			toks = append(toks, htoken{'i', src[off:j], l, cl, off})
		case c >= '0' && c <= '9':
			l, cl, off := line, col, i
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			adv(j - i)
			toks = append(toks, htoken{'n', src[off:j], l, cl, off})
		case strings.ContainsRune("()[],;`{}", rune(c)):
			toks = append(toks, htoken{'p', string(c), line, col, i})
			adv(1)
		case isHSym(c):
			l, cl, off := line, col, i
			j := i
			for j < len(src) && isHSym(src[j]) {
				j++
			}
			adv(j - i)
			toks = append(toks, htoken{'o', src[off:j], l, cl, off})
		default:
			adv(1)
		}
	}
	return toks
}

func adjacentIdent(src string, i int) bool {
	if i == 0 {
		return false
	}
	p := rune(src[i-1])
	return unicode.IsLetter(p) || unicode.IsDigit(p) || p == '_' || p == '\''
}

func isHSym(c byte) bool { return strings.IndexByte("!#$%&*+./<=>?@\\^|-~:", c) >= 0 }

// hstring reads a Haskell string literal at the start of s and returns its
// value and its length in s.
func hstring(s string) (string, int, bool) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, true
		case c == '\n':
			return "", 0, false
		case c == '\\':
			if i+1 >= len(s) {
				return "", 0, false
			}
			e := s[i+1]
			switch {
			case e == ' ' || e == '\t' || e == '\n' || e == '\r':
				// A gap: backslash, white space, backslash.
				j := i + 1
				for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r') {
					j++
				}
				if j >= len(s) || s[j] != '\\' {
					return "", 0, false
				}
				i = j + 1
				continue
			case e == '&':
				i += 2
				continue
			case e >= '0' && e <= '9':
				j := i + 1
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				n, _ := strconv.Atoi(s[i+1 : j])
				b.WriteRune(rune(n))
				i = j
				continue
			case e == 'x':
				j := i + 2
				for j < len(s) && strings.IndexByte("0123456789abcdefABCDEF", s[j]) >= 0 {
					j++
				}
				n, _ := strconv.ParseInt(s[i+2:j], 16, 32)
				b.WriteRune(rune(n))
				i = j
				continue
			}
			m := map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '\\': "\\", '"': "\"", '\'': "'", 'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '0': "\x00"}
			if r, ok := m[e]; ok {
				b.WriteString(r)
			} else {
				b.WriteByte(e)
			}
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, false
}

// hvalue is a string or a list of values.
type hvalue struct {
	str  string
	list []hvalue
	isL  bool
}

type hparser struct {
	toks  []htoken
	depth int
}

var errUnreadable = fmt.Errorf("argument cannot be evaluated")

// stops reports whether token k ends an expression laid out at column
// layout on a line after startLine (Haskell's offside rule), outside any
// bracket.
func (p *hparser) stops(k, layout, startLine int, nest int) bool {
	if k >= len(p.toks) {
		return true
	}
	t := p.toks[k]
	if nest == 0 && t.line > startLine && t.col <= layout {
		return true
	}
	if t.kind == 'p' && (t.text == ")" || t.text == "]" || t.text == "," || t.text == ";" || t.text == "}") {
		return true
	}
	if t.kind == 'i' && (t.text == "in" || t.text == "where" || t.text == "then" || t.text == "else" || t.text == "of") {
		return true
	}
	if t.kind == 'o' && (t.text == "=" || t.text == "->" || t.text == "<-" || t.text == "|") {
		return true
	}
	return false
}

// expr parses an expression starting at token k; layout is the column
// that ends it on a later line, nest > 0 inside brackets.
func (p *hparser) expr(k, layout, startLine, nest int) (hvalue, int, error) {
	if p.depth > 40 {
		return hvalue{}, k, errUnreadable
	}
	p.depth++
	defer func() { p.depth-- }()
	left, k, err := p.app(k, layout, startLine, nest)
	if err != nil {
		return hvalue{}, k, err
	}
	for !p.stops(k, layout, startLine, nest) && p.toks[k].kind == 'o' {
		op := p.toks[k].text
		switch op {
		case "$":
			arg, k2, err := p.expr(k+1, layout, startLine, nest)
			if err != nil {
				return hvalue{}, k2, err
			}
			return applyTo(left, arg), k2, nil
		case "<>", "++":
			right, k2, err := p.app(k+1, layout, startLine, nest)
			if err != nil {
				return hvalue{}, k2, err
			}
			left, k = concat(left, right), k2
		default:
			return hvalue{}, k, errUnreadable
		}
	}
	return left, k, nil
}

// function values are represented as a string value naming the function,
// marked by a prefix that cannot be a Dockerfile.
const fnMark = "\x00fn:"

func (p *hparser) app(k, layout, startLine, nest int) (hvalue, int, error) {
	f, k, err := p.atom(k, layout, startLine, nest)
	if err != nil {
		return hvalue{}, k, err
	}
	for !p.stops(k, layout, startLine, nest) && p.toks[k].kind != 'o' {
		arg, k2, err := p.atom(k, layout, startLine, nest)
		if err != nil {
			return hvalue{}, k2, err
		}
		f, k = applyTo(f, arg), k2
	}
	return f, k, nil
}

func (p *hparser) atom(k, layout, startLine, nest int) (hvalue, int, error) {
	if k >= len(p.toks) {
		return hvalue{}, k, errUnreadable
	}
	t := p.toks[k]
	switch {
	case t.kind == 's':
		return hvalue{str: t.text}, k + 1, nil
	case t.kind == 'p' && t.text == "(":
		v, k2, err := p.expr(k+1, layout, startLine, nest+1)
		if err != nil || k2 >= len(p.toks) || p.toks[k2].text != ")" {
			return hvalue{}, k2, errUnreadable
		}
		return v, k2 + 1, nil
	case t.kind == 'p' && t.text == "[":
		var items []hvalue
		k++
		for k < len(p.toks) && p.toks[k].text != "]" {
			v, k2, err := p.expr(k, layout, startLine, nest+1)
			if err != nil {
				return hvalue{}, k2, err
			}
			items = append(items, v)
			k = k2
			if k < len(p.toks) && p.toks[k].text == "," {
				k++
			}
		}
		return hvalue{list: items, isL: true}, k + 1, nil
	case t.kind == 'i':
		name := t.text
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		switch name {
		case "unlines", "unwords", "concat", "mconcat", "intercalate", "pack", "fromString", "id":
			return hvalue{str: fnMark + name}, k + 1, nil
		}
		v, err := p.lookup(k)
		return v, k + 1, err
	}
	return hvalue{}, k, errUnreadable
}

// lookup evaluates the nearest binding `name = …` before token k.
func (p *hparser) lookup(k int) (hvalue, error) {
	name := p.toks[k].text
	for j := k - 1; j >= 0; j-- {
		t := p.toks[j]
		if t.kind != 'i' || t.text != name || j+1 >= len(p.toks) || p.toks[j+1].kind != 'o' || p.toks[j+1].text != "=" {
			continue
		}
		// The binding's name starts its line or follows `let`.
		if j > 0 && p.toks[j-1].line == t.line && p.toks[j-1].text != "let" {
			continue
		}
		v, _, err := p.expr(j+2, t.col, t.line, 0)
		return v, err
	}
	return hvalue{}, errUnreadable
}

func applyTo(f, arg hvalue) hvalue {
	if f.isL || !strings.HasPrefix(f.str, fnMark) {
		return hvalue{str: fnMark + "?"} // not a function we know
	}
	name := strings.TrimPrefix(f.str, fnMark)
	switch {
	case name == "unlines":
		var b strings.Builder
		for _, x := range arg.list {
			b.WriteString(x.str)
			b.WriteString("\n")
		}
		return hvalue{str: b.String()}
	case name == "unwords":
		return hvalue{str: strings.Join(strs(arg.list), " ")}
	case name == "concat" || name == "mconcat":
		return hvalue{str: strings.Join(strs(arg.list), "")}
	case name == "intercalate":
		return hvalue{str: fnMark + "intercalate:" + arg.str}
	case strings.HasPrefix(name, "intercalate:"):
		return hvalue{str: strings.Join(strs(arg.list), strings.TrimPrefix(name, "intercalate:"))}
	case name == "pack" || name == "fromString" || name == "id":
		return arg
	}
	return hvalue{str: fnMark + "?"}
}

func strs(vs []hvalue) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.str
	}
	return out
}

func concat(a, b hvalue) hvalue {
	if a.isL || b.isL {
		return hvalue{list: append(append([]hvalue{}, a.list...), b.list...), isL: true}
	}
	return hvalue{str: a.str + b.str}
}

// hadolintCase is one ruleCatches / ruleCatchesNot call.
type hadolintCase struct {
	file       string
	line       int
	code       string
	positive   bool
	dockerfile string
	// registries are the allowedRegistries of the case's configuration.
	registries []string
	err        error
}

var configRe = regexp.MustCompile(`let \?config\s*=\s*def(\s*\{[^}]*\})?`)
var registriesRe = regexp.MustCompile(`allowedRegistries\s*=\s*\[([^\]]*)\]`)
var quotedRe = regexp.MustCompile(`"([^"]*)"`)

// readHadolint reads every rule spec under dir (test/Hadolint/Rule of a
// hadolint checkout). onBuild cases are left out: they wrap the RUN in
// ONBUILD, and docs/agreement.md says why dockvet does not judge triggers.
func readHadolint(dir string) ([]hadolintCase, map[string]int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "DL*Spec.hs"))
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("%s: no DL*Spec.hs files (give test/Hadolint/Rule of a hadolint checkout)", dir)
	}
	sort.Strings(files)
	var out []hadolintCase
	skipped := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, hadolintCases(filepath.Base(f), string(data), skipped)...)
	}
	return out, skipped, nil
}

// hadolintCases reads the cases of one spec file; skipped counts the calls
// that are not compared.
func hadolintCases(name, src string, skipped map[string]int) []hadolintCase {
	var out []hadolintCase
	toks := htokenize(src)
	p := &hparser{toks: toks}
	configs := configRe.FindAllStringSubmatchIndex(src, -1)
	for k, t := range toks {
		if t.kind != 'i' || (t.text != "ruleCatches" && t.text != "ruleCatchesNot") {
			if t.kind == 'i' && (t.text == "onBuildRuleCatches" || t.text == "onBuildRuleCatchesNot" || t.text == "assertChecks") {
				skipped[t.text]++
			}
			continue
		}
		// Skip the helper's own type signature and definition.
		if k+1 < len(toks) && toks[k+1].kind == 'o' && toks[k+1].text == "::" {
			continue
		}
		c := hadolintCase{file: name, line: t.line, positive: t.text == "ruleCatches"}
		code, k2, err := p.atom(k+1, t.col, t.line, 0)
		if err != nil || code.isL || strings.HasPrefix(code.str, fnMark) {
			c.err = errUnreadable
			out = append(out, c)
			continue
		}
		c.code = code.str
		var body hvalue
		if k2 < len(toks) && toks[k2].kind == 'o' && toks[k2].text == "$" {
			body, _, err = p.expr(k2+1, t.col, t.line, 0)
		} else {
			body, _, err = p.atom(k2, t.col, t.line, 0)
		}
		if err != nil || body.isL || strings.HasPrefix(body.str, fnMark) {
			c.err = errUnreadable
			out = append(out, c)
			continue
		}
		c.dockerfile = body.str
		for _, m := range configs {
			if m[0] > t.off {
				break
			}
			c.registries = nil
			if m[2] >= 0 {
				if r := registriesRe.FindStringSubmatch(src[m[2]:m[3]]); r != nil {
					for _, q := range quotedRe.FindAllStringSubmatch(r[1], -1) {
						c.registries = append(c.registries, q[1])
					}
				}
			}
		}
		out = append(out, c)
	}
	return out
}
