package host

import (
	"path"
	"strings"
)

// Audit is the host's audit rules: the loaded ones (`auditctl -l`) when
// they could be listed, else the rule files auditd loads at boot.
type Audit struct {
	// Source says where the rules came from: "auditctl -l" or the files.
	Source string      `json:"source,omitempty"`
	Rules  []AuditRule `json:"rules,omitempty"`
	// NotChecked says why the rules are unknown (auditctl failed and the
	// rule files are unreadable).
	NotChecked string `json:"notChecked,omitempty"`
}

// AuditRule is one file-watching audit rule.
type AuditRule struct {
	// Path is the watched file or directory.
	Path string `json:"path"`
	// Tree is true for rules that cover everything under Path (-w on a
	// directory, -F dir=); false for -F path= (exactly Path).
	Tree bool `json:"tree,omitempty"`
	// Never is true for "never" rules, which suppress auditing.
	Never bool   `json:"never,omitempty"`
	Key   string `json:"key,omitempty"`
	// Text is the rule as written, for messages.
	Text string `json:"text"`
	// Removed marks a watch that a later -W removed.
	Removed bool `json:"removed,omitempty"`
}

// parseAuditRules reads audit rules in auditctl syntax (rule files and
// `auditctl -l` output are the same syntax). Only rules that watch
// files matter here; -D clears what came before, -W removes a watch.
func parseAuditRules(data string) []AuditRule {
	var rules []AuditRule
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		switch f[0] {
		case "-D":
			rules = nil
			continue
		case "-w", "-W":
			if len(f) < 2 {
				continue
			}
			p := path.Clean(f[1])
			if f[0] == "-W" {
				for i := range rules {
					if rules[i].Path == p && !rules[i].Never {
						rules[i].Removed = true
					}
				}
				continue
			}
			// A watch on a directory is recursive; on a file it is the
			// file. Which one is decided when the rule is matched.
			rules = append(rules, AuditRule{Path: p, Tree: true, Key: auditKey(f), Text: line})
		case "-a", "-A":
			if len(f) < 2 {
				continue
			}
			never := false
			for _, part := range strings.Split(f[1], ",") {
				if part == "never" {
					never = true
				}
			}
			for i := 2; i < len(f); i++ {
				field := ""
				switch {
				case f[i] == "-F" && i+1 < len(f):
					i++
					field = f[i]
				case strings.HasPrefix(f[i], "-F") && len(f[i]) > 2:
					field = f[i][2:]
				default:
					continue
				}
				name, value, ok := strings.Cut(field, "=")
				if !ok || value == "" {
					continue
				}
				switch name {
				case "path":
					rules = append(rules, AuditRule{Path: path.Clean(value), Never: never, Key: auditKey(f), Text: line})
				case "dir":
					rules = append(rules, AuditRule{Path: path.Clean(value), Tree: true, Never: never, Key: auditKey(f), Text: line})
				}
			}
		}
	}
	return rules
}

func auditKey(f []string) string {
	for i := 0; i < len(f)-1; i++ {
		if f[i] == "-k" {
			return strings.Trim(f[i+1], `"`)
		}
		if f[i] == "-F" && strings.HasPrefix(f[i+1], "key=") {
			return strings.Trim(strings.TrimPrefix(f[i+1], "key="), `"`)
		}
	}
	return ""
}

// Covering returns the first rule that decides whether target is audited,
// or nil. Paths are compared as written and after resolve follows
// symbolic links, because the kernel watches the file a path leads to
// (/var/run is /run). A "never" rule that comes first means target is not
// audited.
func (a *Audit) Covering(target string, resolve func(string) string) *AuditRule {
	rt := resolve(target)
	for i := range a.Rules {
		r := &a.Rules[i]
		if r.Removed {
			continue
		}
		rp := resolve(r.Path)
		if r.Path == target || rp == rt || r.Tree && (isUnder(target, r.Path) || isUnder(rt, rp)) {
			if r.Never {
				return nil
			}
			return r
		}
	}
	return nil
}

// isUnder reports whether p is inside dir.
func isUnder(p, dir string) bool {
	if dir == "/" {
		return p != "/"
	}
	return strings.HasPrefix(p, dir+"/")
}
