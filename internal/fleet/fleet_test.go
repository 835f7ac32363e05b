package fleet_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/fleet"
	"github.com/dockvet/dockvet/internal/fleet/fleettest"
	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/vulndb"
	"github.com/dockvet/dockvet/internal/watch"
)

// hook is a webhook receiver that keeps what it was sent.
type hook struct {
	mu     sync.Mutex
	bodies []map[string]any
	srv    *httptest.Server
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			http.Error(w, "bad json", 400)
			return
		}
		h.mu.Lock()
		h.bodies = append(h.bodies, v)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) received() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.bodies...)
}

func importOSV(t *testing.T, dir string, advs ...fleettest.Advisory) {
	t.Helper()
	if _, err := vulndb.Import(context.Background(), dir, fleettest.WriteOSV(t, advs...), time.Now()); err != nil {
		t.Fatal(err)
	}
}

type env struct {
	svc   *fleet.Service
	st    *store.Store
	vulns string
	hook  *hook
}

func newEnv(t *testing.T, dsn string, match bool) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, vulns: t.TempDir(), hook: newHook(t)}
	importOSV(t, e.vulns, fleettest.Advisory{ID: "DVTEST-0001", Package: "unrelated", Fixed: "1.0"})
	wh, err := watch.NewWebhook(watch.WebhookOptions{URL: e.hook.srv.URL, SpoolDir: t.TempDir(), MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = fleet.New(fleet.Options{Store: st, VulnDir: e.vulns, Scanner: &fleet.ImageScanner{},
		Reporting: fleet.Reporting{Version: "test"}, MatchOnScan: match, Poll: 20 * time.Millisecond,
		Sinks: []watch.Sink{wh}, Notice: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); e.svc.RunWorker(ctx, "w1") }()
	go func() { defer wg.Done(); e.svc.Notify(ctx, time.Second) }()
	t.Cleanup(func() { cancel(); wg.Wait(); st.Close() })
	return e
}

func (e *env) wait(t *testing.T, id int64) *store.Job {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		j, err := e.st.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == store.JobDone || j.State == store.JobDead {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %d did not finish", id)
	return nil
}

func vulnIDs(r *finding.Report) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Vulnerability != nil {
			out = append(out, f.Vulnerability.ID)
		}
	}
	return out
}

// TestScanThenRematch: a scanned image is stored; with its registry
// stopped, a new advisory reaches its report, the changes and a webhook.
func TestScanThenRematch(t *testing.T) {
	for _, d := range fleettest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, d.URL, true)
			reg := fleettest.NewRegistry(t)
			img := fleettest.DebianImage(t, fleettest.DebianBase(t, fleettest.Package{Name: "demo", Version: "1.0-1"}, fleettest.Package{Name: "other", Version: "2.0-1"}),
				fleettest.AppLayer(t, "app", "hello"))
			ref, digest := reg.Push(t, "team/app", "1", img)

			j, err := e.svc.Submit(ctx, ref, "api", "", 0)
			if err != nil {
				t.Fatal(err)
			}
			j = e.wait(t, j.ID)
			if j.State != store.JobDone || j.ImageDigest != digest {
				t.Fatalf("job: %+v (want digest %s)", j, digest)
			}
			stored, err := e.st.Image(ctx, digest)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Repository != reg.Host+"/team/app" || stored.Distro != "debian 12" || len(stored.Layers) != 2 {
				t.Fatalf("stored: %+v", stored)
			}
			r, err := e.svc.Reporting().Report(stored, ref)
			if err != nil {
				t.Fatal(err)
			}
			if ids := vulnIDs(r); len(ids) != 0 {
				t.Fatalf("vulnerabilities before the advisory: %v", ids)
			}

			// The registry goes away; the advisory arrives.
			reg.Stop()
			importOSV(t, e.vulns, fleettest.Advisory{ID: "DVTEST-0002", Package: "demo", Fixed: "1.0-2"})
			res, err := e.svc.Rematch(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if res.Images != 1 || res.Changed != 1 || res.New != 1 || res.Failed != 0 {
				t.Fatalf("rematch: %+v", res)
			}
			stored, _ = e.st.Image(ctx, digest)
			r, _ = e.svc.Reporting().Report(stored, ref)
			if ids := vulnIDs(r); strings.Join(ids, ",") != "DVTEST-0002" {
				t.Fatalf("vulnerabilities after the advisory: %v", ids)
			}
			cs, err := e.st.Changes(ctx, 0, time.Time{}, 10)
			if err != nil || len(cs) != 1 || cs[0].Kind != "new" || cs[0].Advisory != "DVTEST-0002" || cs[0].Digest != digest ||
				!strings.Contains(cs[0].Cause, "Debian (2 records") {
				t.Fatalf("changes: %d %v", len(cs), err)
			}
			// A second pass has nothing to do.
			if res, err := e.svc.Rematch(ctx, ""); err != nil || res.Images != 0 {
				t.Fatalf("second rematch: %+v %v", res, err)
			}
			// The webhook receives the change.
			deadline := time.Now().Add(20 * time.Second)
			for len(e.hook.received()) == 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			got := e.hook.received()
			if len(got) != 1 {
				t.Fatalf("webhook got %d records", len(got))
			}
			ev, _ := got[0]["event"].(map[string]any)
			vuln, _ := got[0]["vulnerability"].(map[string]any)
			if ev["type"] != "advisory" || ev["action"] != "new" || ev["actor"] != digest || vuln["id"] != "DVTEST-0002" {
				t.Fatalf("webhook record: %v", got[0])
			}
			// A fix: the advisory is withdrawn by a newer record that no
			// longer affects the package... simplest: the package is fixed
			// by an advisory update whose fixed version is the installed
			// one.
			importOSV(t, e.vulns, fleettest.Advisory{ID: "DVTEST-0002", Package: "demo", Fixed: "1.0-1"})
			if res, err := e.svc.Rematch(ctx, ""); err != nil || res.Fixed != 1 {
				t.Fatalf("rematch after the fix: %+v %v", res, err)
			}
			// Asking for the stored digest is answered from the store,
			// with the registry still down.
			j2, err := e.svc.Submit(ctx, reg.Host+"/team/app@"+digest, "api", "", 0)
			if err != nil || j2.State != store.JobDone || j2.ImageDigest != digest {
				t.Fatalf("repeat by digest: %+v %v", j2, err)
			}
		})
	}
}

// TestDeadJob: a reference the registry does not know fails for good,
// with the error.
func TestDeadJob(t *testing.T) {
	for _, d := range fleettest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d.URL, true)
			reg := fleettest.NewRegistry(t)
			j, err := e.svc.Submit(context.Background(), reg.Host+"/nothing/here:1", "api", "", 0)
			if err != nil {
				t.Fatal(err)
			}
			j = e.wait(t, j.ID)
			if j.State != store.JobDead || !strings.Contains(j.LastError, "MANIFEST_UNKNOWN") && !strings.Contains(j.LastError, "NAME_UNKNOWN") {
				t.Fatalf("job: %+v", j)
			}
			if _, err := e.svc.Submit(context.Background(), "docker:alpine", "api", "", 0); err == nil {
				t.Fatal("a docker: reference was accepted")
			}
		})
	}
}

// TestSharedBaseReadOnce: a base layer shared by images is read from the
// registry once; the images' reports are those of full reads.
func TestSharedBaseReadOnce(t *testing.T) {
	for _, d := range fleettest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			var mu sync.Mutex
			blobGets := map[string]int{}
			reg := fleettest.NewRegistryWith(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if i := strings.Index(r.URL.Path, "/blobs/sha256:"); i > 0 && r.Method == http.MethodGet {
						mu.Lock()
						blobGets[r.URL.Path[i+len("/blobs/"):]]++
						mu.Unlock()
					}
					h.ServeHTTP(w, r)
				})
			})
			e := newEnv(t, d.URL, true)
			base := fleettest.DebianBase(t, fleettest.Package{Name: "demo", Version: "1.0-1"})
			baseDigest, _ := base.Digest()
			var refs, digests []string
			for i := range 3 {
				ref, dg := reg.Push(t, "shared/app"+string(rune('a'+i)), "1", fleettest.DebianImage(t, base,
					fleettest.AppLayer(t, "srv/.env", "API_TOKEN=ghp_"+strings.Repeat(string(rune('a'+i)), 36)+"\n")))
				refs, digests = append(refs, ref), append(digests, dg)
			}
			for i, ref := range refs {
				j, err := e.svc.Submit(ctx, ref, "api", "", 0)
				if err != nil {
					t.Fatal(err)
				}
				if j = e.wait(t, j.ID); j.State != store.JobDone || j.ImageDigest != digests[i] {
					t.Fatalf("job: %+v", j)
				}
			}
			mu.Lock()
			n := blobGets[baseDigest.String()]
			mu.Unlock()
			if n != 1 {
				t.Fatalf("the shared base layer was read %d times", n)
			}
			// Each stored report is what a full read gives.
			for i, ref := range refs {
				full, err := (&fleet.ImageScanner{}).Scan(ctx, fleet.ScanRequest{Ref: ref})
				if err != nil {
					t.Fatal(err)
				}
				stored, err := e.st.Image(ctx, digests[i])
				if err != nil {
					t.Fatal(err)
				}
				var fs []finding.Finding
				var pkgs []inventory.Package
				if err := fleet.DecodeBlob(stored.Findings, &fs); err != nil {
					t.Fatal(err)
				}
				if err := fleet.DecodeBlob(stored.Inventory, &pkgs); err != nil {
					t.Fatal(err)
				}
				got, _ := json.Marshal(fs)
				want, _ := json.Marshal(full.Findings)
				if string(got) != string(want) {
					t.Errorf("%s: stored findings differ from a full read:\n%s\n%s", ref, got, want)
				}
				gotInv, _ := json.Marshal(pkgs)
				inv, _ := json.Marshal(full.Packages)
				if string(gotInv) != string(inv) {
					t.Errorf("%s: stored inventory differs from a full read", ref)
				}
			}
		})
	}
}
