package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/testenv"
)

// Sizes of TestWatchStalledBurst: the burst of issue 19 (row 16).
const (
	stallTags       = 3000
	stallContainers = 150
	// resumeLimit is the acceptance: every container reported
	// within 30 s of the resume.
	resumeLimit = 30 * time.Second
)

// TestWatchStalledBurst runs `dockvet watch` as a process against a
// private dockerd, stops it (SIGSTOP), and while it is stopped tags an
// image 3,000 times and creates 150 containers with SYS_ADMIN: the Engine
// fills the stopped reader's buffers with the tags and drops every later
// event, the creates included. Continued (SIGCONT), watch reads what the
// Engine kept, sees that it fell behind, lists the containers and reports
// all 150 within 30 s of the resume, with a DV5040 that says so and how
// many it caught up on, and counts it in its metrics. The slow timer is
// off (--reconcile-every 1h): the stall alone must bring them back.
func TestWatchStalledBurst(t *testing.T) {
	d := testenv.PrivateDaemon(t, testenv.DaemonOptions{})
	img := "dockvet-stall/app:1"
	testenv.Load(t, d.C, testenv.TinyImage(t, v1.Config{}), img)

	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchProcess$", "--", "watch", "--format", "json",
		"--reconcile-every", "1h", "--metrics-addr", "127.0.0.1:0", "--fail-on", "none")
	cmd.Env = append(os.Environ(), "DOCKVET_WATCH_PROCESS=1", "DOCKER_HOST="+d.Host, "DOCKER_TLS_VERIFY=", "DOCKER_CERT_PATH=",
		"DOCKVET_CACHE_DIR="+filepath.Join(t.TempDir(), "cache"))
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stopped sync.Once
	t.Cleanup(func() {
		stopped.Do(func() { cmd.Process.Signal(syscall.SIGCONT); cmd.Process.Kill(); cmd.Wait() })
	})
	out := newLineLog()
	go out.read(stdout)
	said := newLineLog()
	go said.read(stderr)
	metrics := said.await(t, regexp.MustCompile(`metrics at (http://\S+)`), time.Minute)[1]
	said.await(t, regexp.MustCompile(`watching the Docker Engine`), time.Minute)

	ctx := context.Background()
	create := func(name string) {
		_, err := d.C.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name,
			Config: &containertypes.Config{Image: img}, HostConfig: &containertypes.HostConfig{CapAdd: []string{"SYS_ADMIN"}}})
		if err != nil {
			t.Error(err)
		}
	}
	// One container while watch reads: events flow, watch has subscribed.
	create("before")
	out.awaitJSON(t, "the container created before the stop", time.Minute, func(ls []stallLine) bool { return stallHas(ls, "DV3002", "before") })

	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stop := time.Now()
	parallel(32, stallTags, func(i int) {
		if _, err := d.C.ImageTag(ctx, client.ImageTagOptions{Source: img, Target: fmt.Sprintf("dockvet-stall/burst:%d", i)}); err != nil {
			t.Error(err)
		}
	})
	tagged := time.Now()
	parallel(16, stallContainers, func(i int) { create(fmt.Sprintf("burst-%d", i)) })
	created := time.Now()
	if t.Failed() {
		t.FailNow()
	}
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	t.Logf("stopped for %s: %d tags in %s, %d creates in %s", resumed.Sub(stop).Round(time.Millisecond),
		stallTags, tagged.Sub(stop).Round(time.Millisecond), stallContainers, created.Sub(tagged).Round(time.Millisecond))

	ls := out.awaitJSON(t, "all the containers of the burst and DV5040", resumeLimit, func(ls []stallLine) bool {
		for i := range stallContainers {
			if !stallHas(ls, "DV3002", fmt.Sprintf("burst-%d", i)) {
				return false
			}
		}
		return stallHas(ls, "DV5040", "watch")
	})
	last := out.timeOf(func(l stallLine) bool { return l.RuleID == "DV3002" && strings.HasPrefix(l.Target, "burst-") }, stallContainers)
	t.Logf("SIGCONT to the %dth container's finding: %s", stallContainers, last.Sub(resumed).Round(time.Millisecond))
	notice := regexp.MustCompile(`^watch fell [0-9.]+m?s behind the Engine's events between .* \(stopped, suspended or starved of CPU\), and the Engine drops events for a reader that falls behind; running containers were re-audited and ` +
		strconv.Itoa(stallContainers) + ` containers watch had not seen in their current state were audited, but other events in that time may be missing\.$`)
	for _, l := range ls {
		switch {
		case l.RuleID == "DV5040" && (l.Event.Type != "watch" || l.Event.Action != "stall" || l.Event.CaughtUp != stallContainers || !notice.MatchString(l.Message)):
			t.Errorf("DV5040 %+v", l)
		case l.RuleID == "DV5040":
			t.Logf("%s", l.Message)
		case strings.HasPrefix(l.Target, "burst-") && l.Event.Action != "reconcile":
			// Their events were dropped: nothing else could report them.
			t.Errorf("%s reported from a %q event the Engine should have dropped", l.Target, l.Event.Action)
		}
	}
	said.await(t, regexp.MustCompile(`^dockvet: watch fell [0-9.]+m?s behind the Engine's events \(its clock jumped: stopped, suspended or starved of CPU\); listing the containers to catch up$`), time.Minute)
	said.await(t, regexp.MustCompile(`^dockvet: caught up on `+strconv.Itoa(stallContainers)+` containers watch had not seen in their current state$`), time.Minute)
	said.mu.Lock()
	for i, s := range said.lines {
		if said.at[i].After(resumed) {
			t.Logf("%s after SIGCONT: %s", said.at[i].Sub(resumed).Round(time.Millisecond), s)
		}
	}
	said.mu.Unlock()
	body := scrape(t, metrics)
	for _, want := range []string{
		"dockvet_watch_stalls_total 1\n",
		fmt.Sprintf("dockvet_watch_caught_up_containers_total %d\n", stallContainers),
		`dockvet_watch_reconciles_total{cause="stall"} 1` + "\n",
		`dockvet_watch_reconciles_total{cause="timer"} 0` + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics do not show %q", strings.TrimSpace(want))
		}
	}
	// The scenario holds: the Engine dropped the creates of the burst.
	if m := regexp.MustCompile(`dockvet_watch_events_total\{action="create",type="container"\} (\d+)`).FindStringSubmatch(body); m == nil {
		t.Error("no create events counted")
	} else if n, _ := strconv.Atoi(m[1]); n >= 1+stallContainers {
		t.Errorf("watch read %d create events: the Engine dropped none, the test did not stall it", n)
	} else {
		t.Logf("create events read: %d of %d", n, 1+stallContainers)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	said.await(t, regexp.MustCompile(`^dockvet: stopped$`), time.Minute)
	stopped.Do(func() {
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	})
}

// parallel runs f(0…n-1) on workers goroutines.
func parallel(workers, n int, f func(int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type stallLine struct {
	RuleID  string `json:"ruleId"`
	Target  string `json:"target"`
	Message string `json:"message"`
	Event   struct {
		Type, Action string
		CaughtUp     int `json:"caughtUp"`
	} `json:"event"`
}

func stallHas(ls []stallLine, id, target string) bool {
	for _, l := range ls {
		if l.RuleID == id && l.Target == target {
			return true
		}
	}
	return false
}

// lineLog keeps the lines a child process writes, each with the time it
// was read.
type lineLog struct {
	mu      sync.Mutex
	lines   []string
	at      []time.Time
	closed  bool
	changed chan struct{}
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

func (l *lineLog) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.lines, l.at = append(l.lines, sc.Text()), append(l.at, time.Now())
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.closed = true
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// wait waits until ok holds for the lines so far, for at most limit.
func (l *lineLog) wait(t *testing.T, what string, limit time.Duration, ok func([]string) bool) []string {
	t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		lines, closed, changed := append([]string(nil), l.lines...), l.closed, l.changed
		l.mu.Unlock()
		if ok(lines) {
			return lines
		}
		if closed {
			t.Fatalf("the process ended before %s; its output:\n%s", what, strings.Join(lines, "\n"))
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no %s within %s; output so far (%d lines):\n%s", what, limit, len(lines), lastLines(lines, 40))
		}
	}
}

func (l *lineLog) await(t *testing.T, re *regexp.Regexp, limit time.Duration) []string {
	t.Helper()
	var m []string
	l.wait(t, re.String(), limit, func(lines []string) bool {
		for _, s := range lines {
			if m = re.FindStringSubmatch(s); m != nil {
				return true
			}
		}
		return false
	})
	return m
}

func (l *lineLog) awaitJSON(t *testing.T, what string, limit time.Duration, ok func([]stallLine) bool) []stallLine {
	t.Helper()
	var ls []stallLine
	n := 0
	l.wait(t, what, limit, func(lines []string) bool {
		for _, s := range lines[n:] {
			var x stallLine
			if err := json.Unmarshal([]byte(s), &x); err != nil {
				t.Fatalf("not a JSON line: %q", s)
			}
			ls = append(ls, x)
		}
		n = len(lines)
		return ok(ls)
	})
	return ls
}

// timeOf is when the nth line that matches was read.
func (l *lineLog) timeOf(match func(stallLine) bool, nth int) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range l.lines {
		var x stallLine
		if json.Unmarshal([]byte(s), &x) == nil && match(x) {
			if nth--; nth == 0 {
				return l.at[i]
			}
		}
	}
	return time.Time{}
}

func lastLines(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
