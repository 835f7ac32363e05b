package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/fleet/fleettest"
	"github.com/dockvet/dockvet/internal/fleet/store"
)

// TestFleetProcess is dockvet as a child process of the fleet tests.
func TestFleetProcess(t *testing.T) {
	if os.Getenv("DOCKVET_FLEET_PROCESS") != "1" {
		t.Skip("runs dockvet as a child process of the server and worker tests")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(Execute(args, Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}

// proc is a dockvet process the test started.
type proc struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	lines chan string
	mu    sync.Mutex
	said  []string
	done  chan struct{}
}

func startDockvet(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestFleetProcess$", "--"}, args...)...)
	cmd.Env = append(append(os.Environ(), "DOCKVET_FLEET_PROCESS=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, cmd: cmd, lines: make(chan string, 10000), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.said = append(p.said, sc.Text())
			p.mu.Unlock()
			p.lines <- sc.Text()
		}
		close(p.lines)
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// await reads the process's standard error until a line matches re.
func (p *proc) await(re *regexp.Regexp, timeout time.Duration) []string {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case s, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("%s ended before saying %s:\n%s", p.name, re, p.output())
			}
			if m := re.FindStringSubmatch(s); m != nil {
				return m
			}
		case <-deadline:
			p.t.Fatalf("%s did not say %s:\n%s", p.name, re, p.output())
		}
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.said, "\n")
}

// stop ends the process with SIGTERM and waits for it.
func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Errorf("%s did not stop on SIGTERM", p.name)
		p.cmd.Process.Kill()
		<-p.done
	}
}

func httpJSON(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if b, ok := out.(*[]byte); ok {
			*b = data
		} else if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, data)
		}
	}
	return resp.StatusCode
}

// changeHook collects the changes a webhook receives.
type changeHook struct {
	mu   sync.Mutex
	recs []map[string]any
	srv  *httptest.Server
}

func newChangeHook(t *testing.T) *changeHook {
	h := &changeHook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		json.NewDecoder(r.Body).Decode(&v)
		h.mu.Lock()
		h.recs = append(h.recs, v)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *changeHook) waitFor(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		for _, r := range h.recs {
			if v, _ := r["vulnerability"].(map[string]any); v != nil && v["id"] == id {
				h.mu.Unlock()
				return r
			}
		}
		h.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the webhook never received %s", id)
	return nil
}

// TestServerAcceptance: `dockvet server` with no flags but a free port
// starts on loopback with SQLite; a scan of an image in a loopback
// registry is a job whose result is the JSON report `dockvet image` gives;
// `dockvet image --server` gives the same report and exit code; with the
// registry stopped, `dockvet db import` of an advisory makes the image's
// report show it, /api/v1/changes list it and a webhook receive it.
func TestServerAcceptance(t *testing.T) {
	cache := t.TempDir()
	// The advisory database the server watches: one unrelated record.
	if code, _, errOut := run(t, "db", "import", fleettest.WriteOSV(t, fleettest.Advisory{ID: "DVTEST-0001", Package: "unrelated", Fixed: "1.0"}), "--cache-dir", cache); code != ExitOK {
		t.Fatalf("db import: %d %s", code, errOut)
	}
	reg := fleettest.NewRegistry(t)
	img := fleettest.DebianImage(t, fleettest.DebianBase(t, fleettest.Package{Name: "demo", Version: "1.0-1"}),
		fleettest.AppLayer(t, "srv/config.env", "DATABASE_URL=postgres://app:Sup3rS3cretPassw0rd@db.internal:5432/app\n"))
	ref, digest := reg.Push(t, "team/app", "1", img)
	ref = "registry:" + ref
	hook := newChangeHook(t)

	// The child is this test binary, whose TestMain points
	// DOCKVET_CACHE_DIR elsewhere: the cache directory is named.
	srv := startDockvet(t, "dockvet server", nil,
		"server", "--cache-dir", cache, "--addr", "127.0.0.1:0", "--db-poll", "200ms", "--webhook", hook.srv.URL)
	m := srv.await(regexp.MustCompile(`listening on (http://\S+) \(database (\S+), (\d+) workers\)`), 60*time.Second)
	base := m[1]
	if want := "sqlite:" + filepath.Join(cache, "server", "fleet.db"); m[2] != want || m[3] != "2" {
		t.Fatalf("defaults: database %s, %s workers; want %s, 2", m[2], m[3], want)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("not on loopback: %s", base)
	}

	var job store.Job
	if code := httpJSON(t, "POST", base+"/api/v1/scans", map[string]string{"image": ref}, &job); code != http.StatusAccepted {
		t.Fatalf("POST /api/v1/scans: %d %+v", code, job)
	}
	deadline := time.Now().Add(60 * time.Second)
	for job.State != store.JobDone {
		if job.State == store.JobDead || time.Now().After(deadline) {
			t.Fatalf("job: %+v\n%s", job, srv.output())
		}
		time.Sleep(50 * time.Millisecond)
		httpJSON(t, "GET", fmt.Sprintf("%s/api/v1/scans/%d", base, job.ID), nil, &job)
	}
	if job.ImageDigest != digest {
		t.Fatalf("job digest %s, pushed %s", job.ImageDigest, digest)
	}
	var served []byte
	if code := httpJSON(t, "GET", fmt.Sprintf("%s/api/v1/scans/%d/report", base, job.ID), nil, &served); code != 200 {
		t.Fatalf("report: %d %s", code, served)
	}
	localCode, local, errOut := run(t, "image", "--format", "json", "--cache-dir", cache, ref)
	if localCode == ExitError {
		t.Fatalf("dockvet image: %s", errOut)
	}
	if withoutScanTime(served) != withoutScanTime(local) {
		t.Fatalf("the server's report differs from dockvet image's:\nserver:\n%s\nlocal:\n%s", served, local)
	}
	if !strings.Contains(local, `"DV7`) {
		t.Fatalf("the test image's secret was not found:\n%s", local)
	}
	// The same through --server, exit code included.
	remoteCode, remote, errOut := run(t, "image", "--format", "json", "--server", base, ref)
	if remoteCode != localCode || withoutScanTime(remote) != withoutScanTime(local) {
		t.Fatalf("--server: exit %d (local %d), %s\n%s", remoteCode, localCode, errOut, remote)
	}
	// The image by digest is answered from the store: 200 at once.
	var again store.Job
	if code := httpJSON(t, "POST", base+"/api/v1/scans", map[string]string{"image": reg.Host + "/team/app@" + digest}, &again); code != http.StatusOK || again.State != store.JobDone {
		t.Fatalf("repeat by digest: %d %+v", code, again)
	}

	// The registry goes away; an advisory about the image's package arrives.
	reg.Stop()
	if code, _, errOut := run(t, "db", "import", fleettest.WriteOSV(t, fleettest.Advisory{ID: "DVTEST-0002", Package: "demo", Fixed: "1.0-2"}), "--cache-dir", cache); code != ExitOK {
		t.Fatalf("db import: %d %s", code, errOut)
	}
	srv.await(regexp.MustCompile(`1 images re-matched .* 1 changed \(1 new, 0 fixed`), 30*time.Second)
	var rep struct {
		Findings []struct {
			Vulnerability *struct{ ID string } `json:"vulnerability"`
		} `json:"findings"`
	}
	httpJSON(t, "GET", base+"/api/v1/images/"+digest, nil, &rep)
	found := false
	for _, f := range rep.Findings {
		found = found || f.Vulnerability != nil && f.Vulnerability.ID == "DVTEST-0002"
	}
	if !found {
		t.Fatalf("GET /api/v1/images/%s does not show DVTEST-0002", digest)
	}
	var changes struct {
		Changes []struct {
			Kind, Advisory, Digest string
		} `json:"changes"`
	}
	httpJSON(t, "GET", base+"/api/v1/changes?since=2000-01-01T00:00:00Z", nil, &changes)
	if len(changes.Changes) != 1 || changes.Changes[0].Advisory != "DVTEST-0002" || changes.Changes[0].Kind != "new" || changes.Changes[0].Digest != digest {
		t.Fatalf("changes: %+v", changes)
	}
	rec := hook.waitFor(t, "DVTEST-0002")
	if ev, _ := rec["event"].(map[string]any); ev["action"] != "new" || ev["actor"] != digest {
		t.Fatalf("webhook record: %v", rec)
	}
	// The advisory search finds the image.
	var hit struct {
		Images []struct{ Digest string } `json:"images"`
	}
	httpJSON(t, "GET", base+"/api/v1/advisories/DVTEST-0002/images", nil, &hit)
	if len(hit.Images) != 1 || hit.Images[0].Digest != digest {
		t.Fatalf("advisory images: %+v", hit)
	}
	srv.stop()
	if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("server exit code %d:\n%s", code, srv.output())
	}
}

func TestServerRefusesOpenListen(t *testing.T) {
	code, _, errOut := run(t, "server", "--addr", "0.0.0.0:0", "--cache-dir", t.TempDir())
	if code != ExitError || !strings.Contains(errOut, "beyond loopback") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	code, _, errOut = run(t, "worker")
	if code != ExitError || !strings.Contains(errOut, "--db") {
		t.Fatalf("worker without --db: exit %d: %s", code, errOut)
	}
	code, _, errOut = run(t, "server", "--db", "mysql://x", "--cache-dir", t.TempDir())
	if code != ExitError || !strings.Contains(errOut, "sqlite:PATH or postgres://") {
		t.Fatalf("bad --db: exit %d: %s", code, errOut)
	}
	tokens := write(t, t.TempDir(), "tokens", "write short\n")
	code, _, errOut = run(t, "server", "--token-file", tokens, "--cache-dir", t.TempDir())
	if code != ExitError || !strings.Contains(errOut, "shorter than 16") {
		t.Fatalf("short token: exit %d: %s", code, errOut)
	}
}
