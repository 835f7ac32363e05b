package watch

import (
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
)

// Event is one Engine event as watch acts on it, and what a record says
// about the event that caused a finding. Events that watch makes itself
// (the audit of what already runs, of a container whose events it missed,
// a gap in the stream) have type "watch" or action "running" or
// "reconcile".
type Event struct {
	// Type is the Engine's event type (container, image, network, plugin,
	// daemon), or "watch".
	Type string `json:"type"`
	// Action is the action without the text the Engine appends to some
	// ("exec_create", not "exec_create: sh -c …").
	Action string `json:"action"`
	// Actor is the ID of what the event is about: a container, an image
	// (or the reference pulled), a network, a plugin, the daemon.
	Actor string `json:"actor,omitempty"`
	// Name is the actor's name as the event gives it: a container's
	// name, an image reference, a network's or a plugin's name.
	Name string `json:"name,omitempty"`
	// Container is the container a network event is about.
	Container string `json:"container,omitempty"`
	// Exec is the exec instance of an exec event.
	Exec string `json:"exec,omitempty"`
	// NetworkType is the driver of the network a network event is about
	// ("bridge", "host", "overlay").
	NetworkType string `json:"networkType,omitempty"`
	// Time is when the Engine says the event happened.
	Time time.Time `json:"time"`
	// CaughtUp is, for watch's own gap, stall and missed events, how
	// many containers it found by listing them that it had not seen in
	// their current state (and audited then).
	CaughtUp int `json:"caughtUp,omitempty"`

	// nano is Time in the Engine's resolution, the resume point of the
	// stream.
	nano int64
	// command is what an exec runs, from the action text; it is never
	// printed whole (it may carry a password), only its program.
	command string
}

// Synthetic event types and actions.
const (
	typeWatch       = "watch"
	actionRunning   = "running"   // a container audited because it runs (start of watch, after trouble)
	actionReconcile = "reconcile" // a container audited because watch had not seen it in its current state
	actionGap       = "gap"       // the Engine no longer held events from a disconnection
	actionStall     = "stall"     // watch fell behind its event stream (stopped, suspended, starved of CPU)
	actionMissed    = "missed"    // a reconcile found containers whose events watch had not seen
	actionOverrun   = "overflow"  // the queue was full and events were not queued
	actionStop      = "stop"      // watch stopped before every queued event was audited
	actionSink      = "sink"      // a sink stopped taking findings
)

// The event types and actions watch acts on. destroy, delete and remove
// only retire what watch remembers about an actor.
var handled = map[events.Type]map[string]bool{
	events.ContainerEventType: {"create": true, "start": true, "update": true, "exec_create": true, "exec_start": true, "destroy": true},
	events.ImageEventType:     {"pull": true, "load": true, "tag": true, "delete": true},
	events.NetworkEventType:   {"connect": true},
	events.PluginEventType:    {"install": true, "enable": true, "create": true, "remove": true},
	events.DaemonEventType:    {"reload": true},
}

// Decode turns an Engine event into an Event, and reports whether watch
// acts on it. It accepts whatever the stream carries: unknown types,
// empty actors and missing times are not errors, they are events watch
// ignores or dates as best it can.
func Decode(m events.Message) (Event, bool) {
	action, detail, _ := strings.Cut(string(m.Action), ":")
	action = strings.TrimSpace(action)
	e := Event{Type: string(m.Type), Action: action, Actor: m.Actor.ID, nano: m.TimeNano}
	if e.nano == 0 && m.Time > 0 && m.Time < 1<<33 {
		e.nano = m.Time * int64(time.Second)
	}
	if e.nano > 0 {
		e.Time = time.Unix(0, e.nano).UTC()
	}
	attrs := m.Actor.Attributes
	e.Name = attrs["name"]
	switch m.Type {
	case events.ContainerEventType:
		e.Exec = attrs["execID"]
		e.command = strings.TrimSpace(detail)
	case events.NetworkEventType:
		e.Container = attrs["container"]
		e.NetworkType = attrs["type"]
	case events.ImageEventType:
		if e.Name == "" {
			e.Name = e.Actor
		}
	}
	if !handled[m.Type][action] || e.Actor == "" {
		return e, false
	}
	switch {
	case m.Type == events.NetworkEventType && e.Container == "":
		return e, false
	case strings.HasPrefix(action, "exec_") && e.Exec == "":
		// Engines before API 1.27 did not name the exec; without its ID
		// nothing can be asked about it.
		return e, e.command != ""
	}
	return e, true
}

// key identifies one event, to recognise it when a resumed stream sends it
// again.
func (e *Event) key() string {
	return strconv.FormatInt(e.nano, 10) + "|" + e.Type + "|" + e.Action + "|" + e.Actor + "|" + e.Container + "|" + e.Exec + "|" + e.Name
}

// program is the program an exec runs, without its arguments.
func (e *Event) program() string {
	f := strings.Fields(e.command)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// label is the event in a table line: "container start".
func (e *Event) label() string {
	return e.Type + " " + e.Action
}
