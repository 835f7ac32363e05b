package inventory

import (
	"bufio"
	"bytes"
	"io/fs"
	"strconv"
	"strings"
)

// OS is the distribution a filesystem was built from.
type OS struct {
	// ID and VersionID are os-release's ID and VERSION_ID ("debian", "12").
	ID         string `json:"id"`
	VersionID  string `json:"versionId,omitempty"`
	PrettyName string `json:"prettyName,omitempty"`
	// Distroless marks Google's distroless images: Debian packages
	// recorded one file per package in /var/lib/dpkg/status.d.
	Distroless bool `json:"distroless,omitempty"`
	// LTS marks an Ubuntu long-term-support release.
	LTS bool `json:"lts,omitempty"`
	// Path is the file the OS was read from.
	Path string `json:"path"`
}

// osFiles are the files OSDetector reads, most authoritative first.
var osFiles = []string{"etc/os-release", "usr/lib/os-release", "etc/alpine-release", "etc/debian_version"}

// OSDetector recognises the distribution from its release files.
type OSDetector struct{}

// Required reports whether path is one of the release files.
func (OSDetector) Required(path string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size > 64<<10 {
		return false
	}
	return osFileRank(path) >= 0
}

func osFileRank(path string) int {
	for i, f := range osFiles {
		if path == f {
			return i
		}
	}
	return -1
}

// Detect reads one release file. It returns nil when the file names no
// distribution.
func (OSDetector) Detect(in Input) (*OS, error) {
	b, err := readAll(in.Reader, 64<<10)
	if err != nil {
		return nil, err
	}
	var o *OS
	switch in.Path {
	case "etc/alpine-release":
		v := strings.TrimSpace(string(b))
		if v == "" {
			return nil, nil
		}
		o = &OS{ID: "alpine", VersionID: v}
	case "etc/debian_version":
		v := strings.TrimSpace(string(b))
		// Testing and unstable say "trixie/sid": no release to match.
		if v == "" || !isDigit(v[0]) {
			return nil, nil
		}
		o = &OS{ID: "debian", VersionID: v}
	default:
		o = parseOSRelease(b)
	}
	if o == nil {
		return nil, nil
	}
	o.Path = in.Path
	return o, nil
}

// parseOSRelease reads the os-release(5) format: KEY=value lines, values
// optionally quoted with shell-style escapes.
func parseOSRelease(b []byte) *OS {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil && len(v) > 1 && v[0] == '"' {
			v = u
		} else {
			v = strings.Trim(v, `"'`)
		}
		kv[k] = v
	}
	if kv["ID"] == "" {
		return nil
	}
	o := &OS{ID: strings.ToLower(kv["ID"]), VersionID: kv["VERSION_ID"], PrettyName: kv["PRETTY_NAME"]}
	o.Distroless = strings.Contains(o.PrettyName, "Distroless")
	o.LTS = strings.Contains(kv["VERSION"], "LTS")
	return o
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// major is the part of a version before the first dot.
func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}

// Ecosystem is the OSV ecosystem of the distribution's packages, with
// its release, or "" when dockvet cannot name it exactly (a guess would
// match advisories of another release).
func (o *OS) Ecosystem() string {
	if o == nil || o.VersionID == "" && o.ID != "wolfi" && o.ID != "chainguard" && o.ID != "opensuse-tumbleweed" {
		return ""
	}
	switch o.ID {
	case "debian":
		return "Debian:" + major(o.VersionID)
	case "ubuntu":
		if o.LTS {
			return "Ubuntu:" + o.VersionID + ":LTS"
		}
		return "Ubuntu:" + o.VersionID
	case "alpine":
		parts := strings.SplitN(o.VersionID, ".", 3)
		if len(parts) < 2 {
			return ""
		}
		// Edge is "3.21_alpha20240807": the branch it will become.
		minor := strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
		if i := strings.IndexFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			minor = parts[1][:i]
		}
		if minor == "" {
			return ""
		}
		return "Alpine:v" + parts[0] + "." + minor
	case "wolfi":
		return "Wolfi"
	case "chainguard":
		return "Chainguard"
	case "rocky":
		return "Rocky Linux:" + major(o.VersionID)
	case "almalinux":
		return "AlmaLinux:" + major(o.VersionID)
	case "mageia":
		return "Mageia:" + o.VersionID
	case "photon":
		return "Photon OS:" + o.VersionID
	case "opensuse-leap", "opensuse-tumbleweed":
		// The openSUSE and SUSE ecosystems carry os-release's PRETTY_NAME.
		if o.PrettyName != "" {
			return "openSUSE:" + o.PrettyName
		}
	case "sles":
		if o.PrettyName != "" {
			return "SUSE:" + o.PrettyName
		}
	}
	return ""
}

// purlNamespace is the vendor namespace of OS package purls.
func (o *OS) purlNamespace(typ string) string {
	if o != nil && o.ID != "" {
		switch o.ID {
		case "rhel":
			return "redhat"
		case "opensuse-leap", "opensuse-tumbleweed", "sles":
			return "opensuse"
		}
		return o.ID
	}
	switch typ {
	case TypeDeb:
		return "debian"
	case TypeApk:
		return "alpine"
	}
	return ""
}

// distro is the purl "distro" qualifier: ID-VERSION_ID.
func (o *OS) distro() string {
	if o == nil || o.ID == "" {
		return ""
	}
	if o.VersionID == "" {
		return o.ID
	}
	return o.ID + "-" + o.VersionID
}
