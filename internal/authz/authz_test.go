package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// lab is a Decider on a configuration written by the test, behind the
// handler the Engine talks to, with every decision kept.
type lab struct {
	t       *testing.T
	cfgPath string
	d       *Decider
	srv     *httptest.Server
	mu      sync.Mutex
	log     []*Decision
}

func newLab(t *testing.T, yaml string, opts ...func(*Options)) *lab {
	t.Helper()
	l := &lab{t: t, cfgPath: filepath.Join(t.TempDir(), ".dockvet.yaml")}
	l.write(yaml)
	o := Options{
		Load:     func() (*Policy, error) { return LoadPolicy(l.cfgPath, "", nil) },
		LogReads: true,
		Log: func(d *Decision) {
			l.mu.Lock()
			l.log = append(l.log, d)
			l.mu.Unlock()
		},
	}
	for _, f := range opts {
		f(&o)
	}
	l.d = New(o)
	l.srv = httptest.NewServer(&Handler{Decider: l.d})
	t.Cleanup(l.srv.Close)
	return l
}

func (l *lab) write(yaml string) {
	l.t.Helper()
	if err := os.WriteFile(l.cfgPath, []byte(yaml), 0o600); err != nil {
		l.t.Fatal(err)
	}
}

// ask sends one AuthZReq as the Engine does and returns the answer.
func (l *lab) ask(method, uri string, body any) Response {
	l.t.Helper()
	req := map[string]any{"User": "", "RequestMethod": method, "RequestUri": uri,
		"RequestHeaders": map[string]string{"Content-Type": "application/json"}}
	switch b := body.(type) {
	case nil:
	case []byte:
		req["RequestBody"] = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			l.t.Fatal(err)
		}
		req["RequestBody"] = raw
	}
	return l.post(PathRequest, req)
}

func (l *lab) post(path string, v any) Response {
	l.t.Helper()
	raw, _ := json.Marshal(v)
	res, err := http.Post(l.srv.URL+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		l.t.Fatal(err)
	}
	defer res.Body.Close()
	var out Response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		l.t.Fatalf("%s: answer is not JSON: %v", path, err)
	}
	return out
}

func (l *lab) last() *Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.log) == 0 {
		l.t.Fatal("no decision logged")
	}
	return l.log[len(l.log)-1]
}

func create(hc *containertypes.HostConfig, cfg *containertypes.Config) containertypes.CreateRequest {
	if cfg == nil {
		cfg = &containertypes.Config{}
	}
	if cfg.Image == "" {
		cfg.Image = "registry.example.com/app:1.0"
	}
	if hc == nil {
		hc = &containertypes.HostConfig{}
	}
	return containertypes.CreateRequest{Config: cfg, HostConfig: hc}
}

const socketMessage = "dockvet: DV3020 denied: container web mounts the engine socket /var/run/docker.sock at /var/run/docker.sock; " +
	"do not give containers the Engine socket, or add an exception in .dockvet.yaml (enforce.exceptions)"

func TestActivateAndResponse(t *testing.T) {
	l := newLab(t, "")
	res, err := http.Post(l.srv.URL+PathActivate, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var act struct{ Implements []string }
	json.NewDecoder(res.Body).Decode(&act)
	res.Body.Close()
	if len(act.Implements) != 1 || act.Implements[0] != "authz" {
		t.Fatalf("Activate: %+v", act)
	}
	if r := l.post(PathResponse, map[string]any{"RequestMethod": "POST", "ResponseStatusCode": 201}); !r.Allow {
		t.Fatalf("AuthZRes: %+v", r)
	}
}

func TestCreate(t *testing.T) {
	l := newLab(t, "")
	sock := create(&containertypes.HostConfig{Binds: []string{"/var/run/docker.sock:/var/run/docker.sock"}}, nil)
	if r := l.ask("POST", "/v1.41/containers/create?name=web", sock); r.Allow || r.Msg != socketMessage {
		t.Fatalf("socket mount: %+v\nwant %s", r, socketMessage)
	}
	d := l.last()
	if d.Verdict != VerdictDeny || d.Request.Kind != KindCreate || d.Request.Container != "web" || d.Request.Path != "/v1.41/containers/create" {
		t.Fatalf("decision %+v", d)
	}

	// --mount, a volume that binds the socket's directory, privileged:
	// each denied by its own rule.
	for _, tc := range []struct {
		body containertypes.CreateRequest
		rule string
	}{
		{create(&containertypes.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/run/docker.sock", Target: "/s", ReadOnly: true}}}, nil), "DV3020"},
		{create(&containertypes.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: "v", Target: "/s",
			VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "local", Options: map[string]string{"o": "bind", "type": "none", "device": "/var/run"}}}}}}, nil), "DV3020"},
		{create(&containertypes.HostConfig{Privileged: true}, nil), "DV3001"},
		{create(&containertypes.HostConfig{Binds: []string{"/etc:/host-etc:ro"}}, nil), "DV3022"},
		{create(&containertypes.HostConfig{PidMode: "host"}, nil), "DV3010"},
		{create(nil, &containertypes.Config{Env: []string{"AWS_SECRET_ACCESS_KEY=q8Vh4Gd9ZxWfT2kLmN7pQrS3uVwXyZ1aBcDeFgHi"}}), "DV3060"},
	} {
		if r := l.ask("POST", "/containers/create", tc.body); r.Allow || !strings.HasPrefix(r.Msg, "dockvet: "+tc.rule+" denied: ") {
			t.Errorf("%+v: %+v, want %s", tc.body.HostConfig, r, tc.rule)
		}
	}
	if strings.Contains(mustJSON(t, l.last()), "q8Vh4Gd9ZxWf") {
		t.Fatal("the decision log holds the secret")
	}

	hardened := create(&containertypes.HostConfig{CapDrop: []string{"ALL"}, ReadonlyRootfs: true, SecurityOpt: []string{"no-new-privileges"},
		Resources: containertypes.Resources{Memory: 64 << 20, PidsLimit: ptr(int64(64)), NanoCPUs: 5e8}},
		&containertypes.Config{User: "10001:10001"})
	if r := l.ask("POST", "/containers/create?name=ok", hardened); !r.Allow {
		t.Fatalf("hardened: %+v", r)
	}
	if d := l.last(); d.Verdict != VerdictAllow || len(d.Denying()) != 0 {
		t.Fatalf("hardened decision %+v", d)
	}
}

func TestCreateTricks(t *testing.T) {
	l := newLab(t, "")
	sock := create(&containertypes.HostConfig{Binds: []string{"/var/run/docker.sock:/s"}}, nil)
	// The Engine's router decodes and cleans the path: so does the plugin.
	for _, uri := range []string{"/v1.41/containers/%63reate", "/containers/x/../create", "//v1.24//containers/create?name=a"} {
		if r := l.ask("POST", uri, sock); r.Allow {
			t.Errorf("%s: allowed", uri)
		}
	}
	// A judged request without a body, or with one that does not decode,
	// is denied (fail closed).
	for _, body := range []any{nil, []byte("{"), []byte(`{"HostConfig":{"Privileged":"yes"}}`), []byte(`{} {}`)} {
		r := l.ask("POST", "/containers/create", body)
		if r.Allow || !strings.HasPrefix(r.Msg, "dockvet: request denied: ") {
			t.Errorf("body %q: %+v", body, r)
		}
	}
	if d := l.last(); d.Error == "" || d.Verdict != VerdictDeny {
		t.Fatalf("%+v", d)
	}
	// A start with settings (API < 1.24) would change what create judged.
	if r := l.ask("POST", "/v1.23/containers/web/start", map[string]any{"Privileged": true}); r.Allow {
		t.Fatal("start with a HostConfig allowed")
	}
	if r := l.ask("POST", "/containers/web/start", nil); !r.Allow {
		t.Fatalf("plain start: %+v", r)
	}
	// Reads are answered without looking at anything else.
	if r := l.ask("GET", "/v1.41/containers/json?all=1", []byte("garbage")); !r.Allow {
		t.Fatalf("GET: %+v", r)
	}
	if d := l.last(); d.Request.Kind != KindRead || d.Request.Path != "/v1.41/containers/json" {
		t.Fatalf("GET logged as %+v", d.Request)
	}
}

func TestBadMessages(t *testing.T) {
	l := newLab(t, "")
	for _, body := range []string{"", "{", `{"RequestUri": 5}`, "[]", strings.Repeat(" ", DefaultMaxRequest+1)} {
		res, err := http.Post(l.srv.URL+PathRequest, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var r Response
		json.NewDecoder(res.Body).Decode(&r)
		res.Body.Close()
		if res.StatusCode/100 != 4 || r.Allow || !strings.HasPrefix(r.Err, "dockvet: ") {
			t.Errorf("%.20q: %d %+v", body, res.StatusCode, r)
		}
	}
	// Still serving.
	if r := l.ask("GET", "/_ping", nil); !r.Allow {
		t.Fatal(r)
	}
}

func TestExec(t *testing.T) {
	l := newLab(t, "")
	r := l.ask("POST", "/v1.41/containers/web/exec", containertypes.ExecCreateRequest{Privileged: true, Cmd: []string{"sh", "-c", "echo hunter2"}})
	want := `dockvet: DV5001 denied: an exec of "sh" into container web asked for --privileged, which gives the process every capability; do not use ` +
		"`--privileged` with `docker exec`, or add an exception in .dockvet.yaml (enforce.exceptions)"
	if r.Allow || r.Msg != want {
		t.Fatalf("%+v\nwant %s", r, want)
	}
	if strings.Contains(mustJSON(t, l.last()), "hunter2") {
		t.Fatal("the exec's arguments are logged")
	}
	// Without the Engine to ask, the container's user is unknown: an exec
	// that names none is not called root.
	if r := l.ask("POST", "/containers/web/exec", containertypes.ExecCreateRequest{Cmd: []string{"ls"}}); !r.Allow || len(l.last().Rules) != 0 {
		t.Fatalf("plain exec: %+v %+v", r, l.last().Rules)
	}
	l.ask("POST", "/containers/web/exec", containertypes.ExecCreateRequest{User: "0", Cmd: []string{"ls"}})
	if d := l.last(); !d.Allowed() || len(d.Rules) != 1 || d.Rules[0].RuleID != "DV5002" || d.Rules[0].Denies {
		t.Fatalf("exec as root: %+v (medium: logged, not denied by default)", d)
	}
}

func TestUpdate(t *testing.T) {
	l := newLab(t, `
enforce:
  deny:
    - rules: ["*"]
      severity: high
    - rules: [practice:resource-limits]
      severity: medium
`)
	r := l.ask("POST", "/v1.41/containers/web/update", containertypes.UpdateConfig{Resources: containertypes.Resources{PidsLimit: ptr(int64(-1))}})
	if r.Allow || !strings.HasPrefix(r.Msg, "dockvet: DV3032 denied: an update of container web removes its pids limit (PidsLimit -1)") {
		t.Fatalf("%+v", r)
	}
	if r := l.ask("POST", "/containers/web/update", containertypes.UpdateConfig{Resources: containertypes.Resources{Memory: 128 << 20}}); !r.Allow {
		t.Fatalf("raising a limit: %+v", r)
	}
	l.ask("POST", "/containers/web/update", containertypes.UpdateConfig{Resources: containertypes.Resources{CPUQuota: -1}})
	if d := l.last(); !d.Allowed() || d.Rules[0].RuleID != "DV3031" {
		t.Fatalf("CPU quota removed (low: logged): %+v", d)
	}
}

func TestPull(t *testing.T) {
	l := newLab(t, `
trustedRegistries: [registry.example.com]
trust:
  - images: [registry.example.com/prod/*]
    digests: required
`)
	r := l.ask("POST", "/v1.41/images/create?fromImage=docker.io%2Flibrary%2Falpine&tag=3.19", nil)
	if r.Allow || !strings.HasPrefix(r.Msg, "dockvet: DV3072 denied: image docker.io/library/alpine:3.19 is pulled from docker.io, which is not in trustedRegistries") {
		t.Fatalf("%+v", r)
	}
	if r := l.ask("POST", "/images/create?fromImage=registry.example.com/prod/api&tag=2", nil); r.Allow || !strings.Contains(r.Msg, "DV3073") {
		t.Fatalf("%+v", r)
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	if r := l.ask("POST", "/images/create?fromImage=registry.example.com/prod/api&tag="+digest, nil); !r.Allow {
		t.Fatalf("by digest: %+v", r)
	}
	if d := l.last(); d.Request.Image != "registry.example.com/prod/api@"+digest {
		t.Fatalf("%+v", d.Request)
	}
	// A create of an image from outside the list faces the same policy.
	if r := l.ask("POST", "/containers/create", create(nil, &containertypes.Config{Image: "alpine:3.19"})); r.Allow || !strings.Contains(r.Msg, "DV3072") {
		t.Fatalf("%+v", r)
	}
	if r := l.ask("POST", "/images/create?fromImage=a%20b", nil); r.Allow {
		t.Fatal("an unparsable reference was allowed")
	}
}

func TestExceptionsAndAudit(t *testing.T) {
	l := newLab(t, `
enforce:
  exceptions:
    - rules: [DV3020]
      images: [registry.example.com/tools/watch]
      labels: {dockvet.io/role: monitor}
      reason: watch reads the Engine's events
    - users: [ops-*]
      reason: break-glass access for operators
`)
	sock := create(&containertypes.HostConfig{Binds: []string{"/var/run/docker.sock:/var/run/docker.sock"}},
		&containertypes.Config{Image: "registry.example.com/tools/watch:2", Labels: map[string]string{"dockvet.io/role": "monitor"}})
	if r := l.ask("POST", "/containers/create?name=watch", sock); !r.Allow {
		t.Fatalf("excepted: %+v", r)
	}
	if d := l.last(); d.Rules[0].Exception != "watch reads the Engine's events" || d.Rules[0].Denies {
		t.Fatalf("%+v", d.Rules)
	}
	sock.Config.Labels = nil
	if r := l.ask("POST", "/containers/create?name=watch", sock); r.Allow {
		t.Fatal("without the label: denied")
	}
	req := map[string]any{"User": "ops-anna", "UserAuthNMethod": "TLS", "RequestMethod": "POST", "RequestUri": "/containers/create", "RequestBody": mustRaw(t, sock)}
	if r := l.post(PathRequest, req); !r.Allow {
		t.Fatalf("user exception: %+v", r)
	}
	if d := l.last(); d.User != "ops-anna" || d.AuthN != "TLS" {
		t.Fatalf("%+v", d)
	}

	// The same request in audit mode: allowed, logged as would-deny.
	l.write("enforce: {mode: audit}\n")
	if err := l.d.Reload(); err != nil {
		t.Fatal(err)
	}
	if r := l.ask("POST", "/containers/create?name=watch", sock); !r.Allow {
		t.Fatalf("audit: %+v", r)
	}
	if d := l.last(); d.Verdict != VerdictWouldDeny || d.Message == "" || d.Mode != "audit" {
		t.Fatalf("%+v", d)
	}
}

func TestOnePolicyWithTheScanners(t *testing.T) {
	// rules.disable and ignore: apply to authz as to every scanner.
	l := newLab(t, `
rules:
  disable: [DV3001]
ignore:
  - id: DV3020
    reason: this host's CI runs docker-in-docker
`)
	if r := l.ask("POST", "/containers/create", create(&containertypes.HostConfig{Privileged: true, Binds: []string{"/var/run/docker.sock:/s"}}, nil)); !r.Allow {
		t.Fatalf("%+v", r)
	}
	// A severity override can make a finding deny.
	l.write("rules: {severity: {DV3031: high}}\n")
	l.d.Reload()
	if r := l.ask("POST", "/containers/create", create(nil, nil)); r.Allow || !strings.Contains(r.Msg, "DV3031 denied") {
		t.Fatalf("%+v", r)
	}
}

func TestReload(t *testing.T) {
	l := newLab(t, "")
	sock := create(&containertypes.HostConfig{Binds: []string{"/var/run/docker.sock:/s"}}, nil)
	l.write("enforce: {mode: nonsense}\n")
	err := l.d.Reload()
	if err == nil || !strings.Contains(err.Error(), `enforce.mode: "nonsense"`) {
		t.Fatalf("bad policy: %v", err)
	}
	if r := l.ask("POST", "/containers/create", sock); r.Allow {
		t.Fatal("the old policy stays in force")
	}
	l.write("enforce: {mode: audit}\n")
	if err := l.d.Reload(); err != nil {
		t.Fatal(err)
	}
	if r := l.ask("POST", "/containers/create", sock); !r.Allow {
		t.Fatal("the new policy is in force")
	}
}

func TestNoPolicy(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("enforce: {mode: nonsense}\n"), 0o600)
	var logged []*Decision
	d := New(Options{Load: func() (*Policy, error) { return LoadPolicy(bad, "", nil) }, Log: func(d *Decision) { logged = append(logged, d) }, LogReads: true})
	if d.LoadError() == nil {
		t.Fatal("no load error")
	}
	dec := d.Decide(context.Background(), &Request{RequestMethod: "GET", RequestURI: "/_ping"})
	if dec.Allowed() || !strings.HasPrefix(dec.Message, "dockvet: request denied: the policy did not load: config ") ||
		!strings.HasSuffix(dec.Message, "; fix it and send dockvet SIGHUP") || len(logged) != 1 {
		t.Fatalf("%+v", dec)
	}
	os.WriteFile(bad, []byte(""), 0o600)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if dec := d.Decide(context.Background(), &Request{RequestMethod: "GET", RequestURI: "/_ping"}); !dec.Allowed() {
		t.Fatalf("%+v", dec)
	}

	open := New(Options{Load: func() (*Policy, error) { return nil, errors.New("nope") }, FailOpen: true})
	if dec := open.Decide(context.Background(), &Request{RequestMethod: "POST", RequestURI: "/containers/create"}); !dec.Allowed() || dec.Verdict != VerdictWouldDeny {
		t.Fatalf("fail open: %+v", dec)
	}
}

func TestFailOpenInAudit(t *testing.T) {
	l := newLab(t, "enforce: {mode: audit, onFailure: allow}\n")
	if r := l.ask("POST", "/containers/create", []byte("{")); !r.Allow {
		t.Fatalf("%+v", r)
	}
	if d := l.last(); d.Verdict != VerdictWouldDeny || d.Error == "" {
		t.Fatalf("%+v", d)
	}
	l.write("enforce: {mode: audit}\n")
	l.d.Reload()
	if r := l.ask("POST", "/containers/create", []byte("{")); r.Allow {
		t.Fatal("audit mode still fails closed by default")
	}
}

type slowEngine struct{}

func (slowEngine) ContainerInspect(ctx context.Context, _ string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	<-ctx.Done()
	return client.ContainerInspectResult{}, ctx.Err()
}

func (slowEngine) ImageInspect(ctx context.Context, _ string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	<-ctx.Done()
	return client.ImageInspectResult{}, ctx.Err()
}

func TestTimeout(t *testing.T) {
	l := newLab(t, "enforce: {timeout: 50ms}\n", func(o *Options) { o.Engine = slowEngine{} })
	start := time.Now()
	r := l.ask("POST", "/containers/web/exec", containertypes.ExecCreateRequest{Cmd: []string{"ls"}})
	if r.Allow || !strings.Contains(r.Msg, "no decision within 50ms") {
		t.Fatalf("%+v", r)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("the timeout did not bound the decision")
	}
}

func TestLogLine(t *testing.T) {
	l := newLab(t, "")
	l.ask("POST", "/v1.41/build?buildargs=%7B%22TOKEN%22%3A%22s3cr3t%22%7D", nil)
	line := mustJSON(t, l.last())
	if strings.Contains(line, "s3cr3t") || strings.Contains(line, "buildargs") {
		t.Fatalf("the query is logged: %s", line)
	}
	var m map[string]any
	json.Unmarshal([]byte(line), &m)
	for _, k := range []string{"time", "verdict", "request", "durationMs"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, line)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustRaw(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
