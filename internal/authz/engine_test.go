package authz_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/dockvet/dockvet/internal/authz"
	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/runline"
	"github.com/dockvet/dockvet/internal/testenv"
	"github.com/dockvet/dockvet/internal/watch"
)

// pluginSpecDir is where dockerd looks for plugin spec files; the test
// writes one there that points at its own socket, and removes it.
const pluginSpecDir = "/etc/docker/plugins"

// servePlugin serves the plugin on a socket of the test and writes the
// spec file that makes dockerd find it under name; both are removed when
// the test ends.
func servePlugin(t *testing.T, dir, name string, h http.Handler) {
	t.Helper()
	sock := filepath.Join(dir, "plugin.sock")
	ln, err := authz.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- authz.Serve(ctx, ln, h) }()
	t.Cleanup(func() { cancel(); <-done })

	created := false
	if _, err := os.Stat(pluginSpecDir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(pluginSpecDir, 0o755); err != nil {
			t.Fatal(err)
		}
		created = true
	}
	spec := filepath.Join(pluginSpecDir, name+".spec")
	if err := os.WriteFile(spec, []byte("unix://"+sock+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(spec); err != nil {
			t.Errorf("removing %s: %v", spec, err)
		}
		if created {
			os.Remove(pluginSpecDir) // only if still empty
		}
	})
}

// TestAgainstDockerd puts the plugin in front of a private dockerd and
// drives it with the real docker CLI: a run that mounts the Engine socket
// is refused with the rule's message, a hardened run is allowed, a
// privileged exec is refused; in audit mode all three go through and two
// would-be denials are logged.
func TestAgainstDockerd(t *testing.T) {
	testenv.NeedPrivateDaemon(t, "docker")
	dir := testenv.DaemonDir(t)
	var suffix [4]byte
	rand.Read(suffix[:])
	name := "dockvet-test-" + hex.EncodeToString(suffix[:])

	cfgPath := filepath.Join(dir, "dockvet.yaml")
	writeFile(t, cfgPath, "enforce: {mode: enforce}\n")
	logPath := filepath.Join(dir, "decisions.jsonl")
	sink, err := watch.OpenFileSink(logPath, watch.EncodeJSON)
	if err != nil {
		t.Fatal(err)
	}
	disp := watch.NewDispatcher(watch.DispatcherOptions{}, sink)
	dec := authz.New(authz.Options{Load: func() (*authz.Policy, error) { return authz.LoadPolicy(cfgPath, "", nil) }, Log: authz.LogTo(disp)})
	if err := dec.LoadError(); err != nil {
		t.Fatal(err)
	}
	servePlugin(t, dir, name, &authz.Handler{Decider: dec})
	d := testenv.PrivateDaemon(t, testenv.DaemonOptions{Dir: dir, AuthorizationPlugin: name})
	c := d.C
	img := "dockvet-authz-test/app:1"
	testenv.Load(t, c, testenv.TinyImage(t, v1.Config{User: "10001:10001"}), img)
	var started []string
	t.Cleanup(func() {
		if len(started) > 0 {
			d.Docker(append([]string{"rm", "-f"}, started...)...)
		}
	})
	run := func(cname string, args ...string) (string, error) {
		started = append(started, cname)
		return d.Docker(append(append([]string{"run", "-d", "--name", cname}, args...), img)...)
	}
	hardened := []string{"--user", "10001:10001", "--cap-drop", "ALL", "--read-only", "--security-opt", "no-new-privileges",
		"--memory", "64m", "--pids-limit", "64", "--cpus", "0.5"}

	out, err := run("sock", "-v", "/var/run/docker.sock:/var/run/docker.sock")
	want := "authorization denied by plugin " + name + ": dockvet: DV3020 denied: container sock mounts the engine socket " +
		"/var/run/docker.sock at /var/run/docker.sock; do not give containers the Engine socket, or add an exception in .dockvet.yaml (enforce.exceptions)"
	if err == nil || !strings.Contains(out, want) {
		t.Fatalf("run with the socket: %v\n%s\nwant %s", err, out, want)
	}
	if out, err := run("hard", hardened...); err != nil {
		t.Fatalf("hardened run: %v\n%s", err, out)
	}
	out, err = d.Docker("exec", "--privileged", "hard", "/app", "healthcheck")
	if err == nil || !strings.Contains(out, "authorization denied by plugin "+name+`: dockvet: DV5001 denied: an exec of "/app" into container hard asked for --privileged`) {
		t.Fatalf("exec --privileged: %v\n%s", err, out)
	}
	if out, err := d.Docker("exec", "hard", "/app", "healthcheck"); err != nil {
		t.Fatalf("plain exec: %v\n%s", err, out)
	}

	// Audit mode: everything goes through, and what would have been
	// denied is logged.
	writeFile(t, cfgPath, "enforce: {mode: audit}\n")
	if err := dec.Reload(); err != nil {
		t.Fatal(err)
	}
	mark := countLines(t, disp, logPath)
	if out, err := run("sock2", "-v", "/var/run/docker.sock:/var/run/docker.sock"); err != nil {
		t.Fatalf("audit: run with the socket: %v\n%s", err, out)
	}
	if out, err := run("hard2", hardened...); err != nil {
		t.Fatalf("audit: hardened run: %v\n%s", err, out)
	}
	// runc on some hosts cannot start a privileged exec (it lacks the
	// capabilities); what matters is that the plugin let it through.
	if out, err := d.Docker("exec", "--privileged", "hard2", "/app", "healthcheck"); err != nil && strings.Contains(out, "authorization denied") {
		t.Fatalf("audit: exec --privileged denied: %s", out)
	}
	var would []string
	for i, line := range readLines(t, disp, logPath) {
		if i < mark {
			continue
		}
		var rec struct {
			Verdict string
			Request struct{ Kind string }
			Rules   []struct {
				RuleID string
				Denies bool
			}
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Verdict == authz.VerdictDeny {
			t.Errorf("denied in audit mode: %s", line)
		}
		if rec.Verdict == authz.VerdictWouldDeny {
			would = append(would, rec.Request.Kind+" "+rec.Rules[0].RuleID)
		}
	}
	if got := strings.Join(would, ", "); got != "container.create DV3020, container.exec DV5001" {
		t.Fatalf("would-be denials: %q", got)
	}
}

// countLines flushes the decision log and counts its lines.
func countLines(t *testing.T, disp *watch.Dispatcher, path string) int {
	return len(readLines(t, disp, path))
}

// readLines waits until the dispatcher has written what it was given (it
// writes in the background) and reads the log.
func readLines(t *testing.T, disp *watch.Dispatcher, path string) []string {
	t.Helper()
	_, n := disp.Worst()
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines := fileLines(t, path)
		if len(lines) >= n || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestManagedPlugin builds the managed plugin directory as the README
// says (packaging/authz-plugin/build.sh), creates and enables it in a
// private dockerd, turns it on through daemon.json and a reload, and runs
// the real docker CLI: the socket mount is refused, a plain run allowed,
// and the decision log is written where the plugin's mount says.
func TestManagedPlugin(t *testing.T) {
	testenv.NeedPrivateDaemon(t, "docker")
	dir := testenv.DaemonDir(t)
	build := exec.Command("sh", "../../packaging/authz-plugin/build.sh", filepath.Join(dir, "plugin"))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	policyDir, logDir := filepath.Join(dir, "policy"), filepath.Join(dir, "log")
	os.Mkdir(policyDir, 0o755)
	os.Mkdir(logDir, 0o755)
	writeFile(t, filepath.Join(policyDir, "dockvet.yaml"), "enforce: {mode: enforce}\n")

	d := testenv.PrivateDaemon(t, testenv.DaemonOptions{Dir: dir})
	name := "dockvet-test/authz:" + filepath.Base(dir)
	for _, args := range [][]string{
		{"plugin", "create", name, filepath.Join(dir, "plugin")},
		{"plugin", "set", name, "policy.source=" + policyDir, "log.source=" + logDir},
		{"plugin", "enable", name},
	} {
		if out, err := d.Docker(args...); err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	d.Reload(`{"authorization-plugins": ["` + name + `"]}`)

	c := d.C
	img := "dockvet-authz-test/app:1"
	testenv.Load(t, c, testenv.TinyImage(t, v1.Config{}), img)
	t.Cleanup(func() { d.Docker("rm", "-f", "plain") })
	out, err := d.Docker("run", "-d", "--name", "sock", "-v", "/var/run/docker.sock:/var/run/docker.sock", img)
	if err == nil || !strings.Contains(out, "authorization denied by plugin "+name+": dockvet: DV3020 denied: container sock mounts the engine socket") {
		t.Fatalf("run with the socket: %v\n%s", err, out)
	}
	if out, err := d.Docker("run", "-d", "--name", "plain", img); err != nil {
		t.Fatalf("plain run: %v\n%s", err, out)
	}
	// The plugin writes its log in the background: wait for the line.
	var lines []string
	denied := 0
	for deadline := time.Now().Add(10 * time.Second); denied == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(logDir, "authz.jsonl")); err != nil {
			continue
		}
		lines = fileLines(t, filepath.Join(logDir, "authz.jsonl"))
		denied = 0
		for _, l := range lines {
			if strings.Contains(l, `"verdict":"deny"`) && strings.Contains(l, `"DV3020"`) {
				denied++
			}
		}
	}
	if denied != 1 {
		t.Fatalf("%d denials of DV3020 in the plugin's log:\n%s", denied, strings.Join(lines, "\n"))
	}
}

// recorder keeps the create bodies the Engine passes to the plugin.
type recorder struct {
	h      http.Handler
	mu     sync.Mutex
	bodies map[string][]byte // by the create's name
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == authz.PathRequest {
		raw, _ := io.ReadAll(req.Body)
		var m authz.Request
		if json.Unmarshal(raw, &m) == nil && strings.Contains(m.RequestURI, "/containers/create") {
			if u, err := url.ParseRequestURI(m.RequestURI); err == nil {
				if b, err := m.Body(); err == nil {
					r.mu.Lock()
					r.bodies[u.Query().Get("name")] = b
					r.mu.Unlock()
				}
			}
		}
		req.Body = io.NopCloser(bytes.NewReader(raw))
	}
	r.h.ServeHTTP(w, req)
}

// TestCreateBodiesAgreeWithRunLines: the body the real docker CLI sends
// for a `docker create` line and the spec runline reads from the same
// line face the same rules with the same result.
func TestCreateBodiesAgreeWithRunLines(t *testing.T) {
	testenv.NeedPrivateDaemon(t, "docker")
	dir := testenv.DaemonDir(t)
	var suffix [4]byte
	rand.Read(suffix[:])
	name := "dockvet-test-" + hex.EncodeToString(suffix[:])
	cfgPath := filepath.Join(dir, "dockvet.yaml")
	writeFile(t, cfgPath, "enforce: {mode: audit}\n")
	dec := authz.New(authz.Options{Load: func() (*authz.Policy, error) { return authz.LoadPolicy(cfgPath, "", nil) }})
	rec := &recorder{h: &authz.Handler{Decider: dec}, bodies: map[string][]byte{}}
	servePlugin(t, dir, name, rec)
	d := testenv.PrivateDaemon(t, testenv.DaemonOptions{Dir: dir, AuthorizationPlugin: name})
	c := d.C
	img := "dockvet-authz-test/app:1"
	testenv.Load(t, c, testenv.TinyImage(t, v1.Config{}), img)

	cases := map[string]string{
		"defaults":   "",
		"hardened":   "--cap-drop ALL --security-opt no-new-privileges:true --read-only --memory 256m --cpus 0.5 --pids-limit 100 --user 10001",
		"privileged": "--privileged --cap-add SYS_ADMIN --cap-add NET_BIND_SERVICE --cap-drop ALL",
		"confinement": "--security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt label=disable " +
			"--security-opt systempaths=unconfined --security-opt no-new-privileges:false",
		"namespaces": "--pid host --ipc host --uts host --network host --userns host --cgroupns host --sysctl kernel.shm_rmid_forced=1",
		"mounts":     "-v /var/run/docker.sock:/var/run/docker.sock:ro -v /etc:/host/etc -v /srv:/srv:rshared -v /data --mount type=bind,src=/run,dst=/r --tmpfs /tmp",
		"devices":    "(below)",
		"dockerhost": "-e DOCKER_HOST=tcp://dind:2375",
		"limits":     "--memory 0 --pids-limit -1 --ulimit nofile=-1",
		"restart":    "--restart on-failure",
		"ports":      "-p 5432:5432 -p 22:22 -p 127.0.0.1:6379:6379",
		"root":       "--user root",
		"secret":     "-e DB_PASSWORD=s3cr3t-Pa55w0rd",
		"logging":    "--log-driver none",
	}
	t.Cleanup(func() {
		var names []string
		for n := range cases {
			names = append(names, "eq-"+n)
		}
		d.Docker(append([]string{"rm", "-f"}, names...)...)
	})
	for n, flags := range cases {
		args := strings.Fields(flags)
		if n == "devices" {
			args = []string{"--device", "/dev/null:/dev/xnull", "--device-cgroup-rule", "c 1:3 rwm"}
		}
		cname := "eq-" + n
		// The daemon may refuse a setting after the plugin saw it (a
		// namespace it cannot share here): the body is what counts.
		out, _ := d.Docker(append(append([]string{"create", "--name", cname}, args...), img)...)
		t.Logf("%s: %s", n, strings.TrimSpace(out))
		rec.mu.Lock()
		body := rec.bodies[cname]
		rec.mu.Unlock()
		if body == nil {
			t.Errorf("%s: the plugin saw no create body", n)
			continue
		}
		var req containertypes.CreateRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatal(err)
		}
		fromBody := ruleIDs(container.Check(live.CreateSpec(&req, cname, live.Daemon{}), container.Options{}))
		spec, err := runline.Parse(runline.Command{Args: append(append([]string{"docker", "create", "--name", cname}, args...), img)}, runline.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fromLine := ruleIDs(container.Check(spec, container.Options{}))
		if fromBody != fromLine {
			t.Errorf("%s: the create body gives %s, the run line %s\n%s", n, fromBody, fromLine, body)
		}
	}
}

func ruleIDs(fs []finding.Finding) string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.RuleID)
	}
	slices.Sort(ids)
	return strings.Join(slices.Compact(ids), " ")
}
