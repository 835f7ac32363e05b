package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/engine"
)

// fakeEngine answers the commands' Engine questions from recorded Engine
// data (testdata/engine/engine.json), so container, host and watch run
// without a daemon. Containers are found by ID, ID prefix or name, images
// by ID or tag; the event stream sends the recorded events and then stays
// open; exec sessions are served over Dialer as the Engine serves them.
// A container added later (add) comes without an event, as when the
// Engine drops a subscriber's events.
type fakeEngine struct {
	host    string
	info    system.Info
	version system.VersionResponse
	nets    []network.Summary
	images  map[string]image.InspectResponse
	events  []events.Message
	execs   *httptest.Server
	infoErr error

	mu     sync.Mutex
	ctrs   []fakeContainer
	closed int
}

type fakeContainer struct {
	Inspect containertypes.InspectResponse       `json:"inspect"`
	Image   *image.InspectResponse               `json:"image"`
	Execs   []containertypes.ExecInspectResponse `json:"execs"`
}

var _ EngineClient = (*fakeEngine)(nil)

// newFakeEngine loads the recorded answers; host is what DaemonHost says.
func newFakeEngine(t *testing.T, host string) *fakeEngine {
	t.Helper()
	data, err := os.ReadFile("testdata/engine/engine.json")
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Info       system.Info            `json:"info"`
		Version    system.VersionResponse `json:"version"`
		Networks   []network.Summary      `json:"networks"`
		Containers []fakeContainer        `json:"containers"`
		Events     []events.Message       `json:"events"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	f := &fakeEngine{host: host, info: rec.Info, version: rec.Version, nets: rec.Networks, ctrs: rec.Containers,
		events: rec.Events, images: map[string]image.InspectResponse{}}
	execs := map[string]containertypes.ExecInspectResponse{}
	for _, c := range rec.Containers {
		if c.Image != nil {
			f.images[c.Image.ID] = *c.Image
			for _, tag := range c.Image.RepoTags {
				f.images[tag] = *c.Image
			}
		}
		for _, x := range c.Execs {
			execs[x.ID] = x
		}
	}
	f.execs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// GET /vX.Y/exec/ID/json
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if len(parts) != 4 || parts[1] != "exec" || parts[3] != "json" {
			http.NotFound(w, r)
			return
		}
		x, ok := execs[parts[2]]
		if !ok {
			http.Error(w, `{"message":"No such exec instance"}`, http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(x)
	}))
	t.Cleanup(f.execs.Close)
	return f
}

// connect is the Factory's Engine: every command gets the fake.
func (f *fakeEngine) connect(context.Context) (EngineClient, error) { return f, nil }

// closes is how often Close was called.
func (f *fakeEngine) closes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// add puts a container in the Engine without any event.
func (f *fakeEngine) add(c fakeContainer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctrs = append(f.ctrs, c)
}

func (f *fakeEngine) find(ref string) (fakeContainer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ref = strings.TrimPrefix(ref, "/")
	for _, c := range f.ctrs {
		if c.Inspect.ID == ref || strings.TrimPrefix(c.Inspect.Name, "/") == ref {
			return c, true
		}
	}
	for _, c := range f.ctrs {
		if len(ref) >= 4 && strings.HasPrefix(c.Inspect.ID, ref) {
			return c, true
		}
	}
	return fakeContainer{}, false
}

func notFound(what string) error {
	return errors.Join(cerrdefs.ErrNotFound, errors.New("No such "+what))
}

func (f *fakeEngine) ContainerList(_ context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var res client.ContainerListResult
	for _, c := range f.ctrs {
		if st := c.Inspect.State; st != nil && (o.All || st.Running) {
			res.Items = append(res.Items, containertypes.Summary{ID: c.Inspect.ID, Names: []string{c.Inspect.Name}, Image: c.Inspect.Config.Image,
				ImageID: c.Inspect.Image, State: st.Status})
		}
	}
	return res, nil
}

func (f *fakeEngine) ContainerInspect(_ context.Context, id string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	c, ok := f.find(id)
	if !ok {
		return client.ContainerInspectResult{}, notFound("container: " + id)
	}
	return client.ContainerInspectResult{Container: c.Inspect}, nil
}

func (f *fakeEngine) ImageInspect(_ context.Context, id string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	img, ok := f.images[id]
	if !ok {
		return client.ImageInspectResult{}, notFound("image: " + id)
	}
	return client.ImageInspectResult{InspectResponse: img}, nil
}

func (f *fakeEngine) VolumeInspect(_ context.Context, id string, _ client.VolumeInspectOptions) (client.VolumeInspectResult, error) {
	return client.VolumeInspectResult{}, notFound("volume: " + id)
}

func (f *fakeEngine) Info(context.Context, client.InfoOptions) (client.SystemInfoResult, error) {
	if f.infoErr != nil {
		return client.SystemInfoResult{}, f.infoErr
	}
	return client.SystemInfoResult{Info: f.info}, nil
}

func (f *fakeEngine) ServerVersion(context.Context, client.ServerVersionOptions) (client.ServerVersionResult, error) {
	v := f.version
	return client.ServerVersionResult{Platform: client.PlatformInfo{Name: v.Platform.Name}, Version: v.Version, APIVersion: v.APIVersion,
		MinAPIVersion: v.MinAPIVersion, Os: v.Os, Arch: v.Arch, Components: v.Components}, nil
}

func (f *fakeEngine) PluginList(context.Context, client.PluginListOptions) (client.PluginListResult, error) {
	return client.PluginListResult{}, nil
}

func (f *fakeEngine) NetworkList(context.Context, client.NetworkListOptions) (client.NetworkListResult, error) {
	return client.NetworkListResult{Items: f.nets}, nil
}

func (f *fakeEngine) ContainerTop(context.Context, string, client.ContainerTopOptions) (client.ContainerTopResult, error) {
	return client.ContainerTopResult{Titles: []string{"UID", "PID", "CMD"}, Processes: [][]string{{"10001", "3100", "/app"}}}, nil
}

// Events sends the recorded events and keeps the stream open until ctx
// ends, as the Engine does.
func (f *fakeEngine) Events(ctx context.Context, _ client.EventsListOptions) client.EventsResult {
	msgs := make(chan events.Message)
	errs := make(chan error, 1)
	go func() {
		for _, m := range f.events {
			select {
			case msgs <- m:
			case <-ctx.Done():
			}
		}
		<-ctx.Done()
		errs <- ctx.Err()
	}()
	return client.EventsResult{Messages: msgs, Err: errs}
}

func (f *fakeEngine) Ping(context.Context, client.PingOptions) (client.PingResult, error) {
	return client.PingResult{APIVersion: f.version.APIVersion, OSType: "linux"}, nil
}

func (f *fakeEngine) PluginInspect(_ context.Context, name string, _ client.PluginInspectOptions) (client.PluginInspectResult, error) {
	return client.PluginInspectResult{}, notFound("plugin: " + name)
}

func (f *fakeEngine) Dialer() func(context.Context) (net.Conn, error) {
	addr := f.execs.Listener.Addr().String()
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

func (f *fakeEngine) ClientVersion() string { return f.version.APIVersion }
func (f *fakeEngine) DaemonHost() string    { return f.host }

func (f *fakeEngine) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed++
	return nil
}

// testNow is the fixed clock of the tests that run with a fake Engine.
var testNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// runFake runs dockvet with buffers, the fixed clock and the Engine
// connect returns.
func runFake(t *testing.T, connect func(context.Context) (EngineClient, error), args ...string) (int, string, string) {
	t.Helper()
	code, out, errOut := startFake(context.Background(), connect, args...)
	return <-code, out.String(), errOut.String()
}

// startFake is runFake in the background, until the command ends or ctx
// is done; the streams can be read while it runs.
func startFake(ctx context.Context, connect func(context.Context) (EngineClient, error), args ...string) (<-chan int, *syncBuffer, *syncBuffer) {
	out, errOut := &syncBuffer{}, &syncBuffer{}
	sh := &Shared{IO: Streams{In: strings.NewReader(""), Out: out, Err: errOut}, Now: func() time.Time { return testNow }}
	f := &Factory{Shared: sh, Engine: connect}
	if connect != nil {
		// The run names the Engine it talked to: the fake's address.
		f.Engine = func(ctx context.Context) (EngineClient, error) {
			c, err := connect(ctx)
			if err == nil {
				sh.ep = &engine.Endpoint{Host: c.DaemonHost(), Context: engine.DefaultContext, From: "test"}
			}
			return c, err
		}
	}
	code := make(chan int, 1)
	go func() { code <- execute(ctx, f, args) }()
	return code, out, errOut
}

// engineLine is what a run says on standard error of the fake Engine at
// host it talked to.
func engineLine(host string) string { return "dockvet: Docker Engine " + host + " (from test)\n" }

// realEngineLine is what a run says on standard error of the Engine the
// environment names, once it talked to it.
func realEngineLine(t *testing.T) string {
	t.Helper()
	ep, err := engine.Resolve(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return "dockvet: Docker Engine " + ep.Host + " (" + ep.Origin() + ")\n"
}

// syncBuffer is a buffer written by watch's goroutines and read by the
// test while they run.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
