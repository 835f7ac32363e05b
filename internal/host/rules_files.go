package host

import (
	"fmt"
	"io/fs"

	"github.com/dockvet/dockvet/internal/finding"
)

// Section 3 of the CIS Docker Benchmark: owners and modes of the daemon's
// files and sockets. Each file pair of the benchmark (ownership, then
// permissions) is a row of fileChecks; the rules are made from it.

type fileCheck struct {
	what                string
	ownID, ownCIS       string
	permID, permCIS     string
	paths               func(s *Snapshot) []string
	absent              string // why the check does not apply when no path exists
	perm                fs.FileMode
	socketGroup         bool // the Docker socket: group docker (or root)
	daemonOwned         bool // a rootless daemon owns it instead of root
	ownSev, permSev     finding.Severity
	practice            finding.Practice
	ownBench, permBench string
	why                 string // what an attacker gains, for the description
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

var fileChecks = []fileCheck{
	{what: "docker.service", ownID: "DV4301", ownCIS: "3.1", permID: "DV4302", permCIS: "3.2",
		paths: unitFiles("docker.service"), absent: "docker.service is not installed", perm: 0o644,
		ownSev: finding.Medium, permSev: finding.Medium, practice: finding.PracticeDaemonSocket,
		ownBench:  "Ensure that the docker.service file ownership is set to root:root",
		permBench: "Ensure that docker.service file permissions are appropriately set",
		why:       "whoever can write the unit or its drop-ins decides the daemon's command line"},
	{what: "docker.socket", ownID: "DV4303", ownCIS: "3.3", permID: "DV4304", permCIS: "3.4",
		paths: unitFiles("docker.socket"), absent: "docker.socket is not installed", perm: 0o644,
		ownSev: finding.Medium, permSev: finding.Medium, practice: finding.PracticeDaemonSocket,
		ownBench:  "Ensure that docker.socket file ownership is set to root:root",
		permBench: "Ensure that docker.socket file permissions are set to 644 or more restrictive",
		why:       "whoever can write the unit decides where and to whom the daemon's socket listens"},
	{what: "/etc/docker", ownID: "DV4305", ownCIS: "3.5", permID: "DV4306", permCIS: "3.6",
		paths: fixed("/etc/docker"), absent: "/etc/docker is not present", perm: 0o755,
		ownSev: finding.Medium, permSev: finding.Medium, practice: finding.PracticeDaemonSocket,
		ownBench:  "Ensure that the /etc/docker directory ownership is set to root:root",
		permBench: "Ensure that /etc/docker directory permissions are set to 755 or more restrictively",
		why:       "the directory holds daemon.json, TLS keys and registry certificates"},
	{what: "registry certificates", ownID: "DV4307", ownCIS: "3.7", permID: "DV4308", permCIS: "3.8",
		paths:  func(s *Snapshot) []string { return s.Paths.RegistryCerts },
		absent: "no registry certificates in /etc/docker/certs.d", perm: 0o444,
		ownSev: finding.Low, permSev: finding.Low, practice: finding.PracticeRegistry,
		ownBench:  "Ensure that registry certificate file ownership is set to root:root",
		permBench: "Ensure that registry certificate file permissions are set to 444 or more restrictively",
		why:       "whoever can replace a registry's CA certificate can serve the daemon altered images"},
	{what: "the TLS CA certificate", ownID: "DV4309", ownCIS: "3.9", permID: "DV4310", permCIS: "3.10",
		paths:  one(func(s *Snapshot) string { return s.Paths.TLSCACert }),
		absent: "the daemon does not use TLS", perm: 0o444,
		ownSev: finding.Medium, permSev: finding.Medium, practice: finding.PracticeDaemonSocket,
		ownBench:  "Ensure that TLS CA certificate file ownership is set to root:root",
		permBench: "Ensure that TLS CA certificate file permissions are set to 444 or more restrictively",
		why:       "whoever can replace the CA decides which client certificates the daemon accepts"},
	{what: "the Docker server certificate", ownID: "DV4311", ownCIS: "3.11", permID: "DV4312", permCIS: "3.12",
		paths:  one(func(s *Snapshot) string { return s.Paths.TLSCert }),
		absent: "the daemon does not use TLS", perm: 0o444,
		ownSev: finding.Medium, permSev: finding.Medium, practice: finding.PracticeDaemonSocket,
		ownBench:  "Ensure that Docker server certificate file ownership is set to root:root",
		permBench: "Ensure that the Docker server certificate file permissions are set to 444 or more restrictively",
		why:       "whoever can replace the server certificate can impersonate the daemon to its clients"},
	{what: "the Docker server key", ownID: "DV4313", ownCIS: "3.13", permID: "DV4314", permCIS: "3.14",
		paths:  one(func(s *Snapshot) string { return s.Paths.TLSKey }),
		absent: "the daemon does not use TLS", perm: 0o400,
		ownSev: finding.Medium, permSev: finding.High, practice: finding.PracticeDaemonSocket,
		ownBench:  "Ensure that the Docker server certificate key file ownership is set to root:root",
		permBench: "Ensure that the Docker server certificate key file permissions are set to 400",
		why:       "whoever reads the private key can impersonate the daemon"},
	{what: "the Docker socket", ownID: "DV4315", ownCIS: "3.15", permID: "DV4316", permCIS: "3.16",
		paths:  func(s *Snapshot) []string { return s.Paths.DockerSockets },
		absent: "the daemon has no Unix socket", perm: 0o660, socketGroup: true, daemonOwned: true,
		ownSev: finding.High, permSev: finding.High, practice: finding.PracticeDaemonSocket,
		ownBench:  "Ensure that the Docker socket file ownership is set to root:docker",
		permBench: "Ensure that the Docker socket file permissions are set to 660 or more restrictively",
		why:       "whoever can connect to the socket controls the daemon, which is root on the host"},
	{what: "daemon.json", ownID: "DV4317", ownCIS: "3.17", permID: "DV4318", permCIS: "3.18",
		paths:  one(func(s *Snapshot) string { return s.Paths.DaemonJSON }),
		absent: "daemon.json is not present", perm: 0o644, daemonOwned: true,
		ownSev: finding.Medium, permSev: finding.Medium, practice: finding.PracticeDaemonSocket,
		ownBench:  "Ensure that the daemon.json file ownership is set to root:root",
		permBench: "Ensure that daemon.json file permissions are set to 644 or more restrictive",
		why:       "whoever can write daemon.json decides how the daemon runs (hosts, TLS, registries)"},
	{what: "/etc/default/docker", ownID: "DV4319", ownCIS: "3.19", permID: "DV4320", permCIS: "3.20",
		paths: fixed("/etc/default/docker"), absent: "/etc/default/docker is not present", perm: 0o644,
		ownSev: finding.Medium, permSev: finding.Medium, practice: finding.PracticeDaemonSocket,
		ownBench:  "Ensure that the /etc/default/docker file ownership is set to root:root",
		permBench: "Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively",
		why:       "systemd and init scripts read the daemon's options from it"},
	{what: "/etc/sysconfig/docker", ownID: "DV4322", ownCIS: "3.22", permID: "DV4321", permCIS: "3.21",
		paths: fixed("/etc/sysconfig/docker"), absent: "/etc/sysconfig/docker is not present", perm: 0o644,
		ownSev: finding.Medium, permSev: finding.Medium, practice: finding.PracticeDaemonSocket,
		ownBench:  "Ensure that the /etc/sysconfig/docker file ownership is set to root:root",
		permBench: "Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively",
		why:       "systemd reads the daemon's options from it on Red Hat family hosts"},
	{what: "the containerd socket", ownID: "DV4323", ownCIS: "3.23", permID: "DV4324", permCIS: "3.24",
		paths:  func(s *Snapshot) []string { return s.Paths.ContainerdSockets },
		absent: "no containerd socket is present", perm: 0o660, daemonOwned: true,
		ownSev: finding.High, permSev: finding.High, practice: finding.PracticeDaemonSocket,
		ownBench:  "Ensure that the Containerd socket file ownership is set to root:root",
		permBench: "Ensure that the Containerd socket file permissions are set to 660 or more restrictively",
		why:       "whoever can connect to containerd can run any container on the host as root"},
}

// fileTargets returns the files of a check that exist; it skips the check
// when none does, or when one cannot be looked at.
func (p *Pass) fileTargets(fc fileCheck) []*File {
	var out []*File
	for _, q := range fc.paths(p.Snap) {
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
		p.Skip("not applicable: %s", fc.absent)
	}
	return out
}

func init() {
	for _, fc := range fileChecks {
		fc := fc
		owner := "root:root"
		if fc.socketGroup {
			owner = "root:docker"
		}
		rule(&Rule{
			Rule: finding.Rule{
				ID: fc.ownID, Title: capitalize(fc.what) + " is not owned by " + owner, CIS: fc.ownCIS,
				Practice: fc.practice, Severity: fc.ownSev,
				Description: fmt.Sprintf("%s must belong to %s: %s. (A rootless daemon's own files belong to its user.)", capitalize(fc.what), owner, fc.why),
				Remediation: fmt.Sprintf("chown %s on the file.", owner),
				References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
			},
			Benchmark: fc.ownBench,
			Section:   sectionFiles,
			Check: func(p *Pass) {
				s := p.Snap
				wantUID := uint32(0)
				if fc.daemonOwned && s.Rootless() && s.Daemon.PID != 0 {
					wantUID = uint32(s.Daemon.UID)
				}
				okGID := map[uint32]bool{0: true}
				if fc.socketGroup {
					if g := s.Users.Group(dockerGroup(s)); g != nil {
						okGID[uint32(g.GID)] = true
					}
				}
				if wantUID != 0 {
					okGID = nil // a rootless daemon's group is its user's
				}
				for _, f := range p.fileTargets(fc) {
					if f.UID != wantUID || okGID != nil && !okGID[f.GID] {
						p.ReportAt(f.Path, 0, "%s is owned by %s, not %s: %s.", f.Path, s.owner(f), owner, fc.why)
					}
				}
			},
		})
		rule(&Rule{
			Rule: finding.Rule{
				ID: fc.permID, Title: capitalize(fc.what) + " permissions are too open", CIS: fc.permCIS,
				Practice: fc.practice, Severity: fc.permSev,
				Description: fmt.Sprintf("%s must have mode %04o or stricter: %s.", capitalize(fc.what), fc.perm, fc.why),
				Remediation: fmt.Sprintf("chmod %o on the file.", fc.perm),
				References:  []string{"https://docs.docker.com/engine/security/protect-access/"},
			},
			Benchmark: fc.permBench,
			Section:   sectionFiles,
			Check: func(p *Pass) {
				for _, f := range p.fileTargets(fc) {
					if extra := f.Perm() &^ fc.perm; extra != 0 {
						p.ReportAt(f.Path, 0, "%s has mode %04o, more open than %04o: %s.", f.Path, f.Perm(), fc.perm, fc.why)
					}
				}
			},
		})
	}
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
