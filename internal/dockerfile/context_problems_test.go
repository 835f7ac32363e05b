package dockerfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestContextOverLimitIsReported: a context over maxContextFiles is not
// walked, and the run's Contexts says so instead of skipping its secret
// scan in silence; a context under the limit reports nothing.
func TestContextOverLimitIsReported(t *testing.T) {
	defer func(n int) { contextFileLimit = n }(contextFileLimit)
	contextFileLimit = 3
	for _, n := range []int{2, 5} {
		dir := t.TempDir()
		df := filepath.Join(dir, "Dockerfile")
		os.WriteFile(df, []byte("FROM alpine:3.20\nCOPY . /app\n"), 0o644)
		for i := range n - 1 {
			os.WriteFile(filepath.Join(dir, "f"+string(rune('a'+i))), []byte("x"), 0o644)
		}
		f, err := ParseFile(df)
		if err != nil {
			t.Fatal(err)
		}
		c := NewContexts()
		Check(f, Options{Contexts: c})
		probs := c.Problems()
		over := len(probs) == 1 && strings.Contains(probs[0].Msg, "maxContextFiles")
		if n > contextFileLimit && !over {
			t.Errorf("%d files: problems %v, want the context over maxContextFiles", n, probs)
		}
		if n <= contextFileLimit && len(probs) != 0 {
			t.Errorf("%d files: problems %v, want none", n, probs)
		}
	}
}
