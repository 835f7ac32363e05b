package live

import (
	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/rule"
)

// Options configure an audit.
type Options struct {
	// Target is what the findings belong to; the zero value is the
	// container itself (Target(c)).
	Target finding.Target
	// Policy is the project's trust policy (trusted registries).
	Policy *policy.Policy
	// Enabled filters rules; nil runs all.
	Enabled rule.Filter
	// Daemon are the daemon-wide defaults, when the caller knows them.
	Daemon Daemon
}

// Target is a live container as a report target: kind container, its
// name.
func Target(c *Container) finding.Target {
	return finding.Target{Kind: finding.SurfaceContainer, Name: c.Name()}
}

// Audit runs the container rules over the container's spec, and the image
// rules over what the Engine says about its image. Every finding has
// location.container set to the container's name; messages name it with
// its short ID, "container web (3f4e5d6c7b8a)", so a report stays exact
// after the name is reused.
func Audit(c *Container, opts Options) []finding.Finding {
	t := opts.Target
	if t == (finding.Target{}) {
		t = Target(c)
	}
	spec := Spec(c, opts.Daemon)
	// Rules name the container through the spec's Name; the copy they see
	// carries the ID as well, and the locations get the plain name back.
	named := *spec
	named.Name = c.label()
	out := container.Check(&named, container.Options{Target: t, Policy: opts.Policy, Enabled: opts.Enabled})
	for i := range out {
		out[i].Location.Container = spec.Name
	}
	rule.Run(rules, opts.Enabled, func(r *finding.Rule) *Pass {
		return &Pass{Reporter: rule.NewReporter(r, t, &out), Container: c, Spec: spec}
	})
	return out
}

// label names the container in messages: its name and short ID.
func (c *Container) label() string {
	if n, id := c.Name(), c.ShortID(); n != id && id != "" {
		return n + " (" + id + ")"
	}
	return c.Name()
}
