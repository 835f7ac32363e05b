package host

import (
	"encoding/base64"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseDaemonArgs(t *testing.T) {
	args := []string{
		"-H", "fd://", "--host=tcp://0.0.0.0:2376", "-Hunix:///var/run/docker.sock",
		"--tlsverify", "--icc=false", "-D", "--log-level", "warn",
		"--insecure-registry=10.0.0.1:5000", "--insecure-registry", "10.0.0.2:5000",
		"--default-ulimit", "nofile=1024:2048", "--log-opt", "max-size=10m", "--log-opt=max-file=3",
		"--mtu", "1400", // unknown flag with a value: the value must not be read as a flag
		"--ip6tables", "-g", "/srv/docker", "--containerd=/run/containerd/containerd.sock",
		"--", "--icc=true",
	}
	f := parseDaemonArgs(args)
	c := mergeDaemonConfig(f, "/proc/1/cmdline", nil, nil, "/etc/docker/daemon.json")
	if !reflect.DeepEqual(c.Hosts, []string{"fd://", "tcp://0.0.0.0:2376", "unix:///var/run/docker.sock"}) {
		t.Errorf("hosts %q", c.Hosts)
	}
	if !isTrue(c.TLSVerify, false) || isTrue(c.ICC, true) || !isTrue(c.Debug, false) || c.LogLevel != "warn" {
		t.Errorf("booleans and log level: %+v", c)
	}
	if !reflect.DeepEqual(c.InsecureRegistries, []string{"10.0.0.1:5000", "10.0.0.2:5000"}) {
		t.Errorf("insecure %q", c.InsecureRegistries)
	}
	if c.DefaultUlimits["nofile"] != "1024:2048" || c.LogOpts["max-size"] != "10m" || c.LogOpts["max-file"] != "3" {
		t.Errorf("maps %v %v", c.DefaultUlimits, c.LogOpts)
	}
	if c.DataRoot != "/srv/docker" || c.Containerd != "/run/containerd/containerd.sock" {
		t.Errorf("data root %q containerd %q", c.DataRoot, c.Containerd)
	}
	if o := c.Origins["icc"]; o.Flag != "--icc=false" || o.Path != "/proc/1/cmdline" {
		t.Errorf("origin %+v", o)
	}
	if o := c.Origins["log-level"]; o.Flag != "--log-level warn" {
		t.Errorf("origin of a separated value %+v", o)
	}
}

func TestMergeDaemonConfig(t *testing.T) {
	data := []byte("{\n  \"icc\": false,\n  \"hosts\": [\"tcp://0.0.0.0:2375\"],\n  \"log-opts\": {\"max-size\": \"10m\"},\n  \"default-ulimits\": {\"nofile\": {\"Name\": \"nofile\", \"Hard\": 20, \"Soft\": 10}}\n}\n")
	dj, lines, err := parseDaemonJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	flags := parseDaemonArgs([]string{"-H", "fd://", "--userland-proxy=false"})
	c := mergeDaemonConfig(flags, "/lib/systemd/system/docker.service", dj, lines, "/etc/docker/daemon.json")
	// dockerd refuses an option set in both places; the running daemon
	// has the flag's value.
	if !reflect.DeepEqual(c.Conflicts, []string{"hosts"}) || !reflect.DeepEqual(c.Hosts, []string{"fd://"}) {
		t.Errorf("conflicts %q hosts %q", c.Conflicts, c.Hosts)
	}
	if o := c.Origins["icc"]; o.Line != 2 || o.Path != "/etc/docker/daemon.json" {
		t.Errorf("icc origin %+v", o)
	}
	if o := c.Origins["default-ulimits"]; o.Line != 5 {
		t.Errorf("default-ulimits origin %+v", o)
	}
	if c.DefaultUlimits["nofile"] != "10:20" || c.LogOpts["max-size"] != "10m" || isTrue(c.UserlandProxy, true) {
		t.Errorf("merged %+v", c)
	}
}

func TestParseDaemonJSONErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`[]`, "not a JSON object"},
		{`{"icc": "false"}`, `"icc" has a string where dockerd wants a bool`},
		{`{"hosts": "tcp://x"}`, `"hosts" has a string`},
		{`{"icc": false,}`, "not a JSON object"},
	} {
		_, _, err := parseDaemonJSON([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestSplitExec(t *testing.T) {
	env := map[string]string{"DOCKER_OPTS": "-H tcp://0.0.0.0:2375  --icc=false", "DIR": "/srv"}
	got := splitExec(`-/usr/bin/dockerd -H fd:// "--label=a b" '--data-root=${DIR}/docker' $DOCKER_OPTS ${DOCKER_OPTS} $MISSING \"x`, env)
	want := []string{"/usr/bin/dockerd", "-H", "fd://", "--label=a b", "--data-root=/srv/docker", "-H", "tcp://0.0.0.0:2375", "--icc=false",
		"-H tcp://0.0.0.0:2375  --icc=false", `"x`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestParseEnvFile(t *testing.T) {
	env := parseEnvFile("# comment\n; also\nexport A=1\nB = \"two words\"\nC='single \"q\"'\nD=\"esc \\\"q\\\"\"\nE=long \\\n  value\nnot a line\n1X=bad\n")
	want := map[string]string{"A": "1", "B": "two words", "C": `single "q"`, "D": `esc "q"`, "E": "long value"}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("got %q", env)
	}
	e := map[string]string{}
	parseEnvironment(`"A=x y" B=z`, e)
	if e["A"] != "x y" || e["B"] != "z" {
		t.Errorf("Environment= %q", e)
	}
}

func TestParseUnit(t *testing.T) {
	main := parseUnitFile("[Service]\n# comment\nExecStart=/usr/bin/dockerd \\\n  -H fd:// \\\n# inside\n  --icc=false\nListenStream=a\n[Socket]\nListenStream=/run/docker.sock\nListenStream=2375\n", "/lib/u")
	drop := parseUnitFile("[Socket]\nListenStream=\nListenStream=127.0.0.1:2375\n", "/etc/u.d/x.conf")
	u := &Unit{Entries: append(main, drop...)}
	exec := u.List("Service", "ExecStart")
	if len(exec) != 1 || exec[0].Value != "/usr/bin/dockerd  -H fd://  --icc=false" || exec[0].Line != 3 {
		t.Errorf("ExecStart %+v", exec)
	}
	ls := u.List("Socket", "ListenStream")
	if len(ls) != 1 || ls[0].Value != "127.0.0.1:2375" || ls[0].Path != "/etc/u.d/x.conf" {
		t.Errorf("an empty assignment resets the list: %+v", ls)
	}
	var nilUnit *Unit
	if nilUnit.List("Socket", "ListenStream") != nil || nilUnit.Files() != nil {
		t.Error("a missing unit has no settings")
	}
	for v, tcp := range map[string]bool{"2375": true, "0.0.0.0:2375": true, "[::]:2376": true, "/run/docker.sock": false, "@abstract": false, "": false} {
		if listenIsTCP(v) != tcp {
			t.Errorf("listenIsTCP(%q)", v)
		}
	}
}

func TestAuditCoverage(t *testing.T) {
	a := Audit{Rules: parseAuditRules(`
-w /etc/docker -p wa -k docker
-a always,exit -F path=/usr/bin/runc -F perm=x -k docker
-a exit,always -F dir=/var/lib/docker -F perm=war -F key=docker
-w /etc/default/docker
-W /etc/default/docker
-a never,exit -F path=/usr/bin/containerd
-w /usr/bin/containerd
-w /run/containerd
`)}
	resolve := func(p string) string { return strings.Replace(p, "/var/run/", "/run/", 1) }
	for target, covered := range map[string]bool{
		"/etc/docker":                         true,
		"/etc/docker/daemon.json":             true, // a directory watch covers what is inside
		"/etc/dockerfile":                     false,
		"/usr/bin/runc":                       true,
		"/usr/bin/runc.old":                   false, // path= is exact
		"/var/lib/docker/overlay2":            true,
		"/etc/default/docker":                 false, // removed by -W
		"/usr/bin/containerd":                 false, // a never rule comes first
		"/var/run/containerd/containerd.sock": true,  // /var/run is /run
	} {
		if got := a.Covering(target, resolve) != nil; got != covered {
			t.Errorf("%s: covered %v, want %v", target, got, covered)
		}
	}
	if r := parseAuditRules("-w /a\n-D\n-w /b\n"); len(r) != 1 || r[0].Path != "/b" {
		t.Errorf("-D clears: %+v", r)
	}
	if r := parseAuditRules("No rules\n"); len(r) != 0 {
		t.Errorf("auditctl's empty list: %+v", r)
	}
	if r := parseAuditRules("-w /x -p rwa -k \"docker\""); r[0].Key != "docker" {
		t.Errorf("key %q", r[0].Key)
	}
}

func TestParseKernel(t *testing.T) {
	for _, tc := range []struct{ release, version, signature, upstream, from string }{
		{"6.18.44-fc-v657", "Linux version 6.18.44-fc-v657 (builder@sandboxing) (gcc (GCC) 15.3.0) #1 SMP", "", "6.18.44", "the kernel release"},
		{"5.10.0-28-amd64", "Linux version 5.10.0-28-amd64 (debian-kernel@lists.debian.org) (gcc-10 (Debian 10.2.1-6) 10.2.1 20210110) #1 SMP Debian 5.10.209-2 (2024-01-31)", "", "5.10.209", "/proc/version"},
		{"5.15.0-91-generic", "Linux version 5.15.0-91-generic (buildd@lcy02-amd64-045) #101-Ubuntu SMP", "Ubuntu 5.15.0-91.101-generic 5.15.131", "5.15.131", "/proc/version_signature"},
		{"5.15.0-91-generic", "", "", "", ""},
		{"4.18.0-513.el8.x86_64", "", "", "", ""},
		{"5.4", "", "", "5.4.0", "the kernel release"},
		{"6.1.76-1-lts", "", "", "6.1.76", "the kernel release"},
		{"", "", "", "", ""},
		{"weird", "", "", "", ""},
	} {
		k := parseKernel(tc.release, tc.version, tc.signature)
		if k.Upstream != tc.upstream || k.UpstreamFrom != tc.from {
			t.Errorf("%q: upstream %q from %q, want %q from %q (%s)", tc.release, k.Upstream, k.UpstreamFrom, tc.upstream, tc.from, k.NotChecked)
		}
		if k.Upstream == "" && k.NotChecked == "" {
			t.Errorf("%q: an unknown upstream version needs a reason", tc.release)
		}
	}
}

func TestOSRelease(t *testing.T) {
	for data, eco := range map[string]string{
		"ID=debian\nVERSION_ID=\"12\"\n":                  "Debian:12",
		"ID=debian\nVERSION_ID=\"11.9\"\n":                "Debian:11",
		"ID=ubuntu\nVERSION_ID=\"22.04\"\nID_LIKE=debian": "Ubuntu:22.04",
		"ID=fedora\nVERSION_ID=40":                        "",
		"":                                                "",
	} {
		if got := parseOSRelease(data).Ecosystem(); got != eco {
			t.Errorf("%q: %q, want %q", data, got, eco)
		}
	}
}

func TestParseMounts(t *testing.T) {
	mi := parseMountInfo("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n" +
		"42 27 254:0 /var/lib/docker /var/lib/docker rw,relatime shared:1 - ext4 /dev/vda rw\n" +
		"50 27 0:50 / /mnt/with\\040space rw master:2 shared:3 - tmpfs tmp\\040fs rw\n" +
		"bad line\n")
	if len(mi) != 3 || mi[1].Root != "/var/lib/docker" || mi[1].Device != "254:0" || mi[2].MountPoint != "/mnt/with space" || mi[2].Source != "tmp fs" || mi[2].FSType != "tmpfs" {
		t.Errorf("%+v", mi)
	}
	fs := parseFstab("# c\nUUID=x /var/lib/docker xfs defaults 0 2\n/dev/a\\040b /srv ext4\n\nshort line\n")
	if len(fs) != 2 || fs[0].File != "/var/lib/docker" || fs[1].Spec != "/dev/a b" {
		t.Errorf("%+v", fs)
	}
}

func TestParseProcNetTCP(t *testing.T) {
	v4 := TCPHeaderForTest + "   0: 00000000:0947 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1596 1 0 100 0 0 10 0\n" +
		"   1: 0100007F:0948 0100007F:1234 01 00000000:00000000 00:00000000 00000000     0        0 1597 1 0 100 0 0 10 0\n"
	v6 := "   0: 00000000000000000000000001000000:0948 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0 100 0 0 10 0\n" +
		"   1: 0000000000000000FFFF00000100007F:0949 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 78 1 0 100 0 0 10 0\n"
	got := append(parseProcNetTCP(v4), parseProcNetTCP(v6)...)
	want := []Listener{
		{Addr: netip.MustParseAddr("0.0.0.0"), Port: 2375, Inode: 1596},
		{Addr: netip.MustParseAddr("::1"), Port: 2376, Inode: 77},
		{Addr: netip.MustParseAddr("127.0.0.1"), Port: 2377, Inode: 78},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}

// TCPHeaderForTest is the first line of /proc/net/tcp.
const TCPHeaderForTest = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func TestParseDpkgStatus(t *testing.T) {
	data := "Package: runc\nStatus: install ok installed\nVersion: 1.1.5+ds1-1+deb12u1\nDescription: x\n more\n\n" +
		"Package: containerd\nStatus: deinstall ok config-files\nVersion: 1.6.20~ds1-1\n\n" +
		"Package: bash\nStatus: install ok installed\nVersion: 5.2\n"
	got := parseDpkgStatus(data, map[string]bool{"runc": true, "containerd": true})
	if len(got) != 1 || got["runc"].Version != "1.1.5+ds1-1+deb12u1" {
		t.Errorf("%+v", got)
	}
}

func TestParseClientConfig(t *testing.T) {
	secret := "hunter2hunter2hunter2"
	auth := base64.StdEncoding.EncodeToString([]byte("ci:" + secret))
	c, err := parseClientConfig([]byte(`{"auths": {
		"reg.example.com": {"auth": "` + auth + `"},
		"ghcr.io": {"identitytoken": "` + secret + `"},
		"https://index.docker.io/v1/": {}
	}, "credsStore": "desktop", "credHelpers": {"gcr.io": "gcloud"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Stored) != 2 || c.Stored[0].Registry != "ghcr.io" || c.Stored[0].Kind != "identitytoken" ||
		c.Stored[1].Registry != "reg.example.com" || c.Stored[1].Username != "ci" || c.CredsStore != "desktop" || c.CredHelpers["gcr.io"] != "gcloud" {
		t.Errorf("%+v", c)
	}
	// The snapshot never holds a credential, only its fingerprint.
	if strings.Contains(strings.Join([]string{c.Stored[0].Fingerprint, c.Stored[1].Fingerprint, c.Stored[1].Username}, " "), secret) ||
		!strings.HasPrefix(c.Stored[0].Fingerprint, "fp:") {
		t.Error("a credential leaked into the snapshot")
	}
	if _, err := parseClientConfig([]byte(`{"auths": [`)); err == nil {
		t.Error("a broken config.json is an error")
	}
}

func TestUsers(t *testing.T) {
	u := Users{Passwd: parsePasswd("root:x:0:0:root:/root:/bin/bash\n#c\nbad:x:y:0::/:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"),
		Groups: parseGroup("root:x:0:\ndocker:x:999:alice, bob\nbad:x:z:\n")}
	if len(u.Passwd) != 2 || u.UserName(1000) != "alice" || u.UserName(5) != "uid 5" {
		t.Errorf("%+v", u.Passwd)
	}
	if g := u.Group("docker"); g == nil || g.GID != 999 || !reflect.DeepEqual(g.Members, []string{"alice", "bob"}) || u.GroupName(999) != "docker" {
		t.Errorf("%+v", u.Groups)
	}
}

func TestTCPHost(t *testing.T) {
	for in, want := range map[string]string{
		"tcp://0.0.0.0:2375": "0.0.0.0:2375", "tcp://:2376": "0.0.0.0:2376", "0.0.0.0:2375": "0.0.0.0:2375",
		"tcp://": "127.0.0.1:2375", "tcp://10.0.0.1": "10.0.0.1:2375", "unix:///var/run/docker.sock": "", "fd://": "",
	} {
		got, ok := tcpHost(in)
		if got != want || ok != (want != "") {
			t.Errorf("tcpHost(%q) = %q, %v", in, got, ok)
		}
	}
	for in, lo := range map[string]bool{"127.0.0.0/8": true, "::1/128": true, "localhost:5000": true, "127.0.0.1:5000": true,
		"[::1]:5000": true, "10.0.0.0/8": false, "registry:5000": false} {
		if isLoopbackRegistry(in) != lo {
			t.Errorf("isLoopbackRegistry(%q)", in)
		}
	}
}

func TestSecurityOptions(t *testing.T) {
	opts := []string{"name=apparmor", "name=seccomp,profile=default", "name=rootless"}
	if securityOption(opts, "seccomp")["profile"] != "default" || !hasSecurityOption(opts, "rootless") || hasSecurityOption(opts, "selinux") {
		t.Error("security options")
	}
	if !hasSecurityOption([]string{"apparmor"}, "apparmor") {
		t.Error("old bare names")
	}
}
