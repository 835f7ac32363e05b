package dockerfile

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/shell"
)

// install is one package installation found in a RUN.
type install struct {
	in *Instruction
	// Manager is the normalised tool: apt-get, apt, aptitude, apk, yum,
	// dnf, microdnf, tdnf, zypper, pip, pipx, npm, yarn, pnpm, gem, go,
	// cargo.
	Manager string
	Cmd     *shell.Command
	// Packages are the package arguments as written ("curl=8.5.0-2",
	// "requests==2.32.3"); local files and variables are left out.
	Packages []string
	// Sub is the subcommand used ("install", "add", "ci", "module
	// install", …).
	Sub string
}

// OS reports whether the manager installs distribution packages.
func (i install) OS() bool { return managers[i.Manager].os }

// manager is what dockvet knows of one package manager's command line.
type manager struct {
	os bool
	// installs are the subcommands that install the packages they name.
	installs []string
	// valued are the options that take a separate value, so that the
	// value is not taken for a package name.
	valued []string
	// fetches are the subcommands besides installs that download
	// packages into the manager's cache (upgrades, patches).
	fetches []string
}

var (
	aptValued = []string{"-o", "-t", "-c", "-a", "--option", "--target-release", "--default-release", "--config-file", "--host-architecture"}
	rpmValued = []string{"-c", "-x", "-d", "-e", "--enablerepo", "--disablerepo", "--installroot", "--releasever", "--exclude", "--repo", "--repoid",
		"--setopt", "--repofrompath", "--forcearch", "--downloaddir", "--destdir", "--config", "--debuglevel", "--errorlevel", "--rpmverbosity", "--use-host-config"}
	rpmFetches = []string{"upgrade", "up", "update", "upgrade-minimal", "up-min", "update-minimal", "distro-sync", "dsync", "distrosync",
		"downgrade", "dg", "groupinstall", "groupupdate", "group", "makecache", "swap", "builddep"}
	nodeValued = []string{"--prefix", "--registry", "--cache", "--cache-folder", "-w", "--workspace", "--omit", "--include", "--loglevel",
		"--tag", "--userconfig", "--globalconfig", "--install-strategy", "--otp", "--network-timeout", "--modules-folder", "--filter", "-C", "--dir"}
)

var managers = map[string]manager{
	"apt-get":  {os: true, installs: []string{"install", "reinstall"}, valued: aptValued},
	"apt":      {os: true, installs: []string{"install", "reinstall"}, valued: aptValued},
	"aptitude": {os: true, installs: []string{"install"}, valued: aptValued},
	"apk": {os: true, installs: []string{"add"}, valued: []string{"-X", "-t", "-p", "--repository", "--virtual", "--root", "--arch",
		"--keys-dir", "--repositories-file", "--cache-dir", "--cache-max-age", "--timeout"}},
	"yum":      {os: true, installs: []string{"install", "reinstall", "localinstall", "in"}, valued: rpmValued, fetches: rpmFetches},
	"dnf":      {os: true, installs: []string{"install", "in", "reinstall", "rei", "localinstall"}, valued: rpmValued, fetches: rpmFetches},
	"dnf5":     {os: true, installs: []string{"install", "in", "reinstall", "rei"}, valued: rpmValued, fetches: rpmFetches},
	"microdnf": {os: true, installs: []string{"install", "reinstall"}, valued: rpmValued, fetches: rpmFetches},
	"tdnf":     {os: true, installs: []string{"install", "reinstall"}, valued: rpmValued, fetches: rpmFetches},
	"zypper": {os: true, installs: []string{"install", "in"}, valued: []string{"-t", "-r", "--type", "--repo", "--from", "--root", "-R", "--releasever"},
		// remove loads the repositories too, and refreshes the ones set
		// to autorefresh into the cache.
		fetches: []string{"update", "up", "patch", "dist-upgrade", "dup", "source-install", "si", "remove", "rm"}},
	"pip": {installs: []string{"install"}, valued: []string{"-r", "-c", "-i", "-t", "-e", "-f", "--requirement", "--constraint", "--index-url",
		"--extra-index-url", "--target", "--prefix", "--root", "--trusted-host", "--editable", "--find-links", "--python-version", "--platform",
		"--cache-dir", "--src", "--upgrade-strategy", "--progress-bar", "--log", "--root-user-action", "--report", "--python", "--abi",
		"--implementation", "--only-binary", "--no-binary", "--global-option", "--config-settings", "-C", "--use-feature", "--retries",
		"--timeout", "--proxy", "--cert", "--client-cert", "--exists-action", "--keyring-provider", "--use-deprecated", "--group"}},
	"pipx": {installs: []string{"install"}, valued: []string{"--python", "--pip-args", "--suffix", "--index-url", "-i", "--spec", "--preinstall"}},
	"npm":  {installs: []string{"install", "i", "add", "isntall", "in", "ci"}, valued: nodeValued},
	"yarn": {installs: []string{"add", "install", "global"}, valued: nodeValued},
	"pnpm": {installs: []string{"add", "install", "i"}, valued: nodeValued},
	"gem": {installs: []string{"install", "i"}, valued: []string{"-v", "-i", "-n", "-s", "-P", "--version", "--install-dir", "--bindir",
		"--source", "--platform", "--trust-policy"}},
	"go":    {installs: []string{"install", "get", "run"}, valued: []string{"-C", "-o", "-p", "-tags", "-ldflags", "-gcflags", "-modfile", "-mod", "-exec", "-toolexec", "-pgo"}},
	"cargo": {installs: []string{"install"}, valued: []string{"--version", "--vers", "--git", "--branch", "--tag", "--rev", "--path", "--root", "--index", "--registry", "--target", "--features", "-F", "-j", "--jobs", "--profile", "--config"}},
}

var pipName = regexp.MustCompile(`^pip[0-9.]*$`)

// managerOf normalises the command name; `python3 -m pip` and `pip3` are
// pip. pipenv installs from its Pipfile and is not pip.
func managerOf(c *shell.Command) (string, []string) {
	name, args := c.Name, c.Args
	switch {
	case pipName.MatchString(name):
		return "pip", args
	case strings.HasPrefix(name, "python") && len(args) >= 2 && args[0] == "-m" && pipName.MatchString(args[1]):
		return "pip", args[2:]
	}
	if _, ok := managers[name]; ok {
		return name, args
	}
	return "", nil
}

// simulated reports whether an apt install only shows what it would do.
func simulated(mgr string, c *shell.Command) bool {
	switch mgr {
	case "apt-get", "apt", "aptitude":
		return c.Has("-s", "--simulate", "--just-print", "--dry-run", "--recon", "--no-act")
	case "yum", "dnf", "dnf5", "microdnf", "tdnf":
		return c.Has("--assumeno")
	}
	return false
}

// informational are options that make a manager print and exit.
var informational = []string{"--version", "-v", "--help", "-h", "-V"}

// installOf recognises a package installation.
func installOf(c *shell.Command) (install, bool) {
	mgr, args := managerOf(c)
	if mgr == "" || simulated(mgr, c) {
		return install{}, false
	}
	m := managers[mgr]
	view := &shell.Command{Name: mgr, Args: args}
	pos := positional(mgr, view, m.valued)
	if len(pos) == 0 {
		// `yarn` alone installs the lock file; `yarn --version` does not.
		if mgr == "yarn" && !view.Has(informational...) {
			return install{Manager: mgr, Cmd: c, Sub: "install"}, true
		}
		return install{}, false
	}
	sub, rest := pos[0], pos[1:]
	switch {
	case slices.Contains(m.installs, sub):
	case sub == "module" && len(rest) > 0 && rest[0] == "install" && slices.Contains(m.fetches, "upgrade"):
		sub, rest = "module install", rest[1:]
	case sub == "group" && len(rest) > 0 && rest[0] == "install" && slices.Contains(m.fetches, "upgrade"):
		sub, rest = "group install", rest[1:]
	default:
		return install{}, false
	}
	if mgr == "yarn" && sub == "global" {
		if len(rest) == 0 || rest[0] != "add" {
			return install{}, false
		}
		rest = rest[1:]
	}
	if mgr == "go" && sub == "run" {
		// `go run .` builds local code; only `go run example.com/x@v` fetches.
		if len(rest) == 0 || !remoteModule(rest[0]) {
			return install{}, false
		}
		rest = rest[:1]
	}
	in := install{Manager: mgr, Cmd: c, Sub: sub}
	for _, p := range rest {
		if localPackage(mgr, p) {
			continue
		}
		in.Packages = append(in.Packages, p)
	}
	return in, true
}

// positional returns a manager's positional arguments: its options'
// values are not packages, nor are gem's build options after `--`, nor
// the true/false value of an option gem does not define.
func positional(mgr string, c *shell.Command, valued []string) []string {
	args := c.Args
	if mgr == "gem" {
		if i := slices.Index(args, "--"); i >= 0 {
			args = args[:i]
		}
	}
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i+1:]...)
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			if slices.Contains(valued, a) {
				i++
			} else if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") && i+1 < len(args) && (args[i+1] == "true" || args[i+1] == "false") {
				i++
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// localPackage reports whether an install argument is a file or directory
// rather than a package from an index, or is only known at build time.
func localPackage(mgr, p string) bool {
	switch {
	case p == "", strings.HasPrefix(p, "$"), strings.HasPrefix(p, "."), strings.HasPrefix(p, "/"), strings.HasPrefix(p, "~"):
		return true
	}
	for _, ext := range []string{".deb", ".rpm", ".apk", ".whl", ".tar.gz", ".tgz", ".tar", ".zip", ".gem", ".tar.bz2"} {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	switch mgr {
	case "pip", "pipx":
		// A requirement with a path separator is a local path; a URL is a
		// download, and a VCS URL a checkout (pinned or not, judged by
		// DV1110).
		return strings.Contains(p, "/") && !vcsURL(p) && !strings.Contains(p, "://")
	case "npm", "yarn", "pnpm":
		return false
	case "go":
		return false
	}
	return strings.Contains(p, "://")
}

// vcsURL reports a package given as a version-control URL: pip's
// git+https://…, npm's git+ssh://… and git://….
func vcsURL(p string) bool {
	return strings.HasPrefix(p, "git+") || strings.HasPrefix(p, "git://") || strings.HasPrefix(p, "hg+") ||
		strings.HasPrefix(p, "svn+") || strings.HasPrefix(p, "bzr+") || strings.HasPrefix(p, "github:")
}

// remoteModule reports whether a `go run` argument names a module to fetch
// (example.com/tool@v1) rather than local files.
func remoteModule(p string) bool {
	if strings.HasSuffix(p, ".go") || strings.HasPrefix(p, ".") || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "$") {
		return false
	}
	first, _, _ := strings.Cut(p, "/")
	return strings.Contains(first, ".")
}

// fetchesOther reports whether c, a command that is not an install,
// downloads packages into its manager's cache all the same: an upgrade, a
// patch or a group install. It names the manager and subcommand.
func fetchesOther(c *shell.Command) (string, string, bool) {
	mgr, args := managerOf(c)
	if mgr == "" || simulated(mgr, c) {
		return "", "", false
	}
	m := managers[mgr]
	pos := positional(mgr, &shell.Command{Name: mgr, Args: args}, m.valued)
	if len(pos) > 0 && slices.Contains(m.fetches, pos[0]) {
		return mgr, pos[0], true
	}
	return "", "", false
}

// installs lists the package installations of a stage, read once: six
// rules ask. Callers must not change what they get.
func installs(st *Stage) []install {
	if st.installs == nil {
		out := []install{}
		st.installBy = map[*shell.Command]int{}
		st.Commands(func(in *Instruction, c *shell.Command) {
			if i, ok := installOf(c); ok {
				i.in = in
				st.installBy[c] = len(out)
				out = append(out, i)
			}
		})
		st.installs = out
	}
	return st.installs
}

// installIn is installOf(c) for a command c of st, from installs(st).
func installIn(st *Stage, c *shell.Command) (install, bool) {
	all := installs(st)
	if i, ok := st.installBy[c]; ok {
		return all[i], true
	}
	return install{}, false
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

// removes reports whether c deletes dir or everything in it: `rm -rf
// dir`, `rm -rf dir/*`, `rm -rf` of a parent of dir, or `find dir …
// -delete`.
func removes(c *shell.Command, dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	switch c.Name {
	case "rm":
		for _, a := range c.Positional() {
			if coversDir(a, dir) {
				return true
			}
		}
	case "find":
		if pos := c.Positional(); len(pos) > 0 && (c.Has("-delete") || slices.Contains(c.Args, "-exec") && slices.Contains(c.Args, "rm")) {
			return coversDir(pos[0], dir)
		}
	}
	return false
}

// coversDir reports whether removing the path arg removes the contents of
// dir: arg is dir, its contents (dir/*), or a directory above it.
func coversDir(arg, dir string) bool {
	a := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(arg, "/*"), "/**"), "/")
	if a == "" || strings.ContainsAny(a, "*?[") {
		return false
	}
	a = path.Clean(a)
	return a == dir || strings.HasPrefix(dir, a+"/") && a != "/"
}
