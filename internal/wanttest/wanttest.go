// Package wanttest checks findings against `# want RULEID…` comments in
// testdata files, the way golang.org/x/tools' analysistest checks `// want`
// comments: every finding must be wanted on its exact line, and every want
// must be found. `# want@-2 ID` expects the finding two lines above the
// comment, for lines that cannot carry a comment (a shell line ending in a
// backslash continuation).
package wanttest

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
)

var wantRe = regexp.MustCompile(`#\s*want(@[+-]\d+)?((?:\s+DV\d{4})+)`)

// Wants are expected rule IDs by "path:line".
type Wants map[string][]string

// Parse reads the want comments of files.
func Parse(t testing.TB, paths ...string) Wants {
	t.Helper()
	w := Wants{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			for _, m := range wantRe.FindAllStringSubmatch(line, -1) {
				n := i + 1
				if m[1] != "" {
					off, _ := strconv.Atoi(m[1][1:])
					n += off
				}
				key := fmt.Sprintf("%s:%d", p, n)
				w[key] = append(w[key], strings.Fields(m[2])...)
			}
		}
	}
	return w
}

// Check compares findings with the wants of the given files. A finding
// located outside them is an error too, unless it is in ignore.
func Check(t testing.TB, want Wants, got []finding.Finding, files []string) {
	t.Helper()
	have := Wants{}
	for _, f := range got {
		if !slices.Contains(files, f.Location.Path) {
			t.Errorf("finding outside the test files: %s %s:%d: %s", f.RuleID, f.Location.Path, f.Location.Line, f.Message)
			continue
		}
		key := fmt.Sprintf("%s:%d", f.Location.Path, f.Location.Line)
		have[key] = append(have[key], f.RuleID)
	}
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range have {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	for _, k := range sorted {
		w, h := slices.Clone(want[k]), slices.Clone(have[k])
		slices.Sort(w)
		slices.Sort(h)
		if slices.Equal(w, h) {
			continue
		}
		missing, extra := diff(w, h), diff(h, w)
		var msgs []string
		for _, f := range got {
			if fmt.Sprintf("%s:%d", f.Location.Path, f.Location.Line) == k && slices.Contains(extra, f.RuleID) {
				msgs = append(msgs, f.RuleID+": "+f.Message)
			}
		}
		t.Errorf("%s: missing %v, unexpected %v %v", k, missing, extra, msgs)
	}
}

// diff is a minus b, as multisets.
func diff(a, b []string) []string {
	b = slices.Clone(b)
	var out []string
	for _, x := range a {
		if i := slices.Index(b, x); i >= 0 {
			b = slices.Delete(b, i, i+1)
			continue
		}
		out = append(out, x)
	}
	return out
}
