package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// benchCreate is the body `docker run` sends for a typical service: a
// few binds, ports, environment, limits and security options.
func benchCreate(b *testing.B) []byte {
	pb := network.PortMap{}
	pb[network.MustParsePort("8080/tcp")] = []network.PortBinding{{HostPort: "8080"}}
	body, err := json.Marshal(containertypes.CreateRequest{
		Config: &containertypes.Config{Image: "registry.example.com/team/api:1.4.2", User: "10001:10001",
			Env:    []string{"PORT=8080", "LOG_LEVEL=info", "DATABASE_URL=postgres://api@db:5432/api", "FEATURE_FLAGS=a,b,c"},
			Labels: map[string]string{"com.example.team": "api", "com.docker.compose.service": "api"}},
		HostConfig: &containertypes.HostConfig{Binds: []string{"/srv/api/config:/config:ro", "api-data:/data"},
			PortBindings: pb, CapDrop: []string{"ALL"}, CapAdd: []string{"NET_BIND_SERVICE"}, ReadonlyRootfs: true,
			SecurityOpt: []string{"no-new-privileges"}, Tmpfs: map[string]string{"/tmp": "size=64m"},
			RestartPolicy: containertypes.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5},
			Resources:     containertypes.Resources{Memory: 256 << 20, NanoCPUs: 1e9, PidsLimit: ptr(int64(128))}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func benchDecider(b *testing.B) *Decider {
	cfg := filepath.Join(b.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("trustedRegistries: [registry.example.com]\n"), 0o600)
	d := New(Options{Load: func() (*Policy, error) { return LoadPolicy(cfg, "", nil) }, LogReads: true,
		Log: func(d *Decision) { json.Marshal(d) }})
	if err := d.LoadError(); err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkAuthz measures decisions as the Engine sees them: one plugin
// request over a Unix socket (HTTP, JSON, the decision, its log line
// encoded) per operation, for a container create (no signature checks)
// and for a GET. It reports the median and the 99th percentile.
func BenchmarkAuthz(b *testing.B) {
	create, _ := json.Marshal(map[string]any{"RequestMethod": "POST", "RequestUri": "/v1.41/containers/create?name=api",
		"RequestBody": benchCreate(b), "RequestHeaders": map[string]string{"Content-Type": "application/json"}})
	get, _ := json.Marshal(map[string]any{"RequestMethod": "GET", "RequestUri": "/v1.41/containers/json?all=1",
		"RequestHeaders": map[string]string{"Accept": "application/json"}})
	dir, err := os.MkdirTemp("", "dvzb")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ln, err := Listen(filepath.Join(dir, "p.sock"))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Serve(ctx, ln, &Handler{Decider: benchDecider(b)})
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(dir, "p.sock"))
	}}}
	for _, tc := range []struct {
		name  string
		msg   []byte
		allow bool
	}{{"create", create, true}, {"get", get, true}} {
		b.Run(tc.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				res, err := hc.Post("http://plugin"+PathRequest, "application/json", bytes.NewReader(tc.msg))
				if err != nil {
					b.Fatal(err)
				}
				var r Response
				json.NewDecoder(res.Body).Decode(&r)
				res.Body.Close()
				times = append(times, time.Since(start))
				if r.Allow != tc.allow {
					b.Fatalf("%+v", r)
				}
			}
			reportPercentiles(b, times)
		})
	}
}

// BenchmarkDecide is the decision alone, in process.
func BenchmarkDecide(b *testing.B) {
	d := benchDecider(b)
	raw, _ := json.Marshal(benchCreate(b))
	for _, tc := range []struct {
		name string
		req  Request
	}{
		{"create", Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/create?name=api", RequestBody: raw}},
		{"get", Request{RequestMethod: "GET", RequestURI: "/v1.41/containers/json"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				req := tc.req
				if !d.Decide(context.Background(), &req).Allowed() {
					b.Fatal("denied")
				}
				times = append(times, time.Since(start))
			}
			reportPercentiles(b, times)
		})
	}
}

func reportPercentiles(b *testing.B, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	slices.Sort(times)
	at := func(q float64) float64 {
		return float64(times[min(len(times)-1, int(q*float64(len(times))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.5), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
