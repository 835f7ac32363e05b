package watch

import (
	"fmt"
	"slices"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/plugin"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/policy"
)

// Exec is an exec instance, as the Engine describes it, and the container
// it runs in (nil when that is gone).
type Exec struct {
	Event     Event
	Inspect   containertypes.ExecInspectResponse
	Container *live.Container
}

func (x *Exec) who() string {
	if x.Container != nil {
		return "container " + label(x.Container)
	}
	return "container " + shortID(x.Inspect.ContainerID)
}

// what is the exec's program, quoted, or "a command".
func (x *Exec) what() string {
	if pc := x.Inspect.ProcessConfig; pc != nil && pc.Entrypoint != "" {
		return fmt.Sprintf("%q", pc.Entrypoint)
	}
	if p := x.Event.program(); p != "" {
		return fmt.Sprintf("%q", p)
	}
	return "a command"
}

// user is the user the exec runs as, and whether it is the container's
// own. The Engine writes the container's user into an exec that names
// none, so an exec's user is always the one it runs as; it is the
// container's when the two are the same.
func (x *Exec) user() (string, bool) {
	u := ""
	if pc := x.Inspect.ProcessConfig; pc != nil {
		u = strings.TrimSpace(pc.User)
	}
	cu := ""
	if x.Container != nil && x.Container.Inspect.Config != nil {
		cu = strings.TrimSpace(x.Container.Inspect.Config.User)
	}
	if u == "" {
		return cu, true
	}
	return u, u == cu
}

var refExec = []string{"https://docs.docker.com/reference/cli/docker/container/exec/"}

var ruleExecPrivileged = &Rule[Exec]{
	Rule: finding.Rule{
		ID: "DV5001", Title: "Privileged exec into a running container", Practice: finding.PracticeCapabilities,
		Severity: finding.Critical, CIS: "5.23",
		Description: "`docker exec --privileged` gives the process it starts every Linux capability (CAP_SYS_ADMIN, CAP_SYS_MODULE, " +
			"CAP_SYS_PTRACE …), whatever the container was started with: dropped capabilities and no-new-privileges do not bind it, " +
			"and from there mounting host filesystems or loading kernel modules is one step. Reported when the exec is created, " +
			"whether or not the runtime then manages to start it.",
		Remediation: "Do not use `--privileged` with `docker exec`. Give the container the one capability a task needs when it is " +
			"created, or run the task in a purpose-built container; find out who ran the exec (the daemon's log, the audit log).",
		References: refExec,
	},
	Check: func(p *Pass[Exec]) {
		x := p.Model
		pc := x.Inspect.ProcessConfig
		if pc == nil || pc.Privileged == nil || !*pc.Privileged {
			return
		}
		p.report("An exec of %s into %s asked for --privileged, which gives the process every capability.", x.what(), x.who())
	},
}

var ruleExecRoot = &Rule[Exec]{
	Rule: finding.Rule{
		ID: "DV5002", Title: "Exec as root into a running container", Practice: finding.PracticeNonRoot,
		Severity: finding.Medium, CIS: "5.24",
		Description: "A `docker exec` runs as root, by `--user root`/`--user 0` or because the container itself runs as root and " +
			"the exec names no user. An interactive root shell in a running container can change what the application " +
			"trusts, and it is the user a container escape starts from.",
		Remediation: "Exec as the application's unprivileged user (`docker exec --user 10001 …`), and run containers as a " +
			"non-root user so that an exec without --user is not root either.",
		References: refExec,
	},
	Check: func(p *Pass[Exec]) {
		x := p.Model
		u, inherited := x.user()
		if u != "" && !container.IsRootUser(u) {
			return
		}
		if inherited {
			p.report("An exec of %s into %s runs as root, the container's user.", x.what(), x.who())
			return
		}
		p.report("An exec of %s into %s runs as root (--user %s).", x.what(), x.who(), u)
	},
}

// Connect is a container connected to a network, and the container as it
// was found right after.
type Connect struct {
	Event     Event
	Container *live.Container
}

// afterStart reports whether the connection happened while the container
// was running, not as part of starting it: a start connects first and
// then starts, so a container that had started before the event was
// connected afterwards.
func (c *Connect) afterStart() bool {
	st := c.Container.Inspect.State
	if st == nil || !st.Running || c.Event.Time.IsZero() {
		return false
	}
	started, ok := parseTime(st.StartedAt)
	return ok && started.Before(c.Event.Time)
}

func (c *Connect) host() bool {
	return c.Event.NetworkType == "host" || c.Event.Name == "host"
}

var refNetworkConnect = []string{"https://docs.docker.com/reference/cli/docker/network/connect/"}

var ruleConnectHost = &Rule[Connect]{
	Rule: finding.Rule{
		ID: "DV5003", Title: "Running container joined the host network", Practice: finding.PracticeNetwork,
		Severity: finding.High, CIS: "5.10",
		Description: "A container that was already running was connected to the host's network: it now sees every interface " +
			"of the host and can bind its ports and reach services listening on loopback, which nothing that reviewed its " +
			"run command or Compose file saw. (Docker itself refuses this; engines and tools that do not are reported.)",
		Remediation: "Disconnect the container and recreate it with its own network; if a service must be reachable, publish " +
			"its port on a specific host address instead.",
		References: refNetworkConnect,
	},
	Check: func(p *Pass[Connect]) {
		c := p.Model
		if c.host() && c.afterStart() {
			p.report("Container %s was connected to the host network while it was running.", label(c.Container))
		}
	},
}

var ruleConnectNetwork = &Rule[Connect]{
	Rule: finding.Rule{
		ID: "DV5004", Title: "Running container connected to another network", Practice: finding.PracticeNetwork,
		Severity: finding.Low,
		Description: "A running container was connected to a further network with `docker network connect`. It can now reach, " +
			"and be reached by, every container on that network — a path between workloads that its run command or Compose " +
			"file does not show.",
		Remediation: "Declare the networks a container needs where it is defined (Compose `networks:`), and check that this " +
			"connection was intended; `docker network disconnect` removes it.",
		References: refNetworkConnect,
	},
	Check: func(p *Pass[Connect]) {
		c := p.Model
		if c.host() || !c.afterStart() {
			return
		}
		kind := ""
		if c.Event.NetworkType != "" {
			kind = " (" + c.Event.NetworkType + ")"
		}
		p.report("Container %s was connected to network %s%s while it was running.", label(c.Container), c.Event.Name, kind)
	},
}

// ImageEvent is an image pulled, loaded or tagged: the reference the event
// names and the image as the Engine describes it afterwards (nil when it
// is gone).
type ImageEvent struct {
	Event Event
	// Ref is the reference pulled, or the new tag; it does not parse for
	// a load (an image ID).
	Ref    policy.Image
	RefErr error
	Image  *image.InspectResponse
}

// newImageEvent is the model of an image event: the reference a pull
// names, or the tag a tag event adds; img is the image as inspected after
// the event (nil when gone).
func newImageEvent(ev Event, img *image.InspectResponse) *ImageEvent {
	m := &ImageEvent{Event: ev, Image: img}
	switch ev.Action {
	case "pull":
		m.Ref, m.RefErr = policy.ParseImage(ev.Actor)
	case "tag":
		m.Ref, m.RefErr = policy.ParseImage(ev.Name)
	default:
		m.RefErr = fmt.Errorf("a %s event names no reference", ev.Action)
	}
	return m
}

// name is what the findings of an image event are about.
func (m *ImageEvent) name() string {
	if m.RefErr == nil {
		return m.Ref.Raw
	}
	return shortID(m.Event.Actor)
}

var refPull = []string{"https://docs.docker.com/reference/cli/docker/image/pull/#pull-an-image-by-digest-immutable-identifier"}

var rulePullUntrusted = &Rule[ImageEvent]{
	Rule: finding.Rule{
		ID: "DV5010", Title: "Image pulled from a registry outside the trusted list", Practice: finding.PracticeRegistry,
		Severity: finding.High, CIS: "4.2",
		Description: "The Engine pulled an image from a registry that the project's `trustedRegistries` does not list. Its " +
			"content is whatever that registry serves; containers started from it run code nobody vetted. Only reported when " +
			"an allow-list is configured.",
		Remediation: "Pull from a trusted registry (mirror the image there after review), or add the registry to " +
			"`trustedRegistries` in .dockvet.yaml if it is trusted; remove the image (`docker image rm`).",
		References: refPull,
	},
	Check: func(p *Pass[ImageEvent]) {
		m := p.Model
		if m.Event.Action != "pull" || m.RefErr != nil || !p.Policy.HasAllowList() || p.Policy.Trusted(m.Ref) {
			return
		}
		p.report("Image %s was pulled from %s, which is not a trusted registry.", m.Ref.Raw, m.Ref.Domain)
	},
}

var rulePullLatest = &Rule[ImageEvent]{
	Rule: finding.Rule{
		ID: "DV5011", Title: "Image pulled without a tag or by :latest", Practice: finding.PracticeRegistry,
		Severity: finding.Medium,
		Description: "The Engine pulled `latest` (or every tag of a repository): what that name holds changes with every push, " +
			"so the next pull of the same name can bring different software, and what runs cannot be traced to a build.",
		Remediation: "Pull a fixed version by digest (`image@sha256:…`), or at least an exact version tag.",
		References:  refPull,
	},
	Check: func(p *Pass[ImageEvent]) {
		m := p.Model
		if m.Event.Action != "pull" || m.RefErr != nil || m.Ref.Digest != "" {
			return
		}
		switch m.Ref.Tag {
		case "latest":
			p.report("Image %s was pulled by the tag latest, which names whatever was pushed last.", m.Ref.Raw)
		case "":
			p.report("Every tag of %s was pulled, none of them fixed.", m.Ref.Raw)
		}
	},
}

var rulePullTag = &Rule[ImageEvent]{
	Rule: finding.Rule{
		ID: "DV5012", Title: "Image pulled by tag, not by digest", Practice: finding.PracticeRegistry,
		Severity: finding.Low,
		Description: "The Engine pulled an image by a version tag. A tag can be moved to other content by whoever can push " +
			"to the repository; only a digest names fixed content.",
		Remediation: "Pull by digest (`image:tag@sha256:…`) so that the same reference always gives the same image.",
		References:  refPull,
	},
	Check: func(p *Pass[ImageEvent]) {
		m := p.Model
		if m.Event.Action != "pull" || m.RefErr != nil || m.Ref.Digest != "" || m.Ref.Tag == "" || m.Ref.Tag == "latest" {
			return
		}
		p.report("Image %s was pulled by its tag %s, which can be moved to other content.", m.Ref.Raw, m.Ref.Tag)
	},
}

var ruleTagDisguise = &Rule[ImageEvent]{
	Rule: finding.Rule{
		ID: "DV5013", Title: "Image from an untrusted registry renamed into a trusted one", Practice: finding.PracticeRegistry,
		Severity: finding.High, CIS: "4.2",
		Description: "An image that the Engine pulled only from registries outside the trusted list was tagged with the name " +
			"of a trusted registry. Containers started by that name pass every allow-list check while running the untrusted " +
			"content. Only reported when an allow-list is configured.",
		Remediation: "Remove the tag (`docker image rm NAME`) and pull the image from the trusted registry; find out who " +
			"tagged it.",
		References: refPull,
	},
	Check: func(p *Pass[ImageEvent]) {
		m := p.Model
		if m.Event.Action != "tag" || m.RefErr != nil || m.Image == nil || !p.Policy.HasAllowList() || !p.Policy.Trusted(m.Ref) {
			return
		}
		var from []string
		for _, d := range m.Image.RepoDigests {
			img, err := policy.ParseImage(d)
			if err != nil {
				continue
			}
			if p.Policy.Trusted(img) {
				return // it also came from a trusted registry
			}
			if !slices.Contains(from, img.Domain) {
				from = append(from, img.Domain)
			}
		}
		if len(from) == 0 {
			return // built or loaded here: nothing says where it came from
		}
		p.report("Image %s, pulled only from %s, was tagged %s, a trusted registry's name.",
			shortID(m.Image.ID), strings.Join(from, ", "), m.Ref.Raw)
	},
}

var ruleImageLoaded = &Rule[ImageEvent]{
	Rule: finding.Rule{
		ID: "DV5014", Title: "Image loaded from an archive", Practice: finding.PracticeMonitoring,
		Severity: finding.Info,
		Description: "An image was loaded from a tar archive (`docker load`). It did not come from a registry: neither the " +
			"registry allow-list nor registry signatures vouch for it, and the names it carries are whatever the archive says.",
		Remediation: "Prefer pulling from a trusted registry; when archives are part of the delivery, verify their checksum " +
			"or signature before loading them and audit the image (`dockvet image`).",
		References: []string{"https://docs.docker.com/reference/cli/docker/image/load/"},
	},
	Check: func(p *Pass[ImageEvent]) {
		m := p.Model
		if m.Event.Action != "load" {
			return
		}
		id := shortID(m.Event.Actor)
		if m.Image != nil && len(m.Image.RepoTags) > 0 {
			p.report("Image %s (%s) was loaded from an archive.", id, strings.Join(m.Image.RepoTags, ", "))
			return
		}
		p.report("Image %s was loaded from an archive.", id)
	},
}

// Plugin is a plugin installed, created or enabled, as the Engine
// describes it.
type Plugin struct {
	Event  Event
	Plugin plugin.Plugin
}

// privileges lists what a plugin holds of the host.
func (m *Plugin) privileges() []string {
	c := m.Plugin.Config
	var out []string
	for _, capName := range c.Linux.Capabilities {
		out = append(out, container.NormalizeCap(capName))
	}
	if c.Linux.AllowAllDevices {
		out = append(out, "every host device")
	}
	for _, d := range c.Linux.Devices {
		if d.Path != nil && *d.Path != "" {
			out = append(out, "device "+*d.Path)
		}
	}
	if c.Network.Type == "host" {
		out = append(out, "the host network")
	}
	if c.PidHost {
		out = append(out, "the host PID namespace")
	}
	if c.IpcHost {
		out = append(out, "the host IPC namespace")
	}
	for _, mt := range c.Mounts {
		if mt.Source != nil && strings.HasPrefix(*mt.Source, "/") && (mt.Type == "bind" || mt.Type == "") {
			out = append(out, "host path "+*mt.Source)
		}
	}
	for _, mt := range m.Plugin.Settings.Mounts {
		if mt.Source != nil && strings.HasPrefix(*mt.Source, "/") && (mt.Type == "bind" || mt.Type == "") {
			s := "host path " + *mt.Source
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func (m *Plugin) name() string {
	if m.Plugin.Name != "" {
		return m.Plugin.Name
	}
	if m.Event.Name != "" {
		return m.Event.Name
	}
	return shortID(m.Event.Actor)
}

func (m *Plugin) verb() string {
	switch m.Event.Action {
	case "enable":
		return "enabled"
	case "create":
		return "created"
	}
	return "installed"
}

var refPlugins = []string{"https://docs.docker.com/engine/extend/"}

var rulePluginPrivileged = &Rule[Plugin]{
	Rule: finding.Rule{
		ID: "DV5020", Title: "Plugin with host privileges installed or enabled", Practice: finding.PracticeCapabilities,
		Severity: finding.High,
		Description: "A Docker plugin asks for privileges over the host — capabilities, host devices, the host's network, PID " +
			"or IPC namespace, or host paths — and the daemon runs it as root with them, outside any container's limits. A " +
			"plugin is installed by whoever controls the Engine API and keeps running across container restarts.",
		Remediation: "Install plugins only from publishers you trust, after reviewing the privileges `docker plugin install` " +
			"lists; remove plugins that are not needed (`docker plugin rm`).",
		References: refPlugins,
	},
	Check: func(p *Pass[Plugin]) {
		m := p.Model
		if privs := m.privileges(); len(privs) > 0 {
			p.report("Plugin %s was %s with %s.", m.name(), m.verb(), list(privs, 6))
		}
	},
}

var rulePluginInstalled = &Rule[Plugin]{
	Rule: finding.Rule{
		ID: "DV5021", Title: "Plugin installed or enabled", Practice: finding.PracticeMonitoring,
		Severity: finding.Info,
		Description: "A Docker plugin was installed, created or enabled. Plugins are code the daemon runs as root beside it; " +
			"each one is worth knowing about even without extra privileges.",
		Remediation: "Check that the plugin is expected and comes from a publisher you trust; remove it otherwise.",
		References:  refPlugins,
	},
	Check: func(p *Pass[Plugin]) {
		m := p.Model
		if len(m.privileges()) == 0 {
			p.report("Plugin %s was %s.", m.name(), m.verb())
		}
	},
}

// label names a container in messages: its name and short ID.
func label(c *live.Container) string {
	if n, id := c.Name(), c.ShortID(); n != id && id != "" {
		return n + " (" + id + ")"
	}
	return c.Name()
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// list joins at most max items, saying how many more there are.
func list(items []string, max int) string {
	if len(items) > max {
		return strings.Join(items[:max], ", ") + fmt.Sprintf(" and %d more", len(items)-max)
	}
	if len(items) > 1 {
		return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
	}
	return strings.Join(items, "")
}
