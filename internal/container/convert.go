package container

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/format"
	composetypes "github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/mount"
)

// Conversions from the Engine API's types and the Docker CLI's values to
// the spec, shared by every reader of containers: `docker run` lines,
// Compose files, live containers and authorization requests.

// FromEngineMount converts an Engine API mount (what `--mount` parses to,
// and what HostConfig.Mounts holds) to a spec mount.
func FromEngineMount(mt mount.Mount, src Source) Mount {
	m := Mount{Source: mt.Source, Target: mt.Target, ReadOnly: mt.ReadOnly, Src: src}
	switch mt.Type {
	case mount.TypeBind:
		m.Type, m.HostPath = MountBind, HostPath(mt.Source)
		if mt.BindOptions != nil {
			m.Propagation = string(mt.BindOptions.Propagation)
		}
	case mount.TypeVolume:
		m.Type = MountVolume
		if mt.VolumeOptions != nil && mt.VolumeOptions.DriverConfig != nil {
			m.HostPath = BoundDevice(mt.VolumeOptions.DriverConfig.Name, mt.VolumeOptions.DriverConfig.Options)
		}
	case mount.TypeTmpfs:
		m.Type = MountTmpfs
	case mount.TypeNamedPipe:
		m.Type, m.HostPath = MountPipe, HostPath(mt.Source)
	case mount.TypeImage:
		m.Type = MountImage
	default:
		m.Type = MountOther
	}
	return m
}

// ParseBind reads a `-v` value, which is also what the Engine API's
// HostConfig.Binds hold ("SRC:DST[:OPTS]", or "DST" alone for an anonymous
// volume), with the parser Compose uses for its short volume syntax: the
// same syntax, Windows drive letters and pipes included.
func ParseBind(v string, src Source) (Mount, error) {
	vc, err := format.ParseVolume(v)
	if err != nil {
		return Mount{}, err
	}
	m := Mount{Target: vc.Target, Source: vc.Source, ReadOnly: vc.ReadOnly, Src: src}
	switch {
	case vc.Source == "":
		m.Type = MountVolume // anonymous volume
	case vc.Type == composetypes.VolumeTypeBind, strings.HasPrefix(vc.Source, "$"):
		// A source from a variable ($HOME/.aws, "$(pwd)") is a host path
		// once the shell expands it.
		m.Type, m.HostPath = MountBind, HostPath(vc.Source)
	default:
		m.Type = MountVolume
	}
	if strings.HasPrefix(strings.ReplaceAll(vc.Source, `\`, "/"), "//./pipe/") {
		m.Type, m.HostPath = MountPipe, HostPath(vc.Source)
	}
	if vc.Bind != nil {
		m.Propagation = vc.Bind.Propagation
	}
	return m, nil
}

// BoundDevice is the host path a volume exposes when the local driver binds
// it (`type=none,o=bind,device=/path`), or "".
func BoundDevice(driver string, o map[string]string) string {
	if driver != "" && driver != "local" {
		return ""
	}
	for _, opt := range strings.Split(o["o"], ",") {
		if strings.TrimSpace(opt) == "bind" || strings.TrimSpace(opt) == "rbind" {
			return HostPath(o["device"])
		}
	}
	return ""
}

// ParseRestart reads a restart policy: "no", "always", "unless-stopped",
// "on-failure[:N]".
func ParseRestart(v string) (RestartPolicy, error) {
	name, count, hasCount := strings.Cut(strings.TrimSpace(v), ":")
	p := RestartPolicy{Name: name}
	switch name {
	case "", "no", "always", "unless-stopped":
		if hasCount {
			return p, fmt.Errorf("maximum retry count can only be used with 'on-failure'")
		}
		if name == "" {
			p.Name = "no"
		}
	case "on-failure":
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return p, fmt.Errorf("invalid retry count %q", count)
			}
			p.MaxRetries = n
		}
	default:
		return p, fmt.Errorf("unknown restart policy %q", name)
	}
	return p, nil
}

// APISocketMount is the mount `--use-api-socket` and Compose's
// `use_api_socket` add.
func APISocketMount(src Source) Mount {
	return Mount{Type: MountBind, Source: "/var/run/docker.sock", HostPath: "/var/run/docker.sock",
		Target: "/var/run/docker.sock", Src: src}
}

// PortFromMapping converts a port mapping as Compose and the CLI's -p parser
// (go-connections' nat) give it to a spec port: host IP, container port, a
// published port or range ("8080", "8000-8010", "" for none), protocol.
func PortFromMapping(hostIP string, target uint32, published, proto string, src Source) (Port, error) {
	p := Port{HostIP: hostIP, Container: int(target), ContainerTo: int(target), Proto: proto, Src: src}
	if p.Proto == "" {
		p.Proto = "tcp"
	}
	if published != "" {
		lo, hi, isRange := strings.Cut(published, "-")
		from, err := strconv.Atoi(lo)
		if err != nil {
			return p, fmt.Errorf("invalid published port %q", published)
		}
		to := from
		if isRange {
			if to, err = strconv.Atoi(hi); err != nil {
				return p, fmt.Errorf("invalid published port range %q", published)
			}
		}
		p.HostFrom, p.HostTo = from, to
	}
	return p, nil
}
