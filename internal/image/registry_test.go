package image

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// serve runs h on loopback and returns its host.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u.Host
}

// A registry redirecting to itself was followed without limit (14,600
// redirects in 20 s): a chain stops after maxRegistryRedirects, and the
// error names the budget.
func TestRegistryRedirectLoop(t *testing.T) {
	var hits atomic.Int64
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return // the ping answers; net/http's own client follows it
		}
		hits.Add(1)
		http.Redirect(w, r, r.URL.String(), http.StatusFound)
	}))
	_, err := Open(context.Background(), "registry:"+host+"/loop:1", OpenOptions{RegistryTimeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "maxRegistryRedirects") {
		t.Fatalf("err = %v, want the redirect budget named", err)
	}
	// Each request of the client (with its retries) follows at most the
	// budget's redirects.
	if n := hits.Load(); n > 10*(maxRegistryRedirects+1) {
		t.Errorf("%d requests served, want a bounded number", n)
	}
}

// A registry that accepts the request and never answers, or stalls in the
// middle of a body, is given up after --registry-timeout.
func TestRegistryStalls(t *testing.T) {
	img := parseSpec(t, acceptanceSpec).build(t)
	release := make(chan struct{})
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var stallHeaders, stallBody atomic.Bool
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case stallHeaders.Load() && strings.Contains(r.URL.Path, "/manifests/"):
			<-release
			return
		case stallBody.Load() && strings.Contains(r.URL.Path, "/blobs/") && r.Method == http.MethodGet:
			w.WriteHeader(http.StatusOK)
			w.Write([]byte("{"))
			w.(http.Flusher).Flush()
			<-release
			return
		}
		reg.ServeHTTP(w, r)
	}))
	// Registered after the server's: cleanups run last first, so the
	// stalled handlers return before the server closes.
	t.Cleanup(func() { close(release) })
	ref := host + "/stall:1"
	pushImage(t, ref, img)
	o := OpenOptions{RegistryTimeout: 200 * time.Millisecond}

	// The normal path: the same registry answering reads the image.
	got, err := Open(context.Background(), "registry:"+ref, o)
	if err != nil {
		t.Fatalf("registry read: %v", err)
	}
	if _, _, err := Audit(context.Background(), got, AuditOptions{Now: testNow}); err != nil {
		t.Fatalf("audit: %v", err)
	}
	got.Close()

	stallHeaders.Store(true)
	_, err = Open(context.Background(), "registry:"+ref, o)
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("stalled headers: err = %v, want a timeout", err)
	}
	stallHeaders.Store(false)

	stallBody.Store(true)
	_, err = Open(context.Background(), "registry:"+ref, o)
	if err == nil || !strings.Contains(err.Error(), "--registry-timeout") {
		t.Errorf("stalled body: err = %v, want the stall named", err)
	}
}
