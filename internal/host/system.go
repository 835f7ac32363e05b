package host

import (
	"encoding/hex"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Users are the local accounts and groups (/etc/passwd, /etc/group).
// Accounts from NSS sources (LDAP, SSSD) are not included.
type Users struct {
	Passwd     []User  `json:"passwd,omitempty"`
	Groups     []Group `json:"groups,omitempty"`
	NotChecked string  `json:"notChecked,omitempty"`
}

// User is one /etc/passwd entry.
type User struct {
	Name string `json:"name"`
	UID  int    `json:"uid"`
	GID  int    `json:"gid"`
	Home string `json:"home"`
}

// Group is one /etc/group entry.
type Group struct {
	Name    string   `json:"name"`
	GID     int      `json:"gid"`
	Members []string `json:"members,omitempty"`
}

func parsePasswd(data string) []User {
	var out []User
	for _, l := range strings.Split(data, "\n") {
		f := strings.Split(strings.TrimSpace(l), ":")
		if len(f) < 7 || strings.HasPrefix(f[0], "#") || f[0] == "" {
			continue
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, User{Name: f[0], UID: uid, GID: gid, Home: f[5]})
	}
	return out
}

func parseGroup(data string) []Group {
	var out []Group
	for _, l := range strings.Split(data, "\n") {
		f := strings.Split(strings.TrimSpace(l), ":")
		if len(f) < 4 || strings.HasPrefix(f[0], "#") || f[0] == "" {
			continue
		}
		gid, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		g := Group{Name: f[0], GID: gid}
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				g.Members = append(g.Members, m)
			}
		}
		out = append(out, g)
	}
	return out
}

// Group returns the group of a name, or nil.
func (u *Users) Group(name string) *Group {
	for i := range u.Groups {
		if u.Groups[i].Name == name {
			return &u.Groups[i]
		}
	}
	return nil
}

// UserName names a UID ("uid 1000" when it has no account).
func (u *Users) UserName(uid uint32) string {
	for _, p := range u.Passwd {
		if p.UID == int(uid) {
			return p.Name
		}
	}
	return "uid " + strconv.Itoa(int(uid))
}

// GroupName names a GID ("gid 1000" when it has no group).
func (u *Users) GroupName(gid uint32) string {
	for _, g := range u.Groups {
		if g.GID == int(gid) {
			return g.Name
		}
	}
	return "gid " + strconv.Itoa(int(gid))
}

// Kernel is the running kernel's release and the upstream version it
// corresponds to.
type Kernel struct {
	// Release is `uname -r`.
	Release string `json:"release,omitempty"`
	// ProcVersion is /proc/version; Signature is Ubuntu's
	// /proc/version_signature.
	ProcVersion string `json:"procVersion,omitempty"`
	Signature   string `json:"signature,omitempty"`
	// Upstream is the kernel.org version the release is built from, when
	// it can be known; UpstreamFrom says how it was found.
	Upstream     string `json:"upstream,omitempty"`
	UpstreamFrom string `json:"upstreamFrom,omitempty"`
	// NotChecked says why Upstream is unknown.
	NotChecked string `json:"notChecked,omitempty"`
}

var (
	kernelVersionRe = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`)
	// Debian's /proc/version ends with the package version:
	// "... #1 SMP Debian 5.10.209-2 (2024-01-31)"; the compiler's
	// "(Debian 10.2.1-6)" comes earlier, so the last match counts.
	debianKernelRe = regexp.MustCompile(`\bDebian (\d+\.\d+\.\d+)`)
	// Debian and Ubuntu name kernels by ABI: 5.10.0-28-amd64,
	// 5.15.0-91-generic. The ".0" is not the upstream patch level.
	abiReleaseRe = regexp.MustCompile(`^\d+\.\d+\.0-\d+[-.]`)
	// Red Hat family releases: 4.18.0-513.el8.x86_64.
	elReleaseRe = regexp.MustCompile(`\.el\d+`)
)

// parseKernel finds the upstream version of a kernel release. Vendor
// kernels are named by ABI, not by upstream version, so the release alone
// is trusted only when it does not look like a vendor's; Debian's and
// Ubuntu's own files say which upstream release a package is built from.
// Red Hat's kernels carry backports under an old version number, so no
// upstream version is claimed for them.
func parseKernel(release, procVersion, signature string) Kernel {
	k := Kernel{Release: strings.TrimSpace(release), ProcVersion: strings.TrimSpace(procVersion), Signature: strings.TrimSpace(signature)}
	if f := strings.Fields(k.Signature); len(f) >= 3 && kernelVersionRe.MatchString(f[len(f)-1]) {
		k.Upstream, k.UpstreamFrom = kernelVersionRe.FindString(f[len(f)-1]), "/proc/version_signature"
		return k
	}
	if all := debianKernelRe.FindAllStringSubmatch(k.ProcVersion, -1); len(all) > 0 && strings.Contains(k.ProcVersion, "SMP Debian ") {
		k.Upstream, k.UpstreamFrom = all[len(all)-1][1], "/proc/version"
		return k
	}
	switch {
	case k.Release == "":
		k.NotChecked = "the kernel release is unknown"
	case elReleaseRe.MatchString(k.Release):
		k.NotChecked = "kernel " + k.Release + " is a Red Hat family build whose version does not tell which upstream fixes it carries; check the vendor's advisories"
	case abiReleaseRe.MatchString(k.Release):
		k.NotChecked = "kernel " + k.Release + " is named by its distribution ABI, and neither /proc/version nor /proc/version_signature names its upstream version"
	default:
		m := kernelVersionRe.FindStringSubmatch(k.Release)
		if m == nil {
			k.NotChecked = "kernel release " + k.Release + " is not a version"
			return k
		}
		k.Upstream, k.UpstreamFrom = m[0], "the kernel release"
		if m[3] == "" {
			k.Upstream += ".0"
		}
	}
	return k
}

// OSRelease is /etc/os-release.
type OSRelease struct {
	ID         string `json:"id,omitempty"`
	IDLike     string `json:"idLike,omitempty"`
	VersionID  string `json:"versionId,omitempty"`
	PrettyName string `json:"prettyName,omitempty"`
}

func parseOSRelease(data string) OSRelease {
	env := parseEnvFile(data)
	return OSRelease{ID: env["ID"], IDLike: env["ID_LIKE"], VersionID: env["VERSION_ID"], PrettyName: env["PRETTY_NAME"]}
}

// Ecosystem is the OSV ecosystem name of the distribution release
// ("Debian:12", "Ubuntu:22.04"), or "" for others.
func (o OSRelease) Ecosystem() string {
	switch o.ID {
	case "debian":
		if major, _, _ := strings.Cut(o.VersionID, "."); major != "" {
			return "Debian:" + major
		}
	case "ubuntu":
		if o.VersionID != "" {
			return "Ubuntu:" + o.VersionID
		}
	}
	return ""
}

// Mounts are the mount table of the daemon's mount namespace and fstab.
type Mounts struct {
	// Info is /proc/PID/mountinfo; From names the file.
	Info  []MountInfo  `json:"info,omitempty"`
	From  string       `json:"from,omitempty"`
	Fstab []FstabEntry `json:"fstab,omitempty"`
	// NotChecked says why neither could be read.
	NotChecked string `json:"notChecked,omitempty"`
}

// MountInfo is one line of /proc/PID/mountinfo.
type MountInfo struct {
	ID, Parent int
	Device     string // major:minor
	Root       string // the directory of the file system mounted here
	MountPoint string
	FSType     string
	Source     string
}

// FstabEntry is one line of /etc/fstab.
type FstabEntry struct {
	Spec, File, Type string
}

// unescapeMount undoes the octal escapes the kernel and fstab use for
// spaces and other bytes in paths (\040).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func parseMountInfo(data string) []MountInfo {
	var out []MountInfo
	for _, l := range strings.Split(data, "\n") {
		f := strings.Fields(l)
		if len(f) < 10 {
			continue
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+2 >= len(f) {
			continue
		}
		id, err1 := strconv.Atoi(f[0])
		parent, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, MountInfo{ID: id, Parent: parent, Device: f[2], Root: unescapeMount(f[3]),
			MountPoint: unescapeMount(f[4]), FSType: f[sep+1], Source: unescapeMount(f[sep+2])})
	}
	return out
}

func parseFstab(data string) []FstabEntry {
	var out []FstabEntry
	for _, l := range strings.Split(data, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		out = append(out, FstabEntry{Spec: unescapeMount(f[0]), File: unescapeMount(f[1]), Type: f[2]})
	}
	return out
}

// Listeners are the host's listening TCP sockets (/proc/net/tcp, tcp6).
type Listeners struct {
	TCP        []Listener `json:"tcp,omitempty"`
	NotChecked string     `json:"notChecked,omitempty"`
}

// Listener is one listening TCP socket.
type Listener struct {
	Addr  netip.Addr `json:"addr"`
	Port  uint16     `json:"port"`
	Inode uint64     `json:"inode"`
}

// parseProcNetTCP reads the listening sockets of /proc/net/tcp or tcp6:
// addresses are hexadecimal words in host (little-endian) byte order.
func parseProcNetTCP(data string) []Listener {
	var out []Listener
	for _, l := range strings.Split(data, "\n") {
		f := strings.Fields(l)
		if len(f) < 10 || f[3] != "0A" { // 0A is TCP_LISTEN
			continue
		}
		host, port, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(port, 16, 16)
		if err != nil {
			continue
		}
		raw, err := hex.DecodeString(host)
		if err != nil || (len(raw) != 4 && len(raw) != 16) {
			continue
		}
		// Each 32-bit word is in host byte order.
		for w := 0; w+4 <= len(raw); w += 4 {
			raw[w], raw[w+1], raw[w+2], raw[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
		}
		addr, _ := netip.AddrFromSlice(raw)
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			continue
		}
		out = append(out, Listener{Addr: addr.Unmap(), Port: uint16(p), Inode: inode})
	}
	return out
}

// Package is one installed package of the distribution's database.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// parseDpkgStatus reads the installed packages named in want from a dpkg
// status file (RFC 822 stanzas separated by blank lines).
func parseDpkgStatus(data string, want map[string]bool) map[string]Package {
	out := map[string]Package{}
	for _, stanza := range strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n\n") {
		var name, version, status string
		for _, l := range strings.Split(stanza, "\n") {
			k, v, ok := strings.Cut(l, ":")
			if !ok || strings.HasPrefix(l, " ") {
				continue
			}
			switch k {
			case "Package":
				name = strings.TrimSpace(v)
			case "Version":
				version = strings.TrimSpace(v)
			case "Status":
				status = strings.TrimSpace(v)
			}
		}
		if want[name] && version != "" && strings.HasSuffix(status, " installed") {
			out[name] = Package{Name: name, Version: version}
		}
	}
	return out
}
