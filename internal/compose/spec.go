package compose

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/safefile"

	"github.com/compose-spec/compose-go/v2/format"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/dockvet/dockvet/internal/container"
)

// workload is what services and jobs share: both start containers.
type workload struct {
	kind, name    string
	containerName string
	restart       string
	deploy        *types.DeployConfig
	cs            types.ContainerSpec
	ws            types.WorkloadSpec
}

func (p *Project) buildSpecs() {
	var ws []workload
	for _, s := range p.Model.Services {
		ws = append(ws, workload{kind: "services", name: s.Name, containerName: s.ContainerName, restart: s.Restart,
			deploy: s.Deploy, cs: s.ContainerSpec, ws: s.WorkloadSpec})
	}
	for _, j := range p.Model.Jobs {
		ws = append(ws, workload{kind: "jobs", name: j.Name, cs: j.ContainerSpec, ws: j.WorkloadSpec})
	}
	slices.SortFunc(ws, func(a, b workload) int { return strings.Compare(a.kind+"/"+a.name, b.kind+"/"+b.name) })
	for _, w := range ws {
		p.Specs = append(p.Specs, p.spec(w))
	}
}

// builder fills one spec, asking the locator where each setting is.
type builder struct {
	p    *Project
	s    *svc
	w    workload
	spec *container.Spec
}

func (b *builder) src(path ...string) container.Source {
	src, _, _ := b.s.key(path...)
	return src
}

func (b *builder) has(path ...string) bool {
	_, _, ok := b.s.key(path...)
	return ok
}

// str is a string setting. When the written value uses a variable that no
// project file sets, the value is kept as written ("${APP_USER}"), as a
// `docker run $X` would be: rules do not judge what they cannot know.
func (b *builder) str(model string, path ...string) container.Setting[string] {
	src, v, ok := b.s.key(path...)
	if !ok && model == "" {
		return container.Setting[string]{}
	}
	if v = deref(v); v != nil && v.Kind == yaml.ScalarNode && b.envOf(path...).undefined(v.Value) {
		return container.Of(v.Value, src)
	}
	return container.Of(model, src)
}

// envOf is the environment of the file that wrote a key.
func (b *builder) envOf(path ...string) *environment {
	for i := len(b.s.layers) - 1; i >= 0; i-- {
		if k, _ := lookupPath(b.s.layers[i].node, path); k != nil {
			return b.s.layers[i].file.env
		}
	}
	return b.p.env
}

func (b *builder) boolean(dst *container.Setting[bool], model bool, path ...string) {
	if model || b.has(path...) {
		*dst = container.Of(model, b.src(path...))
	}
}

func (b *builder) int64s(dst *container.Setting[int64], model int64, path ...string) {
	if model != 0 || b.has(path...) {
		*dst = container.Of(model, b.src(path...))
	}
}

func (p *Project) spec(w workload) *container.Spec {
	s := p.loc.service(w.kind, w.name)
	sp := &container.Spec{Origin: container.FromCompose, Engine: "docker", Service: w.name, Name: w.containerName, Src: s.Src()}
	b := &builder{p: p, s: s, w: w, spec: sp}
	cs := w.cs

	sp.Image = b.str(cs.Image, "image")
	sp.Build = w.ws.Build != nil
	sp.User = b.str(cs.User, "user")
	b.boolean(&sp.Privileged, cs.Privileged, "privileged")
	b.boolean(&sp.ReadOnlyRootfs, cs.ReadOnly, "read_only")
	for _, c := range cs.CapAdd {
		sp.CapAdd = append(sp.CapAdd, container.Of(container.NormalizeCap(c), b.itemText([]string{"cap_add"}, c, capEqual)))
	}
	for _, c := range cs.CapDrop {
		sp.CapDrop = append(sp.CapDrop, container.Of(container.NormalizeCap(c), b.itemText([]string{"cap_drop"}, c, capEqual)))
	}
	for _, o := range cs.SecurityOpt {
		// An option the Engine would refuse is not a finding; compose up
		// reports it.
		_ = container.ApplySecurityOpt(&sp.Security, o, b.itemText([]string{"security_opt"}, o, strEqual))
	}
	sp.Namespaces = container.Namespaces{
		PID: b.str(cs.Pid, "pid"), IPC: b.str(cs.Ipc, "ipc"), UTS: b.str(cs.Uts, "uts"),
		Cgroup: b.str(cs.Cgroup, "cgroup"), User: b.str(cs.UserNSMode, "userns_mode"),
		Network: b.str(cs.NetworkMode, "network_mode"),
	}
	sp.CgroupParent = b.str(cs.CgroupParent, "cgroup_parent")
	if !sp.Namespaces.Network.Set && b.has("net") {
		sp.Namespaces.Network = b.str("", "net")
		if v, _, ok := s.scalar("net"); ok {
			sp.Namespaces.Network.Value = v
		}
	}
	b.mounts()
	for _, d := range cs.Devices {
		src, _, _ := s.item([]string{"devices"}, func(n *yaml.Node, env *environment) bool {
			if n.Kind == yaml.MappingNode {
				return field(n, env, "source") == d.Source
			}
			host, _, _ := strings.Cut(env.interpolate(n.Value), ":")
			return host == d.Source
		})
		sp.Devices = append(sp.Devices, container.Device{Host: d.Source, Container: d.Target, Permissions: d.Permissions, Src: src})
	}
	for _, r := range cs.DeviceCgroupRules {
		sp.DeviceCgroupRules = append(sp.DeviceCgroupRules, container.Of(r, b.itemText([]string{"device_cgroup_rules"}, r, strEqual)))
	}
	b.ports()
	b.resources()
	for _, name := range sortedKeys(cs.Ulimits) {
		u := cs.Ulimits[name]
		soft, hard := int64(u.Soft), int64(u.Hard)
		if u.Single != 0 {
			soft, hard = int64(u.Single), int64(u.Single)
		}
		sp.Ulimits = append(sp.Ulimits, container.Ulimit{Name: name, Soft: soft, Hard: hard, Src: b.src("ulimits", name)})
	}
	b.restart()
	b.environment()
	if hc := w.ws.HealthCheck; hc != nil {
		disabled := hc.Disable || len(hc.Test) > 0 && strings.EqualFold(hc.Test[0], "NONE")
		sp.Healthcheck = container.Of(container.Healthcheck{Test: hc.Test, Disabled: disabled}, b.src("healthcheck"))
	}
	for _, name := range sortedKeys(cs.Sysctls) {
		src, _, _ := s.entry([]string{"sysctls"}, name)
		sp.Sysctls = append(sp.Sysctls, container.Sysctl{Name: name, Value: cs.Sysctls[name], Src: src})
	}
	switch {
	case cs.Logging != nil && cs.Logging.Driver != "":
		src := b.src("logging", "driver")
		if !src.Known() {
			src = b.src("log_driver")
		}
		sp.Log = container.Of(container.LogConfig{Driver: cs.Logging.Driver, Options: cs.Logging.Options}, src)
	case cs.LogDriver != "":
		sp.Log = container.Of(container.LogConfig{Driver: cs.LogDriver, Options: cs.LogOpt}, b.src("log_driver"))
	}
	return sp
}

func capEqual(text, model string) bool {
	return container.NormalizeCap(text) == container.NormalizeCap(model)
}

func strEqual(text, model string) bool { return strings.TrimSpace(text) == strings.TrimSpace(model) }

// itemText locates a list item whose interpolated text matches the model's
// value.
func (b *builder) itemText(path []string, model string, eq func(text, model string) bool) container.Source {
	src, _, ok := b.s.item(path, func(n *yaml.Node, env *environment) bool {
		return n.Kind == yaml.ScalarNode && eq(env.interpolate(n.Value), model)
	})
	if !ok {
		return b.src(path...)
	}
	return src
}

func (b *builder) mounts() {
	cs, sp, s := b.w.cs, b.spec, b.s
	for _, v := range cs.Volumes {
		var raw string
		src, _, _ := s.item([]string{"volumes"}, func(n *yaml.Node, env *environment) bool {
			if n.Kind == yaml.MappingNode {
				if field(n, env, "target") == v.Target {
					raw = field(n, env, "source")
					return true
				}
				return false
			}
			pv, err := format.ParseVolume(env.interpolate(n.Value))
			if err == nil && pv.Target == v.Target {
				raw = pv.Source
				return true
			}
			return false
		})
		m := container.Mount{Target: v.Target, ReadOnly: v.ReadOnly, Source: v.Source, Src: src}
		switch v.Type {
		case types.VolumeTypeBind:
			m.Type = container.MountBind
			m.Source = b.p.bindSource(v.Source, raw)
			m.HostPath = container.HostPath(m.Source)
			if v.Bind != nil {
				m.Propagation = v.Bind.Propagation
			}
		case types.VolumeTypeVolume:
			m.Type = container.MountVolume
			if vol, ok := b.p.Model.Volumes[v.Source]; ok && !bool(vol.External) {
				m.HostPath = container.BoundDevice(vol.Driver, vol.DriverOpts)
			}
		case types.VolumeTypeTmpfs:
			m.Type = container.MountTmpfs
		case types.VolumeTypeNamedPipe:
			m.Type, m.HostPath = container.MountPipe, container.HostPath(v.Source)
		case types.VolumeTypeImage:
			m.Type = container.MountImage
		default:
			m.Type = container.MountOther
		}
		sp.Mounts = append(sp.Mounts, m)
	}
	for _, t := range cs.Tmpfs {
		target, _, _ := strings.Cut(t, ":")
		src := b.itemText([]string{"tmpfs"}, target, func(text, model string) bool {
			tt, _, _ := strings.Cut(text, ":")
			return strings.TrimSpace(tt) == model
		})
		sp.Mounts = append(sp.Mounts, container.Mount{Type: container.MountTmpfs, Target: target, Src: src})
	}
	if cs.UseAPISocket {
		sp.Mounts = append(sp.Mounts, container.APISocketMount(b.src("use_api_socket")))
	}
}

// bindSource shows a bind source as the file wrote it: relative sources
// stay relative to the project (compose-go makes them absolute, which
// would make a project under /home look like a home directory), "~"
// stays "~".
func (p *Project) bindSource(model, raw string) string {
	switch {
	case strings.HasPrefix(raw, "~"), strings.HasPrefix(raw, "$HOME"), strings.HasPrefix(raw, "${HOME}"):
		return raw
	case raw != "" && !filepath.IsAbs(raw) && !strings.HasPrefix(raw, "/"):
		return raw
	}
	if wd := p.Model.WorkingDir; wd != "" && model != "" {
		if rel, err := filepath.Rel(wd, model); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return "./" + filepath.ToSlash(rel)
		}
	}
	return model
}

func (b *builder) ports() {
	for _, pc := range b.w.ws.Ports {
		src, _, _ := b.s.item([]string{"ports"}, func(n *yaml.Node, env *environment) bool {
			if n.Kind == yaml.MappingNode {
				return field(n, env, "target") == fmt.Sprint(pc.Target) && field(n, env, "published") == pc.Published &&
					field(n, env, "host_ip") == pc.HostIP
			}
			pcs, err := types.ParsePortConfig(env.interpolate(n.Value))
			if err != nil {
				return false
			}
			for _, x := range pcs {
				if x.Target == pc.Target && x.Published == pc.Published && x.HostIP == pc.HostIP && x.Protocol == pc.Protocol {
					return true
				}
			}
			return false
		})
		port, err := container.PortFromMapping(pc.HostIP, pc.Target, pc.Published, pc.Protocol, src)
		if err != nil {
			continue
		}
		b.spec.Ports = append(b.spec.Ports, port)
	}
}

func (b *builder) resources() {
	cs, r := b.w.cs, &b.spec.Resources
	var limits, reservations *types.Resource
	if d := b.w.deploy; d != nil {
		limits, reservations = d.Resources.Limits, d.Resources.Reservations
	}
	lim := []string{"deploy", "resources", "limits"}
	switch {
	case limits != nil && limits.MemoryBytes > 0:
		r.Memory = container.Of(int64(limits.MemoryBytes), b.src(append(lim, "memory")...))
	default:
		b.int64s(&r.Memory, int64(cs.MemLimit), "mem_limit")
	}
	b.int64s(&r.MemorySwap, int64(cs.MemSwapLimit), "memswap_limit")
	switch {
	case reservations != nil && reservations.MemoryBytes > 0:
		r.MemoryReservation = container.Of(int64(reservations.MemoryBytes), b.src("deploy", "resources", "reservations", "memory"))
	default:
		b.int64s(&r.MemoryReservation, int64(cs.MemReservation), "mem_reservation")
	}
	switch {
	case limits != nil && limits.NanoCPUs > 0:
		r.NanoCPUs = container.Of(int64(float64(limits.NanoCPUs)*1e9), b.src(append(lim, "cpus")...))
	default:
		b.int64s(&r.NanoCPUs, int64(float64(cs.CPUS)*1e9), "cpus")
	}
	b.int64s(&r.CPUShares, cs.CPUShares, "cpu_shares")
	b.int64s(&r.CPUQuota, cs.CPUQuota, "cpu_quota")
	b.int64s(&r.CPUPeriod, cs.CPUPeriod, "cpu_period")
	if cs.CPUSet != "" {
		r.CpusetCPUs = container.Of(cs.CPUSet, b.src("cpuset"))
	}
	switch {
	case limits != nil && limits.Pids > 0:
		r.PidsLimit = container.Of(limits.Pids, b.src(append(lim, "pids")...))
	default:
		b.int64s(&r.PidsLimit, cs.PidsLimit, "pids_limit")
	}
}

func (b *builder) restart() {
	if b.w.restart != "" {
		if p, err := container.ParseRestart(b.w.restart); err == nil {
			b.spec.Restart = container.Of(p, b.src("restart"))
		}
		return
	}
	if d := b.w.deploy; d != nil && d.RestartPolicy != nil {
		p := container.RestartPolicy{}
		switch d.RestartPolicy.Condition {
		case "none":
			p.Name = "no"
		case "on-failure":
			p.Name = "on-failure"
		default: // "any", the default condition
			p.Name = "always"
		}
		if d.RestartPolicy.MaxAttempts != nil {
			p.MaxRetries = int(*d.RestartPolicy.MaxAttempts)
			if p.Name == "always" && p.MaxRetries > 0 {
				p.Name = "on-failure"
			}
		}
		b.spec.Restart = container.Of(p, b.src("deploy", "restart_policy"))
	}
}

// environment takes the resolved environment (env_file entries merged
// under `environment`) and finds where each value was written: an
// `environment` entry (or, for a bare NAME, the project env file that
// supplied it), or else the service's env file that set it last.
func (b *builder) environment() {
	envFiles := b.envFileIndex()
	for _, name := range sortedKeys(b.w.cs.Environment) {
		val := b.w.cs.Environment[name]
		e := container.EnvVar{Name: name, Known: val != nil}
		if val != nil {
			e.Value = *val
		}
		if src, n, ok := b.s.entry([]string{"environment"}, name); ok {
			e.Src = src
			if bare(n, name) {
				if d, ok := b.envOf("environment").defs[name]; ok {
					e.Src = container.Source{Path: d.path, Line: d.line, Note: fmt.Sprintf("passed by %s line %d", src.Path, src.Line)}
				}
			}
		} else if d, ok := envFiles[name]; ok {
			e.Src = container.Source{Path: d.path, Line: d.line}
		}
		b.spec.Env = append(b.spec.Env, e)
	}
}

// bare reports whether an environment entry gives only a name, leaving
// the value to the project environment.
func bare(n *yaml.Node, name string) bool {
	n = deref(n)
	if n == nil {
		return true
	}
	if n.Kind != yaml.ScalarNode {
		return false
	}
	if n.Tag == "!!null" {
		return true
	}
	return strings.TrimSpace(n.Value) == name // list form "NAME"
}

func (b *builder) envFileIndex() map[string]envDef {
	out := map[string]envDef{}
	for _, ef := range b.w.cs.EnvFiles {
		data, err := safefile.ReadFile(ef.Path, safefile.MaxSource)
		if err != nil {
			continue
		}
		for name, line := range envLines(data) {
			out[name] = envDef{path: b.p.display(ef.Path), line: line}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
