package live_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/testenv"
)

// A fabricated token in GitHub's format: the secret engine must see it,
// and no report may print it whole.
const githubToken = "ghp_Zt9xQ2mW4vB7nK1pL8rD3sF6hJ0cY5aE2uIo"

// lab is one test's share of the Engine (testenv.Lab) with the helpers
// these tests use to start containers.
type lab struct{ *testenv.Lab }

func newLab(t testing.TB) *lab { return &lab{testenv.NewLab(t, "dvlive")} }

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// create makes a container and removes it (with its anonymous volumes)
// when the test ends. The cgroup namespace is pinned to private unless the
// case sets it: the Engine's default is "host" on cgroup v1 hosts and
// "private" on cgroup v2, and expectations must not depend on the machine.
func (l *lab) create(name string, cfg containertypes.Config, hc containertypes.HostConfig) string {
	l.T.Helper()
	if hc.CgroupnsMode == "" {
		hc.CgroupnsMode = containertypes.CgroupnsModePrivate
	}
	cfg.Labels = map[string]string{"dockvet.test": l.Prefix}
	res, err := l.C.ContainerCreate(ctx(l.T), client.ContainerCreateOptions{Name: l.Prefix + "-" + name, Config: &cfg, HostConfig: &hc})
	if err != nil {
		l.T.Fatalf("creating %s: %v", name, err)
	}
	l.T.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		l.C.ContainerRemove(c, res.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	})
	return res.ID
}

func (l *lab) start(id string) error {
	_, err := l.C.ContainerStart(ctx(l.T), id, client.ContainerStartOptions{})
	return err
}

// volume makes a local volume that binds a host path, as
// `docker volume create -o type=none -o o=bind -o device=PATH` does.
func (l *lab) volume(name, device string) string {
	l.T.Helper()
	name = l.Prefix + "-" + name
	_, err := l.C.VolumeCreate(ctx(l.T), client.VolumeCreateOptions{Name: name, Driver: "local",
		DriverOpts: map[string]string{"type": "none", "o": "bind", "device": device}})
	if err != nil {
		l.T.Fatalf("creating volume %s: %v", name, err)
	}
	l.T.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		l.C.VolumeRemove(c, name, client.VolumeRemoveOptions{Force: true})
	})
	return name
}

func (l *lab) tag(source, target string) {
	l.T.Helper()
	if _, err := l.C.ImageTag(ctx(l.T), client.ImageTagOptions{Source: source, Target: target}); err != nil {
		l.T.Fatal(err)
	}
}

// untagOnCleanup removes a tag the test adds when the test ends; the
// image itself belongs to testenv.Load.
func (l *lab) untagOnCleanup(tag string) {
	l.T.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		l.C.ImageRemove(c, tag, client.ImageRemoveOptions{})
	})
}

func ruleIDs(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID)
	}
	slices.Sort(out)
	return out
}

// defaults are the findings of a container started from the unsafe image
// with nothing set: Docker's capabilities kept, no no-new-privileges, a
// writable root, no limits, pinned by tag only, root because its image
// has no USER (DV3100, the one finding for that fact), and an image
// without HEALTHCHECK.
var defaults = []string{"DV3003", "DV3004", "DV3009", "DV3030", "DV3031", "DV3032", "DV3071", "DV3100", "DV3101"}

func with(base []string, add []string, drop ...string) []string {
	out := slices.DeleteFunc(slices.Clone(base), func(id string) bool { return slices.Contains(drop, id) })
	out = append(out, add...)
	slices.Sort(out)
	return out
}

// TestLiveContainers starts containers with deliberately unsafe settings
// and one hardened container on the real Engine, and checks exactly which
// findings each one gets, located at its name.
func TestLiveContainers(t *testing.T) {
	l := newLab(t)
	etc := l.volume("etc", "/etc")
	stale := l.Prefix + "/stale:1"
	l.untagOnCleanup(stale)
	l.tag(l.Unsafe, stale)

	cases := []struct {
		name string
		cfg  containertypes.Config
		hc   containertypes.HostConfig
		// mayNotStart: an Engine without every capability itself (nested
		// or rootless, like some CI machines) refuses to start a
		// privileged container. Its inspect data, which is what is
		// audited, is the same started or not.
		mayNotStart bool
		want        []string
	}{
		{name: "privileged", hc: containertypes.HostConfig{Privileged: true}, mayNotStart: true,
			// privileged ignores cap_drop (no DV3003); the label=disable
			// the daemon adds by itself is not reported as DV3007.
			want: with(defaults, []string{"DV3001"}, "DV3003")},
		{name: "hostns", hc: containertypes.HostConfig{PidMode: "host", NetworkMode: "host"},
			want: with(defaults, []string{"DV3010", "DV3013"})},
		{name: "socket", hc: containertypes.HostConfig{Binds: []string{"/var/run/docker.sock:/var/run/docker.sock"}},
			want: with(defaults, []string{"DV3020"})},
		{name: "sysadmin", hc: containertypes.HostConfig{CapAdd: []string{"SYS_ADMIN"}},
			want: with(defaults, []string{"DV3002"})},
		{name: "secret", cfg: containertypes.Config{Env: []string{"GITHUB_TOKEN=" + githubToken, "MODE=production"}},
			want: with(defaults, []string{"DV3060"})},
		{name: "etcvolume", hc: containertypes.HostConfig{Binds: []string{etc + ":/host-etc:ro"}},
			want: with(defaults, []string{"DV3022"})},
		{name: "stale", cfg: containertypes.Config{Image: stale},
			want: with(defaults, []string{"DV3102"})},
		{name: "hardened",
			cfg: containertypes.Config{Image: l.Hardened, User: "10001:10001",
				Healthcheck:  &containertypes.HealthConfig{Test: []string{"CMD", "/app", "healthcheck"}, Interval: 30 * time.Second},
				ExposedPorts: network.PortSet{network.MustParsePort("8080/tcp"): {}, network.MustParsePort("5432/tcp"): {}}},
			hc: containertypes.HostConfig{
				CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges:true"},
				ReadonlyRootfs: true, Tmpfs: map[string]string{"/tmp": "rw,noexec,nosuid,size=16m"},
				Resources: containertypes.Resources{Memory: 64 << 20, NanoCPUs: 5e8, PidsLimit: ptr(int64(64)),
					Ulimits: []*containertypes.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}}},
				RestartPolicy: containertypes.RestartPolicy{Name: containertypes.RestartPolicyOnFailure, MaximumRetryCount: 5},
				PortBindings: network.PortMap{
					network.MustParsePort("8080/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1")}},
					network.MustParsePort("5432/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1")}},
				},
			},
			// A local image cannot be pinned by digest: the tag is all
			// there is, and DV3071 is low.
			want: []string{"DV3071"}},
	}
	ids := map[string]string{}
	for _, tc := range cases {
		cfg := tc.cfg
		if cfg.Image == "" {
			cfg.Image = l.Unsafe
		}
		id := l.create(tc.name, cfg, tc.hc)
		ids[tc.name] = id
		if err := l.start(id); err != nil {
			if !tc.mayNotStart {
				t.Fatalf("starting %s: %v", tc.name, err)
			}
			t.Logf("%s stays created: %v", tc.name, err)
		}
	}
	// The tag moves after the container was created from it.
	l.tag(l.Hardened, stale)

	audits := map[string][]finding.Finding{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := l.Prefix + "-" + tc.name
			c, err := live.Fetch(ctx(t), l.C, name)
			if err != nil {
				t.Fatal(err)
			}
			fs := live.Audit(c, live.Options{})
			audits[tc.name] = fs
			if got := ruleIDs(fs); !slices.Equal(got, tc.want) {
				t.Errorf("rules\n got %v\nwant %v", got, tc.want)
			}
			short := ids[tc.name][:12]
			for _, f := range fs {
				if f.Location.Container != name || f.Target != name || f.TargetKind != finding.SurfaceContainer || f.Location.Path != "" {
					t.Errorf("%s: target %q (%s), location %+v", f.RuleID, f.Target, f.TargetKind, f.Location)
				}
				if !strings.Contains(f.Message, "container "+name+" ("+short+")") && !strings.Contains(f.Message, "Container "+name+" ("+short+")") {
					t.Errorf("%s: message does not name the container with its ID: %s", f.RuleID, f.Message)
				}
				if tc.name == "hardened" && f.Severity > finding.Low {
					t.Errorf("hardened container has a %s finding: %s", f.Severity, f.Message)
				}
			}
			// By ID and by ID prefix it is the same container.
			byID, err := live.Fetch(ctx(t), l.C, ids[tc.name][:12])
			if err != nil || byID.Inspect.ID != ids[tc.name] {
				t.Errorf("fetch by short ID: %v", err)
			}
		})
	}

	t.Run("secret is masked", func(t *testing.T) {
		for _, f := range audits["secret"] {
			data, _ := json.Marshal(f)
			if strings.Contains(string(data), githubToken[4:]) {
				t.Errorf("%s prints the token: %s", f.RuleID, data)
			}
			if f.RuleID == "DV3060" && (f.Fingerprint == "" || !strings.Contains(f.Message, "GITHUB_TOKEN") || !strings.Contains(f.Message, "ghp_****")) {
				t.Errorf("DV3060: %s (fingerprint %q)", f.Message, f.Fingerprint)
			}
		}
	})

	t.Run("running", func(t *testing.T) {
		all, err := live.Running(ctx(t), l.C)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]*live.Container{}
		for _, c := range all {
			if c.Inspect.Config != nil && c.Inspect.Config.Labels["dockvet.test"] == l.Prefix {
				got[c.Name()] = c
			}
			if c.Inspect.State != nil && !c.Inspect.State.Running {
				t.Errorf("%s is listed as running but is %s", c.Name(), c.Inspect.State.Status)
			}
		}
		for _, tc := range cases {
			name := l.Prefix + "-" + tc.name
			inspect, err := l.C.ContainerInspect(ctx(t), name, client.ContainerInspectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c, listed := got[name]
			if running := inspect.Container.State.Running; running != listed {
				t.Errorf("%s: running %v, listed %v", name, running, listed)
				continue
			}
			if !listed {
				continue
			}
			if ids := ruleIDs(live.Audit(c, live.Options{})); !slices.Equal(ids, tc.want) {
				t.Errorf("%s from Running: %v, want %v", name, ids, tc.want)
			}
		}
	})

	t.Run("from inspect data", func(t *testing.T) {
		// The host audit has inspect data in its snapshot: Complete adds
		// the image and volumes without inspecting the container again,
		// and without them the spec rules still run.
		name := l.Prefix + "-stale"
		res, err := l.C.ContainerInspect(ctx(t), name, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := live.Complete(ctx(t), l.C, res.Container)
		if err != nil {
			t.Fatal(err)
		}
		if got := ruleIDs(live.Audit(c, live.Options{})); !slices.Equal(got, with(defaults, []string{"DV3102"})) {
			t.Errorf("completed: %v", got)
		}
		bare := &live.Container{Inspect: res.Container}
		// Without the image's data, the container's root is DV3050's.
		if got := ruleIDs(live.Audit(bare, live.Options{})); !slices.Equal(got, with(defaults, []string{"DV3050"}, "DV3100", "DV3101")) {
			t.Errorf("inspect data alone: %v", got)
		}
	})
}

func TestFetchUnknown(t *testing.T) {
	c := testenv.Docker(t)
	for _, ref := range []string{"dvlive-no-such-container-0f3a", "", "bad/name"} {
		_, err := live.Fetch(ctx(t), c, ref)
		if !live.IsNotFound(err) {
			t.Errorf("Fetch(%q): %v, want a not-found error", ref, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
