package fuzztest

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

var spun atomic.Int64

// FuzzSpin is the target TestBudget fuzzes in a child process: an input
// other than FUZZTEST_SAFE never returns when FUZZTEST_SPIN is set. Run
// as an ordinary test it does nothing.
func FuzzSpin(f *testing.F) {
	if os.Getenv("FUZZTEST_CHILD") == "" {
		f.Skip("run by TestBudget in a child process")
	}
	f.Add(os.Getenv("FUZZTEST_SEED"))
	spin := os.Getenv("FUZZTEST_SPIN") != ""
	f.Fuzz(func(t *testing.T, s string) {
		defer Budget(t)()
		// A busy loop the compiler keeps: the hang the budget is for.
		n := 0
		for spin && s != "ok" {
			n++
			spun.Store(int64(n))
		}
	})
}

// TestBudget fuzzes FuzzSpin in a child: a seed that spins fails the run
// naming the target, the budget and the seed; a mutated input that spins
// fails it and is written under testdata/fuzz; without spinning the run
// passes.
func TestBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("starts fuzzing child processes")
	}
	run := func(seed string, spin bool) (string, string, error) {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run", "^$", "-test.fuzz", "^FuzzSpin$", "-test.fuzztime", "2s",
			"-test.parallel", "1", "-test.fuzzcachedir", filepath.Join(dir, "cache"))
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "FUZZTEST_CHILD=1", "FUZZTEST_SEED="+seed, "DOCKVET_FUZZ_BUDGET=300ms")
		if spin {
			cmd.Env = append(cmd.Env, "FUZZTEST_SPIN=1")
		}
		out, err := cmd.CombinedOutput()
		return string(out), dir, err
	}
	var ee *exec.ExitError
	out, _, err := run("spin", true)
	if !errors.As(err, &ee) {
		t.Fatalf("a spinning seed passed (%v):\n%s", err, out)
	}
	for _, want := range []string{"fuzztest: FuzzSpin: one input used", "budget 300ms, DOCKVET_FUZZ_BUDGET", "fuzztest.FuzzSpin.func1", "FuzzSpin/seed#0"} {
		if !strings.Contains(out, want) {
			t.Errorf("the failure does not say %q:\n%s", want, out)
		}
	}
	out, dir, err := run("ok", true)
	if !errors.As(err, &ee) || !strings.Contains(out, "fuzztest: FuzzSpin: one input used") {
		t.Fatalf("a spinning mutated input passed (%v):\n%s", err, out)
	}
	if written, _ := filepath.Glob(filepath.Join(dir, "testdata/fuzz/FuzzSpin/*")); len(written) != 1 {
		t.Errorf("failing inputs written: %v\n%s", written, out)
	}
	if out, _, err := run("ok", false); err != nil {
		t.Fatalf("a run without a hang failed (%v):\n%s", err, out)
	}
}

// TestMinimize: without -test.fuzzminimizetime the bound applies; a value
// given on the command line stays.
func TestMinimize(t *testing.T) {
	fl := flag.Lookup("test.fuzzminimizetime")
	old := fl.Value.String()
	defer fl.Value.Set(old)
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == fl.Name })
	if given {
		t.Skip("-test.fuzzminimizetime given to this run")
	}
	Minimize(nil)
	if got := fl.Value.String(); got != MinimizeCalls {
		t.Fatalf("minimise time %q, want %q", got, MinimizeCalls)
	}
	flag.Set(fl.Name, "5s")
	Minimize(nil)
	if got := fl.Value.String(); got != "5s" {
		t.Fatalf("a given minimise time became %q", got)
	}
}
