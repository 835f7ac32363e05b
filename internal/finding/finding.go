// Package finding holds the vocabulary every surface of dockvet shares: the
// rule metadata, the finding a rule reports, and the report that carries them
// to the renderers. Nothing here knows about Dockerfiles, images or hosts.
package finding

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity orders findings. The zero value is not a valid severity so that a
// rule that forgot to declare one fails the catalog test.
type Severity int

// Severities from least to most severe.
const (
	Info Severity = iota + 1
	Low
	Medium
	High
	Critical
)

var severityNames = map[Severity]string{
	Info: "info", Low: "low", Medium: "medium", High: "high", Critical: "critical",
}

// Severities lists every valid severity, most severe first.
var Severities = []Severity{Critical, High, Medium, Low, Info}

func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Valid reports whether s is one of the five severities.
func (s Severity) Valid() bool { _, ok := severityNames[s]; return ok }

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for s, sn := range severityNames {
		if sn == n {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want critical, high, medium, low or info)", name)
}

// MarshalText writes the lower-case name the JSON contract uses.
func (s Severity) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Practice is one of the keys of docs/practices.md: the best practice a rule
// enforces. The set is closed; a rule with another key fails the catalog test.
type Practice string

// The practice keys, in the order of the seed article.
const (
	PracticeUpdate          Practice = "update"
	PracticeDaemonSocket    Practice = "daemon-socket"
	PracticeNonRoot         Practice = "non-root"
	PracticeResourceLimits  Practice = "resource-limits"
	PracticeVulnerabilities Practice = "vulnerabilities"
	PracticeSmallImage      Practice = "small-image"
	PracticeSecrets         Practice = "secrets"
	PracticeRegistry        Practice = "registry"
	PracticeNetwork         Practice = "network"
	PracticeMonitoring      Practice = "monitoring"
	PracticeNamespaces      Practice = "namespaces"
	PracticeCapabilities    Practice = "capabilities"
	PracticeContentTrust    Practice = "content-trust"
	PracticeHygiene         Practice = "hygiene"
)

// Practices lists every practice key.
var Practices = []Practice{
	PracticeUpdate, PracticeDaemonSocket, PracticeNonRoot, PracticeResourceLimits,
	PracticeVulnerabilities, PracticeSmallImage, PracticeSecrets, PracticeRegistry,
	PracticeNetwork, PracticeMonitoring, PracticeNamespaces, PracticeCapabilities,
	PracticeContentTrust, PracticeHygiene,
}

// Valid reports whether p is one of the documented practice keys.
func (p Practice) Valid() bool { return slices.Contains(Practices, p) }

// Surface is where dockvet looks; it is also the kind of a report target.
type Surface string

// The surfaces of docs/practices.md.
const (
	SurfaceDockerfile Surface = "dockerfile"
	SurfaceImage      Surface = "image"
	SurfaceCompose    Surface = "compose"
	SurfaceContainer  Surface = "container"
	SurfaceHost       Surface = "host"
	SurfaceWatch      Surface = "watch"
	SurfaceSBOM       Surface = "sbom"
)

// Surfaces lists every surface.
var Surfaces = []Surface{
	SurfaceDockerfile, SurfaceImage, SurfaceCompose, SurfaceContainer,
	SurfaceHost, SurfaceWatch, SurfaceSBOM,
}

// Valid reports whether s is a documented surface.
func (s Surface) Valid() bool { return slices.Contains(Surfaces, s) }

// Rule is the metadata of one check. Every surface wraps it with its own
// check function; the catalog, the docs and the SARIF rule table are all
// generated from these values.
type Rule struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Practice    Practice  `json:"practice"`
	Severity    Severity  `json:"severity"`
	Surfaces    []Surface `json:"surfaces"`
	CIS         string    `json:"cis,omitempty"`
	Description string    `json:"description"`
	Remediation string    `json:"remediation"`
	References  []string  `json:"references,omitempty"`
	// Benchmark is the recommendation as the CIS Docker Benchmark words
	// it (for a check of dockvet's own, as dockvet words it): the title of
	// the rule's row in the host audit's benchmark table.
	Benchmark string `json:"benchmark,omitempty"`
	// Manual marks a check the benchmark leaves to a person: it reports
	// what to look at as an info finding (NOTE in the table).
	Manual bool `json:"manual,omitempty"`
	// Peers are the IDs other tools give the same check (hadolint's
	// "DL3008", Trivy's "AVD-DS-0029", Dockle's "CIS-DI-0001"), so that a
	// user coming from them finds the rule, and their ignore comments and
	// files name it.
	Peers []string `json:"peers,omitempty"`
}

// Validate reports the first thing wrong with a rule's metadata.
func (r *Rule) Validate() error {
	switch {
	case r.ID == "":
		return fmt.Errorf("rule with title %q has no ID", r.Title)
	case r.Title == "":
		return fmt.Errorf("rule %s has no title", r.ID)
	case !r.Practice.Valid():
		return fmt.Errorf("rule %s has unknown practice %q", r.ID, r.Practice)
	case !r.Severity.Valid():
		return fmt.Errorf("rule %s has no valid severity", r.ID)
	case len(r.Surfaces) == 0:
		return fmt.Errorf("rule %s declares no surface", r.ID)
	case r.Description == "":
		return fmt.Errorf("rule %s has no description", r.ID)
	case r.Remediation == "":
		return fmt.Errorf("rule %s has no remediation", r.ID)
	}
	for _, s := range r.Surfaces {
		if !s.Valid() {
			return fmt.Errorf("rule %s has unknown surface %q", r.ID, s)
		}
	}
	return nil
}

// Location says where a finding is. Only the fields that apply are set.
type Location struct {
	Path   string `json:"path,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// EndLine closes a multi-line region (a RUN with continuations); SARIF
	// uses it, the contract does not require it.
	EndLine    int    `json:"endLine,omitempty"`
	Layer      string `json:"layer,omitempty"`
	LayerIndex *int   `json:"layerIndex,omitempty"`
	Container  string `json:"container,omitempty"`
	Service    string `json:"service,omitempty"`
}

// LayerAt returns a pointer to i, for Location.LayerIndex (0 is a real layer).
func LayerAt(i int) *int { return &i }

// Vulnerability is present on findings of practice "vulnerabilities" only.
type Vulnerability struct {
	ID        string   `json:"id"`
	Aliases   []string `json:"aliases,omitempty"`
	Package   string   `json:"package"`
	Ecosystem string   `json:"ecosystem,omitempty"`
	Installed string   `json:"installed"`
	Fixed     string   `json:"fixed,omitempty"`
	CVSS      float64  `json:"cvss,omitempty"`
	PURL      string   `json:"purl,omitempty"`
	Summary   string   `json:"summary,omitempty"`
	// SeveritySource says where the finding's severity came from: "cvss"
	// (a CVSS vector of the advisory), "rating" (the advisory's own
	// label), "alias ID" (a record the advisory is an alias of, when it
	// rates nothing itself) or "default" (nothing rated it: the
	// database's default severity).
	SeveritySource string `json:"severitySource,omitempty"`
}

// Finding is one broken practice at one place.
type Finding struct {
	RuleID        string         `json:"ruleId"`
	Title         string         `json:"title"`
	Severity      Severity       `json:"severity"`
	Practice      Practice       `json:"practice"`
	CIS           string         `json:"cis,omitempty"`
	Target        string         `json:"target"`
	TargetKind    Surface        `json:"targetKind"`
	Location      Location       `json:"location"`
	Message       string         `json:"message"`
	Remediation   string         `json:"remediation"`
	References    []string       `json:"references,omitempty"`
	Vulnerability *Vulnerability `json:"vulnerability,omitempty"`
	// Fingerprint identifies one exact secret (a hash, never the value) so an
	// ignore entry can name it without containing it.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Missing lists, on a finding that groups the hardening settings a
	// Compose service leaves at Docker's defaults, each setting and the rule
	// that would report it alone, so that --severity, ignores, severity
	// overrides and machine readers still see those rules.
	Missing []Missing `json:"missing,omitempty"`
}

// Missing is one setting a grouped finding lists as not set.
type Missing struct {
	RuleID   string   `json:"ruleId"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Practice Practice `json:"practice"`
	CIS      string   `json:"cis,omitempty"`
	// Setting says what is missing ("no memory limit"); Fix is the
	// setting that sets it ("mem_limit: 512m").
	Setting string `json:"setting"`
	Fix     string `json:"fix"`
}

// SetMissing makes f the one finding of the settings ms: its severity is
// the highest of theirs, its message lists them, and its remediation is
// the one change that sets them all.
func (f *Finding) SetMissing(ms []Missing) {
	f.Missing = ms
	f.Severity = 0
	settings := make([]string, len(ms))
	fixes := make([]string, len(ms))
	for i, m := range ms {
		f.Severity = max(f.Severity, m.Severity)
		settings[i] = m.Setting
		fixes[i] = "`" + m.Fix + "`"
	}
	who := "The container"
	switch {
	case f.Location.Service != "":
		who = "Service " + f.Location.Service
	case f.Location.Container != "":
		who = "Container " + f.Location.Container
	}
	what := "1 hardening setting"
	if len(ms) != 1 {
		what = fmt.Sprintf("%d hardening settings", len(ms))
	}
	f.Message = fmt.Sprintf("%s leaves %s at Docker's defaults: %s.", who, what, andList(settings))
	f.Remediation = "Set them for the service: " + strings.Join(fixes, ", ") +
		" (`dockvet compose --fix-preview` writes them as an override file; size the limits for the service)."
}

func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// New makes a finding of rule r: everything the rule knows is copied, the
// caller supplies where and what.
func New(r *Rule, target Target, loc Location, message string) Finding {
	return Finding{
		RuleID:      r.ID,
		Title:       r.Title,
		Severity:    r.Severity,
		Practice:    r.Practice,
		CIS:         r.CIS,
		Target:      target.Name,
		TargetKind:  target.Kind,
		Location:    loc,
		Message:     message,
		Remediation: r.Remediation,
		References:  r.References,
	}
}

// Target is one thing that was audited.
type Target struct {
	Kind Surface `json:"kind"`
	Name string  `json:"name"`
}

// Sort orders findings as the contract says: severity (critical first), then
// target, path, line, rule ID; the remaining keys only make the order total so
// that the same input always gives the same bytes.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, Compare)
}

// Compare is the order of Sort. Each key is compared only when the ones
// before it tie (cmp.Or would compare them all, messages included, for
// every pair a sort looks at).
func Compare(a, b Finding) int {
	return compare(&a, &b)
}

func compare(a, b *Finding) int {
	if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Target, b.Target); c != 0 {
		return c
	}
	if c := comparePaths(a.Location.Path, b.Location.Path); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Location.Line, b.Location.Line); c != 0 {
		return c
	}
	if c := cmp.Compare(a.RuleID, b.RuleID); c != 0 {
		return c
	}
	return cmp.Or(
		cmp.Compare(a.Location.Column, b.Location.Column),
		cmp.Compare(layerOf(*a), layerOf(*b)),
		cmp.Compare(a.Location.Container, b.Location.Container),
		cmp.Compare(a.Location.Service, b.Location.Service),
		cmp.Compare(a.Message, b.Message),
		cmp.Compare(a.Fingerprint, b.Fingerprint),
	)
}

// comparePaths orders paths as strings, except that the runs of digits
// where they first differ compare as numbers: history[5] before
// history[14], lib/python3.9 before lib/python3.10. Equal numbers written
// with different leading zeros fall back to the bytes, so the order stays
// total. Only the first difference is examined, with no allocation:
// Compare sorts thousands of findings.
func comparePaths(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		return cmp.Compare(len(a), len(b))
	}
	start := i
	for start > 0 && isDigit(a[start-1]) {
		start--
	}
	ea, eb := digitsEnd(a, start), digitsEnd(b, start)
	if ea == start || eb == start {
		return cmp.Compare(a[i], b[i])
	}
	na, nb := strings.TrimLeft(a[start:ea], "0"), strings.TrimLeft(b[start:eb], "0")
	if len(na) != len(nb) {
		return cmp.Compare(len(na), len(nb))
	}
	if c := strings.Compare(na, nb); c != 0 {
		return c
	}
	return cmp.Compare(a[i], b[i])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func layerOf(f Finding) int {
	if f.Location.LayerIndex == nil {
		return -1
	}
	return *f.Location.LayerIndex
}

// AtLeast reports whether s is at or above min.
func (s Severity) AtLeast(min Severity) bool { return s >= min }
