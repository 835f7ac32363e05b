package shell

import (
	"runtime"
	"strings"
	"testing"
)

// nestedEval is n levels of `eval "$(…)"` around inner: each level used to
// walk what it holds twice (as the substitution, and again as eval's
// script), 2^n times in all.
func nestedEval(n int, inner string) string {
	s := inner
	for range n {
		s = `eval "$(` + s + `)"`
	}
	return s
}

// nestedShC is n levels of `sh -c '…'`, each quoting the next.
func nestedShC(n int, inner string) string {
	s := inner
	for range n {
		s = "sh -c '" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// allocBytes is the memory Parse allocates for src.
func allocBytes(t *testing.T, src string) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := Parse(src, Options{}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestNestingWithinBudget(t *testing.T) {
	// Nesting a real script uses is analysed in full, the innermost
	// pipe to a shell included, and no limit is reported.
	for _, src := range []string{
		nestedEval(3, "curl -fsSL https://x | sh"),
		nestedShC(3, "curl -fsSL https://x | sh"),
		"bash <<EOF\n" + nestedEval(2, "sh -c \"curl -fsSL https://x | sh\"") + "\nEOF",
	} {
		s := mustParse(t, src)
		if s.Limit != "" {
			t.Errorf("%q: limit %q", src, s.Limit)
		}
		var piped bool
		for _, c := range s.Commands {
			if c.Name == "sh" && c.Feeds(func(x *Command) bool { return x.Name == "curl" }) != nil {
				piped = true
			}
		}
		if !piped {
			t.Errorf("%q: curl | sh not found in %q", src, names(s))
		}
	}
	// The outer shell's $(…) is walked once: eval runs its output, not
	// its text.
	s := mustParse(t, `eval "$(curl -fsSL https://x)"`)
	if got := names(s); got != "eval curl" {
		t.Errorf("commands %q, want %q", got, "eval curl")
	}
}

func TestNestingBudget(t *testing.T) {
	for _, tc := range []struct {
		name         string
		gen          func(int, string) string
		small, large int
	}{
		{"eval", nestedEval, 20, 60},
		// Quoting for sh -c triples the input per level: 10 levels are
		// 240 KB.
		{"sh -c", nestedShC, 7, 10},
	} {
		name, gen := tc.name, tc.gen
		// Past MaxDepth the walk stops and says so, whatever the depth.
		s := mustParse(t, gen(MaxDepth+2, "curl -fsSL https://x | sh"))
		if !strings.Contains(s.Limit, "exceeds 8 levels (shell.MaxDepth)") || !strings.Contains(s.Limit, "the rest was not analysed") {
			t.Errorf("%s: limit %q", name, s.Limit)
		}
		// The work is linear in the input: many levels cost no more per
		// byte than a few (it was 2^levels).
		small, large := gen(tc.small, "echo x"), gen(tc.large, "echo x")
		perByteSmall := float64(allocBytes(t, small)) / float64(len(small))
		perByteLarge := float64(allocBytes(t, large)) / float64(len(large))
		if perByteLarge > 3*perByteSmall {
			t.Errorf("%s: %.0f bytes allocated per input byte at %d levels, %.0f at %d", name, perByteLarge, tc.large, perByteSmall, tc.small)
		}
		if n := len(mustParse(t, large).Commands); n > 4*MaxDepth {
			t.Errorf("%s: %d commands from %d levels", name, n, tc.large)
		}
	}
}

// pipeOfShells is a RUN-like pipe of n `sh -c "cat"` stages.
func pipeOfShells(n int) string {
	return "echo x \\\n  | " + strings.Repeat("sh -c \"cat\" \\\n  | ", n) + "cat"
}

func TestLongPipeLinear(t *testing.T) {
	s := mustParse(t, pipeOfShells(50))
	// Each stage lists the stage before it only; Feeds follows the links.
	for _, c := range s.Commands {
		if len(c.Upstream) > 1 {
			t.Fatalf("%s at %d has %d upstream commands", c.Name, c.Index, len(c.Upstream))
		}
	}
	last := s.Commands[len(s.Commands)-1]
	if last.Feeds(func(x *Command) bool { return x.Name == "echo" }) == nil {
		t.Error("echo must feed the last cat through every stage")
	}
	feeds := FedBy(func(x *Command) bool { return x.Name == "echo" })
	if feeds(last) == nil || feeds(s.Commands[0]) != nil {
		t.Error("FedBy must agree with Feeds")
	}
	// Memory per stage does not grow with the number of stages (it did:
	// every stage listed every stage before it).
	small, large := allocBytes(t, pipeOfShells(2_000)), allocBytes(t, pipeOfShells(20_000))
	if ratio := float64(large) / float64(small); ratio > 15 {
		t.Errorf("10 times the stages allocate %.1f times the memory", ratio)
	}
	// FedBy over every command of the long pipe follows each link once.
	s = mustParse(t, pipeOfShells(20_000))
	calls := 0
	feeds = FedBy(func(x *Command) bool { calls++; return x.Name == "curl" })
	for _, c := range s.Commands {
		feeds(c)
	}
	if calls > 4*len(s.Commands) {
		t.Errorf("FedBy asked its predicate %d times for %d commands", calls, len(s.Commands))
	}
}

func TestCommandBudget(t *testing.T) {
	s := mustParse(t, strings.Repeat("true;", MaxCommands+10))
	if len(s.Commands) != MaxCommands || !strings.Contains(s.Limit, "shell.MaxCommands") {
		t.Errorf("%d commands, limit %q", len(s.Commands), s.Limit)
	}
	if s := mustParse(t, strings.Repeat("true;", 1000)); s.Limit != "" {
		t.Errorf("limit %q for 1,000 commands", s.Limit)
	}
}

// TestShapeBudget: a source nested past MaxNesting, or holding more than
// twice MaxCommands commands, is not handed to the parser (it recurses
// per level and holds every command); the Script says so and has no
// commands. Sources within the budgets parse as usual.
func TestShapeBudget(t *testing.T) {
	over := []struct{ name, src, want string }{
		{"substitutions", strings.Repeat("$(", MaxNesting+1) + "x" + strings.Repeat(")", MaxNesting+1), "shell.MaxNesting is 500"},
		{"subshells", strings.Repeat("( ", MaxNesting+1) + "true" + strings.Repeat(" )", MaxNesting+1), "shell.MaxNesting"},
		{"expansions", "echo " + strings.Repeat("${a:-", MaxNesting+1) + "x" + strings.Repeat("}", MaxNesting+1), "shell.MaxNesting"},
		{"ifs", strings.Repeat("if true; then ", MaxNesting+1) + "true; " + strings.Repeat("fi; ", MaxNesting+1), "shell.MaxNesting"},
		{"and list", strings.Repeat("true && ", 2*MaxCommands+1) + "true", "about 200001 commands (shell.MaxCommands"},
	}
	for _, tc := range over {
		s := mustParse(t, tc.src)
		if len(s.Commands) != 0 || !strings.Contains(s.Limit, tc.want) || !strings.HasSuffix(s.Limit, "it was not analysed") {
			t.Errorf("%s: %d commands, limit %q; want none and a limit naming %q", tc.name, len(s.Commands), s.Limit, tc.want)
		}
	}
	within := []string{
		strings.Repeat("( ", MaxNesting) + "true" + strings.Repeat(" )", MaxNesting),
		// Depth is what is open at once: many closed blocks in a row are shallow.
		strings.Repeat("if true; then (echo ${a:-{}}); fi; for x in a; do true; done\n", 2000),
		// Words that only contain a keyword do not open anything.
		strings.Repeat("echo iffy forage done_ casein\n", 1000),
	}
	for i, src := range within {
		if s := mustParse(t, src); s.Limit != "" || len(s.Commands) == 0 {
			t.Errorf("within[%d]: limit %q, %d commands", i, s.Limit, len(s.Commands))
		}
	}
	// Quoted text counts: the scripts sh -c, eval and here-documents run
	// are text of the source, so judging the source judges them.
	s := mustParse(t, "sh -c '"+strings.Repeat("(", MaxNesting+1)+"true"+strings.Repeat(")", MaxNesting+1)+"'")
	if len(s.Commands) != 0 || !strings.Contains(s.Limit, "shell.MaxNesting") {
		t.Errorf("sh -c: %d commands, limit %q", len(s.Commands), s.Limit)
	}
}
