package host

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
)

// EngineAPI is the part of the Engine client a snapshot reads; the
// client internal/engine connects satisfies it.
type EngineAPI interface {
	Info(context.Context, client.InfoOptions) (client.SystemInfoResult, error)
	ServerVersion(context.Context, client.ServerVersionOptions) (client.ServerVersionResult, error)
	PluginList(context.Context, client.PluginListOptions) (client.PluginListResult, error)
	NetworkList(context.Context, client.NetworkListOptions) (client.NetworkListResult, error)
	ContainerList(context.Context, client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(context.Context, string, client.ContainerInspectOptions) (client.ContainerInspectResult, error)
}

// collectEngine asks the Engine everything the checks need. /info and
// /version are required; the rest only adds detail.
func collectEngine(ctx context.Context, api EngineAPI) (*Engine, error) {
	info, err := api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return nil, fmt.Errorf("GET /info: %v", err)
	}
	ver, err := api.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return nil, fmt.Errorf("GET /version: %v", err)
	}
	e := &Engine{
		Info: info.Info,
		Version: system.VersionResponse{
			Platform: system.PlatformInfo{Name: ver.Platform.Name}, Version: ver.Version,
			APIVersion: ver.APIVersion, MinAPIVersion: ver.MinAPIVersion, Os: ver.Os, Arch: ver.Arch,
			Experimental: ver.Experimental, Components: ver.Components,
		},
	}
	if pl, err := api.PluginList(ctx, client.PluginListOptions{}); err == nil {
		e.Plugins = pl.Items
	}
	if nl, err := api.NetworkList(ctx, client.NetworkListOptions{}); err == nil {
		e.Networks = nl.Items
		slices.SortFunc(e.Networks, func(a, b network.Summary) int { return strings.Compare(a.Name, b.Name) })
	}
	cl, err := api.ContainerList(ctx, client.ContainerListOptions{})
	if err != nil {
		return nil, fmt.Errorf("GET /containers/json: %v", err)
	}
	for _, item := range cl.Items {
		in, err := api.ContainerInspect(ctx, item.ID, client.ContainerInspectOptions{})
		if err != nil {
			// A container that stopped between the list and the inspect
			// is no longer running: nothing to audit.
			continue
		}
		e.Containers = append(e.Containers, Container{ID: in.Container.ID, Name: strings.TrimPrefix(in.Container.Name, "/"), Inspect: in.Container})
	}
	slices.SortFunc(e.Containers, func(a, b Container) int { return strings.Compare(a.Name, b.Name) })
	return e, nil
}

// hasSecurityOption reports whether /info lists a security option by name
// ("name=seccomp,profile=default" has the name seccomp).
func hasSecurityOption(opts []string, name string) bool {
	return securityOption(opts, name) != nil
}

// securityOption returns the key=value pairs of a named security option.
func securityOption(opts []string, name string) map[string]string {
	for _, o := range opts {
		kv := map[string]string{}
		for _, part := range strings.Split(o, ",") {
			k, v, _ := strings.Cut(part, "=")
			kv[k] = v
		}
		// API versions before 1.24 listed bare names ("apparmor").
		if kv["name"] == name || o == name {
			return kv
		}
	}
	return nil
}

// component returns the version of a component /version lists.
func (e *Engine) component(name string) string {
	for _, c := range e.Version.Components {
		if strings.EqualFold(c.Name, name) {
			return c.Version
		}
	}
	return ""
}
