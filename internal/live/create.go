package live

import (
	"maps"
	"slices"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/dockvet/dockvet/internal/container"
)

// CreateSpec turns the body of a `POST /containers/create` request (what
// `docker run`, `docker create` and Compose send) into the container spec,
// so that a container about to be created faces the same rules as one
// that runs. name is the request's `name` query parameter ("" when none).
//
// The body holds the same Config and HostConfig that inspect returns, and
// is read by Spec, with two differences. Nothing has been merged yet:
// Config.User and Config.Healthcheck are only what the request sets, not
// the image's (ImageDefaultsKnown stays false, as for a `docker run`
// line). And there are no mount points yet: the mounts are what the
// request asks for, in HostConfig.Binds (the `-v` syntax), HostConfig.Mounts
// (`--mount`), Config.Volumes (anonymous volumes) and HostConfig.Tmpfs.
func CreateSpec(req *containertypes.CreateRequest, name string, d Daemon) *container.Spec {
	c := &Container{}
	c.Inspect.Config = req.Config
	c.Inspect.HostConfig = req.HostConfig
	if name != "" {
		c.Inspect.Name = "/" + name
	}
	s := Spec(c, d)
	s.Name = name
	s.ImageDefaultsKnown = false
	hc := req.HostConfig
	if hc == nil {
		hc = &containertypes.HostConfig{}
	}
	s.Mounts = requestedMounts(req.Config, hc)
	return s
}

// requestedMounts are the mounts a create request asks for. A bind the
// Engine would refuse to parse is kept with what can be read of it (its
// source, up to the first colon, as a host path): the Engine refuses the request anyway, and a
// socket path in it is still worth judging.
func requestedMounts(cfg *containertypes.Config, hc *containertypes.HostConfig) []container.Mount {
	var out []container.Mount
	seen := map[string]bool{}
	add := func(m container.Mount) {
		seen[m.Target] = true
		out = append(out, m)
	}
	for _, b := range hc.Binds {
		m, err := container.ParseBind(b, none)
		if err != nil {
			src, _, _ := strings.Cut(b, ":")
			m = container.Mount{Type: container.MountBind, Source: src, HostPath: container.HostPath(src)}
		}
		add(m)
	}
	for _, mt := range hc.Mounts {
		add(container.FromEngineMount(mt, none))
	}
	if cfg != nil {
		for _, target := range slices.Sorted(maps.Keys(cfg.Volumes)) {
			if !seen[target] {
				add(container.Mount{Type: container.MountVolume, Target: target})
			}
		}
	}
	for _, target := range slices.Sorted(maps.Keys(hc.Tmpfs)) {
		if !seen[target] {
			add(container.Mount{Type: container.MountTmpfs, Target: target})
		}
	}
	return out
}
