package compose

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockvet/dockvet/internal/safefile"
)

// MaxEnvValueBytes bounds one variable of a .env or env_file once the
// variables it references are substituted. Real values (URLs, tokens,
// certificates) are at most a few KiB; `V2=${V1}${V1}` lines double each
// time, and 40 of them asked compose-go for terabytes (a 393-byte .env
// took 2.5 GB). The bound is checked on the file's text, before
// compose-go expands anything.
const MaxEnvValueBytes = 64 << 10

// MaxExpandBytes bounds what the substitutions of a project may produce
// in all: every variable of the env files together, and each Compose file
// once its ${…} references are substituted. 16 MiB is hundreds of times a
// real project, and keeps many values near MaxEnvValueBytes from adding
// up to gigabytes.
const MaxExpandBytes = 16 << 20

// envAssign is one `NAME=value` (or `NAME: value`) line of an env file,
// with an optional `export`.
var envAssign = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s?(.*)$`)

// envRef is a variable reference in a value or a Compose file: $NAME or
// ${NAME…} (a default or message inside the braces is counted as text,
// and its own references as references).
var envRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

// expansion estimates, without substituting, how large the values of env
// files become once their references are: each variable's size is its
// text plus the sizes of the variables it references. It is an upper
// bound of what compose-go's dotenv produces (single quotes, which do not
// expand, are counted as if they did).
type expansion struct {
	sizes   map[string]int
	total   int
	display func(string) string
	checked map[string]bool
}

func newExpansion(display func(string) string) *expansion {
	return &expansion{sizes: map[string]int{}, display: display, checked: map[string]bool{}}
}

// newExpansionFrom starts from known values (the project's environment).
func newExpansionFrom(values map[string]string, display func(string) string) *expansion {
	x := newExpansion(display)
	for k, v := range values {
		x.sizes[k] = len(v)
	}
	return x
}

// size is the estimated size of text with its references substituted;
// references to names no env file sets count the process environment's
// value, as dotenv may look them up there.
func (x *expansion) size(text string) int {
	n := len(text)
	for _, m := range envRef.FindAllStringSubmatch(text, -1) {
		v, ok := x.sizes[m[1]]
		if !ok {
			v = len(os.Getenv(m[1]))
		}
		// The reference's own text is replaced by the value.
		if n += v - len(m[0]); n > MaxExpandBytes {
			break // enough to refuse
		}
	}
	return n
}

// checkEnvFile refuses an env file whose expansion exceeds a budget,
// naming the file, the line, the variable and the budget, never a value.
// Files that are not regular are left to the reader, which refuses them.
func (x *expansion) checkEnvFile(path string) error {
	if x.checked[path] {
		return nil
	}
	x.checked[path] = true
	data, err := safefile.ReadFile(path, safefile.MaxSource)
	if err != nil {
		return nil // the reader refuses it, in its own words
	}
	for i, text := range strings.Split(string(data), "\n") {
		m := envAssign.FindStringSubmatch(text)
		if m == nil || strings.HasPrefix(strings.TrimSpace(text), "#") {
			continue
		}
		n := x.size(m[2])
		if n > MaxEnvValueBytes {
			return &Error{Path: x.display(path), Line: i + 1, Msg: fmt.Sprintf(
				"env file: variable %s would expand to more than %d bytes (compose.MaxEnvValueBytes); the project was not loaded", m[1], MaxEnvValueBytes)}
		}
		if x.total += n; x.total > MaxExpandBytes {
			return &Error{Path: x.display(path), Line: i + 1, Msg: fmt.Sprintf(
				"env file: variables would expand to more than %d bytes in all (compose.MaxExpandBytes); the project was not loaded", MaxExpandBytes)}
		}
		x.sizes[m[1]] = n
	}
	return nil
}

// checkComposeFile refuses a Compose file whose ${…} references would
// expand it past MaxExpandBytes (thousands of references to a large
// value), before compose-go interpolates it.
func (x *expansion) checkComposeFile(path string) error {
	data, err := safefile.ReadFile(path, safefile.MaxSource)
	if err != nil {
		return nil // the loader refuses it, in its own words
	}
	if n := x.size(string(data)); n > MaxExpandBytes {
		return &Error{Path: x.display(path), Msg: fmt.Sprintf(
			"variables would expand the file to more than %d bytes (compose.MaxExpandBytes); the project was not loaded", MaxExpandBytes)}
	}
	return nil
}

// checkServiceEnvFiles checks the env_file of every service before
// compose-go reads and expands them (resolveEnvFiles).
func (x *expansion) checkServiceEnvFiles(p *types.Project) error {
	for _, name := range p.ServiceNames() {
		for _, ef := range p.Services[name].EnvFiles {
			if err := x.checkEnvFile(ef.Path); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkInclude checks an include's env files and Compose files, with the
// values of the including project, before they are read and expanded
// (by the locator, then by compose-go).
func checkInclude(parent *environment, envFiles, files []string, display func(string) string) error {
	x := newExpansion(display)
	for k, v := range parent.values {
		x.sizes[k] = len(v)
	}
	for _, f := range envFiles {
		if err := x.checkEnvFile(f); err != nil {
			return err
		}
	}
	for _, f := range files {
		if strings.Contains(f, "://") {
			continue
		}
		if err := x.checkComposeFile(f); err != nil {
			return err
		}
	}
	return nil
}

// checkLocated checks every file the locator read (the main files,
// includes, extends bases) with the values that interpolate it, before
// compose-go interpolates them: an extends base is found only by reading
// the services that name it.
func checkLocated(l *locator) error {
	paths := make([]string, 0, len(l.files))
	for p := range l.files {
		paths = append(paths, p)
	}
	sort.Strings(paths) // the same file refused first on every run
	for _, p := range paths {
		x := newExpansion(l.display)
		if env := l.files[p].env; env != nil {
			for k, v := range env.values {
				x.sizes[k] = len(v)
			}
		}
		if err := x.checkComposeFile(p); err != nil {
			return err
		}
	}
	return nil
}
