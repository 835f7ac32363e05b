package live_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/runline"
	"github.com/dockvet/dockvet/internal/testenv"
)

// TestRunLineAndLiveAgree keeps issue 6's promise for the third reader:
// the same `docker create` line, read by dockvet's run-line parser and
// run by the real Docker CLI against the real Engine, gives the same rule
// IDs. (TestComposeAndRunAgree in internal/container holds Compose and
// `docker run` to the same.) The only difference allowed is the one the
// Engine knows and a line cannot: the image's user, which turns "root
// unless the image sets USER" (DV3051) into "root" — DV3050, or DV3100
// when the container was given no user and the image's is root.
func TestRunLineAndLiveAgree(t *testing.T) {
	docker, err := exec.LookPath("docker")
	if err != nil {
		if os.Getenv(testenv.RequireDockerEnv) == "1" {
			t.Fatalf("%s=1 but the docker CLI is not installed", testenv.RequireDockerEnv)
		}
		t.Skip("the docker CLI is not installed")
	}
	l := newLab(t)
	latest := l.Prefix + "/unsafe:latest"
	l.untagOnCleanup(latest)
	l.tag(l.Unsafe, latest)
	// The trust policy requires digests for this repository (DV3073).
	pinned := l.Prefix + "/pinned:1"
	l.untagOnCleanup(pinned)
	l.tag(l.Unsafe, pinned)
	vol := l.Prefix + "-bound"
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		l.C.VolumeRemove(c, vol, client.VolumeRemoveOptions{Force: true})
	})

	cases := []struct {
		name  string
		args  []string
		image string
	}{
		{name: "defaults"},
		{name: "hardened", args: words("--cap-drop ALL --security-opt no-new-privileges:true --read-only --tmpfs /tmp --mount type=tmpfs,dst=/cache " +
			"--memory 256m --cpus 0.5 --pids-limit 100 --user 10001 --health-cmd /app --restart on-failure:5 -p 127.0.0.1:5432:5432")},
		{name: "privileged and capabilities", args: words("--privileged --cap-add SYS_ADMIN --cap-add NET_BIND_SERVICE --cap-drop ALL")},
		{name: "confinement off", args: words("--security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt label=disable " +
			"--security-opt systempaths=unconfined --security-opt no-new-privileges:false")},
		{name: "host namespaces", args: words("--pid host --ipc host --uts host --network host --userns host --cgroupns host " +
			"--sysctl net.ipv4.ip_forward=1 --sysctl kernel.shmmax=1000000")},
		{name: "mounts and devices", args: append(words("-v /var/run/docker.sock:/var/run/docker.sock:ro -v /etc:/host/etc "+
			"--mount type=bind,src=/tmp,dst=/t,bind-propagation=rshared --device /dev/null:/dev/xnull"), "--device-cgroup-rule", "a *:* rwm")},
		{name: "volume binding a host path",
			args: words("--mount type=volume,src=" + vol + ",dst=/data,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc")},
		{name: "docker host", args: words("-e DOCKER_HOST=tcp://dind:2375")},
		{name: "docker host socket", args: words("-e DOCKER_HOST=unix:///run/docker.sock")},
		{name: "limits off", args: words("--memory 0 --pids-limit -1 --ulimit nofile=-1")},
		{name: "cgroup parent", args: words("--cgroup-parent /dockvet-test")},
		{name: "restart", args: words("--restart always")},
		{name: "restart on failure", args: words("--restart on-failure")},
		{name: "ports", args: words("-p 5432:5432 -p 22:22 -p 127.0.0.1:6379:6379")},
		{name: "publish all", args: words("-P")},
		{name: "root", args: words("--user root")},
		{name: "secret", args: words("-e DB_PASSWORD=s3cr3t-Pa55w0rd")},
		{name: "logging", args: words("--log-driver none")},
		{name: "latest", image: latest},
		{name: "digest required", image: pinned},
	}
	// Only ghcr.io is trusted, so every local image is from outside.
	pol := &policy.Policy{TrustedRegistries: []string{"ghcr.io"},
		Rules: []policy.Rule{{Images: []string{l.Prefix + "/pinned"}, Digests: policy.DigestsRequired}}}
	seen := map[string]bool{}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img := tc.image
			if img == "" {
				img = l.Unsafe
			}
			args := append([]string{"docker", "create", "--name", l.Prefix + "-eq" + strconv.Itoa(i), "--label", "dockvet.test=" + l.Prefix}, tc.args...)
			if !slices.Contains(tc.args, "--cgroupns") {
				// The Engine's default depends on the host's cgroup version;
				// a line cannot know it (see lab.create).
				args = append(args, "--cgroupns", "private")
			}
			args = append(args, img)

			spec, err := runline.Parse(runline.Command{Args: args}, runline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			fromRun := ids(container.Check(spec, container.Options{Policy: pol}))
			for i, id := range fromRun {
				if id == "DV3051" {
					fromRun[i] = "DV3050"
				}
			}
			slices.Sort(fromRun)

			cmd := exec.Command(docker, args[1:]...)
			cmd.Env = append(os.Environ(), "DOCKER_HOST="+l.C.DaemonHost())
			out, err := cmd.Output()
			if err != nil {
				var stderr string
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, stderr)
			}
			id := strings.TrimSpace(string(out))
			t.Cleanup(func() {
				c, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				l.C.ContainerRemove(c, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			})
			c, err := live.Fetch(ctx(t), l.C, id)
			if err != nil {
				t.Fatal(err)
			}
			// The container rules, and DV3100, which takes DV3050's place
			// for a container that runs as root because of its image.
			specRules := map[string]bool{"DV3100": true}
			for _, r := range container.Rules() {
				specRules[r.ID] = true
			}
			fromLive := ids(live.Audit(c, live.Options{Policy: pol, Enabled: func(r *finding.Rule) bool { return specRules[r.ID] }}))
			for i, id := range fromLive {
				if id == "DV3100" {
					fromLive[i] = "DV3050"
				}
			}
			slices.Sort(fromLive)
			if !slices.Equal(fromRun, fromLive) {
				t.Errorf("\n run %v\nlive %v", fromRun, fromLive)
			}
			for _, id := range fromLive {
				seen[id] = true
			}
		})
	}
	// Every spec rule is exercised by some line, except those a live
	// container cannot give: DV3051 (the Engine knows the image's user)
	// and DV3062 (the group of a service declared in a file).
	for _, r := range container.Catalog() {
		if r.ID != "DV3051" && r.ID != "DV3062" && !seen[r.ID] {
			t.Errorf("no case exercises %s (%s)", r.ID, r.Title)
		}
	}
}

func words(s string) []string { return strings.Fields(s) }

// ids are the distinct rule IDs, sorted.
func ids(fs []finding.Finding) []string {
	return slices.Compact(ruleIDs(fs))
}
