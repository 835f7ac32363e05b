package policy

import (
	"strings"
	"testing"
)

func TestTrusted(t *testing.T) {
	p := &Policy{TrustedRegistries: []string{"docker.io", "*.gcr.io", "ghcr.io/acme/*", "registry.example.com/team"}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref  string
		want bool
	}{
		{"alpine", true},
		{"library/alpine:3.20", true},
		{"docker.io/bitnami/redis", true},
		{"eu.gcr.io/proj/img:1", true},
		{"gcr.io/proj/img:1", false}, // "*.gcr.io" needs a subdomain
		{"ghcr.io/acme/tool:1", true},
		{"ghcr.io/acme/tools/deep:1", true},
		{"ghcr.io/other/tool:1", false},
		{"registry.example.com/team/app@sha256:" + sixtyFour, true},
		{"registry.example.com/teamx/app", false},
		{"quay.io/prometheus/node-exporter", false},
		{"localhost:5000/app", false},
	} {
		img, err := ParseImage(tc.ref)
		if err != nil {
			t.Fatalf("%s: %v", tc.ref, err)
		}
		if got := p.Trusted(img); got != tc.want {
			t.Errorf("Trusted(%s) = %v, want %v", tc.ref, got, tc.want)
		}
	}
	hub := &Policy{TrustedRegistries: []string{"acme/*", "library/alpine"}}
	for ref, want := range map[string]bool{"acme/app": true, "docker.io/acme/tool:1": true, "alpine:3": true, "ghcr.io/acme/app": false, "nginx": false} {
		img, _ := ParseImage(ref)
		if got := hub.Trusted(img); got != want {
			t.Errorf("Docker Hub paths: Trusted(%s) = %v, want %v", ref, got, want)
		}
	}
	if !(&Policy{}).Trusted(Image{Domain: "evil.example"}) {
		t.Error("no allow-list must trust everything")
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseImage(t *testing.T) {
	img, err := ParseImage("alpine:3.20@sha256:" + sixtyFour)
	if err != nil {
		t.Fatal(err)
	}
	if img.Domain != "docker.io" || img.Path != "library/alpine" || img.Tag != "3.20" || img.Digest == "" || img.Named() != "alpine" {
		t.Errorf("got %+v", img)
	}
	if _, err := ParseImage("Alpine:3"); err == nil {
		t.Error("want error for an invalid reference")
	}
	if err := (&Policy{TrustedRegistries: []string{"["}}).Validate(); err == nil {
		t.Error("want error for a bad pattern")
	}
}

func TestRules(t *testing.T) {
	p := &Policy{Rules: []Rule{
		{Images: []string{"ghcr.io/acme/release/*"}, Digests: DigestsRequired, Signatures: []Signer{{Key: "keys/release.pub"}}},
		{Images: []string{"ghcr.io/acme"}, Digests: DigestsOptional, Signatures: []Signer{
			{Identity: "ci@acme.example", Issuer: "https://accounts.google.com", TrustedRoot: "trust/root.json"},
			{Notation: "notation"}}},
		{Images: []string{"*"}, Digests: DigestsRequired},
	}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref     string
		digest  bool
		signers int
	}{
		{"ghcr.io/acme/release/app:1", true, 1}, // the first, narrow rule wins
		{"ghcr.io/acme/tools/x:2", false, 2},
		{"ghcr.io/acme/release/app@sha256:" + sixtyFour, true, 1},
		{"alpine:3.20", true, 0},
	} {
		img, err := ParseImage(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.RequiresDigest(img); got != tc.digest {
			t.Errorf("RequiresDigest(%s) = %v", tc.ref, got)
		}
		if got := len(p.RequiredSigners(img)); got != tc.signers {
			t.Errorf("RequiredSigners(%s): %d, want %d", tc.ref, got, tc.signers)
		}
	}
	if !p.RequiresSignatures() || (&Policy{Rules: []Rule{{Images: []string{"*"}}}}).RequiresSignatures() {
		t.Error("RequiresSignatures")
	}
	var none *Policy
	if none.RuleFor(Image{Domain: "docker.io"}) != nil || none.RequiresSignatures() {
		t.Error("a nil policy has no rules")
	}
	p.ResolvePaths("/etc/project")
	if s := p.Rules[0].Signatures[0]; s.Key != "/etc/project/keys/release.pub" {
		t.Errorf("key %q", s.Key)
	}
	if got := p.Files(); len(got) != 3 || got[2] != "/etc/project/notation" {
		t.Errorf("files %q", got)
	}
	if d := p.Rules[1].Signatures[0].Describe(); d != "identity ci@acme.example (issuer https://accounts.google.com)" {
		t.Errorf("describe %q", d)
	}
	if d := (Signer{IdentityRegexp: "^ci@", IssuerRegexp: "google"}).Describe(); d != "identity matching /^ci@/ (issuer matching /google/)" {
		t.Errorf("describe %q", d)
	}
}

func TestRuleErrors(t *testing.T) {
	for _, tc := range []struct {
		rule Rule
		want string
	}{
		{Rule{}, "images is required"},
		{Rule{Images: []string{"["}}, "bad pattern"},
		{Rule{Images: []string{"*"}, Digests: "sometimes"}, "neither"},
		{Rule{Images: []string{"*"}, Signatures: []Signer{{}}}, "exactly one of key"},
		{Rule{Images: []string{"*"}, Signatures: []Signer{{Key: "k", Notation: "n"}}}, "exactly one of key"},
		{Rule{Images: []string{"*"}, Signatures: []Signer{{Identity: "a@b"}}}, "needs its OIDC issuer"},
		{Rule{Images: []string{"*"}, Signatures: []Signer{{Identity: "a@b", IdentityRegexp: "a", Issuer: "i"}}}, "not both"},
		{Rule{Images: []string{"*"}, Signatures: []Signer{{IdentityRegexp: "(", Issuer: "i"}}}, "identityRegexp"},
		{Rule{Images: []string{"*"}, Signatures: []Signer{{Key: "k", Issuer: "i"}}}, "issuer belongs with an identity"},
		{Rule{Images: []string{"*"}, Signatures: []Signer{{Notation: "n", TrustedRoot: "r"}}}, "trustedRoot does not apply"},
	} {
		err := (&Policy{Rules: []Rule{tc.rule}}).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.rule, err, tc.want)
		}
	}
}
