package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"

	"github.com/dockvet/dockvet/internal/authz"
)

// TestAuthzAndComposeShareThePolicy drives one .dockvet.yaml through
// `dockvet compose`, which reports DV3020 for a service that mounts the
// Engine socket, and `dockvet authz`, which denies a create request with
// the same mount; then reloads the policy (a bad one is refused, audit
// mode is taken) as SIGHUP does.
func TestAuthzAndComposeShareThePolicy(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, ".dockvet.yaml")
	writeFile(t, cfg, `
rules:
  disable: [DV3070]
enforce:
  deny:
    - rules: [practice:daemon-socket]
      severity: high
`)
	composeFile := filepath.Join(dir, "compose.yaml")
	writeFile(t, composeFile, `
services:
  app:
    image: registry.example.com/app:1.0
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
`)
	var out, errb bytes.Buffer
	code := Execute([]string{"compose", "--config", cfg, "--format", "json", "--fail-on", "none", composeFile}, Streams{Out: &out, Err: &errb})
	if code != ExitOK {
		t.Fatalf("compose exit %d: %s", code, errb.String())
	}
	var rep struct {
		Findings []struct{ RuleID string }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, f.RuleID)
	}
	if !strings.Contains(strings.Join(ids, " "), "DV3020") {
		t.Fatalf("compose did not report DV3020: %v", ids)
	}

	// The plugin, on the same file.
	sockDir, err := os.MkdirTemp("", "dvz")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	logPath := filepath.Join(dir, "decisions.jsonl")
	ready := make(chan string, 1)
	hup := make(chan os.Signal, 1)
	errOut := &syncBuffer{}
	o := &AuthzOptions{
		Shared:   &Shared{ConfigFile: cfg, Output: logPath, IO: Streams{Out: &bytes.Buffer{}, Err: errOut}, Now: time.Now},
		Listen:   "unix://" + filepath.Join(sockDir, "p.sock"),
		LogReads: true, MaxRequest: authz.DefaultMaxRequest, OnFailure: "deny", SpoolMax: 10,
		Hangup: hup, Ready: func(s string) { ready <- s },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runAuthz(ctx, o) }()
	var sock string
	select {
	case sock = <-ready:
	case err := <-done:
		t.Fatalf("authz stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("authz did not start")
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	body, _ := json.Marshal(containertypes.CreateRequest{Config: &containertypes.Config{Image: "registry.example.com/app:1.0"},
		HostConfig: &containertypes.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"}}}})
	ask := func() authz.Response {
		t.Helper()
		msg, _ := json.Marshal(map[string]any{"RequestMethod": "POST", "RequestUri": "/v1.47/containers/create?name=app", "RequestBody": body})
		res, err := hc.Post("http://plugin"+authz.PathRequest, "application/json", bytes.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var r authz.Response
		if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := ask(); r.Allow || !strings.HasPrefix(r.Msg, "dockvet: DV3020 denied: container app mounts the engine socket /var/run/docker.sock") {
		t.Fatalf("authz: %+v", r)
	}

	// SIGHUP: a broken policy is refused and the old one stays in force.
	writeFile(t, cfg, "enforce: {mode: sideways}\n")
	hup <- os.Interrupt
	waitFor(t, errOut, "policy not reloaded, the previous one stays in force")
	if r := ask(); r.Allow {
		t.Fatal("the previous policy no longer denies")
	}
	writeFile(t, cfg, "enforce: {mode: audit}\n")
	hup <- os.Interrupt
	waitFor(t, errOut, "policy reloaded from")
	if r := ask(); !r.Allow {
		t.Fatalf("audit mode: %+v", r)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("the socket is left behind: %v", err)
	}

	// The decision log: one JSON line per decision, deny then would-deny.
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var verdicts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var d struct {
			Verdict string
			Rules   []struct{ RuleID string }
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		verdicts = append(verdicts, d.Verdict)
	}
	if got := strings.Join(verdicts, " "); got != "deny deny would-deny" {
		t.Fatalf("verdicts %q", got)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until the notices hold want.
func waitFor(t *testing.T, b *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(b.String(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %q in %s", want, b.String())
}
