//go:build linux

// Command hostile writes the hostile corpus of issue 19 and runs dockvet
// over it, printing one row per case: its exit code, CPU time, peak
// memory, first line of stderr and whether it meets the acceptance
// (internal/hostile says what each case is and what it must do).
//
//	go run ./bench/hostile gen DIR                    write the corpus (reused when complete)
//	go run ./bench/hostile run DOCKVET DIR [REGEXP]   run the cases (matching REGEXP) and print the table
//
// bench/hostile.sh builds dockvet and does both.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"

	"github.com/dockvet/dockvet/internal/hostile"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 2 && args[0] == "gen":
		cs, err := hostile.Generate(args[1])
		if err != nil {
			return err
		}
		fmt.Printf("%d cases in %s\n", len(cs), args[1])
		return nil
	case (len(args) == 3 || len(args) == 4) && args[0] == "run":
		cs, err := hostile.Generate(args[2])
		if err != nil {
			return err
		}
		if len(args) == 4 {
			re, err := regexp.Compile(args[3])
			if err != nil {
				return err
			}
			cs = hostile.Select(cs, re)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		fmt.Println("| case | row | exit | CPU s | max RSS MiB | verdict | first line of stderr |")
		fmt.Println("|---|---|---|---|---|---|---|")
		failed := 0
		err = hostile.RunAll(ctx, cs, hostile.RunOptions{Dockvet: args[1], Root: args[2]}, func(r hostile.Result, bad []string) {
			exit := fmt.Sprint(r.Exit)
			if r.Killed != "" {
				exit = "killed (" + r.Killed + ")"
			}
			verdict := "ok"
			if len(bad) > 0 {
				failed++
				verdict = "FAIL: " + strings.Join(bad, "; ")
			}
			if r.Skipped != "" {
				verdict = "skipped: " + r.Skipped
			}
			fmt.Printf("| %s | %d | %s | %.2f | %d | %s | %s |\n", r.Case.Name, r.Case.Row, exit, r.CPU.Seconds(), r.MaxRSS>>20,
				cell(verdict), cell(r.FirstLine()))
		})
		if err != nil {
			return err
		}
		fmt.Printf("\n%d of %d runs fail the acceptance\n", failed, len(cs))
		return nil
	}
	return fmt.Errorf("usage: hostile gen DIR | hostile run DOCKVET DIR [REGEXP]")
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
