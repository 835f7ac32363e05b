package host

import (
	"io/fs"

	"github.com/dockvet/dockvet/internal/finding"
)

// Section 3 of the CIS Docker Benchmark: owners and modes of the daemon's
// files and sockets. The benchmark asks two things of each file, its
// owner and its mode: two rules over the same dockerFiles.

// dockerFiles are the files one pair of benchmark rows is about.
type dockerFiles struct {
	// paths returns the host paths of the files; the checks apply to the
	// ones that exist.
	paths func(s *Snapshot) []string
	// absent is why the checks do not apply when no path exists.
	absent string
	// why is what an attacker gains from them, for messages.
	why string
}

func unitFiles(name string) func(*Snapshot) []string {
	return func(s *Snapshot) []string { return s.Units[name].Files() }
}

func one(get func(*Snapshot) string) func(*Snapshot) []string {
	return func(s *Snapshot) []string {
		if p := get(s); p != "" {
			return []string{p}
		}
		return nil
	}
}

var (
	dockerServiceFiles = dockerFiles{paths: unitFiles("docker.service"), absent: "docker.service is not installed",
		why: "whoever can write the unit or its drop-ins decides the daemon's command line"}
	dockerSocketUnitFiles = dockerFiles{paths: unitFiles("docker.socket"), absent: "docker.socket is not installed",
		why: "whoever can write the unit decides where and to whom the daemon's socket listens"}
	etcDockerDir = dockerFiles{paths: fixed("/etc/docker"), absent: "/etc/docker is not present",
		why: "the directory holds daemon.json, TLS keys and registry certificates"}
	registryCertFiles = dockerFiles{paths: func(s *Snapshot) []string { return s.Paths.RegistryCerts },
		absent: "no registry certificates in /etc/docker/certs.d",
		why:    "whoever can replace a registry's CA certificate can serve the daemon altered images"}
	tlsCAFile = dockerFiles{paths: one(func(s *Snapshot) string { return s.Paths.TLSCACert }),
		absent: "the daemon does not use TLS",
		why:    "whoever can replace the CA decides which client certificates the daemon accepts"}
	serverCertFile = dockerFiles{paths: one(func(s *Snapshot) string { return s.Paths.TLSCert }),
		absent: "the daemon does not use TLS",
		why:    "whoever can replace the server certificate can impersonate the daemon to its clients"}
	serverKeyFile = dockerFiles{paths: one(func(s *Snapshot) string { return s.Paths.TLSKey }),
		absent: "the daemon does not use TLS",
		why:    "whoever reads the private key can impersonate the daemon"}
	dockerSockets = dockerFiles{paths: func(s *Snapshot) []string { return s.Paths.DockerSockets },
		absent: "the daemon has no Unix socket",
		why:    "whoever can connect to the socket controls the daemon, which is root on the host"}
	daemonJSONFile = dockerFiles{paths: one(func(s *Snapshot) string { return s.Paths.DaemonJSON }),
		absent: "daemon.json is not present",
		why:    "whoever can write daemon.json decides how the daemon runs (hosts, TLS, registries)"}
	defaultDockerFile = dockerFiles{paths: fixed("/etc/default/docker"), absent: "/etc/default/docker is not present",
		why: "systemd and init scripts read the daemon's options from it"}
	sysconfigDockerFile = dockerFiles{paths: fixed("/etc/sysconfig/docker"), absent: "/etc/sysconfig/docker is not present",
		why: "systemd reads the daemon's options from it on Red Hat family hosts"}
	containerdSocketFiles = dockerFiles{paths: func(s *Snapshot) []string { return s.Paths.ContainerdSockets },
		absent: "no containerd socket is present",
		why:    "whoever can connect to containerd can run any container on the host as root"}
)

// existing returns the files that exist; it skips the check when none
// does, or when one cannot be looked at.
func (d dockerFiles) existing(p *Pass) []*File {
	var out []*File
	for _, q := range d.paths(p.Snap) {
		f := p.Snap.Files[q]
		switch {
		case f == nil || f.State == Absent:
		case f.State == Present:
			out = append(out, f)
		default:
			p.Skip("not checked: %s", notReadable(f))
			return nil
		}
	}
	if len(out) == 0 {
		p.Skip("not applicable: %s", d.absent)
	}
	return out
}

// ownedByRoot checks that files belong to root:root, or root:docker for
// the Docker socket.
type ownedByRoot struct {
	files dockerFiles
	// dockerGroup accepts the daemon's socket group (the Docker socket).
	dockerGroup bool
	// daemonOwned accepts a rootless daemon's user instead of root.
	daemonOwned bool
}

func (o ownedByRoot) check(p *Pass) {
	s := p.Snap
	owner := "root:root"
	if o.dockerGroup {
		owner = "root:docker"
	}
	wantUID := uint32(0)
	if o.daemonOwned && s.Rootless() && s.Daemon.PID != 0 {
		wantUID = uint32(s.Daemon.UID)
	}
	okGID := map[uint32]bool{0: true}
	if o.dockerGroup {
		if g := s.Users.Group(dockerGroup(s)); g != nil {
			okGID[uint32(g.GID)] = true
		}
	}
	if wantUID != 0 {
		okGID = nil // a rootless daemon's group is its user's
	}
	for _, f := range o.files.existing(p) {
		if f.UID != wantUID || okGID != nil && !okGID[f.GID] {
			p.ReportAt(f.Path, 0, "%s is owned by %s, not %s: %s.", f.Path, s.owner(f), owner, o.files.why)
		}
	}
}

// modeAtMost checks that files have no permission bit beyond perm.
type modeAtMost struct {
	files dockerFiles
	perm  fs.FileMode
}

func (m modeAtMost) check(p *Pass) {
	for _, f := range m.files.existing(p) {
		if extra := f.Perm() &^ m.perm; extra != 0 {
			p.ReportAt(f.Path, 0, "%s has mode %04o, more open than %04o: %s.", f.Path, f.Perm(), m.perm, m.files.why)
		}
	}
}

var ruleDockerServiceOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4301", Title: "Docker.service is not owned by root:root", CIS: "3.1",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "Docker.service must belong to root:root: whoever can write the unit or its drop-ins decides the daemon's command line. (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:root on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the docker.service file ownership is set to root:root",
	},
	Check: ownedByRoot{files: dockerServiceFiles}.check,
}

var ruleDockerServiceMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4302", Title: "Docker.service permissions are too open", CIS: "3.2",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "Docker.service must have mode 0644 or stricter: whoever can write the unit or its drop-ins decides the daemon's command line.",
		Remediation: "chmod 644 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that docker.service file permissions are appropriately set",
	},
	Check: modeAtMost{files: dockerServiceFiles, perm: 0o644}.check,
}

var ruleDockerSocketUnitOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4303", Title: "Docker.socket is not owned by root:root", CIS: "3.3",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "Docker.socket must belong to root:root: whoever can write the unit decides where and to whom the daemon's socket listens. (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:root on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that docker.socket file ownership is set to root:root",
	},
	Check: ownedByRoot{files: dockerSocketUnitFiles}.check,
}

var ruleDockerSocketUnitMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4304", Title: "Docker.socket permissions are too open", CIS: "3.4",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "Docker.socket must have mode 0644 or stricter: whoever can write the unit decides where and to whom the daemon's socket listens.",
		Remediation: "chmod 644 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that docker.socket file permissions are set to 644 or more restrictive",
	},
	Check: modeAtMost{files: dockerSocketUnitFiles, perm: 0o644}.check,
}

var ruleEtcDockerOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4305", Title: "/etc/docker is not owned by root:root", CIS: "3.5",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "/etc/docker must belong to root:root: the directory holds daemon.json, TLS keys and registry certificates. (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:root on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the /etc/docker directory ownership is set to root:root",
	},
	Check: ownedByRoot{files: etcDockerDir}.check,
}

var ruleEtcDockerMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4306", Title: "/etc/docker permissions are too open", CIS: "3.6",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "/etc/docker must have mode 0755 or stricter: the directory holds daemon.json, TLS keys and registry certificates.",
		Remediation: "chmod 755 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that /etc/docker directory permissions are set to 755 or more restrictively",
	},
	Check: modeAtMost{files: etcDockerDir, perm: 0o755}.check,
}

var ruleRegistryCertsOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4307", Title: "Registry certificates is not owned by root:root", CIS: "3.7",
		Practice: finding.PracticeRegistry, Severity: finding.Low,
		Description: "Registry certificates must belong to root:root: whoever can replace a registry's CA certificate can serve the daemon altered images. (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:root on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that registry certificate file ownership is set to root:root",
	},
	Check: ownedByRoot{files: registryCertFiles}.check,
}

var ruleRegistryCertsMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4308", Title: "Registry certificates permissions are too open", CIS: "3.8",
		Practice: finding.PracticeRegistry, Severity: finding.Low,
		Description: "Registry certificates must have mode 0444 or stricter: whoever can replace a registry's CA certificate can serve the daemon altered images.",
		Remediation: "chmod 444 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that registry certificate file permissions are set to 444 or more restrictively",
	},
	Check: modeAtMost{files: registryCertFiles, perm: 0o444}.check,
}

var ruleTLSCAOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4309", Title: "The TLS CA certificate is not owned by root:root", CIS: "3.9",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "The TLS CA certificate must belong to root:root: whoever can replace the CA decides which client certificates the daemon accepts. (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:root on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that TLS CA certificate file ownership is set to root:root",
	},
	Check: ownedByRoot{files: tlsCAFile}.check,
}

var ruleTLSCAMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4310", Title: "The TLS CA certificate permissions are too open", CIS: "3.10",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "The TLS CA certificate must have mode 0444 or stricter: whoever can replace the CA decides which client certificates the daemon accepts.",
		Remediation: "chmod 444 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that TLS CA certificate file permissions are set to 444 or more restrictively",
	},
	Check: modeAtMost{files: tlsCAFile, perm: 0o444}.check,
}

var ruleServerCertOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4311", Title: "The Docker server certificate is not owned by root:root", CIS: "3.11",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "The Docker server certificate must belong to root:root: whoever can replace the server certificate can impersonate the daemon to its clients. (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:root on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that Docker server certificate file ownership is set to root:root",
	},
	Check: ownedByRoot{files: serverCertFile}.check,
}

var ruleServerCertMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4312", Title: "The Docker server certificate permissions are too open", CIS: "3.12",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "The Docker server certificate must have mode 0444 or stricter: whoever can replace the server certificate can impersonate the daemon to its clients.",
		Remediation: "chmod 444 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the Docker server certificate file permissions are set to 444 or more restrictively",
	},
	Check: modeAtMost{files: serverCertFile, perm: 0o444}.check,
}

var ruleServerKeyOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4313", Title: "The Docker server key is not owned by root:root", CIS: "3.13",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "The Docker server key must belong to root:root: whoever reads the private key can impersonate the daemon. (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:root on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the Docker server certificate key file ownership is set to root:root",
	},
	Check: ownedByRoot{files: serverKeyFile}.check,
}

var ruleServerKeyMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4314", Title: "The Docker server key permissions are too open", CIS: "3.14",
		Practice: finding.PracticeDaemonSocket, Severity: finding.High,
		Description: "The Docker server key must have mode 0400 or stricter: whoever reads the private key can impersonate the daemon.",
		Remediation: "chmod 400 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the Docker server certificate key file permissions are set to 400",
	},
	Check: modeAtMost{files: serverKeyFile, perm: 0o400}.check,
}

var ruleDockerSockOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4315", Title: "The Docker socket is not owned by root:docker", CIS: "3.15",
		Practice: finding.PracticeDaemonSocket, Severity: finding.High,
		Description: "The Docker socket must belong to root:docker: whoever can connect to the socket controls the daemon, which is root on the host. (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:docker on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the Docker socket file ownership is set to root:docker",
	},
	Check: ownedByRoot{files: dockerSockets, dockerGroup: true, daemonOwned: true}.check,
}

var ruleDockerSockMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4316", Title: "The Docker socket permissions are too open", CIS: "3.16",
		Practice: finding.PracticeDaemonSocket, Severity: finding.High,
		Description: "The Docker socket must have mode 0660 or stricter: whoever can connect to the socket controls the daemon, which is root on the host.",
		Remediation: "chmod 660 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the Docker socket file permissions are set to 660 or more restrictively",
	},
	Check: modeAtMost{files: dockerSockets, perm: 0o660}.check,
}

var ruleDaemonJSONOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4317", Title: "Daemon.json is not owned by root:root", CIS: "3.17",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "Daemon.json must belong to root:root: whoever can write daemon.json decides how the daemon runs (hosts, TLS, registries). (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:root on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the daemon.json file ownership is set to root:root",
	},
	Check: ownedByRoot{files: daemonJSONFile, daemonOwned: true}.check,
}

var ruleDaemonJSONMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4318", Title: "Daemon.json permissions are too open", CIS: "3.18",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "Daemon.json must have mode 0644 or stricter: whoever can write daemon.json decides how the daemon runs (hosts, TLS, registries).",
		Remediation: "chmod 644 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that daemon.json file permissions are set to 644 or more restrictive",
	},
	Check: modeAtMost{files: daemonJSONFile, perm: 0o644}.check,
}

var ruleDefaultDockerOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4319", Title: "/etc/default/docker is not owned by root:root", CIS: "3.19",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "/etc/default/docker must belong to root:root: systemd and init scripts read the daemon's options from it. (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:root on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the /etc/default/docker file ownership is set to root:root",
	},
	Check: ownedByRoot{files: defaultDockerFile}.check,
}

var ruleDefaultDockerMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4320", Title: "/etc/default/docker permissions are too open", CIS: "3.20",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "/etc/default/docker must have mode 0644 or stricter: systemd and init scripts read the daemon's options from it.",
		Remediation: "chmod 644 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively",
	},
	Check: modeAtMost{files: defaultDockerFile, perm: 0o644}.check,
}

var ruleSysconfigDockerMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4321", Title: "/etc/sysconfig/docker permissions are too open", CIS: "3.21",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "/etc/sysconfig/docker must have mode 0644 or stricter: systemd reads the daemon's options from it on Red Hat family hosts.",
		Remediation: "chmod 644 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively",
	},
	Check: modeAtMost{files: sysconfigDockerFile, perm: 0o644}.check,
}

var ruleSysconfigDockerOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4322", Title: "/etc/sysconfig/docker is not owned by root:root", CIS: "3.22",
		Practice: finding.PracticeDaemonSocket, Severity: finding.Medium,
		Description: "/etc/sysconfig/docker must belong to root:root: systemd reads the daemon's options from it on Red Hat family hosts. (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:root on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the /etc/sysconfig/docker file ownership is set to root:root",
	},
	Check: ownedByRoot{files: sysconfigDockerFile}.check,
}

var ruleContainerdSockOwner = &Rule{
	Rule: finding.Rule{
		ID: "DV4323", Title: "The containerd socket is not owned by root:root", CIS: "3.23",
		Practice: finding.PracticeDaemonSocket, Severity: finding.High,
		Description: "The containerd socket must belong to root:root: whoever can connect to containerd can run any container on the host as root. (A rootless daemon's own files belong to its user.)",
		Remediation: "chown root:root on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the Containerd socket file ownership is set to root:root",
	},
	Check: ownedByRoot{files: containerdSocketFiles, daemonOwned: true}.check,
}

var ruleContainerdSockMode = &Rule{
	Rule: finding.Rule{
		ID: "DV4324", Title: "The containerd socket permissions are too open", CIS: "3.24",
		Practice: finding.PracticeDaemonSocket, Severity: finding.High,
		Description: "The containerd socket must have mode 0660 or stricter: whoever can connect to containerd can run any container on the host as root.",
		Remediation: "chmod 660 on the file.",
		References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
		Benchmark:   "Ensure that the Containerd socket file permissions are set to 660 or more restrictively",
	},
	Check: modeAtMost{files: containerdSocketFiles, perm: 0o660}.check,
}
