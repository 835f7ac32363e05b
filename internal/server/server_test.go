package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/dockvet/dockvet/internal/fleet"
	"github.com/dockvet/dockvet/internal/fleet/fleettest"
	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/server"
	"github.com/dockvet/dockvet/internal/vulndb"
)

func init() {
	// The media types with parameters the two documents use are JSON.
	for _, mt := range []string{
		"application/vnd.scanner.adapter.metadata+json",
		"application/vnd.scanner.adapter.scan.request+json",
		"application/vnd.scanner.adapter.scan.response+json",
		"application/vnd.scanner.adapter.error+json",
		"application/vnd.scanner.adapter.vuln.report.harbor+json",
		"application/vnd.security.vulnerability.report",
		"application/vnd.docker.distribution.events.v1+json",
		"application/sarif+json",
	} {
		openapi3filter.RegisterBodyDecoder(mt, openapi3filter.JSONBodyDecoder)
	}
	// Harbor's raw report is an opaque string to Harbor (ours is JSON).
	openapi3filter.RegisterBodyDecoder("application/vnd.scanner.adapter.vuln.report.raw", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/xml", openapi3filter.PlainBodyDecoder)
}

// validator checks answers against an OpenAPI document.
type validator struct {
	t      *testing.T
	router routers.Router
	seen   map[string]bool
}

func newValidator(t *testing.T, doc []byte, serverURL string, opts ...openapi3.ValidationOption) *validator {
	t.Helper()
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(doc)
	if err != nil {
		t.Fatal(err)
	}
	d.Servers = openapi3.Servers{{URL: serverURL}}
	r, err := legacy.NewRouter(d, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &validator{t: t, router: r, seen: map[string]bool{}}
}

// do sends a request and validates the answer (status, content type,
// body) against the document; it returns the status and body.
func (v *validator) do(req *http.Request) (int, []byte, http.Header) {
	v.t.Helper()
	// Redirects are answers to check, not to follow (Harbor's client
	// polls a 302 report itself).
	resp, err := noRedirects.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	vreq := req.Clone(context.Background())
	vreq.Body = nil
	route, params, err := v.router.FindRoute(vreq)
	if err != nil {
		v.t.Fatalf("%s %s: not in the document: %v", req.Method, req.URL, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		v.t.Errorf("%s %s → %d %s: does not conform: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), err, body)
	}
	v.seen[fmt.Sprintf("%s %s %d", req.Method, route.Path, resp.StatusCode)] = true
	return resp.StatusCode, body, resp.Header
}

func (v *validator) call(method, url, ctype string, body []byte, hdr ...string) (int, []byte, http.Header) {
	v.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		v.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return v.do(req)
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type env struct {
	svc   *fleet.Service
	st    *store.Store
	srv   *httptest.Server
	vulns string
	reg   *fleettest.Registry
}

func newEnv(t *testing.T, dsn string, o server.Options) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, vulns: t.TempDir(), reg: fleettest.NewRegistry(t)}
	if _, err := vulndb.Import(ctx, e.vulns, fleettest.WriteOSV(t, fleettest.Advisory{ID: "DVTEST-0001", Package: "demo", Fixed: "1.0-2"}), time.Now()); err != nil {
		t.Fatal(err)
	}
	e.svc, err = fleet.New(fleet.Options{Store: st, VulnDir: e.vulns, Scanner: &fleet.ImageScanner{}, Reporting: fleet.Reporting{Version: "test"},
		MatchOnScan: true, Poll: 20 * time.Millisecond, Notice: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	o.Fleet, o.Notice, o.ImportDir = e.svc, t.Logf, t.TempDir()
	h, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.svc.RunWorker(ctx, "w1") }()
	t.Cleanup(func() { e.srv.Close(); cancel(); wg.Wait(); st.Close() })
	return e
}

func (e *env) push(t *testing.T, repo, tag string) (string, string) {
	img := fleettest.DebianImage(t, fleettest.DebianBase(t, fleettest.Package{Name: "demo", Version: "1.0-1"}), fleettest.AppLayer(t, "app/"+repo, repo+tag))
	return e.reg.Push(t, repo, tag, img)
}

func (e *env) waitJob(t *testing.T, id int64) *store.Job {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		j, err := e.st.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == store.JobDone || j.State == store.JobDead {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d: %+v", id, j)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestAPIConformsToOpenAPI exercises every endpoint of openapi.yaml and
// validates each answer, errors included, against the document.
func TestAPIConformsToOpenAPI(t *testing.T) {
	for _, d := range fleettest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d.URL, server.Options{})
			v := newValidator(t, server.OpenAPI, e.srv.URL)
			base := e.srv.URL
			ref, digest := e.push(t, "team/app", "1")

			v.call("GET", base+"/healthz", "", nil)
			v.call("GET", base+"/readyz", "", nil)
			v.call("GET", base+"/api/v1/openapi.yaml", "", nil)
			if code, _, _ := v.call("POST", base+"/api/v1/scans", "application/json", []byte(`{"image": "docker:alpine"}`)); code != 400 {
				t.Errorf("docker: reference: %d", code)
			}
			if code, _, _ := v.call("POST", base+"/api/v1/scans", "application/json", []byte(`{"image": `)); code != 400 {
				t.Errorf("broken JSON: %d", code)
			}
			if code, _, _ := v.call("POST", base+"/api/v1/scans", "application/json", []byte(`{"image": "a", "extra": 1}`)); code != 400 {
				t.Errorf("unknown field: %d", code)
			}
			if code, _, _ := v.call("POST", base+"/api/v1/scans", "application/json", bytes.Repeat([]byte(" "), 70<<10)); code != 413 {
				t.Errorf("large body: %d", code)
			}
			code, body, _ := v.call("POST", base+"/api/v1/scans", "application/json", jsonBody(map[string]string{"image": ref}))
			if code != 202 {
				t.Fatalf("scan: %d %s", code, body)
			}
			var j store.Job
			json.Unmarshal(body, &j)
			v.call("GET", fmt.Sprintf("%s/api/v1/scans/%d", base, j.ID), "", nil)
			e.waitJob(t, j.ID)
			code, body, _ = v.call("GET", fmt.Sprintf("%s/api/v1/scans/%d/report", base, j.ID), "", nil)
			if code != 200 || !strings.Contains(string(body), "DVTEST-0001") {
				t.Fatalf("report: %d %s", code, body)
			}
			for _, f := range []string{"sarif", "html", "junit"} {
				if code, _, _ := v.call("GET", fmt.Sprintf("%s/api/v1/scans/%d/report?format=%s", base, j.ID, f), "", nil); code != 200 {
					t.Errorf("format %s: %d", f, code)
				}
			}
			if code, _, _ := v.call("GET", fmt.Sprintf("%s/api/v1/scans/%d/report?format=table", base, j.ID), "", nil); code != 400 {
				t.Errorf("format table: %d", code)
			}
			v.call("GET", base+"/api/v1/scans/999999", "", nil)
			v.call("GET", base+"/api/v1/scans/x", "", nil)
			// A dead job's report is 422.
			_, body, _ = v.call("POST", base+"/api/v1/scans", "application/json", jsonBody(map[string]string{"image": e.reg.Host + "/no/such:1"}))
			var dead store.Job
			json.Unmarshal(body, &dead)
			e.waitJob(t, dead.ID)
			if code, _, _ := v.call("GET", fmt.Sprintf("%s/api/v1/scans/%d/report", base, dead.ID), "", nil); code != 422 {
				t.Errorf("dead job report: %d", code)
			}
			v.call("GET", base+"/api/v1/jobs", "", nil)
			v.call("GET", base+"/api/v1/jobs?state=dead&limit=5", "", nil)
			v.call("GET", base+"/api/v1/jobs?state=zombie", "", nil)
			v.call("GET", base+"/api/v1/images", "", nil)
			for _, q := range []string{"practice=vulnerabilities&severity=critical", "severity=high", "advisory=DVTEST-0001", "repository=" + e.reg.Host + "/team/app", "limit=1"} {
				code, body, _ := v.call("GET", base+"/api/v1/images?"+q, "", nil)
				var l struct{ Images []store.Summary }
				json.Unmarshal(body, &l)
				if code != 200 || len(l.Images) != 1 || l.Images[0].Digest != digest {
					t.Errorf("images?%s: %d %s", q, code, body)
				}
			}
			for _, q := range []string{"practice=network", "advisory=CVE-0000-0000", "repository=elsewhere"} {
				_, body, _ := v.call("GET", base+"/api/v1/images?"+q, "", nil)
				if !strings.Contains(string(body), `"images": []`) {
					t.Errorf("images?%s: %s", q, body)
				}
			}
			for _, q := range []string{"practice=bogus", "severity=bad", "limit=0", "limit=x"} {
				if code, _, _ := v.call("GET", base+"/api/v1/images?"+q, "", nil); code != 400 {
					t.Errorf("images?%s: %d", q, code)
				}
			}
			v.call("GET", base+"/api/v1/images/"+digest, "", nil)
			v.call("GET", base+"/api/v1/images/sha256:"+strings.Repeat("0", 64), "", nil)
			v.call("GET", base+"/api/v1/images/nonsense", "", nil)
			v.call("GET", base+"/api/v1/advisories/DVTEST-0001/images", "", nil)
			v.call("GET", base+"/api/v1/db", "", nil)
			// An advisory upload: JSON, re-matched at once.
			rec, _ := os.ReadFile(filepath.Join(fleettest.WriteOSV(t, fleettest.Advisory{ID: "DVTEST-0009", Package: "demo", Fixed: "9.0"}), "DVTEST-0009.json"))
			code, body, _ = v.call("POST", base+"/api/v1/db/import", "application/json", rec)
			if code != 200 || !strings.Contains(string(body), `"new": 1`) {
				t.Fatalf("import: %d %s", code, body)
			}
			if code, _, _ := v.call("POST", base+"/api/v1/db/import", "application/zip", []byte("not a zip")); code != 400 {
				t.Errorf("bad import: %d", code)
			}
			v.call("GET", base+"/api/v1/changes", "", nil)
			code, body, _ = v.call("GET", base+"/api/v1/changes?since=2000-01-01T00:00:00Z&after=0&limit=10", "", nil)
			if code != 200 || !strings.Contains(string(body), "DVTEST-0009") {
				t.Errorf("changes: %d %s", code, body)
			}
			v.call("GET", base+"/api/v1/changes?since=yesterday", "", nil)
			code, body, _ = v.call("POST", base+"/api/v1/registries", "application/json", jsonBody(map[string]any{"url": e.reg.URL(), "repositories": []string{"team/*"}, "interval": "1h"}))
			if code != 201 {
				t.Fatalf("registry: %d %s", code, body)
			}
			var reg struct{ ID int64 }
			json.Unmarshal(body, &reg)
			for _, bad := range []map[string]any{{"url": "ftp://x"}, {"url": e.reg.URL(), "credentials": "hunter2"}, {"url": e.reg.URL(), "interval": "1s"}, {"url": e.reg.URL(), "repositories": []string{"[a"}}} {
				if code, _, _ := v.call("POST", base+"/api/v1/registries", "application/json", jsonBody(bad)); code != 400 {
					t.Errorf("registry %v: %d", bad, code)
				}
			}
			v.call("GET", base+"/api/v1/registries", "", nil)
			if code, _, _ := v.call("DELETE", fmt.Sprintf("%s/api/v1/registries/%d", base, reg.ID), "", nil); code != 204 {
				t.Errorf("delete registry: %d", code)
			}
			v.call("DELETE", base+"/api/v1/registries/424242", "", nil)
			// A push notification of the stored image is answered from the store.
			env := map[string]any{"events": []any{map[string]any{"id": "e1", "action": "push", "target": map[string]any{
				"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": digest, "repository": "team/app",
				"url": e.reg.URL() + "/v2/team/app/manifests/" + digest, "tag": "1"}}}}
			code, body, _ = v.call("POST", base+"/api/v1/hooks/distribution", "application/vnd.docker.distribution.events.v1+json", jsonBody(env))
			if code != 200 || !strings.Contains(string(body), `"state": "done"`) {
				t.Errorf("hook: %d %s", code, body)
			}
			v.call("POST", base+"/api/v1/hooks/distribution", "application/json", []byte(`{"events": 7}`))
			_, metrics, _ := v.call("GET", base+"/metrics", "", nil)
			for _, want := range []string{`dockvet_server_queue_jobs{state="done"}`, `dockvet_server_job_seconds_bucket{result="done"`,
				`dockvet_server_layers_total{how="read"} 2`, `dockvet_server_rematch_seconds_count 1`, `dockvet_server_http_requests_total{code="400",route="scans.create"}`} {
				if !strings.Contains(string(metrics), want) {
					t.Errorf("metrics lack %s", want)
				}
			}
		})
	}
}

// TestHarborConformsToSpec drives the Harbor adapter as Harbor does and
// validates every answer against Harbor's OpenAPI document (v1.2).
func TestHarborConformsToSpec(t *testing.T) {
	spec, err := os.ReadFile("testdata/scanner-adapter-openapi-v1.2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range fleettest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d.URL, server.Options{})
			// Harbor's published document has two slips the loader
			// refuses: a string as the example of an object
			// (enabled_capabilities[].parameters) and a "descriptions" key
			// beside a schema. Examples and that key are let through;
			// every schema is checked.
			v := newValidator(t, spec, e.srv.URL+"/harbor/api/v1", openapi3.DisableExamplesValidation(), openapi3.AllowExtraSiblingFields("descriptions"))
			base := e.srv.URL + "/harbor/api/v1"
			_, digest := e.push(t, "library/app", "2")

			code, body, hdr := v.call("GET", base+"/metadata", "", nil)
			if code != 200 || !strings.Contains(hdr.Get("Content-Type"), "metadata+json") || !strings.Contains(string(body), `"harbor.scanner-adapter/vulnerability-database-updated-at"`) {
				t.Fatalf("metadata: %d %s %s", code, hdr.Get("Content-Type"), body)
			}
			req := map[string]any{
				"registry": map[string]any{"url": e.reg.URL(), "authorization": "Basic " + "cm9ib3Q6c2VjcmV0"},
				"artifact": map[string]any{"repository": "library/app", "digest": digest, "tag": "2", "mime_type": "application/vnd.docker.distribution.manifest.v2+json"},
			}
			code, body, _ = v.call("POST", base+"/scan", "application/vnd.scanner.adapter.scan.request+json; version=1.1", jsonBody(req))
			if code != 202 {
				t.Fatalf("scan: %d %s", code, body)
			}
			var sr struct{ ID string }
			json.Unmarshal(body, &sr)
			vuln := "application/vnd.security.vulnerability.report; version=1.1"
			// Harbor polls until 200.
			deadline := time.Now().Add(60 * time.Second)
			for {
				code, body, hdr = v.call("GET", base+"/scan/"+sr.ID+"/report", "", nil, "Accept", vuln)
				if code == 200 {
					break
				}
				if code != 302 || hdr.Get("Refresh-After") == "" || time.Now().After(deadline) {
					t.Fatalf("report: %d %s", code, body)
				}
				time.Sleep(50 * time.Millisecond)
			}
			var rep struct {
				Severity        string
				Vulnerabilities []struct{ ID, Package, Version, Severity string }
			}
			json.Unmarshal(body, &rep)
			if rep.Severity != "Critical" || len(rep.Vulnerabilities) != 1 || rep.Vulnerabilities[0].ID != "DVTEST-0001" || rep.Vulnerabilities[0].Version != "1.0-1" {
				t.Fatalf("report: %s", body)
			}
			code, _, hdr = v.call("GET", base+"/scan/"+sr.ID+"/report", "", nil, "Accept", "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0")
			if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/vnd.scanner.adapter.vuln.report.harbor+json") {
				t.Errorf("harbor+json report: %d %s", code, hdr.Get("Content-Type"))
			}
			code, body, _ = v.call("GET", base+"/scan/"+sr.ID+"/report", "", nil, "Accept", "application/vnd.scanner.adapter.vuln.report.raw")
			if code != 200 || !strings.Contains(string(body), `"schemaVersion": 1`) {
				t.Errorf("raw report: %d %s", code, body)
			}
			if code, _, _ := v.call("GET", base+"/scan/"+sr.ID+"/report", "", nil, "Accept", "application/pdf"); code != 501 {
				t.Errorf("unknown Accept: %d", code)
			}
			if code, _, _ := v.call("GET", base+"/scan/"+sr.ID+"/report?sbom_media_type=application/spdx%2Bjson", "", nil, "Accept", vuln); code != 400 {
				t.Errorf("sbom: %d", code)
			}
			if code, _, _ := v.call("GET", base+"/scan/999999/report", "", nil, "Accept", vuln); code != 404 {
				t.Errorf("unknown scan: %d", code)
			}
			if code, _, _ := v.call("POST", base+"/scan", "application/vnd.scanner.adapter.scan.request+json; version=1.1", []byte(`{"registry":`)); code != 400 {
				t.Errorf("broken request: %d", code)
			}
			bad := map[string]any{"registry": map[string]any{"url": e.reg.URL()}, "artifact": map[string]any{"repository": "library/app", "digest": "latest"}}
			if code, _, _ := v.call("POST", base+"/scan", "application/vnd.scanner.adapter.scan.request+json; version=1.1", jsonBody(bad)); code != 422 {
				t.Errorf("bad digest: %d", code)
			}
			sbom := map[string]any{"registry": map[string]any{"url": e.reg.URL()}, "artifact": map[string]any{"repository": "library/app", "digest": digest},
				"enabled_capabilities": []any{map[string]any{"type": "sbom"}}}
			if code, _, _ := v.call("POST", base+"/scan", "application/vnd.scanner.adapter.scan.request+json; version=1.1", jsonBody(sbom)); code != 501 {
				t.Errorf("sbom capability: %d", code)
			}
		})
	}
}

func TestTokensScopesAndLimits(t *testing.T) {
	d := fleettest.DSNs(t)[0]
	tokens, err := server.ParseTokens([]byte("# who may do what\nread reader-token-0123456789 dashboards\nwrite writer-token-0123456789 ci\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, d.URL, server.Options{Tokens: tokens, RateLimit: 5, Burst: 5})
	v := newValidator(t, server.OpenAPI, e.srv.URL)
	base := e.srv.URL
	scan := jsonBody(map[string]string{"image": e.reg.Host + "/x/y:1"})
	if code, _, hdr := v.call("GET", base+"/api/v1/images", "", nil); code != 401 || hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d", code)
	}
	if code, _, _ := v.call("GET", base+"/api/v1/images", "", nil, "Authorization", "Bearer not-a-token-at-all"); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	if code, _, _ := v.call("GET", base+"/api/v1/images", "", nil, "Authorization", "Bearer reader-token-0123456789"); code != 200 {
		t.Errorf("read token reading: %d", code)
	}
	if code, _, _ := v.call("POST", base+"/api/v1/scans", "application/json", scan, "Authorization", "Bearer reader-token-0123456789"); code != 403 {
		t.Errorf("read token writing: %d", code)
	}
	if code, _, _ := v.call("POST", base+"/api/v1/scans", "application/json", scan, "Authorization", "Bearer writer-token-0123456789"); code != 202 {
		t.Errorf("write token writing: %d", code)
	}
	// Health needs no token; a browser without one is sent to sign in.
	if code, _, _ := v.call("GET", base+"/healthz", "", nil); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	req, _ := http.NewRequest("GET", base+"/", nil)
	req.Header.Set("Accept", "text/html")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("browser without a token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The rate limit: the reader has used a few requests; a burst past 5/s is refused.
	limited := 0
	for range 20 {
		code, _, hdr := v.call("GET", base+"/api/v1/images", "", nil, "Authorization", "Bearer reader-token-0123456789")
		if code == 429 {
			limited++
			if hdr.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Error("20 requests at once were never limited")
	}
	// The other token has its own budget.
	if code, _, _ := v.call("GET", base+"/api/v1/jobs", "", nil, "Authorization", "Bearer writer-token-0123456789"); code != 200 {
		t.Errorf("the writer was limited by the reader's requests: %d", code)
	}
}

func TestParseTokens(t *testing.T) {
	for _, bad := range []string{"", "# only a comment\n", "admin abcdefghijklmnopq\n", "read short\n", "read a b c d\n", "read\n"} {
		if _, err := server.ParseTokens([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCheckListen(t *testing.T) {
	for _, c := range []struct {
		o       server.ListenOptions
		addr    string
		warn    bool
		wantErr bool
	}{
		{o: server.ListenOptions{Addr: "8080"}, addr: "127.0.0.1:8080"},
		{o: server.ListenOptions{Addr: "[::1]:8080"}, addr: "[::1]:8080"},
		{o: server.ListenOptions{Addr: "localhost:8080"}, addr: "localhost:8080"},
		{o: server.ListenOptions{Addr: ":8080"}, wantErr: true},
		{o: server.ListenOptions{Addr: "0.0.0.0:8080"}, wantErr: true},
		{o: server.ListenOptions{Addr: "10.0.0.5:8080", TLSCert: "c", TLSKey: "k"}, wantErr: true},
		{o: server.ListenOptions{Addr: "0.0.0.0:8080", TokensConfigured: true}, addr: "0.0.0.0:8080", warn: true},
		{o: server.ListenOptions{Addr: "0.0.0.0:8080", TokensConfigured: true, TLSCert: "c", TLSKey: "k"}, addr: "0.0.0.0:8080"},
		{o: server.ListenOptions{Addr: "127.0.0.1:8080", TLSCert: "c"}, wantErr: true},
		{o: server.ListenOptions{Addr: "no-port-here:"}, wantErr: true},
	} {
		addr, warn, err := server.CheckListen(c.o)
		if (err != nil) != c.wantErr || (err == nil && (addr != c.addr || (warn != "") != c.warn)) {
			t.Errorf("%+v: %q %q %v", c.o, addr, warn, err)
		}
	}
}
