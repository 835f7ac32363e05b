package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchProject writes a project of n services, each with the settings a
// real service has, half of them through an anchor.
func benchProject(b *testing.B, n int) string {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("x-base: &base\n  cap_drop: [ALL]\n  security_opt: [no-new-privileges:true]\n  read_only: true\n  mem_limit: 256m\n")
	sb.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  svc%d:\n", i)
		if i%2 == 0 {
			sb.WriteString("    <<: *base\n")
		}
		fmt.Fprintf(&sb, "    image: registry.example.com/svc%d:${TAG}\n", i)
		fmt.Fprintf(&sb, "    ports: ['%d:80', '127.0.0.1:%d:5432']\n", 8000+i, 15000+i)
		sb.WriteString("    volumes: [./data:/data, /var/run/docker.sock:/var/run/docker.sock:ro]\n")
		sb.WriteString("    environment:\n      LOG_LEVEL: info\n      DB_PASSWORD: s3cr3t-Pa55w0rd\n      TOKEN: ${TOKEN}\n")
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("TAG=1.0\nTOKEN=abc\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return file
}

// BenchmarkLoad is loading a 50-service project: compose-go, the
// position mapper and the specs.
func BenchmarkLoad(b *testing.B) {
	file := benchProject(b, 50)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(context.Background(), Options{Files: []string{file}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAudit is the rules over the specs of a loaded 50-service
// project.
func BenchmarkAudit(b *testing.B) {
	p, err := Load(context.Background(), Options{Files: []string{benchProject(b, 50)}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Audit(AuditOptions{})
	}
}
