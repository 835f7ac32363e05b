package vulndb

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// buildTextApp builds a real Go program that depends on golang.org/x/text
// v0.3.0, vendored so that the build needs no network.
func buildTextApp(t *testing.T, out string) {
	t.Helper()
	src := t.TempDir()
	files := map[string]string{
		"go.mod":             "module example.com/textapp\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.0\n",
		"main.go":            "package main\n\nimport \"golang.org/x/text/width\"\n\nfunc main() { println(width.Wide) }\n",
		"vendor/modules.txt": "# golang.org/x/text v0.3.0\n## explicit\ngolang.org/x/text/width\n",
		"vendor/golang.org/x/text/width/width.go": "package width\n\n// Wide stands in for the real package's API.\nconst Wide = 2\n",
	}
	for name, content := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	// go test puts the go command it runs as first on PATH.
	cmd := exec.Command("go", "build", "-mod=vendor", "-trimpath", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
}
