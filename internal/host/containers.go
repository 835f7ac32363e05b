package host

import (
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/live"
)

// The running containers of the snapshot go through internal/live, the one
// set of container rules that also judges Compose files and `docker run`
// lines. Each benchmark row of CIS sections 4 and 5 that a container rule
// implements (by its CIS field) is one row here, whatever the number of
// containers: WARN names the containers that fail it, and their findings
// follow in the findings list.

// cisTitles are the CIS Docker Benchmark 1.6.0 recommendations the
// container rules implement, as the benchmark words them, and whether the
// benchmark calls them manual.
var cisTitles = map[string]struct {
	title  string
	manual bool
}{
	"4.1":  {"Ensure that a user for the container has been created", false},
	"4.2":  {"Ensure that containers use only trusted base images", true},
	"4.6":  {"Ensure that HEALTHCHECK instructions have been added to container images", false},
	"5.2":  {"Ensure that, if applicable, an AppArmor Profile is enabled", false},
	"5.3":  {"Ensure that, if applicable, SELinux security options are set", false},
	"5.4":  {"Ensure that Linux kernel capabilities are restricted within containers", false},
	"5.5":  {"Ensure that privileged containers are not used", false},
	"5.6":  {"Ensure sensitive host system directories are not mounted on containers", false},
	"5.8":  {"Ensure privileged ports are not mapped within containers", false},
	"5.9":  {"Ensure that only needed ports are open on the container", true},
	"5.10": {"Ensure that the host's network namespace is not shared", false},
	"5.11": {"Ensure that the memory usage for containers is limited", false},
	"5.12": {"Ensure that CPU priority is set appropriately on containers", false},
	"5.13": {"Ensure that the container's root filesystem is mounted as read only", false},
	"5.14": {"Ensure that incoming container traffic is bound to a specific host interface", false},
	"5.15": {"Ensure that the 'on-failure' container restart policy is set to '5'", false},
	"5.16": {"Ensure that the host's process namespace is not shared", false},
	"5.17": {"Ensure that the host's IPC namespace is not shared", false},
	"5.18": {"Ensure that host devices are not directly exposed to containers", true},
	"5.19": {"Ensure that the default ulimit is overwritten at runtime if needed", true},
	"5.20": {"Ensure mount propagation mode is not set to shared", false},
	"5.21": {"Ensure that the host's UTS namespace is not shared", false},
	"5.22": {"Ensure the default seccomp profile is not Disabled", false},
	"5.25": {"Ensure that cgroup usage is confirmed", false},
	"5.26": {"Ensure that the container is restricted from acquiring additional privileges", false},
	"5.27": {"Ensure that container health is checked at runtime", false},
	"5.28": {"Ensure that Docker commands always make use of the latest version of their image", true},
	"5.29": {"Ensure that the PIDs cgroup limit is used", false},
	"5.31": {"Ensure that the host's user namespaces are not shared", false},
	"5.32": {"Ensure that the Docker socket is not mounted inside any containers", false},
}

// alsoCIS maps a rule to a benchmark row beyond its own CIS field. DV3101
// (no health check in the image or the container) is CIS 4.6 by its
// cause, and it is also exactly what 5.27 asks of a running container.
var alsoCIS = map[string][]string{"DV3101": {"5.27"}}

// beyondTitles word the container rules without a CIS ID as rows of
// dockvet's own section.
var beyondTitles = map[string]string{
	"DV3008": "Ensure containers keep the kernel's masked paths masked",
	"DV3015": "Ensure containers do not share the host's cgroup namespace",
	"DV3021": "Ensure containers do not reach a Docker daemon over TCP without TLS",
	"DV3050": "Ensure containers do not run as root",
	"DV3060": "Ensure container environments hold no secrets",
	"DV3070": "Ensure containers do not run :latest or untagged images",
	"DV3071": "Ensure container images are pinned by digest",
	"DV3080": "Ensure containers set no sysctl that weakens the host",
	"DV3090": "Ensure container logging is not disabled",
}

// liveOnlyNot are container rules a live container cannot fail: the
// Engine always knows the image's user, so DV3051 ("root unless the image
// sets USER") is DV3050 there; DV3062 groups the settings a service
// declared in a file leaves unset, and a live container gets each of them
// from its own rule.
var liveOnlyNot = map[string]bool{"DV3051": true, "DV3062": true}

// imageRules need the image's inspect data; a container whose image was
// not inspected is not checked by them.
var imageRules = map[string]bool{"DV3100": true, "DV3101": true, "DV3102": true}

// containerRow is one benchmark row judged over the running containers.
type containerRow struct {
	section, cis, title string
	manual              bool
	rules               []string
}

// containerRows lists the rows: one per CIS ID the container and live
// rules carry, one per rule without one.
func containerRows() []containerRow {
	byCIS := map[string]*containerRow{}
	var rows []*containerRow
	add := func(cis, id string) {
		r := byCIS[cis]
		if r == nil {
			t := cisTitles[cis]
			r = &containerRow{section: sectionOf(cis), cis: cis, title: t.title, manual: t.manual}
			byCIS[cis] = r
			rows = append(rows, r)
		}
		r.rules = append(r.rules, id)
	}
	for _, r := range containerCatalog() {
		switch {
		case liveOnlyNot[r.ID]:
		case r.CIS != "":
			add(r.CIS, r.ID)
		default:
			rows = append(rows, &containerRow{section: sectionBeyond, title: beyondTitles[r.ID], rules: []string{r.ID}})
		}
		for _, cis := range alsoCIS[r.ID] {
			add(cis, r.ID)
		}
	}
	out := make([]containerRow, 0, len(rows))
	for _, r := range rows {
		slices.Sort(r.rules)
		out = append(out, *r)
	}
	return out
}

// containerCatalog is the metadata of every rule live.Audit runs.
func containerCatalog() []finding.Rule {
	return append(container.Catalog(), live.Catalog()...)
}

// folded is a container finding that every container gets from a daemon
// default: the host audit reports the default once, as a host rule, and
// drops the per-container copies (a container's inspect data cannot tell
// the default from the same value asked for).
type folded struct {
	rule, hostRule string
	applies        func(*Snapshot) bool
}

var foldedRules = []folded{
	{rule: "DV3015", hostRule: ruleDefaultCgroupns.ID, applies: func(s *Snapshot) bool { h, _ := s.defaultCgroupnsHost(); return h }},
}

// auditContainers runs the container rules over every running container
// and fills the rows.
func auditContainers(s *Snapshot, o CheckOptions) ([]finding.Finding, []finding.Check) {
	enabled := func(id string) bool {
		if o.Enabled == nil {
			return true
		}
		for _, r := range containerCatalog() {
			if r.ID == id {
				return o.Enabled(&r)
			}
		}
		return true
	}
	foldedBy := map[string]string{}
	for _, f := range foldedRules {
		if enabled(f.rule) && o.hostEnabled(f.hostRule) && f.applies(s) {
			foldedBy[f.rule] = f.hostRule
		}
	}
	var findings []finding.Finding
	// failing[rule] are the containers a rule reported, in order.
	failing := map[string][]string{}
	sev := map[string]finding.Severity{}
	foldedNames := map[string][]string{}
	var noImage []string
	imageWhy := ""
	if s.Engine != nil {
		daemon := live.Daemon{NoNewPrivileges: isTrue(s.Daemon.Config.NoNewPrivileges, false)}
		for i := range s.Engine.Containers {
			c := &s.Engine.Containers[i]
			if c.Image == nil {
				noImage = append(noImage, c.Name)
				if imageWhy == "" {
					imageWhy = "its image was not inspected"
					if c.ImageErr != "" {
						imageWhy = c.ImageErr
					}
				}
			}
			for _, f := range live.Audit(&c.Container, live.Options{Policy: o.Policy, Enabled: o.Enabled, Daemon: daemon}) {
				if _, ok := foldedBy[f.RuleID]; ok {
					foldedNames[f.RuleID] = appendOnce(foldedNames[f.RuleID], c.Name)
					continue
				}
				failing[f.RuleID] = appendOnce(failing[f.RuleID], c.Name)
				sev[f.RuleID] = max(sev[f.RuleID], f.Severity)
				findings = append(findings, f)
			}
		}
	}
	var checks []finding.Check
	for _, r := range containerRows() {
		var ids []string
		for _, id := range r.rules {
			if enabled(id) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			continue
		}
		row := finding.Check{Section: r.section, CIS: r.cis, RuleID: strings.Join(ids, ","), Title: r.title, Manual: r.manual}
		var names []string
		top := finding.Info
		foldedInto := ""
		needsImage := false
		for _, id := range ids {
			for _, n := range failing[id] {
				names = appendOnce(names, n)
			}
			if _, ok := failing[id]; ok {
				top = max(top, sev[id])
			}
			if len(foldedNames[id]) > 0 {
				foldedInto = foldedBy[id]
				for _, n := range foldedNames[id] {
					names = appendOnce(names, n)
				}
				top = max(top, finding.Low)
			}
			needsImage = needsImage || imageRules[id]
		}
		switch {
		case s.Engine == nil:
			row.Status, row.Note = finding.CheckInfo, "not checked: the Engine API was not available ("+s.EngineErr+")"
		case len(s.Engine.Containers) == 0:
			row.Status, row.Note = finding.CheckInfo, "no running containers"
		case len(names) > 0:
			row.Status = finding.CheckWarn
			if top == finding.Info {
				row.Status = finding.CheckNote
			}
			slices.Sort(names)
			row.Note = plural(len(names), "container", "containers") + ": " + list(names, 10)
			if foldedInto != "" {
				row.Note += "; the Engine's default for every container, reported once as " + foldedInto
			}
		case r.cis == "4.2" && !o.Policy.Configured():
			row.Status, row.Note = finding.CheckInfo, "not checked: no trustedRegistries or trust rules in the configuration"
		case needsImage && len(noImage) > 0:
			row.Status, row.Note = finding.CheckInfo, "not checked for "+list(noImage, 5)+": "+imageWhy
		default:
			row.Status, row.Note = finding.CheckPass, plural(len(s.Engine.Containers), "running container", "running containers")
		}
		checks = append(checks, row)
	}
	return findings, checks
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// hostEnabled reports whether a host rule runs.
func (o CheckOptions) hostEnabled(id string) bool {
	if o.Enabled == nil {
		return true
	}
	for _, r := range Rules() {
		if r.ID == id {
			return o.Enabled(&r.Rule)
		}
	}
	return false
}

// ContainerTargets are the running containers as report targets, as
// `dockvet container` names them.
func (s *Snapshot) ContainerTargets() []finding.Target {
	if s.Engine == nil {
		return nil
	}
	var out []finding.Target
	for i := range s.Engine.Containers {
		out = append(out, finding.Target{Kind: finding.SurfaceContainer, Name: s.Engine.Containers[i].Name})
	}
	return out
}

// rowRule is the rule metadata a benchmark row stands for: a host rule's,
// or the first container rule's of a container row.
func rowRule(c finding.Check) (finding.Rule, string, bool) {
	for _, r := range Rules() {
		if r.ID == c.RuleID {
			return r.Rule, r.Benchmark, true
		}
	}
	first, _, _ := strings.Cut(c.RuleID, ",")
	for _, r := range containerCatalog() {
		if r.ID == first {
			return r, c.Title, true
		}
	}
	return finding.Rule{}, "", false
}
