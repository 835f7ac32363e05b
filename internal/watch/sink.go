package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
)

// Sink receives records. Write and Flush are called from one goroutine;
// Flush is called whenever no record is waiting, so a sink that batches
// (an fsync) makes each record durable as soon as the burst it came in
// has been written.
type Sink interface {
	Name() string
	Write(r *Record) error
	Flush() error
	// Close flushes, waits at most until ctx is done for work in flight
	// (webhook deliveries), and releases the sink.
	Close(ctx context.Context) error
}

// Encoding is how a record is written as one line.
type Encoding int

// Line encodings.
const (
	EncodeTable Encoding = iota + 1
	EncodeJSON
)

// MarshalLine writes a record as one line (with its newline).
func MarshalLine(r *Record, enc Encoding, color bool) ([]byte, error) {
	if enc == EncodeJSON || r.line != nil {
		return marshalJSON(r)
	}
	var b bytes.Buffer
	sev := fmt.Sprintf("%-8s", strings.ToUpper(r.Severity.String()))
	if color {
		sev = severityColor[r.Severity] + sev + "\x1b[0m"
	}
	t := r.Event.Time
	if t.IsZero() {
		t = time.Now()
	}
	fmt.Fprintf(&b, "%s %s %s %s [%s] %s\n", t.UTC().Format(timeLayout), sev, r.RuleID, oneLine(r.Target), r.Event.label(), oneLine(r.Message))
	return b.Bytes(), nil
}

func marshalJSON(r *Record) ([]byte, error) {
	if r.line != nil {
		// A copy: every sink gets the same record, concurrently.
		obj := bytes.TrimSpace(r.line)
		return append(append(make([]byte, 0, len(obj)+1), obj...), '\n'), nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var severityColor = map[finding.Severity]string{
	finding.Critical: "\x1b[1;35m",
	finding.High:     "\x1b[1;31m",
	finding.Medium:   "\x1b[33m",
	finding.Low:      "\x1b[36m",
	finding.Info:     "\x1b[2m",
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// lineSink writes each record as a line to a writer: standard output
// (written at once, one write per line) or a file opened for appending,
// which Flush fsyncs.
type lineSink struct {
	name  string
	w     io.Writer
	file  *os.File
	enc   Encoding
	color bool
	dirty bool
}

// NewWriterSink writes lines to w (standard output), one write per line.
func NewWriterSink(name string, w io.Writer, enc Encoding, color bool) Sink {
	return &lineSink{name: name, w: w, enc: enc, color: color}
}

// OpenFileSink appends lines to path, creating it (mode 0600) when
// needed; every burst of lines is fsync'd before the next is taken.
func OpenFileSink(path string, enc Encoding) (Sink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &lineSink{name: path, w: f, file: f, enc: enc}, nil
}

func (s *lineSink) Name() string { return s.name }

func (s *lineSink) Write(r *Record) error {
	line, err := MarshalLine(r, s.enc, s.color)
	if err != nil {
		return err
	}
	n, err := s.w.Write(line)
	s.dirty = s.dirty || n > 0
	return err
}

func (s *lineSink) Flush() error {
	if s.file == nil || !s.dirty {
		return nil
	}
	s.dirty = false
	return s.file.Sync()
}

func (s *lineSink) Close(context.Context) error {
	err := s.Flush()
	if s.file != nil {
		if cerr := s.file.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// errSpoolFull is what the webhook returns when its spool is full.
type errSpoolFull struct{ limit int }

func (e *errSpoolFull) Error() string {
	return fmt.Sprintf("its spool is full (%d findings waiting)", e.limit)
}

// Dispatcher hands every record to every sink, each in its own goroutine
// with its own bounded queue, so one slow sink (a webhook's spool on a
// busy disk) does not hold up the others. A sink whose queue is full makes
// Write wait: that holds up the audits, never the event reader. A sink
// that fails (a full spool, a full disk) is reported to the others once
// (DV5043) and its failures are counted.
type Dispatcher struct {
	m       *Metrics
	notice  func(string, ...any)
	filter  func(finding.Finding) (finding.Finding, bool)
	outlets []*outlet

	// rw keeps the queues open while a record is being handed over;
	// Close takes it to close them.
	rw     sync.RWMutex
	closed bool

	mu      sync.Mutex
	worst   finding.Severity
	count   int
	failing map[*outlet]int // sinks refusing records, and how many so far
}

type outlet struct {
	sink   Sink
	ch     chan *Record
	done   chan struct{}
	closed bool // guarded by the Dispatcher's rw
}

// DispatcherOptions configure a Dispatcher.
type DispatcherOptions struct {
	Metrics *Metrics
	// Notice receives sink errors as one line each.
	Notice func(format string, args ...any)
	// Filter is applied to the findings the dispatcher makes itself
	// (a full spool), as Options.Filter is to the others.
	Filter func(finding.Finding) (finding.Finding, bool)
	// Buffer is each sink's queue length (default 4096).
	Buffer int
}

// NewDispatcher starts one goroutine per sink.
func NewDispatcher(o DispatcherOptions, sinks ...Sink) *Dispatcher {
	if o.Buffer <= 0 {
		o.Buffer = 4096
	}
	if o.Notice == nil {
		o.Notice = func(string, ...any) {}
	}
	d := &Dispatcher{m: o.Metrics, notice: o.Notice, filter: o.Filter, failing: map[*outlet]int{}}
	for _, s := range sinks {
		out := &outlet{sink: s, ch: make(chan *Record, o.Buffer), done: make(chan struct{})}
		d.outlets = append(d.outlets, out)
		go d.serve(out)
	}
	return d
}

func (d *Dispatcher) serve(out *outlet) {
	defer close(out.done)
	for r := range out.ch {
		d.write(out, r)
		// Take whatever else is waiting before flushing once.
	more:
		for {
			select {
			case r, ok := <-out.ch:
				if !ok {
					break more
				}
				d.write(out, r)
			default:
				break more
			}
		}
		if err := out.sink.Flush(); err != nil {
			d.outcome(out, err)
		}
	}
}

func (d *Dispatcher) write(out *outlet, r *Record) { d.outcome(out, out.sink.Write(r)) }

// outcome counts a sink's failure, or (a record written) its recovery.
func (d *Dispatcher) outcome(out *outlet, err error) {
	d.mu.Lock()
	failed := d.failing[out]
	if err == nil {
		delete(d.failing, out)
	} else {
		d.failing[out] = failed + 1
	}
	d.mu.Unlock()
	switch {
	case err == nil && failed > 0:
		d.notice("%s: taking findings again (%d were not written to it)", out.sink.Name(), failed)
	case err != nil:
		d.m.sinkError(out.sink.Name())
		if failed == 0 {
			d.failed(out, err)
		}
	}
}

// failed reports, to the other sinks, that one stopped taking records:
// once per episode, however many records it then refuses.
func (d *Dispatcher) failed(from *outlet, err error) {
	now := time.Now().UTC()
	reason := oneLine(err.Error())
	t := &Trouble{Event: Event{Type: typeWatch, Action: actionSink, Time: now, Name: from.sink.Name()}, From: now, Reason: reason}
	a := about{target: watchTarget(from.sink.Name())}
	d.notice("%s: %s; findings are missing from it until it takes them again", from.sink.Name(), reason)
	for _, f := range check(troubleRules, t, a, nil) {
		if d.filter != nil {
			var ok bool
			if f, ok = d.filter(f); !ok {
				continue
			}
		}
		d.send(&Record{Finding: f, Event: t.Event}, from)
	}
}

// send hands r to every open sink but skip.
func (d *Dispatcher) send(r *Record, skip *outlet) {
	d.rw.RLock()
	defer d.rw.RUnlock()
	if d.closed && skip == nil {
		return
	}
	d.count1(r)
	for _, o := range d.outlets {
		if o != skip && !o.closed {
			o.ch <- r
		}
	}
}

func (d *Dispatcher) count1(r *Record) {
	d.mu.Lock()
	d.count++
	d.worst = max(d.worst, r.Severity)
	d.mu.Unlock()
}

// Write hands r to every sink.
func (d *Dispatcher) Write(r Record) { d.send(&r, nil) }

// Worst is the highest severity dispatched, 0 when none; Count is how
// many records were.
func (d *Dispatcher) Worst() (finding.Severity, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.worst, d.count
}

// Close waits until every sink has written what it was given, then closes
// the sinks; ctx bounds the webhook's last deliveries.
//
// Sinks are closed last first: a sink that reports trouble (a full spool)
// does so to the sinks before it, which are still open while it drains.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.rw.Lock()
	if d.closed {
		d.rw.Unlock()
		return nil
	}
	d.closed = true
	d.rw.Unlock()
	var first error
	for i := len(d.outlets) - 1; i >= 0; i-- {
		o := d.outlets[i]
		d.rw.Lock()
		o.closed = true
		close(o.ch)
		d.rw.Unlock()
		<-o.done
		if err := o.sink.Close(ctx); err != nil && first == nil {
			first = fmt.Errorf("%s: %w", o.sink.Name(), err)
		}
	}
	return first
}
