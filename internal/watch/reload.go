package watch

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/host"
)

// Reload is a daemon configuration reload: the host as read before it
// (when watch started, or at the previous reload) and after it. The
// daemon configuration rules of the host audit run over both; what they
// say only after the reload is what the reload weakened.
type Reload struct {
	Event         Event
	Before, After *host.Snapshot
	// Enabled filters the host rules as the project configures them.
	Enabled func(*finding.Rule) bool
}

// daemonRule reports whether a host rule judges the daemon's
// configuration — CIS section 2 and dockvet's own daemon-wide checks —
// which is what a reload can change.
func daemonRule(r *finding.Rule) bool {
	return strings.HasPrefix(r.CIS, "2.") || slices.Contains([]string{"DV4807", "DV4808", "DV4809"}, r.ID)
}

func (m *Reload) findings(s *host.Snapshot) map[string][]finding.Finding {
	enabled := func(r *finding.Rule) bool { return daemonRule(r) && (m.Enabled == nil || m.Enabled(r)) }
	fs, _ := host.Check(s, host.CheckOptions{Enabled: enabled, Now: s.Taken})
	out := map[string][]finding.Finding{}
	for _, f := range fs {
		out[f.RuleID] = append(out[f.RuleID], f)
	}
	return out
}

// insecure lists the registries the daemon reaches without verified TLS,
// as the Engine reports them (else as its configuration says), without
// the loopback ones dockerd always allows.
func insecure(s *host.Snapshot) []string {
	var out []string
	if e := s.Engine; e != nil && e.Info.RegistryConfig != nil {
		for _, cidr := range e.Info.RegistryConfig.InsecureRegistryCIDRs {
			if !cidr.Addr().IsLoopback() {
				out = append(out, cidr.String())
			}
		}
		for name, ic := range e.Info.RegistryConfig.IndexConfigs {
			if ic != nil && !ic.Secure && !loopbackRegistry(name) {
				out = append(out, name)
			}
		}
	} else {
		for _, r := range s.Daemon.Config.InsecureRegistries {
			if !loopbackRegistry(r) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func loopbackRegistry(r string) bool {
	if p, err := netip.ParsePrefix(r); err == nil {
		return p.Addr().IsLoopback()
	}
	h := r
	if hh, _, err := net.SplitHostPort(r); err == nil {
		h = hh
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a.IsLoopback()
	}
	return h == "localhost"
}

// tcpHosts are the TCP addresses the daemon is configured to listen on.
func tcpHosts(s *host.Snapshot) []string {
	var out []string
	for _, h := range s.Daemon.Config.Hosts {
		if strings.HasPrefix(h, "tcp://") {
			out = append(out, h)
		}
	}
	return out
}

// authz lists the daemon's authorization plugins.
func authz(s *host.Snapshot) []string {
	out := slices.Clone(s.Daemon.Config.AuthorizationPlugins)
	if s.Engine != nil {
		out = append(out, s.Engine.Info.Plugins.Authorization...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func added(before, after []string) []string {
	var out []string
	for _, a := range after {
		if !slices.Contains(before, a) {
			out = append(out, a)
		}
	}
	return out
}

var reloadRules = []*rule[Reload]{
	{
		Rule: finding.Rule{
			ID: "DV5030", Title: "Daemon reload weakened the configuration", Practice: finding.PracticeMonitoring,
			Severity: finding.High, Surfaces: watchSurface,
			Description: "After the daemon reloaded its configuration (SIGHUP, `systemctl reload docker`), the host audit's daemon " +
				"checks (CIS section 2 and dockvet's daemon-wide checks) report a problem they did not report before, or a " +
				"setting they already reported got worse: an insecure registry or a TCP listener added, an authorization plugin " +
				"removed. Settings that take effect only at the next restart are reported too, since daemon.json now holds them.",
			Remediation: "Review the change to daemon.json (or the daemon's flags) and revert it, then reload again; " +
				"`dockvet host` explains each daemon check.",
			References: []string{"https://docs.docker.com/reference/cli/dockerd/#configuration-reload-behavior"},
		},
		Check: func(m *Reload, p *pass) {
			if m.Before == nil || m.After == nil {
				return
			}
			before, after := m.findings(m.Before), m.findings(m.After)
			ids := make([]string, 0, len(after))
			for id := range after {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				if len(before[id]) > 0 {
					continue
				}
				for _, f := range after[id] {
					p.report("The daemon reload made %s (%s) apply: %s.", id, f.Title, sentence(f.Message))
				}
			}
			if len(before["DV4205"]) > 0 {
				if add := added(insecure(m.Before), insecure(m.After)); len(add) > 0 {
					p.report("The daemon reload added insecure registries: %s.", strings.Join(add, ", "))
				}
			}
			if len(before["DV4207"]) > 0 || len(before["DV4806"]) > 0 {
				if add := added(tcpHosts(m.Before), tcpHosts(m.After)); len(add) > 0 {
					p.report("The daemon configuration now also listens on %s.", strings.Join(add, ", "))
				}
			}
			if gone := added(authz(m.After), authz(m.Before)); len(gone) > 0 && len(after["DV4212"]) == 0 {
				p.report("The daemon reload removed authorization plugins: %s.", strings.Join(gone, ", "))
			}
		},
	},
}

// sentence turns a finding's message into the tail of another sentence.
func sentence(msg string) string {
	msg = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(msg), "."))
	r, n := utf8.DecodeRuneInString(msg)
	if n == 0 {
		return msg
	}
	// "The daemon …" reads as "the daemon …"; "DOCKER_HOST …" stays.
	if next, _ := utf8.DecodeRuneInString(msg[n:]); unicode.IsUpper(r) && !unicode.IsUpper(next) {
		return string(unicode.ToLower(r)) + msg[n:]
	}
	return msg
}

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

var troubleRules = []*rule[Trouble]{
	{
		Rule: finding.Rule{
			ID: "DV5040", Title: "Engine events may have been missed", Practice: finding.PracticeMonitoring,
			Severity: finding.Medium, Surfaces: watchSurface,
			Description: "watch lost its connection to the Engine and, on reconnecting, the Engine no longer held the events from " +
				"the start of the gap (it keeps only its most recent events). watch re-audited every running container, but " +
				"execs, pulls and short-lived containers in the gap may not have been seen.",
			Remediation: "Find out why the connection dropped (Engine restarts, a proxy's idle timeout); check the Engine's " +
				"logs for the gap; run watch next to the Engine so that the connection is local.",
			References: []string{"https://docs.docker.com/reference/cli/docker/system/events/"},
		},
		Check: func(t *Trouble, p *pass) {
			if t.Event.Action == actionGap {
				p.report("The Engine no longer held the events from when watch was disconnected%s; running containers were re-audited, but other events in the gap may be missing.", t.span())
			}
		},
	},
	{
		Rule: finding.Rule{
			ID: "DV5041", Title: "watch fell behind and did not queue events", Practice: finding.PracticeMonitoring,
			Severity: finding.High, Surfaces: watchSurface,
			Description: "Events arrived faster than watch could audit them and its queue was full, so some events were not " +
				"queued (the reader never waits: the Engine drops events for subscribers that do not keep up). watch counted " +
				"them and re-audited every running container once the queue had room; execs and pulls among them may be missing.",
			Remediation: "Give watch more workers (`--workers`) or a larger queue (`--queue-size`), and a sink that keeps up " +
				"(a slow terminal or pipe holds everything up).",
		},
		Check: func(t *Trouble, p *pass) {
			if t.Event.Action == actionOverrun {
				p.report("The queue was full and %d events%s were not queued; running containers were re-audited.", t.Count, t.span())
			}
		},
	},
	{
		Rule: finding.Rule{
			ID: "DV5042", Title: "Event could not be audited", Practice: finding.PracticeMonitoring,
			Severity: finding.Medium, Surfaces: watchSurface,
			Description: "watch received an event but could not ask the Engine about what it concerned: a container removed " +
				"before it could be inspected (a short-lived `docker run --rm`), an exec the Engine had already forgotten, or " +
				"an error from the Engine. Its settings were not judged.",
			Remediation: "Look at the event in the Engine's log; if containers are too short-lived to inspect, audit how they " +
				"are started (`dockvet run`, `dockvet compose`).",
		},
		Check: func(t *Trouble, p *pass) {
			if t.Event.Action != actionOverrun && t.Event.Action != actionGap && t.Event.Type != typeWatch {
				p.report("The %s event of %s could not be audited: %s.", t.Event.Action, t.Subject, t.Reason)
			}
		},
	},
	{
		Rule: finding.Rule{
			ID: "DV5043", Title: "A sink is not taking findings", Practice: finding.PracticeMonitoring,
			Severity: finding.High, Surfaces: watchSurface,
			Description: "One of watch's sinks stopped taking findings: the webhook's spool on disk is full (the webhook did " +
				"not accept findings for that long) or cannot be written, or the --output file cannot be written (a full disk). " +
				"The findings it refuses are missing from it; the other sinks still have them, and the refusals are counted " +
				"(dockvet_watch_sink_errors_total).",
			Remediation: "Restore the webhook endpoint or raise `--webhook-spool-max`; make the spool directory and the output " +
				"file writable by watch's user, and give their file system room. Spooled findings are delivered once the " +
				"webhook answers.",
		},
		Check: func(t *Trouble, p *pass) {
			if t.Event.Action == actionSink {
				p.report("%s is not taking findings: %s; findings from %s on are missing from it until it takes them again.",
					t.Event.Name, t.Reason, t.From.UTC().Format(timeLayout))
			}
		},
	},
	{
		Rule: finding.Rule{
			ID: "DV5044", Title: "watch stopped before auditing every event", Practice: finding.PracticeMonitoring,
			Severity: finding.Medium, Surfaces: watchSurface,
			Description: "watch was stopped and its drain time ran out with events still queued; they were not audited.",
			Remediation: "Give watch more time to stop (`--drain-timeout`, systemd's TimeoutStopSec); the next start audits " +
				"every running container again.",
		},
		Check: func(t *Trouble, p *pass) {
			if t.Event.Action == actionStop {
				p.report("watch stopped with %d events not audited.", t.Count)
			}
		},
	},
}

// parseTime reads the Engine's RFC 3339 times; the zero time it writes
// for "never" (0001-01-01) is not a time.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1971 {
		return time.Time{}, false
	}
	return t, true
}
