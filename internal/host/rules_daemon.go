package host

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Section 2 of the CIS Docker Benchmark: the daemon's configuration.
// Where the Engine reports a setting itself (/info, the default bridge's
// options) that answer is used; otherwise the merged flags and
// daemon.json.

var ruleDaemonRoot = &Rule{
	Rule: finding.Rule{
		ID: "DV4201", Title: "Docker daemon runs as root", CIS: "2.1",
		Practice: finding.PracticeNonRoot, Severity: finding.Info,
		Description: "A daemon running as root turns any container escape into root on the host. Rootless mode runs the daemon and its containers as an ordinary user; it has limits (no AppArmor, some network and storage drivers), so the benchmark leaves the choice to a person.",
		Remediation: "Where the workloads allow it, run Docker in rootless mode (`dockerd-rootless-setuptool.sh install`).",
		References:  []string{"https://docs.docker.com/engine/security/rootless/"},
		Benchmark:   "Run the Docker daemon as a non-root user, if possible",
		Manual:      true,
	},
	Check: func(p *Pass) {
		s := p.Snap
		if s.Engine == nil && s.Daemon.PID == 0 {
			p.Skip("not checked: neither the Engine nor the daemon process was available")
			return
		}
		if s.Rootless() {
			p.Note("the daemon runs rootless")
			return
		}
		p.Note("the daemon runs as root")
		p.Report(finding.Location{}, "The Docker daemon runs as root; rootless mode would keep a container escape from being root on the host.")
	},
}

var ruleBridgeICC = &Rule{
	Rule: finding.Rule{
		ID: "DV4202", Title: "Containers on the default bridge can reach each other", CIS: "2.2",
		Practice: finding.PracticeNetwork, Severity: finding.Medium,
		Description: "With inter-container communication (icc) on, every container on the default bridge network can open connections to every other one, so one compromised container can attack the rest.",
		Remediation: "Set `\"icc\": false` in daemon.json and link the containers that must talk on user-defined networks.",
		References:  []string{"https://docs.docker.com/engine/network/drivers/bridge/#differences-between-user-defined-bridges-and-the-default-bridge"},
		Benchmark:   "Ensure network traffic is restricted between containers on the default bridge",
	},
	Check: func(p *Pass) {
		if e := p.engine(); e != nil {
			for _, n := range e.Networks {
				if n.Name != "bridge" || n.Driver != "bridge" {
					continue
				}
				if n.Options["com.docker.network.bridge.enable_icc"] == "false" {
					return
				}
				p.Report(p.at("icc"), "Containers on the default bridge can reach each other: its com.docker.network.bridge.enable_icc option is true (%s).", p.setting("icc"))
				return
			}
			if len(e.Networks) > 0 {
				p.Note("there is no default bridge network")
				return
			}
		}
		c := p.cfg()
		if c.Bridge == "none" {
			p.Note("the default bridge is disabled")
			return
		}
		if !p.needConfig() {
			return
		}
		if isTrue(c.ICC, true) {
			p.Report(p.at("icc"), "Containers on the default bridge can reach each other: %s and dockerd's default is icc=true.", p.setting("icc"))
		}
	},
}

var ruleLogLevel = &Rule{
	Rule: finding.Rule{
		ID: "DV4203", Title: "Daemon log level is not info", CIS: "2.3",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "At debug level the daemon logs request details that may include secrets; at warn or above it drops the events an investigation needs.",
		Remediation: "Set `\"log-level\": \"info\"` in daemon.json (or remove the option and --debug).",
		References:  []string{"https://docs.docker.com/reference/cli/dockerd/"},
		Benchmark:   "Ensure the logging level is set to 'info'",
	},
	Check: func(p *Pass) {
		c := p.cfg()
		if p.engine() == nil && !p.needConfig() {
			return
		}
		if c.LogLevel != "" && !strings.EqualFold(c.LogLevel, "info") {
			p.Report(p.at("log-level"), "The daemon's log level is %q (%s); use info.", c.LogLevel, p.setting("log-level"))
			return
		}
		if isTrue(c.Debug, false) {
			p.Report(p.at("debug"), "The daemon runs in debug mode (%s), which logs request details.", p.setting("debug"))
			return
		}
		if e := p.engine(); e != nil && e.Info.Debug {
			p.Report(p.at("debug"), "The Engine reports debug mode, which logs request details.")
		}
	},
}

var ruleIPTables = &Rule{
	Rule: finding.Rule{
		ID: "DV4204", Title: "Docker may not manage iptables", CIS: "2.4",
		Practice: finding.PracticeNetwork, Severity: finding.Medium,
		Description: "With iptables=false the daemon does not write the firewall rules that isolate its networks and publish ports; hand-written rules drift from what containers need and tend to open more than intended.",
		Remediation: "Remove `\"iptables\": false` from daemon.json (and --iptables=false) and let Docker manage its chains.",
		References:  []string{"https://docs.docker.com/engine/network/packet-filtering-firewalls/"},
		Benchmark:   "Ensure Docker is allowed to make changes to iptables",
	},
	Check: func(p *Pass) {
		if !p.needConfig() {
			return
		}
		if !isTrue(p.cfg().IPTables, true) {
			p.Report(p.at("iptables"), "Docker may not manage iptables (%s).", p.setting("iptables"))
		}
	},
}

var ruleInsecureRegistries = &Rule{
	Rule: finding.Rule{
		ID: "DV4205", Title: "Insecure registries configured", CIS: "2.5",
		Practice: finding.PracticeRegistry, Severity: finding.High,
		Description: "The daemon pulls from and pushes to these registries over plain HTTP or without verifying their certificates, so anyone on the path can serve it altered images. The loopback range dockerd always allows (127.0.0.0/8) is not reported.",
		Remediation: "Remove the entries from `insecure-registries`; give each registry a certificate (or put its CA in /etc/docker/certs.d/REGISTRY/ca.crt).",
		References:  []string{"https://docs.docker.com/reference/cli/dockerd/#insecure-registries"},
		Benchmark:   "Ensure insecure registries are not used",
	},
	Check: func(p *Pass) {
		var insecure []string
		if e := p.engine(); e != nil && e.Info.RegistryConfig != nil {
			for _, cidr := range e.Info.RegistryConfig.InsecureRegistryCIDRs {
				if !cidr.Addr().IsLoopback() {
					insecure = append(insecure, cidr.String())
				}
			}
			for _, name := range sortedKeys(e.Info.RegistryConfig.IndexConfigs) {
				if ic := e.Info.RegistryConfig.IndexConfigs[name]; ic != nil && !ic.Secure && !isLoopbackRegistry(name) {
					insecure = append(insecure, name)
				}
			}
		} else {
			if !p.needConfig() {
				return
			}
			for _, r := range p.cfg().InsecureRegistries {
				if !isLoopbackRegistry(r) {
					insecure = append(insecure, r)
				}
			}
		}
		if len(insecure) > 0 {
			p.Report(p.at("insecure-registries"), "The daemon trusts %s over plain HTTP or unverified TLS: %s.",
				plural(len(insecure), "insecure registry", "insecure registries"), list(insecure, 5))
		}
	},
}

// isLoopbackRegistry reports whether a registry name or CIDR is on the
// loopback interface.
func isLoopbackRegistry(r string) bool {
	if pfx, err := netip.ParsePrefix(r); err == nil {
		return pfx.Addr().IsLoopback()
	}
	host := r
	if h, _, err := net.SplitHostPort(r); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.IsLoopback()
	}
	return false
}

var ruleAufs = &Rule{
	Rule: finding.Rule{
		ID: "DV4206", Title: "aufs storage driver in use", CIS: "2.6",
		Practice: finding.PracticeUpdate, Severity: finding.Medium,
		Description: "aufs is unmaintained, was never in the mainline kernel and was removed from Docker in 24.0; it has known crashes and security problems.",
		Remediation: "Move to the overlay2 storage driver (`\"storage-driver\": \"overlay2\"`); images must be pulled again.",
		References:  []string{"https://docs.docker.com/engine/storage/drivers/select-storage-driver/"},
		Benchmark:   "Ensure aufs storage driver is not used",
	},
	Check: func(p *Pass) {
		driver := ""
		if e := p.engine(); e != nil {
			driver = e.Info.Driver
		} else {
			if !p.needConfig() {
				return
			}
			driver = p.cfg().StorageDriver
		}
		if driver == "aufs" {
			p.Report(p.at("storage-driver"), "The daemon stores images and containers with the aufs driver.")
		}
	},
}

// endpoint is one TCP address the daemon listens on, and what says so.
type endpoint struct {
	addr string
	loc  finding.Location
	from string
}

// tcpEndpoints lists the daemon's TCP listeners: -H/hosts, TCP sockets
// systemd passes for fd://, and TCP sockets the daemon process holds.
func (p *Pass) tcpEndpoints() []endpoint {
	s := p.Snap
	var out []endpoint
	seen := map[string]bool{}
	add := func(e endpoint) {
		if !seen[e.addr] {
			seen[e.addr] = true
			out = append(out, e)
		}
	}
	for _, h := range p.cfg().Hosts {
		if addr, ok := tcpHost(h); ok {
			add(endpoint{addr: addr, loc: p.at("hosts"), from: p.setting("hosts")})
		}
		if strings.HasPrefix(h, "fd://") {
			for _, e := range s.Units["docker.socket"].List("Socket", "ListenStream") {
				if listenIsTCP(e.Value) {
					addr := e.Value
					if !strings.Contains(addr, ":") {
						addr = "0.0.0.0:" + addr
					}
					add(endpoint{addr: addr, loc: finding.Location{Path: e.Path, Line: e.Line}, from: fmt.Sprintf("docker.socket has ListenStream=%s", e.Value)})
				}
			}
		}
	}
	for _, l := range s.Network.TCP {
		if !slices.Contains(s.Daemon.SocketInodes, l.Inode) {
			continue
		}
		addr := net.JoinHostPort(l.Addr.String(), strconv.Itoa(int(l.Port)))
		known := false
		for _, e := range out {
			if _, port, _ := net.SplitHostPort(e.addr); port == strconv.Itoa(int(l.Port)) {
				known = true
			}
		}
		if !known {
			add(endpoint{addr: addr, from: "the dockerd process holds this listening socket"})
		}
	}
	return out
}

// tcpHost returns the address of a TCP -H value: tcp://HOST:PORT,
// HOST:PORT, :PORT.
func tcpHost(h string) (string, bool) {
	switch {
	case strings.HasPrefix(h, "tcp://"):
		h = strings.TrimPrefix(h, "tcp://")
	case strings.Contains(h, "://"):
		return "", false
	}
	h = strings.TrimSuffix(h, "/")
	if h == "" {
		return "127.0.0.1:2375", true
	}
	if strings.HasPrefix(h, ":") {
		h = "0.0.0.0" + h
	}
	if _, _, err := net.SplitHostPort(h); err != nil {
		h += ":2375"
	}
	return h, true
}

func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && a.IsLoopback()
}

// tlsState is whether the daemon serves TLS and verifies clients.
func (p *Pass) tlsState() (tls, verify bool) {
	c := p.cfg()
	verify = isTrue(c.TLSVerify, false) || p.Snap.Daemon.Environ["DOCKER_TLS_VERIFY"] != ""
	tls = verify || isTrue(c.TLS, false)
	return
}

var ruleTCPWithoutTLS = &Rule{
	Rule: finding.Rule{
		ID: "DV4207", Title: "Docker daemon listens on TCP without TLS", CIS: "2.7",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Critical,
		Description: "Whoever can connect to an unencrypted, unauthenticated daemon port can start a privileged container and own the host; port 2375 is scanned for on the internet. On loopback only, any local user or host-network container can. Listeners are found in -H/hosts, in the TCP sockets systemd hands the daemon (docker.socket), and among the sockets the daemon process holds.",
		Remediation: "Stop listening on TCP (use the Unix socket, or SSH: DOCKER_HOST=ssh://host), or set tlsverify with tlscacert, tlscert and tlskey so that only clients with a certificate from your CA connect.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure TLS authentication for Docker daemon is configured",
	},
	Check: func(p *Pass) {
		eps := p.tcpEndpoints()
		if len(eps) == 0 {
			if why := p.configUnknown(); why != "" {
				p.Skip("%s", why)
				return
			}
			p.Note("the daemon does not listen on TCP")
			return
		}
		if tls, _ := p.tlsState(); tls {
			return
		}
		for _, e := range eps {
			if isLoopbackAddr(e.addr) {
				f := p.Report(e.loc, "The daemon listens on tcp://%s without TLS (%s): any local user or host-network container can control it.", e.addr, e.from)
				f.Severity = finding.High
				continue
			}
			p.Report(e.loc, "The daemon listens on tcp://%s without TLS (%s): anyone who can reach the port controls the daemon, which is root on this host.", e.addr, e.from)
		}
	},
}

var ruleTLSNoVerify = &Rule{
	Rule: finding.Rule{
		ID: "DV4806", Title: "Docker daemon TLS does not verify clients", CIS: "2.7",
		Practice: finding.PracticeDaemonSocket, Severity: finding.High,
		Description: "With --tls but without --tlsverify the daemon encrypts the connection but accepts any client: anyone who can reach the port controls the daemon.",
		Remediation: "Set `\"tlsverify\": true` with `tlscacert` naming the CA that signs client certificates.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/#use-tls-https-to-protect-the-docker-daemon-socket"},
		Benchmark:   "Ensure TLS listeners verify client certificates",
	},
	Check: func(p *Pass) {
		eps := p.tcpEndpoints()
		tls, verify := p.tlsState()
		if len(eps) == 0 || !tls {
			if len(eps) == 0 {
				if why := p.configUnknown(); why != "" {
					p.Skip("%s", why)
				}
			}
			return
		}
		if verify {
			return
		}
		for _, e := range eps {
			p.Report(p.at("tls"), "The daemon serves TLS on tcp://%s but does not verify client certificates (%s).", e.addr, p.setting("tls"))
		}
	},
}

var ruleDefaultUlimits = &Rule{
	Rule: finding.Rule{
		ID: "DV4208", Title: "No default ulimits for containers", CIS: "2.8",
		Practice: finding.PracticeResourceLimits, Severity: finding.Low,
		Description: "Without default-ulimits, containers inherit the daemon's own limits, which docker.service usually sets very high (LimitNOFILE=1048576, LimitNPROC=infinity): one container can exhaust the host's processes or file handles.",
		Remediation: "Set `default-ulimits` in daemon.json (e.g. nofile and nproc) and override them per container where needed.",
		References:  []string{"https://docs.docker.com/reference/cli/dockerd/#default-ulimit-settings"},
		Benchmark:   "Ensure the default ulimit is configured appropriately",
	},
	Check: func(p *Pass) {
		if !p.needConfig() {
			return
		}
		if len(p.cfg().DefaultUlimits) > 0 {
			return
		}
		inherit := ""
		u := p.Snap.Units["docker.service"]
		var lims []string
		for _, k := range []string{"LimitNOFILE", "LimitNPROC"} {
			if v := u.List("Service", k); len(v) > 0 {
				lims = append(lims, k+"="+v[len(v)-1].Value)
			}
		}
		if len(lims) > 0 {
			inherit = " (" + strings.Join(lims, ", ") + " in docker.service)"
		}
		p.Report(p.at("default-ulimits"), "No default ulimits are set: containers inherit the daemon's limits%s.", inherit)
	},
}

var ruleUserns = &Rule{
	Rule: finding.Rule{
		ID: "DV4209", Title: "User namespace remapping is off", CIS: "2.9",
		Practice: finding.PracticeNonRoot, Severity: finding.Medium,
		Description: "Without user namespaces, uid 0 in a container is uid 0 on the host: a process that escapes is root. userns-remap maps container root to an unprivileged range of host IDs (a rootless daemon does so by construction).",
		Remediation: "Set `\"userns-remap\": \"default\"` in daemon.json (check the images' file ownership first), or run Docker rootless.",
		References:  []string{"https://docs.docker.com/engine/security/userns-remap/"},
		Benchmark:   "Enable user namespace support",
	},
	Check: func(p *Pass) {
		s := p.Snap
		if s.Rootless() {
			p.Note("the daemon is rootless")
			return
		}
		if s.Engine == nil && !p.needConfig() {
			return
		}
		if s.usesUserns() {
			return
		}
		p.Report(p.at("userns-remap"), "User namespace remapping is off (%s): root in a container is root on the host.", p.setting("userns-remap"))
	},
}

var ruleCgroupParent = &Rule{
	Rule: finding.Rule{
		ID: "DV4210", Title: "Containers use a non-default cgroup parent", CIS: "2.10",
		Practice: finding.PracticeResourceLimits, Severity: finding.Info,
		Description: "cgroup-parent moves every container under another cgroup, which changes which limits apply to them; the benchmark asks a person to confirm it is intended.",
		Remediation: "Confirm the cgroup named by cgroup-parent has the limits you expect, or remove the option.",
		References:  []string{"https://docs.docker.com/reference/cli/dockerd/#default-cgroup-parent"},
		Benchmark:   "Ensure the default cgroup usage has been confirmed",
		Manual:      true,
	},
	Check: func(p *Pass) {
		if !p.needConfig() {
			return
		}
		if cp := p.cfg().CgroupParent; cp != "" {
			p.Note("cgroup-parent is %s", cp)
			p.Report(p.at("cgroup-parent"), "Containers are placed under cgroup %s (%s); confirm its limits are intended.", cp, p.setting("cgroup-parent"))
		}
	},
}

var ruleBaseDeviceSize = &Rule{
	Rule: finding.Rule{
		ID: "DV4211", Title: "Base device size changed", CIS: "2.11",
		Practice: finding.PracticeResourceLimits, Severity: finding.Low,
		Description: "dm.basesize raises every container's root file system size under devicemapper; a larger base lets a container fill the pool that all containers share.",
		Remediation: "Remove dm.basesize from storage-opts unless a workload needs it.",
		References:  []string{"https://docs.docker.com/reference/cli/dockerd/#options-per-storage-driver"},
		Benchmark:   "Ensure base device size is not changed until needed",
	},
	Check: func(p *Pass) {
		if !p.needConfig() {
			return
		}
		for _, o := range p.cfg().StorageOpts {
			if strings.HasPrefix(strings.TrimSpace(o), "dm.basesize") {
				p.Report(p.at("storage-opts"), "The storage driver's base device size is changed (%s).", o)
			}
		}
	},
}

var ruleAuthzPlugin = &Rule{
	Rule: finding.Rule{
		ID: "DV4212", Title: "No authorization plugin", CIS: "2.12",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Low,
		Description: "Without an authorization plugin, every client that can reach the daemon may do everything, including starting privileged containers.",
		Remediation: "Install an authorization plugin (e.g. Open Policy Agent's opa-docker-authz) and list it in `authorization-plugins`.",
		References:  []string{"https://docs.docker.com/engine/extend/plugins_authorization/"},
		Benchmark:   "Ensure that authorization for Docker client commands is enabled",
	},
	Check: func(p *Pass) {
		if p.Snap.usesAuthzPlugin() {
			return
		}
		if p.engine() == nil && !p.needConfig() {
			return
		}
		p.Report(p.at("authorization-plugins"), "No authorization plugin is configured: every client of the daemon may do everything.")
	},
}

// localLogDrivers keep logs on the host (or discard them).
var localLogDrivers = map[string]bool{"json-file": true, "local": true, "journald": true, "none": true}

var ruleLocalLogs = &Rule{
	Rule: finding.Rule{
		ID: "DV4213", Title: "Container logs stay on the host", CIS: "2.13",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "With a local log driver (json-file, local, journald) an attacker who takes over the host can erase the containers' logs; with none there are no logs at all. A remote driver (syslog, fluentd, gelf, awslogs, splunk, …) keeps a copy off the host.",
		Remediation: "Set `log-driver` to a remote driver in daemon.json, or ship the local logs off the host with an agent.",
		References:  []string{"https://docs.docker.com/engine/logging/configure/"},
		Benchmark:   "Ensure centralized and remote logging is configured",
	},
	Check: func(p *Pass) {
		driver := p.cfg().LogDriver
		if e := p.engine(); e != nil && e.Info.LoggingDriver != "" {
			driver = e.Info.LoggingDriver
		} else if !p.needConfig() {
			return
		}
		if driver == "" {
			driver = "json-file"
		}
		if driver == "none" {
			p.Report(p.at("log-driver"), "The default log driver is none: containers' output is not logged at all.")
			return
		}
		if localLogDrivers[driver] {
			p.Report(p.at("log-driver"), "The default log driver %s keeps container logs on this host only.", driver)
		}
	},
}

var ruleNewPrivileges = &Rule{
	Rule: finding.Rule{
		ID: "DV4214", Title: "Containers may gain new privileges by default", CIS: "2.14",
		Practice: finding.PracticeCapabilities, Severity: finding.Medium,
		Description: "Without no-new-privileges, a process in a container can gain privileges through setuid and setgid binaries; the daemon-wide default applies it to every container that does not opt out.",
		Remediation: "Set `\"no-new-privileges\": true` in daemon.json.",
		References:  []string{"https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file"},
		Benchmark:   "Ensure containers are restricted from acquiring new privileges",
	},
	Check: func(p *Pass) {
		if !p.needConfig() {
			return
		}
		if !isTrue(p.cfg().NoNewPrivileges, false) {
			p.Report(p.at("no-new-privileges"), "Containers may gain new privileges through setuid binaries: %s.", p.setting("no-new-privileges"))
		}
	},
}

var ruleLiveRestore = &Rule{
	Rule: finding.Rule{
		ID: "DV4215", Title: "Live restore is disabled", CIS: "2.15",
		Practice: finding.PracticeUpdate, Severity: finding.Low,
		Description: "Without live-restore, stopping or upgrading the daemon stops every container, which makes patching the daemon expensive and so rarer. It does not apply in Swarm mode.",
		Remediation: "Set `\"live-restore\": true` in daemon.json.",
		References:  []string{"https://docs.docker.com/engine/daemon/live-restore/"},
		Benchmark:   "Ensure live restore is enabled",
	},
	Check: func(p *Pass) {
		if p.Snap.SwarmActive() {
			p.Skip("not applicable: live restore is incompatible with Swarm mode")
			return
		}
		enabled := false
		if e := p.engine(); e != nil {
			enabled = e.Info.LiveRestoreEnabled
		} else {
			if !p.needConfig() {
				return
			}
			enabled = isTrue(p.cfg().LiveRestore, false)
		}
		if !enabled {
			p.Report(p.at("live-restore"), "Live restore is disabled: restarting or upgrading the daemon stops every container.")
		}
	},
}

var ruleUserlandProxy = &Rule{
	Rule: finding.Rule{
		ID: "DV4216", Title: "Userland proxy is enabled", CIS: "2.16",
		Practice: finding.PracticeNetwork, Severity: finding.Low,
		Description: "The userland proxy (docker-proxy) forwards published ports in user space; it is more code exposed to the network than the kernel's hairpin NAT, and hides clients' addresses from containers.",
		Remediation: "Set `\"userland-proxy\": false` in daemon.json.",
		References:  []string{"https://docs.docker.com/engine/network/packet-filtering-firewalls/#docker-on-a-router"},
		Benchmark:   "Ensure Userland Proxy is Disabled",
	},
	Check: func(p *Pass) {
		if !p.needConfig() {
			return
		}
		if isTrue(p.cfg().UserlandProxy, true) {
			p.Report(p.at("userland-proxy"), "The userland proxy forwards published ports: %s and dockerd's default is userland-proxy=true.", p.setting("userland-proxy"))
		}
	},
}

var ruleSeccompReview = &Rule{
	Rule: finding.Rule{
		ID: "DV4217", Title: "Daemon-wide seccomp profile to review", CIS: "2.17",
		Practice: finding.PracticeCapabilities, Severity: finding.Info,
		Description: "Containers get Docker's default seccomp profile, which allows about 300 system calls. A daemon-wide profile narrowed to what this host's workloads need reduces the kernel surface they reach.",
		Remediation: "If the workloads are known, write a narrower profile and set `seccomp-profile` in daemon.json.",
		References:  []string{"https://docs.docker.com/engine/security/seccomp/"},
		Benchmark:   "Ensure that a daemon-wide custom seccomp profile is applied if appropriate",
		Manual:      true,
	},
	Check: func(p *Pass) {
		profile := p.cfg().SeccompProfile
		if e := p.engine(); e != nil {
			if opt := securityOption(e.Info.SecurityOptions, "seccomp"); opt != nil {
				profile = opt["profile"]
			}
		}
		switch profile {
		case "", "default", "builtin", "unconfined":
			p.Note("containers use Docker's default seccomp profile")
			p.Report(p.at("seccomp-profile"), "Containers use Docker's default seccomp profile; consider a daemon-wide profile narrowed to this host's workloads.")
		default:
			p.Note("custom profile %s", profile)
		}
	},
}

var ruleExperimental = &Rule{
	Rule: finding.Rule{
		ID: "DV4218", Title: "Experimental features are enabled", CIS: "2.18",
		Practice: finding.PracticeHygiene, Severity: finding.Low,
		Description: "Experimental features are unfinished, change without notice and get less security scrutiny; production daemons should not enable them.",
		Remediation: "Remove `\"experimental\": true` from daemon.json (and --experimental).",
		References:  []string{"https://docs.docker.com/reference/cli/dockerd/"},
		Benchmark:   "Ensure that experimental features are not implemented in production",
	},
	Check: func(p *Pass) {
		on := false
		if e := p.engine(); e != nil {
			on = e.Info.ExperimentalBuild || e.Version.Experimental
		} else {
			if !p.needConfig() {
				return
			}
			on = isTrue(p.cfg().Experimental, false)
		}
		if on {
			p.Report(p.at("experimental"), "The daemon runs with experimental features enabled.")
		}
	},
}

var ruleSeccompOff = &Rule{
	Rule: finding.Rule{
		ID: "DV4807", Title: "Seccomp is off for every container",
		Practice: finding.PracticeCapabilities, Severity: finding.High,
		Description: "The daemon applies no seccomp filter to containers (seccomp-profile is unconfined, or the daemon or kernel has no seccomp support): containers can make every system call, including the ones kernel escapes use.",
		Remediation: "Remove `\"seccomp-profile\": \"unconfined\"` from daemon.json, and run a kernel and a Docker build with seccomp support.",
		References:  []string{"https://docs.docker.com/engine/security/seccomp/"},
		Benchmark:   "Ensure containers run with a seccomp profile by default",
	},
	Check: func(p *Pass) {
		if e := p.engine(); e != nil {
			opt := securityOption(e.Info.SecurityOptions, "seccomp")
			switch {
			case opt == nil:
				p.Report(finding.Location{}, "The daemon reports no seccomp support: containers run without system call filtering.")
			case opt["profile"] == "unconfined":
				p.Report(p.at("seccomp-profile"), "The daemon's seccomp profile is unconfined: containers run without system call filtering.")
			}
			return
		}
		if !p.needConfig() {
			return
		}
		if p.cfg().SeccompProfile == "unconfined" {
			p.Report(p.at("seccomp-profile"), "The daemon's seccomp profile is unconfined (%s): containers run without system call filtering.", p.setting("seccomp-profile"))
		}
	},
}

var ruleNoLSM = &Rule{
	Rule: finding.Rule{
		ID: "DV4808", Title: "No AppArmor or SELinux for containers",
		Practice: finding.PracticeCapabilities, Severity: finding.Low,
		Description: "The daemon reports neither AppArmor nor SELinux support, so containers get no mandatory access control profile: nothing beyond capabilities and seccomp stops a root process in a container from writing to /proc and /sys paths an LSM profile would deny.",
		Remediation: "Enable AppArmor (Debian, Ubuntu, SUSE) or SELinux with `\"selinux-enabled\": true` (Fedora, RHEL) on the host.",
		References:  []string{"https://docs.docker.com/engine/security/apparmor/", "https://docs.docker.com/engine/security/#other-kernel-security-features"},
		Benchmark:   "Ensure containers get an AppArmor or SELinux profile",
	},
	Check: func(p *Pass) {
		if !p.needEngine() {
			return
		}
		opts := p.engine().Info.SecurityOptions
		if hasSecurityOption(opts, "apparmor") || hasSecurityOption(opts, "selinux") {
			return
		}
		if p.Snap.Rootless() {
			p.Note("rootless daemons cannot load AppArmor profiles")
		}
		p.Report(finding.Location{}, "The daemon reports neither AppArmor nor SELinux (security options: %s).", strings.Join(opts, "; "))
	},
}

var ruleLogSize = &Rule{
	Rule: finding.Rule{
		ID: "DV4809", Title: "Container logs grow without limit",
		Practice: finding.PracticeMonitoring, Severity: finding.Low,
		Description: "The json-file log driver keeps every line a container writes unless log-opts max-size is set: a noisy or hostile container fills the disk of the data root.",
		Remediation: "Set `\"log-opts\": {\"max-size\": \"10m\", \"max-file\": \"3\"}` in daemon.json, or use the local driver, which rotates by default.",
		References:  []string{"https://docs.docker.com/engine/logging/drivers/json-file/"},
		Benchmark:   "Ensure the json-file log driver has a size limit",
	},
	Check: func(p *Pass) {
		if !p.needConfig() {
			return
		}
		driver := p.cfg().LogDriver
		if e := p.engine(); e != nil && e.Info.LoggingDriver != "" {
			driver = e.Info.LoggingDriver
		}
		if driver != "" && driver != "json-file" {
			p.Note("log driver %s", driver)
			return
		}
		if p.cfg().LogOpts["max-size"] == "" {
			p.Report(p.at("log-opts"), "The json-file log driver has no max-size: container logs grow until the disk is full.")
		}
	},
}
