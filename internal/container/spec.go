// Package container holds the container spec, the one description of how a
// container is started that every reader fills in — a Compose service
// (internal/compose), a `docker run` line (internal/runline), a live
// container's Engine inspect data — and the rules that judge it. A rule
// never asks where a spec came from: it reads the settings and reports at
// the Source each setting carries.
//
// Filling a spec from Engine inspect data (github.com/moby/moby/api
// container.InspectResponse, "live" below) needs no change to the rules;
// the field comments say which inspect field each one takes.
package container

import (
	"strconv"
	"strings"
)

// Origin says which reader filled a spec.
type Origin string

// The readers.
const (
	FromCompose Origin = "compose"
	// FromCI is a container a CI file declares (a GitHub Actions job's
	// container or service, a GitLab CI image or service).
	FromCI     Origin = "ci"
	FromRun    Origin = "run"
	FromEngine Origin = "engine"
)

// Source is where a setting was written. A live container's settings have
// no file: Path and Line stay empty and findings name the container.
type Source struct {
	Path string
	Line int
	// Note tells how the value reached the setting when it was not written
	// there literally ("${TAG} in compose.yaml line 4", "from app.env line
	// 3"). It names files and variables, never values.
	Note string
}

// Known reports whether the source names a place in a file.
func (s Source) Known() bool { return s.Path != "" || s.Line > 0 }

// Setting is one configured value and where it came from. Set is false
// when the setting was not given, so the Engine's default applies; Value
// is then the zero value and Src is empty.
type Setting[T any] struct {
	Value T
	Set   bool
	Src   Source
}

// Of makes a Setting that was given at src.
func Of[T any](v T, src Source) Setting[T] { return Setting[T]{Value: v, Set: true, Src: src} }

// Spec is how one container is (to be) started.
type Spec struct {
	Origin Origin
	// Engine is the CLI or daemon family the settings are for: "docker"
	// or "podman" (their defaults differ, e.g. podman limits pids).
	Engine string
	// Name is the container's name when known: `--name`, container_name,
	// or the live container's name.
	Name string
	// Service is the Compose service name.
	Service string
	// Src is where the container as a whole is described: the service's
	// key, the `docker run` command. Findings about missing settings point
	// here.
	Src Source

	// Image is the image reference as written (live: Config.Image).
	Image Setting[string]
	// Build is true for a Compose service that builds its image: Image is
	// then the tag given to the build, not something pulled.
	Build bool
	// ImageDefaultsKnown is true when User and Healthcheck already include
	// what the image sets (live: Config.User and Config.Healthcheck are
	// merged with the image's). For Compose and `docker run` the image's
	// own USER and HEALTHCHECK are unknown.
	ImageDefaultsKnown bool

	// User is `--user` / user: (live: Config.User).
	User Setting[string]
	// UserFromImage is true when User is the image's USER because the
	// container was given none (live containers whose image is known:
	// Config.User equals the image's). Whether it runs as root is then
	// the image's finding (DV3100), not the container's.
	UserFromImage bool
	// Privileged is `--privileged` (live: HostConfig.Privileged).
	Privileged Setting[bool]
	// CapAdd and CapDrop hold capability names normalised by NormalizeCap:
	// "SYS_ADMIN", "ALL" (live: HostConfig.CapAdd/CapDrop).
	CapAdd, CapDrop []Setting[string]
	Security        Security
	Namespaces      Namespaces
	// Mounts are binds, volumes and tmpfs mounts (live: Mounts, with
	// HostConfig.Tmpfs as tmpfs mounts).
	Mounts []Mount
	// Devices are host devices given to the container (live:
	// HostConfig.Devices).
	Devices []Device
	// DeviceCgroupRules are `--device-cgroup-rule` values ("c 1:3 mr").
	DeviceCgroupRules []Setting[string]
	// Ports are published ports (live: HostConfig.PortBindings, or
	// NetworkSettings.Ports for the ports actually bound).
	Ports []Port
	// PublishAll is `-P` (live: HostConfig.PublishAllPorts).
	PublishAll Setting[bool]
	Resources  Resources
	// Ulimits are per-container ulimits (live: HostConfig.Ulimits).
	Ulimits []Ulimit
	// ReadOnlyRootfs is `--read-only` (live: HostConfig.ReadonlyRootfs).
	ReadOnlyRootfs Setting[bool]
	// Restart is the restart policy (live: HostConfig.RestartPolicy).
	Restart Setting[RestartPolicy]
	// Env is the container's environment, in order, later entries
	// overriding earlier ones of the same name (live: Config.Env).
	Env []EnvVar
	// Healthcheck is the container's health check (live:
	// Config.Healthcheck).
	Healthcheck Setting[Healthcheck]
	// Sysctls are namespaced kernel parameters (live: HostConfig.Sysctls).
	Sysctls []Sysctl
	// Log is the logging driver (live: HostConfig.LogConfig).
	Log Setting[LogConfig]
	// CgroupParent is the cgroup the container's cgroup is created under,
	// instead of the daemon's (live: HostConfig.CgroupParent).
	CgroupParent Setting[string]
}

// Security holds the `--security-opt` settings. ApplySecurityOpt fills it
// from the option strings every reader has (live: HostConfig.SecurityOpt,
// plus AppArmorProfile for the profile actually applied).
type Security struct {
	NoNewPrivileges Setting[bool]
	// Seccomp is "unconfined", "builtin" or a profile.
	Seccomp Setting[string]
	// AppArmor is "unconfined" or a profile name.
	AppArmor Setting[string]
	// SELinux are the label options: "disable", "type:…", "level:…".
	SELinux []Setting[string]
	// SystemPaths is "unconfined" when /proc and /sys paths are not
	// masked.
	SystemPaths Setting[string]
}

// Namespaces are the namespace modes: "" or "private" (the default),
// "host", "container:NAME", "shareable", a network name, ….
type Namespaces struct {
	PID     Setting[string] // live: HostConfig.PidMode
	IPC     Setting[string] // live: HostConfig.IpcMode
	UTS     Setting[string] // live: HostConfig.UTSMode
	Network Setting[string] // live: HostConfig.NetworkMode
	Cgroup  Setting[string] // live: HostConfig.CgroupnsMode
	User    Setting[string] // live: HostConfig.UsernsMode
}

// MountType is the kind of a mount.
type MountType string

// Mount types, as the Engine names them.
const (
	MountBind   MountType = "bind"
	MountVolume MountType = "volume"
	MountTmpfs  MountType = "tmpfs"
	MountPipe   MountType = "npipe"
	MountImage  MountType = "image"
	MountOther  MountType = "other"
)

// Mount is one filesystem mount.
type Mount struct {
	Type MountType
	// Source is the host path of a bind, the name of a volume, empty for
	// tmpfs — as written, after variable substitution. A bind source
	// inside a Compose project is kept relative ("./data").
	Source string
	// HostPath is the host path the mount exposes: a bind's source, or the
	// device of a volume the local driver binds (`driver_opts: {o: bind,
	// device: /path}`). Empty when the mount exposes no host path.
	HostPath string
	Target   string
	ReadOnly bool
	// Propagation is "", "private", "rprivate", "shared", "rshared",
	// "slave" or "rslave".
	Propagation string
	Src         Source
}

// Device is a host device given to the container.
type Device struct {
	Host, Container, Permissions string
	Src                          Source
}

// Port is one published port.
type Port struct {
	// HostIP is the address the port is bound to; "" means every
	// interface (0.0.0.0 and ::).
	HostIP string
	// HostFrom and HostTo are the published host port range; 0 when the
	// Engine picks a free port.
	HostFrom, HostTo int
	// Container is the container port (the first of a range) and Proto
	// its protocol.
	Container, ContainerTo int
	Proto                  string
	Src                    Source
}

// AllInterfaces reports whether the port is reachable on every host
// interface.
func (p Port) AllInterfaces() bool {
	switch strings.Trim(p.HostIP, "[]") {
	case "", "0.0.0.0", "::", "*":
		return true
	}
	return false
}

// String renders the port as `-p` would.
func (p Port) String() string {
	var b strings.Builder
	if p.HostIP != "" {
		if strings.Contains(p.HostIP, ":") && !strings.HasPrefix(p.HostIP, "[") {
			b.WriteString("[" + p.HostIP + "]")
		} else {
			b.WriteString(p.HostIP)
		}
		b.WriteString(":")
	}
	if p.HostFrom > 0 {
		b.WriteString(portRange(p.HostFrom, p.HostTo))
		b.WriteString(":")
	} else if p.HostIP != "" {
		b.WriteString(":")
	}
	b.WriteString(portRange(p.Container, p.ContainerTo))
	if p.Proto != "" && p.Proto != "tcp" {
		b.WriteString("/" + p.Proto)
	}
	return b.String()
}

func portRange(from, to int) string {
	if to > from {
		return strconv.Itoa(from) + "-" + strconv.Itoa(to)
	}
	return strconv.Itoa(from)
}

// Resources are the cgroup limits. A zero or unset value is no limit.
type Resources struct {
	Memory            Setting[int64] // bytes (live: HostConfig.Memory)
	MemorySwap        Setting[int64] // bytes, -1 unlimited (live: HostConfig.MemorySwap)
	MemoryReservation Setting[int64] // bytes (live: HostConfig.MemoryReservation)
	NanoCPUs          Setting[int64] // 1e9 per CPU (live: HostConfig.NanoCPUs)
	CPUShares         Setting[int64] // relative weight (live: HostConfig.CPUShares)
	CPUQuota          Setting[int64] // µs per period (live: HostConfig.CPUQuota)
	CPUPeriod         Setting[int64] // µs (live: HostConfig.CPUPeriod)
	CpusetCPUs        Setting[string]
	PidsLimit         Setting[int64] // <= 0 unlimited (live: HostConfig.PidsLimit)
}

// Ulimit is one resource limit; -1 is unlimited.
type Ulimit struct {
	Name       string
	Soft, Hard int64
	Src        Source
}

// RestartPolicy is when the Engine restarts the container.
type RestartPolicy struct {
	// Name is "no", "always", "unless-stopped" or "on-failure".
	Name       string
	MaxRetries int
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name  string
	Value string
	// Known is false when the value is taken from the environment of
	// whoever starts the container (`-e NAME`, a Compose variable that no
	// project file sets): it is not written anywhere dockvet can read.
	Known bool
	Src   Source
}

// Healthcheck is a container health check.
type Healthcheck struct {
	Test     []string
	Disabled bool
}

// Sysctl is one kernel parameter.
type Sysctl struct {
	Name, Value string
	Src         Source
}

// LogConfig is the logging driver and its options.
type LogConfig struct {
	Driver  string
	Options map[string]string
}

// NormalizeCap writes a capability the way rules compare them: upper case
// without the CAP_ prefix ("cap_sys_admin" is "SYS_ADMIN").
func NormalizeCap(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	return strings.TrimPrefix(c, "CAP_")
}

// LookupEnv returns the last value the environment gives name.
func (s *Spec) LookupEnv(name string) (EnvVar, bool) {
	for i := len(s.Env) - 1; i >= 0; i-- {
		if s.Env[i].Name == name {
			return s.Env[i], true
		}
	}
	return EnvVar{}, false
}

// EffectiveEnv is the environment with overridden entries removed.
func (s *Spec) EffectiveEnv() []EnvVar {
	seen := map[string]bool{}
	var out []EnvVar
	for i := len(s.Env) - 1; i >= 0; i-- {
		if seen[s.Env[i].Name] {
			continue
		}
		seen[s.Env[i].Name] = true
		out = append(out, s.Env[i])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Label names the container in messages: the service, the container name,
// or the image.
func (s *Spec) Label() string {
	switch {
	case s.Service != "":
		return "service " + s.Service
	case s.Name != "":
		return "container " + s.Name
	case s.Image.Value != "":
		// The digest makes a long message longer and says nothing more.
		img, _, _ := strings.Cut(s.Image.Value, "@")
		return "container of " + img
	}
	return "container"
}
