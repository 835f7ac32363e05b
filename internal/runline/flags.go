package runline

// flagKind is whether a flag takes a value.
type flagKind int

const (
	boolFlag flagKind = iota
	valueFlag
)

// flagDef is one option of `docker run` (or of the CLI itself). apply is
// nil for options the rules do not read: they are still recognised, so
// that their values are skipped and a typo is an error, as it is for the
// Docker CLI.
type flagDef struct {
	long  string
	short byte
	kind  flagKind
	apply func(st *state, val string, at int) error
}

type flagSet struct {
	long  map[string]*flagDef
	short map[byte]*flagDef
}

func newFlagSet(groups ...[]flagDef) *flagSet {
	fs := &flagSet{long: map[string]*flagDef{}, short: map[byte]*flagDef{}}
	for _, g := range groups {
		for i := range g {
			d := &g[i]
			fs.long[d.long] = d
			if d.short != 0 {
				fs.short[d.short] = d
			}
		}
	}
	return fs
}

func b(long string, short byte, apply func(*state, string, int) error) flagDef {
	return flagDef{long: long, short: short, kind: boolFlag, apply: apply}
}

func v(long string, short byte, apply func(*state, string, int) error) flagDef {
	return flagDef{long: long, short: short, kind: valueFlag, apply: apply}
}

// dockerRunFlags are the options of `docker run` and `docker create`, as the
// Docker CLI (v29) defines them in cli/command/container/opts.go, run.go and
// create.go.
var dockerRunFlags = []flagDef{
	// What the rules read.
	b("privileged", 0, (*state).privileged),
	v("cap-add", 0, (*state).capAdd),
	v("cap-drop", 0, (*state).capDrop),
	v("security-opt", 0, (*state).securityOpt),
	v("user", 'u', (*state).user),
	v("pid", 0, (*state).pid),
	v("ipc", 0, (*state).ipc),
	v("uts", 0, (*state).uts),
	v("network", 0, (*state).network),
	v("net", 0, (*state).network),
	v("cgroupns", 0, (*state).cgroupns),
	v("userns", 0, (*state).userns),
	v("cgroup-parent", 0, (*state).cgroupParent),
	v("volume", 'v', (*state).volume),
	v("mount", 0, (*state).mount),
	v("tmpfs", 0, (*state).tmpfs),
	v("device", 0, (*state).device),
	v("device-cgroup-rule", 0, (*state).deviceCgroupRule),
	v("publish", 'p', (*state).publish),
	b("publish-all", 'P', (*state).publishAll),
	v("memory", 'm', (*state).memory),
	v("memory-swap", 0, (*state).memorySwap),
	v("memory-reservation", 0, (*state).memoryReservation),
	v("cpus", 0, (*state).cpus),
	v("cpu-shares", 'c', (*state).cpuShares),
	v("cpu-quota", 0, (*state).cpuQuota),
	v("cpu-period", 0, (*state).cpuPeriod),
	v("cpuset-cpus", 0, (*state).cpusetCPUs),
	v("pids-limit", 0, (*state).pidsLimit),
	v("ulimit", 0, (*state).ulimit),
	b("read-only", 0, (*state).readOnly),
	v("restart", 0, (*state).restart),
	v("env", 'e', (*state).env),
	v("env-file", 0, (*state).envFile),
	v("health-cmd", 0, (*state).healthCmd),
	b("no-healthcheck", 0, (*state).noHealthcheck),
	v("sysctl", 0, (*state).sysctl),
	v("log-driver", 0, (*state).logDriver),
	v("log-opt", 0, (*state).logOpt),
	v("name", 0, (*state).name),
	b("use-api-socket", 0, (*state).useAPISocket),
	b("help", 0, (*state).help),

	// Recognised, not judged.
	v("attach", 'a', nil), v("gpus", 0, nil), v("entrypoint", 0, nil), v("group-add", 0, nil),
	v("hostname", 'h', nil), v("domainname", 0, nil), b("interactive", 'i', nil), v("label", 'l', nil),
	v("label-file", 0, nil), v("stop-signal", 0, nil), v("stop-timeout", 0, nil), b("tty", 't', nil),
	v("workdir", 'w', nil), b("rm", 0, nil), v("add-host", 0, nil), v("dns", 0, nil), v("dns-opt", 0, nil),
	v("dns-option", 0, nil), v("dns-search", 0, nil), v("expose", 0, nil), v("ip", 0, nil), v("ip6", 0, nil),
	v("link", 0, nil), v("link-local-ip", 0, nil), v("mac-address", 0, nil), v("net-alias", 0, nil),
	v("network-alias", 0, nil), v("volume-driver", 0, nil), v("storage-opt", 0, nil), v("volumes-from", 0, nil),
	v("health-interval", 0, nil), v("health-retries", 0, nil), v("health-timeout", 0, nil),
	v("health-start-period", 0, nil), v("health-start-interval", 0, nil), v("blkio-weight", 0, nil),
	v("blkio-weight-device", 0, nil), v("cidfile", 0, nil), v("cpuset-mems", 0, nil), v("cpu-count", 0, nil),
	v("cpu-percent", 0, nil), v("cpu-rt-period", 0, nil), v("cpu-rt-runtime", 0, nil), v("device-read-bps", 0, nil),
	v("device-read-iops", 0, nil), v("device-write-bps", 0, nil), v("device-write-iops", 0, nil),
	v("io-maxbandwidth", 0, nil), v("io-maxiops", 0, nil), v("memory-swappiness", 0, nil), b("oom-kill-disable", 0, nil),
	v("oom-score-adj", 0, nil), v("isolation", 0, nil), v("shm-size", 0, nil),
	v("runtime", 0, nil), v("umask", 0, nil), b("init", 0, nil), v("annotation", 0, nil), v("kernel-memory", 0, nil),
	b("detach", 'd', nil), b("sig-proxy", 0, nil), v("detach-keys", 0, nil), v("pull", 0, nil), b("quiet", 'q', nil),
	v("platform", 0, nil), b("disable-content-trust", 0, nil),
}

// podmanRunFlags are the options `podman run` has beyond Docker's.
var podmanRunFlags = []flagDef{
	v("arch", 0, nil), v("authfile", 0, nil), v("cgroup-conf", 0, nil), v("cgroups", 0, nil), v("chrootdirs", 0, nil),
	v("conmon-pidfile", 0, nil), v("creds", 0, nil), v("decryption-key", 0, nil), b("env-host", 0, nil), v("env-merge", 0, nil),
	v("gidmap", 0, nil), v("group-entry", 0, nil), v("health-log-destination", 0, nil), v("health-max-log-count", 0, nil),
	v("health-max-log-size", 0, nil), v("health-on-failure", 0, nil), v("health-startup-cmd", 0, nil),
	v("health-startup-interval", 0, nil), v("health-startup-retries", 0, nil), v("health-startup-success", 0, nil),
	v("health-startup-timeout", 0, nil), v("hostuser", 0, nil), v("hosts-file", 0, nil), b("http-proxy", 0, nil),
	v("image-volume", 0, nil), v("init-path", 0, nil), b("no-hosts", 0, nil), v("os", 0, nil), b("passwd", 0, nil),
	v("passwd-entry", 0, nil), v("personality", 0, nil), v("pidfile", 0, nil), v("pod", 0, nil), v("pod-id-file", 0, nil),
	v("preserve-fd", 0, nil), v("preserve-fds", 0, nil), v("rdt-class", 0, nil), b("read-only-tmpfs", 0, nil),
	b("replace", 0, nil), v("requires", 0, nil), v("retry", 0, nil), v("retry-delay", 0, nil), b("rmi", 0, nil),
	b("rootfs", 0, nil), v("sdnotify", 0, nil), v("seccomp-policy", 0, nil), v("secret", 0, nil),
	v("shm-size-systemd", 0, nil), v("subgidname", 0, nil), v("subuidname", 0, nil), v("systemd", 0, nil),
	v("timeout", 0, nil), b("tls-verify", 0, nil), v("tz", 0, nil), v("uidmap", 0, nil), v("unsetenv", 0, nil),
	b("unsetenv-all", 0, nil), v("variant", 0, nil), v("cert-dir", 0, nil),
}

// dockerGlobalFlags come between `docker` and its subcommand.
var dockerGlobalFlags = []flagDef{
	v("config", 0, nil), v("context", 'c', nil), b("debug", 'D', nil), v("host", 'H', nil), v("log-level", 'l', nil),
	b("tls", 0, nil), v("tlscacert", 0, nil), v("tlscert", 0, nil), v("tlskey", 0, nil), b("tlsverify", 0, nil),
}

// podmanGlobalFlags come between `podman` and its subcommand.
var podmanGlobalFlags = []flagDef{
	v("cgroup-manager", 0, nil), v("conmon", 0, nil), v("connection", 'c', nil), v("events-backend", 0, nil),
	v("hooks-dir", 0, nil), v("identity", 0, nil), v("imagestore", 0, nil), v("log-level", 0, nil), v("module", 0, nil),
	v("network-cmd-path", 0, nil), v("network-config-dir", 0, nil), v("out", 0, nil), b("remote", 'r', nil),
	v("root", 0, nil), v("runroot", 0, nil), v("runtime", 0, nil), v("runtime-flag", 0, nil), v("ssh", 0, nil),
	v("storage-driver", 0, nil), v("storage-opt", 0, nil), b("syslog", 0, nil), v("tmpdir", 0, nil),
	b("transient-store", 0, nil), v("url", 0, nil), v("volumepath", 0, nil), b("debug", 'D', nil),
}

var (
	dockerRun    = newFlagSet(dockerRunFlags)
	podmanRun    = newFlagSet(dockerRunFlags, podmanRunFlags)
	dockerGlobal = newFlagSet(dockerGlobalFlags)
	podmanGlobal = newFlagSet(podmanGlobalFlags)
)
