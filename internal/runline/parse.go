// Package runline reads container start commands — `docker run`, `docker
// create`, `docker container run|create` and their podman forms — into the
// container spec, and finds them in shell scripts, Makefiles, Dockerfile
// RUN lines and CI files. Options are recognised from the Docker CLI's own
// flag table, so a typo is an error here as it is for `docker run`.
package runline

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dockvet/dockvet/internal/container"
)

// Command is a container start command as found somewhere.
type Command struct {
	// Args is the whole command line: "docker", "run", ….
	Args []string
	// Lines holds the line of each argument (len(Args) entries); nil when
	// only Line is known.
	Lines []int
	// Path is the file that holds the command ("" for a command line
	// given to dockvet) and Line its first line.
	Path string
	Line int
	// Name and Service name the container in findings when the file
	// does without a --name: a CI job's container, a CI service.
	Name, Service string
	// Declared marks a container a CI file declares (a job's container or
	// service) rather than a command that runs one: like a Compose
	// service, it gets one finding for the hardening settings it leaves
	// unset (DV3062).
	Declared bool
}

// Options tell the parser how to reach files a command names.
type Options struct {
	// Dir resolves relative --env-file paths ("" is the working
	// directory).
	Dir string
	// ReadFile reads an env file; nil leaves env files unread, and their
	// variables are then not audited.
	ReadFile func(name string) ([]byte, error)
	// Strict makes an env file that cannot be read an error, as it is for
	// `docker run`. A script found in a repository is read without it: the
	// directory it runs in is not known.
	Strict bool
}

// Error is a command that cannot be parsed.
type Error struct {
	Path string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Path != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	case e.Path != "":
		return e.Path + ": " + e.Msg
	}
	return e.Msg
}

// Match reports whether args start a container, and returns the tool
// ("docker", "podman") and the index of the first argument after the
// subcommand. `docker compose run` and every other subcommand do not match.
func Match(args []string) (tool string, start int, ok bool) {
	if len(args) < 2 {
		return "", 0, false
	}
	tool = path.Base(strings.ReplaceAll(args[0], `\`, "/"))
	tool = strings.TrimSuffix(tool, ".exe")
	var global *flagSet
	switch tool {
	case "docker":
		global = dockerGlobal
	case "podman":
		global = podmanGlobal
	default:
		return "", 0, false
	}
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-" {
		def, inline, ok := lookupGlobal(global, args[i])
		if !ok {
			return "", 0, false
		}
		if def.kind == valueFlag && !inline {
			i++
		}
		i++
	}
	if i < len(args) && args[i] == "container" {
		i++
	}
	if i >= len(args) || args[i] != "run" && args[i] != "create" {
		return "", 0, false
	}
	return tool, i + 1, true
}

func lookupGlobal(fs *flagSet, a string) (*flagDef, bool, bool) {
	if strings.HasPrefix(a, "--") {
		name, _, inline := strings.Cut(a[2:], "=")
		d, ok := fs.long[name]
		return d, inline, ok
	}
	if len(a) < 2 {
		return nil, false, false
	}
	d, ok := fs.short[a[1]]
	return d, len(a) > 2, ok
}

// state is the spec being filled while the flags are read.
type state struct {
	spec      *container.Spec
	cmd       Command
	opts      Options
	helpAsked bool
	at        int // index of the argument being applied
	image     int
	// skipped is the first lone expansion read as options ("$OPTS"), -1
	// for none; expansionIsImage reads every one as the image instead.
	skipped          int
	expansionIsImage bool
}

// src is the source of argument i.
func (st *state) src(i int) container.Source {
	line := st.cmd.Line
	if i >= 0 && i < len(st.cmd.Lines) && st.cmd.Lines[i] > 0 {
		line = st.cmd.Lines[i]
	}
	return container.Source{Path: st.cmd.Path, Line: line}
}

// Parse reads a container start command into a spec. It returns nil and
// no error for a command that only asks for help.
func Parse(c Command, opts Options) (*container.Spec, error) {
	tool, i, ok := Match(c.Args)
	if !ok {
		return nil, &Error{Path: c.Path, Line: c.Line, Msg: oneLine(fmt.Sprintf("not a container start command: %s", strings.Join(head(c.Args, 3), " ")))}
	}
	fs := dockerRun
	if tool == "podman" {
		fs = podmanRun
	}
	st, err := parseFlags(c, opts, tool, fs, i, false)
	if (err != nil || st.image < 0) && st.skipped >= 0 {
		// `docker run --rm $IMAGE -c '…'`: what follows the expansion is
		// not docker's options, so the expansion was the image.
		if st2, err2 := parseFlags(c, opts, tool, fs, i, true); err2 == nil && st2.image >= 0 {
			st, err = st2, nil
		}
	}
	if err != nil {
		return nil, &Error{Path: c.Path, Line: st.src(st.at).Line, Msg: oneLine(err.Error())}
	}
	if st.helpAsked {
		return nil, nil
	}
	if st.image < 0 {
		return nil, &Error{Path: c.Path, Line: c.Line, Msg: fmt.Sprintf("`%s %s` names no image", tool, c.Args[i-1])}
	}
	st.spec.Image = container.Of(c.Args[st.image], st.src(st.image))
	if st.spec.Name == "" {
		st.spec.Name = c.Name
	}
	st.spec.Service = c.Service
	return st.spec, nil
}

// parseFlags reads the options of c from argument i into a new spec of
// the tool (docker, podman).
func parseFlags(c Command, opts Options, tool string, fs *flagSet, i int, expansionIsImage bool) (*state, error) {
	st := &state{
		spec: &container.Spec{Origin: origin(c), Engine: tool, Src: container.Source{Path: c.Path, Line: c.Line}},
		cmd:  c, opts: opts, image: -1, skipped: -1, expansionIsImage: expansionIsImage,
	}
	return st, st.flags(fs, i)
}

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// flags reads options the way the Docker CLI's flag parser does: long
// (`--name=v`, `--name v`) and short (`-v x`, `-vx`, bundles `-itd`),
// options before the image only, `--` ends them.
func (st *state) flags(fs *flagSet, i int) error {
	args := st.cmd.Args
	for ; i < len(args); i++ {
		st.at = i
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				st.image = i + 1
			}
			return nil
		case strings.HasPrefix(a, "--"):
			name, val, inline := strings.Cut(a[2:], "=")
			d, ok := fs.long[name]
			if !ok {
				return fmt.Errorf("unknown flag: --%s", name)
			}
			if d.kind == valueFlag && !inline {
				if i+1 >= len(args) {
					return fmt.Errorf("flag needs an argument: --%s", name)
				}
				i++
				val = args[i]
			}
			if err := st.apply(d, "--"+name, val, inline); err != nil {
				return err
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			next, err := st.shorts(fs, a, i)
			if err != nil {
				return err
			}
			i = next
		case !st.expansionIsImage && expansionOnly(a) && i+1 < len(args) && strings.HasPrefix(args[i+1], "-"):
			// `docker run $OPTS -p …`: options only known at run time
			// (Parse tries the expansion as the image when this fails).
			if st.skipped < 0 {
				st.skipped = i
			}
		default:
			st.image = i
			return nil
		}
	}
	return nil
}

// shorts applies a group of short options ("-it", "-p8080:80", "-e=A=b")
// and returns the index of the last argument consumed.
func (st *state) shorts(fs *flagSet, a string, i int) (int, error) {
	args := st.cmd.Args
	for j := 1; j < len(a); j++ {
		d, ok := fs.short[a[j]]
		if !ok {
			return i, fmt.Errorf("unknown shorthand flag: '%c' in %s", a[j], a)
		}
		name := "-" + string(a[j])
		rest := a[j+1:]
		if d.kind == boolFlag {
			if strings.HasPrefix(rest, "=") {
				return i, st.apply(d, name, rest[1:], true)
			}
			if err := st.apply(d, name, "", false); err != nil {
				return i, err
			}
			continue
		}
		if rest != "" {
			return i, st.apply(d, name, strings.TrimPrefix(rest, "="), true)
		}
		if i+1 >= len(args) {
			return i, fmt.Errorf("flag needs an argument: '%c' in %s", a[j], a)
		}
		return i + 1, st.apply(d, name, args[i+1], true)
	}
	return i, nil
}

func (st *state) apply(d *flagDef, name, val string, given bool) error {
	if d.kind == boolFlag {
		if !given {
			val = "true"
		}
		if _, err := strconv.ParseBool(val); err != nil && !strings.Contains(val, "$") {
			return fmt.Errorf("invalid argument %q for %s: not a boolean", val, name)
		}
	}
	if d.apply == nil {
		return nil
	}
	if err := d.apply(st, val, st.at); err != nil {
		if strings.Contains(val, "$") {
			return nil // a value only known when the script runs
		}
		return fmt.Errorf("invalid argument %q for %s: %v", val, name, err)
	}
	return nil
}

// expansionOnly reports whether a word is nothing but a variable or
// command expansion ("$OPTS", "${EXTRA_ARGS}", "$(opts)").
func expansionOnly(w string) bool {
	if !strings.HasPrefix(w, "$") || len(w) < 2 {
		return false
	}
	switch {
	case w[1] == '{':
		return strings.HasSuffix(w, "}") && strings.Count(w, "}") == 1
	case w[1] == '(':
		return strings.HasSuffix(w, ")")
	}
	for _, r := range w[1:] {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '@' || r == '*') {
			return false
		}
	}
	return true
}

func parseBool(val string) bool {
	b, err := strconv.ParseBool(val)
	return err == nil && b
}

// resolve makes a file named on the command line a path to read.
func (st *state) resolve(name string) string {
	if filepath.IsAbs(name) || st.opts.Dir == "" {
		return name
	}
	return filepath.Join(st.opts.Dir, name)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// origin is where a command's container was written.
func origin(c Command) container.Origin {
	if c.Declared {
		return container.FromCI
	}
	return container.FromRun
}
