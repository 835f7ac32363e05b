package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/fuzztest"
)

// FuzzLocate feeds arbitrary Compose files through loading and the
// position mapper: it must never panic or hang, a load error must be one
// line, and every position it gives must be a line of a file it read.
// Several hundred executions per CPU second, not thousands: each input is
// a whole compose-go load (schema validation, interpolation,
// normalisation) read from a file, then the audit and the fix preview.
func FuzzLocate(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"services:\n  a: &a\n    image: x\n    privileged: true\n  b:\n    <<: *a\n",
		"services:\n  a:\n    image: x\n    cap_add: &c [SYS_ADMIN]\n  b:\n    image: y\n    cap_add: *c\n",
		"x: &x {privileged: true}\nservices:\n  a: {<<: [*x, *x], image: z}\n",
		"services:\n  a:\n    image: x\n---\nservices:\n  a:\n    privileged: true\n",
		"services:\n  a:\n    extends: a\n    image: x\n",
		"services:\n  a:\n    image: ${X:?}\n    ports: ['${P:-80}:80']\n",
		"services: {a: {image: x, volumes: ['C:\\\\data:/data', '//./pipe/docker_engine://./pipe/docker_engine']}}\n",
		"include: [x.yaml]\nservices: {}\n",
		"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
			"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nservices: {web: {image: x, x-b: *e}}\n",
	} {
		f.Add([]byte(s))
	}
	// One directory for every input (a worker runs one input at a time):
	// a temporary directory made and removed per input cost more than the
	// load. Only compose.yaml is ever written in it, so what one input
	// leaves cannot change the next.
	dir := f.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		if len(data) > 1<<16 {
			return
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		display := func(abs string) string { return abs }
		p, err := Load(context.Background(), Options{Files: []string{file}, Display: display})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			var le *Error
			if errors.As(err, &le) && le.Line > 0 {
				checkLine(t, le.Path, le.Line)
			}
			return
		}
		for _, s := range p.Specs {
			for _, src := range sources(reflect.ValueOf(s).Elem()) {
				if src.Path != "" {
					checkLine(t, src.Path, src.Line)
				}
			}
		}
		p.Audit(AuditOptions{})
		p.FixPreview(p.Audit(AuditOptions{}), FixOptions{BindLocalhost: true})
	})
}

func checkLine(t *testing.T, path string, line int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("position in a file that cannot be read: %s: %v", path, err)
	}
	// Lines as YAML counts them: a lone carriage return ends one too.
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	if n := strings.Count(text, "\n") + 1; line < 0 || line > n {
		t.Fatalf("%s:%d: the file has %d lines", path, line, n)
	}
}

// sources collects every Source in a spec.
func sources(v reflect.Value) []container.Source {
	if v.Type() == reflect.TypeFor[container.Source]() {
		return []container.Source{v.Interface().(container.Source)}
	}
	var out []container.Source
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			out = append(out, sources(v.Field(i))...)
		}
	case reflect.Slice:
		for i := range v.Len() {
			out = append(out, sources(v.Index(i))...)
		}
	}
	return out
}

// FuzzEnvBudget feeds any text as a .env to the expansion budget's
// pre-check, which reads env files before compose-go does: it must end,
// and a refusal must name the budget and never carry a value.
func FuzzEnvBudget(f *testing.F) {
	for _, s := range []string{
		"A=1\nB=${A}${A}\n",
		"V0=sk_live_TESTONLY0123456789\nV1=${V0}${V0}\nV2=${V1}${V1}\nV3=${V2}${V2}\n",
		"# comment\nexport X='${Y}'\nY=\"$X$X\"\n",
		"=\n==\n${}\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	file := filepath.Join(dir, ".env")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		err := newExpansion(func(p string) string { return p }).checkEnvFile(file)
		if err == nil {
			return
		}
		msg := err.Error()
		if !strings.Contains(msg, "compose.Max") {
			t.Fatalf("a refusal that names no budget: %s", msg)
		}
		if strings.Contains(msg, "sk_live_") {
			t.Fatalf("a refusal that carries a value: %s", msg)
		}
	})
}
