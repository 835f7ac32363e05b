package watch

import (
	"fmt"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
)

// Trouble is something that stopped watch from auditing everything: a gap
// in the Engine's event history, a full queue, an actor gone before it
// could be inspected, a full webhook spool, a stop with work left.
type Trouble struct {
	Event Event
	// Count is how many events or findings were concerned.
	Count int
	// From and To bound the time concerned.
	From, To time.Time
	// Subject is what could not be audited ("container web (3f4e5d6c7b8a)").
	Subject string
	// CaughtUp is how many containers the reconcile that followed a gap
	// or a stall found that watch had not seen in their current state.
	CaughtUp int
	// Reason is the error or the circumstance, one line.
	Reason string
}

// timeLayout is RFC 3339 with milliseconds, the time of table lines.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func (t *Trouble) span() string {
	if t.From.IsZero() {
		return ""
	}
	if t.To.IsZero() || !t.To.After(t.From) {
		return " at " + t.From.UTC().Format(timeLayout)
	}
	return fmt.Sprintf(" between %s and %s", t.From.UTC().Format(timeLayout), t.To.UTC().Format(timeLayout))
}

// caughtUp is the part of a message that says how many containers a
// reconcile caught up on.
func (t *Trouble) caughtUp() string {
	switch t.CaughtUp {
	case 0:
		return ""
	case 1:
		return " and 1 container watch had not seen in its current state was audited"
	}
	return fmt.Sprintf(" and %d containers watch had not seen in their current state were audited", t.CaughtUp)
}

var ruleEventsMissed = &Rule[Trouble]{
	Rule: finding.Rule{
		ID: "DV5040", Title: "Engine events may have been missed", Practice: finding.PracticeMonitoring,
		Severity: finding.Medium,
		Description: "The Engine's event stream is not a reliable log: it keeps only its most recent events for a stream " +
			"opened again, and it drops the events of a reader that does not keep up (1024 waiting, then 100 ms each). " +
			"watch reports a gap when, on reconnecting, the Engine no longer held the events from the start of the gap; " +
			"a stall when it fell behind the stream (an event read long after the Engine dated it, or watch's own clock " +
			"jumping: the process was stopped, suspended or starved of CPU); and missed containers when listing the " +
			"containers (after either, after a reconnection or an overflow, and every minute) finds containers it had " +
			"not seen in their current state. It audits those containers then, and every running one after a gap or a " +
			"stall, but execs, pulls and containers created and removed in the gap may not have been seen.",
		Remediation: "Find out why the connection dropped (Engine restarts, a proxy's idle timeout) or why watch stalled " +
			"(a stopped process, a suspended machine, CPU limits); check the Engine's logs for the time concerned; run " +
			"watch next to the Engine, with CPU to spare.",
		References: []string{"https://docs.docker.com/reference/cli/docker/system/events/"},
	},
	Check: func(p *Pass[Trouble]) {
		t := p.Model
		switch t.Event.Action {
		case actionGap:
			p.report("The Engine no longer held the events from when watch was disconnected%s; running containers were re-audited%s, but other events in the gap may be missing.", t.span(), t.caughtUp())
		case actionStall:
			p.report("watch fell %s behind the Engine's events%s (stopped, suspended or starved of CPU), and the Engine drops events for a reader that falls behind; running containers were re-audited%s, but other events in that time may be missing.",
				t.To.Sub(t.From).Round(100*time.Millisecond), t.span(), t.caughtUp())
		case actionMissed:
			if t.CaughtUp > 0 {
				p.report("%d %s had events watch did not see (the Engine dropped them) and %s audited when watch listed the containers%s; other events of that time may be missing.",
					t.CaughtUp, plural(t.CaughtUp, "container", "containers"), plural(t.CaughtUp, "was", "were"), t.span())
			}
		}
	},
}

var ruleQueueOverflow = &Rule[Trouble]{
	Rule: finding.Rule{
		ID: "DV5041", Title: "watch fell behind and did not queue events", Practice: finding.PracticeMonitoring,
		Severity: finding.High,
		Description: "Events arrived faster than watch could audit them and its queue was full, so some events were not " +
			"queued (the reader never waits: the Engine drops events for subscribers that do not keep up). watch counted " +
			"them and re-audited every running container once the queue had room; execs and pulls among them may be missing.",
		Remediation: "Give watch more workers (`--workers`) or a larger queue (`--queue-size`), and a sink that keeps up " +
			"(a slow terminal or pipe holds everything up).",
	},
	Check: func(p *Pass[Trouble]) {
		t := p.Model
		if t.Event.Action == actionOverrun {
			p.report("The queue was full and %d events%s were not queued; running containers were re-audited.", t.Count, t.span())
		}
	},
}

var ruleNotAudited = &Rule[Trouble]{
	Rule: finding.Rule{
		ID: "DV5042", Title: "Event could not be audited", Practice: finding.PracticeMonitoring,
		Severity: finding.Medium,
		Description: "watch received an event but could not ask the Engine about what it concerned: a container removed " +
			"before it could be inspected (a short-lived `docker run --rm`), an exec the Engine had already forgotten, or " +
			"an error from the Engine. Its settings were not judged.",
		Remediation: "Look at the event in the Engine's log; if containers are too short-lived to inspect, audit how they " +
			"are started (`dockvet run`, `dockvet compose`).",
	},
	Check: func(p *Pass[Trouble]) {
		t := p.Model
		if t.Event.Action != actionOverrun && t.Event.Action != actionGap && t.Event.Type != typeWatch {
			p.report("The %s event of %s could not be audited: %s.", t.Event.Action, t.Subject, t.Reason)
		}
	},
}

var ruleSinkRefuses = &Rule[Trouble]{
	Rule: finding.Rule{
		ID: "DV5043", Title: "A sink is not taking findings", Practice: finding.PracticeMonitoring,
		Severity: finding.High,
		Description: "One of watch's sinks stopped taking findings: the webhook's spool on disk is full (the webhook did " +
			"not accept findings for that long) or cannot be written, or the --output file cannot be written (a full disk). " +
			"The findings it refuses are missing from it; the other sinks still have them, and the refusals are counted " +
			"(dockvet_watch_sink_errors_total).",
		Remediation: "Restore the webhook endpoint or raise `--webhook-spool-max`; make the spool directory and the output " +
			"file writable by watch's user, and give their file system room. Spooled findings are delivered once the " +
			"webhook answers.",
	},
	Check: func(p *Pass[Trouble]) {
		t := p.Model
		if t.Event.Action == actionSink {
			p.report("%s is not taking findings: %s; findings from %s on are missing from it until it takes them again.",
				t.Event.Name, t.Reason, t.From.UTC().Format(timeLayout))
		}
	},
}

var ruleStoppedEarly = &Rule[Trouble]{
	Rule: finding.Rule{
		ID: "DV5044", Title: "watch stopped before auditing every event", Practice: finding.PracticeMonitoring,
		Severity:    finding.Medium,
		Description: "watch was stopped and its drain time ran out with events still queued; they were not audited.",
		Remediation: "Give watch more time to stop (`--drain-timeout`, systemd's TimeoutStopSec); the next start audits " +
			"every running container again.",
	},
	Check: func(p *Pass[Trouble]) {
		t := p.Model
		if t.Event.Action == actionStop {
			p.report("watch stopped with %d events not audited.", t.Count)
		}
	},
}
