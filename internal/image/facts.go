package image

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
)

// facts is the image rules' own analyzer: it reads the few files the rules
// judge by content (accounts, os-release, sudoers, would-be private keys),
// every version of them, so a rule can speak about the final filesystem and
// about what lower layers still hold.
type facts struct {
	text map[*File][]byte
	// confirmed records the credential files whose content shows they
	// hold one (credFile.confirm).
	confirmed map[*File]bool
}

func newFacts() *facts {
	return &facts{text: map[*File][]byte{}, confirmed: map[*File]bool{}}
}

// Files read whole for the rules; none is large on a real system.
var factFiles = map[string]bool{
	"/etc/passwd": true, "/etc/group": true, "/etc/shadow": true, "/etc/gshadow": true,
	"/etc/os-release": true, "/usr/lib/os-release": true, "/etc/sudoers": true,
}

const (
	maxFactFile = 4 << 20
	// credHead is how much of a would-be credential file is read to
	// confirm it: a PEM block or a token line is near the start.
	credHead = 64 << 10
)

func (a *facts) Name() string { return "image rules" }

func (a *facts) Want(f *File) (Want, bool) {
	if factFiles[f.Path()] || dirOf(f.Path()) == "/etc/sudoers.d" {
		return Want{Max: maxFactFile}, true
	}
	if c, ok := fileCredential(f); ok && c.confirm != nil {
		return Want{Max: credHead}, true
	}
	return Want{}, false
}

func (a *facts) Visit(f *File, c Content) error {
	data, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if c, ok := fileCredential(f); ok && c.confirm != nil && c.confirm(data) {
		a.confirmed[f] = true
	}
	if factFiles[f.Path()] || dirOf(f.Path()) == "/etc/sudoers.d" {
		a.text[f] = data
	}
	return nil
}

func (a *facts) Finish(*View) error { return nil }

// Account is a line of /etc/passwd.
type Account struct {
	Name     string
	Password string // the second field: "x" when /etc/shadow holds it
	UID      int
	GID      int
	Home     string
	Shell    string
	Line     int
}

// Group is a line of /etc/group.
type Group struct {
	Name string
	GID  int
	Line int
}

// Shadow is a line of /etc/shadow.
type Shadow struct {
	Name     string
	Password string
	Line     int
}

// Text returns the content of the final version of a fact file.
func (m *Model) Text(p string) ([]byte, *File) {
	f := m.View.Final(p)
	if f == nil {
		return nil, nil
	}
	if f.Type == Symlink {
		f = m.View.Resolve(p)
	}
	if f == nil {
		return nil, nil
	}
	b, ok := m.facts.text[f]
	if !ok {
		return nil, f
	}
	return b, f
}

// colonLines splits a colon-separated database (passwd, group, shadow),
// skipping comments and blank lines.
func colonLines(data []byte, fn func(fields []string, line int)) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxFactFile)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		fn(strings.Split(l, ":"), n)
	}
}

// Accounts parses the final /etc/passwd.
func (m *Model) Accounts() ([]Account, *File) {
	data, f := m.Text("/etc/passwd")
	var out []Account
	colonLines(data, func(fs []string, line int) {
		if len(fs) < 4 {
			return
		}
		uid, err1 := strconv.Atoi(fs[2])
		gid, err2 := strconv.Atoi(fs[3])
		if err1 != nil || err2 != nil {
			return
		}
		a := Account{Name: fs[0], Password: fs[1], UID: uid, GID: gid, Line: line}
		if len(fs) > 5 {
			a.Home = fs[5]
		}
		if len(fs) > 6 {
			a.Shell = fs[6]
		}
		out = append(out, a)
	})
	return out, f
}

// Groups parses the final /etc/group.
func (m *Model) Groups() ([]Group, *File) {
	data, f := m.Text("/etc/group")
	var out []Group
	colonLines(data, func(fs []string, line int) {
		if len(fs) < 3 {
			return
		}
		if gid, err := strconv.Atoi(fs[2]); err == nil {
			out = append(out, Group{Name: fs[0], GID: gid, Line: line})
		}
	})
	return out, f
}

// Shadows parses the final /etc/shadow.
func (m *Model) Shadows() ([]Shadow, *File) {
	data, f := m.Text("/etc/shadow")
	var out []Shadow
	colonLines(data, func(fs []string, line int) {
		if len(fs) >= 2 {
			out = append(out, Shadow{Name: fs[0], Password: fs[1], Line: line})
		}
	})
	return out, f
}

// OSRelease parses the final os-release (/etc first, as systemd reads it).
func (m *Model) OSRelease() (map[string]string, *File) {
	data, f := m.Text("/etc/os-release")
	if data == nil {
		data, f = m.Text("/usr/lib/os-release")
	}
	if data == nil {
		return nil, f
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `"'`)
		}
		out[k] = v
	}
	return out, f
}
