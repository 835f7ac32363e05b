package secrets

import (
	"strings"
	"testing"
)

// FuzzMaskError: whatever a parser's error says around it, a planted token
// never shows more than its first four characters, and nothing panics.
func FuzzMaskError(f *testing.F) {
	for _, s := range []string{
		"line 2: unknown instruction: TOKEN=%s",
		"invalid containerPort: %s",
		"cannot unmarshal !!str `%s` into map",
		`function "%s" not defined`,
		"'%s'",
		"(%s)",
	} {
		f.Add(s)
	}
	const tok = "ghp_R7bQ2xVt9LmP4sKd8NwZ3yHc6JfA1eUo5iTg"
	f.Fuzz(func(t *testing.T, format string) {
		if len(format) > 4096 {
			return
		}
		msg := strings.ReplaceAll(format, "%s", " "+tok+" ")
		if !strings.Contains(msg, tok) {
			return
		}
		if got := MaskError(msg); strings.Contains(got, tok[:5]) {
			t.Errorf("MaskError(%q) = %q shows the token", msg, got)
		}
	})
}
