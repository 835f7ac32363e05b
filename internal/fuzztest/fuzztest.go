// Package fuzztest is what every fuzz target shares: a budget per input.
//
// Go's fuzzer has no limit on one input. A worker stuck in an input that
// takes minutes (an exponential expansion, a quadratic walk over a large
// mutation) runs until -fuzztime ends, when it is stopped quietly: the
// run "passes" with a few dozen executions and the input is lost. With
//
//	f.Fuzz(func(t *testing.T, data []byte) {
//		defer fuzztest.Budget(t)()
//		…
//	})
//
// an input that uses more than the budget ends the worker (exit status 2)
// with a line naming the target and the budget and the stack where the
// input is stuck; the fuzzer then reports "fuzzing process hung or
// terminated unexpectedly" and writes the input under the package's
// testdata/fuzz/FuzzX/, where it becomes a seed.
//
// The budget is CPU time of the worker process, not wall time, so a busy
// machine does not turn a slow input into a false hang; a wall-clock
// limit (WallBudget) catches inputs that block without using the CPU. It
// applies only inside a fuzzing worker (-test.fuzzworker): the same
// targets run as ordinary tests over their seeds, in parallel with other
// tests and under the race detector, where the process's CPU time says
// nothing about one input.
package fuzztest

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// DefaultBudget is the CPU time one input may use. The slowest targets
// do hundreds of inputs per CPU second, the others thousands, so a
// healthy input takes milliseconds at most. Two seconds is the
// hostile-input acceptance's limit for a whole run of dockvet: far above
// any legitimate input, and what a long fuzzing run by hand allows.
// .ci/fuzz, whose runs last two seconds, sets one second, so that a hang
// starting in a run's first second is still caught. DOCKVET_FUZZ_BUDGET
// (a Go duration) overrides it.
const DefaultBudget = 2 * time.Second

// WallBudget catches an input that blocks (a lock never released, a read
// that never returns) and so never reaches the CPU budget. It is wall
// time, so it is generous: a loaded machine stretches wall time, not CPU
// time.
const WallBudget = 30 * time.Second

// tick is how often the monitor looks; an input is caught within a tick
// of crossing the budget.
const tick = 100 * time.Millisecond

var (
	once    sync.Once
	enabled bool
	budget  = DefaultBudget
	current atomic.Uint64 // the running input's number, 0 between inputs
	next    atomic.Uint64
	name    atomic.Pointer[string]
)

// MinimizeCalls bounds how many calls Go's fuzzer spends minimising one
// input, unless -test.fuzzminimizetime says otherwise. By default it
// spends up to a minute on every input that reaches new code, and
// minimising is quadratic in the input's size: a mutation of a seed of a
// few kilobytes (an ELF, a jar, a Dockerfile) through a target taking a
// millisecond stalled the only worker for the whole minute, again and
// again, which is how targets "barely ran past their seeds". A hundred
// calls still cut a failing input's tail down (it is written either way);
// -test.fuzzminimizetime=60s gives a failing input the full treatment.
const MinimizeCalls = "100x"

// Minimize applies MinimizeCalls to a fuzzing run; call it in the fuzz
// target before f.Fuzz (the coordinator reads the flag there).
func Minimize(f *testing.F) {
	set := false
	flag.Visit(func(fl *flag.Flag) { set = set || fl.Name == "test.fuzzminimizetime" })
	if !set && flag.Lookup("test.fuzzminimizetime") != nil {
		flag.Set("test.fuzzminimizetime", MinimizeCalls)
	}
}

// Budget starts the budget of one input and returns the function that
// ends it (call it with defer). Outside a fuzzing worker it does nothing.
func Budget(t testing.TB) func() {
	once.Do(setup)
	if !enabled {
		return func() {}
	}
	if name.Load() == nil {
		n := t.Name()
		name.Store(&n)
	}
	id := next.Add(1)
	current.Store(id)
	return func() { current.CompareAndSwap(id, 0) }
}

func setup() {
	f := flag.Lookup("test.fuzzworker")
	if f == nil || f.Value.String() != "true" {
		return
	}
	if s := os.Getenv("DOCKVET_FUZZ_BUDGET"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			fmt.Fprintf(os.Stderr, "fuzztest: DOCKVET_FUZZ_BUDGET=%q is not a positive duration; using %v\n", s, DefaultBudget)
		} else {
			budget = d
		}
	}
	enabled = true
	go monitor()
}

// monitor watches the running input. The CPU time at the first tick that
// sees an input is its start (an input is charged from at most one tick
// after it began), which keeps the cost per input to two atomic stores.
func monitor() {
	var seen uint64
	var cpu0 time.Duration
	var wall0 time.Time
	for range time.Tick(tick) {
		id := current.Load()
		if id == 0 || id != seen {
			seen, cpu0, wall0 = id, cpuTime(), time.Now()
			continue
		}
		used, waited := cpuTime()-cpu0, time.Since(wall0)
		if used <= budget && waited <= WallBudget {
			continue
		}
		n := "a fuzz target"
		if p := name.Load(); p != nil {
			n = *p
		}
		msg := fmt.Sprintf("fuzztest: %s: one input used %v of CPU (budget %v, DOCKVET_FUZZ_BUDGET) in %v (wall budget %v): treated as a hang; the fuzzer writes the input under testdata/fuzz\n",
			n, used.Round(time.Millisecond), budget, waited.Round(time.Millisecond), WallBudget)
		report(msg + stuck())
		os.Exit(2)
	}
}

// report writes to the coordinator's standard error: the fuzzer discards
// its workers' output, and says only that a worker "hung or terminated
// unexpectedly". /proc/PPID/fd/2 is the coordinator's (the worker is its
// child); where it cannot be opened, the worker's own stderr is the best
// left.
func report(msg string) {
	w := os.Stderr
	if f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/2", os.Getppid()), os.O_WRONLY|os.O_APPEND, 0); err == nil {
		w = f
	}
	fmt.Fprint(w, msg)
}

// stuck is the stack of the goroutine running the input: where it hangs.
func stuck() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out strings.Builder
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "testing.(*F).Fuzz") && !strings.Contains(g, "fuzztest.monitor") {
			out.WriteString(g + "\n")
		}
	}
	return out.String()
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
