package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dockvet/dockvet/internal/finding"
)

// record is a finding record as watch makes them.
func record(i int) Record {
	r := finding.Rule{ID: "DV3050", Title: "Container runs as root", Practice: finding.PracticeNonRoot, Severity: finding.High,
		Remediation: "Run as an unprivileged user."}
	name := fmt.Sprintf("web-%03d", i)
	f := finding.New(&r, watchTarget(name), finding.Location{Container: name}, "Container "+name+" runs as root.")
	return Record{Finding: f, Event: Event{Type: "container", Action: "start", Actor: fmt.Sprintf("%064d", i), Name: name,
		Time: time.Date(2026, 5, 1, 12, 0, i, 0, time.UTC)}}
}

// endpoint is a webhook receiver that fails as a test says and keeps what
// it accepted, in order.
type endpoint struct {
	mu       sync.Mutex
	attempts int
	fail     func(attempt int, body []byte) int // status to answer; 0: hang up
	accepted []string                           // container names, in order
	ids      []string
	headers  []http.Header
	changed  chan struct{}
}

func newEndpoint(t *testing.T, fail func(int, []byte) int) (*endpoint, *httptest.Server) {
	e := &endpoint{fail: fail, changed: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.attempts++
		status := 200
		if e.fail != nil {
			status = e.fail(e.attempts, body)
		}
		if status == 0 {
			e.mu.Unlock()
			// Hang up without an answer, as a crashing proxy does.
			if hj, ok := w.(http.Hijacker); ok {
				c, _, _ := hj.Hijack()
				c.Close()
			}
			return
		}
		if status/100 == 2 {
			var rec Record
			if err := json.Unmarshal(body, &rec); err != nil {
				t.Errorf("webhook body is not a record: %v", err)
			}
			e.accepted = append(e.accepted, rec.Location.Container)
			e.ids = append(e.ids, r.Header.Get("X-Dockvet-Delivery"))
			e.headers = append(e.headers, r.Header.Clone())
			close(e.changed)
			e.changed = make(chan struct{})
		}
		e.mu.Unlock()
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return e, srv
}

func (e *endpoint) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		e.mu.Lock()
		got, changed := slices.Clone(e.accepted), e.changed
		e.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("the webhook accepted %d findings within %s, want %d", len(got), waitLimit, n)
		}
	}
}

func names(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("web-%03d", i))
	}
	return out
}

func fastWebhook(t *testing.T, url, dir string) WebhookOptions {
	return WebhookOptions{URL: url, SpoolDir: dir, MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Header: http.Header{"Authorization": {"Bearer t0ken"}}, UserAgent: "dockvet/test",
		Notice: func(f string, a ...any) { t.Logf("webhook: "+f, a...) }}
}

// TestWebhookOutage: the endpoint fails its first attempts in every way
// an endpoint fails (5xx, hanging up, 429 with Retry-After, 401 while a
// token is being fixed); every finding is delivered once, in order, with
// the configured headers, and the spool is empty afterwards.
func TestWebhookOutage(t *testing.T) {
	e, srv := newEndpoint(t, func(attempt int, _ []byte) int {
		switch attempt {
		case 1, 2:
			return http.StatusServiceUnavailable
		case 3:
			return 0
		case 4:
			return http.StatusTooManyRequests
		case 5:
			return http.StatusUnauthorized
		}
		return http.StatusOK
	})
	m := NewMetrics()
	o := fastWebhook(t, srv.URL+"/hook?token=secret", t.TempDir())
	o.Metrics = m
	wh, err := NewWebhook(o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(wh.Name(), "secret") || strings.Contains(wh.Name(), "/hook") {
		t.Errorf("the sink's name shows the URL's path or query: %s", wh.Name())
	}
	const n = 25
	for i := range n {
		r := record(i)
		if err := wh.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := wh.Flush(); err != nil {
		t.Fatal(err)
	}
	got := e.waitFor(t, n)
	if !slices.Equal(got, names(n)) {
		t.Errorf("delivered %v, want %v", got, names(n))
	}
	if err := wh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.ids) != n || len(slices.Compact(slices.Sorted(slices.Values(e.ids)))) != n {
		t.Errorf("delivery IDs are not one per finding: %v", e.ids)
	}
	for _, h := range e.headers {
		if h.Get("Authorization") != "Bearer t0ken" || h.Get("Content-Type") != "application/json" || h.Get("User-Agent") != "dockvet/test" {
			t.Errorf("headers: %v", h)
		}
	}
	if wh.Spooled() != 0 || spoolFiles(t, o.SpoolDir) != 0 {
		t.Errorf("%d findings left in the spool", wh.Spooled())
	}
	if got := testutil.ToFloat64(m.webhook.WithLabelValues("retried")); got != 5 {
		t.Errorf("retried %v times, want 5", got)
	}
	if got := testutil.ToFloat64(m.webhook.WithLabelValues("delivered")); got != n {
		t.Errorf("delivered %v, want %d", got, n)
	}
}

func spoolFiles(t *testing.T, dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if _, ok := parseSpoolName(e.Name()); ok {
			n++
		}
	}
	return n
}

// TestWebhookSpoolSurvivesRestart: findings spooled while the endpoint is
// down stay on disk when watch stops, and the next run delivers them
// first, in order, with the same delivery IDs.
func TestWebhookSpoolSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	down, srv := newEndpoint(t, func(int, []byte) int { return http.StatusBadGateway })
	wh, err := NewWebhook(fastWebhook(t, srv.URL, dir))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		r := record(i)
		if err := wh.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	wh.Close(cctx)
	if n := spoolFiles(t, dir); n != 5 {
		t.Fatalf("%d findings spooled after the stop, want 5", n)
	}
	if down.attempts == 0 {
		t.Error("no delivery was attempted")
	}
	// A write cut short before its rename is not a finding.
	os.WriteFile(filepath.Join(dir, spoolTmp+"123"), []byte(`{"ruleId":`), 0o600)

	up, srv2 := newEndpoint(t, nil)
	wh2, err := NewWebhook(fastWebhook(t, srv2.URL, dir))
	if err != nil {
		t.Fatal(err)
	}
	got := up.waitFor(t, 5)
	wh2.Close(context.Background())
	if !slices.Equal(got, names(5)) {
		t.Errorf("delivered %v, want %v", got, names(5))
	}
	if _, err := os.Stat(filepath.Join(dir, spoolTmp+"123")); err == nil {
		t.Error("the cut-short write was left in the spool")
	}
}

// TestWebhookRejects: an answer that refuses the finding itself (400)
// moves it aside, where it can be read, and the others are delivered; a
// spool file that is not a finding is moved aside, never posted.
func TestWebhookRejects(t *testing.T) {
	dir := t.TempDir()
	e, srv := newEndpoint(t, func(_ int, body []byte) int {
		if strings.Contains(string(body), "web-001") {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	if err := os.WriteFile(filepath.Join(dir, "00000000000000000001.json"), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	wh, err := NewWebhook(fastWebhook(t, srv.URL, dir))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		r := record(i)
		wh.Write(&r)
	}
	got := e.waitFor(t, 2)
	wh.Close(context.Background())
	if !slices.Equal(got, []string{"web-000", "web-002"}) {
		t.Errorf("delivered %v", got)
	}
	rejected, _ := os.ReadDir(filepath.Join(dir, spoolRejected))
	if len(rejected) != 2 {
		t.Errorf("%d files in rejected/, want the refused finding and the corrupt file", len(rejected))
	}
}

// memSink is a sink that keeps records in memory.
type memSink struct {
	mu   sync.Mutex
	recs []Record
}

func (s *memSink) Name() string { return "memory" }
func (s *memSink) Write(r *Record) error {
	s.mu.Lock()
	s.recs = append(s.recs, *r)
	s.mu.Unlock()
	return nil
}
func (s *memSink) Flush() error                { return nil }
func (s *memSink) Close(context.Context) error { return nil }

// TestSpoolFull: when the webhook's spool is full the findings that do not
// fit are counted and the other sinks are told (DV5043), once per outage.
func TestSpoolFull(t *testing.T) {
	_, srv := newEndpoint(t, func(int, []byte) int { return http.StatusServiceUnavailable })
	m := NewMetrics()
	o := fastWebhook(t, srv.URL, t.TempDir())
	o.SpoolMax, o.Metrics = 3, m
	wh, err := NewWebhook(o)
	if err != nil {
		t.Fatal(err)
	}
	mem := &memSink{}
	d := NewDispatcher(DispatcherOptions{Metrics: m}, mem, wh)
	for i := range 6 {
		d.Write(record(i))
	}
	cctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	d.Close(cctx)
	var got []string
	for _, r := range mem.recs {
		got = append(got, r.RuleID)
	}
	want := []string{"DV3050", "DV3050", "DV3050", "DV3050", "DV3050", "DV3050", "DV5043"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the other sink got %v, want %v", got, want)
	}
	if got := testutil.ToFloat64(m.spoolDropped); got != 3 {
		t.Errorf("%v findings counted as not spooled, want 3", got)
	}
	if worst, n := d.Worst(); worst != finding.High || n != 7 {
		t.Errorf("Worst() = %v, %d", worst, n)
	}
}

// TestSinkFails: a sink that cannot write (a full disk: /dev/full) is
// reported to the others once, whatever it refuses after, and counted.
func TestSinkFails(t *testing.T) {
	full, err := OpenFileSink("/dev/full", EncodeJSON)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	m := NewMetrics()
	mem := &memSink{}
	var said []string
	d := NewDispatcher(DispatcherOptions{Metrics: m, Notice: func(f string, a ...any) { said = append(said, fmt.Sprintf(f, a...)) }}, mem, full)
	for i := range 4 {
		d.Write(record(i))
	}
	d.Close(context.Background())
	var got []string
	for _, r := range mem.recs {
		got = append(got, r.RuleID)
		if r.RuleID == "DV5043" && (r.Target != "/dev/full" || !strings.Contains(r.Message, "no space left on device")) {
			t.Errorf("DV5043: %s %s", r.Target, r.Message)
		}
	}
	slices.Sort(got)
	if want := []string{"DV3050", "DV3050", "DV3050", "DV3050", "DV5043"}; !slices.Equal(got, want) {
		t.Errorf("the other sink got %v, want %v", got, want)
	}
	if n := testutil.ToFloat64(m.sinkErrors.WithLabelValues("/dev/full")); n != 4 {
		t.Errorf("%v errors counted, want 4", n)
	}
	if len(said) != 1 {
		t.Errorf("notices: %q", said)
	}
}

func TestSpoolNotWritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := NewWebhook(WebhookOptions{URL: "http://127.0.0.1:9/", SpoolDir: filepath.Join(file, "spool")}); err == nil {
		t.Error("a spool that cannot be created was accepted")
	}
}
