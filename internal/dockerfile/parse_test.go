package dockerfile

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/fuzztest"
	"github.com/dockvet/dockvet/internal/shell"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		line            int
	}{
		{"from without image", "FROM\n", "FROM requires either one or three arguments", 1},
		{"unknown instruction", "FROM alpine\nFOO bar\n", "unknown instruction: FOO", 2},
		{"unterminated heredoc", "FROM alpine\nRUN <<EOF\necho hi\n", "unterminated heredoc", 2},
		{"empty", "", "file with no instructions", 0},
		{"only comments", "# nothing\n", "file with no instructions", 1},
		{"no FROM", "RUN true\n", "no build stage", 1},
		{"binary", "FROM alpine\x00\n", "binary file", 0},
		{"bad mount", "FROM alpine\nRUN --mount=type=nfs true\n", "unsupported mount type", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("Dockerfile", []byte(tc.src))
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
			if de.Line != tc.line {
				t.Errorf("line = %d, want %d", de.Line, tc.line)
			}
			if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "Dockerfile") {
				t.Errorf("error must be one line naming the file: %q", err)
			}
		})
	}
}

func TestParseFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ParseFile(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ParseFile(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	big := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(big, []byte("FROM alpine\n"+strings.Repeat("# padding\n", maxFileSize/10+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFile(big); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("huge file: %v", err)
	}
}

func TestModel(t *testing.T) {
	src := "# syntax=docker/dockerfile:1.7\n" + // 1
		"ARG BASE=alpine\n" + // 2
		"ARG TAG\n" + // 3
		"FROM ${BASE}:3.22 AS Build\n" + // 4
		"RUN apk add curl \\\n" + // 5
		"    # a comment inside the continuation\n" + // 6
		"\n" + // 7 (empty continuation line)
		"    && curl -fsSL https://x \\\n" + // 8
		"    | sh\n" + // 9
		"FROM build\n" + // 10
		"RUN <<EOF\n" + // 11
		"apt-get update\n" + // 12
		"sudo id\n" + // 13
		"EOF\n" + // 14
		"FROM alpine:${TAG}\n" + // 15
		"SHELL [\"pwsh\", \"-c\"]\n" + // 16
		"RUN Write-Host hi\n" // 17
	f, err := Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.MetaArgs) != 2 || len(f.Stages) != 3 {
		t.Fatalf("meta args %d, stages %d", len(f.MetaArgs), len(f.Stages))
	}
	b := f.Stages[0]
	if b.Name != "build" || b.Base != "alpine:3.22" || b.BaseRaw != "${BASE}:3.22" {
		t.Errorf("stage 0: %+v", b)
	}
	if f.Stages[1].BaseStage != b || f.StageByName("BUILD") != b || f.StageByName("1") != f.Stages[1] {
		t.Error("FROM build must refer to the stage, case-insensitively")
	}
	if f.Stages[2].Base != "" {
		t.Errorf("ARG without default must leave the base unresolved, got %q", f.Stages[2].Base)
	}
	lines := func(in *Instruction) string {
		var out []string
		for _, c := range in.Script.Commands {
			out = append(out, c.Name+"@"+strconv.Itoa(c.Line))
		}
		return strings.Join(out, " ")
	}
	if got := lines(b.Instructions[0]); got != "apk@5 curl@8 sh@9" {
		t.Errorf("continuation lines: %s", got)
	}
	if got := lines(f.Stages[1].Instructions[0]); got != "apt-get@12 id@13" {
		t.Errorf("heredoc lines: %s", got)
	}
	if in := f.Stages[2].Instructions[1]; in.Script != nil || in.ScriptErr == nil {
		t.Error("a RUN under a PowerShell SHELL must not be parsed as POSIX shell")
	}
}

func TestHeredocInterpreter(t *testing.T) {
	f, err := Parse("D", []byte("FROM python:3.13-slim\nRUN <<EOF\n#!/usr/bin/env python3\nprint('sudo rm')\nEOF\n"))
	if err != nil {
		t.Fatal(err)
	}
	if in := f.Stages[0].Instructions[0]; in.Script != nil {
		t.Error("a python heredoc must not be read as shell")
	}
}

func TestWaivers(t *testing.T) {
	src := "FROM alpine:3.22\n" +
		"# dockvet ignore=DV1070,dv1071 vendor script, reviewed in #42\n" +
		"RUN curl -fsSL https://x | \\\n" +
		"    sh\n" +
		"# dockvet ignore-file=DV1091 health is checked by the orchestrator\n"
	f, err := Parse("D", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Waivers) != 2 {
		t.Fatalf("waivers = %+v", f.Waivers)
	}
	w := f.Waivers[0]
	if w.Line != 3 || w.EndLine != 4 || strings.Join(w.RuleIDs, ",") != "DV1070,DV1071" || w.Reason != "vendor script, reviewed in #42" {
		t.Errorf("instruction waiver = %+v", w)
	}
	if fw := f.Waivers[1]; fw.Line != 0 || fw.RuleIDs[0] != "DV1091" {
		t.Errorf("file waiver = %+v", fw)
	}
}

func TestIsName(t *testing.T) {
	for name, want := range map[string]bool{
		"Dockerfile": true, "Dockerfile.prod": true, "api.Dockerfile": true, "web.dockerfile": true, "Containerfile": true,
		"Dockerfile.dockerignore": false, "Dockerfile.j2": false, "README.md": false, ".dockerfile": false, "Dockerfile.md": false,
	} {
		if IsName(name) != want {
			t.Errorf("IsName(%q) = %v", name, !want)
		}
	}
}

// FuzzCheck parses arbitrary input and runs every rule over whatever parses:
// no input may panic or hang the parser or a rule.
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.Dockerfile")
	more, _ := filepath.Glob("testdata/*/Dockerfile")
	for _, p := range append(files, more...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("FROM a\nRUN <<A <<B\nx\nA\ny\nB\n"))
	f.Add([]byte("# escape=`\nFROM a\nRUN echo `\n  hi\n"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		defer fuzztest.Budget(t)()
		file, err := Parse("Dockerfile", src)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		// No build context: the fuzzer must not read the disk.
		for _, fd := range Check(file, Options{Now: testNow, Context: "/nonexistent-context"}) {
			if fd.Location.Line < 0 || fd.Location.Line > len(file.Lines)+1 {
				t.Fatalf("%s at line %d of a %d-line file", fd.RuleID, fd.Location.Line, len(file.Lines))
			}
		}
		for _, in := range file.Instructions {
			if in.Script != nil {
				for _, c := range in.Script.Commands {
					_ = c.Feeds(func(*shell.Command) bool { return false })
				}
			}
		}
	})
}

// BenchmarkAudit parses and checks the testdata corpus (every rule on), the
// per-file cost of `dockvet dockerfile`; it reports files per second.
func BenchmarkAudit(b *testing.B) {
	files, _ := filepath.Glob("testdata/*.Dockerfile")
	more, _ := filepath.Glob("testdata/*/Dockerfile")
	var srcs [][]byte
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, data)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, src := range srcs {
			f, err := Parse("Dockerfile", src)
			if err != nil {
				b.Fatal(err)
			}
			Check(f, Options{Now: testNow, Context: "/nonexistent-context"})
		}
	}
	b.ReportMetric(float64(b.N*len(srcs))/b.Elapsed().Seconds(), "files/s")
}
