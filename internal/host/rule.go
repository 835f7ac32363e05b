package host

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/rule"
)

// Rule is one host check: its metadata (with the benchmark row it fills:
// finding.Rule's Benchmark and Manual) and one function over the pass.
type Rule = rule.Rule[*Pass]

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

// sectionOf is the benchmark section of a CIS ID: its first number.
func sectionOf(cis string) string {
	major, _, _ := strings.Cut(cis, ".")
	if n, err := strconv.Atoi(major); err == nil && n >= 1 && n <= 7 {
		return sectionOrder[n-1]
	}
	return sectionBeyond
}

// ownRange is the ID range of dockvet's own host checks. Host rule IDs
// follow the benchmark (DV4<section><nn>), and DV48xx are the checks
// beyond it: their CIS field names the recommendation they extend (runc's
// escapes extend 1.2.2, "keep Docker up to date"), not a row of the
// benchmark, so they stay in the beyond-CIS section.
const ownRange = "DV48"

// section is the benchmark section of a host rule's row.
func section(r *finding.Rule) string {
	if strings.HasPrefix(r.ID, ownRange) {
		return sectionBeyond
	}
	return sectionOf(r.CIS)
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
	target := s.Target()
	var passes []*Pass
	rule.Run(rules, o.Enabled, func(r *finding.Rule) *Pass {
		p := &Pass{Snap: s, Now: now, out: new([]finding.Finding)}
		p.Reporter = rule.NewReporter(r, target, p.out)
		passes = append(passes, p)
		return p
	})
	var findings []finding.Finding
	var checks []finding.Check
	for _, p := range passes {
		findings = append(findings, *p.out...)
		checks = append(checks, p.row())
	}
	cf, cc := auditContainers(s, o)
	findings = append(findings, cf...)
	checks = append(checks, cc...)
	sort.SliceStable(checks, func(i, j int) bool { return lessCheck(checks[i], checks[j]) })
	return findings, checks
}

// row is the benchmark row of a check that ran.
func (p *Pass) row() finding.Check {
	r, out := p.Rule(), *p.out
	row := finding.Check{Section: section(r), CIS: r.CIS, RuleID: r.ID, Title: r.Benchmark, Manual: r.Manual}
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
	return row
}

// lessCheck orders benchmark rows: by section, then by CIS ID within the
// benchmark's sections, then by rule ID.
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
