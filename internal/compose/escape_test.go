package compose

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const minimalService = "services:\n  app:\n    image: alpine:3.20\n"

// TestDotEnvLinkedOut: a repository's .env that is a symbolic link to
// /dev/zero (git stores links) is reported and never read.
func TestDotEnvLinkedOut(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(minimalService), 0o644)
	if err := os.Symlink("/dev/zero", filepath.Join(dir, ".env")); err != nil {
		t.Fatal(err)
	}
	p, err := Load(context.Background(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range p.Audit(AuditOptions{}) {
		if f.RuleID == "DV3063" && strings.Contains(f.Message, "/dev/zero") {
			found = true
		}
	}
	if !found {
		t.Errorf("no DV3063 finding for a .env linked to /dev/zero (escapes: %v)", p.Escapes)
	}
}

// TestNotRegularEnvFiles: a FIFO as .env or env_file is one clear error,
// not a hang; an ordinary project reports no DV3063.
func TestNotRegularEnvFiles(t *testing.T) {
	for _, tc := range []struct{ fifo, compose string }{
		{".env", minimalService},
		{"app.env", minimalService + "    env_file: app.env\n"},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(tc.compose), 0o644)
		if err := syscall.Mkfifo(filepath.Join(dir, tc.fifo), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(context.Background(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}})
		if err == nil || !strings.Contains(err.Error(), "is a FIFO") {
			t.Errorf("%s as a FIFO: got %v, want an error naming the FIFO", tc.fifo, err)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(minimalService+"    env_file: app.env\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "app.env"), []byte("A=1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".env"), []byte("B=2\n"), 0o644)
	p, err := Load(context.Background(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Escapes) != 0 {
		t.Errorf("escapes in a project that stays inside: %v", p.Escapes)
	}
}

// TestDotEnvDangling: a .env that links to a file not there is no .env,
// as docker compose reads it (mailcow ships .env -> mailcow.conf, which
// its setup writes); one that links out of the project is still reported.
func TestDotEnvDangling(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte("services:\n  app:\n    image: alpine:${TAG:-3.20}\n"), 0o644)
	if err := os.Symlink("mailcow.conf", filepath.Join(dir, ".env")); err != nil {
		t.Fatal(err)
	}
	p, err := Load(context.Background(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}})
	if err != nil {
		t.Fatalf("a .env linked to a file not yet written: %v", err)
	}
	if len(p.Escapes) != 0 {
		t.Errorf("escapes: %v", p.Escapes)
	}
	if img := p.Model.Services["app"].Image; img != "alpine:3.20" {
		t.Errorf("image %q, want the default of ${TAG:-3.20}", img)
	}

	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(minimalService), 0o644)
	if err := os.Symlink("/nonexistent/prod.env", filepath.Join(dir, ".env")); err != nil {
		t.Fatal(err)
	}
	p, err = Load(context.Background(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Escapes) != 1 || p.Escapes[0].Kind != ".env" {
		t.Errorf("a .env linked out of the project, not there: escapes %v, want the .env", p.Escapes)
	}
}
