package watch

import (
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

var ruleReloadWeakened = &Rule[Reload]{
	Rule: finding.Rule{
		ID: "DV5030", Title: "Daemon reload weakened the configuration", Practice: finding.PracticeMonitoring,
		Severity: finding.High,
		Description: "After the daemon reloaded its configuration (SIGHUP, `systemctl reload docker`), the host audit's daemon " +
			"checks (CIS section 2 and dockvet's daemon-wide checks) report a problem they did not report before, or a " +
			"setting they already reported got worse: an insecure registry or a TCP listener added, an authorization plugin " +
			"removed. Settings that take effect only at the next restart are reported too, since daemon.json now holds them.",
		Remediation: "Review the change to daemon.json (or the daemon's flags) and revert it, then reload again; " +
			"`dockvet host` explains each daemon check.",
		References: []string{"https://docs.docker.com/reference/cli/dockerd/#configuration-reload-behavior"},
	},
	Check: func(p *Pass[Reload]) {
		m := p.Model
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

// parseTime reads the Engine's RFC 3339 times; the zero time it writes
// for "never" (0001-01-01) is not a time.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1971 {
		return time.Time{}, false
	}
	return t, true
}
