package image

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// modeText writes a mode as chmod takes it: 4755, 0777.
func modeText(m fs.FileMode) string {
	n := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return fmt.Sprintf("%04o", n)
}

var ruleSetuid = &Rule{
	Rule: finding.Rule{
		ID: "DV2020", Title: "setuid or setgid file", Practice: finding.PracticeCapabilities, Severity: finding.Low, CIS: "4.8",
		Description: "A file in the final filesystem has the setuid or setgid bit. It runs with its owner's or group's privileges " +
			"whoever starts it, so any bug in it is a privilege escalation inside the container. Most images need none.",
		Remediation: "Remove the bits in the image (`RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +`), or drop the packages " +
			"that need them; grant a capability (`setcap`) where a program really needs one privilege.",
		References: []string{"https://docs.docker.com/engine/security/#linux-kernel-capabilities"},
	},
	Check: func(p *Pass) {
		for f := range p.Image.Files() {
			if f.Type != Regular || f.Mode&(fs.ModeSetuid|fs.ModeSetgid) == 0 {
				continue
			}
			bits := "setuid"
			switch {
			case f.Mode&fs.ModeSetuid != 0 && f.Mode&fs.ModeSetgid != 0:
				bits = "setuid and setgid"
			case f.Mode&fs.ModeSetgid != 0:
				bits = "setgid"
			}
			p.ReportFile(f, "%s is %s (mode %s, owner %d:%d), from %s.", display(f.Path()), bits, modeText(f.Mode), f.UID, f.GID, origin(f))
		}
	},
}

// sharedTmp are the directories meant to be writable by everyone (with the
// sticky bit); what is inside them is temporary by definition.
var sharedTmp = []string{"/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock"}

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

var ruleWorldWritable = &Rule{
	Rule: finding.Rule{
		ID: "DV2021", Title: "World-writable file or directory", Practice: finding.PracticeCapabilities, Severity: finding.Medium,
		Description: "A file, or a directory without the sticky bit, outside /tmp is writable by every user. Any process in the container, " +
			"whatever its user, can replace programs or configuration there: a classic step from a foothold to persistence.",
		Remediation: "Give ownership to the user that writes (`COPY --chown=app:app`, `chown app /data`) and use 755/644 or stricter; " +
			"a shared scratch directory needs the sticky bit (1777).",
		References: []string{"https://docs.docker.com/build/building/best-practices/#user"},
	},
	Check: func(p *Pass) {
		type hit struct {
			f     *File
			below int
		}
		var hits []*hit
		for f := range p.Image.Files() {
			if f.Type != Regular && f.Type != Dir || f.Mode&0o002 == 0 || f.Type == Dir && f.Mode&fs.ModeSticky != 0 {
				continue
			}
			if slices.ContainsFunc(sharedTmp, func(d string) bool { return under(f.Path(), d) }) {
				continue
			}
			// Filesystem order puts a directory before its contents: one
			// finding for a tree made writable by one chmod -R.
			if n := len(hits); n > 0 && hits[n-1].f.Type == Dir && under(f.Path(), hits[n-1].f.Path()) {
				hits[n-1].below++
				continue
			}
			hits = append(hits, &hit{f: f})
		}
		for _, h := range hits {
			msg := fmt.Sprintf("%s %s is writable by every user (mode %s), from %s", h.f.Type, display(h.f.Path()), modeText(h.f.Mode), origin(h.f))
			if h.below > 0 {
				msg += fmt.Sprintf(", and so are %s below it", plural(h.below, "entry", "entries"))
			}
			p.ReportFile(h.f, "%s.", capitalize(msg))
		}
	},
}

// credentialIn reports whether f is a credential file, confirmed by its
// content where its kind needs that, and not already reported by the
// secret scan (which names the secret, its line and its fingerprint).
func (m *Model) credentialIn(f *File) (credFile, bool) {
	c, ok := fileCredential(f)
	if !ok || c.confirm != nil && !m.facts.confirmed[f] || m.claimed[f] {
		return credFile{}, false
	}
	return c, true
}

// underGit reports whether a path is inside a .git directory (the
// repository is reported once, as a whole).
func underGit(p string) bool { return strings.Contains(p, "/.git/") }

var ruleCredentialFile = &Rule{
	Rule: finding.Rule{
		ID: "DV2022", Title: "Credential file in the image", Practice: finding.PracticeSecrets, Severity: finding.High, CIS: "4.10",
		Description: "The final filesystem holds a file that exists to carry credentials: SSH or TLS private keys, .env files, cloud, Docker, " +
			"npm, PyPI or Kubernetes credentials, a .netrc, or a whole .git directory. Anyone who can pull the image can read it.",
		Remediation: "Keep credential files out of the build context (.dockerignore) and mount them only for the step that needs them " +
			"(`RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`, `RUN --mount=type=ssh`); revoke and rotate what was shipped.",
		References: refSecrets,
	},
	Check: func(p *Pass) {
		for f := range p.Image.Files() {
			// The name first: most files are not credential files, and
			// their paths need not be joined.
			c, ok := p.Image.credentialIn(f)
			if !ok || underGit(f.Path()) {
				continue
			}
			msg := fmt.Sprintf("%s holds %s, from %s", display(f.Path()), c.what, origin(f))
			if older := p.Image.olderLayers(f); older != "" {
				msg += "; earlier versions are still in " + older
			}
			p.ReportFile(f, "%s.", msg)
		}
	},
}

// olderLayers lists the layers that still hold earlier versions of f's
// path ("layer 1", "layers 1 and 3").
func (m *Model) olderLayers(f *File) string {
	e := m.Entry(f.Path())
	if e == nil {
		return ""
	}
	var idx []string
	for _, ev := range e.Events() {
		if ev.Kind != Deleted && ev.File != f && ev.File.Type == f.Type {
			idx = append(idx, fmt.Sprint(ev.File.Layer.Index))
		}
	}
	switch len(idx) {
	case 0:
		return ""
	case 1:
		return "layer " + idx[0]
	}
	return "layers " + strings.Join(idx[:len(idx)-1], ", ") + " and " + idx[len(idx)-1]
}

var ruleDeletedCredential = &Rule{
	Rule: finding.Rule{
		ID: "DV2023", Title: "Deleted credential file still in a lower layer", Practice: finding.PracticeSecrets, Severity: finding.High, CIS: "4.10",
		Description: "A credential file was added by one layer and deleted (or replaced) by a later one. The final filesystem does not show it, " +
			"but the layer that added it is part of the image: `docker save` and any registry client hand it out, and extracting it takes one tar command.",
		Remediation: "Revoke and rotate the credential. Rebuild so that it never enters a layer: use `RUN --mount=type=secret` or `--mount=type=ssh` " +
			"for build-time credentials, or a multi-stage build whose final stage never sees them. Deleting a file in a later step never removes it.",
		References: append([]string{"https://docs.docker.com/build/building/multi-stage/"}, refSecrets...),
	},
	Check: func(p *Pass) {
		for f, ev := range p.Image.Hidden() {
			if underGit(f.Path()) {
				continue
			}
			c, ok := p.Image.credentialIn(f)
			if !ok {
				continue
			}
			if fin := p.Image.Final(f.Path()); fin != nil {
				if _, still := p.Image.credentialIn(fin); still {
					continue // DV2022 reports the path and names this layer
				}
			}
			how := fmt.Sprintf("deleted in layer %d", ev.Layer)
			if ev.Kind == Changed {
				how = fmt.Sprintf("replaced in layer %d", ev.Layer)
			} else if ev.File != nil && ev.File.Type != Whiteout && ev.File.Type != Opaque && ev.File.Path() != f.Path() {
				how = fmt.Sprintf("hidden in layer %d, which put a file at %s in place of its directory", ev.Layer, display(ev.File.Path()))
			}
			p.ReportFile(f, "%s (%s) was added in %s and %s, but it is still in the image: anyone can extract it from layer %d.",
				display(f.Path()), c.what, origin(f), how, f.Layer.Index)
		}
	},
}

// cache is a directory package managers fill and that a final image does
// not need. "~" stands for /root and every /home/USER.
type cache struct {
	dir, what string
	keep      []string // names that belong there (lock files, empty partial/)
}

var caches = []cache{
	{dir: "/var/lib/apt/lists", what: "apt package lists", keep: []string{"lock", "partial", "auxfiles"}},
	{dir: "/var/cache/apt", what: "apt package cache", keep: []string{"lock", "partial", "archives"}},
	{dir: "/var/cache/apt/archives", what: "downloaded .deb files", keep: []string{"lock", "partial"}},
	{dir: "/var/cache/apk", what: "apk package cache"},
	{dir: "/etc/apk/cache", what: "apk package cache"},
	{dir: "/var/cache/yum", what: "yum cache"},
	{dir: "/var/cache/dnf", what: "dnf cache"},
	{dir: "/var/cache/zypp", what: "zypper cache"},
	{dir: "~/.cache/pip", what: "pip cache"},
	{dir: "~/.npm/_cacache", what: "npm cache"},
	{dir: "~/.cache/yarn", what: "yarn cache"},
	{dir: "/usr/local/share/.cache/yarn", what: "yarn cache"},
	{dir: "~/.cache/go-build", what: "Go build cache"},
	{dir: "~/.cargo/registry/cache", what: "Cargo download cache"},
	{dir: "~/.gradle/caches", what: "Gradle cache"},
	{dir: "~/.composer/cache", what: "Composer cache"},
}

var homeRe = regexp.MustCompile(`^(/root|/home/[^/]+)(/.*)$`)

// cacheOf returns the cache a path is in, and the cache's directory.
func cacheOf(p string) (*cache, string) {
	home, rest := "", p
	// The expression runs only where it can match: this is asked of
	// every regular file of an image.
	if strings.HasPrefix(p, "/root/") || strings.HasPrefix(p, "/home/") {
		if m := homeRe.FindStringSubmatch(p); m != nil {
			home, rest = m[1], m[2]
		}
	}
	var best *cache
	bestDir := ""
	for i := range caches {
		c := &caches[i]
		dir := c.dir
		if strings.HasPrefix(dir, "~/") {
			if home == "" || !under(rest, dir[1:]) {
				continue
			}
			dir = home + dir[1:]
		} else if !under(p, dir) {
			continue
		}
		if len(dir) > len(bestDir) {
			best, bestDir = c, dir
		}
	}
	return best, bestDir
}

var ruleCaches = &Rule{
	Rule: finding.Rule{
		ID: "DV2024", Title: "Package manager cache left in the image", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Description: "A package manager's cache or index (apt lists, .deb archives, apk, yum/dnf, pip, npm, yarn, Go build cache, …) is in the final " +
			"filesystem. It is never used at run time, makes every pull slower, and may carry stale package metadata.",
		Remediation: "Clean in the same RUN that installs: `apt-get install … && rm -rf /var/lib/apt/lists/*`, `apk add --no-cache`, " +
			"`pip install --no-cache-dir`, `npm ci && npm cache clean --force`, or use a cache mount (`RUN --mount=type=cache,target=/root/.cache/pip`).",
		References: []string{"https://docs.docker.com/build/building/best-practices/#apt-get", "https://docs.docker.com/build/cache/optimize/#use-cache-mounts"},
	},
	Check: func(p *Pass) {
		type acc struct {
			c     *cache
			dir   string
			files int
			bytes int64
			by    map[*Layer]int64
		}
		var order []*acc
		found := map[string]*acc{}
		for f := range p.Image.Files() {
			if f.Type != Regular || f.Size == 0 {
				continue
			}
			c, dir := cacheOf(f.Path())
			if c == nil {
				continue
			}
			rel := strings.TrimPrefix(f.Path(), dir+"/")
			if first, _, _ := strings.Cut(rel, "/"); slices.Contains(c.keep, first) {
				continue
			}
			a := found[dir]
			if a == nil {
				a = &acc{c: c, dir: dir, by: map[*Layer]int64{}}
				found[dir] = a
				order = append(order, a)
			}
			a.files++
			a.bytes += f.Size
			a.by[f.Layer] += f.Size
		}
		for _, a := range order {
			var top *Layer
			for l, n := range a.by {
				if top == nil || n > a.by[top] || n == a.by[top] && l.Index < top.Index {
					top = l
				}
			}
			loc := finding.Location{Path: display(a.dir), Layer: top.DiffID.String(), LayerIndex: finding.LayerAt(top.Index)}
			f0 := &File{Layer: top}
			p.Emit(loc, "%s holds the %s: %s in %s, mostly from %s.", display(a.dir), a.c.what, humanBytes(a.bytes),
				plural(a.files, "file", "files"), origin(f0))
		}
	},
}

// tool is a program a final image rarely needs.
type tool struct {
	name string
	re   *regexp.Regexp
}

var buildTools = []tool{
	{"gcc", regexp.MustCompile(`^(?:[a-z0-9_]+-linux-(?:gnu|musl)[a-z]*-)?gcc(?:-[0-9.]+)?$`)},
	{"g++", regexp.MustCompile(`^(?:[a-z0-9_]+-linux-(?:gnu|musl)[a-z]*-)?g\+\+(?:-[0-9.]+)?$`)},
	{"cc", regexp.MustCompile(`^c(?:c|\+\+)$`)},
	{"clang", regexp.MustCompile(`^clang(?:\+\+)?(?:-[0-9]+)?$`)},
	{"make", regexp.MustCompile(`^g?make$`)},
	{"cmake", regexp.MustCompile(`^cmake$`)},
	{"go", regexp.MustCompile(`^go$`)},
	{"rustc", regexp.MustCompile(`^rustc$`)},
	{"cargo", regexp.MustCompile(`^cargo$`)},
	{"javac", regexp.MustCompile(`^javac$`)},
}

var fetchTools = []tool{
	{"apt-get", regexp.MustCompile(`^apt-get$`)},
	{"apt", regexp.MustCompile(`^apt$`)},
	{"apk", regexp.MustCompile(`^apk$`)},
	{"yum", regexp.MustCompile(`^yum$`)},
	{"dnf", regexp.MustCompile(`^(?:micro)?dnf$`)},
	{"zypper", regexp.MustCompile(`^zypper$`)},
	{"pip", regexp.MustCompile(`^pip(?:3(?:\.[0-9]+)?)?$`)},
	{"npm", regexp.MustCompile(`^npm$`)},
	{"curl", regexp.MustCompile(`^curl$`)},
	{"wget", regexp.MustCompile(`^wget$`)},
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// searchPath is the image's PATH, as its containers will see it.
func (m *Model) searchPath() []string {
	p := defaultPath
	for _, kv := range m.Config.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			p = v
		}
	}
	var out []string
	for _, d := range strings.Split(p, ":") {
		if strings.HasPrefix(d, "/") && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// program resolves an executable found at p: symlinks followed, hard links
// to their target. A busybox applet is not the tool it is named after.
func (m *Model) program(e *Entry) *File {
	f := m.Resolve(e.Path())
	if f != nil && f.Type == Hardlink {
		f = m.Resolve(f.Linkname())
	}
	if f == nil || f.Type != Regular || !f.Executable() {
		return nil
	}
	if strings.HasPrefix(path.Base(f.Path()), "busybox") || f.Path() == "/bin/toybox" {
		return nil
	}
	return f
}

// findTools reports the tools found on PATH, the first of each name.
func findTools(p *Pass, tools []tool, format string) {
	seen := map[string]bool{}
	seenDir := map[string]bool{}
	for _, dir := range p.Image.searchPath() {
		d := p.Image.Resolve(dir)
		if d == nil || d.Type != Dir || seenDir[d.Path()] {
			continue
		}
		seenDir[d.Path()] = true
		e := p.Image.Entry(d.Path())
		if e == nil {
			continue
		}
		for _, k := range e.Kids() {
			n := k.name()
			for _, t := range tools {
				if seen[t.name] || !t.re.MatchString(n) {
					continue
				}
				f := p.Image.program(k)
				if f == nil || k.Final() == nil {
					continue
				}
				seen[t.name] = true
				p.ReportFile(k.Final(), format, t.name, display(k.Path()), origin(f))
			}
		}
	}
}

var ruleBuildTools = &Rule{
	Rule: finding.Rule{
		ID: "DV2025", Title: "Compiler or build tool in the final image", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Description: "A compiler or build tool (gcc, clang, make, cmake, go, rustc, cargo, javac) is on the image's PATH. A runtime image " +
			"does not build anything; the toolchain adds size and hands an attacker who gets in a way to build exploits on the spot.",
		Remediation: "Build in a separate stage and copy only the result into a slim or distroless final stage (`COPY --from=build /out/app /app`).",
		References:  []string{"https://docs.docker.com/build/building/multi-stage/"},
	},
	Check: func(p *Pass) {
		findTools(p, buildTools, "Build tool %s is in the final image at %s, from %s.")
	},
}

var ruleFetchTools = &Rule{
	Rule: finding.Rule{
		ID: "DV2026", Title: "Package manager or downloader in the final image", Practice: finding.PracticeSmallImage, Severity: finding.Info,
		Description: "A package manager (apt, apk, yum/dnf, zypper, pip, npm) or a downloader (curl, wget) is on the image's PATH. " +
			"At run time they only serve someone who wants to install or fetch tools inside the container.",
		Remediation: "Use a distroless or minimal final stage that has no package manager, and fetch what the build needs in an earlier stage.",
		References:  []string{"https://github.com/GoogleContainerTools/distroless"},
	},
	Check: func(p *Pass) {
		findTools(p, fetchTools, "%s is in the final image at %s, from %s.")
	},
}

var ruleEscape = &Rule{
	Rule: finding.Rule{
		ID: "DV2040", Title: "Layer entry named outside the root", Practice: finding.PracticeHygiene, Severity: finding.High,
		Description: "A layer holds tar entries with absolute names or names that climb above the root with `..`. No image builder writes them; " +
			"they are how a crafted archive tries to write outside its directory on tools that extract images (tar-slip). Runtimes clamp or refuse them.",
		Remediation: "Do not use the image; rebuild it from its Dockerfile with a standard builder, and find out where this layer came from.",
		References:  []string{"https://github.com/opencontainers/image-spec/blob/main/layer.md"},
	},
	Check: func(p *Pass) {
		per := map[*Layer][]*File{}
		for e := range p.Image.Entries() {
			for _, ev := range e.events() {
				if ev.File != nil && ev.File.Escaped && !slices.Contains(per[ev.File.Layer], ev.File) {
					per[ev.File.Layer] = append(per[ev.File.Layer], ev.File)
				}
			}
		}
		for _, l := range p.Image.Layers {
			fs := per[l]
			if len(fs) == 0 {
				continue
			}
			// A name that climbs with ".." is the telling example.
			ex := fs[0]
			for _, f := range fs {
				if strings.Contains(p.Image.RawName(f), "..") {
					ex = f
					break
				}
			}
			p.ReportFile(ex, "Layer %d has %s named outside the root, such as %q.", l.Index, plural(len(fs), "entry", "entries"), display(p.Image.RawName(ex)))
		}
	},
}

var ruleDevices = &Rule{
	Rule: finding.Rule{
		ID: "DV2041", Title: "Device node in the image", Practice: finding.PracticeNamespaces, Severity: finding.Medium,
		Description: "The image's filesystem holds a character or block device node. Runtimes provide /dev themselves; a device node shipped " +
			"in an image is useless at best and, in a container started with extra privileges, a door to a host device. The nodes under /dev " +
			"that a root filesystem imported from a tarball carries are one finding per layer, at low severity: the runtime mounts its own /dev over them.",
		Remediation: "Remove the device node from the image (`RUN rm …`, or build without it); let the runtime create devices, or grant them with `--device`.",
		References:  []string{"https://docs.docker.com/reference/cli/docker/container/run/#device"},
	},
	Check: func(p *Pass) {
		dev := map[*Layer][]*File{}
		var layers []*Layer
		for f := range p.Image.Files() {
			if f.Type != CharDevice && f.Type != BlockDevice {
				continue
			}
			if under(f.Path(), "/dev") {
				if dev[f.Layer] == nil {
					layers = append(layers, f.Layer)
				}
				dev[f.Layer] = append(dev[f.Layer], f)
				continue
			}
			p.ReportFile(f, "%s is a %s node, from %s.", display(f.Path()), f.Type, origin(f))
		}
		for _, l := range layers {
			fs := dev[l]
			names := make([]string, 0, 3)
			for _, f := range fs[:min(3, len(fs))] {
				names = append(names, display(f.Path()))
			}
			more := ""
			if len(fs) > 3 {
				more = fmt.Sprintf(" and %d more", len(fs)-3)
			}
			fd := p.ReportFile(fs[0], "%s has %s under /dev (%s%s); the runtime mounts its own /dev over them.",
				capitalize(origin(fs[0])), plural(len(fs), "device node", "device nodes"), strings.Join(names, ", "), more)
			fd.Location.Path = "/dev"
			fd.Severity = finding.Low
		}
	},
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
