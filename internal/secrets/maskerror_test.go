package secrets

import (
	"strings"
	"testing"
)

func TestMaskError(t *testing.T) {
	const tok = "ghp_R7bQ2xVt9LmP4sKd8NwZ3yHc6JfA1eUo5iTg"
	for _, msg := range []string{
		"line 2: unknown instruction: TOKEN=" + tok,
		"failed to read .env: line 3: unexpected character \"x\" in variable name \"TOKEN " + tok + "\"",
		"yaml: unmarshal errors: line 1: cannot unmarshal !!str `" + tok + "` into map",
		"template: t:1: function \"" + tok + "\" not defined",
		"invalid value 'password=hunter2hunter2'",
		"compose.yaml:4: invalid containerPort: " + tok,
		"cannot unmarshal !!str `ghp_R7b...` into config.RuleSettings",
	} {
		got := MaskError(msg)
		if strings.Contains(got, tok[:5]) || strings.Contains(got, "hunter2") || strings.Contains(got, "ghp_R") {
			t.Errorf("MaskError(%q) = %q: the secret shows", msg, got)
		}
	}
	// Names and prose stay as they are (the negative case).
	for _, msg := range []string{
		`services.web: unknown key "imagee"`,
		"line 3: can't parse 'FROM'",
		`port "80" is not valid`,
		`--webhook-header: want "Name: value"`,
		"/tmp/tmp.wNye76dSph/env/.env: line 1: key cannot contain a space",
		"image registry.example.com/app@sha256:4f1f2a0e3c9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e is not pinned",
	} {
		if got := MaskError(msg); got != msg {
			t.Errorf("MaskError(%q) = %q, want it unchanged", msg, got)
		}
	}
}
