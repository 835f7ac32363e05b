package compose

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

// Discover finds the Compose files `docker compose` would use in dir: the
// first of compose.yaml, compose.yml, docker-compose.yml,
// docker-compose.yaml, and its override file, looking in dir and then in
// its parents. It returns nil when there is none.
func Discover(dir string) ([]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for d := abs; ; {
		if main := firstFile(d, cli.DefaultFileNames); main != "" {
			files := []string{main}
			if o := firstFile(d, cli.DefaultOverrideFileNames); o != "" {
				files = append(files, o)
			}
			return files, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return nil, nil
		}
		d = parent
	}
}

func firstFile(dir string, names []string) string {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// IsDefaultName reports whether a file name is one `docker compose` finds
// by itself (main or override).
func IsDefaultName(name string) bool {
	return slices.Contains(cli.DefaultFileNames, name) || IsOverrideName(name)
}

// IsMainName reports whether a file name is a default main file.
func IsMainName(name string) bool { return slices.Contains(cli.DefaultFileNames, name) }

// IsOverrideName reports whether a file name is a default override file.
func IsOverrideName(name string) bool { return slices.Contains(cli.DefaultOverrideFileNames, name) }

// IsName reports whether a file in a repository is taken for a Compose
// file: a default name, or any *compose*.yml / *compose*.yaml outside CI
// configuration directories.
func IsName(path string) bool {
	name := filepath.Base(path)
	slashed := filepath.ToSlash(path)
	if strings.Contains(slashed, ".github/") || strings.Contains(slashed, ".gitlab/") || strings.HasSuffix(name, "gitlab-ci.yml") {
		return false // CI configuration, whatever its name
	}
	if IsDefaultName(name) {
		return true
	}
	ok, _ := filepath.Match("*compose*.y*ml", name)
	return ok && (strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml"))
}

// BaseFor is the default main Compose file next to path, if any: the file
// a *compose*.yml fragment (docker-compose.prod.yml) is meant to override.
func BaseFor(path string) string {
	return firstFile(filepath.Dir(path), cli.DefaultFileNames)
}

// OverrideFor is the default override file next to a default main file.
func OverrideFor(path string) string {
	if !slices.Contains(cli.DefaultFileNames, filepath.Base(path)) {
		return ""
	}
	return firstFile(filepath.Dir(path), cli.DefaultOverrideFileNames)
}

// LooksLikeCompose reports whether YAML content has a top-level key that
// only Compose files have, so that a stray *compose*.yml that is something
// else is not reported as a broken Compose file.
func LooksLikeCompose(data []byte) bool {
	docs, err := parseYAML("", data)
	if err != nil {
		// Broken YAML named like a Compose file is reported; YAML that is
		// not a mapping is something else.
		var se *SyntaxError
		return !errors.As(err, &se) || !strings.Contains(se.Msg, "must be a mapping")
	}
	for _, d := range docs {
		for _, k := range []string{"services", "include"} {
			if mapGet(d, k) != nil {
				return true
			}
		}
	}
	return false
}
