// Package watch follows a Docker Engine's event stream and audits what the
// events are about as they arrive: every container created, started or
// updated (with the container rules, through internal/live), every exec,
// network connection, image pull, load and tag, plugin and daemon reload
// (with the watch rules, DV5xxx). It never reads past an event it could not
// queue without saying so, resumes after a lost connection from the last
// event it saw, catches up by listing the containers whenever it may have
// missed events (and on a slow timer), reports each finding once, and hands
// findings to sinks (standard output, a file, a webhook) without letting a
// slow sink hold up the reader.
package watch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/host"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/policy"
)

// Record is one finding as watch reports it: the finding and the event
// that led to it. In JSON it is the finding's object of the report
// contract with one more member, "event".
type Record struct {
	finding.Finding
	Event Event `json:"event"`

	// line, when set, is the whole record: one JSON object that another
	// dockvet service wrote (see LineRecord).
	line []byte
}

// LineRecord makes a record of one JSON object, written by the sinks as it
// is: `dockvet authz` logs its decisions through watch's sinks (file,
// webhook with its spool). The object must carry a "verdict" member for
// the webhook's spool to take it back after a restart.
func LineRecord(obj []byte) Record { return Record{line: obj} }

// Options configure a Watcher. The zero value works: every rule, no trust
// policy, the defaults below.
type Options struct {
	// Policy is the project's trust policy (trusted registries).
	Policy *policy.Policy
	// Enabled filters rules (container, watch and the host's daemon
	// rules); nil runs all.
	Enabled func(*finding.Rule) bool
	// Filter is applied to every finding before it is reported (ignores,
	// severity overrides and filters); nil keeps all.
	Filter func(finding.Finding) (finding.Finding, bool)
	// Snapshot reads the host (host.Collect). watch reads it when it
	// starts and after every daemon reload, and compares; it also gives
	// the daemon-wide container defaults. Nil: reloads are not compared.
	Snapshot func(context.Context) (*host.Snapshot, error)
	// Workers audit concurrently (default 16). They mostly wait for the
	// Engine, which holds an inspect of a container being created until
	// its start is done (seconds, when many start at once): enough of
	// them keep one slow start from delaying the next event's audit.
	Workers int
	// QueueSize bounds the audits waiting for a worker (default 4096).
	QueueSize int
	// DrainTimeout bounds the audits after the stop (default 10s).
	DrainTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts (defaults 250ms and 30s).
	MinBackoff, MaxBackoff time.Duration
	// History is how many events the Engine keeps for a resumed stream
	// (256 in every Docker Engine release, 20.10 included).
	History int
	// StallAfter is how far behind the Engine's events watch may fall
	// (an event read that long after the Engine dated it, or a jump of
	// the clock between two of the reader's ticks) before it takes
	// itself to have been stalled and catches up (default 3s).
	StallAfter time.Duration
	// ReconcileEvery is the period of the slow timer that lists the
	// containers and audits those watch has not seen in their current
	// state, whether or not anything announced a gap (default 1m).
	ReconcileEvery time.Duration
	// Metrics count what happens; nil counts nothing.
	Metrics *Metrics
	// Notice receives one-line messages for a person (reconnections);
	// nil discards them.
	Notice func(format string, args ...any)
	// Verify, when set, checks the signatures the trust policy requires of
	// a container's image (sign.Checker.Container: DV6501 when none
	// verifies). It runs after the container rules; an error is reported as
	// a container that could not be audited, never as a pass.
	Verify func(ctx context.Context, c *live.Container, target finding.Target) ([]finding.Finding, error)
}

const (
	engineTimeout   = 30 * time.Second
	livenessEvery   = 15 * time.Second
	forgetAfter     = 2 * time.Minute
	auditedKey      = "\x00audited"
	outBuffer       = 1024
	eventMemorySize = 4096
	clockMargin     = time.Second
)

// Watcher audits an Engine's events. Run it once.
type Watcher struct {
	c    Client
	o    Options
	q    *queue
	mem  *memory
	exec *execInspector
	m    *Metrics
	out  chan Record
	// outSize is the room for records between the workers and the sink.
	outSize int

	workers  sync.WaitGroup
	sinkDone chan struct{}
	jobs     context.Context
	stopJobs context.CancelFunc
	started  time.Time
	// ready is closed once the first subscription was asked for: from
	// then on every event is seen (the stream starts at started).
	ready chan struct{}

	// seen is what watch has seen of each container (reconcile.go).
	seen *states

	mu      sync.Mutex
	snap    *host.Snapshot
	daemon  live.Daemon
	overrun Trouble  // events not queued since the last reconcile
	gap     *Trouble // the Engine's history did not reach back over a reconnection
	stall   *Trouble // watch fell behind its stream
	causes  map[string]bool
	reaudit bool

	// recMu makes reconciles one at a time; lastList is when the last
	// listing was asked for.
	recMu    sync.Mutex
	lastList time.Time
	reloadMu sync.Mutex
}

// New makes a Watcher of the Engine c.
func New(c Client, o Options) *Watcher {
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 10 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(30*time.Second, o.MinBackoff)
	}
	if o.History <= 0 {
		o.History = 256
	}
	if o.StallAfter <= 0 {
		o.StallAfter = 3 * time.Second
	}
	if o.ReconcileEvery <= 0 {
		o.ReconcileEvery = time.Minute
	}
	w := &Watcher{c: c, o: o, m: o.Metrics, mem: newMemory(eventMemorySize), exec: newExecInspector(c), ready: make(chan struct{}),
		outSize: outBuffer, seen: newStates()}
	w.q = newQueue(o.QueueSize, w.m.depth)
	w.m.limit(o.QueueSize)
	return w
}

func (w *Watcher) notice(format string, args ...any) {
	if w.o.Notice != nil {
		w.o.Notice(format, args...)
	}
}

// begin starts the workers and the goroutine that hands records to sink.
func (w *Watcher) begin(ctx context.Context, sink func(Record)) {
	w.started = time.Now()
	w.out = make(chan Record, w.outSize)
	w.sinkDone = make(chan struct{})
	go func() {
		defer close(w.sinkDone)
		for r := range w.out {
			sink(r)
			w.m.delivered(r.Event)
		}
	}()
	// Audits outlive the caller's context by the drain time: a stop
	// finishes what is queued.
	w.jobs, w.stopJobs = context.WithCancel(context.WithoutCancel(ctx))
	for range w.o.Workers {
		w.workers.Add(1)
		go func() {
			defer w.workers.Done()
			for {
				j, ok := w.q.take(w.jobs)
				if !ok {
					return
				}
				w.run(j)
			}
		}()
	}
	w.readSnapshot(ctx)
}

// finish stops taking events, audits what is queued (for at most the
// drain time) and waits until every record is with the sink.
func (w *Watcher) finish() {
	w.q.close()
	done := make(chan struct{})
	go func() { w.workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.o.DrainTimeout):
		w.stopJobs()
		n := w.q.abandon()
		<-done
		if n > 0 {
			now := time.Now().UTC()
			w.trouble(&Trouble{Event: Event{Type: typeWatch, Action: actionStop, Time: now, nano: now.UnixNano()}, Count: n}, "watch", "stop")
		}
	}
	w.stopJobs()
	w.exec.close()
	close(w.out)
	<-w.sinkDone
}

// Run audits every running container, then follows the Engine's events
// until ctx is done; then it audits what is queued and returns once every
// record has been handed to sink. sink is called from one goroutine.
func (w *Watcher) Run(ctx context.Context, sink func(Record)) error {
	w.begin(ctx, sink)
	w.reconcileSoon(causeStart, false)
	janitorDone := make(chan struct{})
	go func() {
		defer close(janitorDone)
		forget := time.NewTicker(forgetAfter / 2)
		defer forget.Stop()
		rec := time.NewTicker(w.o.ReconcileEvery)
		defer rec.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-forget.C:
				w.mem.expire(now.Add(-forgetAfter))
			case <-rec.C:
				w.reconcileSoon(causeTimer, false)
			}
		}
	}()
	w.follow(ctx)
	<-janitorDone
	w.finish()
	return nil
}

// Once audits every running container and returns when every record has
// been handed to sink.
func (w *Watcher) Once(ctx context.Context, sink func(Record)) error {
	w.begin(ctx, sink)
	w.ask(causeStart, false)
	err := w.reconcile(ctx, &job{kind: jobReconcile, ev: Event{Type: typeWatch, Action: "once"}})
	w.finish()
	return err
}

func (w *Watcher) readSnapshot(ctx context.Context) {
	if w.o.Snapshot == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, engineTimeout)
	defer cancel()
	s, err := w.o.Snapshot(sctx)
	if err != nil {
		w.notice("reading the host configuration: %v (daemon reloads are compared from the first one on)", err)
		return
	}
	w.mu.Lock()
	w.snap, w.daemon = s, daemonDefaults(s)
	w.mu.Unlock()
}

func daemonDefaults(s *host.Snapshot) live.Daemon {
	nnp := s.Daemon.Config.NoNewPrivileges
	return live.Daemon{NoNewPrivileges: nnp != nil && *nnp}
}

// resume is what the reader knows about a stream it opened again.
type resume struct {
	lastNano   int64
	subscribed int64
	replayed   int
	// decided: the first events told whether the Engine still held
	// every event since lastNano; over: the replay is read; asked: a
	// reconcile was asked for because of what the replay showed.
	decided, over, asked bool
}

// settleTime is how long a resumed stream may stay silent before watch
// takes its replay to be over.
const settleTime = time.Second

// follow reads the event stream until ctx is done, opening it again with
// backoff whenever it breaks, from the last event read.
func (w *Watcher) follow(ctx context.Context) {
	// The first stream starts a little before watch did: events are
	// dated by the Engine's clock, which may be a little behind this
	// machine's when the Engine is another machine's. What is replayed
	// from before the start is audited like the rest, and only once.
	last, backoff := w.started.Add(-clockMargin).UnixNano(), w.o.MinBackoff
	var res *resume
	h := w.c.DaemonHost()
	p := newPace(w.o.StallAfter, strings.HasPrefix(h, "unix://") || strings.HasPrefix(h, "npipe://"), time.Now())
	for ctx.Err() == nil {
		if res != nil {
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := w.c.Ping(pctx, client.PingOptions{})
			cancel()
			if err != nil {
				backoff = w.wait(ctx, backoff, fmt.Errorf("the Engine does not answer: %w", err))
				continue
			}
			res.subscribed = time.Now().UnixNano()
			w.notice("reconnected to the Engine at %s; resuming from %s", w.c.DaemonHost(), time.Unix(0, res.lastNano).UTC().Format(timeLayout))
		}
		sctx, cancel := context.WithCancel(ctx)
		p.subscribed(time.Now())
		stream := w.c.Events(sctx, client.EventsListOptions{Since: since(last)})
		if res == nil {
			close(w.ready)
		}
		w.m.setConnected(true)
		go w.liveness(sctx, cancel)
		opened := time.Now()
		n, err := w.consume(sctx, stream, res, p, &last)
		cancel()
		w.stalled(p.end(time.Now()))
		w.m.setConnected(false)
		if ctx.Err() != nil {
			return
		}
		if n > 0 || time.Since(opened) > 10*time.Second {
			backoff = w.o.MinBackoff
		}
		res = &resume{lastNano: last}
		backoff = w.wait(ctx, backoff, err)
	}
}

// wait sleeps before the next attempt and returns the next backoff.
func (w *Watcher) wait(ctx context.Context, backoff time.Duration, cause error) time.Duration {
	w.m.reconnect()
	// ±20% jitter, so that many watchers of one Engine do not return at
	// the same instant.
	d := time.Duration(float64(backoff) * (0.8 + 0.4*rand.Float64()))
	msg := "the event stream ended"
	if cause != nil && !errors.Is(cause, context.Canceled) {
		msg = strings.Join(strings.Fields(cause.Error()), " ")
	}
	w.notice("%s; reconnecting in %s", msg, d.Round(time.Millisecond))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return min(backoff*2, w.o.MaxBackoff)
}

// liveness pings the Engine while a stream is open: a stream through a
// proxy or a hung Engine can stay open and silent forever.
func (w *Watcher) liveness(ctx context.Context, cancel context.CancelFunc) {
	t := time.NewTicker(livenessEvery)
	defer t.Stop()
	failed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := w.c.Ping(pctx, client.PingOptions{})
		pcancel()
		if err == nil {
			failed = 0
			continue
		}
		if failed++; failed >= 2 && ctx.Err() == nil {
			cancel()
			return
		}
	}
}

// since is the Engine's "seconds.nanoseconds" timestamp.
func since(nano int64) string {
	return strconv.FormatInt(nano/1e9, 10) + "." + fmt.Sprintf("%09d", nano%1e9)
}

// consume reads one stream until it ends. It never waits for anything
// but the stream: jobs are offered to the queue, and what does not fit is
// counted and re-audited later. It also keeps pace: when it finds that it
// fell behind the stream, it reconciles once it has caught up.
func (w *Watcher) consume(ctx context.Context, stream client.EventsResult, res *resume, p *pace, last *int64) (int, error) {
	n := 0
	tick := time.NewTicker(p.tick)
	defer tick.Stop()
	var settle *time.Timer
	var settled <-chan time.Time
	if res != nil {
		settle = time.NewTimer(settleTime)
		defer settle.Stop()
		settled = settle.C
	}
	for {
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case err := <-stream.Err:
			return n, err
		case m := <-stream.Messages:
			n++
			ev := w.handle(m, res, last)
			w.stalled(p.event(&ev, time.Now()))
			if res != nil && !res.over {
				if ev.nano > res.subscribed {
					w.replayed(res)
				} else {
					settle.Reset(settleTime)
				}
			}
		case <-tick.C:
			// The time the reader gets to the tick, not the tick's own:
			// what matters is how long the reader itself was held up.
			w.stalled(p.clock(time.Now()))
		case <-settled:
			// The replay is over. When nothing was replayed, nothing
			// happened in the gap that the Engine still holds; what
			// runs is audited again all the same (an Engine that
			// restarted has no history of before).
			if !res.decided {
				res.decided, res.asked = true, true
				w.reconcileSoon(causeReconnect, true)
			}
			w.replayed(res)
		}
	}
}

// replayed is called once the replay of a resumed stream is read: watch
// reconciles, so that what the replay did not hold is caught up on. After
// the replay, what it held is queued and counts as seen.
func (w *Watcher) replayed(res *resume) {
	if res.over {
		return
	}
	res.over = true
	if !res.asked {
		res.asked = true
		w.reconcileSoon(causeReconnect, false)
	}
}

func (w *Watcher) handle(m events.Message, res *resume, last *int64) Event {
	ev, ok := Decode(m)
	w.m.event(&ev)
	if res != nil && !res.decided {
		w.judge(res, &ev)
	}
	if ev.nano > *last {
		*last = ev.nano
	}
	if !w.mem.newEvent(ev.key()) || !ok {
		return ev
	}
	w.dispatch(&ev)
	return ev
}

// judge decides, from the first events of a resumed stream, whether the
// Engine still held every event since the last one read. The stream
// resumes at that event's time, inclusive: when the Engine still holds it,
// it comes first. When it does not, either the Engine's history (History
// events) moved past it — then as many events are replayed, and some in
// the gap are lost — or the Engine restarted, and its history begins
// after the gap.
func (w *Watcher) judge(res *resume, ev *Event) {
	switch {
	case ev.nano <= res.lastNano:
		// Everything since is replayed: nothing was missed.
		res.decided = true
	case ev.nano <= res.subscribed:
		if res.replayed++; res.replayed >= w.o.History {
			res.decided = true
			w.m.gap()
			w.mu.Lock()
			w.gap = &Trouble{Event: Event{Type: typeWatch, Action: actionGap, Time: time.Now().UTC()},
				From: time.Unix(0, res.lastNano).UTC(), To: ev.Time}
			w.mu.Unlock()
			w.notice("the Engine no longer holds the events from %s on; some may have been missed", time.Unix(0, res.lastNano).UTC().Format(timeLayout))
			res.asked = true
			w.reconcileSoon(causeGap, true)
		}
	default:
		res.decided = true
		w.notice("the Engine's event history begins after the last event read (the Engine restarted); running containers are audited again")
		res.asked = true
		w.reconcileSoon(causeReconnect, true)
	}
}

// dispatch turns an event into a job.
func (w *Watcher) dispatch(ev *Event) {
	var j *job
	switch ev.Type {
	case string(events.ContainerEventType):
		switch ev.Action {
		case "destroy":
			w.mem.retire(ev.Actor, time.Now())
			w.seen.forget(ev.Actor)
			return
		case "exec_create", "exec_start":
			k := ev.Exec
			if k == "" {
				k = ev.key()
			}
			j = &job{kind: jobExec, key: "x:" + k}
		default:
			j = &job{kind: jobContainer, key: "c:" + ev.Actor}
		}
	case string(events.NetworkEventType):
		j = &job{kind: jobConnect, key: "n:" + ev.key()}
	case string(events.ImageEventType):
		if ev.Action == "delete" {
			w.mem.retire("img:"+ev.Actor, time.Now())
			return
		}
		j = &job{kind: jobImage, key: "i:" + ev.key()}
	case string(events.PluginEventType):
		if ev.Action == "remove" {
			w.mem.retire("plugin:"+ev.Actor, time.Now())
			return
		}
		j = &job{kind: jobPlugin, key: "p:" + ev.Actor}
	case string(events.DaemonEventType):
		j = &job{kind: jobReload, key: "d:reload"}
	default:
		return
	}
	j.ev = *ev
	if w.q.offer(j) {
		// A queued create or start counts as seen: a reconcile before its
		// audit does not take it for a missed one.
		if j.kind == jobContainer && (ev.Action == "create" || ev.Action == "start") {
			w.seen.saw(ev.Actor, ev.Action == "start", time.Now())
		}
		return
	}
	w.m.overflow()
	w.mu.Lock()
	if w.overrun.Count == 0 {
		w.overrun.From = ev.Time
	}
	w.overrun.Count++
	w.overrun.To = ev.Time
	w.mu.Unlock()
	w.reconcileSoon(causeOverflow, true)
}

func (w *Watcher) run(j *job) {
	ctx, cancel := context.WithTimeout(w.jobs, engineTimeout)
	defer cancel()
	switch j.kind {
	case jobContainer:
		w.auditContainer(ctx, j)
	case jobExec:
		w.auditExec(ctx, j)
	case jobConnect:
		w.auditConnect(ctx, j)
	case jobImage:
		w.auditImage(ctx, j)
	case jobPlugin:
		w.auditPlugin(ctx, j)
	case jobReload:
		w.auditReload(ctx, j)
	case jobReconcile:
		if err := w.reconcile(ctx, j); err != nil {
			w.notice("%v", err)
		}
	}
}

func watchTarget(name string) finding.Target {
	return finding.Target{Kind: finding.SurfaceWatch, Name: name}
}

func (w *Watcher) daemonDefaults() live.Daemon {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.daemon
}

func (w *Watcher) auditContainer(ctx context.Context, j *job) {
	ev := &j.ev
	scope := ev.Actor
	asked := time.Now()
	var cl live.Client = w.c
	if j.images != nil {
		cl = j.images
	}
	c, err := live.Fetch(ctx, cl, ev.Actor)
	if err != nil {
		if live.IsNotFound(err) && (ev.Action == actionRunning || ev.Action == actionReconcile || w.mem.has(scope, auditedKey)) {
			return // it stopped and went away after it was listed or audited
		}
		reason := err.Error()
		if live.IsNotFound(err) {
			reason = "it was removed before watch could inspect it"
		}
		name := ev.Name
		if name == "" {
			name = shortID(ev.Actor)
		}
		w.trouble(&Trouble{Event: *ev, Subject: "container " + name + " (" + shortID(ev.Actor) + ")", Reason: reason}, scope, "trouble")
		return
	}
	w.mem.first(scope, auditedKey)
	if st := c.Inspect.State; st != nil {
		w.seen.saw(c.Inspect.ID, running(st.Status), asked)
	}
	opts := live.Options{Target: watchTarget(c.Name()), Policy: w.o.Policy, Enabled: w.o.Enabled, Daemon: w.daemonDefaults()}
	for _, f := range live.Audit(c, opts) {
		w.emit(f, *ev, scope, f.RuleID+"\x00"+f.Message)
	}
	if w.o.Verify == nil {
		return
	}
	fs, err := w.o.Verify(ctx, c, opts.Target)
	if err != nil {
		w.trouble(&Trouble{Event: *ev, Subject: "the signatures of container " + c.Name() + "'s image", Reason: err.Error()}, scope, "verify")
		return
	}
	for _, f := range fs {
		w.emit(f, *ev, scope, f.RuleID+"\x00"+f.Message)
	}
}

func (w *Watcher) auditExec(ctx context.Context, j *job) {
	ev := &j.ev
	scope, key := ev.Actor, "exec:"+ev.Exec
	if ev.Exec != "" && w.mem.has(scope, key) {
		return // judged at exec_create
	}
	x := &Exec{Event: *ev}
	if res, err := w.c.ContainerInspect(ctx, ev.Actor, client.ContainerInspectOptions{}); err == nil {
		x.Container = &live.Container{Inspect: res.Container}
	}
	name := ev.Name
	if x.Container != nil {
		name = x.Container.Name()
	}
	var err error
	if ev.Exec == "" {
		err = errors.New("the Engine did not name the exec")
	} else {
		x.Inspect, err = w.exec.inspect(ctx, ev.Exec)
	}
	if err != nil {
		w.trouble(&Trouble{Event: *ev, Subject: "an exec of " + x.what() + " into container " + name, Reason: err.Error()}, scope, key)
		return
	}
	w.mem.first(scope, key)
	if x.Inspect.ContainerID == "" {
		x.Inspect.ContainerID = ev.Actor
	}
	a := about{policy: w.o.Policy, target: watchTarget(name), loc: finding.Location{Container: name}}
	for _, f := range check(execRules, x, a, w.o.Enabled) {
		w.emit(f, *ev, scope, key+"\x00"+f.RuleID)
	}
}

func (w *Watcher) auditConnect(ctx context.Context, j *job) {
	ev := &j.ev
	res, err := w.c.ContainerInspect(ctx, ev.Container, client.ContainerInspectOptions{})
	if err != nil {
		return // gone: the connection was part of a start, or it is removed already
	}
	m := &Connect{Event: *ev, Container: &live.Container{Inspect: res.Container}}
	name := m.Container.Name()
	a := about{policy: w.o.Policy, target: watchTarget(name), loc: finding.Location{Container: name}}
	for _, f := range check(connectRules, m, a, w.o.Enabled) {
		w.emit(f, *ev, ev.Container, "net:"+ev.key()+"\x00"+f.RuleID)
	}
}

func (w *Watcher) auditImage(ctx context.Context, j *job) {
	ev := &j.ev
	var img *image.InspectResponse
	if res, err := w.c.ImageInspect(ctx, ev.Actor); err == nil {
		img = &res.InspectResponse
	}
	m := newImageEvent(*ev, img)
	name := m.name()
	scope := "img:" + ev.Actor
	if m.Image != nil && m.Image.ID != "" {
		scope = "img:" + m.Image.ID
	}
	a := about{policy: w.o.Policy, target: watchTarget(name)}
	for _, f := range check(imageRules, m, a, w.o.Enabled) {
		w.emit(f, *ev, scope, ev.Action+"\x00"+name+"\x00"+f.RuleID)
	}
}

func (w *Watcher) auditPlugin(ctx context.Context, j *job) {
	ev := &j.ev
	scope := "plugin:" + ev.Actor
	res, err := w.c.PluginInspect(ctx, ev.Actor, client.PluginInspectOptions{})
	if err != nil {
		name := ev.Name
		if name == "" {
			name = shortID(ev.Actor)
		}
		w.trouble(&Trouble{Event: *ev, Subject: "plugin " + name, Reason: err.Error()}, scope, "trouble")
		return
	}
	m := &Plugin{Event: *ev, Plugin: res.Plugin}
	a := about{policy: w.o.Policy, target: watchTarget(m.name())}
	for _, f := range check(pluginRules, m, a, w.o.Enabled) {
		w.emit(f, *ev, scope, f.RuleID)
	}
}

func (w *Watcher) auditReload(ctx context.Context, j *job) {
	if w.o.Snapshot == nil {
		return
	}
	w.reloadMu.Lock()
	defer w.reloadMu.Unlock()
	ev := &j.ev
	after, err := w.o.Snapshot(ctx)
	if err != nil {
		w.trouble(&Trouble{Event: *ev, Subject: "the daemon configuration", Reason: err.Error()}, "daemon", "trouble"+ev.key())
		return
	}
	w.mu.Lock()
	before := w.snap
	w.snap, w.daemon = after, daemonDefaults(after)
	w.mu.Unlock()
	m := &Reload{Event: *ev, Before: before, After: after, Enabled: w.o.Enabled}
	a := about{policy: w.o.Policy, target: watchTarget(after.Target().Name)}
	for _, f := range check(reloadRules, m, a, w.o.Enabled) {
		w.emit(f, *ev, "daemon", ev.key()+"\x00"+f.Message)
	}
}

// trouble reports what kept watch from auditing something.
func (w *Watcher) trouble(t *Trouble, scope, key string) {
	if t.Event.Type != typeWatch {
		w.m.notAudited()
	}
	name := "watch"
	if t.Event.Type != typeWatch {
		name = t.Subject
		if t.Event.Name != "" {
			name = t.Event.Name
		}
	}
	a := about{policy: w.o.Policy, target: watchTarget(name)}
	for _, f := range check(troubleRules, t, a, w.o.Enabled) {
		w.emit(f, t.Event, scope, key+"\x00"+f.RuleID)
	}
}

// emit reports a finding unless it was reported before.
func (w *Watcher) emit(f finding.Finding, ev Event, scope, key string) {
	if !w.mem.first(scope, key) {
		return
	}
	if w.o.Filter != nil {
		var ok bool
		if f, ok = w.o.Filter(f); !ok {
			return
		}
	}
	w.m.finding(&f)
	w.out <- Record{Finding: f, Event: ev}
}
