package config

import (
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/fuzztest"
	"github.com/dockvet/dockvet/internal/policy"
)

// FuzzParse feeds .dockvet.yaml files (rules, ignores, the trust policy)
// to the parser: never a panic, never a multi-line error, and a file that
// parses gives a policy that answers for any image.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"rules:\n  disable: [DV1011]\n  severity: {DV1010: low}\ntrustedRegistries: [docker.io, \"*.gcr.io\"]\n",
		"trust:\n  - images: [\"ghcr.io/acme/*\"]\n    digests: required\n  - images: [\"*\"]\n    digests: optional\n",
		"trust:\n  - images: [ghcr.io/acme]\n    signatures:\n      - identity: https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main\n        issuer: https://token.actions.githubusercontent.com\n",
		"trust:\n  - images: [\"[\"]\n",
		"ignore:\n  - {id: DV1001, reason: r, expires: 2026-01-01, paths: [\"a/**\"]}\n",
	} {
		f.Add([]byte(seed))
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		c, err := Parse(data, "f.yaml")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		p := c.Policy()
		for _, ref := range []string{"alpine", "ghcr.io/acme/app:1", "registry.example.com:5000/x/y@sha256:" + strings.Repeat("0", 64)} {
			img, err := policy.ParseImage(ref)
			if err != nil {
				t.Fatal(err)
			}
			p.Trusted(img)
			p.RequiresDigest(img)
			p.RequiredSigners(img)
		}
	})
}
