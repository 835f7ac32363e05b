package host

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/fuzztest"
)

// seedFiles adds every fixture file with the given base name to a fuzz
// corpus.
func seedFiles(f *testing.F, name string) {
	f.Helper()
	filepath.WalkDir(filepath.Join("testdata", "hosts"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == name {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(string(data))
			}
		}
		return nil
	})
}

// FuzzDaemonConfig: daemon.json and a command line merged; never a panic,
// and every conflict names an option both sources set.
func FuzzDaemonConfig(f *testing.F) {
	f.Add(`{"icc": false, "hosts": ["tcp://0.0.0.0:2375"], "log-opts": {"max-size": "1m"}}`, "-H fd:// --icc=false")
	f.Add(`{"default-ulimits": {"nofile": {"Name": "nofile", "Hard": 1, "Soft": 1}}}`, "--default-ulimit nofile=1:2 -D")
	f.Add(`{"graph": "/srv"}`, "-g /x --tlsverify=maybe -H")
	f.Add(`[1,2]`, "--")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data, cmdline string) {
		defer fuzztest.Budget(t)()
		dj, lines, err := parseDaemonJSON([]byte(data))
		if err != nil {
			dj, lines = nil, nil
		}
		flags := parseDaemonArgs(strings.Fields(cmdline))
		c := mergeDaemonConfig(flags, "cmdline", dj, lines, "daemon.json")
		for _, k := range c.Conflicts {
			_, inFile := lines[k]
			if _, graph := lines["graph"]; k == "data-root" && graph {
				inFile = true
			}
			if !inFile {
				t.Errorf("conflict %q is not in daemon.json", k)
			}
			if _, ok := flags[k]; !ok {
				t.Errorf("conflict %q is not a flag", k)
			}
		}
		for k, line := range lines {
			if line < 1 || line > strings.Count(data, "\n")+1 {
				t.Errorf("key %q at line %d", k, line)
			}
		}
	})
}

// FuzzAuditRules: any rules text parses; coverage questions never panic.
func FuzzAuditRules(f *testing.F) {
	seedFiles(f, "docker.rules")
	seedFiles(f, "audit.rules")
	f.Add("-w /etc/docker -p wa -k docker\n-a never,exit -F path=/x\n-W /etc/docker\n-D\n-a always,exit -F dir=/\n-a\n-w\n-F")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data string) {
		defer fuzztest.Budget(t)()
		a := Audit{Rules: parseAuditRules(data)}
		for _, r := range a.Rules {
			if r.Path == "" {
				t.Errorf("rule without a path: %q", r.Text)
			}
		}
		for _, p := range []string{"/", "/etc/docker/daemon.json", "/usr/bin/runc", ""} {
			a.Covering(p, func(s string) string { return s })
		}
	})
}

// FuzzUnitFile: unit files and the command lines in them.
func FuzzUnitFile(f *testing.F) {
	seedFiles(f, "docker.service")
	seedFiles(f, "docker.socket")
	seedFiles(f, "override.conf")
	f.Add("[Service]\nExecStart=/usr/bin/dockerd \"-H\" 'fd://' \\\n $OPTS ${X} \\")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data string) {
		defer fuzztest.Budget(t)()
		entries := parseUnitFile(data, "/u")
		u := &Unit{Entries: entries}
		env := map[string]string{"OPTS": "-H tcp://0.0.0.0:2375", "X": "y"}
		for _, e := range entries {
			if e.Line < 1 || e.Key == "" && !strings.HasPrefix(strings.TrimSpace(data), "=") && e.Key != "" {
				t.Errorf("entry %+v", e)
			}
			splitExec(e.Value, env)
			parseEnvironment(e.Value, map[string]string{})
		}
		u.List("Service", "ExecStart")
	})
}

// FuzzEnvFile: /etc/default/docker, /etc/sysconfig/docker, os-release.
func FuzzEnvFile(f *testing.F) {
	seedFiles(f, "docker")
	seedFiles(f, "os-release")
	f.Add("A=\"x\\\"y\"\nexport B='z'\nC=1 \\\n2\n")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data string) {
		defer fuzztest.Budget(t)()
		for k := range parseEnvFile(data) {
			if !isVarName(k) {
				t.Errorf("variable name %q", k)
			}
		}
		parseOSRelease(data).Ecosystem()
	})
}

// FuzzKernel: kernel releases, /proc/version and version signatures.
func FuzzKernel(f *testing.F) {
	f.Add("5.10.0-28-amd64", "Linux version 5.10.0-28-amd64 (gcc-10 (Debian 10.2.1-6)) #1 SMP Debian 5.10.209-2 (2024-01-31)", "")
	f.Add("5.15.0-91-generic", "", "Ubuntu 5.15.0-91.101-generic 5.15.131")
	f.Add("4.18.0-513.el8.x86_64", "", "")
	f.Add("6.18.44-fc-v657", "", "")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, release, version, signature string) {
		defer fuzztest.Budget(t)()
		k := parseKernel(release, version, signature)
		if k.Upstream == "" && k.NotChecked == "" {
			t.Errorf("%q: neither an upstream version nor a reason", release)
		}
		if k.Upstream != "" && Upstream(k.Upstream) == "" {
			t.Errorf("%q: upstream %q is not a version", release, k.Upstream)
		}
		for i := range advisories {
			advisories[i].affected(k.Upstream)
		}
	})
}

// FuzzClientConfig: a config.json never puts a credential in the snapshot.
func FuzzClientConfig(f *testing.F) {
	seedFiles(f, "config.json")
	f.Add(`{"auths": {"r": {"auth": "Y2k6aHVudGVyMmh1bnRlcjI=", "password": "p"}}, "credHelpers": {"r": "x"}}`)
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data string) {
		defer fuzztest.Budget(t)()
		c, err := parseClientConfig([]byte(data))
		if err != nil {
			return
		}
		for _, a := range c.Stored {
			if !strings.HasPrefix(a.Fingerprint, "fp:") || a.Kind == "" {
				t.Errorf("stored auth %+v", a)
			}
		}
	})
}

// FuzzSystemFiles: /proc/net/tcp, mountinfo, fstab, passwd, group, dpkg.
func FuzzSystemFiles(f *testing.F) {
	seedFiles(f, "tcp")
	seedFiles(f, "mountinfo")
	seedFiles(f, "fstab")
	seedFiles(f, "status")
	seedFiles(f, "passwd")
	seedFiles(f, "group")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data string) {
		defer fuzztest.Budget(t)()
		for _, l := range parseProcNetTCP(data) {
			if !l.Addr.IsValid() {
				t.Errorf("listener %+v", l)
			}
		}
		for _, m := range parseMountInfo(data) {
			if m.FSType == "" {
				t.Errorf("mount %+v has no file system type", m)
			}
		}
		parseFstab(data)
		parsePasswd(data)
		parseGroup(data)
		parseDpkgStatus(data, map[string]bool{"runc": true})
	})
}

// FuzzProcesses: `docker top` answers of any shape (titles and rows of
// any width) give one process per row, never a panic.
func FuzzProcesses(f *testing.F) {
	f.Add("UID PID PPID C STIME TTY TIME CMD", "root|4242|1|0|10:00|?|00:00:00|sshd: /usr/sbin/sshd -D [listener]\n999|5|1|0|10:00|?|0:00|postgres")
	f.Add("PID USER TIME COMMAND", "1|root|0:00|/app\n2")
	f.Add("", "")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, titles, rows string) {
		defer fuzztest.Budget(t)()
		top := client.ContainerTopResult{Titles: strings.Fields(titles)}
		for _, l := range strings.Split(rows, "\n") {
			top.Processes = append(top.Processes, strings.Split(l, "|"))
		}
		ps := processes(top)
		if len(ps) != len(top.Processes) {
			t.Fatalf("%d processes for %d rows", len(ps), len(top.Processes))
		}
		for _, p := range ps {
			isSSHServer(p.Command)
		}
	})
}
