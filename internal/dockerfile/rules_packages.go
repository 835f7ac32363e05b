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
func finalInstalls(p *Pass) []struct {
	in *Instruction
	install
} {
	var out []struct {
		in *Instruction
		install
	}
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
// in a layer of the final image: an install by one of managers, with no
// cache mount over dirs and no command of the same RUN that cleaned it.
// The message ends with the rule's remediation.
type cacheLeft struct {
	managers []string
	dirs     []string
	cleaned  func(*shell.Command) bool
}

func (c cacheLeft) check(p *Pass) {
	for _, i := range finalInstalls(p) {
		if !slices.Contains(c.managers, i.Manager) {
			continue
		}
		if cacheMounted(i.in, c.dirs...) || laterIn(i.in, i.Cmd, c.cleaned) || c.cleaned(i.Cmd) {
			continue
		}
		p.ReportCmd(i.in, i.Cmd, "`%s %s` leaves its package cache in the layer; %s", i.Manager, i.Sub, p.Rule().Remediation)
	}
}

var ruleAptLists = &Rule{
	Rule: finding.Rule{
		ID: "DV1051", Title: "apt lists not removed after install", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Peers:       []string{"DL3009"},
		Description: "apt-get install after apt-get update leaves the package lists (tens of MB) in the layer. They are useless at run time and stale by the next build.",
		Remediation: "end the same RUN with `rm -rf /var/lib/apt/lists/*` (or use a cache mount).",
		References:  refBestPractice,
	},
	Check: cacheLeft{
		managers: []string{"apt-get", "apt"},
		dirs:     []string{"/var/lib/apt/lists", "/var/cache/apt"},
		cleaned:  func(c *shell.Command) bool { return removes(c, "/var/lib/apt/lists") },
	}.check,
}

var ruleApkCache = &Rule{
	Rule: finding.Rule{
		ID: "DV1052", Title: "apk add without --no-cache", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Description: "`apk add` without --no-cache keeps the package index in /var/cache/apk.",
		Remediation: "use `apk add --no-cache …`.",
		References:  refBestPractice,
	},
	Check: cacheLeft{
		managers: []string{"apk"},
		dirs:     []string{"/var/cache/apk", "/etc/apk/cache"},
		cleaned: func(c *shell.Command) bool {
			return c.Name == "apk" && c.Has("--no-cache") || removes(c, "/var/cache/apk")
		},
	}.check,
}

var ruleYumCache = &Rule{
	Rule: finding.Rule{
		ID: "DV1053", Title: "yum cache not cleaned", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Description: "`yum install` leaves its metadata and package cache in /var/cache/yum unless the same RUN cleans it.",
		Remediation: "end the same RUN with `yum clean all && rm -rf /var/cache/yum`.",
		References:  refBestPractice,
	},
	Check: cacheLeft{
		managers: []string{"yum"},
		dirs:     []string{"/var/cache/yum"},
		cleaned: func(c *shell.Command) bool {
			return c.Name == "yum" && c.Subcommand() == "clean" || removes(c, "/var/cache/yum")
		},
	}.check,
}

var ruleDnfCache = &Rule{
	Rule: finding.Rule{
		ID: "DV1054", Title: "dnf/microdnf cache not cleaned", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Description: "`dnf`/`microdnf install` leaves repository metadata and packages in /var/cache unless the same RUN cleans it.",
		Remediation: "end the same RUN with `dnf clean all` (or `microdnf clean all`).",
		References:  refBestPractice,
	},
	Check: cacheLeft{
		managers: []string{"dnf", "microdnf", "tdnf"},
		dirs:     []string{"/var/cache/dnf", "/var/cache/yum", "/var/cache/tdnf"},
		cleaned: func(c *shell.Command) bool {
			return (c.Name == "dnf" || c.Name == "microdnf" || c.Name == "tdnf") && c.Subcommand() == "clean" ||
				removes(c, "/var/cache/dnf") || removes(c, "/var/cache/yum") || removes(c, "/var/cache/tdnf")
		},
	}.check,
}

var ruleZypperCache = &Rule{
	Rule: finding.Rule{
		ID: "DV1055", Title: "zypper cache not cleaned", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Description: "`zypper install` keeps downloaded packages and metadata in /var/cache/zypp unless the same RUN cleans it.",
		Remediation: "end the same RUN with `zypper clean --all`.",
		References:  refBestPractice,
	},
	Check: cacheLeft{
		managers: []string{"zypper"},
		dirs:     []string{"/var/cache/zypp"},
		cleaned: func(c *shell.Command) bool {
			return c.Name == "zypper" && (c.Subcommand("-t", "-r") == "clean" || c.Subcommand("-t", "-r") == "cc") || removes(c, "/var/cache/zypp")
		},
	}.check,
}

var ruleNpmCache = &Rule{
	Rule: finding.Rule{
		ID: "DV1059", Title: "npm/yarn cache not cleaned", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Description: "npm and yarn keep a copy of every downloaded package in their cache directory, which then ships in the layer.",
		Remediation: "add `&& npm cache clean --force` (or `yarn cache clean`) to the same RUN, or use a cache mount.",
		References:  refBestPractice,
	},
	Check: cacheLeft{
		managers: []string{"npm", "yarn"},
		dirs:     []string{"/root/.npm", "/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/home/node/.npm"},
		cleaned: func(c *shell.Command) bool {
			pos := c.Positional()
			return (c.Name == "npm" || c.Name == "yarn") && len(pos) >= 2 && pos[0] == "cache" && pos[1] == "clean" ||
				removes(c, "/root/.npm") || removes(c, "/usr/local/share/.cache") || c.Name == "npm" && c.Has("--cache") || c.Name == "yarn" && c.Has("--cache-folder")
		},
	}.check,
}

var ruleNoRecommends = &Rule{
	Rule: finding.Rule{
		ID: "DV1050", Title: "apt-get install without --no-install-recommends", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Peers:       []string{"DL3015"},
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
		Description: "pip keeps downloaded wheels in ~/.cache/pip, which then ships in the layer.",
		Remediation: "Use `pip install --no-cache-dir …`, set `ENV PIP_NO_CACHE_DIR=1`, or mount a cache: `RUN --mount=type=cache,target=/root/.cache/pip`.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		envOff := false
		for _, st := range p.File.Final().Chain() {
			for _, in := range st.Instructions {
				if e, ok := in.Command.(*instructions.EnvCommand); ok {
					for _, kv := range e.Env {
						if kv.Key == "PIP_NO_CACHE_DIR" {
							envOff = true
						}
					}
				}
			}
		}
		for _, i := range finalInstalls(p) {
			if i.Manager != "pip" || envOff || i.Cmd.Has("--no-cache-dir") || assignedAny(i.Cmd, "PIP_NO_CACHE_DIR") ||
				cacheMounted(i.in, "/root/.cache/pip", "/root/.cache") || laterIn(i.in, i.Cmd, func(c *shell.Command) bool {
				return removes(c, "/root/.cache") || removes(c, "~/.cache")
			}) {
				continue
			}
			p.ReportCmd(i.in, i.Cmd, "`pip install` without --no-cache-dir leaves its download cache in the layer.")
		}
	},
}

func assignedAny(c *shell.Command, name string) bool {
	for _, a := range c.Assigns {
		if a.Name == name {
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
		Surfaces:    historySurfaces,
		Description: "The package manager is run without its non-interactive flag, so the build waits for an answer nobody gives and fails or hangs.",
		Remediation: "Add the flag: `apt-get install -y`, `yum/dnf install -y`, `zypper --non-interactive install`.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, i := range installs(st) {
				c := i.Cmd
				if c.Feeds(func(x *shell.Command) bool { return x.Name == "yes" }) != nil {
					continue
				}
				var missing bool
				switch i.Manager {
				case "apt-get", "apt":
					missing = !c.Has("-y", "--yes", "--assume-yes") && !qq(c) && !assumeYesOption(c)
				case "yum", "dnf", "tdnf":
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

// qq reports apt's quiet level 2, which implies -y.
func qq(c *shell.Command) bool {
	for _, a := range c.Args {
		if a == "-qq" || a == "-q=2" || a == "--quiet=2" || isShort(a) && strings.Count(a, "q") >= 2 {
			return true
		}
	}
	return false
}

func isShort(a string) bool { return len(a) > 1 && a[0] == '-' && a[1] != '-' }

func assumeYesOption(c *shell.Command) bool {
	v, ok := c.Value("-o", "--option")
	return ok && strings.HasPrefix(strings.ToLower(v), "apt::get::assume-yes=")
}

var ruleApt = &Rule{
	Rule: finding.Rule{
		ID: "DV1108", Title: "apt used instead of apt-get", Practice: finding.PracticeHygiene, Severity: finding.Info,
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
		Peers:    []string{"DL3008"},
		Surfaces: historySurfaces,
		Description: "Distribution packages are installed without a version, so two builds of the same Dockerfile can contain different software. " +
			"(Pinning trades reproducibility for manual updates; many teams prefer rebuilding often instead.)",
		Remediation: "Pin versions where reproducibility matters (`apt-get install curl=8.14.1-2`, `apk add curl=8.14.1-r1`), and update them with a bot.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, i := range installs(st) {
				if !i.OS() || i.Cmd.Has("-t", "--target-release") {
					continue
				}
				var loose []string
				for _, pkg := range i.Packages {
					if !osPinned(i.Manager, pkg) {
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

func osPinned(mgr, pkg string) bool {
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
		Surfaces:    historySurfaces,
		Description: "pip, npm (global), gem, go or cargo install a package by name only, so every build may fetch a different, possibly compromised, release.",
		Remediation: "Pin exact versions (`pip install requests==2.32.3`, `npm install -g pnpm@9.1.0`, `go install example.com/tool@v1.2.3`), or install from a lock file.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, i := range installs(st) {
				var loose []string
				switch i.Manager {
				case "pip":
					for _, pkg := range i.Packages {
						if !strings.ContainsAny(pkg, "=<>~@") && !strings.HasPrefix(pkg, "-") {
							loose = append(loose, pkg)
						}
					}
				case "npm", "yarn", "pnpm":
					if i.Manager == "npm" && !i.Cmd.Has("-g", "--global") && i.Sub != "add" {
						continue // local installs are pinned by the lock file
					}
					for _, pkg := range i.Packages {
						if !strings.Contains(strings.TrimPrefix(pkg, "@"), "@") {
							loose = append(loose, pkg)
						}
					}
				case "gem":
					if !i.Cmd.Has("-v", "--version") {
						for _, pkg := range i.Packages {
							if !strings.Contains(pkg, ":") {
								loose = append(loose, pkg)
							}
						}
					}
				case "go":
					for _, pkg := range i.Packages {
						if _, v, ok := strings.Cut(pkg, "@"); !ok || v == "latest" || v == "master" || v == "main" {
							loose = append(loose, pkg)
						}
					}
				case "cargo":
					if !i.Cmd.Has("--version", "--locked") {
						loose = append(loose, i.Packages...)
					}
				}
				if len(loose) > 0 {
					p.ReportCmd(i.in, i.Cmd, "`%s %s` installs %s without a pinned version.", i.Manager, i.Sub, listShort(loose))
				}
			}
		}
	},
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
	case "apt-get", "apt":
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
	case "apt-get", "apt":
		return sub == "upgrade" || sub == "dist-upgrade" || sub == "full-upgrade"
	case "apk":
		return sub == "upgrade"
	case "yum", "dnf", "microdnf", "tdnf":
		return sub == "upgrade" || sub == "update" || sub == "distro-sync"
	case "zypper":
		return sub == "update" || sub == "up" || sub == "dist-upgrade" || sub == "dup"
	}
	return false
}

var ruleUpdateAlone = &Rule{
	Rule: finding.Rule{
		ID: "DV1111", Title: "Package index update alone in a RUN", Practice: finding.PracticeHygiene, Severity: finding.Medium, CIS: "4.7",
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
		Surfaces: historySurfaces,
		Description: "`apt-get upgrade`/`dist-upgrade` (and the yum, dnf, apk, zypper equivalents) inside a build makes the image depend on the day it was built " +
			"and can pull major changes past the base image's maintainers. Patches are better taken by rebuilding on a fresh base.",
		Remediation: "Prefer a current, regularly rebuilt base image; if you must upgrade, do it in one RUN with the installs and rebuild often.",
		References:  refBestPractice,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if upgrades(c) {
					p.ReportCmd(in, c, "`%s %s` upgrades the whole distribution during the build.", c.Name, c.Subcommand("-o", "-t"))
				}
			})
		}
	},
}
