// Package eol knows when releases of distributions and of the official
// images' language runtimes stopped getting security fixes. The Dockerfile
// audit asks it about FROM lines, the image audit about /etc/os-release,
// the host audit about the host's own distribution: one table, three
// surfaces.
package eol

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// versionLess compares dotted numeric versions component by component.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	// "3" is a floating tag for the newest 3.x, not older than "3.5".
	return false
}

// eolEntry is one release of an official image line and the day its
// upstream stopped publishing security fixes. Update this table when a
// release reaches end of life; sources are the projects' own release pages
// (linked in the rule's references).
type eolEntry struct {
	image   string // last path element of the repository: "debian", "python"
	release string // a version prefix ("3.8") or a codename ("buster")
	eol     string // YYYY-MM-DD
	what    string // how to name it in a message
}

var eolTable = []eolEntry{
	// Debian (end of LTS).
	{"debian", "jessie", "2020-06-30", "Debian 8 (jessie)"},
	{"debian", "8", "2020-06-30", "Debian 8 (jessie)"},
	{"debian", "stretch", "2022-06-30", "Debian 9 (stretch)"},
	{"debian", "9", "2022-06-30", "Debian 9 (stretch)"},
	{"debian", "buster", "2024-06-30", "Debian 10 (buster)"},
	{"debian", "10", "2024-06-30", "Debian 10 (buster)"},
	{"debian", "bullseye", "2026-08-31", "Debian 11 (bullseye)"},
	{"debian", "11", "2026-08-31", "Debian 11 (bullseye)"},
	{"debian", "bookworm", "2028-06-30", "Debian 12 (bookworm)"},
	// Ubuntu (end of standard support).
	{"ubuntu", "trusty", "2019-04-30", "Ubuntu 14.04"},
	{"ubuntu", "14.04", "2019-04-30", "Ubuntu 14.04"},
	{"ubuntu", "xenial", "2021-04-30", "Ubuntu 16.04"},
	{"ubuntu", "16.04", "2021-04-30", "Ubuntu 16.04"},
	{"ubuntu", "bionic", "2023-05-31", "Ubuntu 18.04"},
	{"ubuntu", "18.04", "2023-05-31", "Ubuntu 18.04"},
	{"ubuntu", "focal", "2025-05-31", "Ubuntu 20.04"},
	{"ubuntu", "20.04", "2025-05-31", "Ubuntu 20.04"},
	{"ubuntu", "kinetic", "2023-07-20", "Ubuntu 22.10"},
	{"ubuntu", "22.10", "2023-07-20", "Ubuntu 22.10"},
	{"ubuntu", "lunar", "2024-01-25", "Ubuntu 23.04"},
	{"ubuntu", "23.04", "2024-01-25", "Ubuntu 23.04"},
	{"ubuntu", "mantic", "2024-07-11", "Ubuntu 23.10"},
	{"ubuntu", "23.10", "2024-07-11", "Ubuntu 23.10"},
	{"ubuntu", "oracular", "2025-07-10", "Ubuntu 24.10"},
	{"ubuntu", "24.10", "2025-07-10", "Ubuntu 24.10"},
	{"ubuntu", "plucky", "2026-01-15", "Ubuntu 25.04"},
	{"ubuntu", "25.04", "2026-01-15", "Ubuntu 25.04"},
	{"ubuntu", "jammy", "2027-06-01", "Ubuntu 22.04"},
	{"ubuntu", "22.04", "2027-06-01", "Ubuntu 22.04"},
	// Alpine (end of security support: two years after release).
	{"alpine", "3.14", "2023-05-01", "Alpine 3.14"},
	{"alpine", "3.15", "2023-11-01", "Alpine 3.15"},
	{"alpine", "3.16", "2024-05-23", "Alpine 3.16"},
	{"alpine", "3.17", "2024-11-22", "Alpine 3.17"},
	{"alpine", "3.18", "2025-05-09", "Alpine 3.18"},
	{"alpine", "3.19", "2025-11-01", "Alpine 3.19"},
	{"alpine", "3.20", "2026-04-01", "Alpine 3.20"},
	{"alpine", "3.21", "2026-11-01", "Alpine 3.21"},
	{"alpine", "3.22", "2027-05-01", "Alpine 3.22"},
	// CentOS Linux is gone; every tag of the Docker Hub image is past EOL.
	{"centos", "", "2024-06-30", "CentOS Linux"},
	// The Docker Hub openjdk image is deprecated and no longer updated.
	{"openjdk", "", "2022-07-01", "the deprecated openjdk image"},
	// Python.
	{"python", "2", "2020-01-01", "Python 2"},
	{"python", "3.5", "2020-09-13", "Python 3.5"},
	{"python", "3.6", "2021-12-23", "Python 3.6"},
	{"python", "3.7", "2023-06-27", "Python 3.7"},
	{"python", "3.8", "2024-10-07", "Python 3.8"},
	{"python", "3.9", "2025-10-31", "Python 3.9"},
	{"python", "3.10", "2026-10-31", "Python 3.10"},
	{"python", "3.11", "2027-10-31", "Python 3.11"},
	// Node.js.
	{"node", "14", "2023-04-30", "Node.js 14"},
	{"node", "16", "2023-09-11", "Node.js 16"},
	{"node", "17", "2022-06-01", "Node.js 17"},
	{"node", "18", "2025-04-30", "Node.js 18"},
	{"node", "19", "2023-06-01", "Node.js 19"},
	{"node", "20", "2026-04-30", "Node.js 20"},
	{"node", "21", "2024-06-01", "Node.js 21"},
	{"node", "22", "2027-04-30", "Node.js 22"},
	{"node", "23", "2025-06-01", "Node.js 23"},
	{"node", "25", "2026-06-01", "Node.js 25"},
	// Go: each release is supported until the second newer one ships.
	{"golang", "1.20", "2024-02-06", "Go 1.20"},
	{"golang", "1.21", "2024-08-13", "Go 1.21"},
	{"golang", "1.22", "2025-02-11", "Go 1.22"},
	{"golang", "1.23", "2025-08-12", "Go 1.23"},
	{"golang", "1.24", "2026-02-10", "Go 1.24"},
	{"golang", "1.25", "2026-08-11", "Go 1.25"},
	// Ruby.
	{"ruby", "2", "2023-03-31", "Ruby 2"},
	{"ruby", "3.0", "2024-04-23", "Ruby 3.0"},
	{"ruby", "3.1", "2025-03-31", "Ruby 3.1"},
	{"ruby", "3.2", "2026-03-31", "Ruby 3.2"},
	// PHP.
	{"php", "5", "2018-12-31", "PHP 5"},
	{"php", "7", "2022-11-28", "PHP 7"},
	{"php", "8.0", "2023-11-26", "PHP 8.0"},
	{"php", "8.1", "2025-12-31", "PHP 8.1"},
	{"php", "8.2", "2026-12-31", "PHP 8.2"},
}

var (
	eolByImage = func() map[string][]eolEntry {
		m := map[string][]eolEntry{}
		for _, e := range eolTable {
			m[e.image] = append(m[e.image], e)
		}
		return m
	}()
	versionHead = regexp.MustCompile(`^v?([0-9]+(?:\.[0-9]+)*)`)
)

// Release is a release past its end of life.
type Release struct {
	// Name names it in a message: "Python 3.8", "Debian 10 (buster)".
	Name string
	// Date is the day fixes stopped, YYYY-MM-DD.
	Date string
}

// Lookup reports whether the release an official image tag, or a
// distribution version, belongs to was past its end of life at now.
// image is the last path element of the repository ("python", "debian")
// or a distribution ID from os-release; tag the tag ("3.8-slim-buster") or
// the distribution's VERSION_ID ("10"). A tag may name two releases
// ("3.8-slim-buster": Python 3.8 on Debian 10); the first past its end of
// life is returned.
func Lookup(image, tag string, now time.Time) (Release, bool) {
	e, ok := endOfLife(image, tag, now)
	return Release{Name: e.what, Date: e.eol}, ok
}

// endOfLife reports the release an official image tag belongs to and its
// end-of-life date, when that date is before now. repoName is the last path
// element of the repository ("python"), tag the tag ("3.8-slim-buster").
// A tag may name two releases ("3.8-slim-buster": Python 3.8 on Debian 10);
// the first past EOL is returned.
func endOfLife(repoName, tag string, now time.Time) (eolEntry, bool) {
	parts := strings.Split(strings.ToLower(tag), "-")
	// The release of the image itself, then a distribution codename suffix.
	candidates := []struct{ image, rel string }{{repoName, parts[0]}}
	for _, p := range parts[1:] {
		candidates = append(candidates, struct{ image, rel string }{"debian", p}, struct{ image, rel string }{"ubuntu", p})
		if strings.HasPrefix(p, "alpine") {
			candidates = append(candidates, struct{ image, rel string }{"alpine", strings.TrimPrefix(p, "alpine")})
		}
	}
	for _, c := range candidates {
		head := releaseHead(c.rel)
		for _, e := range eolByImage[c.image] {
			if !releaseMatchesHead(e.release, c.rel, head) {
				continue
			}
			day, err := time.Parse(time.DateOnly, e.eol)
			if err == nil && now.After(day) {
				return e, true
			}
		}
	}
	// Releases older than the oldest one in the table are past EOL too.
	if v := strings.TrimPrefix(versionHead.FindString(parts[0]), "v"); v != "" {
		var oldest *eolEntry
		for i, e := range eolByImage[repoName] {
			if versionHead.MatchString(e.release) && (oldest == nil || versionLess(e.release, oldest.release)) {
				oldest = &eolByImage[repoName][i]
			}
		}
		if oldest != nil && versionLess(v, oldest.release) && !releaseMatches(oldest.release, v) {
			return eolEntry{repoName, v, oldest.eol, repoName + " " + v + " (older than " + oldest.what + ")"}, true
		}
	}
	return eolEntry{}, false
}

// releaseMatches compares a table release with a tag part: "" matches every
// tag; a codename matches exactly; a version matches itself and its
// patch releases ("3.8" matches "3.8" and "3.8.19", not "3.80").
func releaseMatches(rel, part string) bool {
	return releaseMatchesHead(rel, part, releaseHead(part))
}

// releaseHead is the version a tag part starts with, without a "v".
func releaseHead(part string) string {
	return strings.TrimPrefix(versionHead.FindString(part), "v")
}

// releaseMatchesHead is releaseMatches with the part's head found once
// for the whole table of an image.
func releaseMatchesHead(rel, part, head string) bool {
	if rel == "" || part == rel {
		return true
	}
	return head != "" && (head == rel || strings.HasPrefix(head, rel) && head[len(rel)] == '.')
}
