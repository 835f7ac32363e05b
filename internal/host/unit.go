package host

import (
	"path"
	"strings"
)

// Unit is one systemd unit: its unit file and drop-ins, parsed.
type Unit struct {
	Name string `json:"name"`
	// Path is the unit file systemd uses (the first in its search path).
	Path string `json:"path"`
	// DropIns are the unit's *.conf drop-in files, in the order systemd
	// applies them.
	DropIns []string `json:"dropIns,omitempty"`
	// Masked is true when the unit is linked to /dev/null.
	Masked bool `json:"masked,omitempty"`
	// Entries are the unit's settings in the order systemd reads them:
	// the unit file, then each drop-in.
	Entries []UnitEntry `json:"entries,omitempty"`
}

// UnitEntry is one Key=Value line of a unit file.
type UnitEntry struct {
	Section string `json:"section"`
	Key     string `json:"key"`
	Value   string `json:"value"`
	Path    string `json:"path"`
	Line    int    `json:"line"`
}

// unitDirs is systemd's system unit search path, highest priority first.
var unitDirs = []string{
	"/etc/systemd/system",
	"/run/systemd/system",
	"/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
}

// parseUnitFile reads the settings of a unit file. Lines ending in a
// backslash continue on the next line; '#' and ';' start comments.
func parseUnitFile(data, file string) []UnitEntry {
	var out []UnitEntry
	section := ""
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		l := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		if l[0] == '[' {
			if end := strings.IndexByte(l, ']'); end > 0 {
				section = l[1:end]
			}
			continue
		}
		for strings.HasSuffix(l, "\\") && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
			if next != "" && (next[0] == '#' || next[0] == ';') {
				// Comment lines inside a continuation are skipped.
				l = strings.TrimSuffix(l, "\\")
				if i+1 < len(lines) {
					l += "\\"
				}
				continue
			}
			l = strings.TrimSuffix(l, "\\") + " " + next
		}
		key, value, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		out = append(out, UnitEntry{Section: section, Key: strings.TrimSpace(key), Value: strings.TrimSpace(value), Path: file, Line: lineNo})
	}
	return out
}

// List returns the effective values of a list setting (ListenStream,
// ExecStart, Environment, EnvironmentFile): an empty assignment, usually
// in a drop-in, clears what came before.
func (u *Unit) List(section, key string) []UnitEntry {
	if u == nil {
		return nil
	}
	var out []UnitEntry
	for _, e := range u.Entries {
		if e.Section != section || e.Key != key {
			continue
		}
		if e.Value == "" {
			out = nil
			continue
		}
		out = append(out, e)
	}
	return out
}

// Files returns the unit file and its drop-ins.
func (u *Unit) Files() []string {
	if u == nil || u.Path == "" {
		return nil
	}
	return append([]string{u.Path}, u.DropIns...)
}

// splitExec splits a systemd command line into words: double and single
// quotes group, a backslash escapes the next character. $NAME alone as a
// word expands to the variable's value split on white space, ${NAME}
// expands in place (systemd.service, "Command lines").
func splitExec(cmd string, env map[string]string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	quote := byte(0)
	flush := func() {
		if inWord {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
				continue
			}
			if c == '\\' && i+1 < len(cmd) {
				i++
				cur.WriteByte(cmd[i])
				continue
			}
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n':
			flush()
		case c == '\\' && i+1 < len(cmd):
			i++
			cur.WriteByte(cmd[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, "$") && !strings.HasPrefix(w, "${") && isVarName(w[1:]) {
			out = append(out, strings.Fields(env[w[1:]])...)
			continue
		}
		out = append(out, expandBraces(w, env))
	}
	// Prefixes that change how systemd runs the command are not part of it.
	if len(out) > 0 {
		out[0] = strings.TrimLeft(out[0], "-@+!:|")
	}
	return out
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func expandBraces(w string, env map[string]string) string {
	var b strings.Builder
	for {
		i := strings.Index(w, "${")
		if i < 0 {
			b.WriteString(w)
			return b.String()
		}
		j := strings.IndexByte(w[i:], '}')
		if j < 0 {
			b.WriteString(w)
			return b.String()
		}
		b.WriteString(w[:i])
		b.WriteString(env[w[i+2:i+j]])
		w = w[i+j+1:]
	}
}

// parseEnvFile reads a systemd EnvironmentFile (also the format of
// /etc/default/docker and /etc/sysconfig/docker as systemd reads them):
// KEY=VALUE lines, '#' and ';' comments, values optionally quoted,
// trailing backslashes continue a line.
func parseEnvFile(data string) map[string]string {
	env := map[string]string{}
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		for strings.HasSuffix(l, "\\") && i+1 < len(lines) {
			i++
			l = strings.TrimSuffix(l, "\\") + strings.TrimSpace(lines[i])
		}
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		l = strings.TrimPrefix(l, "export ")
		key, value, ok := strings.Cut(l, "=")
		key = strings.TrimSpace(key)
		if !ok || !isVarName(key) {
			continue
		}
		value = strings.TrimSpace(value)
		if n := len(value); n >= 2 && value[0] == '\'' && value[n-1] == '\'' {
			value = value[1 : n-1]
		} else if n >= 2 && value[0] == '"' && value[n-1] == '"' {
			value = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(value[1 : n-1])
		}
		env[key] = value
	}
	return env
}

// parseEnvironment reads an Environment= value: space-separated
// assignments, each optionally quoted.
func parseEnvironment(value string, env map[string]string) {
	for _, w := range splitExec(value, nil) {
		if k, v, ok := strings.Cut(w, "="); ok && isVarName(k) {
			env[k] = v
		}
	}
}

// listenIsTCP reports whether a ListenStream value is a TCP address
// ("2375", "0.0.0.0:2375", "[::]:2376") rather than a Unix socket path or
// an abstract socket.
func listenIsTCP(v string) bool {
	return v != "" && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "@")
}

// dropInDir is the directory of a unit's drop-ins.
func dropInDir(unit string) string { return unit + ".d" }

func isConf(name string) bool { return path.Ext(name) == ".conf" }
