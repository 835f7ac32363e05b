package eol

import (
	"testing"
	"time"
)

func TestEndOfLife(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		repo, tag string
		eol       bool
	}{
		{"debian", "buster", true}, {"debian", "bookworm-slim", false}, {"debian", "11.9", true},
		{"ubuntu", "20.04", true}, {"ubuntu", "24.04", false}, {"ubuntu", "jammy-20240808", false},
		{"alpine", "3.21.3", true}, {"alpine", "3.22", false}, {"alpine", "3.2", true}, {"alpine", "edge", false},
		{"python", "3", false}, {"python", "3.10-slim", true}, {"python", "3.13-slim-bullseye", true}, {"python", "3.80", false},
		{"node", "20-alpine", true}, {"node", "12", true}, {"node", "24", false}, {"node", "lts", false},
		{"golang", "1.25.3", true}, {"golang", "1.26-alpine", false}, {"golang", "1.4", true},
		{"centos", "stream9", true}, {"openjdk", "21-jdk", true}, {"ruby", "3.3", false}, {"php", "8.1-fpm", true},
		{"nginx", "1.10", false},
	} {
		_, got := Lookup(tc.repo, tc.tag, now)
		if got != tc.eol {
			t.Errorf("%s:%s end of life = %v, want %v", tc.repo, tc.tag, got, tc.eol)
		}
	}
}
