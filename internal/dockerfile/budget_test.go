package dockerfile

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// checkAlloc parses and checks a Dockerfile and returns the file and the
// memory that took.
func checkAlloc(t *testing.T, src string) (*File, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	Check(f, Options{})
	runtime.ReadMemStats(&after)
	return f, after.TotalAlloc - before.TotalAlloc
}

// argChain is a Dockerfile whose ARGs each repeat the one before four
// times: 8·4^n bytes at level n.
func argChain(levels int) string {
	var b strings.Builder
	b.WriteString("FROM alpine:3.22\nARG V0=xxxxxxxx\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "ARG V%d=$V%d$V%d$V%d$V%d\n", i, i-1, i-1, i-1, i-1)
	}
	fmt.Fprintf(&b, "ENV X=$V%d\nLABEL x=$V%d\nRUN echo $V%d\n", levels, levels, levels)
	return b.String()
}

func TestArgChainBudget(t *testing.T) {
	// 40 levels would be 8·4^40 bytes; 4 levels are 2 KiB. The memory of
	// the two differs by at most the file's expansion budget, not by 4^36
	// (past the value budget the chain starts again from the unexpanded
	// word, so values near the budget recur a few times).
	_, small := checkAlloc(t, argChain(4))
	f, large := checkAlloc(t, argChain(40))
	if large > small+MaxExpandBytes {
		t.Errorf("40 chained ARGs allocated %d bytes, 4 allocated %d", large, small)
	}
	var limited []string
	for _, in := range f.Instructions {
		if in.Limit != "" {
			limited = append(limited, in.Original)
		}
	}
	if len(limited) == 0 || !strings.Contains(strings.Join(limited, "\n"), "ARG V7=") {
		t.Errorf("instructions with a limit: %q, want the ARG past the budget", limited)
	}
	// Within the budget, values are expanded as BuildKit expands them.
	f, _ = checkAlloc(t, argChain(2))
	if v, _ := f.Final().scope.Get("V2"); v != strings.Repeat("x", 128) {
		t.Errorf("V2 = %q", v)
	}
	for _, in := range f.Instructions {
		if in.Limit != "" {
			t.Errorf("%s: limit %q within the budget", in.Original, in.Limit)
		}
	}
}

func TestReplacementBudget(t *testing.T) {
	// ${V//x/…} multiplies a value by the replacement's length.
	src := "FROM alpine:3.22\nARG V0=" + strings.Repeat("x", 20000) + "\nARG V1=${V0//x/" + strings.Repeat("y", 100) + "}\n"
	f, alloc := checkAlloc(t, src)
	if alloc > 64<<20 {
		t.Errorf("%d bytes allocated", alloc)
	}
	if _, ok := f.Final().scope.Get("V1"); ok {
		t.Error("V1 over the budget must be unknown, as a build argument is")
	}
}

// pipeRun is a RUN of n piped `sh -c "cat"` stages over continuation
// lines.
func pipeRun(n int) string {
	return "FROM alpine:3.22\nRUN echo x \\\n  | " + strings.Repeat("sh -c \"cat\" \\\n  | ", n) + "cat\n"
}

func TestLongPipeRunLinear(t *testing.T) {
	// Ten times the stages cost about ten times the memory through
	// parsing and every rule (it was quadratic: 3.3 GiB for 20,000).
	_, small := checkAlloc(t, pipeRun(2_000))
	_, large := checkAlloc(t, pipeRun(20_000))
	if ratio := float64(large) / float64(small); ratio > 15 {
		t.Errorf("10 times the stages allocated %.1f times the memory (%d bytes)", ratio, large)
	}
}

// manyArgs is a stage of n ARGs, each followed by a RUN that uses it.
func manyArgs(n int) string {
	var b strings.Builder
	b.WriteString("FROM alpine:3.22\n")
	for i := range n {
		fmt.Fprintf(&b, "ARG A%d=x\nRUN echo $A%d\n", i, i)
	}
	return b.String()
}

func TestManyArgsLinear(t *testing.T) {
	// Every instruction keeps the scope before it; a copy each was
	// quadratic (5,000 ARGs: 790 MiB).
	_, small := checkAlloc(t, manyArgs(500))
	f, large := checkAlloc(t, manyArgs(5_000))
	if ratio := float64(large) / float64(small); ratio > 15 {
		t.Errorf("10 times the ARGs allocated %.1f times the memory (%d bytes)", ratio, large)
	}
	// Each RUN still sees the scope before it, not after.
	runs := 0
	for _, in := range f.Final().Instructions {
		if in.Keyword != "RUN" {
			continue
		}
		name := fmt.Sprintf("A%d", runs)
		if v, ok := in.Scope.Get(name); !ok || v != "x" {
			t.Fatalf("RUN %d: %s = %q, %v", runs, name, v, ok)
		}
		if _, ok := in.Scope.Get(fmt.Sprintf("A%d", runs+1)); ok {
			t.Fatalf("RUN %d sees a later ARG", runs)
		}
		runs++
	}
}
