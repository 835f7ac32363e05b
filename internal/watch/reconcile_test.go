package watch

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestReconcileTimer: containers whose events the Engine never sent
// (created, started, an old one started again) are found by the slow
// timer's listing, audited as "reconcile", counted, and summed up in one
// DV5040; what watch saw from events or at its start is not counted,
// nothing is reported twice, and later listings find nothing more.
func TestReconcileTimer(t *testing.T) {
	f := newFakeEngine()
	early := ctr("a1", "early-running", containertypes.StateRunning, containertypes.HostConfig{})
	exited := ctr("b1", "early-exited", containertypes.StateExited, containertypes.HostConfig{})
	f.put(early, exited)
	m := NewMetrics()
	_, col := runWith(t, f, Options{ReconcileEvery: 100 * time.Millisecond, Metrics: m})
	col.waitFor(t, "the running container", func(rs []Record) bool { return has(rs, "DV3050", "early-running", actionRunning) })

	evented := ctr("c1", "evented", containertypes.StateCreated, containertypes.HostConfig{})
	f.put(evented)
	f.send(containerEvent(evented, "create", time.Now()))
	col.waitFor(t, "the container of the event", func(rs []Record) bool { return has(rs, "DV3050", "evented", "create") })

	started := exited
	started.State = &containertypes.State{Status: containertypes.StateRunning, Running: true}
	f.put(started,
		ctr("d1", "silent-running", containertypes.StateRunning, containertypes.HostConfig{CapAdd: []string{"SYS_ADMIN"}}),
		ctr("e1", "silent-created", containertypes.StateCreated, containertypes.HostConfig{Privileged: true}))
	col.waitFor(t, "the three silent containers and DV5040", func(rs []Record) bool {
		return has(rs, "DV3002", "silent-running", actionReconcile) && has(rs, "DV3001", "silent-created", actionReconcile) &&
			has(rs, "DV3050", "early-exited", actionReconcile) && slices.ContainsFunc(rs, func(r Record) bool { return r.RuleID == "DV5040" })
	})
	// The records of one listing reach the sink one by one: the rest of
	// that listing's findings may still be on their way when the ones
	// waited for arrive. One more listing, and the first is all in.
	n0 := testutil.ToFloat64(m.reconciles.WithLabelValues(causeTimer))
	waitUntil(t, "one more listing", func() bool { return testutil.ToFloat64(m.reconciles.WithLabelValues(causeTimer)) >= n0+1 })
	recs := col.all()
	var notices []Record
	for _, r := range recs {
		switch {
		case r.RuleID == "DV5040":
			notices = append(notices, r)
		case r.Target == "early-exited" && r.Event.Action != actionReconcile:
			t.Errorf("the container exited at watch's start was audited before it started: %s [%s]", r.RuleID, r.Event.Action)
		case (r.Target == "evented" || r.Target == "early-running") && r.Event.Action == actionReconcile:
			t.Errorf("a container watch had seen was counted as missed: %s %s", r.RuleID, r.Target)
		}
	}
	if len(notices) != 1 || notices[0].Event.Type != typeWatch || notices[0].Event.Action != actionMissed || notices[0].Event.CaughtUp != 3 ||
		!regexp.MustCompile(`^3 containers had events watch did not see \(the Engine dropped them\) and were audited when watch listed the containers at `).MatchString(notices[0].Message) {
		t.Errorf("want one DV5040 for 3 missed containers:\n%s", dump(notices))
	}
	if got := testutil.ToFloat64(m.caught); got != 3 {
		t.Errorf("caught_up_containers_total %v, want 3", got)
	}

	// Later listings find every container as watch has seen it.
	n := testutil.ToFloat64(m.reconciles.WithLabelValues(causeTimer))
	waitUntil(t, "three more listings", func() bool { return testutil.ToFloat64(m.reconciles.WithLabelValues(causeTimer)) >= n+3 })
	if after := col.all(); len(after) != len(recs) {
		t.Errorf("listings with nothing missed reported:\n%s", dump(after[len(recs):]))
	}
	if got := testutil.ToFloat64(m.caught); got != 3 {
		t.Errorf("caught_up_containers_total %v after quiet listings, want 3", got)
	}
	noDuplicates(t, col.all())
}

// TestReconcileAfterStall: the Engine sends one event long after it
// dated it (watch fell behind its stream) and none about five containers
// created meanwhile (it dropped them). Once watch has caught up it lists
// the containers, audits the five, and reports the stall with how many it
// caught up on; the late event's own container is reported from its event.
func TestReconcileAfterStall(t *testing.T) {
	f := newFakeEngine()
	m := NewMetrics()
	const after = 300 * time.Millisecond
	_, col := runWith(t, f, Options{StallAfter: after, ReconcileEvery: time.Hour, Metrics: m})
	sub := <-f.subscribed
	// The listing at start comes first: what is put afterwards is new.
	waitUntil(t, "the listing at start", func() bool { return testutil.ToFloat64(m.reconciles.WithLabelValues(causeStart)) == 1 })
	var dropped []containertypes.InspectResponse
	for i := range 5 {
		dropped = append(dropped, ctr(fmt.Sprintf("d%d", i), fmt.Sprintf("dropped-%d", i), containertypes.StateCreated,
			containertypes.HostConfig{CapAdd: []string{"SYS_ADMIN"}}))
	}
	late := ctr("9a", "late", containertypes.StateCreated, containertypes.HostConfig{})
	f.put(append(dropped, late)...)
	// The one event the Engine still sent: dated just after watch
	// subscribed, read more than StallAfter later.
	dated := sub.Add(time.Millisecond)
	time.Sleep(time.Until(dated.Add(2 * after)))
	f.send(containerEvent(late, "create", dated))

	recs := col.waitFor(t, "the dropped containers and DV5040", func(rs []Record) bool {
		for i := range dropped {
			if !has(rs, "DV3002", fmt.Sprintf("dropped-%d", i), actionReconcile) {
				return false
			}
		}
		return has(rs, "DV3050", "late", "create") && slices.ContainsFunc(rs, func(r Record) bool { return r.RuleID == "DV5040" })
	})
	var notices []Record
	for _, r := range recs {
		if r.RuleID == "DV5040" {
			notices = append(notices, r)
		}
		if r.Target == "late" && r.Event.Action != "create" {
			t.Errorf("the container of the late event was reported from %q, not its event", r.Event.Action)
		}
	}
	want := regexp.MustCompile(`^watch fell [0-9.]+m?s behind the Engine's events between .* \(stopped, suspended or starved of CPU\), and the Engine drops events for a reader that falls behind; running containers were re-audited and 5 containers watch had not seen in their current state were audited, but other events in that time may be missing\.$`)
	if len(notices) != 1 || notices[0].Event.Action != actionStall || notices[0].Event.CaughtUp != 5 || !want.MatchString(notices[0].Message) {
		t.Errorf("want one DV5040 for the stall, with 5 caught up:\n%s", dump(notices))
	}
	for name, got := range map[string]float64{
		"stalls_total": testutil.ToFloat64(m.stalls), "caught_up_containers_total": testutil.ToFloat64(m.caught),
		`reconciles_total{cause="stall"}`: testutil.ToFloat64(m.reconciles.WithLabelValues(causeStall)),
	} {
		want := 1.0
		if name == "caught_up_containers_total" {
			want = 5
		}
		if got != want {
			t.Errorf("%s %v, want %v", name, got, want)
		}
	}
	noDuplicates(t, recs)
}

// TestReconcileNotInALoop: however often a reconcile is asked for (an
// Engine whose events overflow the queue asks with every event), watch
// lists the containers at most once per reconcileGap; on an idle Engine
// whose containers it has all seen, the listings report nothing.
func TestReconcileNotInALoop(t *testing.T) {
	f := newFakeEngine()
	for i := range 200 {
		f.put(ctr(fmt.Sprintf("f%d", i), fmt.Sprintf("idle-%d", i), containertypes.StateRunning, containertypes.HostConfig{}))
	}
	w, col := runWith(t, f, Options{ReconcileEvery: 10 * time.Millisecond})
	col.waitFor(t, "the 200 running containers", func(rs []Record) bool {
		n := 0
		for _, r := range rs {
			if r.RuleID == "DV3050" && r.Event.Action == actionRunning {
				n++
			}
		}
		return n == 200
	})
	before, audited := f.listings(), len(col.all())
	start := time.Now()
	for range 1000 {
		w.reconcileSoon(causeTimer, false)
	}
	waitUntil(t, "a listing after the requests", func() bool { return f.listings() > before })
	time.Sleep(1500 * time.Millisecond) // let the timer and the requests run; the bound below is what is tested
	lists, elapsed := f.listings()-before, time.Since(start)
	if limit := int(elapsed/reconcileGap) + 1; lists > limit {
		t.Errorf("%d listings in %s (1000 requests and a 10ms timer); at most %d (one per %s)", lists, elapsed, limit, reconcileGap)
	}
	if got := col.all(); len(got) != audited {
		t.Errorf("listings of an idle Engine reported:\n%s", dump(got[audited:]))
	}
	t.Logf("%d listings in %s", lists, elapsed.Round(time.Millisecond))
}

// TestStates: what counts as a missed container.
func TestStates(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	s := newStates()
	// The baseline at start misses nothing, whatever the state.
	if s.listed("old", containertypes.StateExited, at(0), true) || s.listed("up", containertypes.StateRunning, at(0), true) {
		t.Error("the baseline listing missed a container")
	}
	cases := []struct {
		id    string
		state containertypes.ContainerState
		at    int
		want  bool
	}{
		{"new", containertypes.StateCreated, 1, true},     // never seen
		{"new", containertypes.StateCreated, 2, false},    // seen by the last listing
		{"new", containertypes.StateRunning, 3, true},     // started, and its start was missed
		{"new", containertypes.StatePaused, 4, false},     // still running (paused)
		{"new", containertypes.StateExited, 5, false},     // stopped: nothing new to audit
		{"new", containertypes.StateRestarting, 6, true},  // running again
		{"old", containertypes.StateRunning, 7, true},     // the exited one at start, started unseen
		{"up", containertypes.StateRunning, 7, false},     // as at start
		{"gone", containertypes.StateDead, 8, true},       // never seen, even dead
		{"evented", containertypes.StateRunning, 8, true}, // see below: saw came after this listing
	}
	s.saw("evented", true, at(9))
	for _, c := range cases {
		if c.id == "evented" {
			continue
		}
		if got := s.listed(c.id, c.state, at(c.at), false); got != c.want {
			t.Errorf("%s %s at %d: missed %v, want %v", c.id, c.state, c.at, got, c.want)
		}
	}
	// What an event showed after the listing was taken stands.
	if s.listed("evented", containertypes.StateCreated, at(8), false) {
		t.Error("a listing older than the event took the container for missed")
	}
	if s.listed("evented", containertypes.StateRunning, at(10), false) {
		t.Error("a container seen running by its event was missed")
	}
	// A queued create is seen; a start event makes it seen running.
	s.saw("queued", false, at(11))
	if s.listed("queued", containertypes.StateCreated, at(12), false) {
		t.Error("a container whose create was queued was missed")
	}
	s.forget("queued")
	if !s.listed("queued", containertypes.StateCreated, at(13), false) {
		t.Error("a forgotten container was remembered")
	}
	// Prune: what a listing no longer shows is forgotten, unless seen
	// after it.
	s.saw("fresh", true, at(21))
	s.prune(map[string]bool{"new": true}, at(20))
	for id, want := range map[string]bool{"new": true, "fresh": true, "old": false, "gone": false, "evented": false} {
		s.mu.Lock()
		_, ok := s.m[id]
		s.mu.Unlock()
		if ok != want {
			t.Errorf("after prune, %s remembered: %v, want %v", id, ok, want)
		}
	}
}

// TestPace: when the reader takes itself to have fallen behind, and when
// it has caught up.
func TestPace(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ev := func(ms int) *Event {
		tm := at(ms)
		return &Event{Time: tm, nano: tm.UnixNano()}
	}
	t.Run("clock jump", func(t *testing.T) {
		p := newPace(3*time.Second, true, at(0))
		p.subscribed(at(0))
		for s := 1; s <= 3; s++ {
			if ep := p.clock(at(s * 1000)); ep != nil || p.ep != nil {
				t.Fatalf("tick %d: a stall", s)
			}
		}
		// Stopped for 50 s: the next tick is late.
		if ep := p.clock(at(53_000)); ep != nil || p.ep == nil || !p.ep.jump {
			t.Fatalf("no stall noticed after a 50s jump: %+v", p.ep)
		}
		// The backlog: events from the stop, read now, late.
		for ms := 4_000; ms < 50_000; ms += 1000 {
			if ep := p.event(ev(ms), at(53_100)); ep != nil {
				t.Fatal("caught up while reading the backlog")
			}
		}
		if ep := p.clock(at(54_000)); ep != nil {
			t.Fatal("caught up at a tick with events read since the last one")
		}
		ep := p.clock(at(55_000)) // nothing read: caught up
		if ep == nil || !ep.from.Equal(at(3_000)) || !ep.to.Equal(at(55_000)) || !ep.jump {
			t.Fatalf("episode %+v, want from the last tick before the stop to the idle tick", ep)
		}
		if p.ep != nil {
			t.Error("the episode did not end")
		}
	})
	t.Run("late events", func(t *testing.T) {
		p := newPace(3*time.Second, true, at(0))
		p.subscribed(at(0))
		if p.event(ev(100), at(150)); p.ep != nil {
			t.Fatal("a prompt event is a stall")
		}
		if p.event(ev(500), at(2_500)); p.ep != nil {
			t.Fatal("2s late, under StallAfter, is a stall")
		}
		p.event(ev(1_000), at(6_000))
		if p.ep == nil || p.ep.jump || !p.ep.from.Equal(at(1_000)) {
			t.Fatalf("5s late: episode %+v", p.ep)
		}
		if ep := p.event(ev(5_000), at(7_000)); ep != nil {
			t.Fatal("2s late (over half of StallAfter) ended the episode")
		}
		ep := p.event(ev(7_150), at(7_200))
		if ep == nil || !ep.to.Equal(at(7_200)) {
			t.Fatalf("a prompt event did not end the episode: %+v", ep)
		}
	})
	t.Run("replay", func(t *testing.T) {
		p := newPace(3*time.Second, true, at(0))
		p.subscribed(at(60_000))
		// History the Engine replays is old by design.
		if p.event(ev(1_000), at(60_010)); p.ep != nil {
			t.Fatal("a replayed event was taken for a late one")
		}
	})
	t.Run("remote clock", func(t *testing.T) {
		p := newPace(3*time.Second, false, at(0))
		p.subscribed(at(0))
		// The Engine's clock is 10 s behind this machine's.
		p.event(ev(-9_000), at(1_000))
		if p.event(ev(-8_000), at(2_100)); p.ep != nil {
			t.Fatal("a skewed clock taken for a stall")
		}
		p.event(ev(-7_000), at(7_000))
		if p.ep == nil {
			t.Fatal("5s late on a skewed clock not noticed")
		}
	})
	t.Run("stays behind", func(t *testing.T) {
		p := newPace(3*time.Second, true, at(0))
		p.subscribed(at(0))
		var ep *stall
		for s := 1; s <= 40 && ep == nil; s++ {
			p.event(ev(s*1000-5_000), at(s*1000))
			ep = p.clock(at(s*1000 + 1))
		}
		if ep == nil || ep.to.Sub(ep.began) < longestStall {
			t.Fatalf("a reader that stays behind did not reconcile after %s: %+v", longestStall, ep)
		}
	})
}
