package fleet_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockvet/dockvet/internal/fleet"
	"github.com/dockvet/dockvet/internal/fuzztest"
)

// Executions per second: about a thousand per CPU second, not thousands.
// Go's fuzzer copies and compares the test binary's coverage counters, and
// ships them between coordinator and worker, on every execution: a fixed
// cost that grows with all the binary links (the whole fleet service: image
// audits, the vulnerability database, SQLite). Profiled (internal/sign, a
// JSON decode), that is most of a worker's time; .ci/fuzz prints each
// package's counters.

// FuzzParseDistribution: any notification body is read or refused with an
// error, never a panic.
func FuzzParseDistribution(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/notifications/*.json")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"events": []}`))
	f.Add([]byte(`{"events": [{"action": "push", "target": {}}]}`))
	f.Add([]byte(`[]`))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		env, err := fleet.ParseDistribution(bytes.NewReader(b))
		if err == nil && env == nil {
			t.Fatal("no envelope and no error")
		}
	})
}

// FuzzParseRef: any reference is accepted as a registry reference or
// refused with ErrBadRef.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"alpine", "registry:127.0.0.1:5000/team/app:1", "ghcr.io/a/b@sha256:" + string(bytes.Repeat([]byte("a"), 64)),
		"docker:alpine", "oci:/tmp/x", "UPPER/case", "a b", "", "registry:", "x:99999999999999/y"} {
		f.Add(s)
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, s string) {
		defer fuzztest.Budget(t)()
		r, err := fleet.ParseRef(s)
		if err == nil && (r.Repository == "" || r.Given != s) {
			t.Fatalf("%q: %+v", s, r)
		}
	})
}
