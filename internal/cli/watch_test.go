package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
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

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/testenv"
)

// TestWatchUsage: bad flags are one line on standard error and exit 2,
// before anything is watched.
func TestWatchUsage(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--format", "sarif"}, "--format sarif does not fit this command"},
		{[]string{"--webhook", "ftp://example.com/x"}, "--webhook: want an http:// or https:// URL"},
		{[]string{"--webhook", "https://example.com", "--webhook-header", "no colon here"}, `--webhook-header: want "Name: value"`},
		{[]string{"--webhook-header", "X-Token: abc"}, "need --webhook"},
		{[]string{"--webhook", "https://example.com", "--webhook-header-file", "/nonexistent/headers"}, "--webhook-header-file: no such file or directory"},
		{[]string{"--metrics-addr", busy.Addr().String()}, "--metrics-addr " + busy.Addr().String()},
		{[]string{"--workers", "0"}, "must be at least 1"},
		{[]string{"--reconcile-every", "10ms"}, "--reconcile-every must be at least 1s"},
		{[]string{"extra"}, "unknown command"},
		{[]string{"--webhook", "https://example.com", "--offline"}, "--offline forbids"},
	}
	check := func(args []string, want string) {
		t.Helper()
		code, out, errOut := run(t, append([]string{"watch"}, args...)...)
		if code != ExitError || out != "" || !strings.Contains(errOut, want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("watch %v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", args, code, out, errOut, want)
		}
	}
	for _, tc := range cases {
		check(tc.args, tc.want)
	}
	// An Engine that does not answer when watch starts is an error; once
	// watch runs, a lost Engine is waited for.
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no.sock"))
	check([]string{"--once"}, "is not reachable")
	check(nil, "is not reachable")
}

// watchLab loads the test images and starts containers named for this run.
type watchLab struct {
	t      *testing.T
	c      *client.Client
	prefix string
	unsafe string
}

func newWatchLab(t *testing.T) *watchLab {
	lab := testenv.NewLab(t, "dvclw")
	return &watchLab{t: t, c: lab.C, prefix: lab.Prefix, unsafe: lab.Unsafe}
}

func (l *watchLab) run(name string, hc containertypes.HostConfig) string {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hc.CgroupnsMode = containertypes.CgroupnsModePrivate
	res, err := l.c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: l.prefix + "-" + name, Config: &containertypes.Config{Image: l.unsafe}, HostConfig: &hc})
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		l.c.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true})
	})
	if _, err := l.c.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		l.t.Fatal(err)
	}
	return l.prefix + "-" + name
}

type line struct {
	RuleID   string `json:"ruleId"`
	Severity string `json:"severity"`
	Target   string `json:"target"`
	Kind     string `json:"targetKind"`
	Event    struct {
		Type, Action, Name string
	} `json:"event"`
}

func parseLines(t *testing.T, out string) []line {
	t.Helper()
	var ls []line
	for _, s := range strings.Split(strings.TrimSpace(out), "\n") {
		if s == "" {
			continue
		}
		var l line
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("not a JSON line: %q", s)
		}
		ls = append(ls, l)
	}
	return ls
}

func hasLine(ls []line, id, target string) bool {
	for _, l := range ls {
		if l.RuleID == id && l.Target == target {
			return true
		}
	}
	return false
}

// TestWatchOnce: --once audits what runs, one JSON line per finding, and
// exits as --fail-on says (for cron).
func TestWatchOnce(t *testing.T) {
	l := newWatchLab(t)
	name := l.run("once", containertypes.HostConfig{CapAdd: []string{"SYS_ADMIN"}})
	code, out, errOut := run(t, "watch", "--once", "--format", "json", "--quiet")
	if code != ExitFindings {
		t.Errorf("exit %d, want 1 (a high finding, --fail-on high); stderr %s", code, errOut)
	}
	ls := parseLines(t, out)
	if !hasLine(ls, "DV3002", name) || !hasLine(ls, "DV3100", name) {
		t.Errorf("the running container is not reported:\n%s", out)
	}
	for _, l := range ls {
		if l.Kind != "watch" || l.Event.Type != "container" || l.Event.Action != "running" {
			t.Errorf("line %+v", l)
		}
	}
	code, _, errOut = run(t, "watch", "--once", "--format", "json", "--fail-on", "none", "--severity", "critical")
	if code != ExitOK || errOut != realEngineLine(t) {
		t.Errorf("--fail-on none: exit %d, stderr %q", code, errOut)
	}
}

// TestWatchProcess is not a test: the tests below run dockvet in a child
// process through it, so that they can send it signals.
func TestWatchProcess(t *testing.T) {
	if os.Getenv("DOCKVET_WATCH_PROCESS") != "1" {
		t.Skip("runs dockvet as a child process of TestWatchLifecycle")
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

// TestWatchLifecycle runs `dockvet watch` as a process with --output, a
// webhook that fails its first attempts, and metrics; waits for a
// container started afterwards to be reported on all three; then stops
// it with SIGTERM: it drains and exits 0.
func TestWatchLifecycle(t *testing.T) {
	l := newWatchLab(t)
	var mu sync.Mutex
	attempts, got := 0, map[string]bool{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if attempts++; attempts <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Authorization") != "Bearer s3cret-token" {
			t.Errorf("webhook headers: %v", r.Header)
		}
		var ln line
		json.Unmarshal(body, &ln)
		got[ln.RuleID+" "+ln.Target] = true
	}))
	defer hook.Close()
	dir := t.TempDir()
	headers := write(t, dir, "headers", "# the SIEM's token\nAuthorization: Bearer s3cret-token\n")
	output := filepath.Join(dir, "findings.jsonl")

	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchProcess$", "--", "watch", "--format", "json", "--output", output,
		"--webhook", hook.URL, "--webhook-header-file", headers, "--metrics-addr", "127.0.0.1:0", "--drain-timeout", "20s")
	cmd.Env = append(os.Environ(), "DOCKVET_WATCH_PROCESS=1", "DOCKVET_CACHE_DIR="+filepath.Join(dir, "cache"))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var said []string
	await := func(re *regexp.Regexp) []string {
		t.Helper()
		deadline := time.After(90 * time.Second)
		for {
			select {
			case s, ok := <-lines:
				if !ok {
					t.Fatalf("dockvet ended before saying %s:\n%s", re, strings.Join(said, "\n"))
				}
				said = append(said, s)
				if m := re.FindStringSubmatch(s); m != nil {
					return m
				}
			case <-deadline:
				t.Fatalf("dockvet did not say %s:\n%s", re, strings.Join(said, "\n"))
			}
		}
	}
	metrics := await(regexp.MustCompile(`metrics at (http://\S+)`))[1]
	await(regexp.MustCompile(`watching the Docker Engine`))

	name := l.run("life", containertypes.HostConfig{Binds: []string{"/var/run/docker.sock:/var/run/docker.sock"}})
	// Wait for the finding in the file: --output is appended and synced
	// line by line, so it is there as soon as it is reported.
	deadline := time.Now().Add(90 * time.Second)
	for {
		data, _ := os.ReadFile(output)
		if hasLine(parseLines(t, string(data)), "DV3020", name) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no DV3020 for %s in %s:\n%s", name, output, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(metrics)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The container's create event comes before any of its findings (the
	// stream is in order; its start event may still be on its way).
	for _, want := range []string{
		`dockvet_watch_events_total{action="create",type="container"}`,
		`dockvet_watch_findings_total{practice="daemon-socket",severity="critical"}`,
		"dockvet_watch_queue_depth ", "dockvet_watch_reconnects_total 0", "dockvet_watch_connected 1",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics do not show %s", want)
		}
	}
	if !strings.HasPrefix(strings.TrimPrefix(metrics, "http://"), "127.0.0.1:") {
		t.Errorf("metrics not on loopback: %s", metrics)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	await(regexp.MustCompile(`^dockvet: stopped$`))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, strings.Join(said, "\n"))
	}
	mu.Lock()
	defer mu.Unlock()
	if !got["DV3020 "+name] {
		t.Errorf("the webhook did not receive DV3020 for %s (after %d attempts)", name, attempts)
	}
	for _, s := range said {
		if strings.Contains(s, "s3cret") {
			t.Errorf("standard error shows the token: %s", s)
		}
	}
}

// TestWatchFakeEngineOnce: --once against recorded Engine answers audits
// the running containers, one JSON line per finding at the container's
// name, exits as --fail-on says and closes the client.
func TestWatchFakeEngineOnce(t *testing.T) {
	e := newFakeEngine(t, "tcp://engine.test:2376")
	code, out, errOut := runFake(t, e.connect, "watch", "--once", "--format", "json")
	if code != ExitFindings {
		t.Errorf("exit %d, want 1 (critical findings, --fail-on high)", code)
	}
	if errOut != engineLine("tcp://engine.test:2376")+"dockvet: the Engine at tcp://engine.test:2376 is not local: daemon reloads are not compared\n" {
		t.Errorf("stderr %q", errOut)
	}
	ls := parseLines(t, out)
	for _, w := range [][2]string{{"DV3020", "lvexp-unsafe-running"}, {"DV3060", "lvexp-unsafe-running"}, {"DV3004", "cap-user"}} {
		if !hasLine(ls, w[0], w[1]) {
			t.Errorf("no %s for %s:\n%s", w[0], w[1], out)
		}
	}
	for _, l := range ls {
		if l.Target == "lvexp-hardened" || l.Kind != "watch" || l.Event.Type != "container" || l.Event.Action != "running" {
			t.Errorf("line %+v", l)
		}
	}
	if e.closes() != 1 {
		t.Errorf("the Engine client was closed %d times", e.closes())
	}

	code, out, errOut = runFake(t, e.connect, "watch", "--once", "--format", "json", "--quiet", "--fail-on", "none", "--severity", "critical")
	if ls := parseLines(t, out); code != ExitOK || errOut != "" || len(ls) != 1 || !hasLine(ls, "DV3020", "lvexp-unsafe-running") {
		t.Errorf("--fail-on none --severity critical: exit %d, stderr %q, lines:\n%s", code, errOut, out)
	}

	unreachable := func(context.Context) (EngineClient, error) {
		return nil, errors.New("docker engine at unix:///run/none.sock is not reachable: connection refused")
	}
	code, out, errOut = runFake(t, unreachable, "watch", "--once")
	if code != ExitError || out != "" || errOut != "dockvet: docker engine at unix:///run/none.sock is not reachable: connection refused\n" {
		t.Errorf("unreachable: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestWatchFakeEngineEvents follows a recorded event stream: a privileged
// exec created in a running container is reported from its event (the
// exec read over the client's own connection), and the end of the
// context stops watch, which exits 0.
func TestWatchFakeEngineEvents(t *testing.T) {
	e := newFakeEngine(t, "tcp://engine.test:2376")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, out, errOut := startFake(ctx, e.connect, "watch", "--format", "json")
	deadline := time.After(30 * time.Second)
	for !hasLine(parseLines(t, out.String()), "DV5001", "cap-user") {
		select {
		case code := <-done:
			t.Fatalf("watch ended (exit %d) before reporting the exec:\n%s\n%s", code, out, errOut)
		case <-deadline:
			t.Fatalf("no DV5001 for the privileged exec:\n%s\n%s", out, errOut)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d after the stop, want 0", code)
	}
	for _, l := range parseLines(t, out.String()) {
		if l.RuleID == "DV5001" && (l.Event.Type != "container" || !strings.HasPrefix(l.Event.Action, "exec_create")) {
			t.Errorf("DV5001 from event %+v", l.Event)
		}
	}
	want := engineLine("tcp://engine.test:2376") + "dockvet: the Engine at tcp://engine.test:2376 is not local: daemon reloads are not compared\n" +
		"dockvet: watching the Docker Engine at tcp://engine.test:2376 (SIGINT or SIGTERM to stop)\n" +
		"dockvet: stopped\n"
	if errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
	if e.closes() != 1 {
		t.Errorf("the Engine client was closed %d times", e.closes())
	}
}
