package image

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/dockvet/dockvet/internal/eol"
	"github.com/dockvet/dockvet/internal/finding"
)

var refAccounts = []string{"https://man7.org/linux/man-pages/man5/shadow.5.html", "https://man7.org/linux/man-pages/man5/passwd.5.html"}

// reportLine records a finding at a line of a file in the image.
func (p *Pass) reportLine(f *File, line int, format string, args ...any) *finding.Finding {
	r := p.ReportFile(f, format, args...)
	r.Location.Line = line
	return r
}

var ruleEmptyPassword = &Rule{
	Rule: finding.Rule{
		ID: "DV2030", Title: "Account with an empty password", Practice: finding.PracticeNonRoot, Severity: finding.High,
		Description: "An account in /etc/shadow (or /etc/passwd, when it holds the password itself) has an empty password field: " +
			"no password is needed to become that user, so `su` turns any process in the container into it — root, if the account is root.",
		Remediation: "Lock the account instead (`passwd -l NAME`, or `*` / `!` in the password field); images need no passwords at all.",
		References:  refAccounts,
	},
	Check: func(p *Pass) {
		shadows, sf := p.Image.Shadows()
		for _, s := range shadows {
			if s.Password == "" {
				p.reportLine(sf, s.Line, "Account %s has an empty password in /etc/shadow, so anyone in the container can become it without one.", display(s.Name))
			}
		}
		accts, pf := p.Image.Accounts()
		for _, a := range accts {
			if a.Password == "" {
				p.reportLine(pf, a.Line, "Account %s has an empty password field in /etc/passwd, so anyone in the container can become it without a password.", display(a.Name))
			}
		}
	},
}

var ruleDuplicateIDs = &Rule{
	Rule: finding.Rule{
		ID: "DV2031", Title: "Duplicate user or group IDs or names", Practice: finding.PracticeNonRoot, Severity: finding.Medium,
		Description: "Two entries of /etc/passwd share a UID or a name, or two entries of /etc/group share a GID or a name. Files and processes " +
			"of one then belong to the other too, and tools disagree about who owns what.",
		Remediation: "Give every account and group its own name and ID (`useradd --uid`, `groupadd --gid`), and remove the duplicates.",
		References:  refAccounts,
	},
	Check: func(p *Pass) {
		accts, pf := p.Image.Accounts()
		byUID, byName := map[int]string{}, map[string]bool{}
		for _, a := range accts {
			if byName[a.Name] {
				p.reportLine(pf, a.Line, "User name %s appears twice in /etc/passwd.", display(a.Name))
			}
			byName[a.Name] = true
			if prev, ok := byUID[a.UID]; ok && a.UID != 0 && prev != a.Name {
				p.reportLine(pf, a.Line, "UID %d is shared by %s and %s in /etc/passwd.", a.UID, display(prev), display(a.Name))
			}
			if _, ok := byUID[a.UID]; !ok {
				byUID[a.UID] = a.Name
			}
		}
		groups, gf := p.Image.Groups()
		byGID, byGroup := map[int]string{}, map[string]bool{}
		for _, g := range groups {
			if byGroup[g.Name] {
				p.reportLine(gf, g.Line, "Group name %s appears twice in /etc/group.", display(g.Name))
			}
			byGroup[g.Name] = true
			if prev, ok := byGID[g.GID]; ok && prev != g.Name {
				p.reportLine(gf, g.Line, "GID %d is shared by groups %s and %s in /etc/group.", g.GID, display(prev), display(g.Name))
			} else if !ok {
				byGID[g.GID] = g.Name
			}
		}
	},
}

var ruleExtraRoot = &Rule{
	Rule: finding.Rule{
		ID: "DV2032", Title: "Account other than root with UID 0", Practice: finding.PracticeNonRoot, Severity: finding.High,
		Description: "An account other than root has UID 0 in /etc/passwd. It is root under another name: a classic backdoor, and a way for " +
			"a `USER` that looks unprivileged to run as root.",
		Remediation: "Remove the account or give it its own non-zero UID.",
		References:  refAccounts,
	},
	Check: func(p *Pass) {
		accts, pf := p.Image.Accounts()
		for _, a := range accts {
			if a.UID == 0 && a.Name != "root" {
				p.reportLine(pf, a.Line, "Account %s has UID 0 in /etc/passwd: it is root under another name.", display(a.Name))
			}
		}
	},
}

// locked reports whether a password field admits no password login.
func locked(pw string) bool {
	return pw == "x" || strings.HasPrefix(pw, "!") || strings.HasPrefix(pw, "*")
}

var rulePasswordHash = &Rule{
	Rule: finding.Rule{
		ID: "DV2034", Title: "Password hash baked into the image", Practice: finding.PracticeSecrets, Severity: finding.Medium,
		Description: "An account in /etc/shadow has a usable password hash. Every container of the image shares that password, " +
			"and anyone who pulls the image can try to crack the hash offline.",
		Remediation: "Do not set passwords in images (`chpasswd`, `echo … | passwd`); lock accounts (`passwd -l`) and give access through " +
			"the orchestrator (`docker exec`) or keys mounted at run time.",
		References: refAccounts,
	},
	Check: func(p *Pass) {
		shadows, sf := p.Image.Shadows()
		for _, s := range shadows {
			if s.Password == "" || locked(s.Password) {
				continue
			}
			r := p.reportLine(sf, s.Line, "Account %s has a password hash in /etc/shadow; every container shares the password.", display(s.Name))
			r.Fingerprint = hashFingerprint(r.RuleID, s.Password)
		}
	},
}

var ruleSudoers = &Rule{
	Rule: finding.Rule{
		ID: "DV2035", Title: "Passwordless sudo", Practice: finding.PracticeNonRoot, Severity: finding.Medium,
		Description: "A sudoers rule grants commands with NOPASSWD. Running the container as a non-root user then protects nothing: " +
			"any process of that user becomes root with one command.",
		Remediation: "Remove sudo from the image; if a step really needs root, run it at build time as root and switch USER afterwards.",
		References:  []string{"https://www.sudo.ws/docs/man/sudoers.man/"},
	},
	Check: func(p *Pass) {
		var files []*File
		if f := p.Image.Final("/etc/sudoers"); f != nil {
			files = append(files, f)
		}
		if e := p.Image.Entry("/etc/sudoers.d"); e != nil {
			for _, k := range e.Kids() {
				if f := k.Final(); f != nil && f.Type == Regular {
					files = append(files, f)
				}
			}
		}
		for _, f := range files {
			data := p.Image.facts.text[f]
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(make([]byte, 64<<10), maxFactFile)
			for n := 1; sc.Scan(); n++ {
				l := strings.TrimSpace(sc.Text())
				if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "Defaults") || !strings.Contains(l, "NOPASSWD") {
					continue
				}
				who := strings.Fields(l)[0]
				p.reportLine(f, n, "%s line %d lets %s run commands as root without a password (NOPASSWD).", display(f.Path()), n, display(who))
			}
		}
	},
}

var ruleEOL = &Rule{
	Rule: finding.Rule{
		ID: "DV2033", Title: "End-of-life distribution", Practice: finding.PracticeUpdate, Severity: finding.High,
		Description: "/etc/os-release names a distribution release that no longer gets security fixes (Debian 10 and older, Ubuntu releases " +
			"past their support, Alpine branches past their end date, CentOS Linux). Every vulnerability found since stays in the image for good. " +
			"The dates are those of the Dockerfile rule DV1013, kept in one table.",
		Remediation: "Rebuild on a supported release of the same distribution (for example `debian:bookworm-slim`, `ubuntu:24.04`, `alpine:3.22`), " +
			"or on a distroless base.",
		References: []string{"https://endoflife.date/", "https://wiki.debian.org/LTS", "https://alpinelinux.org/releases/", "https://ubuntu.com/about/release-cycle"},
	},
	Check: func(p *Pass) {
		osr, f := p.Image.OSRelease()
		id, ver := osr["ID"], osr["VERSION_ID"]
		switch id {
		case "debian", "ubuntu", "alpine":
		case "centos":
			if strings.Contains(osr["NAME"], "Stream") {
				return // CentOS Stream is not CentOS Linux
			}
		default:
			return
		}
		if ver == "" {
			return
		}
		rel, ok := eol.Lookup(id, ver, p.Now)
		if !ok {
			return
		}
		name := osr["PRETTY_NAME"]
		if name == "" {
			name = id + " " + ver
		}
		p.ReportFile(f, "The image's distribution is %s (%s), which reached end of life on %s.", display(name), rel.Name, rel.Date)
	},
}
