package testenv

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// NeedPrivateDaemon skips the test (or fails it, under
// DOCKVET_REQUIRE_DOCKER=1) when a private dockerd cannot be started here:
// it needs root and dockerd, and the test may need more programs (the
// docker CLI).
func NeedPrivateDaemon(t testing.TB, programs ...string) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "a private dockerd needs root"
	} else {
		for _, bin := range append([]string{"dockerd"}, programs...) {
			if _, err := exec.LookPath(bin); err != nil {
				why = bin + " is not installed"
				break
			}
		}
	}
	if why == "" {
		return
	}
	if os.Getenv(RequireDockerEnv) == "1" {
		t.Fatalf("%s=1 but %s", RequireDockerEnv, why)
	}
	t.Skipf("%s; set %s=1 to make this a failure", why, RequireDockerEnv)
}

// DaemonOptions configure a private dockerd.
type DaemonOptions struct {
	// Dir holds everything the daemon has: its configuration file, data
	// and exec roots, socket and pidfile. Empty: a new directory under
	// the temporary directory, removed when the test ends. It must be
	// short, since a socket's path is limited to 108 bytes.
	Dir string
	// DaemonJSON is the configuration file the daemon starts with ("{}"
	// when empty); Reload changes it.
	DaemonJSON string
	// AuthorizationPlugin, when set, is given as --authorization-plugin.
	AuthorizationPlugin string
}

// Daemon is a private dockerd, which touches nothing of the machine's own
// daemon: its own configuration file (never the machine's
// /etc/docker/daemon.json), data and exec roots, socket, pidfile and
// containerd namespaces, no bridge and no iptables rules, in a network
// namespace of its own (dockerd --bridge=none deletes any interface named
// docker0 in its namespace, which in the machine's namespace is the
// machine daemon's bridge). It is stopped by its pid when the test ends,
// after its containers are removed.
type Daemon struct {
	T testing.TB
	// Dir is the daemon's directory; Host its address (unix://Dir/d.sock).
	Dir, Host string
	// C is a client of the daemon, closed when the test ends.
	C *client.Client

	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	log    bytes.Buffer
}

// PrivateDaemon starts a private dockerd and waits until it answers. It
// skips the test where one cannot run (see NeedPrivateDaemon).
func PrivateDaemon(t testing.TB, o DaemonOptions) *Daemon {
	t.Helper()
	NeedPrivateDaemon(t)
	dir := o.Dir
	if dir == "" {
		dir = DaemonDir(t)
	}
	d := &Daemon{T: t, Dir: dir, Host: "unix://" + filepath.Join(dir, "d.sock"), exited: make(chan struct{})}
	cfg := o.DaemonJSON
	if cfg == "" {
		cfg = "{}\n"
	}
	if err := os.WriteFile(d.configFile(), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ns := filepath.Base(dir)
	d.cmd = exec.Command("dockerd",
		"--config-file", d.configFile(),
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "d.pid"),
		"-H", d.Host,
		"--bridge=none", "--iptables=false",
		// vfs works on every filesystem, the machine's overlay or fuse
		// mounts included, and the test images are tiny.
		"--storage-driver", "vfs",
		"--containerd-namespace", ns, "--containerd-plugins-namespace", ns+"-plugins")
	if o.AuthorizationPlugin != "" {
		d.cmd.Args = append(d.cmd.Args, "--authorization-plugin", o.AuthorizationPlugin)
	}
	d.cmd.Stdout, d.cmd.Stderr = d, d
	// Its own network namespace (see Daemon); its own process group, and
	// a SIGTERM if the test process dies first.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGTERM}
	if _, err := net.InterfaceByName("docker0"); err == nil {
		t.Cleanup(func() {
			if _, err := net.InterfaceByName("docker0"); err != nil {
				t.Errorf("the machine's docker0 is gone after the private dockerd ran: %v", err)
			}
		})
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting dockerd: %v", err)
	}
	go func() { d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(d.stop)
	c, err := client.New(client.WithHost(d.Host))
	if err != nil {
		t.Fatal(err)
	}
	d.C = c
	t.Cleanup(func() { c.Close() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		v, err := c.ServerVersion(ctx, client.ServerVersionOptions{})
		cancel()
		if err == nil {
			t.Logf("private dockerd %s (pid %d) at %s", v.Version, d.Pid(), d.Host)
			return d
		}
		select {
		case <-d.exited:
			t.Fatalf("dockerd exited: %s", d.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockerd did not answer within 60s: %v\n%s", err, d.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (d *Daemon) configFile() string { return filepath.Join(d.Dir, "daemon.json") }

// Pid is the daemon's process ID.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Write takes the daemon's output (Log).
func (d *Daemon) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.Write(p)
}

// Log is what the daemon wrote so far.
func (d *Daemon) Log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// Docker runs the real docker CLI against the daemon, with a client
// configuration of its own; NeedPrivateDaemon(t, "docker") first.
func (d *Daemon) Docker(args ...string) (string, error) {
	cmd := exec.Command("docker", append([]string{"-H", d.Host}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(d.Dir, "client"), "DOCKER_HOST=", "DOCKER_CONTEXT=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Reload writes the daemon's configuration file and has the daemon read
// it again (SIGHUP), as `systemctl reload docker` does.
func (d *Daemon) Reload(daemonJSON string) {
	d.T.Helper()
	if err := os.WriteFile(d.configFile(), []byte(daemonJSON), 0o600); err != nil {
		d.T.Fatal(err)
	}
	before := strings.Count(d.Log(), "Reloaded configuration")
	d.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(d.Log(), "Reloaded configuration") == before {
		if time.Now().After(deadline) {
			d.T.Fatalf("dockerd did not reload: %s", d.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop removes the daemon's containers, then stops it by its pid: SIGTERM,
// and SIGKILL after 30s.
func (d *Daemon) stop() {
	select {
	case <-d.exited:
		return
	default:
	}
	if d.C != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if list, err := d.C.ContainerList(ctx, client.ContainerListOptions{All: true}); err == nil {
			for _, c := range list.Items {
				d.C.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			}
		}
		cancel()
	}
	if pid, err := os.ReadFile(filepath.Join(d.Dir, "d.pid")); err == nil && strings.TrimSpace(string(pid)) != "" &&
		strings.TrimSpace(string(pid)) != strconv.Itoa(d.Pid()) {
		d.T.Errorf("the pidfile names %s, the daemon started is %d", pid, d.Pid())
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
}

// DaemonDir makes a directory for a private daemon (DaemonOptions.Dir) and
// for what the test keeps next to it (a plugin's socket), with a path
// short enough for sockets; it is removed when the test ends, after the
// daemon has stopped.
func DaemonDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dvd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeDaemonDir(t, dir) })
	return dir
}

// removeDaemonDir removes a stopped daemon's directory. A mount left under
// it (a container's, if the daemon died without cleaning up) is unmounted
// first; one that stays is reported and the directory is left alone:
// removing through a bind mount would delete the mounted files.
func removeDaemonDir(t testing.TB, dir string) {
	mounts, err := mountsUnder(dir)
	if err != nil {
		t.Errorf("reading the mount table before removing %s: %v; left in place", dir, err)
		return
	}
	for _, m := range mounts {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	if left, _ := mountsUnder(dir); len(left) > 0 {
		t.Errorf("mounts remain under %s, left in place: %v", dir, left)
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Errorf("removing %s: %v", dir, err)
	}
}

// mountsUnder lists the mount points under dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		// Octal escapes (\040 for a space) as the kernel writes them.
		mp, err := strconv.Unquote(`"` + strings.ReplaceAll(fields[4], `"`, `\"`) + `"`)
		if err != nil {
			mp = fields[4]
		}
		if strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out, sc.Err()
}
