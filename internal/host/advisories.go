package host

// This file is dockvet's data on Docker Engine, containerd, runc and
// kernel versions: the end-of-life dates of release branches and the known
// container-escape and host privilege-escalation vulnerabilities, each with
// the versions that fix it and where that is written. To update it, add a
// row; the tests check that every row parses and names a source.
//
// Versions are upstream versions. A distribution that backports a fix
// without changing the upstream version is listed in Distro with its fixed
// package version (OSV ecosystem names: "Debian:12"); without such an entry
// a distribution build is reported as affected, and the message says the
// distribution may have backported the fix.

// Component is a piece of the container stack that has a version.
type Component string

// The components.
const (
	CompEngine     Component = "Docker Engine"
	CompContainerd Component = "containerd"
	CompRunc       Component = "runc"
	CompKernel     Component = "Linux kernel"
)

// Range is [Introduced, Fixed): versions from Introduced (the first
// release when empty) up to, not including, Fixed.
type Range struct {
	Introduced string
	Fixed      string
}

// Advisory is one known vulnerability of a component.
type Advisory struct {
	Component Component
	ID        string
	// Name is the vulnerability's public nickname, if it has one.
	Name string
	// Impact says what an attacker gains, as a noun phrase.
	Impact   string
	Affected []Range
	// Distro maps OSV ecosystems to the package version that fixes it.
	Distro map[string]string
	// When limits the advisory to hosts configured in a way it needs
	// ("authz-plugin", "userns-remap"); empty applies everywhere.
	When    string
	Sources []string
}

// EndOfLife is the date a release branch stopped getting fixes upstream.
type EndOfLife struct {
	Component Component
	// Branch is MAJOR.MINOR.
	Branch string
	// Date is YYYY-MM-DD.
	Date   string
	Source string
}

// advisories is the data table of known vulnerabilities.
var advisories = []Advisory{
	// runc
	{
		Component: CompRunc, ID: "CVE-2019-5736",
		Impact:   "a container overwriting the host's runc binary and running code as root on the host",
		Affected: []Range{{"", "1.0.0-rc7"}},
		Sources: []string{
			"https://nvd.nist.gov/vuln/detail/CVE-2019-5736",
			"https://github.com/opencontainers/runc/commit/0a8e4117e7f715d5fbeef398405813ce8e88558b",
		},
	},
	{
		Component: CompRunc, ID: "CVE-2021-30465",
		Impact:   "a container escaping through a symlink race in bind mounts",
		Affected: []Range{{"", "1.0.0-rc95"}},
		Sources: []string{
			"https://github.com/opencontainers/runc/security/advisories/GHSA-c3xm-pvg7-gh7r",
			"https://nvd.nist.gov/vuln/detail/CVE-2021-30465",
		},
	},
	{
		Component: CompRunc, ID: "CVE-2024-21626", Name: "Leaky Vessels",
		Impact:   "a container or image escaping through a leaked host file descriptor as its working directory",
		Affected: []Range{{"1.0.0-rc93", "1.1.12"}},
		Distro:   map[string]string{"Debian:12": "1.1.5+ds1-1+deb12u1"},
		Sources: []string{
			"https://github.com/opencontainers/runc/security/advisories/GHSA-xr7r-f8xq-vfvv",
			"https://www.debian.org/security/2024/dsa-5615",
		},
	},
	{
		Component: CompRunc, ID: "CVE-2025-31133",
		Impact:   "a container escaping by redirecting the /dev/null bind mount runc uses to mask files",
		Affected: []Range{{"", "1.2.8"}, {"1.3.0-rc.1", "1.3.3"}, {"1.4.0-rc.1", "1.4.0-rc.3"}},
		Sources:  []string{"https://github.com/opencontainers/runc/security/advisories/GHSA-9493-h29p-rfm2"},
	},
	{
		Component: CompRunc, ID: "CVE-2025-52565",
		Impact:   "a container escaping by redirecting the /dev/console bind mount",
		Affected: []Range{{"1.0.0-rc3", "1.2.8"}, {"1.3.0-rc.1", "1.3.3"}, {"1.4.0-rc.1", "1.4.0-rc.3"}},
		Sources:  []string{"https://github.com/opencontainers/runc/security/advisories/GHSA-qw9x-cqr3-wc7r"},
	},
	{
		Component: CompRunc, ID: "CVE-2025-52881",
		Impact:   "a container redirecting runc's writes to /proc files of the host (escape or denial of service)",
		Affected: []Range{{"", "1.2.8"}, {"1.3.0-rc.1", "1.3.3"}, {"1.4.0-rc.1", "1.4.0-rc.3"}},
		Sources:  []string{"https://github.com/opencontainers/runc/security/advisories/GHSA-cgrx-mc8f-2prm"},
	},

	// containerd. CRI-only vulnerabilities (CVE-2022-23648) are left out:
	// Docker does not use containerd's CRI plugin.
	{
		Component: CompContainerd, ID: "CVE-2020-15257",
		Impact:   "containers on the host network reaching containerd-shim's API and gaining root on the host",
		Affected: []Range{{"", "1.3.9"}, {"1.4.0-0", "1.4.3"}},
		Sources: []string{
			"https://github.com/containerd/containerd/security/advisories/GHSA-36xw-fx78-c5r4",
			"https://nvd.nist.gov/vuln/detail/CVE-2020-15257",
		},
	},

	// Docker Engine (moby)
	{
		Component: CompEngine, ID: "CVE-2019-14271",
		Impact:   "a malicious image taking over the host through `docker cp`",
		Affected: []Range{{"19.03.0", "19.03.1"}},
		Sources:  []string{"https://nvd.nist.gov/vuln/detail/CVE-2019-14271"},
	},
	{
		Component: CompEngine, ID: "CVE-2021-21284",
		Impact:   "root in a remapped user namespace escalating to root on the host",
		Affected: []Range{{"", "19.03.15"}, {"20.10.0", "20.10.3"}},
		When:     "userns-remap",
		Sources:  []string{"https://github.com/moby/moby/security/advisories/GHSA-7452-xqpj-6rpc"},
	},
	{
		Component: CompEngine, ID: "CVE-2021-41091",
		Impact:   "unprivileged host users reaching into containers' files and running their setuid programs",
		Affected: []Range{{"", "20.10.9"}},
		Sources:  []string{"https://github.com/moby/moby/security/advisories/GHSA-3fwx-pjgw-3558"},
	},
	{
		Component: CompEngine, ID: "CVE-2024-41110",
		Impact:   "API requests bypassing the authorization plugin",
		Affected: []Range{{"", "23.0.15"}, {"24.0.0", "25.0.6"}, {"26.0.0", "26.1.5"}, {"27.0.0", "27.1.1"}},
		When:     "authz-plugin",
		Sources: []string{
			"https://github.com/moby/moby/security/advisories/GHSA-v23v-6jw2-98fq",
			"https://www.docker.com/blog/docker-security-advisory-docker-engine-authz-plugin/",
		},
	},
	{
		Component: CompEngine, ID: "CVE-2026-34040",
		Impact:   "API requests with oversized bodies bypassing the authorization plugin",
		Affected: []Range{{"", "29.3.1"}},
		When:     "authz-plugin",
		Sources: []string{
			"https://github.com/advisories/GHSA-x744-4wpc-v9h2",
			"https://nvd.nist.gov/vuln/detail/CVE-2026-34040",
		},
	},

	// Linux kernel: bugs used to escape containers. Ranges are kernel.org
	// stable releases; longterm 3.x kernels got their own backports of
	// Dirty COW and are end-of-life.
	{
		Component: CompKernel, ID: "CVE-2016-5195", Name: "Dirty COW",
		Impact:   "processes (in containers too) writing to read-only files and gaining root",
		Affected: []Range{{"2.6.22", "4.4.26"}, {"4.5", "4.7.9"}, {"4.8", "4.8.3"}},
		Sources: []string{
			"https://nvd.nist.gov/vuln/detail/CVE-2016-5195",
			"https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/?id=19be0eaffa3ac7d8eb6784ad9bdbc7d67ed8e619",
		},
	},
	{
		Component: CompKernel, ID: "CVE-2022-0185",
		Impact:   "a container with CAP_SYS_ADMIN in a user namespace overflowing a kernel buffer and escaping",
		Affected: []Range{{"5.1", "5.4.173"}, {"5.5", "5.10.93"}, {"5.11", "5.15.16"}, {"5.16", "5.16.2"}},
		Sources: []string{
			"https://nvd.nist.gov/vuln/detail/CVE-2022-0185",
			"https://www.willsroot.io/2022/01/cve-2022-0185.html",
		},
	},
	{
		Component: CompKernel, ID: "CVE-2022-0847", Name: "Dirty Pipe",
		Impact:   "processes (in containers too) overwriting read-only files, including the host's through shared image layers",
		Affected: []Range{{"5.8", "5.10.102"}, {"5.11", "5.15.25"}, {"5.16", "5.16.11"}},
		Sources: []string{
			"https://dirtypipe.cm4all.com/",
			"https://nvd.nist.gov/vuln/detail/CVE-2022-0847",
		},
	},
}

// endOfLife is the data table of release branches that no longer get
// fixes. A version older than every branch listed for its component is
// end-of-life too.
var endOfLife = []EndOfLife{
	// Docker Engine: the Moby project lists maintained branches in
	// project/BRANCHES-AND-TAGS.md; branches not listed get no fixes.
	{CompEngine, "20.10", "2023-12-10", "https://endoflife.date/docker-engine"},
	{CompEngine, "23.0", "2025-05-19", "https://github.com/moby/moby/blob/master/project/BRANCHES-AND-TAGS.md"},

	// containerd: RELEASES.md, "Current State of containerd Releases".
	{CompContainerd, "1.0", "2018-12-05", "https://github.com/containerd/containerd/blob/main/RELEASES.md"},
	{CompContainerd, "1.1", "2019-10-23", "https://github.com/containerd/containerd/blob/main/RELEASES.md"},
	{CompContainerd, "1.2", "2020-10-15", "https://github.com/containerd/containerd/blob/main/RELEASES.md"},
	{CompContainerd, "1.3", "2021-03-04", "https://github.com/containerd/containerd/blob/main/RELEASES.md"},
	{CompContainerd, "1.4", "2022-03-03", "https://github.com/containerd/containerd/blob/main/RELEASES.md"},
	{CompContainerd, "1.5", "2023-02-28", "https://github.com/containerd/containerd/blob/main/RELEASES.md"},
	{CompContainerd, "1.6", "2025-07-23", "https://github.com/containerd/containerd/blob/main/RELEASES.md"},
	{CompContainerd, "1.7", "2026-03-10", "https://github.com/containerd/containerd/blob/main/RELEASES.md"},
	{CompContainerd, "2.0", "2025-11-07", "https://github.com/containerd/containerd/blob/main/RELEASES.md"},
}
