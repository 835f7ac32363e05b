package container

import (
	"slices"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
)

func TestHostPath(t *testing.T) {
	for in, want := range map[string]string{
		"/var/run/docker.sock":        "/var/run/docker.sock",
		"//var/run/docker.sock":       "/var/run/docker.sock",
		"/var/run/../run/docker.sock": "/var/run/docker.sock",
		"~":                           "~",
		"~/.ssh/":                     "~/.ssh",
		"$HOME/.aws":                  "~/.aws",
		"${HOME}/.kube/config":        "~/.kube/config",
		`\\.\pipe\docker_engine`:      "//./pipe/docker_engine",
		"./data":                      "./data",
		"$(pwd)":                      "$(pwd)",
	} {
		if got := HostPath(in); got != want {
			t.Errorf("HostPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEngineSocket(t *testing.T) {
	for p, want := range map[string]bool{
		"/var/run/docker.sock": true, "/run/docker.sock": true, "/run/user/1000/docker.sock": true,
		"~/.docker/run/docker.sock": true, "/var/run": true, "/run": true, "/": true,
		"/run/containerd/containerd.sock": true, "/run/podman/podman.sock": true, "//./pipe/docker_engine": true,
		"/var/run/docker.socket": false, "/srv/docker": false, "./docker.sock": false, "$XDG_RUNTIME_DIR/docker.sock": false,
		"/var/lib/docker": false, "//./pipe/other": false,
	} {
		if _, got := EngineSocket(p); got != want {
			t.Errorf("EngineSocket(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestSensitiveHostPath(t *testing.T) {
	for _, tc := range []struct {
		path     string
		readOnly bool
		want     bool
	}{
		{"/", true, true}, {"/etc", false, true}, {"/etc/passwd", true, true}, {"/proc/1", true, true},
		{"/sys/fs/cgroup", true, true}, {"/dev/sda", false, true}, {"/boot", true, true}, {"/usr", true, true},
		{"/var/lib/docker/volumes", true, true}, {"/root", false, true}, {"/root/app", false, true},
		{"/home", true, true}, {"/home/alice", true, true}, {"/home/alice/.ssh", true, true},
		{"/Users/bob/.aws/credentials", true, true}, {"~", true, true}, {"~/.kube", true, true},
		// What a naive list would flag.
		{"/etc/localtime", true, false}, {"/etc/ssl/certs", true, false}, {"/usr/share/zoneinfo/UTC", true, false},
		{"/home/alice/projects/site", false, false}, {"~/src/app", false, false}, {"/usr/local/share/app", true, false},
		{"/srv/data", false, false}, {"/opt/app", false, false}, {"./etc", false, false}, {"/etc/localtime", false, true},
	} {
		if got := SensitiveHostPath(tc.path, tc.readOnly) != ""; got != tc.want {
			t.Errorf("SensitiveHostPath(%q, ro=%v) = %v, want %v", tc.path, tc.readOnly, got, tc.want)
		}
	}
}

func TestApplySecurityOpt(t *testing.T) {
	var sec Security
	for _, o := range []string{"no-new-privileges", "seccomp:unconfined", "apparmor=docker-default", "label=type:svirt_t", "label:disable", "unmask=ALL"} {
		if err := ApplySecurityOpt(&sec, o, Source{}); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
	}
	if !sec.NoNewPrivileges.Value || sec.Seccomp.Value != "unconfined" || sec.AppArmor.Value != "docker-default" ||
		len(sec.SELinux) != 2 || sec.SELinux[0].Value != "type:svirt_t" || sec.SystemPaths.Value != "unconfined" {
		t.Errorf("%+v", sec)
	}
	for _, bad := range []string{"nonsense", "no-new-privileges:maybe"} {
		if err := ApplySecurityOpt(&sec, bad, Source{}); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestLiveSpec is a spec as a live container's inspect data fills it: no
// file positions, the image's user and health check already merged in.
// The rules judge it with no change, and point at the container.
func TestLiveSpec(t *testing.T) {
	s := &Spec{
		Origin: FromEngine, Engine: "docker", Name: "web-1", ImageDefaultsKnown: true,
		Image:          Of("nginx:1.27", Source{}),
		User:           Setting[string]{}, // Config.User "": neither container nor image sets one
		Privileged:     Of(false, Source{}),
		CapDrop:        []Setting[string]{Of("ALL", Source{})},
		Security:       Security{NoNewPrivileges: Of(true, Source{})},
		Namespaces:     Namespaces{Network: Of("bridge", Source{}), PID: Of("host", Source{})},
		ReadOnlyRootfs: Of(true, Source{}),
		Resources:      Resources{Memory: Of(int64(256<<20), Source{}), NanoCPUs: Of(int64(5e8), Source{}), PidsLimit: Of(int64(100), Source{})},
		Restart:        Of(RestartPolicy{Name: "always"}, Source{}),
		Ports:          []Port{{HostIP: "0.0.0.0", HostFrom: 6379, HostTo: 6379, Container: 6379, ContainerTo: 6379, Proto: "tcp"}},
	}
	fs := Check(s, Options{Target: finding.Target{Kind: finding.SurfaceContainer, Name: "web-1"}})
	var got []string
	for _, f := range fs {
		got = append(got, f.RuleID)
		if f.Location.Container != "web-1" || f.Location.Path != "" || f.Target != "web-1" {
			t.Errorf("%s located at %+v", f.RuleID, f.Location)
		}
	}
	slices.Sort(got)
	// Root is certain (DV3050, not "unless the image sets USER"), and so is
	// the missing health check (DV3034 without "unless").
	want := []string{"DV3010", "DV3034", "DV3040", "DV3050", "DV3071"}
	if !slices.Equal(got, want) {
		t.Errorf("rules %v, want %v", got, want)
	}
}

func TestPortString(t *testing.T) {
	for _, tc := range []struct {
		p    Port
		want string
	}{
		{Port{Container: 80, ContainerTo: 80, Proto: "tcp"}, "80"},
		{Port{HostFrom: 8080, HostTo: 8080, Container: 80, Proto: "tcp"}, "8080:80"},
		{Port{HostIP: "127.0.0.1", Container: 5432, Proto: "tcp"}, "127.0.0.1::5432"},
		{Port{HostIP: "::1", HostFrom: 53, HostTo: 53, Container: 53, Proto: "udp"}, "[::1]:53:53/udp"},
		{Port{HostFrom: 8000, HostTo: 8001, Container: 8000, ContainerTo: 8001, Proto: "tcp"}, "8000-8001:8000-8001"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.p, got, tc.want)
		}
	}
}
