package host

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/eol"
	"github.com/dockvet/dockvet/internal/finding"
)

// Versions of the container stack: known container escapes and
// end-of-life branches, from the data table in advisories.go.

// installed returns a component's version on the host.
func (p *Pass) installed(c Component) installed {
	s := p.Snap
	in := installed{Component: c}
	switch c {
	case CompKernel:
		in.Version = s.Kernel.Upstream
		return in
	case CompEngine:
		if s.Engine != nil {
			in.Version = s.Engine.Version.Version
			if in.Version == "" {
				in.Version = s.Engine.Info.ServerVersion
			}
		}
	case CompContainerd:
		if s.Engine != nil {
			in.Version = s.Engine.component("containerd")
			if in.Version == "" {
				in.Version = s.Engine.Info.ContainerdCommit.ID
			}
		}
	case CompRunc:
		if s.Engine != nil {
			in.Version = s.Engine.component("runc")
			if in.Version == "" {
				in.Version = s.Engine.Info.RuncCommit.ID
			}
		}
	}
	for _, name := range distroPackages[c] {
		if pkg, ok := s.Packages[name]; ok {
			pkg := pkg
			in.Package, in.Ecosystem = &pkg, s.OS.Ecosystem()
			break
		}
	}
	if in.Version == "" {
		// Without the Engine, the package database says what is installed.
		switch {
		case in.Package != nil:
			in.Version, in.FromPackage = in.Package.Version, true
		case upstreamPackages[c] != "":
			if pkg, ok := s.Packages[upstreamPackages[c]]; ok {
				in.Version, in.FromPackage = pkg.Version, true
			}
		}
	}
	return in
}

// distroCaveat is the end of a message about a distribution build.
func distroCaveat(in installed) string {
	if in.Package == nil {
		return ""
	}
	return "; the distribution may still backport fixes to its package, check its security tracker"
}

// checkAdvisories reports the advisories of a component that the
// installed version is affected by.
func (p *Pass) checkAdvisories(c Component) {
	in := p.installed(c)
	if in.Version == "" {
		switch {
		case c == CompKernel:
			p.Skip("not checked: %s", p.Snap.Kernel.NotChecked)
		case p.Snap.Engine == nil:
			p.Skip("not checked: the Engine API was not available (%s) and no package database lists %s", p.Snap.EngineErr, c)
		default:
			p.Skip("not checked: the Engine did not report the %s version", c)
		}
		return
	}
	if Upstream(in.Version) == "" {
		p.Skip("not checked: %s reports %q, which is not a version", c, in.Version)
		return
	}
	version := in.Version
	if c == CompKernel {
		version = fmt.Sprintf("%s (upstream %s, from %s)", p.Snap.Kernel.Release, in.Version, p.Snap.Kernel.UpstreamFrom)
	}
	var checked []string
	for i := range advisories {
		a := &advisories[i]
		if a.Component != c {
			continue
		}
		checked = append(checked, a.ID)
		if !p.Snap.applies(a.When) {
			continue
		}
		r, hit := a.affected(in.Version)
		if !hit {
			continue
		}
		caveat := ""
		if in.Package != nil {
			fixed, known := a.distroFixed(in.Ecosystem, in.Package.Version)
			if fixed {
				continue
			}
			if known {
				caveat = fmt.Sprintf("; %s fixed it in package %s %s", in.Ecosystem, in.Package.Name, a.Distro[in.Ecosystem])
			} else {
				caveat = "; the distribution may have backported the fix, check its security tracker"
			}
		}
		if c == CompKernel && p.Snap.Kernel.UpstreamFrom == "/proc/version_signature" {
			caveat = "; Ubuntu kernels can carry the fix before their upstream base does, check the Ubuntu CVE tracker"
		}
		name := string(c) + " " + version
		if c != CompKernel && in.Package != nil {
			name = in.String()
		}
		p.Report(finding.Location{}, "%s is affected by %s, %s; fixed in %s%s.", name, a.label(), a.Impact, r.Fixed, caveat)
	}
	p.Note("%s %s checked against %s", c, in.Version, strings.Join(checked, ", "))
}

// knownCondition reports whether an Advisory.When value is one applies
// understands.
func knownCondition(when string) bool {
	switch when {
	case "", "authz-plugin", "userns-remap":
		return true
	}
	return false
}

// applies reports whether a host is configured the way an advisory
// needs (Advisory.When).
func (s *Snapshot) applies(when string) bool {
	switch when {
	case "":
		return true
	case "authz-plugin":
		return s.usesAuthzPlugin()
	case "userns-remap":
		return s.usesUserns()
	}
	return false
}

var ruleRuncEscape = &Rule{
	Rule: finding.Rule{
		ID: "DV4801", Title: "runc has a known container-escape vulnerability", CIS: "1.2.2",
		Practice: finding.PracticeUpdate, Severity: finding.High,
		Description: "runc starts every container. Its known escapes (CVE-2019-5736, CVE-2021-30465, CVE-2024-21626 \"Leaky Vessels\", the 2025 masked-path and /dev/console races) let a malicious image or a process in a container take over the host.",
		Remediation: "Upgrade runc (the `runc` or `containerd.io` package) to a release that fixes the listed CVE, then restart the containers.",
		References:  []string{"https://github.com/opencontainers/runc/security/advisories"},
		Benchmark:   "Ensure runc has no known container-escape vulnerability",
	},
	Check: func(p *Pass) {
		p.checkAdvisories(CompRunc)
	},
}

var ruleContainerdEscape = &Rule{
	Rule: finding.Rule{
		ID: "DV4802", Title: "containerd has a known container-escape vulnerability", CIS: "1.2.2",
		Practice: finding.PracticeUpdate, Severity: finding.High,
		Description: "containerd and its shims run every Docker container. CVE-2020-15257 let containers on the host network reach the shim API and gain root on the host.",
		Remediation: "Upgrade containerd (the `containerd` or `containerd.io` package) to a release that fixes the listed CVE, then restart the containers.",
		References:  []string{"https://github.com/containerd/containerd/security/advisories"},
		Benchmark:   "Ensure containerd has no known container-escape vulnerability",
	},
	Check: func(p *Pass) {
		p.checkAdvisories(CompContainerd)
	},
}

var ruleEngineEscalation = &Rule{
	Rule: finding.Rule{
		ID: "DV4803", Title: "Docker Engine has a known privilege-escalation vulnerability", CIS: "1.2.2",
		Practice: finding.PracticeUpdate, Severity: finding.High,
		Description: "The Engine version is affected by a vulnerability that gives containers, images or unprivileged users more than they should have (a host takeover through `docker cp`, root escalation under userns-remap, reachable container files, authorization plugin bypasses). Advisories that need a feature (an authorization plugin, userns-remap) are reported only when the host uses it.",
		Remediation: "Upgrade Docker Engine to a release that fixes the listed CVE.",
		References:  []string{"https://github.com/moby/moby/security/advisories"},
		Benchmark:   "Ensure Docker Engine has no known privilege-escalation vulnerability",
	},
	Check: func(p *Pass) {
		p.checkAdvisories(CompEngine)
	},
}

var ruleKernelEscape = &Rule{
	Rule: finding.Rule{
		ID: "DV4804", Title: "Kernel has a known container-escape bug", CIS: "1.2.1",
		Practice: finding.PracticeUpdate, Severity: finding.High,
		Description: "Containers share the host's kernel, so a kernel privilege escalation is a container escape (Dirty COW, Dirty Pipe, CVE-2022-0185). Vendor kernels named by ABI are compared by the upstream version their distribution records (/proc/version on Debian, /proc/version_signature on Ubuntu); kernels whose upstream version cannot be known are not checked.",
		Remediation: "Install the distribution's patched kernel and reboot into it.",
		References:  []string{"https://www.kernel.org/category/releases.html"},
		Benchmark:   "Ensure the kernel has no known container-escape bug",
	},
	Check: func(p *Pass) { p.checkAdvisories(CompKernel) },
}

var ruleContainerdEOL = &Rule{
	Rule: finding.Rule{
		ID: "DV4805", Title: "containerd is end-of-life", CIS: "1.2.2",
		Practice: finding.PracticeUpdate, Severity: finding.Medium,
		Description: "The containerd release branch no longer gets security fixes upstream (containerd's RELEASES.md).",
		Remediation: "Upgrade containerd to a supported release (the `containerd.io` package from Docker's repository, or a newer distribution release).",
		References:  []string{"https://github.com/containerd/containerd/blob/main/RELEASES.md"},
		Benchmark:   "Ensure containerd is a supported release",
	},
	Check: func(p *Pass) {
		in := p.installed(CompContainerd)
		if Upstream(in.Version) == "" {
			p.Skip("not checked: no containerd version is known (%s)", p.Snap.EngineErr)
			return
		}
		if e := endOfLifeOf(CompContainerd, in.Version, p.Now); e != nil {
			p.Report(finding.Location{}, "%s is end-of-life since %s: branch %s gets no upstream security fixes%s.", in, e.Date, branch(in.Version), distroCaveat(in))
		}
	},
}

// eolDistributions are the os-release IDs the end-of-life table dates.
// CentOS is CentOS Linux; CentOS Stream has the same ID and other dates.
var eolDistributions = []string{"debian", "ubuntu", "alpine", "centos"}

var ruleDistributionEOL = &Rule{
	Rule: finding.Rule{
		ID: "DV4813", Title: "Host distribution is end-of-life",
		Practice: finding.PracticeUpdate, Severity: finding.High,
		Description: "The host's operating system release (/etc/os-release) no longer gets security fixes from its distribution: the kernel every container shares, the Docker packages and everything else installed stay open to each vulnerability found from now on. The dates are the table the Dockerfile and image audits use for base images; releases of other distributions are not checked.",
		Remediation: "Upgrade the host to a supported release of its distribution (or move to another supported distribution), then reinstall Docker from the repository for that release.",
		References:  []string{"https://endoflife.date/", "https://wiki.debian.org/LTS", "https://ubuntu.com/about/release-cycle", "https://alpinelinux.org/releases/"},
		Benchmark:   "Ensure the host's distribution release still gets security fixes",
	},
	Check: func(p *Pass) {
		osr := p.Snap.OS
		name := osr.PrettyName
		if name == "" {
			name = strings.TrimSpace(osr.ID + " " + osr.VersionID)
		}
		switch {
		case osr.ID == "":
			p.Skip("not checked: no os-release file names the distribution")
			return
		case !slices.Contains(eolDistributions, osr.ID) || osr.ID == "centos" && strings.Contains(osr.PrettyName, "Stream"):
			p.Skip("not checked: dockvet has no end-of-life dates for %s", name)
			return
		case osr.VersionID == "":
			p.Skip("not checked: os-release gives no VERSION_ID for %s", name)
			return
		}
		rel, ok := eol.Lookup(osr.ID, osr.VersionID, p.Now)
		if !ok {
			p.Note("%s still gets security fixes", name)
			return
		}
		p.Report(finding.Location{}, "The host runs %s, whose release %s reached end of life on %s: its kernel and packages get no more security fixes.", name, rel.Name, rel.Date)
	},
}
