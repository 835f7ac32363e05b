package live

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/dockvet/dockvet/internal/container"
)

// Daemon holds daemon-wide defaults that apply to every container but that
// a container's inspect data does not show. The host audit reads them from
// daemon.json; without them the Engine's built-in defaults are assumed.
type Daemon struct {
	// NoNewPrivileges is daemon.json's "no-new-privileges": containers
	// that do not set the option get it.
	NoNewPrivileges bool
}

// none is the Source of every live setting: there is no file, and
// findings name the container instead.
var none container.Source

// Spec turns the container's inspect data into the container spec. The
// Engine has already merged the image's USER and HEALTHCHECK into
// Config.User and Config.Healthcheck, so ImageDefaultsKnown is set. Zero
// values the Engine writes for "not given" (Memory 0, PidsLimit null, an
// empty mode) are left unset, as a `docker run` line without the flag
// would leave them.
func Spec(c *Container, d Daemon) *container.Spec {
	in := &c.Inspect
	hc := in.HostConfig
	if hc == nil {
		hc = &containertypes.HostConfig{}
	}
	cfg := in.Config
	s := &container.Spec{Origin: container.FromEngine, Engine: "docker", Name: c.Name(), ImageDefaultsKnown: cfg != nil}
	if cfg == nil {
		cfg = &containertypes.Config{}
	}

	if cfg.Image != "" {
		s.Image = container.Of(cfg.Image, none)
	}
	if strings.TrimSpace(cfg.User) != "" {
		s.User = container.Of(cfg.User, none)
	}
	// Config.User holds the image's USER when the container was given
	// none; with the image's inspect data the two can be told apart.
	if c.Image != nil && in.Config != nil {
		imageUser := ""
		if c.Image.Config != nil {
			imageUser = c.Image.Config.User
		}
		s.UserFromImage = strings.TrimSpace(cfg.User) == strings.TrimSpace(imageUser)
	}
	s.Privileged = container.Of(hc.Privileged, none)
	s.CapAdd = caps(hc.CapAdd)
	s.CapDrop = caps(hc.CapDrop)
	s.Security = security(in, hc, d)
	s.Namespaces = container.Namespaces{
		PID:     mode(string(hc.PidMode)),
		IPC:     mode(string(hc.IpcMode)),
		UTS:     mode(string(hc.UTSMode)),
		Network: mode(string(hc.NetworkMode)),
		Cgroup:  mode(string(hc.CgroupnsMode)),
		User:    mode(string(hc.UsernsMode)),
	}
	s.Mounts = mounts(c, hc)
	for _, dm := range hc.Devices {
		s.Devices = append(s.Devices, container.Device{Host: dm.PathOnHost, Container: dm.PathInContainer, Permissions: dm.CgroupPermissions})
	}
	for _, r := range hc.DeviceCgroupRules {
		s.DeviceCgroupRules = append(s.DeviceCgroupRules, container.Of(r, none))
	}
	s.Ports = ports(in, hc)
	s.PublishAll = container.Of(hc.PublishAllPorts, none)
	s.Resources = resources(&hc.Resources)
	for _, u := range hc.Ulimits {
		if u != nil {
			s.Ulimits = append(s.Ulimits, container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
		}
	}
	s.ReadOnlyRootfs = container.Of(hc.ReadonlyRootfs, none)
	if hc.RestartPolicy.Name != "" {
		s.Restart = container.Of(container.RestartPolicy{Name: string(hc.RestartPolicy.Name), MaxRetries: hc.RestartPolicy.MaximumRetryCount}, none)
	}
	for _, e := range cfg.Env {
		name, val, known := strings.Cut(e, "=")
		if name != "" {
			s.Env = append(s.Env, container.EnvVar{Name: name, Value: val, Known: known})
		}
	}
	if h := cfg.Healthcheck; h != nil && len(h.Test) > 0 {
		if strings.EqualFold(h.Test[0], "NONE") {
			s.Healthcheck = container.Of(container.Healthcheck{Disabled: true}, none)
		} else {
			s.Healthcheck = container.Of(container.Healthcheck{Test: slices.Clone(h.Test)}, none)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(hc.Sysctls)) {
		s.Sysctls = append(s.Sysctls, container.Sysctl{Name: name, Value: hc.Sysctls[name]})
	}
	if hc.CgroupParent != "" {
		s.CgroupParent = container.Of(hc.CgroupParent, none)
	}
	if hc.LogConfig.Type != "" {
		s.Log = container.Of(container.LogConfig{Driver: hc.LogConfig.Type, Options: maps.Clone(hc.LogConfig.Config)}, none)
	}
	return s
}

func caps(in []string) []container.Setting[string] {
	var out []container.Setting[string]
	for _, c := range in {
		if c = container.NormalizeCap(c); c != "" {
			out = append(out, container.Of(c, none))
		}
	}
	return out
}

func mode(m string) container.Setting[string] {
	if m == "" {
		return container.Setting[string]{}
	}
	return container.Of(m, none)
}

// security reads HostConfig.SecurityOpt as every reader does, and adds what
// the Engine records elsewhere.
func security(in *containertypes.InspectResponse, hc *containertypes.HostConfig, d Daemon) container.Security {
	var sec container.Security
	for _, o := range hc.SecurityOpt {
		// The Engine stored what it accepted; an option the rules cannot
		// read is one they do not judge.
		_ = container.ApplySecurityOpt(&sec, o, none)
	}
	// The daemon adds label=disable by itself to privileged containers and
	// to those sharing the host's PID or IPC namespace (unless a label
	// option was given). That is a consequence of a setting other rules
	// report, not a choice of whoever started the container.
	if hc.Privileged || strings.EqualFold(string(hc.PidMode), "host") || strings.EqualFold(string(hc.IpcMode), "host") {
		if len(sec.SELinux) == 1 && strings.EqualFold(sec.SELinux[0].Value, "disable") {
			sec.SELinux = nil
		}
	}
	// AppArmorProfile is the profile actually applied: it shows a
	// daemon-wide choice that SecurityOpt does not. A privileged container
	// is always unconfined, which DV3001 already says.
	if !sec.AppArmor.Set && !hc.Privileged && in.AppArmorProfile != "" {
		sec.AppArmor = container.Of(in.AppArmorProfile, none)
	}
	// systempaths=unconfined is not kept as an option: the Engine empties
	// the masked paths instead (null means "the defaults").
	if !sec.SystemPaths.Set && !hc.Privileged && hc.MaskedPaths != nil && len(hc.MaskedPaths) == 0 {
		sec.SystemPaths = container.Of("unconfined", none)
	}
	if !sec.NoNewPrivileges.Set && d.NoNewPrivileges {
		sec.NoNewPrivileges = container.Of(true, none)
	}
	return sec
}

// mounts are the mount points the Engine set up (binds, volumes and
// `--mount type=tmpfs`), then `--tmpfs` mounts, which only
// HostConfig.Tmpfs holds.
func mounts(c *Container, hc *containertypes.HostConfig) []container.Mount {
	var out []container.Mount
	seen := map[string]bool{}
	for _, mp := range c.Inspect.Mounts {
		mt := mount.Mount{Type: mp.Type, Source: mp.Source, Target: mp.Destination, ReadOnly: !mp.RW}
		if mt.Type == "" {
			// Engines before API 1.25 name volumes but not mount types.
			mt.Type = mount.TypeBind
			if mp.Name != "" {
				mt.Type = mount.TypeVolume
			}
		}
		switch mt.Type {
		case mount.TypeBind:
			mt.BindOptions = &mount.BindOptions{Propagation: mp.Propagation}
		case mount.TypeVolume:
			// Source is the volume's directory under /var/lib/docker; what
			// the volume exposes is its name, or the host path it binds.
			mt.Source = mp.Name
		}
		m := container.FromEngineMount(mt, none)
		if m.Type == container.MountVolume {
			m.HostPath = volumeHostPath(c, hc, mp)
		}
		seen[m.Target] = true
		out = append(out, m)
	}
	for _, target := range slices.Sorted(maps.Keys(hc.Tmpfs)) {
		if !seen[target] {
			out = append(out, container.Mount{Type: container.MountTmpfs, Target: target})
		}
	}
	return out
}

// volumeHostPath is the host path a volume binds: from the volume's own
// inspect data, or from the options the container created it with.
func volumeHostPath(c *Container, hc *containertypes.HostConfig, mp containertypes.MountPoint) string {
	if v, ok := c.Volumes[mp.Name]; ok {
		return container.BoundDevice(v.Driver, v.Options)
	}
	for _, m := range hc.Mounts {
		if m.Type == mount.TypeVolume && m.Target == mp.Destination && m.VolumeOptions != nil && m.VolumeOptions.DriverConfig != nil {
			return container.BoundDevice(m.VolumeOptions.DriverConfig.Name, m.VolumeOptions.DriverConfig.Options)
		}
	}
	return ""
}

// ports are the published ports as they were asked for (PortBindings, so a
// created container has them too) and, with -P, the ports the Engine
// actually bound for the image's EXPOSEd ports.
func ports(in *containertypes.InspectResponse, hc *containertypes.HostConfig) []container.Port {
	var out []container.Port
	asked := map[network.Port]bool{}
	for _, p := range sortedPorts(hc.PortBindings) {
		asked[p] = true
		for _, b := range hc.PortBindings[p] {
			out = append(out, port(p, b))
		}
	}
	if !hc.PublishAllPorts || in.NetworkSettings == nil {
		return out
	}
	// The Engine binds each port on 0.0.0.0 and on ::; that is one port
	// open on every interface.
	seen := map[string]bool{}
	for _, p := range sortedPorts(in.NetworkSettings.Ports) {
		if asked[p] {
			continue
		}
		for _, b := range in.NetworkSettings.Ports[p] {
			pt := port(p, b)
			key := pt.HostIP
			if pt.AllInterfaces() {
				key = "*"
			}
			key += "|" + strconv.Itoa(pt.HostFrom) + "|" + p.String()
			if !seen[key] {
				seen[key] = true
				out = append(out, pt)
			}
		}
	}
	return out
}

func sortedPorts(m network.PortMap) []network.Port {
	var keys []network.Port
	for p := range m {
		if p.IsValid() {
			keys = append(keys, p)
		}
	}
	slices.SortFunc(keys, func(a, b network.Port) int {
		if a.Num() != b.Num() {
			return int(a.Num()) - int(b.Num())
		}
		return strings.Compare(string(a.Proto()), string(b.Proto()))
	})
	return keys
}

func port(p network.Port, b network.PortBinding) container.Port {
	pt := container.Port{Container: int(p.Num()), ContainerTo: int(p.Num()), Proto: strings.ToLower(string(p.Proto()))}
	if pt.Proto == "" {
		pt.Proto = "tcp"
	}
	if b.HostIP.IsValid() {
		pt.HostIP = b.HostIP.String()
	}
	lo, hi, isRange := strings.Cut(strings.TrimSpace(b.HostPort), "-")
	if from, err := strconv.Atoi(lo); err == nil && from > 0 {
		pt.HostFrom, pt.HostTo = from, from
		if to, err := strconv.Atoi(hi); isRange && err == nil && to > from {
			pt.HostTo = to
		}
	}
	return pt
}

func resources(r *containertypes.Resources) container.Resources {
	positive := func(v int64) container.Setting[int64] {
		if v > 0 {
			return container.Of(v, none)
		}
		return container.Setting[int64]{}
	}
	out := container.Resources{
		Memory:            positive(r.Memory),
		MemoryReservation: positive(r.MemoryReservation),
		NanoCPUs:          positive(r.NanoCPUs),
		CPUShares:         positive(r.CPUShares),
		CPUQuota:          positive(r.CPUQuota),
		CPUPeriod:         positive(r.CPUPeriod),
	}
	if r.MemorySwap != 0 {
		out.MemorySwap = container.Of(r.MemorySwap, none)
	}
	if r.CpusetCpus != "" {
		out.CpusetCPUs = container.Of(r.CpusetCpus, none)
	}
	// null and 0 are "not given"; a negative limit was asked for and means
	// unlimited, as `--pids-limit -1` does.
	if r.PidsLimit != nil && *r.PidsLimit != 0 {
		out.PidsLimit = container.Of(*r.PidsLimit, none)
	}
	return out
}
