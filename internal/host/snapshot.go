// Package host audits a Docker host. Collect reads everything the checks
// need once — the Engine's /info and /version, the running daemon's flags
// merged with daemon.json, systemd units, owners and modes of Docker's
// files and sockets, audit rules, the docker group, the kernel, the users'
// client configuration, the running containers — into a Snapshot, a plain
// value. The rules are functions over that value: they never touch the
// system, so every rule is tested against fixture trees and recorded Engine
// answers, and the same rules run against a live host.
package host

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/plugin"
	"github.com/moby/moby/api/types/system"

	"github.com/dockvet/dockvet/internal/live"
)

// Snapshot is one reading of a Docker host.
type Snapshot struct {
	// Root is the directory the host's files were read from ("/" live).
	Root string `json:"root"`
	// Taken is when the snapshot was read.
	Taken time.Time `json:"taken"`
	// Env holds the auditing user's Docker client variables
	// (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH,
	// DOCKER_CONTENT_TRUST, DOCKER_CONFIG) and HOME.
	Env map[string]string `json:"env,omitempty"`

	// Engine is what the Engine API answered; nil when it was not asked
	// or not reachable (EngineErr says which).
	Engine    *Engine `json:"engine,omitempty"`
	EngineErr string  `json:"engineErr,omitempty"`

	// Daemon is the running dockerd and its effective configuration.
	Daemon Daemon `json:"daemon"`
	// Units are the systemd units of Docker and containerd, by unit name
	// ("docker.service", "docker.socket", "containerd.service",
	// "containerd.socket"); a unit that is not installed is absent.
	Units map[string]*Unit `json:"units,omitempty"`
	// EnvFiles are /etc/default/docker and /etc/sysconfig/docker, parsed.
	EnvFiles map[string]map[string]string `json:"envFiles,omitempty"`
	// Files holds the owner, mode and presence of every file and directory
	// a check looks at, by host path.
	Files map[string]*File `json:"files,omitempty"`
	// Paths names the files the checks look at, by role.
	Paths Paths `json:"paths"`
	// Resolved maps paths that lead through symbolic links to the file
	// they name (/var/run/docker.sock -> /run/docker.sock).
	Resolved map[string]string `json:"resolved,omitempty"`

	Audit   Audit     `json:"audit"`
	Users   Users     `json:"users"`
	Kernel  Kernel    `json:"kernel"`
	OS      OSRelease `json:"os"`
	Mounts  Mounts    `json:"mounts"`
	Network Listeners `json:"network"`
	// Packages are the Docker packages the distribution's package
	// database lists (docker.io, docker-ce, containerd, containerd.io,
	// runc), by package name.
	Packages map[string]Package `json:"packages,omitempty"`
	// ClientConfigs are the users' ~/.docker/config.json files.
	ClientConfigs []ClientConfig `json:"clientConfigs,omitempty"`

	// Problems are inputs that exist but could not be understood (a
	// daemon.json that is not JSON). They make the audit incomplete.
	Problems []Problem `json:"problems,omitempty"`
}

// resolve returns the path a host path leads to.
func (s *Snapshot) resolve(p string) string {
	if r, ok := s.Resolved[p]; ok {
		return r
	}
	return p
}

// Problem is a malformed input.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Engine is the Engine API's view of the daemon, in the API's own types.
type Engine struct {
	Info    system.Info            `json:"info"`
	Version system.VersionResponse `json:"version"`
	Plugins []plugin.Plugin        `json:"plugins,omitempty"`
	// Networks are the daemon's networks (the default bridge's options
	// say whether inter-container communication is on; overlay networks
	// say whether they are encrypted).
	Networks []network.Summary `json:"networks,omitempty"`
	// Containers are the running containers, sorted by name, with what
	// the container rules (CIS section 5) and the image rules (4.1, 4.6,
	// 5.28) read.
	Containers []Container `json:"containers,omitempty"`
}

// Container is one running container as the Engine describes it: the
// data live.Audit judges (its inspect data, its image's, the image its tag
// names now, the volumes it mounts) and what only a running container
// has: its processes and exec sessions.
type Container struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	live.Container
	// ImageErr says why the image data is missing when the Engine did not
	// answer (a removed image is not an error: Image is then nil).
	ImageErr string `json:"imageErr,omitempty"`
	// Processes are what `docker top` lists (GET /containers/ID/top, the
	// Engine runs ps on the host); nil when ProcessesErr says why not.
	Processes    []Process `json:"processes"`
	ProcessesErr string    `json:"processesErr,omitempty"`
	// Execs are the exec instances the Engine holds for the container
	// (Inspect.ExecIDs: created and not yet started, or running; the
	// Engine forgets a session's entry here when it ends), read whole from
	// GET /exec/ID/json.
	Execs    []container.ExecInspectResponse `json:"execs,omitempty"`
	ExecsErr string                          `json:"execsErr,omitempty"`
}

// Process is one process of a container, as ps on the host shows it.
type Process struct {
	PID     string `json:"pid"`
	User    string `json:"user"`
	Command string `json:"command"`
}

// FileState says whether a file could be looked at.
type FileState int

// File states. Only Present carries owner and mode.
const (
	Absent FileState = iota
	Present
	Denied
	Unreadable // any other error: Err says which
)

func (s FileState) String() string {
	switch s {
	case Present:
		return "present"
	case Denied:
		return "permission denied"
	case Unreadable:
		return "unreadable"
	}
	return "not present"
}

// MarshalText writes the state's name.
func (s FileState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name, so a snapshot written as JSON reads
// back as the same snapshot.
func (s *FileState) UnmarshalText(b []byte) error {
	for _, st := range []FileState{Absent, Present, Denied, Unreadable} {
		if st.String() == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("unknown file state %q", b)
}

// File is the metadata of one file on the host.
type File struct {
	Path  string      `json:"path"`
	State FileState   `json:"state"`
	Err   string      `json:"err,omitempty"`
	Mode  fs.FileMode `json:"mode,omitempty"`
	UID   uint32      `json:"uid"`
	GID   uint32      `json:"gid"`
}

// Perm is the permission bits of the file.
func (f *File) Perm() fs.FileMode { return f.Mode.Perm() }

// Paths are the host paths the checks look at, decided while collecting
// (from the daemon's configuration, its units and the usual places).
type Paths struct {
	DaemonJSON    string   `json:"daemonJson"`
	DataRoot      string   `json:"dataRoot"`
	DockerSockets []string `json:"dockerSockets,omitempty"`
	// ContainerdSockets are the containerd sockets that exist: the
	// system containerd's and the one dockerd starts itself.
	ContainerdSockets []string `json:"containerdSockets,omitempty"`
	TLSCACert         string   `json:"tlsCACert,omitempty"`
	TLSCert           string   `json:"tlsCert,omitempty"`
	TLSKey            string   `json:"tlsKey,omitempty"`
	RegistryCerts     []string `json:"registryCerts,omitempty"`
	// Binaries are the Docker binaries found, by name (dockerd,
	// containerd, containerd-shim, containerd-shim-runc-v1,
	// containerd-shim-runc-v2, runc).
	Binaries map[string]string `json:"binaries,omitempty"`
}

// Daemon is the running dockerd and the configuration it runs with.
type Daemon struct {
	// PID is the daemon's process ID; 0 when no dockerd process was found.
	PID int `json:"pid,omitempty"`
	// UID is the user the daemon runs as.
	UID int `json:"uid"`
	// Exe is the daemon's executable.
	Exe string `json:"exe,omitempty"`
	// Args is the daemon's command line: its process's when found,
	// else docker.service's ExecStart with environment files expanded.
	Args []string `json:"args,omitempty"`
	// ArgsFrom says where Args came from ("/proc/123/cmdline",
	// "/lib/systemd/system/docker.service").
	ArgsFrom string `json:"argsFrom,omitempty"`
	// Environ holds DOCKER_* variables of the daemon's environment
	// (they set TLS defaults).
	Environ map[string]string `json:"environ,omitempty"`
	// SocketInodes are the inodes of the sockets the daemon holds open,
	// to tell its TCP listeners from other programs'.
	SocketInodes []uint64 `json:"socketInodes,omitempty"`
	// Config is the effective configuration: flags and daemon.json merged
	// as dockerd merges them.
	Config DaemonConfig `json:"config"`
	// NotChecked says why the daemon's command line is unknown.
	NotChecked string `json:"notChecked,omitempty"`
}
