package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// fakeEngine is an Engine without a daemon, for the tests of what watch
// does when the event stream is not a reliable log: containers can appear,
// start and go without any event (as when the Engine drops them), events
// can be sent dated in the past (read late), and it counts the listings
// watch asks for. Like the Engine, it gives each subscriber a buffer and
// drops what does not fit.
type fakeEngine struct {
	host string

	mu      sync.Mutex
	ctrs    map[string]containertypes.InspectResponse
	lists   int
	streams []chan events.Message
	// subscribed receives the time of each subscription.
	subscribed chan time.Time
}

var _ Client = (*fakeEngine)(nil)

func newFakeEngine() *fakeEngine {
	return &fakeEngine{host: "unix:///run/fake-docker.sock", ctrs: map[string]containertypes.InspectResponse{},
		subscribed: make(chan time.Time, 16)}
}

// fakeID makes a 64-character container ID from a short name.
func fakeID(short string) string {
	sum := sha256.Sum256([]byte(short))
	return hex.EncodeToString(sum[:])
}

// ctr is a container as inspect shows it: the test image's defaults (it
// runs as root), the state given and the host configuration.
func ctr(short, name string, state containertypes.ContainerState, hc containertypes.HostConfig) containertypes.InspectResponse {
	return containertypes.InspectResponse{
		ID: fakeID(short), Name: "/" + name, Image: "sha256:" + strings.Repeat("ab", 32),
		State:      &containertypes.State{Status: state, Running: running(state)},
		Config:     &containertypes.Config{Image: "registry.example.com/app:1"},
		HostConfig: &hc,
	}
}

// put adds or replaces containers at once, without an event.
func (f *fakeEngine) put(cs ...containertypes.InspectResponse) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		f.ctrs[c.ID] = c
	}
}

// send hands an event to every subscriber that has room for it.
func (f *fakeEngine) send(m events.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.streams {
		select {
		case s <- m:
		default:
		}
	}
}

// containerEvent is the Engine's event of a container action at t.
func containerEvent(c containertypes.InspectResponse, action string, t time.Time) events.Message {
	return events.Message{Type: events.ContainerEventType, Action: events.Action(action),
		Actor: events.Actor{ID: c.ID, Attributes: map[string]string{"name": strings.TrimPrefix(c.Name, "/")}},
		Time:  t.Unix(), TimeNano: t.UnixNano()}
}

func (f *fakeEngine) listings() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}

func (f *fakeEngine) ContainerList(_ context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	var res client.ContainerListResult
	for _, c := range f.ctrs {
		if o.All || running(c.State.Status) {
			res.Items = append(res.Items, containertypes.Summary{ID: c.ID, Names: []string{c.Name}, Image: c.Config.Image, ImageID: c.Image, State: c.State.Status})
		}
	}
	sort.Slice(res.Items, func(i, j int) bool { return res.Items[i].ID < res.Items[j].ID })
	return res, nil
}

func notFound(what string) error {
	return errors.Join(cerrdefs.ErrNotFound, errors.New("No such "+what))
}

func (f *fakeEngine) ContainerInspect(_ context.Context, id string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.ctrs[id]
	if !ok {
		return client.ContainerInspectResult{}, notFound("container: " + id)
	}
	return client.ContainerInspectResult{Container: c}, nil
}

func (f *fakeEngine) ImageInspect(_ context.Context, id string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	return client.ImageInspectResult{}, notFound("image: " + id)
}

func (f *fakeEngine) VolumeInspect(_ context.Context, id string, _ client.VolumeInspectOptions) (client.VolumeInspectResult, error) {
	return client.VolumeInspectResult{}, notFound("volume: " + id)
}

// Events subscribes: what send hands out from now on, until ctx ends.
func (f *fakeEngine) Events(ctx context.Context, _ client.EventsListOptions) client.EventsResult {
	msgs, errs := make(chan events.Message, 1024), make(chan error, 1)
	f.mu.Lock()
	f.streams = append(f.streams, msgs)
	f.mu.Unlock()
	f.subscribed <- time.Now()
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, s := range f.streams {
			if s == msgs {
				f.streams = append(f.streams[:i], f.streams[i+1:]...)
				break
			}
		}
		errs <- ctx.Err()
	})
	return client.EventsResult{Messages: msgs, Err: errs}
}

func (f *fakeEngine) Ping(context.Context, client.PingOptions) (client.PingResult, error) {
	return client.PingResult{APIVersion: "1.41", OSType: "linux"}, nil
}

func (f *fakeEngine) PluginInspect(_ context.Context, name string, _ client.PluginInspectOptions) (client.PluginInspectResult, error) {
	return client.PluginInspectResult{}, notFound("plugin: " + name)
}

func (f *fakeEngine) Dialer() func(context.Context) (net.Conn, error) {
	return func(context.Context) (net.Conn, error) { return nil, errors.New("the fake Engine serves no execs") }
}

func (f *fakeEngine) ClientVersion() string { return "1.41" }
func (f *fakeEngine) DaemonHost() string    { return f.host }

// runWith runs a Watcher of c with a collector sink until the test ends,
// and waits until it has subscribed.
func runWith(t *testing.T, c Client, o Options) (*Watcher, *collector) {
	t.Helper()
	if o.MinBackoff == 0 {
		o.MinBackoff, o.MaxBackoff = 20*time.Millisecond, 300*time.Millisecond
	}
	if o.Notice == nil {
		o.Notice = func(format string, args ...any) { t.Logf("watch: "+format, args...) }
	}
	w := New(c, o)
	col := newCollector()
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(rctx, col.sink)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Errorf("watch did not stop within %s", waitLimit)
		}
	})
	select {
	case <-w.ready:
	case <-time.After(waitLimit):
		t.Fatalf("watch did not subscribe within %s", waitLimit)
	}
	return w, col
}
