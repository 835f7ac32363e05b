package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/live"
)

// Client is the part of the Engine API watch uses. The client that
// internal/engine.Connect returns satisfies it.
type Client interface {
	live.Client
	Events(ctx context.Context, options client.EventsListOptions) client.EventsResult
	Ping(ctx context.Context, options client.PingOptions) (client.PingResult, error)
	PluginInspect(ctx context.Context, name string, options client.PluginInspectOptions) (client.PluginInspectResult, error)
	// Dialer, ClientVersion and DaemonHost let watch ask for an exec's
	// details itself (see execInspector).
	Dialer() func(context.Context) (net.Conn, error)
	ClientVersion() string
	DaemonHost() string
}

var _ Client = (*client.Client)(nil)

// execInspector asks GET /exec/{id}/json. The official client's
// ExecInspect keeps only the ID, the container, the state and the exit
// code; whether the exec is privileged and its user are exactly what
// watch needs. It goes through the client's own dialer (DOCKER_HOST, TLS)
// and its negotiated API version, so it reaches the same Engine the same
// way.
type execInspector struct {
	c    Client
	once sync.Once
	http *http.Client
}

func newExecInspector(c Client) *execInspector { return &execInspector{c: c} }

func (x *execInspector) client() *http.Client {
	x.once.Do(func() {
		dial := x.c.Dialer()
		x.http = &http.Client{Transport: &http.Transport{
			DialContext:     func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
			MaxIdleConns:    2,
			IdleConnTimeout: 30 * time.Second,
		}}
	})
	return x.http
}

// errExecGone says the Engine does not know the exec (any more).
type errExecGone struct{ id string }

func (e *errExecGone) Error() string { return "the Engine no longer knows exec " + shortID(e.id) }

func (x *execInspector) inspect(ctx context.Context, id string) (containertypes.ExecInspectResponse, error) {
	var out containertypes.ExecInspectResponse
	path := "/exec/" + url.PathEscape(id) + "/json"
	if v := strings.TrimPrefix(x.c.ClientVersion(), "v"); v != "" {
		path = "/v" + v + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path, nil)
	if err != nil {
		return out, err
	}
	resp, err := x.client().Do(req)
	if err != nil {
		return out, fmt.Errorf("inspecting exec %s: %w", shortID(id), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return out, fmt.Errorf("inspecting exec %s: %w", shortID(id), err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return out, &errExecGone{id: id}
	case resp.StatusCode != http.StatusOK:
		var msg struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &msg)
		if msg.Message == "" {
			msg.Message = resp.Status
		}
		return out, fmt.Errorf("inspecting exec %s: %s", shortID(id), msg.Message)
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out, fmt.Errorf("inspecting exec %s: %w", shortID(id), err)
	}
	return out, nil
}

func (x *execInspector) close() {
	if x.http != nil {
		x.http.CloseIdleConnections()
	}
}
