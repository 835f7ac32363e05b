package live

import "testing"

func TestTagReference(t *testing.T) {
	const id = "sha256:847dd80b562bd3b6d0c3f5a0c1e0f8f0a6c6f1f5c5e5d5c5b5a595857565554"
	for _, tc := range []struct {
		ref  string
		want bool
	}{
		{"nginx", true}, {"nginx:1.27", true}, {"ghcr.io/acme/app:v2", true}, {"localhost:5000/app", true},
		{"nginx@sha256:0123456789012345678901234567890123456789012345678901234567890123", false},
		{"nginx:1.27@sha256:0123456789012345678901234567890123456789012345678901234567890123", false},
		{id, false}, {"847dd80b562b", false}, // the image's ID and an ID prefix
		{"abc", true}, // hex, but not this image's ID: a repository name
		{"", false}, {"UPPER", false}, {"bad name", false},
	} {
		if _, got := tagReference(tc.ref, id); got != tc.want {
			t.Errorf("tagReference(%q) = %v, want %v", tc.ref, got, tc.want)
		}
	}
}
