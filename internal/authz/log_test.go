package authz

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/watch"
)

// TestDecisionsThroughWatchSinks: decisions reach a file and a webhook
// through watch's sinks, and a decision spooled while the webhook was
// down is delivered by the next run.
func TestDecisionsThroughWatchSinks(t *testing.T) {
	dir := t.TempDir()
	got := make(chan map[string]any, 4)
	up := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-up:
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		got <- m
	}))
	defer srv.Close()
	spool := filepath.Join(dir, "spool")
	open := func() (*watch.Dispatcher, *watch.Webhook) {
		wh, err := watch.NewWebhook(watch.WebhookOptions{URL: srv.URL, SpoolDir: spool, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		file, err := watch.OpenFileSink(filepath.Join(dir, "log.jsonl"), watch.EncodeJSON)
		if err != nil {
			t.Fatal(err)
		}
		return watch.NewDispatcher(watch.DispatcherOptions{}, file, wh), wh
	}

	// First run: the webhook is down; the decision stays spooled.
	disp, wh := open()
	log := LogTo(disp)
	log(&Decision{Time: time.Now(), Verdict: VerdictDeny, Request: RequestInfo{Kind: KindCreate}, Message: "dockvet: DV3020 denied: x"})
	deadline := time.Now().Add(5 * time.Second)
	for wh.Spooled() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	disp.Close(ctx)
	cancel()

	// Second run: the webhook is up and gets it.
	close(up)
	disp, _ = open()
	defer disp.Close(context.Background())
	select {
	case m := <-got:
		if m["verdict"] != VerdictDeny || m["message"] != "dockvet: DV3020 denied: x" {
			t.Fatalf("webhook got %v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the spooled decision was not delivered")
	}
	line, err := os.ReadFile(filepath.Join(dir, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil || m["verdict"] != VerdictDeny {
		t.Fatalf("file line %q: %v", line, err)
	}
}
