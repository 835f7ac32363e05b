package dockerfile

import (
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/shell"
)

// modeChange is what a chmod mode does to the bits dockvet cares about.
type modeChange struct{ worldWrite, setID, sticky bool }

// parseMode reads a chmod mode: octal ("777", "4755") or symbolic ("a+w",
// "u+s,o-w", "+s"). Removals and "=" without the bit do not set anything.
func parseMode(m string) (modeChange, bool) {
	if m == "" || strings.Contains(m, "$") {
		return modeChange{}, false
	}
	if n, err := strconv.ParseUint(m, 8, 32); err == nil && strings.Trim(m, "01234567") == "" {
		return modeChange{worldWrite: n&0o002 != 0, setID: n&0o6000 != 0, sticky: n&0o1000 != 0}, true
	}
	var mc modeChange
	ok := false
	for _, clause := range strings.Split(m, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 {
			return modeChange{}, false
		}
		who, op, perms := clause[:i], clause[i], clause[i+1:]
		if strings.Trim(who, "ugoa") != "" || strings.Trim(perms, "rwxXstugo") != "" {
			return modeChange{}, false
		}
		ok = true
		if op == '-' {
			continue
		}
		others := who == "" || strings.ContainsAny(who, "oa")
		if others && who != "" && strings.Contains(perms, "w") {
			mc.worldWrite = true
		}
		if strings.Contains(perms, "s") && (who == "" || strings.ContainsAny(who, "uga")) {
			mc.setID = true
		}
		if strings.Contains(perms, "t") {
			mc.sticky = true
		}
	}
	return mc, ok
}

// chmods calls fn for every mode a Dockerfile applies: chmod in RUN and
// --chmod on COPY/ADD.
func chmods(p *Pass, fn func(in *Instruction, c *shell.Command, mode string, mc modeChange, targets []string)) {
	for _, st := range p.File.Stages {
		for _, in := range st.Instructions {
			mode, dest := "", ""
			switch c := in.Command.(type) {
			case *instructions.CopyCommand:
				mode, dest = c.Chmod, c.DestPath
			case *instructions.AddCommand:
				mode, dest = c.Chmod, c.DestPath
			}
			if mc, ok := parseMode(mode); ok {
				fn(in, nil, mode, mc, []string{dest})
			}
		}
		st.Commands(func(in *Instruction, c *shell.Command) {
			if c.Name != "chmod" {
				return
			}
			pos := c.Positional("--reference")
			if len(pos) < 2 {
				return
			}
			targets := pos[1:]
			// A path the same RUN deletes afterwards (a temporary directory)
			// leaves no mode in the image.
			if laterIn(in, c, func(x *shell.Command) bool {
				return x.Name == "rm" && slices.ContainsFunc(targets, func(t string) bool { return slices.Contains(x.Positional(), t) })
			}) {
				return
			}
			if mc, ok := parseMode(pos[0]); ok {
				fn(in, c, pos[0], mc, targets)
			}
		})
	}
}

func report(p *Pass, in *Instruction, c *shell.Command, format string, args ...any) {
	if c != nil {
		p.ReportCmd(in, c, format, args...)
	} else {
		p.Report(in, format, args...)
	}
}

func underTmp(targets []string) bool {
	for _, t := range targets {
		if !(strings.HasPrefix(t, "/tmp") || strings.HasPrefix(t, "/var/tmp") || strings.HasPrefix(t, "/dev/shm")) {
			return false
		}
	}
	return true
}

var ruleWorldWritable = &Rule{
	Rule: finding.Rule{
		ID: "DV1080", Title: "World-writable permissions", Practice: finding.PracticeCapabilities, Severity: finding.Medium,
		Surfaces: historySurfaces,
		Description: "`chmod 777`, `a+w`/`o+w` or `--chmod` with the world-write bit lets any user in the container (and any process that gets a foothold) " +
			"replace programs and configuration, a classic step from a compromised service to a persistent one.",
		Remediation: "Give ownership to the user that needs to write (`COPY --chown=app:app`, `chown app /data`) and use 755/644 or stricter.",
		References:  []string{"https://docs.docker.com/build/building/best-practices/#user"},
	},
	Check: func(p *Pass) {
		chmods(p, func(in *Instruction, c *shell.Command, mode string, mc modeChange, targets []string) {
			if !mc.worldWrite || mc.sticky && underTmp(targets) {
				return
			}
			report(p, in, c, "Mode %s makes %s writable by every user.", mode, strings.Join(targets, " "))
		})
	},
}

var ruleSetuid = &Rule{
	Rule: finding.Rule{
		ID: "DV1081", Title: "setuid/setgid bit set", Practice: finding.PracticeCapabilities, Severity: finding.Medium, CIS: "4.8",
		Surfaces: historySurfaces,
		Description: "A build step sets the setuid or setgid bit (`chmod u+s`, `4755`). A setuid binary runs with its owner's privileges, " +
			"so any bug in it is a privilege escalation inside the container.",
		Remediation: "Do not add setuid/setgid binaries; grant only the capability a program needs (`setcap cap_net_bind_service=+ep`) or run it as the right user.",
		References:  []string{"https://docs.docker.com/engine/security/#linux-kernel-capabilities"},
	},
	Check: func(p *Pass) {
		chmods(p, func(in *Instruction, c *shell.Command, mode string, mc modeChange, targets []string) {
			if mc.setID {
				report(p, in, c, "Mode %s sets the setuid/setgid bit on %s.", mode, strings.Join(targets, " "))
			}
		})
	},
}

var ruleSetcap = &Rule{
	Rule: finding.Rule{
		ID: "DV1082", Title: "File capabilities granted with setcap", Practice: finding.PracticeCapabilities, Severity: finding.Info,
		Surfaces: historySurfaces,
		Description: "`setcap` grants Linux capabilities to a binary. This is often the right way to avoid root (cap_net_bind_service for port 80), " +
			"but any broader capability (cap_sys_admin, cap_dac_override, cap_setuid) on a file is a privilege escalation path.",
		Remediation: "Grant only the narrowest capability (`cap_net_bind_service=+ep`) and review the list; the container must also be allowed that capability at run time.",
		References:  []string{"https://man7.org/linux/man-pages/man7/capabilities.7.html"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if c.Name == "setcap" && !c.Has("-r", "-v") {
					if pos := c.Positional(); len(pos) >= 2 {
						p.ReportCmd(in, c, "setcap grants %s to %s.", pos[0], pos[1])
					}
				}
			})
		}
	},
}

var ruleInsecureRun = &Rule{
	Rule: finding.Rule{
		ID: "DV1083", Title: "RUN --security=insecure", Practice: finding.PracticeCapabilities, Severity: finding.High,
		Description: "`RUN --security=insecure` runs the build step as a privileged container: all capabilities, no seccomp or AppArmor, host devices. " +
			"Whatever that step runs (and downloads) can take over the builder host.",
		Remediation: "Find a way to build without privileges; if unavoidable, run such builds only on isolated, disposable builders.",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#run---security"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				if run, ok := in.Command.(*instructions.RunCommand); ok && instructions.GetSecurity(run) == "insecure" {
					p.Report(in, "RUN --security=insecure runs this build step privileged.")
				}
			}
		}
	},
}

var kernelDirs = []string{"/proc", "/sys", "/dev", "/boot", "/lib/modules"}

var ruleVolumeKernel = &Rule{
	Rule: finding.Rule{
		ID: "DV1085", Title: "VOLUME over a kernel or host directory", Practice: finding.PracticeNamespaces, Severity: finding.High,
		Surfaces: historySurfaces,
		Description: "A VOLUME is declared on /proc, /sys, /dev, /boot or /lib/modules. These are the kernel's and host's interfaces; a volume there " +
			"invites mounting host paths into the container and breaks the isolation the container's own mounts provide.",
		Remediation: "Remove the VOLUME; keep volumes for application data (`VOLUME /var/lib/app`).",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#volume"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				v, ok := in.Command.(*instructions.VolumeCommand)
				if !ok {
					continue
				}
				for _, dir := range v.Volumes {
					d := strings.TrimRight(dir, "/")
					for _, k := range kernelDirs {
						if d == k || strings.HasPrefix(d, k+"/") {
							p.Report(in, "VOLUME %s is on %s, a kernel/host interface.", dir, k)
							break
						}
					}
				}
			}
		}
	},
}
