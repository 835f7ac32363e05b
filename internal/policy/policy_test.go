package policy

import "testing"

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
