package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/dockvet/dockvet/internal/finding"
)

// Template is a --format template: a Go text/template executed over the
// JSON report, so its fields are the JSON names of contract.md
// (`{{range .findings}}{{.ruleId}} {{.location.path}}{{end}}`).
type Template struct {
	t *template.Template
}

// templateFuncs are the few helpers a report template needs beyond
// text/template's own (html, js, urlquery, printf, len, index, …).
var templateFuncs = template.FuncMap{
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"join": func(sep string, v any) string {
		var parts []string
		if list, ok := v.([]any); ok {
			for _, e := range list {
				parts = append(parts, fmt.Sprint(e))
			}
		}
		return strings.Join(parts, sep)
	},
	// json writes a value as compact JSON (a finding, a location).
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	// xml escapes text for XML attributes and content.
	"xml": func(v any) (string, error) {
		var b strings.Builder
		err := xml.EscapeText(&b, []byte(fmt.Sprint(v)))
		return b.String(), err
	},
}

// ParseTemplate compiles a template; name is used in errors (the file).
func ParseTemplate(name, text string) (*Template, error) {
	t, err := template.New(name).Funcs(templateFuncs).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, err
	}
	return &Template{t: t}, nil
}

// RenderTemplate executes o.Template over the JSON form of r.
func RenderTemplate(w io.Writer, r *finding.Report, o Options) error {
	if o.Template == nil {
		return fmt.Errorf("--format template needs --template FILE")
	}
	var buf bytes.Buffer
	if err := JSON(&buf, r, o); err != nil {
		return err
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		return err
	}
	var out bytes.Buffer
	if err := o.Template.t.Execute(&out, data); err != nil {
		return oneLineError{err}
	}
	_, err := w.Write(out.Bytes())
	return err
}

type oneLineError struct{ error }

func (e oneLineError) Error() string { return oneLine(e.error.Error()) }
