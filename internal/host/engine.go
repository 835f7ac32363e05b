package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/live"
)

// EngineAPI is the part of the Engine client a snapshot reads; the
// client internal/engine connects satisfies it. live.Client is what
// live.Complete needs for a container's image and volumes.
type EngineAPI interface {
	live.Client
	Info(context.Context, client.InfoOptions) (client.SystemInfoResult, error)
	ServerVersion(context.Context, client.ServerVersionOptions) (client.ServerVersionResult, error)
	PluginList(context.Context, client.PluginListOptions) (client.PluginListResult, error)
	NetworkList(context.Context, client.NetworkListOptions) (client.NetworkListResult, error)
	ContainerTop(context.Context, string, client.ContainerTopOptions) (client.ContainerTopResult, error)
}

var _ EngineAPI = (*client.Client)(nil)

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
	// /version's Experimental is deprecated in the client; /info's
	// ExperimentalBuild reports the same daemon setting.
	e := &Engine{
		Info: info.Info,
		Version: system.VersionResponse{
			Platform: system.PlatformInfo{Name: ver.Platform.Name}, Version: ver.Version,
			APIVersion: ver.APIVersion, MinAPIVersion: ver.MinAPIVersion, Os: ver.Os, Arch: ver.Arch,
			Components: ver.Components,
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
	execs := newExecReader(api)
	defer execs.close()
	// Each container costs the Engine a few requests, one of which (top)
	// runs ps on the host: asked a few at a time, a host with many
	// containers is read in a fraction of the time, without flooding the
	// daemon.
	got := make([]*Container, len(cl.Items))
	sem := make(chan struct{}, engineConcurrency)
	var wg sync.WaitGroup
	for i, item := range cl.Items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			in, err := api.ContainerInspect(ctx, item.ID, client.ContainerInspectOptions{})
			if err != nil {
				// A container that stopped between the list and the
				// inspect is no longer running: nothing to audit.
				return
			}
			c := collectContainer(ctx, api, execs, in.Container)
			got[i] = &c
		}()
	}
	wg.Wait()
	for _, c := range got {
		if c != nil {
			e.Containers = append(e.Containers, *c)
		}
	}
	slices.SortFunc(e.Containers, func(a, b Container) int { return strings.Compare(a.Name, b.Name) })
	return e, nil
}

// engineConcurrency is how many containers are read at once.
const engineConcurrency = 4

// collectContainer completes one container's inspect data. What the Engine
// cannot tell is recorded as not checked, never left to look like a pass.
func collectContainer(ctx context.Context, api EngineAPI, execs *execReader, in containertypes.InspectResponse) Container {
	c := Container{ID: in.ID, Name: strings.TrimPrefix(in.Name, "/")}
	if lc, err := live.Complete(ctx, api, in); err != nil {
		c.Container = live.Container{Inspect: in}
		c.ImageErr = err.Error()
	} else {
		c.Container = *lc
	}
	if top, err := api.ContainerTop(ctx, in.ID, client.ContainerTopOptions{}); err != nil {
		c.ProcessesErr = "GET /containers/" + c.ShortID() + "/top: " + err.Error()
	} else {
		c.Processes = processes(top)
	}
	for _, id := range in.ExecIDs {
		x, err := execs.inspect(ctx, id)
		if cerrdefs.IsNotFound(err) {
			continue // the session ended after the container was inspected
		}
		if err != nil {
			c.ExecsErr = err.Error()
			break
		}
		c.Execs = append(c.Execs, x)
	}
	return c
}

// processes reads `docker top`'s table (ps -ef columns: UID PID PPID C
// STIME TTY TIME CMD; other ps implementations name them differently).
func processes(top client.ContainerTopResult) []Process {
	col := func(names ...string) int {
		for i, t := range top.Titles {
			if slices.Contains(names, strings.ToUpper(t)) {
				return i
			}
		}
		return -1
	}
	uid, pid, cmd := col("UID", "USER"), col("PID"), col("CMD", "COMMAND", "ARGS")
	out := []Process{}
	for _, row := range top.Processes {
		var p Process
		if uid >= 0 && uid < len(row) {
			p.User = row[uid]
		}
		if pid >= 0 && pid < len(row) {
			p.PID = row[pid]
		}
		if cmd >= 0 && cmd < len(row) {
			p.Command = row[cmd]
		}
		out = append(out, p)
	}
	return out
}

// rawEngine is the client's access to the connection itself.
type rawEngine interface {
	Dialer() func(context.Context) (net.Conn, error)
	ClientVersion() string
}

// execReader reads GET /exec/ID/json whole. The client library's
// ExecInspect keeps only the ID, state, exit code and PID of the answer,
// and CIS 5.23 and 5.24 need its ProcessConfig (privileged, user); the
// request goes over the client's own connection (same socket, TLS and
// negotiated API version).
type execReader struct {
	hc      *http.Client
	version string
	err     error
}

func newExecReader(api EngineAPI) *execReader {
	raw, ok := api.(rawEngine)
	if !ok {
		return &execReader{err: errors.New("this Engine client cannot read exec sessions")}
	}
	dial := raw.Dialer()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) }}
	return &execReader{hc: &http.Client{Transport: tr}, version: raw.ClientVersion()}
}

func (r *execReader) close() {
	if r.hc != nil {
		r.hc.CloseIdleConnections()
	}
}

func (r *execReader) inspect(ctx context.Context, id string) (containertypes.ExecInspectResponse, error) {
	var x containertypes.ExecInspectResponse
	if r.err != nil {
		return x, r.err
	}
	p := "/exec/" + url.PathEscape(id) + "/json"
	if r.version != "" {
		p = "/v" + r.version + p
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+p, nil)
	if err != nil {
		return x, err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return x, fmt.Errorf("GET /exec/%s/json: %v", shortID(id), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return x, fmt.Errorf("GET /exec/%s/json: %v", shortID(id), err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return x, cerrdefs.ErrNotFound
	case resp.StatusCode != http.StatusOK:
		return x, fmt.Errorf("GET /exec/%s/json: %s: %s", shortID(id), resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, &x); err != nil {
		return x, fmt.Errorf("GET /exec/%s/json: %v", shortID(id), err)
	}
	return x, nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
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
