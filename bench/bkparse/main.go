// Command bkparse is the floor of the Dockerfile benchmarks: BuildKit's
// bare parse (the parser and the instruction parser, what `docker build`
// does before anything else) of every Dockerfile under a directory, in one
// process, nothing else. It imports nothing of dockvet's, so that its
// start-up is BuildKit's alone; it parses every file under DIR whose name
// does not start with a dot, which is every Dockerfile the generators
// (bench/gendockerfiles) write.
//
//	go run ./bench/bkparse DIR
package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bkparse DIR")
		os.Exit(2)
	}
	n := 0
	err := filepath.WalkDir(os.Args[1], func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		res, err := parser.Parse(bytes.NewReader(src))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if _, _, err := instructions.Parse(res.AST, nil); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		n++
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bkparse:", err)
		os.Exit(2)
	}
	fmt.Println(n)
}
