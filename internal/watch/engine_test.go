package watch

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/finding"
)

// TestWatchContainers starts watch, then unsafe and hardened containers
// and execs on the real Engine, and waits for the findings on watch's
// output: each unsafe container is reported by name, from the event that
// created it, with the container rules; the hardened one gets nothing
// above low; execs as root and with --privileged are reported; a network
// connected to a running container is reported, one connected at start
// is not.
func TestWatchContainers(t *testing.T) {
	l := newLab(t)
	_, col := started(t, Options{})

	socket := l.run("socket", containertypes.Config{}, containertypes.HostConfig{Binds: []string{"/var/run/docker.sock:/var/run/docker.sock:ro"}})
	sysadmin := l.run("sysadmin", containertypes.Config{}, containertypes.HostConfig{CapAdd: []string{"SYS_ADMIN"}, NetworkMode: "host"})
	cfg, hc := l.hardenedConfig()
	hardened := l.run("hardened", cfg, hc)
	user := l.run("user", containertypes.Config{User: "10001"}, containertypes.HostConfig{})

	recs := col.waitFor(t, "findings of the unsafe containers", func(rs []Record) bool {
		return has(rs, "DV3020", l.Name("socket"), "") && has(rs, "DV3002", l.Name("sysadmin"), "") &&
			has(rs, "DV3013", l.Name("sysadmin"), "") && has(rs, "DV3071", l.Name("hardened"), "") && has(rs, "DV3030", l.Name("user"), "")
	})
	for _, r := range of(recs, l.Name("socket")) {
		if r.TargetKind != finding.SurfaceWatch || r.Location.Container != l.Name("socket") || r.Event.Actor != socket ||
			(r.Event.Action != "create" && r.Event.Action != "start") || r.Event.Name != l.Name("socket") || r.Event.Time.IsZero() {
			t.Errorf("record not attributed to the container and its event: %+v", r)
		}
		if !strings.Contains(r.Message, l.Name("socket")+" ("+socket[:12]+")") {
			t.Errorf("message does not name the container: %s", r.Message)
		}
	}
	// The container rules judge a container seen by watch exactly as
	// `dockvet container` does; each finding is reported once although
	// create and start both triggered an audit. Root because the image has
	// no USER is DV3100's one finding.
	want := []string{"DV3003", "DV3004", "DV3009", "DV3020", "DV3030", "DV3031", "DV3032", "DV3071", "DV3100", "DV3101"}
	if got := ids(of(recs, l.Name("socket"))); !slices.Equal(got, want) {
		t.Errorf("socket container: %v, want %v", got, want)
	}
	for _, r := range of(recs, l.Name("hardened")) {
		if r.Severity > finding.Low {
			t.Errorf("hardened container reported above low: %s %s", r.RuleID, r.Message)
		}
		if r.Event.Actor != hardened {
			t.Errorf("hardened record names another actor: %+v", r.Event)
		}
	}
	_ = sysadmin

	// An exec as root (inherited from the container), one as --user 0,
	// one as the container's unprivileged user (not reported), and one
	// with --privileged. The privileged exec is created and reported
	// before it is started: this Engine cannot start it (runc lacks the
	// capabilities), and once a start fails the Engine forgets the exec.
	execute := func(id string, o client.ExecCreateOptions) string {
		t.Helper()
		o.Cmd = []string{"/app", "healthcheck"}
		res, err := l.C.ExecCreate(ctx(t), id, o)
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	start := func(id string) error {
		_, err := l.C.ExecStart(ctx(t), id, client.ExecStartOptions{Detach: true})
		return err
	}
	inherited := execute(socket, client.ExecCreateOptions{})
	explicit := execute(user, client.ExecCreateOptions{User: "0"})
	plain := execute(user, client.ExecCreateOptions{})
	privileged := execute(hardened, client.ExecCreateOptions{Privileged: true, User: "10001"})
	for _, id := range []string{inherited, explicit, plain} {
		if err := start(id); err != nil {
			t.Fatal(err)
		}
	}
	recs = col.waitFor(t, "exec findings", func(rs []Record) bool {
		return has(rs, "DV5002", l.Name("socket"), "") && has(rs, "DV5002", l.Name("user"), "") && has(rs, "DV5001", l.Name("hardened"), "exec_create")
	})
	err := start(privileged)
	t.Logf("starting the privileged exec: %v", err)
	for _, r := range recs {
		if r.RuleID == "DV5002" && r.Target == l.Name("user") && !strings.Contains(r.Message, "--user 0") {
			t.Errorf("exec as --user 0 reported as %q", r.Message)
		}
		if r.RuleID == "DV5001" && r.Event.Exec != privileged {
			t.Errorf("DV5001 names exec %s, want %s", r.Event.Exec, privileged)
		}
		if strings.HasPrefix(r.RuleID, "DV500") && r.Event.Exec == plain {
			t.Errorf("exec as the container's unprivileged user reported: %s", r.Message)
		}
	}

	// The Docker CLI creates and starts at once; whichever way the race
	// with the failing start ends, the exec is reported, never lost.
	if docker, err := exec.LookPath("docker"); err == nil {
		out, err := exec.Command(docker, "exec", "--privileged", l.Name("user"), "/app", "healthcheck").CombinedOutput()
		t.Logf("docker exec --privileged: %v %s", err, out)
		col.waitFor(t, "the CLI's privileged exec", func(rs []Record) bool {
			return slices.ContainsFunc(rs, func(r Record) bool {
				return r.Target == l.Name("user") && r.Event.Exec != "" && r.Event.Exec != explicit && r.Event.Exec != plain &&
					(r.RuleID == "DV5001" || r.RuleID == "DV5042")
			})
		})
	}

	// A network connected to a running container is reported; the
	// containers' own start-up connections were not.
	net, err := l.C.NetworkCreate(ctx(t), l.Name("net"), client.NetworkCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Cleanups run last first: the container is still connected.
		l.C.NetworkDisconnect(ctx(t), net.ID, client.NetworkDisconnectOptions{Container: user, Force: true})
		if _, err := l.C.NetworkRemove(ctx(t), net.ID, client.NetworkRemoveOptions{}); err != nil {
			t.Errorf("removing network %s: %v", l.Name("net"), err)
		}
	})
	if _, err := l.C.NetworkConnect(ctx(t), net.ID, client.NetworkConnectOptions{Container: user}); err != nil {
		t.Fatal(err)
	}
	// Docker refuses to connect a running container to the host network;
	// an Engine that allowed it would be reported (DV5003).
	if _, err := l.C.NetworkConnect(ctx(t), "host", client.NetworkConnectOptions{Container: user}); err == nil {
		col.waitFor(t, "DV5003", func(rs []Record) bool { return has(rs, "DV5003", l.Name("user"), "connect") })
	}
	recs = col.waitFor(t, "DV5004", func(rs []Record) bool { return has(rs, "DV5004", l.Name("user"), "connect") })
	for _, r := range recs {
		if (r.RuleID == "DV5004" || r.RuleID == "DV5003") && r.Target != l.Name("user") && strings.HasPrefix(r.Target, l.Prefix) {
			t.Errorf("a start-up connection was reported: %s %s", r.RuleID, r.Message)
		}
	}
}
