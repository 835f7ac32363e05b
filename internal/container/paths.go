package container

import (
	"path"
	"regexp"
	"strings"
)

// HostPath normalises a host path as the Engine would read it: repeated
// slashes collapsed ("//var/run/docker.sock" from Docker Desktop on
// Windows), ".." resolved, a home directory written as "~" whether it was
// "~", "$HOME" or "${HOME}". Windows named pipes keep their form
// ("//./pipe/docker_engine"). A path relative to a project ("./data") or
// with other variables is returned as written; IsAbsHost tells which.
func HostPath(p string) string {
	p = strings.TrimSpace(p)
	if p == "" {
		return ""
	}
	slashed := strings.ReplaceAll(p, `\`, "/")
	if strings.HasPrefix(slashed, "//./pipe/") || strings.HasPrefix(slashed, "//?/pipe/") {
		return "//./pipe/" + strings.ToLower(slashed[len("//./pipe/"):])
	}
	for _, home := range []string{"${HOME}", "$HOME", "~"} {
		if rest, ok := strings.CutPrefix(p, home); ok && (rest == "" || rest[0] == '/') {
			return "~" + cleanRest(rest)
		}
	}
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return p
}

func cleanRest(rest string) string {
	if rest == "" || rest == "/" {
		return ""
	}
	return path.Clean(rest)
}

// IsAbsHost reports whether a normalised host path names a fixed place on
// the host (not a project-relative path or one that depends on a
// variable).
func IsAbsHost(p string) bool {
	if strings.Contains(p, "$") {
		return false
	}
	return strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~")
}

// socketNames are the API sockets of container engines: whoever can talk
// to one controls every container and, through them, the host.
var socketNames = map[string]bool{
	"docker.sock": true, "docker.sock.raw": true, "containerd.sock": true, "podman.sock": true,
	"crio.sock": true, "cri-dockerd.sock": true, "buildkitd.sock": true, "dockershim.sock": true,
}

// socketDirs hold an engine socket: mounting the directory mounts the socket.
var socketDirs = map[string]string{
	"/": "/var/run/docker.sock", "/var": "/var/run/docker.sock", "/run": "/run/docker.sock", "/var/run": "/var/run/docker.sock",
	"/var/run/docker": "/var/run/docker/containerd/containerd.sock", "/run/docker": "/run/docker/containerd/containerd.sock",
	"/run/containerd": "/run/containerd/containerd.sock", "/var/run/containerd": "/var/run/containerd/containerd.sock",
	"/run/podman": "/run/podman/podman.sock", "/var/run/podman": "/var/run/podman/podman.sock",
}

// EngineSocket reports whether a normalised host path is, or is a
// directory that holds, a container engine's API socket, and names the
// socket.
func EngineSocket(p string) (string, bool) {
	if strings.HasPrefix(p, "//./pipe/") {
		if strings.Contains(p, "docker") || strings.Contains(p, "containerd") || strings.Contains(p, "podman") {
			return p, true
		}
		return "", false
	}
	if !IsAbsHost(p) {
		return "", false
	}
	if socketNames[path.Base(p)] {
		return p, true
	}
	if s, ok := socketDirs[p]; ok {
		return s, true
	}
	return "", false
}

// sensitiveTrees are host directories whose content, or anything below
// them, must not reach a container.
var sensitiveTrees = []string{"/etc", "/proc", "/sys", "/boot", "/dev", "/root",
	"/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet", "/var/lib/rancher", "/etc/kubernetes"}

// sensitiveDirs are sensitive as a whole: the system's programs and
// libraries, every user's home.
var sensitiveDirs = map[string]bool{"/": true, "/usr": true, "/lib": true, "/lib64": true, "/bin": true, "/sbin": true,
	"/var": true, "/var/lib": true, "/var/log": true, "/home": true, "/Users": true, "/run": true, "/var/run": true, "~": true}

// benignReadOnly are files under sensitive trees that containers commonly
// read and that hold nothing secret: the clock and the public CA store.
var benignReadOnly = []string{"/etc/localtime", "/etc/timezone", "/etc/ssl/certs", "/etc/ca-certificates", "/etc/pki/ca-trust",
	"/etc/pki/tls/certs", "/etc/machine-id", "/etc/os-release", "/usr/share/zoneinfo", "/usr/share/ca-certificates"}

// credentialDirs are places in a home directory that hold credentials.
var credentialDirs = []string{".ssh", ".aws", ".azure", ".docker", ".kube", ".gnupg", ".config/gcloud", ".netrc",
	".git-credentials", ".npmrc", ".pypirc", ".vault-token", ".password-store", ".terraform.d"}

var homeRe = regexp.MustCompile(`^(?:~|/home/[^/]+|/Users/[^/]+|/root)(/.*)?$`)

// SensitiveHostPath reports why a normalised host path is sensitive, or ""
// when it is not. readOnly lets through a few files that are harmless to
// read.
func SensitiveHostPath(p string, readOnly bool) string {
	if !IsAbsHost(p) {
		return ""
	}
	if readOnly {
		for _, b := range benignReadOnly {
			if p == b || strings.HasPrefix(p, b+"/") {
				return ""
			}
		}
	}
	if m := homeRe.FindStringSubmatch(p); m != nil {
		rest := strings.TrimPrefix(m[1], "/")
		if rest == "" {
			return "a home directory"
		}
		for _, c := range credentialDirs {
			if rest == c || strings.HasPrefix(rest, c+"/") {
				return "a credential directory"
			}
		}
		if !strings.HasPrefix(p, "/root") {
			return "" // a project or data directory under someone's home
		}
	}
	if sensitiveDirs[p] {
		if p == "/" {
			return "the host's root filesystem"
		}
		return "a host system directory"
	}
	for _, t := range sensitiveTrees {
		if p == t || strings.HasPrefix(p, t+"/") {
			return "a host system directory"
		}
	}
	return ""
}
