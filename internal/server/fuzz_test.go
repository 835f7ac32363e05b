package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/fleet"
	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/fuzztest"
	"github.com/dockvet/dockvet/internal/server"
)

// Executions per second: about a thousand per CPU second, not thousands.
// Go's fuzzer copies and compares the test binary's coverage counters, and
// ships them between coordinator and worker, on every execution: a fixed
// cost that grows with all the binary links (the whole fleet service and
// SQLite). Profiled (internal/sign, a JSON decode), that is most of a
// worker's time; .ci/fuzz prints each package's counters.

// FuzzParseTokens: any token file is read or refused with an error; a
// token shorter than 16 characters is never accepted.
func FuzzParseTokens(f *testing.F) {
	f.Add([]byte("read reader-token-0123456789 dashboards\nwrite writer-token-0123456789\n"))
	f.Add([]byte("# comment\n\nwrite 0123456789abcdef\n"))
	f.Add([]byte("admin x\n"))
	f.Add([]byte("read\tshort"))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		toks, err := server.ParseTokens(b)
		if err == nil && len(toks) == 0 {
			t.Fatal("no tokens and no error")
		}
		for _, tk := range toks {
			if tk.Scope != server.ScopeRead && tk.Scope != server.ScopeWrite {
				t.Fatalf("scope %d", tk.Scope)
			}
		}
	})
}

// FuzzRequests: whatever a client sends to an endpoint that reads a body,
// the service answers without a server error and keeps serving. Each
// input is a request through the whole handler, and a well-formed one
// writes to the SQLite store (a scan queued, a registry added): hundreds
// per second, on top of the cost above.
func FuzzRequests(f *testing.F) {
	e := newFuzzEnv(f)
	paths := []string{"/api/v1/scans", "/api/v1/registries", "/api/v1/hooks/distribution", "/api/v1/db/import", "/harbor/api/v1/scan", "/login"}
	for i := range paths {
		f.Add(uint8(i), []byte(`{}`))
		f.Add(uint8(i), []byte(`{"image": "registry:127.0.0.1:1/x:1"}`))
		f.Add(uint8(i), []byte(`{"events": [{"action": "push", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:`+strings.Repeat("a", 64)+`", "repository": "x", "url": "http://127.0.0.1:1/v2/x/manifests/1"}}]}`))
		f.Add(uint8(i), []byte(`{"registry": {"url": "http://127.0.0.1:1"}, "artifact": {"repository": "x", "digest": "sha256:`+strings.Repeat("b", 64)+`"}}`))
		f.Add(uint8(i), []byte("PK\x03\x04 not a zip"))
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		defer fuzztest.Budget(t)()
		p := paths[int(which)%len(paths)]
		req := httptest.NewRequest("POST", p, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", p, body, rec.Code, rec.Body)
		}
	})
}

func newFuzzEnv(f *testing.F) http.Handler {
	dir := f.TempDir()
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "fleet.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	svc, err := fleet.New(fleet.Options{Store: st, VulnDir: dir, Scanner: &fleet.ImageScanner{}, Reporting: fleet.Reporting{Version: "test"}})
	if err != nil {
		f.Fatal(err)
	}
	h, err := server.New(server.Options{Fleet: svc, ImportDir: dir, RateLimit: 1e9, Burst: 1e9})
	if err != nil {
		f.Fatal(err)
	}
	return h
}
