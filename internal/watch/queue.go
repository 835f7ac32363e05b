package watch

import (
	"context"
	"sync"
	"time"
)

type jobKind int

const (
	jobContainer jobKind = iota + 1
	jobExec
	jobConnect
	jobImage
	jobPlugin
	jobReload
	jobReconcile
)

// job is one thing to audit. Events about the same thing that arrive
// while its job is still queued join that job: the audit asks the Engine
// when it runs, so it sees the state after all of them.
type job struct {
	kind jobKind
	key  string
	// ev is the first event of the job, the one its findings name.
	ev Event
	// merged counts the later events that joined it.
	merged int
	queued time.Time
	// first puts the job ahead of the events' (exec jobs always go
	// first): a reconcile, and the containers it found missed.
	first bool
	// images, for the audits of one reconcile, answers their image
	// inspects once per image.
	images *batchImages
}

// queue is the bounded, coalescing queue between the event reader and the
// workers. The reader only offers (never waits); the jobs watch makes
// itself (re-audits) are forced in beyond the bound, which the number of
// containers bounds. Exec jobs go first: the Engine forgets an exec that
// failed to start within milliseconds. So do reconciles and the
// containers they found missed: after a stall, they would otherwise wait
// behind every event the Engine kept.
type queue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	urgent  []*job
	normal  []*job
	pending map[string]*job
	limit   int
	closed  bool
	// depth reports the queue's length after every change (metrics).
	depth func(int)
}

func newQueue(limit int, depth func(int)) *queue {
	q := &queue{pending: map[string]*job{}, limit: limit, depth: depth}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *queue) lenLocked() int { return len(q.urgent) + len(q.normal) }

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.lenLocked()
}

// offer queues j without waiting. It reports false when the queue is full
// or closed; an event that joins a queued job is always accepted.
func (q *queue) offer(j *job) bool { return q.add(j, false) }

// force queues j whatever the bound (not when closed).
func (q *queue) force(j *job) bool { return q.add(j, true) }

func (q *queue) add(j *job, force bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if p, ok := q.pending[j.key]; ok {
		p.merged++
		return true
	}
	if !force && q.lenLocked() >= q.limit {
		return false
	}
	j.queued = time.Now()
	q.pending[j.key] = j
	if j.kind == jobExec || j.first {
		q.urgent = append(q.urgent, j)
	} else {
		q.normal = append(q.normal, j)
	}
	q.changed()
	q.cond.Signal()
	return true
}

// take waits for a job. It returns false once the queue is closed and
// empty, or when ctx is done.
func (q *queue) take(ctx context.Context) (*job, bool) {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.lenLocked() == 0 && !q.closed && ctx.Err() == nil {
		q.cond.Wait()
	}
	if ctx.Err() != nil || q.lenLocked() == 0 {
		return nil, false
	}
	var j *job
	if len(q.urgent) > 0 {
		j, q.urgent[0] = q.urgent[0], nil
		q.urgent = q.urgent[1:]
	} else {
		j, q.normal[0] = q.normal[0], nil
		q.normal = q.normal[1:]
	}
	delete(q.pending, j.key)
	q.changed()
	return j, true
}

// close stops new jobs; workers still take what is queued.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// abandon empties the queue and returns how many events its jobs held.
func (q *queue) abandon() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, j := range append(q.urgent, q.normal...) {
		if j.kind != jobReconcile {
			n += 1 + j.merged
		}
	}
	q.urgent, q.normal, q.pending = nil, nil, map[string]*job{}
	q.changed()
	q.cond.Broadcast()
	return n
}

func (q *queue) changed() {
	if q.depth != nil {
		q.depth(q.lenLocked())
	}
}
