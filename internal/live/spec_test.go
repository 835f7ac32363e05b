package live_test

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/volume"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/ruletest"
)

// readCase reads a case of testdata: a txtar archive whose comment holds
// the annotations, for the container as a whole, and whose files are what
// the Engine answers about it: inspect.json (the container), image.json
// (its image; absent when it no longer exists), tagged.json (the image its
// tag names now) and volumes.json (its named volumes, by name).
// testdata/engine holds a Docker 20.10 Engine's (API 1.41) own answers;
// testdata/image holds small hand-written ones for the image rules.
func readCase(t testing.TB, path string) (*ruletest.Case, *live.Container) {
	t.Helper()
	c, a, err := ruletest.ParseArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	var ct live.Container
	for _, f := range a.Files {
		var v any
		switch f.Name {
		case "inspect.json":
			v = &ct.Inspect
		case "image.json":
			v = &ct.Image
		case "tagged.json":
			v = &ct.Tagged
		case "volumes.json":
			v = &ct.Volumes
		default:
			t.Fatalf("%s: unknown file %s", path, f.Name)
		}
		if err := json.Unmarshal(f.Data, v); err != nil {
			t.Fatalf("%s: %s: %v", path, f.Name, err)
		}
	}
	if ct.Inspect.ID == "" {
		t.Fatalf("%s: no inspect.json", path)
	}
	return c, &ct
}

// ran says which rules Audit runs: the container spec rules and the live
// rules.
func ran(id string) bool {
	return slices.ContainsFunc(container.Rules(), func(r *container.Rule) bool { return r.ID == id }) ||
		slices.ContainsFunc(live.Rules(), func(r *live.Rule) bool { return r.ID == id })
}

// TestCases audits the cases of testdata. The Engine's own JSON tests the
// conversion on what the Engine writes (empty host IPs, null limits, CAP_
// prefixes, the daemon's own label=disable) also where no Engine runs.
func TestCases(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.txtar")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, file := range files {
		t.Run(strings.TrimPrefix(file, "testdata/"), func(t *testing.T) {
			c, ct := readCase(t, file)
			fs := live.Audit(ct, live.Options{})
			c.Check(t, ruletest.Whole(fs), ran)
			name := ct.Name()
			for _, f := range fs {
				if f.Location.Container != name || f.Target != name || !strings.Contains(f.Message, name+" ("+ct.ShortID()+")") {
					t.Errorf("%s at %q/%+v: %s", f.RuleID, f.Target, f.Location, f.Message)
				}
				if strings.Contains(f.Message, "Zt9xQ2mW") {
					t.Errorf("%s prints a secret: %s", f.RuleID, f.Message)
				}
			}
		})
	}
	ruletest.RequireRun(t, "testdata", files)
}

func base() *live.Container {
	return &live.Container{
		Inspect: containertypes.InspectResponse{
			ID: "3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e", Name: "/web", Image: "sha256:aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb8888",
			Config: &containertypes.Config{Image: "acme/web:1.4", User: "10001"},
			HostConfig: &containertypes.HostConfig{
				CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges"}, ReadonlyRootfs: true, CgroupnsMode: "private",
				Resources: containertypes.Resources{Memory: 1 << 28, NanoCPUs: 1e9, PidsLimit: ptr(int64(100))},
			},
		},
	}
}

func TestSpec(t *testing.T) {
	c := base()
	hc := c.Inspect.HostConfig
	hc.CapAdd = []string{"CAP_NET_BIND_SERVICE", ""}
	hc.PortBindings = network.PortMap{
		network.MustParsePort("8080/tcp"): {{HostPort: "8080"}, {HostIP: netip.MustParseAddr("::1"), HostPort: "8081"}},
		network.MustParsePort("53/udp"):   {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "5353-5354"}},
	}
	hc.Tmpfs = map[string]string{"/tmp": "size=1m", "/cache": ""}
	hc.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: "opts", Target: "/opts",
		VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Options: map[string]string{"o": "bind", "device": "/srv/x"}}}}}
	hc.Sysctls = map[string]string{"net.ipv4.ping_group_range": "0 0", "kernel.shmmax": "1"}
	hc.LogConfig = containertypes.LogConfig{Type: "local", Config: map[string]string{"max-size": "10m"}}
	hc.RestartPolicy = containertypes.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}
	hc.Ulimits = []*containertypes.Ulimit{nil, {Name: "nofile", Soft: 10, Hard: 20}}
	c.Inspect.Config.Env = []string{"A=1", "B", "=x", "C=d=e"}
	c.Inspect.Config.Healthcheck = &containertypes.HealthConfig{Test: []string{"CMD", "true"}}
	c.Inspect.Mounts = []containertypes.MountPoint{
		{Type: "bind", Source: "//var/run/../run/docker.sock", Destination: "/s", RW: false, Propagation: "rslave"},
		{Type: "volume", Name: "data", Source: "/var/lib/docker/volumes/data/_data", Destination: "/data", Driver: "local", RW: true},
		{Type: "volume", Name: "opts", Source: "/var/lib/docker/volumes/opts/_data", Destination: "/opts", Driver: "local", RW: true},
		{Type: "tmpfs", Destination: "/tmp", RW: true},
		{Name: "legacy", Source: "/var/lib/docker/volumes/legacy/_data", Destination: "/legacy", RW: true}, // API < 1.25: no Type
		{Source: "/home/alice/.ssh", Destination: "/root/.ssh", RW: true},
	}
	c.Volumes = map[string]volume.Volume{"data": {Name: "data", Driver: "local", Options: map[string]string{"type": "none", "o": "bind", "device": "/etc"}}}

	s := live.Spec(c, live.Daemon{})
	if s.Origin != container.FromEngine || s.Name != "web" || !s.ImageDefaultsKnown || s.Image.Value != "acme/web:1.4" || s.User.Value != "10001" {
		t.Errorf("identity: %+v", s)
	}
	if len(s.CapAdd) != 1 || s.CapAdd[0].Value != "NET_BIND_SERVICE" || s.CapDrop[0].Value != "ALL" {
		t.Errorf("caps %+v %+v", s.CapAdd, s.CapDrop)
	}
	var ports []string
	for _, p := range s.Ports {
		ports = append(ports, p.String()+"/"+p.Proto)
	}
	if want := []string{"127.0.0.1:5353-5354:53/udp/udp", "8080:8080/tcp", "[::1]:8081:8080/tcp"}; !slices.Equal(ports, want) {
		t.Errorf("ports %v, want %v", ports, want)
	}
	var mounts []string
	for _, m := range s.Mounts {
		mounts = append(mounts, strings.Join([]string{string(m.Type), m.Source, m.HostPath, m.Target, m.Propagation, boolString(m.ReadOnly)}, "|"))
	}
	wantMounts := []string{
		"bind|//var/run/../run/docker.sock|/var/run/docker.sock|/s|rslave|ro",
		"volume|data|/etc|/data||rw",   // the volume's own options
		"volume|opts|/srv/x|/opts||rw", // the options it was created with
		"tmpfs|||/tmp||rw",             // --mount type=tmpfs
		"volume|legacy||/legacy||rw",   // named: a volume
		"bind|/home/alice/.ssh|/home/alice/.ssh|/root/.ssh||rw",
		"tmpfs|||/cache||rw", // --tmpfs, not listed twice
	}
	if !slices.Equal(mounts, wantMounts) {
		t.Errorf("mounts\n  %s\nwant\n  %s", strings.Join(mounts, "\n  "), strings.Join(wantMounts, "\n  "))
	}
	if len(s.Ulimits) != 1 || s.Ulimits[0].Soft != 10 || s.Restart.Value != (container.RestartPolicy{Name: "on-failure", MaxRetries: 3}) {
		t.Errorf("ulimits %+v restart %+v", s.Ulimits, s.Restart)
	}
	if len(s.Env) != 3 || s.Env[1].Known || s.Env[2].Value != "d=e" {
		t.Errorf("env %+v", s.Env)
	}
	if len(s.Sysctls) != 2 || s.Sysctls[0].Name != "kernel.shmmax" || s.Log.Value.Driver != "local" || s.Log.Value.Options["max-size"] != "10m" {
		t.Errorf("sysctls %+v log %+v", s.Sysctls, s.Log)
	}
	if !s.Healthcheck.Set || s.Healthcheck.Value.Disabled {
		t.Errorf("healthcheck %+v", s.Healthcheck)
	}
	got := ruleIDs(live.Audit(c, live.Options{}))
	// The socket, /etc through a volume, ~/.ssh, and a tag without digest;
	// not the namespaced kernel.shm* sysctl, nor 8080 on every interface.
	if want := []string{"DV3020", "DV3022", "DV3022", "DV3071"}; !slices.Equal(got, want) {
		t.Errorf("rules %v, want %v", got, want)
	}
}

func boolString(ro bool) string {
	if ro {
		return "ro"
	}
	return "rw"
}

// TestEngineDefaults: what the Engine writes for "not given" is not
// mistaken for a setting, and what it adds by itself is not blamed on the
// container.
func TestEngineDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *live.Container)
		d    live.Daemon
		want []string
	}{
		{name: "hardened", want: []string{"DV3071"}},
		{name: "zero limits are no limits", edit: func(c *live.Container) {
			c.Inspect.HostConfig.Resources = containertypes.Resources{PidsLimit: ptr(int64(0))}
		}, want: []string{"DV3030", "DV3031", "DV3032", "DV3071"}},
		{name: "negative pids limit is unlimited", edit: func(c *live.Container) {
			c.Inspect.HostConfig.PidsLimit = ptr(int64(-1))
		}, want: []string{"DV3032", "DV3071"}},
		{name: "label=disable the daemon adds for host pid", edit: func(c *live.Container) {
			c.Inspect.HostConfig.PidMode = "host"
			c.Inspect.HostConfig.SecurityOpt = append(c.Inspect.HostConfig.SecurityOpt, "label=disable")
		}, want: []string{"DV3010", "DV3071"}},
		{name: "label=disable asked for", edit: func(c *live.Container) {
			c.Inspect.HostConfig.SecurityOpt = append(c.Inspect.HostConfig.SecurityOpt, "label=disable")
		}, want: []string{"DV3007", "DV3071"}},
		{name: "AppArmor profile applied by the daemon", edit: func(c *live.Container) {
			c.Inspect.AppArmorProfile = "unconfined"
		}, want: []string{"DV3006", "DV3071"}},
		{name: "docker-default profile", edit: func(c *live.Container) {
			c.Inspect.AppArmorProfile = "docker-default"
		}, want: []string{"DV3071"}},
		{name: "privileged is unconfined anyway", edit: func(c *live.Container) {
			c.Inspect.HostConfig.Privileged = true
			c.Inspect.AppArmorProfile = "unconfined"
			c.Inspect.HostConfig.SecurityOpt = append(c.Inspect.HostConfig.SecurityOpt, "label=disable")
		}, want: []string{"DV3001", "DV3071"}},
		{name: "masked paths emptied", edit: func(c *live.Container) {
			c.Inspect.HostConfig.MaskedPaths = []string{}
		}, want: []string{"DV3008", "DV3071"}},
		{name: "masked paths default", edit: func(c *live.Container) {
			c.Inspect.HostConfig.MaskedPaths = []string{"/proc/kcore"}
		}, want: []string{"DV3071"}},
		{name: "restart policy no", edit: func(c *live.Container) {
			c.Inspect.HostConfig.RestartPolicy = containertypes.RestartPolicy{Name: "no"}
		}, want: []string{"DV3071"}},
		{name: "health check NONE with restart always", edit: func(c *live.Container) {
			c.Inspect.HostConfig.RestartPolicy = containertypes.RestartPolicy{Name: "always"}
			c.Inspect.Config.Healthcheck = &containertypes.HealthConfig{Test: []string{"NONE"}}
		}, want: []string{"DV3034", "DV3071"}},
		{name: "user unset is root, certainly", edit: func(c *live.Container) {
			c.Inspect.Config.User = ""
		}, want: []string{"DV3050", "DV3071"}},
		{name: "no-new-privileges from the daemon", edit: func(c *live.Container) {
			c.Inspect.HostConfig.SecurityOpt = nil
		}, d: live.Daemon{NoNewPrivileges: true}, want: []string{"DV3071"}},
		{name: "no-new-privileges switched off despite the daemon", edit: func(c *live.Container) {
			c.Inspect.HostConfig.SecurityOpt = []string{"no-new-privileges:false"}
		}, d: live.Daemon{NoNewPrivileges: true}, want: []string{"DV3004", "DV3071"}},
		{name: "no-new-privileges unknown", edit: func(c *live.Container) {
			c.Inspect.HostConfig.SecurityOpt = nil
		}, want: []string{"DV3004", "DV3071"}},
		{name: "publish all binds v4 and v6: one port", edit: func(c *live.Container) {
			c.Inspect.HostConfig.PublishAllPorts = true
			c.Inspect.NetworkSettings = &containertypes.NetworkSettings{Ports: network.PortMap{
				network.MustParsePort("5432/tcp"): {{HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: "49153"}, {HostIP: netip.MustParseAddr("::"), HostPort: "49153"}},
				network.MustParsePort("8080/tcp"): {{HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: "49154"}},
			}}
		}, want: []string{"DV3040", "DV3042", "DV3071"}},
		{name: "ports bound without publish-all are what was asked", edit: func(c *live.Container) {
			c.Inspect.HostConfig.PortBindings = network.PortMap{network.MustParsePort("5432/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1")}}}
			c.Inspect.NetworkSettings = &containertypes.NetworkSettings{Ports: network.PortMap{
				network.MustParsePort("5432/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "49153"}},
				network.MustParsePort("6379/tcp"): nil, // exposed, not published
			}}
		}, want: []string{"DV3071"}},
		{name: "no config: the image's user is not known", edit: func(c *live.Container) {
			c.Inspect.Config = nil
		}, want: []string{"DV3051"}},
		{name: "no host config", edit: func(c *live.Container) {
			c.Inspect.HostConfig = nil
		}, want: []string{"DV3003", "DV3004", "DV3009", "DV3030", "DV3031", "DV3032", "DV3071"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			if tc.edit != nil {
				tc.edit(c)
			}
			if got := ruleIDs(live.Audit(c, live.Options{Daemon: tc.d})); !slices.Equal(got, tc.want) {
				t.Errorf("rules %v, want %v", got, tc.want)
			}
		})
	}
}

func img(user string, health ...string) *image.InspectResponse {
	cfg := &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{User: user}}
	if len(health) > 0 {
		cfg.Healthcheck = &dockerspec.HealthcheckConfig{Test: health}
	}
	return &image.InspectResponse{ID: "sha256:aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb8888", Created: "2024-05-01T10:00:00Z", Config: cfg}
}

func TestOptions(t *testing.T) {
	c := base()
	c.Inspect.Config.User = "" // the image's user, which is root
	c.Image = img("")
	only := func(r *finding.Rule) bool { return r.ID == "DV3100" }
	tg := finding.Target{Kind: finding.SurfaceHost, Name: "docker host"}
	fs := live.Audit(c, live.Options{Enabled: only, Target: tg})
	if len(fs) != 1 || fs[0].RuleID != "DV3100" || fs[0].Target != "docker host" || fs[0].TargetKind != finding.SurfaceHost || fs[0].Location.Container != "web" {
		t.Errorf("%+v", fs)
	}
	c.Inspect.Name = ""
	if c.Name() != "3f4e5d6c7b8a" || live.Target(c).Name != "3f4e5d6c7b8a" {
		t.Errorf("unnamed container is %q", c.Name())
	}
	if fs := live.Audit(c, live.Options{Enabled: only}); len(fs) != 1 || strings.Contains(fs[0].Message, "(3f4e") {
		t.Errorf("an unnamed container is named by its ID once: %+v", fs)
	}
}

// TestCatalog: the live rules are valid container-range rules, apart from
// the spec rules, each with its CIS reference, listed in ID order.
func TestCatalog(t *testing.T) {
	spec := map[string]bool{}
	for _, r := range container.Catalog() {
		spec[r.ID] = true
	}
	for _, r := range live.Catalog() {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		if !strings.HasPrefix(r.ID, "DV31") || spec[r.ID] || r.CIS == "" {
			t.Errorf("%s: live rules are DV31xx, apart from the spec rules, with their CIS reference", r.ID)
		}
	}
	if !slices.IsSortedFunc(live.Rules(), func(a, b *live.Rule) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("live rules are not listed in ID order")
	}
}
