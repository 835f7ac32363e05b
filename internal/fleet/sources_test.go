package fleet_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/fleet"
	"github.com/dockvet/dockvet/internal/fleet/fleettest"
	"github.com/dockvet/dockvet/internal/fleet/store"
)

// basicAuth makes a registry ask for user:secret, as private ones do.
func basicAuth(h http.Handler) http.Handler {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("crawler:s3cret-pass"))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// TestCrawl: a registered registry is listed through /v2/_catalog and tag
// lists with the credentials its reference names; matching tags are
// queued once, scanned, and not queued again.
func TestCrawl(t *testing.T) {
	for _, d := range fleettest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, d.URL, true)
			reg := fleettest.NewRegistryWith(t, basicAuth)
			base := fleettest.DebianBase(t)
			push := func(repo, tag, body string) {
				img := fleettest.DebianImage(t, base, fleettest.AppLayer(t, "app", body))
				// The test pushes with the credentials too.
				withAuth(t, reg.Host, func() { reg.Push(t, repo, tag, img) })
			}
			push("team/a", "1", "a1")
			push("team/a", "2", "a2")
			push("team/b", "1", "b1")
			push("other/c", "1", "c1")

			cfg := filepath.Join(t.TempDir(), "config.json")
			auth := base64.StdEncoding.EncodeToString([]byte("crawler:s3cret-pass"))
			os.WriteFile(cfg, []byte(`{"auths": {"`+reg.Host+`": {"auth": "`+auth+`"}}}`), 0o600)

			if _, err := e.svc.AddRegistry(ctx, reg.URL(), []string{"team/*"}, "crawler:s3cret-pass", ""); err == nil {
				t.Fatal("credentials themselves were accepted as a reference")
			}
			r, err := e.svc.AddRegistry(ctx, reg.URL(), []string{"team/*"}, "file:"+cfg, "1h")
			if err != nil {
				t.Fatal(err)
			}
			// The database holds the reference, never the password.
			regs, _ := e.st.Registries(ctx)
			if len(regs) != 1 || regs[0].Credentials != "file:"+cfg || strings.Contains(regs[0].Credentials, "s3cret") {
				t.Fatalf("registries: %+v", regs)
			}
			n, err := e.svc.CrawlOne(ctx, r)
			if err != nil || n != 3 {
				t.Fatalf("first crawl: %d queued, %v", n, err)
			}
			jobs, _ := e.st.Jobs(ctx, "", 100)
			for _, j := range jobs {
				if strings.Contains(j.Ref, "other/") || j.Source != "registry" || j.RegistryID != r.ID {
					t.Errorf("job %+v", j)
				}
				if got := e.wait(t, j.ID); got.State != store.JobDone {
					t.Fatalf("job %s: %+v", j.Ref, got)
				}
			}
			if n, err := e.svc.CrawlOne(ctx, r); err != nil || n != 0 {
				t.Fatalf("second crawl: %d queued, %v", n, err)
			}
			// A new tag is queued by the next crawl.
			push("team/b", "2", "b2")
			if n, err := e.svc.CrawlOne(ctx, r); err != nil || n != 1 {
				t.Fatalf("third crawl: %d queued, %v", n, err)
			}
			// Without the credentials the crawl fails, and says so.
			r2, _ := e.svc.AddRegistry(ctx, reg.URL(), []string{"**"}, "file:"+filepath.Join(t.TempDir(), "none.json"), "")
			if _, err := e.svc.CrawlOne(ctx, r2); err == nil {
				t.Fatal("a crawl without credentials succeeded")
			}
		})
	}
}

// withAuth runs f with DOCKER_CONFIG pointing at credentials for host, so
// that the test's own pushes authenticate.
func withAuth(t *testing.T, host string, f func()) {
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("crawler:s3cret-pass"))
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths": {"`+host+`": {"auth": "`+auth+`"}}}`), 0o600)
	t.Setenv("DOCKER_CONFIG", dir)
	f()
}

// TestNotified: a registry's push notification queues the pushed image by
// digest at once; blob pushes and pulls are ignored; a registered
// registry's globs apply.
func TestNotified(t *testing.T) {
	d := fleettest.DSNs(t)[0]
	ctx := context.Background()
	e := newEnv(t, d.URL, true)
	b, err := os.ReadFile("testdata/notifications/push.json")
	if err != nil {
		t.Fatal(err)
	}
	env, err := fleet.ParseDistribution(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// No worker reaches registry.example.com: the jobs stay queued.
	res, err := e.svc.Notified(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	want := "registry.example.com:5000/team/app@sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf"
	if len(res.Queued) != 1 || res.Ignored != 2 || res.Queued[0].Ref != want || res.Queued[0].Source != "hook" {
		t.Fatalf("%+v", res)
	}
	if _, err := e.svc.AddRegistry(ctx, "http://registry.example.com:5000", []string{"base/*"}, "", ""); err != nil {
		t.Fatal(err)
	}
	if res, err := e.svc.Notified(ctx, env); err != nil || len(res.Queued) != 0 || res.Ignored != 3 {
		t.Fatalf("outside the registered globs: %+v %v", res, err)
	}
}
