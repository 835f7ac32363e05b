package runline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/container"
)

func parse(t *testing.T, line string) *container.Spec {
	t.Helper()
	s, err := Parse(Command{Args: strings.Fields(line)}, Options{})
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if s == nil {
		t.Fatalf("%s: no spec", line)
	}
	return s
}

// TestFlagForms: every way the Docker CLI accepts an option gives the same
// setting.
func TestFlagForms(t *testing.T) {
	for _, line := range []string{
		"docker run --privileged --user 10001 --memory 256m -p 8080:80 nginx:1",
		"docker run --privileged=true --user=10001 --memory=256m --publish=8080:80 nginx:1",
		"docker run --privileged -u 10001 -m 256m -p 8080:80 nginx:1",
		"docker run --privileged -u10001 -m256m -p8080:80 nginx:1",
		"docker run --privileged -u=10001 -m=256m -p=8080:80 nginx:1",
		"docker run -itd --privileged -u 10001 -m 256m -p 8080:80 nginx:1",
		"docker run --privileged -itm 256m -u 10001 -p 8080:80 nginx:1",
		"docker container run --privileged -u 10001 -m 256m -p 8080:80 nginx:1",
		"docker create --privileged -u 10001 -m 256m -p 8080:80 nginx:1",
		"docker -H unix:///var/run/docker.sock --tls run --privileged -u 10001 -m 256m -p 8080:80 nginx:1",
		"podman run --privileged -u 10001 -m 256m -p 8080:80 nginx:1",
		"podman --remote container create --privileged -u 10001 -m 256m -p 8080:80 nginx:1",
		"/usr/bin/docker run --privileged -u 10001 -m 256m -p 8080:80 -- nginx:1",
		"docker run $DOCKER_OPTS --privileged -u 10001 -m 256m -p 8080:80 nginx:1",
	} {
		s := parse(t, line)
		if !s.Privileged.Value || s.User.Value != "10001" || s.Resources.Memory.Value != 256<<20 || s.Image.Value != "nginx:1" ||
			len(s.Ports) != 1 || s.Ports[0].HostFrom != 8080 || s.Ports[0].Container != 80 {
			t.Errorf("%s: privileged=%v user=%q memory=%d image=%q ports=%+v", line, s.Privileged.Value, s.User.Value,
				s.Resources.Memory.Value, s.Image.Value, s.Ports)
		}
	}
}

func TestOptions(t *testing.T) {
	s := parse(t, "docker run --privileged=false --read-only --cap-add sys_admin --cap-add CAP_NET_RAW --cap-drop all "+
		"--security-opt no-new-privileges --security-opt seccomp=unconfined --security-opt apparmor:unconfined --security-opt label=disable "+
		"--pid host --ipc=host --uts host --net host --cgroupns host --userns host "+
		"--cpus 1.5 --cpu-shares 512 --cpu-quota 50000 --cpu-period 100000 --cpuset-cpus 0-1 --pids-limit 100 --memory-swap -1 --memory-reservation 64m "+
		"--ulimit nofile=1024:2048 --ulimit nproc=-1 --restart on-failure:5 --health-cmd true --sysctl net.core.somaxconn=1024 "+
		"--log-driver none --log-opt max-size=1m --name api --device /dev/fuse --device /dev/sda:/dev/xvda:r --device-cgroup-rule c_1:3_mr "+
		"-P -e A=1 -e B --tmpfs /run:size=64m alpine:3 sh -c true")
	if s.Privileged.Value || !s.Privileged.Set || !s.ReadOnlyRootfs.Value {
		t.Error("bools")
	}
	caps := func(cs []container.Setting[string]) (out []string) {
		for _, c := range cs {
			out = append(out, c.Value)
		}
		return out
	}
	if got := caps(s.CapAdd); !slices.Equal(got, []string{"SYS_ADMIN", "NET_RAW"}) {
		t.Errorf("cap_add %v", got)
	}
	if got := caps(s.CapDrop); !slices.Equal(got, []string{"ALL"}) {
		t.Errorf("cap_drop %v", got)
	}
	sec := s.Security
	if !sec.NoNewPrivileges.Value || sec.Seccomp.Value != "unconfined" || sec.AppArmor.Value != "unconfined" || len(sec.SELinux) != 1 {
		t.Errorf("security %+v", sec)
	}
	ns := s.Namespaces
	for name, v := range map[string]string{"pid": ns.PID.Value, "ipc": ns.IPC.Value, "uts": ns.UTS.Value, "net": ns.Network.Value, "cgroup": ns.Cgroup.Value, "user": ns.User.Value} {
		if v != "host" {
			t.Errorf("%s namespace %q", name, v)
		}
	}
	r := s.Resources
	if r.NanoCPUs.Value != 1_500_000_000 || r.CPUShares.Value != 512 || r.CPUQuota.Value != 50000 || r.CPUPeriod.Value != 100000 ||
		r.CpusetCPUs.Value != "0-1" || r.PidsLimit.Value != 100 || r.MemorySwap.Value != -1 || r.MemoryReservation.Value != 64<<20 {
		t.Errorf("resources %+v", r)
	}
	if len(s.Ulimits) != 2 || s.Ulimits[0].Soft != 1024 || s.Ulimits[0].Hard != 2048 || s.Ulimits[1].Soft != -1 {
		t.Errorf("ulimits %+v", s.Ulimits)
	}
	if s.Restart.Value != (container.RestartPolicy{Name: "on-failure", MaxRetries: 5}) {
		t.Errorf("restart %+v", s.Restart.Value)
	}
	if !s.Healthcheck.Set || s.Log.Value.Driver != "none" || s.Log.Value.Options["max-size"] != "1m" || s.Name != "api" {
		t.Error("healthcheck, log or name")
	}
	if len(s.Devices) != 2 || s.Devices[1] != (container.Device{Host: "/dev/sda", Container: "/dev/xvda", Permissions: "r"}) {
		t.Errorf("devices %+v", s.Devices)
	}
	if !s.PublishAll.Value || len(s.Env) != 2 || !s.Env[0].Known || s.Env[1].Known {
		t.Errorf("publish-all or env %+v", s.Env)
	}
	if len(s.Sysctls) != 1 || len(s.Mounts) != 1 || s.Mounts[0].Type != container.MountTmpfs || s.Mounts[0].Target != "/run" {
		t.Errorf("sysctls or tmpfs %+v", s.Mounts)
	}
	if s.Image.Value != "alpine:3" {
		t.Errorf("image %q: the command's own options must not be read", s.Image.Value)
	}
}

// TestVolumes: every -v form, Windows paths and pipes included, and the
// --mount CSV syntax, read by the parsers Compose and the Docker CLI use.
func TestVolumes(t *testing.T) {
	for _, tc := range []struct {
		opt  string
		want container.Mount
	}{
		{"-v /var/run/docker.sock:/var/run/docker.sock:ro", container.Mount{Type: "bind", Source: "/var/run/docker.sock", HostPath: "/var/run/docker.sock", Target: "/var/run/docker.sock", ReadOnly: true}},
		{"-v /srv:/srv:rw,rshared,z", container.Mount{Type: "bind", Source: "/srv", HostPath: "/srv", Target: "/srv", Propagation: "rshared"}},
		{"-v data:/data", container.Mount{Type: "volume", Source: "data", Target: "/data"}},
		{"-v /data", container.Mount{Type: "volume", Target: "/data"}},
		{"-v ./site:/usr/share/nginx/html:ro", container.Mount{Type: "bind", Source: "./site", HostPath: "./site", Target: "/usr/share/nginx/html", ReadOnly: true}},
		{"-v ~/.ssh:/root/.ssh", container.Mount{Type: "bind", Source: "~/.ssh", HostPath: "~/.ssh", Target: "/root/.ssh"}},
		{"-v $HOME/.kube:/root/.kube", container.Mount{Type: "bind", Source: "$HOME/.kube", HostPath: "~/.kube", Target: "/root/.kube"}},
		{`-v C:\data:C:\data`, container.Mount{Type: "bind", Source: `C:\data`, HostPath: `C:\data`, Target: `C:\data`}},
		{`-v \\.\pipe\docker_engine:\\.\pipe\docker_engine`, container.Mount{Type: "npipe", Source: `\\.\pipe\docker_engine`, HostPath: "//./pipe/docker_engine", Target: `\\.\pipe\docker_engine`}},
		{"--volume=//var/run/docker.sock:/var/run/docker.sock", container.Mount{Type: "bind", Source: "//var/run/docker.sock", HostPath: "/var/run/docker.sock", Target: "/var/run/docker.sock"}},
		{"--mount type=bind,src=/,dst=/host,readonly,bind-propagation=rshared", container.Mount{Type: "bind", Source: "/", HostPath: "/", Target: "/host", ReadOnly: true, Propagation: "rshared"}},
		{"--mount type=bind,source=.,target=/app", container.Mount{Type: "bind", Source: ".", HostPath: ".", Target: "/app"}},
		{"--mount type=volume,src=sock,dst=/var/run/docker.sock,volume-driver=local,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/var/run/docker.sock",
			container.Mount{Type: "volume", Source: "sock", HostPath: "/var/run/docker.sock", Target: "/var/run/docker.sock"}},
		{"--mount type=tmpfs,dst=/tmp,tmpfs-size=64m", container.Mount{Type: "tmpfs", Target: "/tmp"}},
		{"--mount dst=/cache", container.Mount{Type: "volume", Target: "/cache"}},
		{"--use-api-socket", container.Mount{Type: "bind", Source: "/var/run/docker.sock", HostPath: "/var/run/docker.sock", Target: "/var/run/docker.sock"}},
	} {
		s, err := Parse(Command{Args: append(append([]string{"docker", "run"}, splitOpt(tc.opt)...), "img")}, Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.opt, err)
			continue
		}
		if len(s.Mounts) != 1 {
			t.Errorf("%s: %d mounts", tc.opt, len(s.Mounts))
			continue
		}
		got := s.Mounts[0]
		got.Src = container.Source{}
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.opt, got, tc.want)
		}
	}
}

// splitOpt splits "-v x" into two words, leaving "--opt=x" whole.
func splitOpt(opt string) []string {
	name, val, ok := strings.Cut(opt, " ")
	if !ok {
		return []string{opt}
	}
	return []string{name, val}
}

func TestPorts(t *testing.T) {
	for _, tc := range []struct {
		opt  string
		want []container.Port
	}{
		{"5432", []container.Port{{Container: 5432, ContainerTo: 5432, Proto: "tcp"}}},
		{"127.0.0.1:5432:5432", []container.Port{{HostIP: "127.0.0.1", HostFrom: 5432, HostTo: 5432, Container: 5432, ContainerTo: 5432, Proto: "tcp"}}},
		{"127.0.0.1::6379", []container.Port{{HostIP: "127.0.0.1", Container: 6379, ContainerTo: 6379, Proto: "tcp"}}},
		{"[::1]:8080:80/udp", []container.Port{{HostIP: "::1", HostFrom: 8080, HostTo: 8080, Container: 80, ContainerTo: 80, Proto: "udp"}}},
		{"8000-8001:8000-8001", []container.Port{
			{HostFrom: 8000, HostTo: 8000, Container: 8000, ContainerTo: 8000, Proto: "tcp"},
			{HostFrom: 8001, HostTo: 8001, Container: 8001, ContainerTo: 8001, Proto: "tcp"}}},
	} {
		s := parse(t, "docker run -p "+tc.opt+" img")
		var got []container.Port
		for _, p := range s.Ports {
			p.Src = container.Source{}
			got = append(got, p)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("-p %s:\n got %+v\nwant %+v", tc.opt, got, tc.want)
		}
	}
}

// TestErrors: a line the Docker CLI would refuse is an error that names
// what is wrong.
func TestErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"docker run --privilegd nginx", "unknown flag: --privilegd"},
		{"docker run -k nginx", "unknown shorthand flag: 'k' in -k"},
		{"docker run -itk nginx", "unknown shorthand flag: 'k' in -itk"},
		{"docker run --pod web nginx", "unknown flag: --pod"},
		{"docker run --name", "flag needs an argument: --name"},
		{"docker run -it -e", "flag needs an argument: 'e' in -e"},
		{"docker run --rm", "`docker run` names no image"},
		{"docker run --privileged=yes nginx", `invalid argument "yes" for --privileged: not a boolean`},
		{"docker run -p 80:80:80:80 nginx", `invalid argument "80:80:80:80" for -p`},
		{"docker run --mount type=bind,src=/x,dst=/y,colour=red nginx", "unknown option 'colour'"},
		{"docker run --restart sometimes nginx", `unknown restart policy "sometimes"`},
		{"docker run --security-opt nonsense nginx", "invalid security option"},
		{"docker run --ulimit nofile=10:5 nginx", "ulimit soft limit must be less than or equal to hard limit"},
		{"docker run --env-file missing.env nginx", "cannot read env file"},
		{"docker ps", "not a container start command"},
	} {
		_, err := Parse(Command{Args: strings.Fields(tc.line), Path: "run.sh", Line: 7}, Options{ReadFile: os.ReadFile, Strict: true})
		if err == nil {
			t.Errorf("%s: no error", tc.line)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "run.sh:7: ") {
			t.Errorf("%s: error %q, want run.sh:7: …%s…", tc.line, err, tc.want)
		}
	}
}

// TestUnknownValues: values only known when a script runs are not errors.
func TestUnknownValues(t *testing.T) {
	s := parse(t, "docker run -p ${PORT}:80 --memory $MEM --privileged=$PRIV -v $(pwd):/src ${IMAGE}")
	if s.Image.Value != "${IMAGE}" || len(s.Mounts) != 1 || s.Mounts[0].HostPath != "$(pwd)" {
		t.Errorf("spec %+v", s)
	}
}

func TestHelp(t *testing.T) {
	s, err := Parse(Command{Args: []string{"docker", "run", "--help"}}, Options{})
	if s != nil || err != nil {
		t.Errorf("--help: spec %v, error %v", s, err)
	}
}

func TestEnvFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.env"), []byte("# comment\n\nA=1\nB\n  C=x y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Parse(Command{Args: strings.Fields("docker run --env-file app.env -e A=2 img"), Path: "run.sh", Line: 3}, Options{Dir: dir, ReadFile: os.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	want := []container.EnvVar{
		{Name: "A", Value: "1", Known: true, Src: container.Source{Path: "run.sh", Line: 3, Note: "from app.env line 3"}},
		{Name: "B", Src: container.Source{Path: "run.sh", Line: 3, Note: "from app.env line 4"}},
		{Name: "C", Value: "x y", Known: true, Src: container.Source{Path: "run.sh", Line: 3, Note: "from app.env line 5"}},
		{Name: "A", Value: "2", Known: true, Src: container.Source{Path: "run.sh", Line: 3}},
	}
	if !slices.Equal(s.Env, want) {
		t.Errorf("env\n got %+v\nwant %+v", s.Env, want)
	}
	if e, _ := s.LookupEnv("A"); e.Value != "2" {
		t.Errorf("-e after --env-file must win, got %q", e.Value)
	}
	if _, err := ParseEnvFile([]byte("BAD NAME=x\n")); err == nil {
		t.Error("a variable name with a space must be an error")
	}
}

// TestExpansionAsImage: a lone expansion followed by options is read as
// options ("$OPTS") unless those do not parse as docker's, when it was the
// image and they are the container's command (getsentry/self-hosted's
// action.yaml: `docker run --rm --entrypoint bash $SENTRY_IMAGE -c '{ … }'`).
func TestExpansionAsImage(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		image string
		user  string
	}{
		{[]string{"docker", "run", "--rm", "--entrypoint", "bash", "$SENTRY_IMAGE", "-c", "{ cat migrations_lockfile.txt; }"}, "$SENTRY_IMAGE", ""},
		{[]string{"docker", "run", "--rm", "${IMAGE}", "-v"}, "${IMAGE}", ""},
		{[]string{"docker", "run", "--rm", "$IMG", "--version"}, "$IMG", ""},
		// Options that parse, and an image after them: the expansion held options.
		{[]string{"docker", "run", "$OPTS", "-u", "10001", "nginx:1"}, "nginx:1", "10001"},
	} {
		s, err := Parse(Command{Args: tc.args}, Options{})
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if s.Image.Value != tc.image || s.User.Value != tc.user {
			t.Errorf("%q: image %q user %q, want %q and %q", tc.args, s.Image.Value, s.User.Value, tc.image, tc.user)
		}
	}
	// An error before any expansion is not retried.
	if _, err := Parse(Command{Args: []string{"docker", "run", "--bogus", "$IMG", "-c", "x"}}, Options{}); err == nil || !strings.Contains(err.Error(), "unknown flag: --bogus") {
		t.Errorf("an unknown flag before the expansion: %v", err)
	}
}
