package finding

import (
	"fmt"
	"slices"
	"strings"
)

// SchemaVersion is the version of the JSON report layout (contract.md).
const SchemaVersion = 1

// Tool names the program that wrote a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Summary counts reported findings by severity.
type Summary struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// Add counts one finding of severity s.
func (s *Summary) Add(sev Severity) {
	switch sev {
	case Critical:
		s.Critical++
	case High:
		s.High++
	case Medium:
		s.Medium++
	case Low:
		s.Low++
	case Info:
		s.Info++
	}
}

// Total is the number of findings counted.
func (s Summary) Total() int { return s.Critical + s.High + s.Medium + s.Low + s.Info }

// Suppressed records a finding that a configuration, ignore file or inline
// comment hid, so that an auditor can see what is hidden and why.
type Suppressed struct {
	RuleID      string   `json:"ruleId"`
	Target      string   `json:"target"`
	Location    Location `json:"location"`
	Reason      string   `json:"reason,omitempty"`
	By          string   `json:"by"`
	Fingerprint string   `json:"fingerprint,omitempty"`
}

// InputError is an input that could not be audited. A report with errors is
// incomplete: the CLI exits 2 after writing it.
type InputError struct {
	Target  string  `json:"target"`
	Kind    Surface `json:"kind,omitempty"`
	Message string  `json:"message"`
}

// Report is what every command produces and every renderer consumes.
type Report struct {
	SchemaVersion int          `json:"schemaVersion"`
	Tool          Tool         `json:"tool"`
	Targets       []Target     `json:"targets"`
	Findings      []Finding    `json:"findings"`
	Suppressed    []Suppressed `json:"suppressed,omitempty"`
	Errors        []InputError `json:"errors,omitempty"`
	Summary       Summary      `json:"summary"`
	// Checks are benchmark rows (the host audit's CIS table); most
	// surfaces have none.
	Checks []Check `json:"checks,omitempty"`
	// Config names the project configuration and ignore file that
	// applied, when files were read (absent: the defaults).
	Config *ConfigUsed `json:"config,omitempty"`
	// Scan says when the report was made, against which Engine and with
	// which vulnerability data (scan.go).
	Scan *ScanInfo `json:"scan,omitempty"`
	// Images identify the images the report audited, one per image target.
	Images []ImageInfo `json:"images,omitempty"`
	// Notices say what the report leaves out although the run completed:
	// findings past the cap per target (MaxFindingsPerTarget).
	Notices []string `json:"notices,omitempty"`
	// MaxFindings caps the findings listed per target: 0 means
	// MaxFindingsPerTarget, a negative value no cap.
	MaxFindings int `json:"-"`
	// Rules are the rules that ran, for renderers that describe them (SARIF).
	Rules []Rule `json:"-"`
	// Layers are the layer views of the images audited, for the table,
	// HTML and Markdown reports. They stay out of the JSON report: a
	// stored fleet report is assembled without them and must still be the
	// CLI's JSON byte for byte.
	Layers []ImageLayers `json:"-"`
	// Waivers are in-source suppressions found while auditing; config.Apply
	// honours them together with the configured ignores.
	Waivers []Waiver `json:"-"`
}

// ConfigUsed says which files configured a run.
type ConfigUsed struct {
	// File is the .dockvet.yaml that applied.
	File string `json:"file,omitempty"`
	// IgnoreFile is the ignore file that applied.
	IgnoreFile string `json:"ignoreFile,omitempty"`
}

// ImageLayers are the layers of one audited image (the target named
// Target), base first.
type ImageLayers struct {
	Target string
	Layers []Layer
}

// Layer is one layer of an image as a person looks at it: how big, how
// much of it later layers hide, the instruction that made it, and what it
// added that matters.
type Layer struct {
	Index int
	// DiffID is the digest of the uncompressed layer.
	DiffID string
	// Size is the bytes of file content; Stored the bytes of the blob as
	// stored (compressed), 0 when the source did not say.
	Size, Stored int64
	Files        int
	// Wasted is the bytes of this layer's files that later layers delete
	// or overwrite: still shipped, never seen.
	Wasted int64
	// CreatedBy is the instruction that made the layer, secrets masked.
	CreatedBy string
	// Largest are the biggest files the layer added that the final
	// filesystem still shows, largest first.
	Largest []LayerFile
	// Packages counts the packages this layer introduced, by type (deb,
	// npm, …); nil when the inventory did not run.
	Packages map[string]int
}

// LayerFile is one file a layer added.
type LayerFile struct {
	Path string
	Size int64
}

// Finalize sorts everything and recomputes the summary, so that the same
// input always renders to the same bytes.
func (r *Report) Finalize() {
	r.SchemaVersion = SchemaVersion
	if r.Targets == nil {
		r.Targets = []Target{}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	slices.SortStableFunc(r.Targets, func(a, b Target) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
	r.Targets = slices.Compact(r.Targets)
	Sort(r.Findings)
	r.capFindings()
	slices.SortStableFunc(r.Suppressed, func(a, b Suppressed) int {
		return Compare(Finding{RuleID: a.RuleID, Target: a.Target, Location: a.Location, Fingerprint: a.Fingerprint},
			Finding{RuleID: b.RuleID, Target: b.Target, Location: b.Location, Fingerprint: b.Fingerprint})
	})
	slices.SortStableFunc(r.Errors, func(a, b InputError) int { return strings.Compare(a.Target, b.Target) })
	r.Summary = Summary{}
	for _, f := range r.Findings {
		r.Summary.Add(f.Severity)
	}
	slices.SortFunc(r.Rules, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	r.finalizeScan()
	r.Rules = slices.CompactFunc(r.Rules, func(a, b Rule) bool { return a.ID == b.ID })
}

// MaxFindingsPerTarget caps the findings a report lists for one target
// (issue 19: an image with 300,000 distinct secrets made a 292 MB report,
// which helps no one). The most severe are kept; the rest are counted by
// severity in a notice that names the cap. A thousand findings on one
// target are already more than anyone fixes from one report, and the
// exit code, which follows the most severe finding, does not change.
const MaxFindingsPerTarget = 1000

// capFindings keeps at most the cap of findings per target, the most
// severe first (Findings are sorted by severity), and says what it left
// out in Notices. Every surface's report goes through Finalize, so every
// surface has the cap.
func (r *Report) capFindings() {
	limit := r.MaxFindings
	if limit == 0 {
		limit = MaxFindingsPerTarget
	}
	if limit < 0 || len(r.Findings) <= limit {
		return
	}
	kept := map[string]int{}
	dropped := map[string]*Summary{}
	var order []string
	out := r.Findings[:0]
	for _, f := range r.Findings {
		if kept[f.Target] < limit {
			kept[f.Target]++
			out = append(out, f)
			continue
		}
		d := dropped[f.Target]
		if d == nil {
			d = &Summary{}
			dropped[f.Target] = d
			order = append(order, f.Target)
		}
		d.Add(f.Severity)
	}
	clear(r.Findings[len(out):])
	r.Findings = out
	slices.Sort(order)
	for _, t := range order {
		d := dropped[t]
		var parts []string
		for _, c := range []struct {
			n    int
			name string
		}{{d.Critical, "critical"}, {d.High, "high"}, {d.Medium, "medium"}, {d.Low, "low"}, {d.Info, "info"}} {
			if c.n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", c.n, c.name))
			}
		}
		r.Notices = append(r.Notices, fmt.Sprintf("%s: %d more findings not listed (%s): a report lists at most %d findings per target, the most severe first",
			t, d.Total(), strings.Join(parts, ", "), limit))
	}
}

// Max returns the highest severity reported, or 0 when there is none.
func (r *Report) Max() Severity {
	var m Severity
	for _, f := range r.Findings {
		m = max(m, f.Severity)
	}
	return m
}

// Waiver is an in-source suppression, such as a "# dockvet ignore=ID reason"
// comment in a Dockerfile: it hides findings of the named rules located in
// Path between Line and EndLine. Line 0 waives the whole file.
type Waiver struct {
	Path    string
	Line    int
	EndLine int
	RuleIDs []string
	Reason  string
}

// Covers reports whether the waiver hides f.
func (w Waiver) Covers(f Finding) bool {
	if f.Location.Path != w.Path && f.Target != w.Path {
		return false
	}
	if w.Line > 0 && (f.Location.Line < w.Line || f.Location.Line > max(w.Line, w.EndLine)) {
		return false
	}
	return slices.Contains(w.RuleIDs, f.RuleID) || slices.Contains(w.RuleIDs, "all")
}
