package watch

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestResumeAcrossCut cuts the connection between watch and the Engine (a
// proxy socket in between), does things while it is cut, and restores it:
// what happened in the gap is reported after the reconnection, attributed
// to the events themselves (a container only created, an exec into a
// running container: no audit of what runs would see either), and nothing
// is reported twice.
func TestResumeAcrossCut(t *testing.T) {
	l := newLab(t)
	p := newProxy(t, socketPath(t, l.C))
	t.Setenv("DOCKER_HOST", "unix://"+p.path)
	m := NewMetrics()
	say := newNotices(t)
	_, col := started(t, Options{Metrics: m, Notice: say.add})

	before := l.run("before", containertypes.Config{}, containertypes.HostConfig{})
	col.waitFor(t, "the first container", func(rs []Record) bool { return has(rs, "DV3100", l.Name("before"), "") })

	p.cut()
	n := say.waitFor(t, "reconnecting", 0)
	l.create("created", containertypes.Config{}, containertypes.HostConfig{CapAdd: []string{"NET_ADMIN"}})
	exec, err := l.C.ExecCreate(ctx(t), before, client.ExecCreateOptions{User: "0", Cmd: []string{"/app", "healthcheck"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.C.ExecStart(ctx(t), exec.ID, client.ExecStartOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	l.run("during", containertypes.Config{}, containertypes.HostConfig{Binds: []string{"/etc:/host-etc:ro"}})
	p.restore()
	say.waitFor(t, "reconnected", n)

	recs := col.waitFor(t, "the events of the gap", func(rs []Record) bool {
		return has(rs, "DV3002", l.Name("created"), "create") && has(rs, "DV5002", l.Name("before"), "") &&
			has(rs, "DV3022", l.Name("during"), "")
	})
	for _, r := range recs {
		if r.RuleID == "DV5002" && r.Target == l.Name("before") && r.Event.Exec != exec.ID {
			t.Errorf("DV5002 names exec %s, want %s", r.Event.Exec, exec.ID)
		}
		// The Engine still held the gap's events: they were replayed, and
		// nothing had to be found by auditing what runs or by listing.
		if strings.HasPrefix(r.Target, l.Prefix) && (r.Event.Action == actionRunning || r.Event.Action == actionReconcile) {
			t.Errorf("found by a re-audit, not from its event: %s %s [%s]", r.RuleID, r.Target, r.Event.Action)
		}
	}
	if testutil.ToFloat64(m.reconnects) < 1 {
		t.Error("no reconnection counted")
	}
	noDuplicates(t, recs)
}

// TestGapBeyondHistory cuts the connection while more happens than the
// Engine keeps for a resumed stream: watch says events may have been
// missed (DV5040), and still reports the container started in the gap,
// whose events the Engine no longer holds, by listing the containers; the
// gap's finding says it caught up on that one.
func TestGapBeyondHistory(t *testing.T) {
	l := newLab(t)
	p := newProxy(t, socketPath(t, l.C))
	t.Setenv("DOCKER_HOST", "unix://"+p.path)
	say := newNotices(t)
	_, col := started(t, Options{Notice: say.add, History: 256})
	l.run("first", containertypes.Config{}, containertypes.HostConfig{})
	col.waitFor(t, "the first container", func(rs []Record) bool { return has(rs, "DV3100", l.Name("first"), "") })

	p.cut()
	n := say.waitFor(t, "reconnecting", 0)
	l.run("lost", containertypes.Config{}, containertypes.HostConfig{PidMode: "host"})
	// 2 events per tag and untag: 300 events push the gap's first ones
	// out of the Engine's 256.
	for i := range 150 {
		tag := fmt.Sprintf("%s/churn:%d", l.Prefix, i)
		if _, err := l.C.ImageTag(ctx(t), client.ImageTagOptions{Source: l.Unsafe, Target: tag}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.C.ImageRemove(ctx(t), tag, client.ImageRemoveOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	p.restore()
	say.waitFor(t, "reconnected", n)
	recs := col.waitFor(t, "DV5040 and the container of the gap", func(rs []Record) bool {
		return slices.ContainsFunc(rs, func(r Record) bool { return r.RuleID == "DV5040" }) && has(rs, "DV3010", l.Name("lost"), "")
	})
	// At least the lost container; others' on a shared Engine too.
	caughtUp := regexp.MustCompile(`; running containers were re-audited and [1-9][0-9]* containers? watch had not seen in (its|their) current state (was|were) audited, but`)
	for _, r := range recs {
		if r.RuleID == "DV5040" && (r.Event.Type != typeWatch || r.Event.Action != actionGap || !strings.Contains(r.Message, "between") ||
			!caughtUp.MatchString(r.Message)) {
			t.Errorf("DV5040: %+v", r)
		}
		if r.RuleID == "DV3010" && r.Target == l.Name("lost") && r.Event.Action != actionReconcile {
			t.Errorf("the lost container was reported from its %s event, which the Engine no longer held", r.Event.Action)
		}
	}
}

// TestOverflow fills the queue while the sink is held up: the events that
// do not fit are counted and reported (DV5041), and the containers they
// were about are audited anyway once the queue has room.
func TestOverflow(t *testing.T) {
	l := newLab(t)
	c := l.C
	m := NewMetrics()
	w := New(c, Options{Workers: 1, QueueSize: 1, Metrics: m, Notice: func(f string, a ...any) { t.Logf("watch: "+f, a...) }})
	w.outSize = 0 // the sink holds up the worker at once
	col := newCollector()
	gate := make(chan struct{})
	release := sync.OnceFunc(func() { close(gate) })
	held := make(chan struct{}, 1)
	sink := func(r Record) {
		select {
		case held <- struct{}{}:
		default:
		}
		<-gate
		col.sink(r)
	}
	rctx, cancel := contextWithCancel()
	done := make(chan struct{})
	go func() { defer close(done); w.Run(rctx, sink) }()
	// A failed wait must not leave the stop waiting for the held sink.
	t.Cleanup(func() { cancel(); release(); <-done })
	<-w.ready

	var names []string
	for i := range 6 {
		name := fmt.Sprintf("burst%d", i)
		names = append(names, l.Name(name))
		l.run(name, containertypes.Config{}, containertypes.HostConfig{})
	}
	waitUntil(t, "an overflow", func() bool { return testutilValue(m.overflows) > 0 })
	release()
	recs := col.waitFor(t, "DV5041 and every container", func(rs []Record) bool {
		if !slices.ContainsFunc(rs, func(r Record) bool { return r.RuleID == "DV5041" }) {
			return false
		}
		for _, n := range names {
			if !has(rs, "DV3100", n, "") {
				return false
			}
		}
		return true
	})
	for _, r := range recs {
		if r.RuleID == "DV5041" && !strings.Contains(r.Message, "events") {
			t.Errorf("DV5041: %s", r.Message)
		}
	}
	noDuplicates(t, recs)
}

func noDuplicates(t *testing.T, recs []Record) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range recs {
		k := r.RuleID + "|" + r.Target + "|" + r.Message
		if seen[k] {
			t.Errorf("reported twice: %s %s %s", r.RuleID, r.Target, r.Message)
		}
		seen[k] = true
	}
}
