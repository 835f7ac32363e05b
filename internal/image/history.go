package image

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/secrets"
)

// Step is a history entry's created_by taken apart: the Dockerfile
// instruction, its arguments, and the build arguments a RUN recorded.
type Step struct {
	Keyword string // RUN, COPY, ADD, ENV, … (upper case); "" when unknown
	Args    string // the rest of the instruction; for RUN the shell script
	// BuildArgs are the "|N KEY=VALUE …" a RUN carries: the build
	// arguments in force, recorded in the image for cache keys.
	BuildArgs []KeyValue
	// Shell is the shell RUN used ("/bin/sh -c"), when recorded.
	Shell string
}

// KeyValue is one KEY=VALUE.
type KeyValue struct{ Key, Value string }

var (
	keywordRe  = regexp.MustCompile(`^([A-Z]+)(?:\s+|$)`)
	buildArgRe = regexp.MustCompile(`^\|([0-9]+)\s+`)
	argStartRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*=`)
	shellRe    = regexp.MustCompile(`^(/bin/(?:ba|da|a)?sh|/usr/bin/env\s+\S+|sh|bash|cmd\s+/S\s+/C|powershell(?:\.exe)?\s+-Command)\s+(-[a-z]*c\s+)?`)
)

// ParseStep reads created_by as both builders write it. The classic builder
// writes `/bin/sh -c #(nop)  ENV A=b` for metadata and `/bin/sh -c cmd` for
// RUN; BuildKit writes `RUN /bin/sh -c cmd # buildkit`. Both put build
// arguments first: `|2 A=1 B=2 /bin/sh -c …`.
func ParseStep(createdBy string) Step {
	s := strings.TrimSpace(createdBy)
	s = strings.TrimSpace(strings.TrimSuffix(s, "# buildkit"))
	var st Step
	if m := keywordRe.FindStringSubmatch(s); m != nil && m[1] != "" {
		st.Keyword = m[1]
		s = strings.TrimSpace(s[len(m[0]):])
	}
	if m := buildArgRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		s = s[len(m[0]):]
		st.BuildArgs, s = splitBuildArgs(s, n)
		if st.Keyword == "" {
			st.Keyword = "RUN"
		}
	}
	if m := shellRe.FindStringSubmatch(s); m != nil {
		st.Shell = strings.TrimSpace(m[0])
		s = strings.TrimSpace(s[len(m[0]):])
		if rest, ok := strings.CutPrefix(s, "#(nop)"); ok {
			// Classic builder metadata: the instruction follows.
			st.Shell = ""
			s = strings.TrimSpace(rest)
			if m := keywordRe.FindStringSubmatch(s); m != nil {
				st.Keyword = m[1]
				s = strings.TrimSpace(s[len(m[0]):])
			}
		} else if st.Keyword == "" {
			st.Keyword = "RUN"
		}
	}
	st.Args = s
	return st
}

// splitBuildArgs takes n KEY=VALUE pairs off the front of s. Values were
// joined with spaces unquoted, so a value runs until the next token that
// starts a KEY=; the last one ends at the first space.
func splitBuildArgs(s string, n int) ([]KeyValue, string) {
	var out []KeyValue
	for i := 0; i < n && s != ""; i++ {
		if !argStartRe.MatchString(s) {
			break
		}
		k, rest, _ := strings.Cut(s, "=")
		end := len(rest)
		if i == n-1 {
			if j := strings.IndexByte(rest, ' '); j >= 0 {
				end = j
			}
		} else {
			for j := 0; j < len(rest); j++ {
				if rest[j] == ' ' && argStartRe.MatchString(rest[j+1:]) {
					end = j
					break
				}
			}
		}
		out = append(out, KeyValue{Key: k, Value: rest[:end]})
		s = strings.TrimLeft(rest[end:], " ")
	}
	return out, s
}

// Instruction is a short, safe form of created_by for messages: the
// instruction without shell boilerplate or build arguments, secrets
// masked, at most 60 characters.
func Instruction(createdBy string) string {
	if strings.TrimSpace(createdBy) == "" {
		return ""
	}
	st := ParseStep(createdBy)
	s := maskSecrets(strings.TrimSpace(st.Keyword + " " + st.Args))
	s = display(strings.Join(strings.Fields(s), " "))
	if utf8.RuneCountInString(s) > 60 {
		r := []rune(s)
		s = string(r[:59]) + "…"
	}
	return s
}

// maskSecrets hides, in a line of text, every secret found by its format
// and every KEY=VALUE whose value is a credential.
func maskSecrets(s string) string {
	for _, m := range secrets.Scan(s) {
		s = strings.ReplaceAll(s, m.Secret, finding.Mask(m.Secret))
	}
	for _, tok := range strings.Fields(s) {
		k, v, ok := strings.Cut(strings.Trim(tok, `"';`), "=")
		v = strings.Trim(v, `"';`)
		if !ok || v == "" {
			continue
		}
		if _, secret := secrets.Assignment(strings.TrimLeft(k, "-"), v); secret {
			s = strings.ReplaceAll(s, v, finding.Mask(v))
		}
	}
	return s
}
