package dockerfile

import (
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/shell"
)

var refReference = []string{"https://docs.docker.com/reference/dockerfile/"}

// each calls fn for every instruction of a type in every stage.
func each[T instructions.Command](f *File, fn func(in *Instruction, c T)) {
	for _, st := range f.Stages {
		for _, in := range st.Instructions {
			if c, ok := in.Command.(T); ok {
				fn(in, c)
			}
		}
	}
}

var ruleMaintainer = &Rule{
	Rule: finding.Rule{
		ID: "DV1090", Title: "MAINTAINER is deprecated", Practice: finding.PracticeHygiene, Severity: finding.Info,
		Peers:       []string{"DL4000", "AVD-DS-0022"},
		Surfaces:    historySurfaces,
		Description: "MAINTAINER has been deprecated since Docker 1.13; it is not shown by current tools.",
		Remediation: "Use `LABEL org.opencontainers.image.authors=\"name <email>\"`.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		each(p.File, func(in *Instruction, _ *instructions.MaintainerCommand) {
			p.Report(in, "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors.")
		})
	},
}

// healthchecks returns the HEALTHCHECK instructions of a stage.
func healthchecks(st *Stage) []*Instruction {
	var out []*Instruction
	for _, in := range st.Instructions {
		if _, ok := in.Command.(*instructions.HealthCheckCommand); ok {
			out = append(out, in)
		}
	}
	return out
}

var ruleNoHealthcheck = &Rule{
	Rule: finding.Rule{
		ID: "DV1091", Title: "No HEALTHCHECK in the final image", Practice: finding.PracticeHygiene, Severity: finding.Low, CIS: "4.6",
		Peers:       []string{"DL3057", "AVD-DS-0026"},
		Description: "Without a HEALTHCHECK the Engine only knows whether the process runs, not whether it works: a hung service is never restarted or taken out of rotation.",
		Remediation: "Add a check that exercises the service, e.g. `HEALTHCHECK --interval=30s --timeout=3s CMD [\"/app\", \"healthcheck\"]`, or declare `HEALTHCHECK NONE` when the orchestrator checks health itself.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Final().Chain() {
			if len(healthchecks(st)) > 0 {
				return
			}
		}
		p.Report(p.File.Final().From, "The final image defines no HEALTHCHECK.")
	},
}

// repeated is the check of the rules about an instruction that only
// takes effect once per stage.
type repeated struct{ keyword string }

func (r repeated) check(p *Pass) {
	for _, st := range p.File.Stages {
		var seen []*Instruction
		for _, in := range st.Instructions {
			if in.Keyword == r.keyword {
				seen = append(seen, in)
			}
		}
		for _, in := range seen[:max(0, len(seen)-1)] {
			p.Report(in, "%s repeated in stage %s; only the last one (line %d) takes effect.", r.keyword, stageName(st), seen[len(seen)-1].Line)
		}
	}
}

func stageName(st *Stage) string {
	if st.Name != "" {
		return st.Name
	}
	return strconv.Itoa(st.Index)
}

var ruleDupHealth = &Rule{
	Rule: finding.Rule{
		ID: "DV1092", Title: "Several HEALTHCHECK instructions in a stage", Practice: finding.PracticeHygiene, Severity: finding.Low,
		Peers:       []string{"DL3012", "AVD-DS-0023"},
		Description: "Only the last HEALTHCHECK of a stage takes effect; earlier ones are dead code that misleads readers.",
		Remediation: "Keep one HEALTHCHECK per stage.",
		References:  refReference,
	},
	Check: repeated{keyword: "HEALTHCHECK"}.check,
}

var ruleDupCmd = &Rule{
	Rule: finding.Rule{
		ID: "DV1093", Title: "Several CMD instructions in a stage", Practice: finding.PracticeHygiene, Severity: finding.Low,
		Peers:       []string{"DL4003", "AVD-DS-0016"},
		Description: "Only the last CMD of a stage takes effect; earlier ones are dead code that misleads readers.",
		Remediation: "Keep one CMD per stage.",
		References:  refReference,
	},
	Check: repeated{keyword: "CMD"}.check,
}

var ruleDupEntrypoint = &Rule{
	Rule: finding.Rule{
		ID: "DV1094", Title: "Several ENTRYPOINT instructions in a stage", Practice: finding.PracticeHygiene, Severity: finding.Medium,
		Peers:       []string{"DL4004", "AVD-DS-0007"},
		Description: "Only the last ENTRYPOINT of a stage takes effect; earlier ones are dead code that misleads readers.",
		Remediation: "Keep one ENTRYPOINT per stage.",
		References:  refReference,
	},
	Check: repeated{keyword: "ENTRYPOINT"}.check,
}

var ruleShellForm = &Rule{
	Rule: finding.Rule{
		ID: "DV1095", Title: "CMD or ENTRYPOINT in shell form", Practice: finding.PracticeHygiene, Severity: finding.Low,
		Peers:    []string{"DL3025"},
		Surfaces: historySurfaces,
		Description: "In shell form the process runs under `/bin/sh -c`, which becomes PID 1 and does not pass SIGTERM on: `docker stop` waits and then kills the application " +
			"without a clean shutdown. A shell-form ENTRYPOINT also ignores CMD and `docker run` arguments.",
		Remediation: "Use the exec (JSON) form: `CMD [\"node\", \"server.js\"]`, `ENTRYPOINT [\"/app\"]`.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Final().Chain() {
			if st.Windows {
				continue // cmd and PowerShell, not /bin/sh, and no POSIX signals
			}
			for _, in := range st.Instructions {
				if (in.Keyword == "CMD" || in.Keyword == "ENTRYPOINT") && !in.JSON && len(in.Args) > 0 {
					p.Report(in, "%s %s runs under /bin/sh -c, which does not forward signals.", in.Keyword, strings.Join(in.Args, " "))
				}
			}
		}
	},
}

var ruleRelativeWorkdir = &Rule{
	Rule: finding.Rule{
		ID: "DV1096", Title: "Relative WORKDIR", Practice: finding.PracticeHygiene, Severity: finding.Low,
		Peers:       []string{"DL3000", "AVD-DS-0009"},
		Description: "A relative WORKDIR is resolved against whatever the previous WORKDIR (or the base image's) was, so the same Dockerfile means different paths on different bases.",
		Remediation: "Use an absolute path: `WORKDIR /app`.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			absolute := false
			for _, in := range st.Instructions {
				w, ok := in.Command.(*instructions.WorkdirCommand)
				if !ok {
					continue
				}
				switch {
				case strings.HasPrefix(w.Path, "/") || strings.HasPrefix(w.Path, "$") || isWindowsPath(w.Path):
					absolute = true
				case !absolute:
					p.Report(in, "WORKDIR %s is relative and no absolute WORKDIR precedes it in this stage.", w.Path)
				}
			}
		}
	},
}

func isWindowsPath(p string) bool {
	return len(p) >= 2 && p[1] == ':' || strings.HasPrefix(p, `\`)
}

var systemDirs = []string{"/proc", "/sys", "/dev", "/boot", "/initrd", "/lost+found", "/etc", "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/lib"}

var ruleSystemWorkdir = &Rule{
	Rule: finding.Rule{
		ID: "DV1097", Title: "WORKDIR in a system directory", Practice: finding.PracticeHygiene, Severity: finding.Medium,
		Peers:       []string{"AVD-DS-0030"},
		Surfaces:    historySurfaces,
		Description: "WORKDIR points into a system directory (/proc, /sys, /dev, /boot, /etc, /bin, …). Files the application writes there mix with the OS or the kernel's interfaces.",
		Remediation: "Use an application directory such as /app or /srv/app.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		each(p.File, func(in *Instruction, w *instructions.WorkdirCommand) {
			if in.Stage.Windows {
				return
			}
			d := path.Clean(w.Path)
			for _, s := range systemDirs {
				if d == s || strings.HasPrefix(d, s+"/") && (s == "/proc" || s == "/sys" || s == "/dev") {
					p.Report(in, "WORKDIR %s is inside the system directory %s.", w.Path, s)
					return
				}
			}
		})
	},
}

var ruleCd = &Rule{
	Rule: finding.Rule{
		ID: "DV1098", Title: "cd used to change directory in RUN", Practice: finding.PracticeHygiene, Severity: finding.Info,
		Peers:       []string{"DL3003", "AVD-DS-0013"},
		Surfaces:    historySurfaces,
		Description: "`cd /dir` inside a RUN only lasts for that RUN; readers (and later instructions) easily assume otherwise.",
		Remediation: "Use WORKDIR to change directory for the following instructions.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if c.Name == "cd" && c.Parent == nil && len(c.Args) == 1 && strings.HasPrefix(c.Args[0], "/") && !underTmp(c.Args) {
					p.ReportCmd(in, c, "`cd %s` in RUN; use WORKDIR %s.", c.Args[0], c.Args[0])
				}
			})
		}
	},
}

var ruleCopyFromSelf = &Rule{
	Rule: finding.Rule{
		ID: "DV1099", Title: "COPY --from refers to its own stage", Practice: finding.PracticeHygiene, Severity: finding.Medium,
		Peers:       []string{"DL3023", "AVD-DS-0006"},
		Description: "A stage cannot copy from itself; the build fails or resolves the name to an image of the same name.",
		Remediation: "Copy from an earlier stage (give it an alias with `FROM … AS build`).",
		References:  refReference,
	},
	Check: func(p *Pass) {
		each(p.File, func(in *Instruction, c *instructions.CopyCommand) {
			if c.From != "" && in.Stage.Name != "" && strings.EqualFold(c.From, in.Stage.Name) || c.From == strconv.Itoa(in.Stage.Index) {
				p.Report(in, "COPY --from=%s copies from the stage it is in.", c.From)
			}
		})
	},
}

var ruleDupAlias = &Rule{
	Rule: finding.Rule{
		ID: "DV1100", Title: "Duplicate stage name", Practice: finding.PracticeHygiene, Severity: finding.Medium,
		Peers:       []string{"DL3024", "AVD-DS-0012"},
		Description: "Two stages have the same name; `COPY --from` and `--target` then refer to an unexpected stage.",
		Remediation: "Give every stage a unique name.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		seen := map[string]*Stage{}
		for _, st := range p.File.Stages {
			if st.Name == "" {
				continue
			}
			if prev, ok := seen[strings.ToLower(st.Name)]; ok {
				p.Report(st.From, "Stage name %s is already used on line %d.", st.Name, prev.From.Line)
				continue
			}
			seen[strings.ToLower(st.Name)] = st
		}
	},
}

var ruleCopyFromLater = &Rule{
	Rule: finding.Rule{
		ID: "DV1101", Title: "COPY --from refers to a later or missing stage", Practice: finding.PracticeHygiene, Severity: finding.Medium,
		Peers:       []string{"DL3022"},
		Description: "`COPY --from=<n>` names a stage index that does not exist before this stage; BuildKit then tries to pull an image called `<n>`.",
		Remediation: "Refer to an earlier stage by its name.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		each(p.File, func(in *Instruction, c *instructions.CopyCommand) {
			if c.From == "" {
				return
			}
			if n, err := strconv.Atoi(c.From); err == nil && (n < 0 || n >= in.Stage.Index) && n != in.Stage.Index {
				p.Report(in, "COPY --from=%s names stage %d, which is not an earlier stage.", c.From, n)
				return
			}
			if st := p.File.StageByName(c.From); st != nil && st.Index > in.Stage.Index {
				p.Report(in, "COPY --from=%s refers to a stage defined later (line %d).", c.From, st.From.Line)
			}
		})
	},
}

var ruleCopyDest = &Rule{
	Rule: finding.Rule{
		ID: "DV1102", Title: "COPY of several sources to a destination without a trailing slash", Practice: finding.PracticeHygiene, Severity: finding.Medium,
		Peers:       []string{"DL3021", "AVD-DS-0011"},
		Description: "When COPY or ADD has more than one source, the destination must be a directory ending in `/`; otherwise the build fails.",
		Remediation: "End the destination with `/`: `COPY a b /app/`.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				var sd *instructions.SourcesAndDest
				switch c := in.Command.(type) {
				case *instructions.CopyCommand:
					sd = &c.SourcesAndDest
				case *instructions.AddCommand:
					sd = &c.SourcesAndDest
				default:
					continue
				}
				dir := strings.HasSuffix(sd.DestPath, "/") || st.Windows && strings.HasSuffix(sd.DestPath, `\`)
				if len(sd.SourcePaths) > 1 && !dir && !strings.Contains(sd.DestPath, "$") && sd.DestPath != "." && !historySources(sd.SourcePaths) {
					p.Report(in, "%s has %d sources but destination %s does not end with /.", in.Keyword, len(sd.SourcePaths), sd.DestPath)
				}
			}
		}
	},
}

var ruleReplaceSh = &Rule{
	Rule: finding.Rule{
		ID: "DV1103", Title: "/bin/sh replaced in a RUN", Practice: finding.PracticeHygiene, Severity: finding.Low,
		Peers:       []string{"DL4005"},
		Surfaces:    historySurfaces,
		Description: "Replacing /bin/sh (`ln -sf /bin/bash /bin/sh`) changes the shell for every later program in the image, not only for the build.",
		Remediation: "Use the SHELL instruction to choose the build shell: `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]`.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if (c.Name == "ln" || c.Name == "mv" || c.Name == "cp") && len(c.Positional()) >= 2 {
					pos := c.Positional()
					if pos[len(pos)-1] == "/bin/sh" {
						p.ReportCmd(in, c, "`%s … /bin/sh` replaces the system shell; use SHELL.", c.Name)
					}
				}
			})
		}
	},
}

// pipefailOption reports whether shell options turn pipefail on: `-o
// pipefail`, or the o of a bundle (`-eo pipefail`, `-euxo pipefail`), as
// given to SHELL or to `set`. A shell that does not know the option fails
// the build at that RUN, loudly, so the option counts whatever the shell.
func pipefailOption(args []string) bool {
	for i, a := range args {
		next := ""
		if i+1 < len(args) {
			next = args[i+1]
		}
		switch {
		case a == "-c":
			return false // the script follows
		case a == "-opipefail":
			return true
		case len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.HasSuffix(a, "o") && isShortBundle(a) && next == "pipefail":
			return true
		}
	}
	return false
}

// The last command of the pipe a command is in is the one whose status
// the shell takes for the whole pipe.
// pipeTails maps each command of a RUN to the last command of the pipe it
// is in (pipeTail), built once per RUN: following the pipe from every
// stage was quadratic in a RUN of thousands of piped stages. A command
// comes after the commands piped into it, so one pass from the end finds
// every tail.
func pipeTails(in *Instruction) map[*shell.Command]*shell.Command {
	next := map[*shell.Command]*shell.Command{}
	for _, x := range in.Script.Commands {
		for _, u := range x.Upstream {
			if _, ok := next[u]; !ok {
				next[u] = x
			}
		}
	}
	tails := make(map[*shell.Command]*shell.Command, len(in.Script.Commands))
	cmds := in.Script.Commands
	for i := len(cmds) - 1; i >= 0; i-- {
		c := cmds[i]
		tails[c] = c
		if x, ok := next[c]; ok {
			if t, ok := tails[x]; ok {
				tails[c] = t
			} else {
				tails[c] = x
			}
		}
	}
	return tails
}

// asserts reports a pipe's last command that fails when what it reads is
// missing: a grep for a match (not inverted, not counting) or a checksum
// check. Its failure fails the RUN whatever the commands before it did;
// negated or in a condition, it would pass on a missing input instead.
func asserts(c *shell.Command) bool {
	if c.Negated || c.Cond {
		return false // its failure is an answer, not an error
	}
	if c.Is("grep", "egrep", "fgrep") {
		return !c.Has("-v", "--invert-match", "-c", "--count", "-L", "--files-without-match")
	}
	return verifies(c)
}

func isShortBundle(a string) bool {
	for _, r := range a[1:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

var rulePipefail = &Rule{
	Rule: finding.Rule{
		ID: "DV1104", Title: "Pipe without pipefail", Practice: finding.PracticeHygiene, Severity: finding.Low,
		Peers:       []string{"DL4006"},
		Surfaces:    historySurfaces,
		Description: "/bin/sh -c reports the status of the last command of a pipe only: `curl … | tar x` succeeds even when the download fails, and the image is built broken.",
		Remediation: "Set `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before the RUN, or start the RUN with `set -o pipefail &&`.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			if len(st.Shell) > 1 && pipefailOption(st.Shell[1:]) {
				continue
			}
			st.Runs(func(in *Instruction) {
				set := -1 // index of the first `set -o pipefail`
				var tails map[*shell.Command]*shell.Command
				for _, c := range in.Script.Commands {
					if c.Name == "set" && pipefailOption(c.Args) && set < 0 {
						set = c.Index
					}
				}
				for _, c := range in.Script.Commands {
					if c.Parent != nil || len(c.Upstream) == 0 || shell.IsInterpreter(c.Name) || set >= 0 && set < c.Index {
						continue // curl | sh is DV1070's business
					}
					if tails == nil {
						tails = pipeTails(in)
					}
					if asserts(tails[c]) {
						continue // an empty or broken input fails the check, and so the RUN
					}
					src := c.Upstream[len(c.Upstream)-1]
					if src.Is("echo", "printf", "yes", "cat", "true") {
						continue
					}
					p.ReportCmd(in, c, "`%s | %s` can fail silently without pipefail.", src.Name, c.Name)
					return
				}
			})
		}
	},
}

var ruleUseraddUID = &Rule{
	Rule: finding.Rule{
		ID: "DV1106", Title: "useradd with a high UID without -l", Practice: finding.PracticeHygiene, Severity: finding.Low,
		Peers:       []string{"DL3046"},
		Surfaces:    historySurfaces,
		Description: "`useradd` writes the user into /var/log/lastlog and faillog at an offset of the UID; for a high UID that is a sparse file of many megabytes that the layer stores in full.",
		Remediation: "Add `-l` (`--no-log-init`) to useradd, or use a UID below 65536.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if c.Name != "useradd" || c.Has("-l", "--no-log-init") {
					return
				}
				if v, ok := c.Value("-u", "--uid"); ok {
					if uid, err := strconv.Atoi(v); err == nil && uid > 65535 {
						p.ReportCmd(in, c, "useradd -u %d without -l writes a multi-megabyte lastlog/faillog into the layer.", uid)
					}
				}
			})
		}
	},
}

// archiveExt are the names of the local archives ADD unpacks: tar, bare or
// compressed with gzip, bzip2, xz or zstd. ADD decides by content, so a
// compressed file without .tar in its name may be one too.
var archiveExt = []string{".tar", ".tgz", ".tbz2", ".tbz", ".txz", ".tzst", ".gz", ".bz2", ".xz", ".zst"}

// historyPlaceholder is how image history names what ADD and COPY took
// from the context (`ADD file:4b03…a75a9 in /`): a digest, not a path.
var historyPlaceholder = regexp.MustCompile(`^(file|multi|dir):[0-9a-f]{64}$`)

func historySources(srcs []string) bool {
	return len(srcs) > 0 && historyPlaceholder.MatchString(srcs[0])
}

var ruleAddForCopy = &Rule{
	Rule: finding.Rule{
		ID: "DV1113", Title: "ADD used where COPY would do", Practice: finding.PracticeHygiene, Severity: finding.Low, CIS: "4.9",
		Peers:       []string{"DL3020", "AVD-DS-0005"},
		Description: "ADD also fetches URLs and unpacks archives; for plain local files that magic is a trap (an archive added later is silently extracted). COPY does only what it says.",
		Remediation: "Use COPY for local files and directories; keep ADD for archives you mean to extract.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		each(p.File, func(in *Instruction, c *instructions.AddCommand) {
			if historySources(c.SourcePaths) {
				return
			}
			for _, src := range c.SourcePaths {
				if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
					return // DV1072
				}
				for _, ext := range archiveExt {
					if strings.HasSuffix(strings.ToLower(src), ext) {
						return
					}
				}
			}
			if len(c.SourcePaths) > 0 || len(c.SourceContents) > 0 {
				p.Report(in, "ADD of local files; use COPY.")
			}
		})
	},
}

var varRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

var ruleEnvSelfRef = &Rule{
	Rule: finding.Rule{
		ID: "DV1114", Title: "ENV refers to a variable set in the same ENV", Practice: finding.PracticeHygiene, Severity: finding.Low,
		Peers:       []string{"DL3044"},
		Description: "Variables in one ENV instruction are all expanded with the values from before it: `ENV A=1 B=$A` sets B to the old A, not 1.",
		Remediation: "Split into two ENV instructions: `ENV A=1` then `ENV B=$A`.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		// The typed ENV holds values as written, before expansion.
		each(p.File, func(in *Instruction, env *instructions.EnvCommand) {
			defined := map[string]bool{}
			for _, kv := range env.Env {
				for _, m := range varRef.FindAllStringSubmatch(kv.Value, -1) {
					if defined[m[1]] {
						p.Report(in, "ENV %s uses $%s, which this same ENV sets; it gets the previous value.", kv.Key, m[1])
					}
				}
				defined[kv.Key] = true
			}
		})
	},
}

var ruleOnbuild = &Rule{
	Rule: finding.Rule{
		ID: "DV1115", Title: "ONBUILD trigger", Practice: finding.PracticeHygiene, Severity: finding.Info,
		Surfaces: historySurfaces,
		Description: "ONBUILD registers an instruction that runs in the build of every image made FROM this one. Whoever builds the child image runs a step " +
			"that is not in their Dockerfile, which surprises reviewers and hides what the build does.",
		Remediation: "Put the step in the child images' Dockerfiles explicitly, or document the trigger prominently.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		each(p.File, func(in *Instruction, c *instructions.OnbuildCommand) {
			p.Report(in, "ONBUILD %s runs in every build that uses this image as a base.", strings.Fields(c.Expression + " ?")[0])
		})
	},
}

var pointless = map[string]string{"ssh": "remote login", "vim": "an editor", "vi": "an editor", "nano": "an editor", "shutdown": "power control",
	"reboot": "power control", "service": "an init system", "systemctl": "an init system", "ps": "process listing", "top": "process monitoring",
	"free": "memory listing", "kill": "process control", "mount": "mounting", "ifconfig": "network configuration"}

var rulePointless = &Rule{
	Rule: finding.Rule{
		ID: "DV1116", Title: "Command that makes no sense in a build", Practice: finding.PracticeHygiene, Severity: finding.Info,
		Peers:    []string{"DL3001"},
		Surfaces: historySurfaces,
		Description: "The RUN calls an interactive or system-management command (ssh, vim, service, systemctl, shutdown, mount, ps, top, …). In a build there is no init system, " +
			"no terminal and no running service; the command fails, hangs or does nothing.",
		Remediation: "Remove it; start services with CMD/ENTRYPOINT, configure files directly.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if what, ok := pointless[c.Name]; ok && c.Parent == nil {
					p.ReportCmd(in, c, "`%s` (%s) does nothing useful in a build.", c.Name, what)
				}
			})
		}
	},
}

var ruleRelativeCopyDest = &Rule{
	Rule: finding.Rule{
		ID: "DV1117", Title: "COPY to a relative path without WORKDIR", Practice: finding.PracticeHygiene, Severity: finding.Low,
		Peers:       []string{"DL3045"},
		Surfaces:    historySurfaces,
		Description: "A relative COPY destination is resolved against the working directory, which is the base image's unless the stage sets WORKDIR first.",
		Remediation: "Set `WORKDIR /app` before the COPY, or use an absolute destination.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			hasWorkdir := false
			for _, s := range st.Chain() {
				for _, in := range s.Instructions {
					if in.Keyword == "WORKDIR" && s != st {
						hasWorkdir = true
					}
				}
			}
			for _, in := range st.Instructions {
				if in.Keyword == "WORKDIR" {
					hasWorkdir = true
				}
				c, ok := in.Command.(*instructions.CopyCommand)
				if !ok || hasWorkdir {
					continue
				}
				d := c.DestPath
				if !strings.HasPrefix(d, "/") && !strings.HasPrefix(d, "$") && !isWindowsPath(d) {
					p.Report(in, "COPY to relative %s with no WORKDIR set in this stage.", d)
				}
			}
		}
	},
}

var ruleCurlAndWget = &Rule{
	Rule: finding.Rule{
		ID: "DV1118", Title: "Both curl and wget used", Practice: finding.PracticeHygiene, Severity: finding.Info,
		Peers:       []string{"DL4001", "AVD-DS-0014"},
		Description: "The stage uses both curl and wget; one download tool is enough, and each one shipped is one more binary to patch.",
		Remediation: "Standardise on one of them.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			var first *shell.Command
			var firstIn *Instruction
			other := map[string]string{"curl": "wget", "wget": "curl"}
			st.Commands(func(in *Instruction, c *shell.Command) {
				if c.Name != "curl" && c.Name != "wget" {
					return
				}
				if first == nil {
					first, firstIn = c, in
					return
				}
				if c.Name == other[first.Name] {
					p.ReportCmd(in, c, "`%s` is used although `%s` is already used on line %d.", c.Name, first.Name, lineOf(firstIn, first))
					first = &shell.Command{Name: "-"} // report once per stage
				}
			})
		}
	},
}

var rulePlatform = &Rule{
	Rule: finding.Rule{
		ID: "DV1119", Title: "FROM with a hard-coded --platform", Practice: finding.PracticeHygiene, Severity: finding.Info,
		Peers:       []string{"DL3029"},
		Description: "`FROM --platform=linux/amd64` forces that platform on every builder; on other hardware the image builds under emulation (slow) and multi-platform builds produce the wrong architecture.",
		Remediation: "Drop --platform, or use `--platform=$BUILDPLATFORM` for build stages that cross-compile.",
		References:  refReference,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			if st.Platform != "" && !strings.Contains(st.Platform, "$") {
				p.Report(st.From, "FROM --platform=%s is hard-coded.", st.Platform)
			}
		}
	},
}
