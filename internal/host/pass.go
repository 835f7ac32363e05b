package host

import (
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/types/swarm"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/rule"
)

// Pass is what a host rule sees: the snapshot and the audit's date, and
// the ways to report (a finding, a check that could not be made, a
// manual check's note for the benchmark row).
type Pass struct {
	rule.Reporter
	Snap *Snapshot
	Now  time.Time
	out  *[]finding.Finding
	// skip is why the check could not be made.
	skip string
	// note is what a manual check found, for the table.
	note string
}

// Report records a finding at loc.
func (p *Pass) Report(loc finding.Location, format string, args ...any) *finding.Finding {
	return p.Emit(loc, format, args...)
}

// ReportAt records a finding at a file (and line; 0 for none).
func (p *Pass) ReportAt(path string, line int, format string, args ...any) *finding.Finding {
	return p.Emit(finding.Location{Path: path, Line: line}, format, args...)
}

// ReportContainer records a finding about a running container: its
// target is the container, as `dockvet container` names it, and
// location.container its name.
func (p *Pass) ReportContainer(c *Container, format string, args ...any) *finding.Finding {
	t := finding.Target{Kind: finding.SurfaceContainer, Name: c.Name}
	return rule.NewReporter(p.Rule(), t, p.out).Emit(finding.Location{Container: c.Name}, format, args...)
}

// Skip marks the check as not made: not applicable, not present, or not
// readable. A skipped check is never a pass.
func (p *Pass) Skip(format string, args ...any) {
	if p.skip == "" {
		p.skip = fmt.Sprintf(format, args...)
	}
}

// Note sets what a manual check found (its info finding says it too).
func (p *Pass) Note(format string, args ...any) {
	p.note = fmt.Sprintf(format, args...)
}

// RequireSwarm skips a check of the benchmark's Swarm section when the
// Engine is not part of a swarm, and reports whether it is.
func (p *Pass) RequireSwarm() bool {
	if !p.Snap.SwarmActive() {
		p.Skip("Swarm mode is not active")
		return false
	}
	return true
}

// SwarmActive reports whether the Engine is part of a swarm.
func (s *Snapshot) SwarmActive() bool {
	if s.Engine == nil {
		return false
	}
	st := s.Engine.Info.Swarm.LocalNodeState
	return st == swarm.LocalNodeStateActive || st == swarm.LocalNodeStateLocked
}

// SwarmManager reports whether this node manages the swarm.
func (s *Snapshot) SwarmManager() bool {
	return s.SwarmActive() && s.Engine.Info.Swarm.ControlAvailable
}

// cfg is the daemon's effective configuration.
func (p *Pass) cfg() *DaemonConfig { return &p.Snap.Daemon.Config }

// engine is the Engine's answers, or nil.
func (p *Pass) engine() *Engine { return p.Snap.Engine }

// needEngine skips the check when the Engine's answers are missing and
// returns false.
func (p *Pass) needEngine() bool {
	if p.Snap.Engine == nil {
		p.Skip("not checked: the Engine API was not available (%s)", p.Snap.EngineErr)
		return false
	}
	return true
}

// configUnknown says why the daemon's configuration cannot be fully
// known: daemon.json could not be read, or neither the running daemon nor
// docker.service tells its command line. "" when it is known.
func (p *Pass) configUnknown() string {
	s := p.Snap
	if f := s.Files[s.Paths.DaemonJSON]; f != nil && (f.State == Denied || f.State == Unreadable) {
		return "not checked: " + notReadable(f)
	}
	for _, pr := range s.Problems {
		if pr.Path == s.Paths.DaemonJSON {
			return "not checked: " + pr.Path + " is not valid (" + pr.Message + ")"
		}
	}
	if len(s.Daemon.Args) == 0 {
		why := s.Daemon.NotChecked
		if why == "" {
			why = "no dockerd process and no docker.service ExecStart"
		}
		return "not checked: the daemon's command line is unknown (" + why + ")"
	}
	return ""
}

// needConfig skips the check when the configuration is unknown and
// returns false.
func (p *Pass) needConfig() bool {
	if why := p.configUnknown(); why != "" {
		p.Skip("%s", why)
		return false
	}
	return true
}

// at is where an option is set, or daemon.json when it is not (that is
// where to set it).
func (p *Pass) at(key string) finding.Location {
	if o, ok := p.cfg().Origins[key]; ok {
		return finding.Location{Path: o.Path, Line: o.Line}
	}
	return finding.Location{Path: p.Snap.Paths.DaemonJSON}
}

// setting describes where an option's value comes from, for messages.
func (p *Pass) setting(key string) string {
	o, ok := p.cfg().Origins[key]
	switch {
	case !ok:
		return fmt.Sprintf("%q is not set in %s or on the command line", key, p.Snap.Paths.DaemonJSON)
	case o.Flag != "":
		return fmt.Sprintf("the daemon runs with %s", o.Flag)
	case o.Line > 0:
		return fmt.Sprintf("%s sets %q (line %d)", o.Path, key, o.Line)
	}
	return fmt.Sprintf("%s sets %q", o.Path, key)
}

// usesAuthzPlugin reports whether an authorization plugin is configured.
func (s *Snapshot) usesAuthzPlugin() bool {
	if s.Engine != nil && len(s.Engine.Info.Plugins.Authorization) > 0 {
		return true
	}
	return len(s.Daemon.Config.AuthorizationPlugins) > 0
}

// usesUserns reports whether user namespace remapping is on.
func (s *Snapshot) usesUserns() bool {
	if s.Engine != nil {
		return hasSecurityOption(s.Engine.Info.SecurityOptions, "userns")
	}
	return s.Daemon.Config.UsernsRemap != ""
}

// owner is "user:group" of a file, by name.
func (s *Snapshot) owner(f *File) string {
	return s.Users.UserName(f.UID) + ":" + s.Users.GroupName(f.GID)
}

// plural returns "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// list joins names for a message, naming at most max of them.
func list(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + fmt.Sprintf(" and %d more", len(names)-max)
}

func itoa(n int) string { return fmt.Sprint(n) }

// oneLine shortens a command line for a message: white space collapsed,
// at most max characters.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}
