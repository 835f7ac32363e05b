package host

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
)

// Rule is one host check: its metadata, the benchmark row it fills, and
// one function over the snapshot.
type Rule struct {
	finding.Rule
	// Benchmark is the recommendation as the CIS Docker Benchmark words
	// it (for dockvet's own checks, as dockvet does): the row's title.
	Benchmark string
	// Section is the benchmark section of the row.
	Section string
	// Manual marks a check the benchmark leaves to a person: it reports
	// what to look at as an info finding (NOTE in the table).
	Manual bool
	// Swarm marks checks that apply only when Swarm mode is active.
	Swarm bool
	Check func(p *Pass)
}

// Benchmark sections, in the order the table prints them.
const (
	sectionHost    = "1 - Host Configuration"
	sectionDaemon  = "2 - Docker daemon configuration"
	sectionFiles   = "3 - Docker daemon configuration files"
	sectionImages  = "4 - Container Images and Build File Configuration"
	sectionRuntime = "5 - Container Runtime Configuration"
	sectionOps     = "6 - Docker Security Operations"
	sectionSwarm   = "7 - Docker Swarm Configuration"
	sectionBeyond  = "dockvet - Versions, escapes and client configuration (beyond CIS)"
)

var sectionOrder = []string{sectionHost, sectionDaemon, sectionFiles, sectionImages, sectionRuntime, sectionOps, sectionSwarm, sectionBeyond}

// Pass is what a rule sees: the snapshot and a way to report.
type Pass struct {
	Snap *Snapshot
	Now  time.Time
	rule *Rule
	out  *[]finding.Finding
	// skip is why the check could not be made.
	skip string
	// note is what a manual check found, for the table.
	note   string
	target finding.Target
}

// Report records a finding at loc.
func (p *Pass) Report(loc finding.Location, format string, args ...any) *finding.Finding {
	*p.out = append(*p.out, finding.New(&p.rule.Rule, p.target, loc, fmt.Sprintf(format, args...)))
	return &(*p.out)[len(*p.out)-1]
}

// ReportAt records a finding at a file (and line; 0 for none).
func (p *Pass) ReportAt(path string, line int, format string, args ...any) *finding.Finding {
	return p.Report(finding.Location{Path: path, Line: line}, format, args...)
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

var registry = finding.NewRegistry[*Rule](finding.SurfaceHost)

// rule registers a rule; rule files declare `var x = rule(&Rule{…})`.
func rule(r *Rule) *Rule { return registry.Add(r) }

// Rules returns every host rule in benchmark order.
func Rules() []*Rule {
	out := registry.Sorted()
	sort.SliceStable(out, func(i, j int) bool { return lessRule(out[i], out[j]) })
	return out
}

func lessRule(a, b *Rule) bool {
	sa, sb := sectionIndex(a.Section), sectionIndex(b.Section)
	if sa != sb {
		return sa < sb
	}
	if a.Section == sectionBeyond {
		return a.ID < b.ID
	}
	if c := compareCIS(a.CIS, b.CIS); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

func sectionIndex(s string) int {
	for i, v := range sectionOrder {
		if v == s {
			return i
		}
	}
	return len(sectionOrder)
}

// compareCIS orders CIS IDs numerically (1.1.9 before 1.1.10); rules
// without one come last.
func compareCIS(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return 1
	}
	if b == "" {
		return -1
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x - y
		}
	}
	return len(pa) - len(pb)
}

// Catalog returns the metadata of every host rule, sorted by ID.
func Catalog() []finding.Rule { return registry.Catalog() }

// CheckOptions configure a run of the rules.
type CheckOptions struct {
	// Enabled filters rules; nil runs all.
	Enabled func(*finding.Rule) bool
	// Now is the date end-of-life checks compare with (time.Now when zero).
	Now time.Time
	// Policy is the project's trust policy, for the running containers'
	// images (CIS 4.2).
	Policy *policy.Policy
}

// Target is the report target of a snapshot: the Engine's name for the
// host, or the root directory that was read.
func (s *Snapshot) Target() finding.Target {
	name := s.Root
	if s.Root == "/" || s.Root == "" {
		name = "localhost"
		if s.Engine != nil && s.Engine.Info.Name != "" {
			name = s.Engine.Info.Name
		}
	}
	return finding.Target{Kind: finding.SurfaceHost, Name: name}
}

// Check runs the host rules over a snapshot, and the container rules over
// its running containers. It returns the findings and the benchmark rows:
// one per host rule that ran and one per container check (containers.go).
func Check(s *Snapshot, o CheckOptions) ([]finding.Finding, []finding.Check) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	var findings []finding.Finding
	var checks []finding.Check
	target := s.Target()
	for _, r := range Rules() {
		if o.Enabled != nil && !o.Enabled(&r.Rule) {
			continue
		}
		var out []finding.Finding
		p := &Pass{Snap: s, Now: now, rule: r, out: &out, target: target}
		if r.Swarm && !s.SwarmActive() {
			p.Skip("Swarm mode is not active")
		} else {
			r.Check(p)
		}
		row := finding.Check{Section: r.Section, CIS: r.CIS, RuleID: r.ID, Title: r.Benchmark, Manual: r.Manual}
		switch {
		case p.skip != "" && len(out) == 0:
			row.Status, row.Note = finding.CheckInfo, p.skip
		case len(out) > 0 && r.Manual:
			row.Status, row.Note = finding.CheckNote, p.note
		case len(out) > 0:
			row.Status = finding.CheckWarn
			if len(out) > 1 {
				row.Note = fmt.Sprintf("%d findings", len(out))
			} else {
				row.Note = out[0].Message
			}
		default:
			row.Status, row.Note = finding.CheckPass, p.note
		}
		if row.Status == finding.CheckNote && row.Note == "" && len(out) > 0 {
			row.Note = out[0].Message
		}
		findings = append(findings, out...)
		checks = append(checks, row)
	}
	cf, cc := auditContainers(s, o)
	findings = append(findings, cf...)
	checks = append(checks, cc...)
	sort.SliceStable(checks, func(i, j int) bool { return lessCheck(checks[i], checks[j]) })
	return findings, checks
}

// lessCheck orders benchmark rows as Rules orders rules.
func lessCheck(a, b finding.Check) bool {
	sa, sb := sectionIndex(a.Section), sectionIndex(b.Section)
	if sa != sb {
		return sa < sb
	}
	if a.Section != sectionBeyond {
		if c := compareCIS(a.CIS, b.CIS); c != 0 {
			return c < 0
		}
	}
	return a.RuleID < b.RuleID
}

// Passed turns the passed checks into info findings, for --show-passed.
func Passed(s *Snapshot, checks []finding.Check) []finding.Finding {
	var out []finding.Finding
	for _, c := range checks {
		meta, benchmark, ok := rowRule(c)
		if c.Status != finding.CheckPass || !ok {
			continue
		}
		meta.Severity = finding.Info
		if c.CIS != "" {
			meta.CIS = c.CIS
		}
		msg := "Passed: " + benchmark
		if c.CIS != "" {
			msg = "Passed CIS " + c.CIS + ": " + benchmark
		}
		if !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		out = append(out, finding.New(&meta, s.Target(), finding.Location{}, msg))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
