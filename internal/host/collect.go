package host

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options say where and how to read a host.
type Options struct {
	// Root is the directory holding the host's files ("/" for this host).
	Root string
	// Engine is the Engine API to ask; nil when there is none, and then
	// EngineErr says why.
	Engine    EngineAPI
	EngineErr string
	// Recorded is an Engine's answers read earlier (a fixture, or a
	// snapshot taken elsewhere); it is used instead of asking Engine.
	Recorded *Engine
	// Env is the auditing user's environment (os.Environ when nil).
	Env map[string]string
	// Meta replaces file metadata, for fixture trees (see Meta).
	Meta map[string]Meta
	// Auditctl runs `auditctl -l` to list the loaded audit rules. It
	// only makes sense on the host itself (Root "/").
	Auditctl bool
	// Now is the time of the snapshot (time.Now when zero).
	Now time.Time
}

var remappedRootRe = regexp.MustCompile(`^\d+\.\d+$`)

// clientEnvVars are the variables of the auditing user's environment the
// snapshot keeps.
var clientEnvVars = []string{"DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTENT_TRUST", "DOCKER_CONFIG", "HOME"}

type collector struct {
	fs   *fsys
	o    Options
	snap *Snapshot
}

// Collect reads a host into a snapshot. It fails only when Root is not a
// directory; everything it cannot read is recorded as not checked, and
// everything it cannot understand as a Problem.
func Collect(ctx context.Context, o Options) (*Snapshot, error) {
	if o.Root == "" {
		o.Root = "/"
	}
	if fi, err := os.Stat(o.Root); err != nil {
		return nil, fmt.Errorf("--root %s: %v", o.Root, unwrapPath(err))
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("--root %s: not a directory", o.Root)
	}
	f, err := newFsys(o.Root, o.Meta)
	if err != nil {
		return nil, fmt.Errorf("--root %s: %v", o.Root, err)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Env == nil {
		o.Env = map[string]string{}
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok {
				o.Env[k] = v
			}
		}
	}
	s := &Snapshot{Root: o.Root, Taken: o.Now.UTC(), Env: map[string]string{}, Files: map[string]*File{}, Units: map[string]*Unit{}}
	for _, k := range clientEnvVars {
		if v, ok := o.Env[k]; ok {
			s.Env[k] = v
		}
	}
	c := &collector{fs: f, o: o, snap: s}
	if o.Recorded != nil {
		s.Engine = o.Recorded
	} else if o.Engine != nil {
		s.Engine, err = collectEngine(ctx, o.Engine)
		if err != nil {
			s.Engine, s.EngineErr = nil, err.Error()
		}
	} else {
		s.EngineErr = o.EngineErr
		if s.EngineErr == "" {
			s.EngineErr = "the Engine was not asked"
		}
	}
	c.osRelease()
	c.users()
	c.daemonProcess()
	c.units()
	c.envFiles()
	c.daemonConfig()
	c.paths()
	c.audit(ctx)
	c.kernel()
	c.mounts()
	c.listeners()
	c.packages()
	c.clientConfigs()
	c.statFiles()
	return s, nil
}

func (c *collector) problem(p, format string, args ...any) {
	c.snap.Problems = append(c.snap.Problems, Problem{Path: p, Message: fmt.Sprintf(format, args...)})
}

// stat records the metadata of a host path in the snapshot.
func (c *collector) stat(p string) *File {
	if p == "" {
		return nil
	}
	p = path.Clean(p)
	if f, ok := c.snap.Files[p]; ok {
		return f
	}
	f := c.fs.stat(p)
	c.snap.Files[p] = f
	return f
}

// notReadable describes a file that could not be read, for "not checked"
// notes.
func notReadable(f *File) string {
	switch f.State {
	case Denied:
		return "permission denied reading " + f.Path
	case Unreadable:
		return f.Path + ": " + f.Err
	}
	return f.Path + " is not present"
}

func (c *collector) osRelease() {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if data, f := c.fs.read(p); f.State == Present {
			c.snap.OS = parseOSRelease(string(data))
			return
		}
	}
}

func (c *collector) users() {
	u := &c.snap.Users
	data, f := c.fs.read("/etc/passwd")
	if f.State == Present {
		u.Passwd = parsePasswd(string(data))
	} else {
		u.NotChecked = notReadable(f)
	}
	data, f = c.fs.read("/etc/group")
	if f.State == Present {
		u.Groups = parseGroup(string(data))
	} else if u.NotChecked == "" {
		u.NotChecked = notReadable(f)
	}
}

// daemonProcess finds the running dockerd: the PID in its pid file, or
// the first process named dockerd.
func (c *collector) daemonProcess() {
	d := &c.snap.Daemon
	isDockerd := func(pid int) bool {
		comm, f := c.fs.readProc(fmt.Sprintf("/proc/%d/comm", pid))
		return f.State == Present && strings.TrimSpace(string(comm)) == "dockerd"
	}
	for _, pidfile := range []string{"/var/run/docker.pid", "/run/docker.pid"} {
		if data, f := c.fs.read(pidfile); f.State == Present {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 && isDockerd(pid) {
				d.PID = pid
				break
			}
		}
	}
	if d.PID == 0 {
		for _, pid := range c.fs.pids() {
			if isDockerd(pid) {
				d.PID = pid
				break
			}
		}
	}
	if d.PID == 0 {
		d.NotChecked = "no dockerd process found under " + c.o.Root + "proc"
		return
	}
	proc := fmt.Sprintf("/proc/%d", d.PID)
	data, f := c.fs.readProc(proc + "/cmdline")
	if f.State == Present && len(data) > 0 {
		d.Args = strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		d.ArgsFrom = proc + "/cmdline"
	} else {
		d.NotChecked = notReadable(f)
	}
	if status, f := c.fs.readProc(proc + "/status"); f.State == Present {
		for _, l := range strings.Split(string(status), "\n") {
			if rest, ok := strings.CutPrefix(l, "Uid:"); ok {
				if fields := strings.Fields(rest); len(fields) > 0 {
					d.UID, _ = strconv.Atoi(fields[0])
				}
			}
		}
	}
	if exe, err := c.fs.readlink(proc + "/exe"); err == nil {
		d.Exe = strings.TrimSuffix(exe, " (deleted)")
	} else if len(d.Args) > 0 && strings.HasPrefix(d.Args[0], "/") {
		d.Exe = d.Args[0]
	}
	if env, f := c.fs.readProc(proc + "/environ"); f.State == Present {
		for _, kv := range strings.Split(string(env), "\x00") {
			if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "DOCKER_") {
				if d.Environ == nil {
					d.Environ = map[string]string{}
				}
				d.Environ[k] = v
			}
		}
	}
	fds, _ := c.fs.list(proc + "/fd")
	for _, fd := range fds {
		link, err := c.fs.readlink(proc + "/fd/" + fd)
		if err != nil {
			continue
		}
		if rest, ok := strings.CutPrefix(link, "socket:["); ok {
			if inode, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64); err == nil {
				d.SocketInodes = append(d.SocketInodes, inode)
			}
		}
	}
	slices.Sort(d.SocketInodes)
}

// units reads Docker's and containerd's systemd units with their
// drop-ins, as systemd would find them.
func (c *collector) units() {
	for _, name := range []string{"docker.service", "docker.socket", "containerd.service", "containerd.socket"} {
		u := &Unit{Name: name}
		for _, dir := range unitDirs {
			p := dir + "/" + name
			if target, err := c.fs.readlink(p); err == nil && path.Clean(target) == "/dev/null" {
				u.Path, u.Masked = p, true
				break
			}
			if c.fs.stat(p).State == Present {
				u.Path = p
				break
			}
		}
		if u.Path == "" || u.Masked {
			if u.Masked {
				c.snap.Units[name] = u
			}
			continue
		}
		// A drop-in in a higher-priority directory replaces one of the
		// same name in a lower one; all apply in file-name order.
		dropIns := map[string]string{}
		for i := len(unitDirs) - 1; i >= 0; i-- {
			dir := unitDirs[i] + "/" + dropInDir(name)
			names, _ := c.fs.list(dir)
			for _, n := range names {
				if isConf(n) {
					dropIns[n] = dir + "/" + n
				}
			}
		}
		for _, n := range sortedKeys(dropIns) {
			u.DropIns = append(u.DropIns, dropIns[n])
		}
		for _, p := range u.Files() {
			if data, f := c.fs.read(p); f.State == Present {
				u.Entries = append(u.Entries, parseUnitFile(string(data), p)...)
			}
		}
		c.snap.Units[name] = u
	}
}

func (c *collector) envFiles() {
	for _, p := range []string{"/etc/default/docker", "/etc/sysconfig/docker"} {
		if data, f := c.fs.read(p); f.State == Present {
			if c.snap.EnvFiles == nil {
				c.snap.EnvFiles = map[string]map[string]string{}
			}
			c.snap.EnvFiles[p] = parseEnvFile(string(data))
		}
	}
}

// unitCommand is docker.service's ExecStart with its environment
// expanded: the daemon's command line when no running daemon says it.
func (c *collector) unitCommand() ([]string, string) {
	u := c.snap.Units["docker.service"]
	execs := u.List("Service", "ExecStart")
	if len(execs) == 0 {
		return nil, ""
	}
	env := map[string]string{}
	for _, e := range u.List("Service", "Environment") {
		parseEnvironment(e.Value, env)
	}
	for _, e := range u.List("Service", "EnvironmentFile") {
		p := strings.TrimPrefix(e.Value, "-")
		if data, f := c.fs.read(p); f.State == Present {
			for k, v := range parseEnvFile(string(data)) {
				env[k] = v
			}
		}
	}
	last := execs[len(execs)-1]
	return splitExec(last.Value, env), last.Path
}

// daemonConfig merges the daemon's flags with daemon.json.
func (c *collector) daemonConfig() {
	d := &c.snap.Daemon
	if len(d.Args) == 0 {
		if args, from := c.unitCommand(); len(args) > 0 {
			d.Args, d.ArgsFrom = args, from
		}
	}
	var flags map[string]*flagValue
	if len(d.Args) > 1 {
		flags = parseDaemonArgs(d.Args[1:])
	}
	jsonPath := "/etc/docker/daemon.json"
	if d.UID != 0 {
		// A rootless daemon reads ~/.config/docker/daemon.json.
		if home := c.homeOf(d.UID); home != "" {
			jsonPath = home + "/.config/docker/daemon.json"
		}
	}
	if fv, ok := flags["config-file"]; ok {
		jsonPath = fv.values[len(fv.values)-1]
	}
	c.snap.Paths.DaemonJSON = jsonPath
	data, f := c.fs.read(jsonPath)
	c.snap.Files[jsonPath] = f
	var dj *daemonJSON
	var lines map[string]int
	if f.State == Present {
		var err error
		if dj, lines, err = parseDaemonJSON(data); err != nil {
			c.problem(jsonPath, "%v", err)
		}
	}
	d.Config = mergeDaemonConfig(flags, d.ArgsFrom, dj, lines, jsonPath)
	if d.Config.ConfigFile == "" {
		d.Config.ConfigFile = jsonPath
	}
}

func (c *collector) homeOf(uid int) string {
	for _, u := range c.snap.Users.Passwd {
		if u.UID == uid {
			return u.Home
		}
	}
	return ""
}

// Rootless reports whether the daemon runs rootless: the Engine says so,
// or the daemon process is not root.
func (s *Snapshot) Rootless() bool {
	if s.Engine != nil {
		return hasSecurityOption(s.Engine.Info.SecurityOptions, "rootless")
	}
	return s.Daemon.PID != 0 && s.Daemon.UID != 0 || isTrue(s.Daemon.Config.Rootless, false)
}

// paths decides which files the checks look at.
func (c *collector) paths() {
	s := c.snap
	cfg := &s.Daemon.Config
	p := &s.Paths
	p.DataRoot = cfg.DataRoot
	if s.Engine != nil && s.Engine.Info.DockerRootDir != "" {
		p.DataRoot = s.Engine.Info.DockerRootDir
	}
	if p.DataRoot == "" {
		p.DataRoot = "/var/lib/docker"
	}
	// With user namespaces the Engine reports the remapped root's
	// directory (/var/lib/docker/100000.100000); the data root is its
	// parent.
	if s.usesUserns() && remappedRootRe.MatchString(path.Base(p.DataRoot)) {
		p.DataRoot = path.Dir(p.DataRoot)
	}
	// Unix sockets the daemon listens on: its -H unix:// hosts, the
	// sockets systemd hands it for fd://, or the default.
	var socks []string
	hosts := cfg.Hosts
	if len(hosts) == 0 {
		def := "unix:///var/run/docker.sock"
		if s.Rootless() {
			def = fmt.Sprintf("unix:///run/user/%d/docker.sock", s.Daemon.UID)
		}
		hosts = []string{def}
	}
	for _, h := range hosts {
		switch {
		case strings.HasPrefix(h, "unix://"):
			socks = append(socks, strings.TrimPrefix(h, "unix://"))
		case strings.HasPrefix(h, "fd://"):
			for _, e := range s.Units["docker.socket"].List("Socket", "ListenStream") {
				if !listenIsTCP(e.Value) && strings.HasPrefix(e.Value, "/") {
					socks = append(socks, e.Value)
				}
			}
		}
	}
	p.DockerSockets = c.dedupe(socks)
	ctrd := []string{"/run/containerd/containerd.sock", "/var/run/docker/containerd/containerd.sock"}
	if cfg.Containerd != "" {
		ctrd = append([]string{strings.TrimPrefix(cfg.Containerd, "unix://")}, ctrd...)
	}
	var present []string
	for _, sock := range c.dedupe(ctrd) {
		if c.fs.stat(sock).State != Absent {
			present = append(present, sock)
		}
	}
	p.ContainerdSockets = present
	if isTrue(cfg.TLS, false) || isTrue(cfg.TLSVerify, false) || s.Daemon.Environ["DOCKER_TLS_VERIFY"] != "" {
		certDir := s.Daemon.Environ["DOCKER_CERT_PATH"]
		if certDir == "" {
			certDir = c.homeOf(s.Daemon.UID) + "/.docker"
			if s.Daemon.UID == 0 && c.homeOf(0) == "" {
				certDir = "/root/.docker"
			}
		}
		p.TLSCACert, p.TLSCert, p.TLSKey = cfg.TLSCACert, cfg.TLSCert, cfg.TLSKey
		if p.TLSCACert == "" {
			p.TLSCACert = certDir + "/ca.pem"
		}
		if p.TLSCert == "" {
			p.TLSCert = certDir + "/cert.pem"
		}
		if p.TLSKey == "" {
			p.TLSKey = certDir + "/key.pem"
		}
	}
	regs, _ := c.fs.list("/etc/docker/certs.d")
	for _, r := range regs {
		dir := "/etc/docker/certs.d/" + r
		files, _ := c.fs.list(dir)
		for _, f := range files {
			if st := c.fs.stat(dir + "/" + f); st.State == Present && st.Mode.IsRegular() || st.State == Denied {
				p.RegistryCerts = append(p.RegistryCerts, dir+"/"+f)
			}
		}
	}
	p.Binaries = map[string]string{}
	for _, name := range []string{"dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v1", "containerd-shim-runc-v2", "runc"} {
		if name == "dockerd" && s.Daemon.Exe != "" && c.fs.stat(s.Daemon.Exe).State == Present {
			p.Binaries[name] = s.Daemon.Exe
			continue
		}
		for _, dir := range []string{"/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/bin", "/sbin"} {
			if st := c.fs.stat(dir + "/" + name); st.State == Present && !st.Mode.IsDir() {
				p.Binaries[name] = dir + "/" + name
				break
			}
		}
	}
}

// dedupe drops paths that name the same file after symbolic links.
func (c *collector) dedupe(paths []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		r := c.fs.resolved(p)
		if !seen[r] {
			seen[r] = true
			out = append(out, path.Clean(p))
		}
	}
	return out
}

// audit reads the audit rules: the loaded ones when auditctl can list
// them, else the files auditd loads.
func (c *collector) audit(ctx context.Context) {
	a := &c.snap.Audit
	if c.o.Auditctl {
		if bin, err := exec.LookPath("auditctl"); err == nil {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			out, err := exec.CommandContext(cctx, bin, "-l").Output()
			cancel()
			if err == nil {
				a.Source = "auditctl -l"
				a.Rules = parseAuditRules(string(out))
				return
			}
		}
	}
	files := []string{"/etc/audit/audit.rules"}
	names, dir := c.fs.list("/etc/audit/rules.d")
	for _, n := range names {
		if strings.HasSuffix(n, ".rules") {
			files = append(files, "/etc/audit/rules.d/"+n)
		}
	}
	var read, denied []string
	for _, p := range files {
		data, f := c.fs.read(p)
		switch f.State {
		case Present:
			read = append(read, p)
			a.Rules = append(a.Rules, parseAuditRules(string(data))...)
		case Denied:
			denied = append(denied, p)
		}
	}
	if dir.State == Denied {
		denied = append(denied, "/etc/audit/rules.d")
	}
	switch {
	case len(denied) > 0:
		a.NotChecked = "permission denied reading " + strings.Join(denied, ", ")
		a.Rules = nil
	case len(read) == 0:
		a.Source = "no audit rules: /etc/audit/audit.rules and /etc/audit/rules.d/*.rules are absent"
	default:
		a.Source = strings.Join(read, ", ")
	}
}

func (c *collector) kernel() {
	release := ""
	if c.snap.Engine != nil {
		release = c.snap.Engine.Info.KernelVersion
	}
	if release == "" {
		data, _ := c.fs.readProc("/proc/sys/kernel/osrelease")
		release = string(data)
	}
	version, _ := c.fs.readProc("/proc/version")
	signature, _ := c.fs.readProc("/proc/version_signature")
	c.snap.Kernel = parseKernel(release, string(version), string(signature))
}

func (c *collector) mounts() {
	m := &c.snap.Mounts
	var candidates []string
	if c.snap.Daemon.PID != 0 {
		candidates = append(candidates, fmt.Sprintf("/proc/%d/mountinfo", c.snap.Daemon.PID))
	}
	candidates = append(candidates, "/proc/1/mountinfo", "/proc/self/mountinfo")
	for _, p := range candidates {
		if data, f := c.fs.readProc(p); f.State == Present && len(data) > 0 {
			m.Info, m.From = parseMountInfo(string(data)), p
			break
		}
	}
	data, f := c.fs.read("/etc/fstab")
	if f.State == Present {
		m.Fstab = parseFstab(string(data))
	}
	if m.From == "" && f.State != Present {
		m.NotChecked = "neither /proc/PID/mountinfo nor /etc/fstab could be read (" + notReadable(f) + ")"
	}
}

// listeners reads the listening TCP sockets of the daemon's network
// namespace (/proc/net is the reader's namespace, which inside a
// container is not the host's).
func (c *collector) listeners() {
	n := &c.snap.Network
	dir := "/proc/net"
	if c.snap.Daemon.PID != 0 {
		dir = fmt.Sprintf("/proc/%d/net", c.snap.Daemon.PID)
	}
	found := false
	for _, name := range []string{"tcp", "tcp6"} {
		data, f := c.fs.readProc(dir + "/" + name)
		if f.State == Present {
			found = true
			n.TCP = append(n.TCP, parseProcNetTCP(string(data))...)
		}
	}
	if !found {
		n.NotChecked = "cannot read " + dir + "/tcp"
	}
}

func (c *collector) packages() {
	want := map[string]bool{}
	for _, names := range distroPackages {
		for _, n := range names {
			want[n] = true
		}
	}
	for _, n := range upstreamPackages {
		want[n] = true
	}
	if data, f := c.fs.read("/var/lib/dpkg/status"); f.State == Present {
		c.snap.Packages = parseDpkgStatus(string(data), want)
	}
}

// clientConfigs reads the auditing user's Docker client configuration
// and every local user's ~/.docker/config.json.
func (c *collector) clientConfigs() {
	type cand struct{ path, user string }
	var cands []cand
	if d := c.snap.Env["DOCKER_CONFIG"]; d != "" {
		cands = append(cands, cand{d + "/config.json", ""})
	}
	if h := c.snap.Env["HOME"]; h != "" {
		cands = append(cands, cand{h + "/.docker/config.json", ""})
	}
	for _, u := range c.snap.Users.Passwd {
		if u.Home == "" || u.Home == "/" || strings.HasPrefix(u.Home, "/nonexistent") {
			continue
		}
		cands = append(cands, cand{u.Home + "/.docker/config.json", u.Name})
	}
	seen := map[string]int{}
	for _, cd := range cands {
		r := c.fs.resolved(cd.path)
		if i, ok := seen[r]; ok {
			if c.snap.ClientConfigs[i].User == "" {
				c.snap.ClientConfigs[i].User = cd.user
			}
			continue
		}
		data, f := c.fs.read(cd.path)
		if f.State == Absent {
			continue
		}
		if st := c.stat(cd.path); st != nil && st.State == Present {
			f.Mode, f.UID, f.GID = st.Mode, st.UID, st.GID
		}
		cc := ClientConfig{Path: path.Clean(cd.path), User: cd.user, File: *f}
		if f.State == Present {
			parsed, err := parseClientConfig(data)
			if err != nil {
				c.problem(cd.path, "%v", err)
			} else {
				parsed.Path, parsed.User, parsed.File = cc.Path, cc.User, cc.File
				cc = parsed
			}
		}
		seen[r] = len(c.snap.ClientConfigs)
		c.snap.ClientConfigs = append(c.snap.ClientConfigs, cc)
	}
}

// statFiles records owner and mode of every file a check looks at.
func (c *collector) statFiles() {
	s := c.snap
	p := &s.Paths
	list := []string{p.DaemonJSON, p.DataRoot, "/etc/docker", "/etc/default/docker", "/etc/sysconfig/docker",
		"/etc/containerd/config.toml", "/run/containerd", p.TLSCACert, p.TLSCert, p.TLSKey}
	list = append(list, p.DockerSockets...)
	list = append(list, p.ContainerdSockets...)
	list = append(list, p.RegistryCerts...)
	for _, b := range sortedKeys(p.Binaries) {
		list = append(list, p.Binaries[b])
	}
	for _, name := range []string{"docker.service", "docker.socket", "containerd.service", "containerd.socket"} {
		list = append(list, s.Units[name].Files()...)
	}
	for _, p := range list {
		c.stat(p)
	}
	// Record where symbolic links lead for every path a check compares,
	// so that the snapshot stays a plain value.
	s.Resolved = map[string]string{}
	note := func(p string) {
		if r := c.fs.resolved(p); r != p {
			s.Resolved[p] = r
		}
	}
	for p := range s.Files {
		note(p)
	}
	for _, r := range s.Audit.Rules {
		note(r.Path)
	}
}
