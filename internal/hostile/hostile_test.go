//go:build linux

package hostile

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHostileCorpus runs dockvet (built once, without the race detector)
// over every hostile case of issue 19 and its trivial twin, as child
// processes, one at a time, and fails for each case that breaks the
// acceptance: the exit code or one-line refusal, CPU time over
// max(20× the twin's, 2 s), peak memory over 150 MiB, a planted secret
// printed, a hang or a blow-up (the child is killed at 20 s or 1 GiB and
// reported as such). Every run's figures are logged.
//
// The corpus is cached in $TMPDIR/dockvet-hostile-VERSION (or
// $DOCKVET_HOSTILE_DIR) and rewritten when the generator's Version
// changes; its large cases take seconds to write.
func TestHostileCorpus(t *testing.T) {
	if root := os.Getenv(generateOnly); root != "" {
		// The child generateApart starts: write the corpus, nothing else.
		if _, err := Generate(root); err != nil {
			t.Fatal(err)
		}
		return
	}
	bin := buildDockvet(t)
	root := os.Getenv("DOCKVET_HOSTILE_DIR")
	if root == "" {
		root = filepath.Join(os.TempDir(), "dockvet-hostile-"+Version)
	}
	generateApart(t, root)
	cases, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	// DOCKVET_HOSTILE_CASES=REGEXP runs only the matching cases (and
	// their twins), to rerun one row while fixing it.
	if pat := os.Getenv("DOCKVET_HOSTILE_CASES"); pat != "" {
		re, err := regexp.Compile(pat)
		if err != nil {
			t.Fatalf("DOCKVET_HOSTILE_CASES: %v", err)
		}
		cases = Select(cases, re)
	}
	if os.Geteuid() != 0 {
		// Row 12's directory and file are mode 000: unreadable to this
		// user as they are to nobody, so the cases still hold.
		t.Log("not root: the row 12 cases run as this user, not as nobody")
	}

	// Stop before the test binary's own deadline, naming what did not run.
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-30*time.Second))
		defer cancel()
	}
	ran := map[string]bool{}
	err = RunAll(ctx, cases, RunOptions{Dockvet: bin, Root: root}, func(r Result, bad []string) {
		ran[r.Case.Name] = true
		t.Run(r.Case.Name, func(t *testing.T) {
			exit := fmt.Sprint(r.Exit)
			if r.Killed != "" {
				exit = "killed (" + r.Killed + ")"
			}
			t.Logf("row %d: %s\n\tcd %s && %s\n\texit %s, CPU %.2f s, max RSS %d MiB (runner at %d MiB), stderr: %s",
				r.Case.Row, r.Case.What, filepath.Join(root, r.Case.Name), r.Case.Command(), exit, r.CPU.Seconds(), r.MaxRSS>>20, r.RunnerRSS>>20, r.FirstLine())
			for _, b := range bad {
				t.Error(b)
			}
		})
	})
	if err != nil {
		var left []string
		for _, c := range cases {
			if !ran[c.Name] {
				left = append(left, c.Name)
			}
		}
		t.Errorf("stopped before the test's deadline (%v); not run: %s", err, strings.Join(left, ", "))
	}
}

// generateOnly names, in the environment of a child of this test binary,
// the directory it is to write the corpus to.
const generateOnly = "DOCKVET_HOSTILE_GENERATE_ONLY"

// generateApart writes a missing corpus in a child process (this test
// binary, run again). Writing it here would leave this process at 200 MiB
// or more under the race detector (its large layers pass through memory),
// and each dockvet child inherits its parent's resident memory into its
// own peak (lowerHiwater): every row would read as over the memory bound
// on a machine that had no corpus yet.
func generateApart(t *testing.T, root string) {
	t.Helper()
	if Generated(root) {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileCorpus$", "-test.count=1")
	cmd.Env = append(os.Environ(), generateOnly+"="+root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generating the corpus in %s: %v\n%s", root, err, out)
	}
	if !Generated(root) {
		t.Fatalf("generating the corpus in %s: the child ended without finishing it", root)
	}
}

// buildDockvet builds ./cmd/dockvet into a directory every user can reach
// (row 12 runs it as nobody), without the race detector or any other
// GOFLAGS the test itself runs under: the children are measured, and the
// race detector would multiply their CPU and memory.
func buildDockvet(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build dockvet with:", err)
	}
	modRoot, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()) && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "dockvet")
	cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/dockvet")
	cmd.Dir = modRoot
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/dockvet: %v\n%s", err, out)
	}
	return bin
}

// TestCheck pins the checker on made-up results: a twin-sized run
// passes; each way to fail is reported.
func TestCheck(t *testing.T) {
	tw := &Result{Case: Case{Name: "t"}, Exit: 0, CPU: 50 * time.Millisecond, MaxRSS: 40 << 20}
	handled := Case{Name: "c", Twin: "t", Expect: Handled, Secrets: []string{"ghp_0123456789abcdefghij"}}
	refused := Case{Name: "f", Twin: "t", Expect: Refused, Refusal: notRegular}
	incomplete := Case{Name: "i", Twin: "t", Expect: Incomplete}
	for _, tc := range []struct {
		name string
		r    Result
		want string // "" = passes
	}{
		{"handled", Result{Case: handled, Exit: 1, CPU: 60 * time.Millisecond, MaxRSS: 50 << 20}, ""},
		{"slow but under the floor", Result{Case: handled, Exit: 1, CPU: 1900 * time.Millisecond, MaxRSS: 50 << 20}, ""},
		{"cpu ratio", Result{Case: handled, Exit: 1, CPU: 3 * time.Second, MaxRSS: 50 << 20}, "CPU 3.00 s is 60×"},
		{"memory", Result{Case: handled, Exit: 0, CPU: time.Millisecond, MaxRSS: 151 << 20}, "peak memory 151 MiB"},
		{"runner too large", Result{Case: handled, Exit: 0, MaxRSS: 200 << 20, RunnerRSS: 200 << 20}, "cannot judge memory"},
		{"budget refusal", Result{Case: handled, Exit: 2, Stderr: []byte("dockvet: Dockerfile: line 2: eval nested more than 8 deep (budget maxEvalDepth)\n")}, ""},
		{"refusal not naming a budget", Result{Case: handled, Exit: 2, Stderr: []byte("dockvet: something broke\n")}, "does not name a budget"},
		{"two lines", Result{Case: handled, Exit: 2, Stderr: []byte("warning\ndockvet: too many\n")}, "2 lines on stderr"},
		{"leak", Result{Case: handled, Exit: 2, Stderr: []byte("dockvet: bad line ghp_0123456789abcdefghij\n")}, "planted secret ghp_****"},
		{"masked", Result{Case: handled, Exit: 1, Stdout: []byte("token ghp_**** found\n")}, ""},
		{"hang", Result{Case: refused, Exit: -1, Killed: "time", CPU: 10 * time.Millisecond}, "hang: killed"},
		{"runaway", Result{Case: handled, Exit: -1, Killed: "time", CPU: 9 * time.Second}, "runaway CPU"},
		{"blow-up", Result{Case: handled, Exit: -1, Killed: "memory"}, "memory blow-up"},
		{"fifo refused", Result{Case: refused, Exit: 2, Stderr: []byte("dockvet: .env: not a regular file (a named pipe)\n")}, ""},
		{"fifo read", Result{Case: refused, Exit: 0}, "exit 0, want 2"},
		{"errors entry", Result{Case: incomplete, Exit: 2, Stdout: []byte(`{"findings":[],"errors":[{"input":"repo/private","message":"permission denied"}]}`)}, ""},
		{"silent skip", Result{Case: incomplete, Exit: 1, Stdout: []byte(`{"findings":[]}`)}, "no errors entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := Check(tc.r, tw)
			got := strings.Join(bad, "; ")
			switch {
			case tc.want == "" && got != "":
				t.Errorf("want no failure, got %s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("want a failure containing %q, got %q", tc.want, got)
			}
			if strings.Contains(got, "0123456789") {
				t.Errorf("the checker's message prints the planted secret: %s", got)
			}
		})
	}
}

// TestCasesWellFormed checks the list: names unique, every case's twin
// exists and is a twin, every row 1–13 present, refusals have patterns.
func TestCasesWellFormed(t *testing.T) {
	cs := Cases()
	by := ByName(cs)
	if len(by) != len(cs) {
		t.Error("case names are not unique")
	}
	rows := map[int]bool{}
	for _, c := range cs {
		rows[c.Row] = true
		if c.IsTwin() {
			if c.Expect != Ordinary {
				t.Errorf("twin %s: expect %v", c.Name, c.Expect)
			}
			continue
		}
		if tw, ok := by[c.Twin]; !ok || !tw.IsTwin() {
			t.Errorf("%s: twin %q is not a twin in the list", c.Name, c.Twin)
		}
		if c.Expect == Refused && c.Refusal == nil {
			t.Errorf("%s: refused without a pattern", c.Name)
		}
	}
	for row := 1; row <= 13; row++ {
		if !rows[row] {
			t.Errorf("no case for row %d", row)
		}
	}
	var names []string
	for _, c := range Select(cs, regexp.MustCompile(`^13a`)) {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "t-dockerfile 13a-fifo-dockerignore" {
		t.Errorf("Select(^13a) = %s, want the case and its twin", got)
	}
}

// TestCasesListedCheaply holds Cases to listing: the runner that calls it
// must stay small, since every child it measures inherits its resident
// memory (lowerHiwater). A CI run failed every row when the large cases'
// contents were built while listing (the runner at 151 MiB under -race).
func TestCasesListedCheaply(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cs := Cases()
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("listing %d cases allocated %d KiB; build large contents in the case's gen (later), not in the list", len(cs), n>>10)
	}
}
