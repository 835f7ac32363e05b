package watch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dockvet/dockvet/internal/engine"
	"github.com/dockvet/dockvet/internal/testenv"
)

// waitLimit bounds every wait for watch's output. The waits end as soon as
// the output arrives; the limit only turns a lost finding into a failure
// instead of a hang, on a machine shared with other builds.
const waitLimit = 90 * time.Second

// lab is one test's share of the Engine (testenv.Lab) with the helpers
// these tests use to start containers and run watch.
type lab struct{ *testenv.Lab }

func newLab(t testing.TB) *lab { return &lab{testenv.NewLab(t, "dvwatch")} }

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// create makes a container named after the lab and removes it when the
// test ends. The cgroup namespace is private unless the case says
// otherwise: the Engine's default depends on the machine's cgroup version.
func (l *lab) create(name string, cfg containertypes.Config, hc containertypes.HostConfig) string {
	l.T.Helper()
	if hc.CgroupnsMode == "" {
		hc.CgroupnsMode = containertypes.CgroupnsModePrivate
	}
	if cfg.Image == "" {
		cfg.Image = l.Unsafe
	}
	cfg.Labels = map[string]string{"dockvet.test": l.Prefix}
	res, err := l.C.ContainerCreate(ctx(l.T), client.ContainerCreateOptions{Name: l.Name(name), Config: &cfg, HostConfig: &hc})
	if err != nil {
		l.T.Fatalf("creating %s: %v", name, err)
	}
	l.T.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		l.C.ContainerRemove(c, res.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	})
	return res.ID
}

func (l *lab) start(id string) {
	l.T.Helper()
	if _, err := l.C.ContainerStart(ctx(l.T), id, client.ContainerStartOptions{}); err != nil {
		l.T.Fatalf("starting %s: %v", id, err)
	}
}

func (l *lab) run(name string, cfg containertypes.Config, hc containertypes.HostConfig) string {
	l.T.Helper()
	id := l.create(name, cfg, hc)
	l.start(id)
	return id
}

// hardenedConfig is a container that leaves nothing above low to report:
// the only finding is that a local image cannot be pinned by digest.
func (l *lab) hardenedConfig() (containertypes.Config, containertypes.HostConfig) {
	pids := int64(64)
	return containertypes.Config{Image: l.Hardened, User: "10001:10001",
			Healthcheck: &containertypes.HealthConfig{Test: []string{"CMD", "/app", "healthcheck"}, Interval: 30 * time.Second}},
		containertypes.HostConfig{
			CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges:true"},
			ReadonlyRootfs: true,
			Resources: containertypes.Resources{Memory: 64 << 20, NanoCPUs: 5e8, PidsLimit: &pids,
				Ulimits: []*containertypes.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}}},
			RestartPolicy: containertypes.RestartPolicy{Name: containertypes.RestartPolicyOnFailure, MaximumRetryCount: 5},
		}
}

// collector is a sink that keeps every record and lets a test wait for
// what it expects.
type collector struct {
	mu      sync.Mutex
	recs    []Record
	changed chan struct{}
}

func newCollector() *collector { return &collector{changed: make(chan struct{})} }

func (c *collector) sink(r Record) {
	c.mu.Lock()
	c.recs = append(c.recs, r)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *collector) all() []Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.recs)
}

// waitFor waits until ok holds for the records so far.
func (c *collector) waitFor(t testing.TB, what string, ok func([]Record) bool) []Record {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		recs, changed := slices.Clone(c.recs), c.changed
		c.mu.Unlock()
		if ok(recs) {
			return recs
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no %s within %s; got:\n%s", what, waitLimit, dump(recs))
		}
	}
}

// has reports whether a record of rule id is about the named target,
// from an event with the given action ("" for any).
func has(recs []Record, id, target, action string) bool {
	return slices.ContainsFunc(recs, func(r Record) bool {
		return r.RuleID == id && r.Target == target && (action == "" || r.Event.Action == action)
	})
}

func of(recs []Record, target string) []Record {
	var out []Record
	for _, r := range recs {
		if r.Target == target {
			out = append(out, r)
		}
	}
	return out
}

func ids(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.RuleID)
	}
	slices.Sort(out)
	return out
}

func dump(recs []Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %s %s %s [%s] %s\n", r.RuleID, r.Severity, r.Target, r.Event.label(), r.Message)
	}
	return b.String()
}

// started runs a Watcher of the Engine that DOCKER_HOST names, with a
// collector sink, until the test ends; it waits until the Watcher has
// subscribed, so that what the test does next is seen.
func started(t *testing.T, o Options) (*Watcher, *collector) {
	t.Helper()
	c, err := engine.Connect(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return runWith(t, c, o)
}

// proxy stands between watch and the Engine on a Unix socket the test
// controls: cut closes every connection and stops listening, restore
// listens again on the same path.
type proxy struct {
	t      testing.TB
	path   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newProxy(t testing.TB, target string) *proxy {
	b := make([]byte, 4)
	rand.Read(b)
	p := &proxy{t: t, path: filepath.Join(os.TempDir(), "dvwatch-"+hex.EncodeToString(b)+".sock"), target: target, conns: map[net.Conn]struct{}{}}
	p.restore()
	t.Cleanup(func() {
		p.cut()
		p.wg.Wait()
		os.Remove(p.path)
	})
	return p
}

func (p *proxy) restore() {
	p.t.Helper()
	ln, err := net.Listen("unix", p.path)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("unix", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns[in], p.conns[out] = struct{}{}, struct{}{}
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(in, out)
			go p.pipe(out, in)
		}
	}()
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// notices keeps watch's messages for a person, so a test can wait for
// watch to have noticed something (a lost stream) instead of sleeping.
type notices struct {
	t       testing.TB
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

func newNotices(t testing.TB) *notices { return &notices{t: t, changed: make(chan struct{})} }

func (n *notices) add(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	n.t.Logf("watch: %s", line)
	n.mu.Lock()
	n.lines = append(n.lines, line)
	close(n.changed)
	n.changed = make(chan struct{})
	n.mu.Unlock()
}

// waitFor waits for a notice containing s after the first skip ones.
func (n *notices) waitFor(t testing.TB, s string, skip int) int {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		n.mu.Lock()
		lines, changed := slices.Clone(n.lines), n.changed
		n.mu.Unlock()
		for i := skip; i < len(lines); i++ {
			if strings.Contains(lines[i], s) {
				return i + 1
			}
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("watch did not say %q within %s; it said:\n%s", s, waitLimit, strings.Join(lines, "\n"))
		}
	}
}

// socketPath is the Unix socket of the Engine a client talks to.
func socketPath(t testing.TB, c *client.Client) string {
	p, ok := strings.CutPrefix(c.DaemonHost(), "unix://")
	if !ok {
		t.Skipf("the Engine at %s is not on a Unix socket; the proxy test needs one", c.DaemonHost())
	}
	return p
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// waitUntil waits for a condition that nothing signals (a counter),
// looking at it every few milliseconds, for at most waitLimit.
func waitUntil(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, waitLimit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testutilValue(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }
