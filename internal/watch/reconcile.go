package watch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// The Engine's event stream is not a reliable log: the Engine gives each
// subscriber a buffer of 1024 events and drops what does not fit within
// 100 ms, so a reader that stops reading (a stopped or suspended process,
// a starved CPU) silently loses events, and the stream goes on as if
// nothing happened. watch therefore reconciles: it lists the containers
// and audits every one it has not seen in its current state, whenever it
// may have missed something (it fell behind its stream, it reconnected,
// its queue overflowed) and on a slow timer, which also catches what no
// sign announced.

// Why a reconcile was asked for; the label of dockvet_watch_reconciles_total.
const (
	causeStart     = "start"     // watch started: audit what runs, remember the rest
	causeTimer     = "timer"     // the slow timer (Options.ReconcileEvery)
	causeStall     = "stall"     // watch fell behind its event stream
	causeReconnect = "reconnect" // the stream was opened again
	causeGap       = "gap"       // ... and the Engine no longer held every event since
	causeOverflow  = "overflow"  // the queue was full and events were not queued
)

var causes = []string{causeStart, causeTimer, causeStall, causeReconnect, causeGap, causeOverflow}

const (
	// reconcileGap is the least time between two listings, whatever asks
	// for them: an Engine whose events overflow the queue is not also
	// asked for its containers in a loop.
	reconcileGap = time.Second
	// stallTick is how often the reader looks at the clock while it
	// waits for events.
	stallTick = time.Second
	// longestStall bounds an episode of falling behind: a reader that
	// stays behind (events arrive faster than it reads them) reconciles
	// at least this often.
	longestStall = 30 * time.Second
)

// running tells the states in which a container runs its processes from
// those in which it does not (created, exited, dead, removing).
func running(s containertypes.ContainerState) bool {
	return s == containertypes.StateRunning || s == containertypes.StatePaused || s == containertypes.StateRestarting
}

// states is what watch has seen of each container: whether it ran, and
// when watch learned it (an event it queued, an audit, a listing). A
// reconcile audits the containers it lists that watch has not seen at all,
// or has not seen running since they started. A container that stopped
// needs no audit (its settings did not change), so a stop or an exit,
// which watch does not follow, is not taken for a missed event.
type states struct {
	mu sync.Mutex
	m  map[string]seen
}

type seen struct {
	running bool
	at      time.Time
}

func newStates() *states { return &states{m: map[string]seen{}} }

// saw records what an event or an audit showed at time at.
func (s *states) saw(id string, run bool, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[id]; ok && old.at.After(at) {
		return
	}
	s.m[id] = seen{running: run, at: at}
}

// forget drops a removed container.
func (s *states) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// listed records what a listing taken at time at says of a container, and
// reports whether watch missed it: never seen, or running now and not
// when last seen. What watch learned after the listing was taken is newer
// and stands. A baseline listing (when watch starts) misses nothing.
func (s *states) listed(id string, st containertypes.ContainerState, at time.Time, baseline bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	run := running(st)
	old, ok := s.m[id]
	if ok && old.at.After(at) {
		return false
	}
	s.m[id] = seen{running: run, at: at}
	return !baseline && (!ok || run && !old.running)
}

// prune forgets the containers a listing taken at time at did not show
// (their destroy event was missed), unless watch saw them after it.
func (s *states) prune(present map[string]bool, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, v := range s.m {
		if !present[id] && !v.at.After(at) {
			delete(s.m, id)
		}
	}
}

// pace tells, from the reader's side, when watch may have missed events:
// when an event is read long after the Engine dated it (watch fell behind
// the stream), or when the reader's clock jumped between two of its ticks
// (the process was stopped, suspended or starved of CPU). An episode of
// falling behind ends once watch has caught up, with the stream (an event
// read at once) or idle (a tick with nothing read), and then watch
// reconciles: listing before it has caught up would miss what the Engine
// is still dropping. Only the reader goroutine uses a pace.
type pace struct {
	after time.Duration // how far behind counts as a stall (Options.StallAfter)
	tick  time.Duration

	// skew is how far the Engine's clock is behind this machine's: the
	// least lag of any event read as it happened. A local Engine shares
	// this machine's clock (fixed is set); a remote one is learnt.
	skew    time.Duration
	skewSet bool
	fixed   bool

	// subAt is when the current stream was opened: the Engine sends the
	// events it dated before then (subAt - skew on its clock) from its
	// history, late by design.
	subAt    time.Time
	lastTick time.Time
	read     bool // an event was read since the last tick
	ep       *stall
}

// stall is one episode of falling behind.
type stall struct {
	from, to time.Time // watch was not reading (or was behind) from, until to
	began    time.Time // when watch noticed
	jump     bool      // noticed by the clock, not (only) by late events
}

func newPace(after time.Duration, local bool, now time.Time) *pace {
	return &pace{after: after, tick: stallTick, skewSet: local, fixed: local, lastTick: now}
}

// subscribed marks the start of a new stream at now.
func (p *pace) subscribed(now time.Time) {
	p.subAt, p.lastTick, p.read = now, now, false
}

// event looks at an event read at now; it returns the episode that ends
// because watch has caught up.
func (p *pace) event(ev *Event, now time.Time) *stall {
	p.read = true
	if ev.nano == 0 || p.skewSet && ev.Time.Before(p.subAt.Add(-p.skew)) {
		return nil
	}
	lag := now.Sub(ev.Time)
	if !p.fixed && (!p.skewSet || lag < p.skew) {
		// The first event of a remote Engine, or one sooner than any
		// before: the Engine's clock is at most that far behind.
		p.skew, p.skewSet = lag, true
	}
	late := lag - p.skew
	switch {
	case late >= p.after:
		p.behind(ev.Time, now, false)
	case p.ep != nil && late < p.after/2:
		return p.end(now)
	}
	return nil
}

// clock is the reader's tick at now; it returns the episode that ends.
func (p *pace) clock(now time.Time) *stall {
	prev := p.lastTick
	// The monotonic clock sees a stopped process; the wall clock also
	// sees a suspended machine.
	gap := max(now.Sub(prev), now.Round(0).Sub(prev.Round(0)))
	idle := !p.read
	p.lastTick, p.read = now, false
	if gap-p.tick >= p.after {
		p.behind(prev, now, true)
		return nil
	}
	if p.ep != nil && (idle || now.Sub(p.ep.began) >= longestStall) {
		return p.end(now)
	}
	return nil
}

func (p *pace) behind(from, now time.Time, jump bool) {
	if p.ep == nil {
		p.ep = &stall{from: from, began: now}
	}
	if from.Before(p.ep.from) {
		p.ep.from = from
	}
	p.ep.to = now
	p.ep.jump = p.ep.jump || jump
}

// end closes the episode in progress, if any.
func (p *pace) end(now time.Time) *stall {
	ep := p.ep
	p.ep = nil
	if ep != nil {
		ep.to = now
	}
	return ep
}

// stalled reports an episode of falling behind and asks for a reconcile.
func (w *Watcher) stalled(ep *stall) {
	if ep == nil {
		return
	}
	w.m.stall()
	how := "its events were read late"
	if ep.jump {
		how = "its clock jumped"
	}
	d := ep.to.Sub(ep.from).Round(100 * time.Millisecond)
	w.notice("watch fell %s behind the Engine's events (%s: stopped, suspended or starved of CPU); listing the containers to catch up", d, how)
	now := time.Now().UTC()
	w.mu.Lock()
	if w.stall == nil {
		w.stall = &Trouble{Event: Event{Type: typeWatch, Action: actionStall, Time: now, nano: now.UnixNano()}, From: ep.from.UTC(), To: ep.to.UTC()}
	} else {
		w.stall.To = ep.to.UTC()
	}
	w.mu.Unlock()
	w.reconcileSoon(causeStall, true)
}

// reconcileSoon queues a reconcile. reaudit also audits again every
// running container watch has seen: after a gap, an `update` may have
// been missed, and only an inspect shows it.
func (w *Watcher) reconcileSoon(cause string, reaudit bool) {
	w.ask(cause, reaudit)
	now := time.Now().UTC()
	w.q.force(&job{kind: jobReconcile, key: "reconcile", first: true, ev: Event{Type: typeWatch, Action: cause, Time: now, nano: now.UnixNano()}})
}

// ask records why the next reconcile runs.
func (w *Watcher) ask(cause string, reaudit bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.causes == nil {
		w.causes = map[string]bool{}
	}
	w.causes[cause] = true
	w.reaudit = w.reaudit || reaudit
}

// pending is what a reconcile takes over: why it runs, and the trouble it
// reports.
type pending struct {
	causes  map[string]bool
	reaudit bool
	overrun Trouble
	gap     *Trouble
	stall   *Trouble
}

func (w *Watcher) takePending() pending {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := pending{causes: w.causes, reaudit: w.reaudit, overrun: w.overrun, gap: w.gap, stall: w.stall}
	w.causes, w.reaudit, w.overrun, w.gap, w.stall = nil, false, Trouble{}, nil, nil
	return p
}

// putBack returns what a reconcile could not do to the next one.
func (w *Watcher) putBack(p pending) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.causes == nil {
		w.causes = map[string]bool{}
	}
	for c := range p.causes {
		w.causes[c] = true
	}
	w.reaudit = w.reaudit || p.reaudit
	if w.gap == nil {
		w.gap = p.gap
	}
	if w.stall == nil {
		w.stall = p.stall
	}
}

// reconcile reports what stopped watch from seeing everything, lists the
// containers, and queues an audit of each one watch has not seen in its
// current state (and, after trouble, of every running one); then it
// reports how many it caught up on.
func (w *Watcher) reconcile(ctx context.Context, j *job) error {
	w.recMu.Lock()
	defer w.recMu.Unlock()
	if wait := time.Until(w.lastList.Add(reconcileGap)); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	p := w.takePending()
	if len(p.causes) == 0 {
		return nil // an earlier reconcile took this one's causes
	}
	if p.overrun.Count > 0 {
		p.overrun.Event = Event{Type: typeWatch, Action: actionOverrun, Time: j.ev.Time}
		w.trouble(&p.overrun, "watch", fmt.Sprintf("overflow%d", j.ev.Time.UnixNano()))
	}
	at := time.Now()
	w.lastList = at
	list, err := w.c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		w.putBack(p)
		return fmt.Errorf("listing the containers: %w", err)
	}
	for c := range p.causes {
		w.m.reconciled(c)
	}
	baseline := p.causes[causeStart]
	present := make(map[string]bool, len(list.Items))
	now := time.Now().UTC()
	images := newBatchImages(w.c)
	var missed, again []*job
	for _, s := range list.Items {
		present[s.ID] = true
		name := ""
		if len(s.Names) > 0 {
			name = strings.TrimPrefix(s.Names[0], "/")
		}
		action := ""
		switch {
		case w.seen.listed(s.ID, s.State, at, baseline):
			action = actionReconcile
		case running(s.State) && (baseline || p.reaudit):
			action = actionRunning
		default:
			continue
		}
		jb := &job{kind: jobContainer, key: "c:" + s.ID, first: action == actionReconcile, images: images,
			ev: Event{Type: string(events.ContainerEventType), Action: action, Actor: s.ID, Name: name, Time: now, nano: now.UnixNano()}}
		if action == actionReconcile {
			missed = append(missed, jb)
		} else {
			again = append(again, jb)
		}
	}
	w.seen.prune(present, at)
	w.m.caughtUp(len(missed))
	w.report(p, len(missed), at)
	for _, jb := range append(missed, again...) {
		w.q.force(jb)
	}
	return nil
}

// report says what a reconcile found: the gap or stall that asked for it,
// with how many containers it caught up on, or, when nothing announced
// it, that containers were missed.
func (w *Watcher) report(p pending, caught int, at time.Time) {
	if caught > 0 {
		w.notice("caught up on %d %s watch had not seen in %s current state", caught, plural(caught, "container", "containers"), plural(caught, "its", "their"))
	}
	reported := false
	if p.gap != nil {
		p.gap.CaughtUp, p.gap.Event.CaughtUp = caught, caught
		w.trouble(p.gap, "watch", fmt.Sprintf("gap%d", p.gap.From.UnixNano()))
		reported = true
	}
	if p.stall != nil {
		p.stall.CaughtUp, p.stall.Event.CaughtUp = caught, caught
		w.trouble(p.stall, "watch", fmt.Sprintf("stall%d", p.stall.From.UnixNano()))
		reported = true
	}
	if caught > 0 && !reported {
		t := at.UTC()
		w.trouble(&Trouble{Event: Event{Type: typeWatch, Action: actionMissed, Time: t, nano: t.UnixNano(), CaughtUp: caught}, From: t, CaughtUp: caught},
			"watch", fmt.Sprintf("missed%d", t.UnixNano()))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// batchImages answers the image inspects of one reconcile's container
// audits once per image: the containers of a burst usually run a few
// images, and an image's inspect grows with its tags (thousands in a
// tagging burst), so 150 containers would otherwise ask for the same
// large answer 300 times. The answers are as old as the reconcile, which
// is what its listing showed anyway.
type batchImages struct {
	Client
	mu sync.Mutex
	m  map[string]*imageAnswer
}

type imageAnswer struct {
	once sync.Once
	res  client.ImageInspectResult
	err  error
}

func newBatchImages(c Client) *batchImages {
	return &batchImages{Client: c, m: map[string]*imageAnswer{}}
}

func (b *batchImages) ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	if len(opts) > 0 {
		return b.Client.ImageInspect(ctx, ref, opts...)
	}
	b.mu.Lock()
	a := b.m[ref]
	if a == nil {
		a = &imageAnswer{}
		b.m[ref] = a
	}
	b.mu.Unlock()
	a.once.Do(func() { a.res, a.err = b.Client.ImageInspect(ctx, ref) })
	if a.err != nil && ctx.Err() == nil && (errors.Is(a.err, context.Canceled) || errors.Is(a.err, context.DeadlineExceeded)) {
		// Another audit's deadline, not an answer: ask again.
		return b.Client.ImageInspect(ctx, ref)
	}
	return a.res, a.err
}
