package dockerfile

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/shell"
)

var refBestPractice = []string{"https://docs.docker.com/build/building/best-practices/#run"}

// finalInstalls lists package installations in the stages the final image is
// built from. Size rules only look there: what build stages leave behind is
// not shipped.
func finalInstalls(p *Pass) []install {
	var out []install
	for _, st := range p.File.Final().Chain() {
		out = append(out, installs(st)...)
	}
	return out
}

// cacheMounted reports whether the RUN mounts a cache or tmpfs over dir, so
// nothing written there reaches the layer.
func cacheMounted(in *Instruction, dirs ...string) bool {
	for _, m := range in.Mounts() {
		if m.Type != instructions.MountTypeCache && m.Type != instructions.MountTypeTmpfs {
			continue
		}
		for _, d := range dirs {
			if strings.TrimSuffix(m.Target, "/") == d || strings.HasPrefix(d, strings.TrimSuffix(m.Target, "/")+"/") {
				return true
			}
		}
	}
	return false
}

// cacheLeft is the check of the rules about a package manager's cache left
// in a layer of the final image: a command of one of managers that fills
// the cache (an install, or with fetches an upgrade or patch too), with no
// cache mount over dirs and no command of the same RUN that cleaned it
// afterwards. The message ends with the rule's remediation.
type cacheLeft struct {
	managers []string
	dirs     []string
	// fetches counts upgrades and patches as well as installs.
	fetches bool
	cleaned func(*shell.Command) bool
	// keeps, when set, says an install keeps nothing (apk --no-cache).
	keeps func(in *Instruction, c *shell.Command) bool
}

func (c cacheLeft) check(p *Pass) {
	for _, st := range p.File.Final().Chain() {
		st.Commands(func(in *Instruction, cmd *shell.Command) {
			mgr, sub := "", ""
			if i, ok := installIn(st, cmd); ok {
				mgr, sub = i.Manager, i.Sub
			} else if c.fetches {
				if m, s, ok := fetchesOther(cmd); ok {
					mgr, sub = m, s
				}
			}
			if !slices.Contains(c.managers, mgr) {
				return
			}
			if cacheMounted(in, c.dirs...) || laterIn(in, cmd, c.cleaned) || c.keeps != nil && !c.keeps(in, cmd) {
				return
			}
			p.ReportCmd(in, cmd, "`%s %s` leaves its package cache in the layer; %s", mgr, sub, p.Rule().Remediation)
		})
	}
}

var ruleAptLists = &Rule{
	Rule: finding.Rule{
		ID: "DV1051", Title: "apt lists not removed after install", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Peers: []string{"DL3009"},
		Description: "apt-get install after apt-get update leaves the package lists (tens of MB) in the layer. They are useless at run time and stale by the next build. " +
			"A stage that removes /etc/apt/apt.conf.d/docker-clean (to keep packages for a cache mount) also keeps every downloaded .deb unless /var/cache/apt is mounted or cleaned.",
		Remediation: "end the same RUN with `rm -rf /var/lib/apt/lists/*` or `apt-get dist-clean` (or use a cache mount).",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Final().Chain() {
			st.Commands(func(in *Instruction, c *shell.Command) {
				i, ok := installIn(st, c)
				if !ok || i.Manager != "apt-get" && i.Manager != "apt" && i.Manager != "aptitude" {
					return
				}
				if !cacheMounted(in, "/var/lib/apt/lists") && !laterIn(in, c, cleansAptLists) {
					p.ReportCmd(in, c, "`%s %s` leaves its package cache in the layer; %s", i.Manager, i.Sub, p.Rule().Remediation)
					return
				}
				if kept := keepsDebs(p.File.Final(), in); kept != nil && !cacheMounted(in, "/var/cache/apt/archives") && !laterIn(in, c, cleansAptArchives) {
					p.ReportCmd(in, c, "`%s %s` keeps the downloaded packages in /var/cache/apt: the RUN on line %d removed docker-clean, and nothing mounts or cleans that directory.", i.Manager, i.Sub, kept.Line)
				}
			})
		}
	},
}

// cleansAptLists reports a command that removes apt's package lists:
// `rm -rf /var/lib/apt/lists/*` (or a directory above it), or `apt-get
// dist-clean` (apt 2.7 and later), which removes lists and packages.
func cleansAptLists(c *shell.Command) bool {
	return removes(c, "/var/lib/apt/lists") || (c.Name == "apt-get" || c.Name == "apt") && c.Subcommand(aptValued...) == "dist-clean"
}

// cleansAptArchives reports a command that removes downloaded .deb files.
func cleansAptArchives(c *shell.Command) bool {
	if c.Name == "apt-get" || c.Name == "apt" || c.Name == "aptitude" {
		switch c.Subcommand(aptValued...) {
		case "clean", "autoclean", "dist-clean":
			return true
		}
	}
	return removes(c, "/var/cache/apt/archives")
}

// keepsDebs returns the RUN that removed Debian's docker-clean hook (which
// makes apt delete each .deb after installing it), when one did in the
// stages st is built from, up to in.
func keepsDebs(st *Stage, upTo *Instruction) *Instruction {
	for _, s := range st.Chain() {
		for _, in := range s.Instructions {
			if in.Script == nil || in.Line > upTo.Line {
				continue
			}
			if anyIn(in, func(c *shell.Command) bool {
				return c.Name == "rm" && slices.ContainsFunc(c.Positional(), func(a string) bool { return a == "/etc/apt/apt.conf.d/docker-clean" })
			}) {
				return in
			}
		}
	}
	return nil
}

var ruleApkCache = &Rule{
	Rule: finding.Rule{
		ID: "DV1052", Title: "apk add without --no-cache", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Peers:       []string{"DL3019", "AVD-DS-0025"},
		Description: "`apk add` without --no-cache keeps the package index in /var/cache/apk.",
		Remediation: "use `apk add --no-cache …`.",
		References:  refBestPractice,
	},
	Check: cacheLeft{
		managers: []string{"apk"},
		dirs:     []string{"/var/cache/apk", "/etc/apk/cache"},
		cleaned:  func(c *shell.Command) bool { return removes(c, "/var/cache/apk") || removes(c, "/etc/apk/cache") },
		// --no-network installs from what is already there and downloads
		// no index.
		keeps: func(_ *Instruction, c *shell.Command) bool { return !c.Has("--no-cache", "--no-network") },
	}.check,
}

// cleansAll reports `<manager> clean all` by one of the rpm managers.
func cleansAll(c *shell.Command) bool {
	if _, ok := managers[c.Name]; !ok || !managers[c.Name].os {
		return false
	}
	pos := c.Positional(managers[c.Name].valued...)
	return len(pos) >= 2 && pos[0] == "clean" && slices.Contains(pos[1:], "all")
}

var ruleYumCache = &Rule{
	Rule: finding.Rule{
		ID: "DV1053", Title: "yum cache not cleaned", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Peers:       []string{"DL3032", "AVD-DS-0015"},
		Description: "`yum install` (and upgrade) leaves its metadata and package cache in /var/cache/yum unless the same RUN cleans it; `yum clean metadata` or `packages` alone leaves the rest.",
		Remediation: "end the same RUN with `yum clean all && rm -rf /var/cache/yum`.",
		References:  refBestPractice,
	},
	Check: cacheLeft{
		managers: []string{"yum"},
		dirs:     []string{"/var/cache/yum"},
		fetches:  true,
		cleaned:  func(c *shell.Command) bool { return c.Name == "yum" && cleansAll(c) || removes(c, "/var/cache/yum") },
	}.check,
}

var ruleDnfCache = &Rule{
	Rule: finding.Rule{
		ID: "DV1054", Title: "dnf/microdnf cache not cleaned", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Peers:       []string{"DL3040", "AVD-DS-0019", "AVD-DS-0027"},
		Description: "`dnf`/`microdnf install` (and upgrade) leaves repository metadata and packages in /var/cache unless the same RUN cleans it afterwards.",
		Remediation: "end the same RUN with `dnf clean all` (or `microdnf clean all`).",
		References:  refBestPractice,
	},
	Check: cacheLeft{
		managers: []string{"dnf", "dnf5", "microdnf", "tdnf"},
		dirs:     []string{"/var/cache/dnf", "/var/cache/yum", "/var/cache/tdnf", "/var/cache/libdnf5"},
		fetches:  true,
		cleaned: func(c *shell.Command) bool {
			return cleansAll(c) || removes(c, "/var/cache/dnf") || removes(c, "/var/cache/yum") || removes(c, "/var/cache/tdnf") || removes(c, "/var/cache/libdnf5")
		},
	}.check,
}

var ruleZypperCache = &Rule{
	Rule: finding.Rule{
		ID: "DV1055", Title: "zypper cache not cleaned", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Peers:       []string{"DL3036", "AVD-DS-0020"},
		Description: "`zypper install` (and update, patch, dist-upgrade, and remove, which refreshes repository metadata) keeps downloaded packages and metadata in /var/cache/zypp unless the same RUN cleans it afterwards.",
		Remediation: "end the same RUN with `zypper clean --all`.",
		References:  refBestPractice,
	},
	Check: cacheLeft{
		managers: []string{"zypper"},
		dirs:     []string{"/var/cache/zypp"},
		fetches:  true,
		cleaned: func(c *shell.Command) bool {
			sub := c.Subcommand(managers["zypper"].valued...)
			return c.Name == "zypper" && (sub == "clean" || sub == "cc") || removes(c, "/var/cache/zypp")
		},
	}.check,
}

var ruleNpmCache = &Rule{
	Rule: finding.Rule{
		ID: "DV1059", Title: "npm/yarn cache not cleaned", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Peers:       []string{"DL3060"},
		Description: "npm and yarn keep a copy of every downloaded package in their cache directory (npm_config_cache, YARN_CACHE_FOLDER or the default), which then ships in the layer.",
		Remediation: "add `&& npm cache clean --force` (or `yarn cache clean`) to the same RUN, or use a cache mount.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, i := range finalInstalls(p) {
			if i.Manager != "npm" && i.Manager != "yarn" {
				continue
			}
			dirs := []string{"/root/.npm", "/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/home/node/.npm", "/home/node/.cache/yarn"}
			// The environment moves the cache; then only its new place counts.
			for _, v := range []string{"npm_config_cache", "NPM_CONFIG_CACHE", "YARN_CACHE_FOLDER"} {
				if d, ok := envOf(i.in, i.Cmd, v); ok && strings.HasPrefix(d, "/") {
					dirs = []string{strings.TrimSuffix(d, "/")}
				}
			}
			if i.Cmd.Has("--cache", "--cache-folder") || cacheMounted(i.in, dirs...) {
				continue
			}
			if laterIn(i.in, i.Cmd, func(c *shell.Command) bool {
				pos := c.Positional()
				if (c.Name == "npm" || c.Name == "yarn") && len(pos) >= 2 && pos[0] == "cache" && pos[1] == "clean" {
					return true
				}
				return slices.ContainsFunc(dirs, func(d string) bool { return removes(c, d) })
			}) {
				continue
			}
			p.ReportCmd(i.in, i.Cmd, "`%s %s` leaves its package cache in the layer; %s", i.Manager, i.Sub, p.Rule().Remediation)
		}
	},
}

// envOf is the value a command's environment gives name, as the shell
// running it sees it: an assignment before the command (`X=1 cmd`), an
// `export X=1` earlier in the RUN, or an ENV or ARG of the stage.
func envOf(in *Instruction, c *shell.Command, name string) (string, bool) {
	for _, a := range c.Assigns {
		if a.Name == name {
			return a.Value, true
		}
	}
	for _, x := range in.Script.Commands[:c.Index] {
		if x.Name != "export" {
			continue
		}
		for _, a := range x.Assigns {
			if a.Name == name {
				return a.Value, true
			}
		}
	}
	if in.Scope != nil {
		if v, ok := in.Scope.Get(name); ok {
			return v, true
		}
	}
	return "", false
}

var ruleNoRecommends = &Rule{
	Rule: finding.Rule{
		ID: "DV1050", Title: "apt-get install without --no-install-recommends", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Peers:       []string{"DL3015", "AVD-DS-0029"},
		Surfaces:    historySurfaces,
		Description: "Without --no-install-recommends apt also installs every 'recommended' package, often doubling the size and attack surface of the image.",
		Remediation: "Use `apt-get install -y --no-install-recommends …`.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, i := range finalInstalls(p) {
			if i.Manager != "apt-get" && i.Manager != "apt" {
				continue
			}
			if i.Cmd.Has("--no-install-recommends") || recommendsOff(i.Cmd) {
				continue
			}
			p.ReportCmd(i.in, i.Cmd, "`%s install` without --no-install-recommends pulls in recommended packages.", i.Manager)
		}
	},
}

var recommendsRe = regexp.MustCompile(`(?i)^APT::Install-Recommends=("?)(false|0|no)("?)$`)

func recommendsOff(c *shell.Command) bool {
	v, ok := c.Value("-o", "--option")
	return ok && recommendsRe.MatchString(v)
}

var rulePipCache = &Rule{
	Rule: finding.Rule{
		ID: "DV1056", Title: "pip install without --no-cache-dir", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Peers: []string{"DL3042"},
		Description: "pip keeps downloaded wheels in ~/.cache/pip (or PIP_CACHE_DIR), which then ships in the layer. " +
			"PIP_NO_CACHE_DIR set by ENV, ARG, `export` or before the command turns the cache off whatever its value: pip disables the cache for `false` and `0` too.",
		Remediation: "Use `pip install --no-cache-dir …`, set `ENV PIP_NO_CACHE_DIR=1`, or mount a cache: `RUN --mount=type=cache,target=/root/.cache/pip`.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, i := range finalInstalls(p) {
			if i.Manager != "pip" || i.Cmd.Has("--no-cache-dir") {
				continue
			}
			if _, off := envOf(i.in, i.Cmd, "PIP_NO_CACHE_DIR"); off {
				continue
			}
			dir := "/root/.cache/pip"
			if d, ok := envOf(i.in, i.Cmd, "PIP_CACHE_DIR"); ok && strings.HasPrefix(d, "/") {
				dir = strings.TrimSuffix(d, "/")
			}
			if d, ok := i.Cmd.Value("--cache-dir"); ok && strings.HasPrefix(d, "/") {
				dir = strings.TrimSuffix(d, "/")
			}
			if cacheMounted(i.in, dir, "/root/.cache/pip") || homeCacheMounted(i.in) || laterIn(i.in, i.Cmd, func(c *shell.Command) bool {
				return removes(c, dir) || removes(c, "~/.cache/pip") || removes(c, "$HOME/.cache/pip") ||
					pipName.MatchString(c.Name) && c.Subcommand() == "cache" && slices.Contains(c.Args, "purge")
			}) {
				continue
			}
			p.ReportCmd(i.in, i.Cmd, "`pip install` without --no-cache-dir leaves its download cache in the layer.")
		}
	},
}

// homeCacheMounted reports a cache or tmpfs mount over some user's
// ~/.cache or ~/.cache/pip, where pip run as that user keeps its cache.
func homeCacheMounted(in *Instruction) bool {
	for _, m := range in.Mounts() {
		t := strings.TrimSuffix(m.Target, "/")
		if (m.Type == instructions.MountTypeCache || m.Type == instructions.MountTypeTmpfs) && (strings.HasSuffix(t, "/.cache") || strings.HasSuffix(t, "/.cache/pip")) {
			return true
		}
	}
	return false
}

// buildTools are packages for building software, not running it.
var buildTools = map[string]bool{
	"build-essential": true, "gcc": true, "g++": true, "clang": true, "make": true, "cmake": true, "autoconf": true, "automake": true,
	"libtool": true, "pkg-config": true, "pkgconf": true, "gcc-c++": true, "musl-dev": true, "build-base": true, "alpine-sdk": true,
	"golang": true, "golang-go": true, "go": true, "rustc": true, "cargo": true, "maven": true, "gradle": true, "default-jdk": true,
	"openjdk-17-jdk": true, "openjdk-21-jdk": true, "nodejs-dev": true, "python3-dev": true, "python-dev": true, "git": true,
	"curl": true, "wget": true, "development tools": true, "gfortran": true, "bison": true, "flex": true, "ninja-build": true,
}

var ruleBuildTools = &Rule{
	Rule: finding.Rule{
		ID: "DV1057", Title: "Build tools installed in a single-stage build", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Description: "The Dockerfile has one stage and installs compilers, build systems, headers or download tools (curl, wget, git). " +
			"They are needed to build, not to run, and give an attacker in the container everything needed to fetch and build tools.",
		Remediation: "Use a multi-stage build: install the tools and build in a `FROM … AS build` stage, then copy only the artefacts into a slim runtime stage.",
		References:  []string{"https://docs.docker.com/build/building/multi-stage/"},
	},
	Check: func(p *Pass) {
		if len(p.File.Stages) != 1 {
			return
		}
		for _, i := range finalInstalls(p) {
			if !i.OS() {
				continue
			}
			var tools []string
			for _, pkg := range i.Packages {
				n := pkgName(pkg)
				if buildTools[n] || strings.HasSuffix(n, "-dev") || strings.HasSuffix(n, "-devel") {
					tools = append(tools, n)
				}
			}
			if len(tools) > 0 && !removedLater(i.in, i.Cmd, tools) {
				p.ReportCmd(i.in, i.Cmd, "The only stage installs build tools (%s); they ship in the final image.", listShort(tools))
			}
		}
	},
}

// removedLater reports whether the same RUN purges the packages again
// (`apk del`, `apt-get purge`), the single-stage way to keep them out.
func removedLater(in *Instruction, c *shell.Command, pkgs []string) bool {
	return laterIn(in, c, func(x *shell.Command) bool {
		sub := x.Subcommand()
		switch {
		case x.Name == "apk" && sub == "del", (x.Name == "apt-get" || x.Name == "apt") && (sub == "purge" || sub == "remove"),
			(x.Name == "yum" || x.Name == "dnf") && (sub == "remove" || sub == "erase"):
			return true
		}
		return false
	}) || c.Name == "apk" && c.Has("--virtual", "-t")
}

func listShort(items []string) string {
	if len(items) > 4 {
		return strings.Join(items[:4], ", ") + fmt.Sprintf(" and %d more", len(items)-4)
	}
	return strings.Join(items, ", ")
}

var ruleCopyRoot = &Rule{
	Rule: finding.Rule{
		ID: "DV1058", Title: "COPY --from copies a whole filesystem", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Peers:       []string{"DL3067"},
		Description: "`COPY --from=<stage> / …` copies every file of the other stage, toolchain and caches included, which defeats the point of a multi-stage build.",
		Remediation: "Copy only the artefacts the runtime needs: `COPY --from=build /app/bin/server /usr/local/bin/`.",
		References:  []string{"https://docs.docker.com/build/building/multi-stage/"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				c, ok := in.Command.(*instructions.CopyCommand)
				if !ok || c.From == "" {
					continue
				}
				for _, s := range c.SourcePaths {
					if s == "/" || s == "/." || s == "/*" {
						p.Report(in, "COPY --from=%s %s copies the whole filesystem of %s.", c.From, s, c.From)
					}
				}
			}
		}
	},
}

// hygiene rules about package managers

var ruleAssumeYes = &Rule{
	Rule: finding.Rule{
		ID: "DV1107", Title: "Package install is interactive", Practice: finding.PracticeHygiene, Severity: finding.Medium,
		Peers:       []string{"DL3014", "DL3030", "DL3034", "DL3038", "AVD-DS-0021"},
		Surfaces:    historySurfaces,
		Description: "The package manager is run without its non-interactive flag, so the build waits for an answer nobody gives and fails or hangs.",
		Remediation: "Add the flag: `apt-get install -y`, `yum/dnf install -y`, `zypper --non-interactive install`.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		fedByYes := shell.FedBy(func(x *shell.Command) bool { return x.Name == "yes" })
		for _, st := range p.File.Stages {
			for _, i := range installs(st) {
				c := i.Cmd
				if fedByYes(c) != nil {
					continue
				}
				var missing bool
				switch i.Manager {
				case "apt-get", "apt":
					missing = !c.Has("-y", "--yes", "--assume-yes") && !qq(c) && !assumeYesOption(c)
				case "aptitude":
					missing = !c.Has("-y", "--assume-yes")
				case "yum", "dnf", "dnf5", "tdnf":
					missing = !c.Has("-y", "--assumeyes")
				case "zypper":
					missing = !c.Has("-n", "--non-interactive", "-y", "--no-confirm")
				}
				if missing {
					p.ReportCmd(i.in, c, "`%s %s` has no non-interactive flag (-y).", i.Manager, i.Sub)
				}
			}
		}
	},
}

// qq reports apt's quiet level 2, which implies -y: -qq, -q=2, or -q
// given twice in any spelling.
func qq(c *shell.Command) bool {
	n := 0
	for _, a := range c.Args {
		switch {
		case a == "--":
			return n >= 2
		case a == "-q=2" || a == "--quiet=2":
			return true
		case a == "--quiet":
			n++
		case isShort(a) && isLetters(a[1:]):
			n += strings.Count(a, "q")
		}
	}
	return n >= 2
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

func isShort(a string) bool { return len(a) > 1 && a[0] == '-' && a[1] != '-' }

func assumeYesOption(c *shell.Command) bool {
	v, ok := c.Value("-o", "--option")
	return ok && strings.HasPrefix(strings.ToLower(v), "apt::get::assume-yes=")
}

var ruleApt = &Rule{
	Rule: finding.Rule{
		ID: "DV1108", Title: "apt used instead of apt-get", Practice: finding.PracticeHygiene, Severity: finding.Info,
		Peers:       []string{"DL3027"},
		Surfaces:    historySurfaces,
		Description: "`apt` is meant for people: its output and behaviour may change between releases and it warns that it has no stable CLI. Scripts should use apt-get.",
		Remediation: "Use `apt-get` (and `apt-cache`) in Dockerfiles.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if c.Name == "apt" && c.Subcommand() != "" {
					p.ReportCmd(in, c, "`apt %s` in a script; use apt-get.", c.Subcommand())
				}
			})
		}
	},
}

var ruleOSPin = &Rule{
	Rule: finding.Rule{
		ID: "DV1109", Title: "OS packages installed without versions", Practice: finding.PracticeHygiene, Severity: finding.Info,
		Peers:    []string{"DL3008", "DL3018", "DL3033", "DL3037", "DL3041"},
		Surfaces: historySurfaces,
		Description: "Distribution packages are installed without a version, so two builds of the same Dockerfile can contain different software. " +
			"(Pinning trades reproducibility for manual updates; many teams prefer rebuilding often instead.)",
		Remediation: "Pin versions where reproducibility matters (`apt-get install curl=8.14.1-2`, `apk add curl=8.14.1-r1`), and update them with a bot.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, i := range installs(st) {
				if !i.OS() || i.Cmd.Has("-t", "--target-release", "--default-release") || i.Sub == "group install" {
					continue
				}
				var loose []string
				for _, pkg := range i.Packages {
					if !osPinned(i.Manager, i.Sub, runWord(p.File, i.in, i.Cmd, pkg)) {
						loose = append(loose, pkg)
					}
				}
				if len(loose) > 0 {
					p.ReportCmd(i.in, i.Cmd, "`%s %s` installs %s without a version.", i.Manager, i.Sub, listShort(loose))
				}
			}
		}
	},
}

var rpmVersioned = regexp.MustCompile(`-[0-9][^/]*$`)

func osPinned(mgr, sub, pkg string) bool {
	if sub == "module install" {
		return strings.Contains(pkg, ":") // name:stream
	}
	if i := strings.IndexByte(pkg, '$'); i > 0 {
		return true // the version comes from the build or the base image
	}
	switch mgr {
	case "apt-get", "apt":
		return strings.Contains(pkg, "=") || strings.Contains(pkg, "/") // pkg=1.2 or pkg/release
	case "apk":
		return strings.ContainsAny(pkg, "=~<>")
	case "zypper":
		return strings.ContainsAny(pkg, "=<>")
	default: // yum, dnf, microdnf, tdnf: name-version[-release]
		return rpmVersioned.MatchString(pkg) || strings.ContainsAny(pkg, "=<>")
	}
}

var ruleLangPin = &Rule{
	Rule: finding.Rule{
		ID: "DV1110", Title: "Language packages installed without versions", Practice: finding.PracticeHygiene, Severity: finding.Info,
		Peers:    []string{"DL3013", "DL3016", "DL3028", "DL3062"},
		Surfaces: historySurfaces,
		Description: "pip, pipx, npm, yarn, pnpm, gem, go or cargo install a package by name only (or a Git branch), so every build may fetch a different, " +
			"possibly compromised, release. A constraints file (`pip install -c`) or a lock file pins them.",
		Remediation: "Pin exact versions (`pip install requests==2.32.3`, `npm install -g pnpm@9.1.0`, `go install example.com/tool@v1.2.3`, " +
			"a commit for `git+https://…@<sha>`), or install from a lock file.",
		References: refBestPractice,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, i := range installs(st) {
				if i.OS() {
					continue // DV1109
				}
				var loose []string
				for _, pkg := range i.Packages {
					if !langPinned(i, runWord(p.File, i.in, i.Cmd, pkg)) {
						loose = append(loose, pkg)
					}
				}
				switch {
				case i.Manager == "cargo" && i.Cmd.Has("--version", "--vers", "--locked", "--rev", "--tag"):
					loose = nil
				case i.Manager == "gem" && i.Cmd.Has("-v", "--version"):
					loose = nil
				case i.Manager == "pip" && i.Cmd.Has("-c", "--constraint"):
					loose = nil // the constraints file pins them
				}
				if len(loose) > 0 {
					p.ReportCmd(i.in, i.Cmd, "`%s %s` installs %s without a pinned version.", i.Manager, i.Sub, listShort(loose))
				}
			}
		}
	},
}

// langPinned reports whether a language package argument names one
// version.
func langPinned(i install, pkg string) bool {
	if strings.Contains(pkg, "$") {
		return true // decided by the build
	}
	if vcsURL(pkg) || strings.Contains(pkg, "://") {
		return vcsPinned(pkg)
	}
	switch i.Manager {
	case "pip", "pipx":
		return strings.ContainsAny(pkg, "=<>~@") || strings.Contains(pkg, "!=")
	case "npm", "yarn", "pnpm":
		_, v, ok := strings.Cut(strings.TrimPrefix(pkg, "@"), "@")
		return ok && v != "" && v != "latest" && v != "next"
	case "gem":
		return strings.Contains(pkg, ":")
	case "go":
		_, v, ok := strings.Cut(pkg, "@")
		return ok && v != "latest" && v != "master" && v != "main" && v != "upgrade" && v != "patch"
	}
	return false // cargo: only --version, --locked and the like pin
}

var (
	commitish  = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
	versionTag = regexp.MustCompile(`^(?:semver:)?[v=^~]?[0-9]+(?:\.[0-9]+)+[-+.\w]*$`)
)

// vcsPinned reports whether a package given as a URL names one commit or
// release: pip's `git+https://host/repo.git@<ref>`, npm's `…#<ref>` or
// `#semver:<range>`. A branch name moves; a commit or a version tag does
// not. A plain https archive URL is as fixed as its server.
func vcsPinned(u string) bool {
	if !vcsURL(u) {
		return true
	}
	ref := ""
	if i := strings.LastIndexByte(u, '#'); i >= 0 {
		ref = u[i+1:]
		u = u[:i]
		if strings.HasPrefix(ref, "egg=") || strings.HasPrefix(ref, "subdirectory=") {
			ref = ""
		}
	}
	if ref == "" {
		// pip puts the ref after the last @ of the path, past the host.
		rest := u
		if _, after, ok := strings.Cut(u, "://"); ok {
			rest = after
		}
		if slash := strings.IndexByte(rest, '/'); slash >= 0 {
			if at := strings.LastIndexByte(rest[slash:], '@'); at >= 0 {
				ref = rest[slash+at+1:]
			}
		}
	}
	return commitish.MatchString(ref) || versionTag.MatchString(ref) || strings.HasPrefix(ref, "semver:")
}

var ruleNpmCI = &Rule{
	Rule: finding.Rule{
		ID: "DV1105", Title: "npm install instead of npm ci", Practice: finding.PracticeHygiene, Severity: finding.Low,
		Surfaces:    historySurfaces,
		Description: "`npm install` may update package-lock.json and resolve different versions than were tested; `npm ci` installs exactly the lock file and fails if it is out of date.",
		Remediation: "Copy package.json and package-lock.json, then `RUN npm ci --omit=dev`.",
		References:  []string{"https://docs.npmjs.com/cli/commands/npm-ci"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, i := range installs(st) {
				if i.Manager == "npm" && (i.Sub == "install" || i.Sub == "i") && len(i.Packages) == 0 && !i.Cmd.Has("-g", "--global") {
					p.ReportCmd(i.in, i.Cmd, "`npm %s` resolves dependencies anew; use `npm ci` to install the lock file exactly.", i.Sub)
				}
			}
		}
	},
}

// updates reports whether c refreshes a package index.
func updates(c *shell.Command) bool {
	sub := c.Subcommand()
	switch c.Name {
	case "apt-get", "apt", "aptitude":
		return sub == "update"
	case "apk":
		return sub == "update"
	case "yum", "dnf":
		return sub == "makecache"
	case "zypper":
		return sub == "refresh" || sub == "ref"
	}
	return false
}

// upgrades reports whether c upgrades installed packages.
func upgrades(c *shell.Command) bool {
	sub := c.Subcommand("-o", "-t")
	switch c.Name {
	case "apt-get", "apt", "aptitude":
		return sub == "upgrade" || sub == "dist-upgrade" || sub == "full-upgrade"
	case "apk":
		return sub == "upgrade"
	case "yum", "dnf", "dnf5", "microdnf", "tdnf":
		return sub == "upgrade" || sub == "update" || sub == "up" || sub == "distro-sync"
	case "zypper":
		return sub == "update" || sub == "up" || sub == "dist-upgrade" || sub == "dup"
	}
	return false
}

// distUpgrades reports an upgrade that may change the distribution
// itself: apt's dist-upgrade and full-upgrade (which remove and add
// packages to satisfy new dependencies), zypper's dist-upgrade, dnf's
// distro-sync, apk's upgrade --available.
func distUpgrades(c *shell.Command) bool {
	sub := c.Subcommand(aptValued...)
	switch c.Name {
	case "apt-get", "apt", "aptitude":
		return sub == "dist-upgrade" || sub == "full-upgrade"
	case "apk":
		return sub == "upgrade" && c.Has("-a", "--available")
	case "yum", "dnf", "dnf5", "microdnf", "tdnf":
		return sub == "distro-sync" || sub == "dsync"
	case "zypper":
		return sub == "dist-upgrade" || sub == "dup"
	}
	return false
}

var ruleUpdateAlone = &Rule{
	Rule: finding.Rule{
		ID: "DV1111", Title: "Package index update alone in a RUN", Practice: finding.PracticeHygiene, Severity: finding.Medium, CIS: "4.7",
		Peers:    []string{"AVD-DS-0017"},
		Surfaces: historySurfaces,
		Description: "A RUN updates the package index without installing anything. The build cache keeps that layer, so a later RUN's install " +
			"uses an index that can be months old and installs outdated, vulnerable versions.",
		Remediation: "Update and install in the same RUN: `RUN apt-get update && apt-get install -y --no-install-recommends … && rm -rf /var/lib/apt/lists/*`.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Runs(func(in *Instruction) {
				var upd *shell.Command
				for _, c := range in.Script.Commands {
					if updates(c) && upd == nil {
						upd = c
					}
				}
				if upd == nil {
					return
				}
				if anyIn(in, func(c *shell.Command) bool { _, ok := installOf(c); return ok || upgrades(c) }) {
					return
				}
				p.ReportCmd(in, upd, "`%s %s` runs without an install in the same RUN; the cached index goes stale.", upd.Name, upd.Subcommand())
			})
		}
	},
}

var ruleUpgrade = &Rule{
	Rule: finding.Rule{
		ID: "DV1112", Title: "Distribution upgrade in a Dockerfile", Practice: finding.PracticeHygiene, Severity: finding.Info,
		Peers:    []string{"DL3035", "AVD-DS-0024"},
		Surfaces: historySurfaces,
		Description: "`apt-get dist-upgrade` (full-upgrade, `zypper dist-upgrade`, `dnf distro-sync`, `apk upgrade --available`) inside a build may remove and replace " +
			"packages to follow the distribution, moving the image past what its base image's maintainers tested. A plain `apt-get upgrade` only applies " +
			"the release's own updates and is not reported.",
		Remediation: "Rebuild on a current base image instead; if packages need security updates between base releases, use `apt-get upgrade` (or `dnf upgrade`) in the RUN that installs.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if distUpgrades(c) {
					p.ReportCmd(in, c, "`%s %s` upgrades the whole distribution during the build.", c.Name, c.Subcommand(aptValued...))
				}
			})
		}
	},
}
