package host

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/testenv"
)

// A fabricated token in GitHub's format: found by the secret engine, and
// never printed whole.
const githubToken = "ghp_Zt9xQ2mW4vB7nK1pL8rD3sF6hJ0cY5aE2uIo"

// TestLiveHostAudit runs the host audit on this machine with containers of
// ours running: deliberately unsafe ones and a hardened one. Each unsafe
// container's findings are exactly what its settings cause, at its name;
// the hardened one has nothing above low; the host's own CIS findings are
// there with their IDs. The Engine is shared with other tests and people,
// so only our containers (unique names per run) are judged, and everything
// we start is removed when the test ends, even when it fails.
func TestLiveHostAudit(t *testing.T) {
	lab := testenv.NewLab(t, "dvhost")
	c, prefix, unsafeImg, hardenedImg, sshdImg := lab.C, lab.Prefix, lab.Unsafe, lab.Hardened, lab.Prefix+"/sshd:1"
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The test program under sshd's name: ps shows "/usr/sbin/sshd -D".
	testenv.Load(t, c, testenv.TinyImage(t, v1.Config{Entrypoint: []string{"/usr/sbin/sshd", "-D"}},
		testenv.Layer(t, testenv.File{Path: "usr/sbin/sshd", Mode: 0o755, Body: testenv.StaticBinary(t)})), sshdImg)

	type tc struct {
		name string
		cfg  containertypes.Config
		hc   containertypes.HostConfig
		// mayNotStart: runc here (nested, without every capability
		// itself) cannot start a privileged container. The host audit
		// judges running containers only, so such a container is then
		// checked to be absent from the snapshot instead.
		mayNotStart bool
		// add are the rules its settings add to those of a container
		// started with nothing set (defaults below); drop the ones they
		// remove.
		add, drop []string
	}
	cases := []tc{
		{name: "hostns", hc: containertypes.HostConfig{PidMode: "host", NetworkMode: "host"},
			// The host network is not the default bridge (no DV4530).
			add: []string{"DV3010", "DV3013"}, drop: []string{"DV4530"}},
		{name: "socket", hc: containertypes.HostConfig{Binds: []string{"/var/run/docker.sock:/var/run/docker.sock"}}, add: []string{"DV3020"}},
		{name: "sysadmin", hc: containertypes.HostConfig{CapAdd: []string{"SYS_ADMIN"}}, add: []string{"DV3002"}},
		{name: "secret", cfg: containertypes.Config{Env: []string{"GITHUB_TOKEN=" + githubToken, "MODE=production"}}, add: []string{"DV3060"}},
		{name: "privileged", hc: containertypes.HostConfig{Privileged: true}, mayNotStart: true, add: []string{"DV3001"}, drop: []string{"DV3003"}},
		{name: "sshd", cfg: containertypes.Config{Image: sshdImg}, add: []string{"DV4507"}},
		// Two exec sessions as root, one of them privileged, below.
		{name: "exec", add: []string{"DV4523", "DV4524", "DV4524"}},
		{name: "hardened",
			cfg: containertypes.Config{Image: hardenedImg, User: "10001:10001",
				Healthcheck: &containertypes.HealthConfig{Test: []string{"CMD", "/app", "healthcheck"}, Interval: 30 * time.Second}},
			hc: containertypes.HostConfig{
				CgroupnsMode: containertypes.CgroupnsModePrivate,
				CapDrop:      []string{"ALL"}, SecurityOpt: []string{"no-new-privileges:true"},
				ReadonlyRootfs: true, Tmpfs: map[string]string{"/tmp": "rw,noexec,nosuid,size=16m"},
				Resources:     containertypes.Resources{Memory: 64 << 20, NanoCPUs: 5e8, PidsLimit: ptrTo(int64(64))},
				RestartPolicy: containertypes.RestartPolicy{Name: containertypes.RestartPolicyOnFailure, MaximumRetryCount: 5},
			}},
	}
	ids := map[string]string{}
	started := map[string]bool{}
	for _, k := range cases {
		cfg := k.cfg
		if cfg.Image == "" {
			cfg.Image = unsafeImg
		}
		cfg.Labels = map[string]string{"dockvet.test": prefix}
		name := prefix + "-" + k.name
		res, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: &cfg, HostConfig: &k.hc})
		if err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		})
		ids[name] = res.ID
		if _, err := c.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
			if !k.mayNotStart {
				t.Fatalf("starting %s: %v", name, err)
			}
			t.Logf("%s stays created (not running, so not audited by the host audit): %v", name, oneLine(err.Error(), 200))
			continue
		}
		started[name] = true
	}
	// Exec sessions, both as root (uid 0: the image has no /etc/passwd):
	// a privileged one, created and not started (runc here cannot apply
	// every capability, and a session whose start failed is forgotten), and
	// a running one. The Engine lists both in the container's ExecIDs.
	if _, err := c.ExecCreate(ctx, ids[prefix+"-exec"], client.ExecCreateOptions{Privileged: true, User: "0", Cmd: []string{"/app"}}); err != nil {
		t.Fatal(err)
	}
	ex, err := c.ExecCreate(ctx, ids[prefix+"-exec"], client.ExecCreateOptions{User: "0", Cmd: []string{"/app"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecStart(ctx, ex.ID, client.ExecStartOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}

	s, err := Collect(ctx, Options{Root: "/", Engine: c, Auditctl: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Engine == nil {
		t.Fatalf("no Engine answers: %s", s.EngineErr)
	}
	// The snapshot is plain JSON: the audit of a snapshot read back is the
	// same audit.
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	findings, checks := Check(s, CheckOptions{})
	again, _ := Check(&back, CheckOptions{})
	if len(again) != len(findings) {
		t.Errorf("a snapshot read back from JSON gives %d findings, the original %d", len(again), len(findings))
	}

	// defaults are the findings of a container started from the unsafe
	// image with nothing set: Docker's capabilities kept, no
	// no-new-privileges (unless the daemon sets it), a writable root, no
	// limits, pinned by tag only, root because the image has no USER
	// (DV3100, the one finding for that), an image without HEALTHCHECK,
	// and the default bridge.
	defaults := []string{"DV3003", "DV3004", "DV3009", "DV3030", "DV3031", "DV3032", "DV3071", "DV3100", "DV3101", "DV4530"}
	if isTrue(s.Daemon.Config.NoNewPrivileges, false) {
		defaults = slices.DeleteFunc(defaults, func(id string) bool { return id == "DV3004" })
	}
	byContainer := map[string][]finding.Finding{}
	for _, f := range findings {
		if f.Location.Container != "" {
			byContainer[f.Location.Container] = append(byContainer[f.Location.Container], f)
		}
	}
	inSnapshot := map[string]*Container{}
	for i := range s.Engine.Containers {
		inSnapshot[s.Engine.Containers[i].Name] = &s.Engine.Containers[i]
	}
	for _, k := range cases {
		name := prefix + "-" + k.name
		t.Run(k.name, func(t *testing.T) {
			sc := inSnapshot[name]
			if !started[name] {
				if sc != nil || len(byContainer[name]) > 0 {
					t.Errorf("%s is not running but was audited", name)
				}
				return
			}
			if sc == nil {
				t.Fatalf("running container %s is not in the snapshot", name)
			}
			if sc.Image == nil || sc.Processes == nil || sc.ImageErr != "" || sc.ProcessesErr != "" || sc.ExecsErr != "" {
				t.Errorf("snapshot of %s is incomplete: image %v, %d processes, errors %q %q %q",
					name, sc.Image != nil, len(sc.Processes), sc.ImageErr, sc.ProcessesErr, sc.ExecsErr)
			}
			var got []string
			short := ids[name][:12]
			for _, f := range byContainer[name] {
				got = append(got, f.RuleID)
				if f.Target != name || f.TargetKind != finding.SurfaceContainer || f.Location.Path != "" {
					t.Errorf("%s: target %q (%s), location %+v", f.RuleID, f.Target, f.TargetKind, f.Location)
				}
				if !strings.Contains(f.Message, name+" ("+short+")") {
					t.Errorf("%s: the message does not name the container with its ID: %s", f.RuleID, f.Message)
				}
				if k.name == "hardened" && f.Severity > finding.Low {
					t.Errorf("hardened container: %s %s: %s", f.Severity, f.RuleID, f.Message)
				}
				if f.RuleID == "DV3015" {
					t.Errorf("DV3015 is reported per container: %s", f.Message)
				}
			}
			slices.Sort(got)
			if k.name == "hardened" {
				// Only low and info remain: the tag pin (a local image has
				// no digest) and the default bridge.
				if want := []string{"DV3071", "DV4530"}; !slices.Equal(got, want) {
					t.Errorf("hardened: rules %v, want %v", got, want)
				}
				return
			}
			want := slices.DeleteFunc(slices.Clone(defaults), func(id string) bool { return slices.Contains(k.drop, id) })
			want = append(want, k.add...)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("rules\n got %v\nwant %v", got, want)
			}
		})
	}

	t.Run("secret is masked", func(t *testing.T) {
		data, _ := json.Marshal(findings)
		if strings.Contains(string(data), githubToken[4:]) {
			t.Error("a finding prints the token")
		}
	})

	t.Run("host-wide cgroup namespace", func(t *testing.T) {
		// On a cgroup v1 host every container that does not ask for its own
		// cgroup namespace shares the host's: one statement, listing ours
		// but not the hardened one, which asked for a private namespace.
		if h, _ := s.defaultCgroupnsHost(); !h {
			t.Skipf("the Engine's default cgroup namespace is private here (cgroup v%s)", s.Engine.Info.CgroupVersion)
		}
		var msg string
		for _, f := range findings {
			if f.RuleID == "DV4812" {
				msg = f.Message
			}
		}
		if !strings.Contains(msg, prefix+"-socket") || strings.Contains(msg, prefix+"-hardened") {
			t.Errorf("DV4812: %q", msg)
		}
	})

	t.Run("benchmark rows", func(t *testing.T) {
		rows := map[string]finding.Check{}
		for _, r := range checks {
			rows[r.CIS+" "+r.RuleID] = r
		}
		for _, want := range []struct{ key, name string }{
			{"5.32 DV3020", prefix + "-socket"}, {"5.4 DV3002,DV3003", prefix + "-sysadmin"},
			{"5.16 DV3010", prefix + "-hostns"}, {"5.7 DV4507", prefix + "-sshd"}, {"5.23 DV4523", prefix + "-exec"},
			{"4.1 DV3100", prefix + "-socket"},
		} {
			r := rows[want.key]
			if r.Status != finding.CheckWarn || !strings.Contains(r.Note, want.name) && !strings.Contains(r.Note, "more") {
				t.Errorf("row %s: %s %q", want.key, r.Status, r.Note)
			}
		}
	})

	t.Run("host CIS findings", func(t *testing.T) {
		// The host's own findings carry their CIS IDs: this machine's
		// daemon has no authorization plugin and no user namespaces, and
		// at least those are reported.
		cis := map[string]string{}
		for _, f := range findings {
			if f.TargetKind == finding.SurfaceHost {
				cis[f.RuleID] = f.CIS
			}
		}
		for _, r := range Rules() {
			if got, ok := cis[r.ID]; ok && got != r.CIS {
				t.Errorf("%s reported with CIS %q, want %q", r.ID, got, r.CIS)
			}
		}
		n := 0
		for _, c := range cis {
			if c != "" {
				n++
			}
		}
		if n == 0 {
			t.Error("no host finding with a CIS ID")
		}
		t.Logf("%d host rules reported, %d with a CIS ID", len(cis), n)
	})
}

func ptrTo[T any](v T) *T { return &v }
