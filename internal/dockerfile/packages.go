package dockerfile

import (
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/shell"
)

// install is one package installation found in a RUN.
type install struct {
	// Manager is the normalised tool: apt-get, apt, apk, yum, dnf,
	// microdnf, zypper, pip, npm, yarn, pnpm, gem, go, cargo.
	Manager string
	Cmd     *shell.Command
	// Packages are the package arguments as written ("curl=8.5.0-2",
	// "requests==2.32.3"); local files and variables are left out.
	Packages []string
	// Sub is the subcommand used ("install", "add", "ci", …).
	Sub string
}

// OS reports whether the manager installs distribution packages.
func (i install) OS() bool {
	switch i.Manager {
	case "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "tdnf", "zypper":
		return true
	}
	return false
}

// The options of each manager that take a separate value, so that the
// value is not taken for a package name.
var (
	aptValued   = []string{"-o", "-t", "-c", "-a", "--option", "--target-release", "--config-file", "--host-architecture"}
	rpmValued   = []string{"-c", "-x", "--enablerepo", "--disablerepo", "--installroot", "--releasever", "--exclude", "--repo", "--setopt"}
	nodeValued  = []string{"--prefix", "--registry", "--cache", "-w", "--workspace", "--omit", "--include"}
	valuedFlags = map[string][]string{
		"apt-get": aptValued, "apt": aptValued,
		"yum": rpmValued, "dnf": rpmValued, "microdnf": rpmValued, "tdnf": rpmValued,
		"npm": nodeValued, "yarn": nodeValued, "pnpm": nodeValued,
		"apk":    {"-X", "-t", "-p", "--repository", "--virtual", "--root", "--arch", "--keys-dir", "--repositories-file", "--cache-dir"},
		"zypper": {"-t", "-r", "--type", "--repo", "--from"},
		"pip":    {"-r", "-c", "-i", "-t", "-e", "-f", "--requirement", "--constraint", "--index-url", "--extra-index-url", "--target", "--prefix", "--root", "--trusted-host", "--editable", "--find-links", "--python-version", "--platform", "--cache-dir", "--src", "--upgrade-strategy", "--progress-bar", "--log"},
		"gem":    {"-v", "-i", "-n", "--version", "--install-dir", "--bindir", "--source", "--platform"},
		"cargo":  {"--version", "--git", "--branch", "--tag", "--rev", "--path", "--root", "--index", "--registry", "--target", "--features", "-F", "-j", "--jobs"},
		"go":     {"-C", "-o", "-p", "-tags", "-ldflags", "-gcflags", "-modfile", "-mod"},
	}
)

var installSubs = map[string][]string{
	"apt-get": {"install"}, "apt": {"install"}, "apk": {"add"},
	"yum": {"install", "reinstall"}, "dnf": {"install", "reinstall"}, "microdnf": {"install"}, "tdnf": {"install"},
	"zypper": {"install", "in"}, "pip": {"install"}, "npm": {"install", "i", "add", "ci"},
	"yarn": {"add", "install", "global"}, "pnpm": {"add", "install", "i"}, "gem": {"install"},
	"go": {"install", "get"}, "cargo": {"install"},
}

// managerOf normalises the command name; `python3 -m pip` and `pip3` are pip.
func managerOf(c *shell.Command) (string, []string) {
	name := c.Name
	args := c.Args
	switch {
	case strings.HasPrefix(name, "pip"):
		return "pip", args
	case strings.HasPrefix(name, "python") && len(args) >= 2 && args[0] == "-m" && strings.HasPrefix(args[1], "pip"):
		return "pip", args[2:]
	}
	if _, ok := installSubs[name]; ok {
		return name, args
	}
	return "", nil
}

// installOf recognises a package installation.
func installOf(c *shell.Command) (install, bool) {
	mgr, args := managerOf(c)
	if mgr == "" {
		return install{}, false
	}
	view := &shell.Command{Name: mgr, Args: args}
	valued := valuedFlags[mgr]
	pos := view.Positional(valued...)
	if len(pos) == 0 || !slices.Contains(installSubs[mgr], pos[0]) {
		// `yarn` alone installs too.
		if mgr == "yarn" && len(pos) == 0 {
			return install{Manager: mgr, Cmd: c, Sub: "install"}, true
		}
		return install{}, false
	}
	in := install{Manager: mgr, Cmd: c, Sub: pos[0]}
	rest := pos[1:]
	if mgr == "yarn" && in.Sub == "global" && len(rest) > 0 {
		rest = rest[1:]
	}
	for _, p := range rest {
		if p == "" || strings.HasPrefix(p, "$") || strings.HasPrefix(p, ".") || strings.HasPrefix(p, "/") ||
			strings.HasSuffix(p, ".deb") || strings.HasSuffix(p, ".rpm") || strings.HasSuffix(p, ".whl") || strings.HasSuffix(p, ".tar.gz") ||
			strings.Contains(p, "://") && mgr != "go" {
			continue
		}
		in.Packages = append(in.Packages, p)
	}
	return in, true
}

// installs lists the package installations of a stage.
func installs(st *Stage) []struct {
	in *Instruction
	install
} {
	var out []struct {
		in *Instruction
		install
	}
	st.Commands(func(in *Instruction, c *shell.Command) {
		if i, ok := installOf(c); ok {
			out = append(out, struct {
				in *Instruction
				install
			}{in, i})
		}
	})
	return out
}

// pkgName strips a version pin or constraint from a package argument.
func pkgName(p string) string {
	if i := strings.IndexAny(p, "=<>~!@[ "); i > 0 {
		p = p[:i]
	}
	return strings.ToLower(p)
}

// laterIn reports whether some command after c in the same RUN satisfies
// pred (cleanup must happen in the same layer to save space).
func laterIn(in *Instruction, c *shell.Command, pred func(*shell.Command) bool) bool {
	for _, x := range in.Script.Commands[c.Index+1:] {
		if pred(x) {
			return true
		}
	}
	return false
}

// anyIn reports whether any command of the RUN satisfies pred.
func anyIn(in *Instruction, pred func(*shell.Command) bool) bool {
	return slices.ContainsFunc(in.Script.Commands, pred)
}

// removes reports whether c is an `rm` of a path starting with prefix.
func removes(c *shell.Command, prefix string) bool {
	if c.Name != "rm" {
		return false
	}
	for _, a := range c.Positional() {
		if strings.HasPrefix(a, prefix) {
			return true
		}
	}
	return false
}
