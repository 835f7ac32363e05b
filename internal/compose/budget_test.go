package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// doublingEnv is a .env whose every line doubles the one before:
// V0 holds a secret-looking value, Vn is ${Vn-1}${Vn-1}.
func doublingEnv(levels int) string {
	var b strings.Builder
	b.WriteString("V0=sk_live_TESTONLY0123456789\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "V%d=${V%d}${V%d}\n", i, i-1, i-1)
	}
	return b.String()
}

func writeProject(t *testing.T, env, extra string) string {
	t.Helper()
	dir := t.TempDir()
	compose := "services:\n  app:\n    image: alpine:3.22\n    environment:\n      X: ${V1}\n" + extra
	for name, text := range map[string]string{"compose.yaml": compose, ".env": env} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "compose.yaml")
}

// loadAlloc loads a project and returns its error and the memory the load
// allocated.
func loadAlloc(t *testing.T, file string) (uint64, error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Load(context.Background(), Options{Files: []string{file}})
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

func TestEnvExpansionBudget(t *testing.T) {
	// A chain that stays within the budget loads as before.
	if _, err := loadAlloc(t, writeProject(t, doublingEnv(8), "")); err != nil {
		t.Fatalf("8 levels (a 7 KiB value): %v", err)
	}
	// 40 levels asked compose-go for terabytes: refused on the text, in
	// one line naming the file, the line, the variable and the budget,
	// with no value in it; the memory is that of a small project.
	small, _ := loadAlloc(t, writeProject(t, doublingEnv(2), ""))
	large, err := loadAlloc(t, writeProject(t, doublingEnv(40), ""))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("40 levels: error %v, want *Error", err)
	}
	msg := err.Error()
	for _, want := range []string{".env:", "variable V", "compose.MaxEnvValueBytes", "65536"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "sk_live") || strings.Contains(msg, "\n") {
		t.Errorf("error %q shows a value or spans lines", msg)
	}
	if large > 4*small {
		t.Errorf("refusing 40 levels allocated %d bytes, loading 2 levels %d", large, small)
	}
}

func TestEnvFileAndInterpolationBudget(t *testing.T) {
	// A service's env_file is checked before compose-go reads it.
	file := writeProject(t, "A=x\n", "    env_file: [big.env]\n")
	if err := os.WriteFile(filepath.Join(filepath.Dir(file), "big.env"), []byte(doublingEnv(30)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadAlloc(t, file); err == nil || !strings.Contains(err.Error(), "big.env:") || !strings.Contains(err.Error(), "compose.MaxEnvValueBytes") {
		t.Errorf("env_file chain: error %v", err)
	}
	// Each value within the budget, but a Compose file that references
	// one thousands of times would be hundreds of megabytes.
	refs := "    labels:\n      many: \"" + strings.Repeat("${V11}", 5000) + "\"\n"
	_, err := loadAlloc(t, writeProject(t, doublingEnv(11), refs))
	if err == nil || !strings.Contains(err.Error(), "compose.MaxExpandBytes") {
		t.Errorf("many references: error %v", err)
	}
	// The same references to a short value are fine.
	if _, err := loadAlloc(t, writeProject(t, doublingEnv(1), strings.ReplaceAll(refs, "V11", "V1"))); err != nil {
		t.Errorf("many references to a short value: %v", err)
	}
}

func TestIncludeEnvBudget(t *testing.T) {
	// An included project's .env, or the env_file an include names, is
	// expanded too: checked before it is.
	for name, include := range map[string]string{
		"project .env": "include:\n  - sub/compose.yaml\n",
		"env_file":     "include:\n  - path: sub/compose.yaml\n    env_file: sub/.env\n",
	} {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		for file, text := range map[string]string{
			"compose.yaml":     include,
			"sub/compose.yaml": "services:\n  app:\n    image: alpine:3.22\n    environment:\n      X: ${V1}\n",
			"sub/.env":         doublingEnv(40),
		} {
			if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := loadAlloc(t, filepath.Join(dir, "compose.yaml"))
		if err == nil || !strings.Contains(err.Error(), "compose.MaxEnvValueBytes") || strings.Contains(err.Error(), "sk_live") {
			t.Errorf("%s: error %v", name, err)
		}
		// Within the budget the include loads.
		if err := os.WriteFile(filepath.Join(dir, "sub/.env"), []byte(doublingEnv(3)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := loadAlloc(t, filepath.Join(dir, "compose.yaml")); err != nil {
			t.Errorf("%s within the budget: %v", name, err)
		}
	}
}

func TestExtendsInterpolationBudget(t *testing.T) {
	// An extends base that references a large value thousands of times.
	dir := t.TempDir()
	base := "services:\n  base:\n    image: alpine:3.22\n    labels:\n      many: \"" + strings.Repeat("${V11}", 5000) + "\"\n"
	for file, text := range map[string]string{
		"compose.yaml": "services:\n  app:\n    extends:\n      file: base.yaml\n      service: base\n",
		"base.yaml":    base,
		".env":         doublingEnv(11),
	} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := loadAlloc(t, filepath.Join(dir, "compose.yaml"))
	if err == nil || !strings.Contains(err.Error(), "base.yaml") || !strings.Contains(err.Error(), "compose.MaxExpandBytes") {
		t.Errorf("error %v", err)
	}
}
