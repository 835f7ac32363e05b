package image

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/rule"
	"github.com/dockvet/dockvet/internal/secrets"
)

// Rule is one image check: its metadata and one function over the pass.
type Rule = rule.Rule[*Pass]

// Model is what image rules see: the walked image and the files the rules'
// own analyzer read.
type Model struct {
	*View
	Config v1.Config
	facts  *facts
	// secrets is the secret scan of the walk (nil when it did not run);
	// claimed holds the file versions whose secrets it reported.
	secrets *Secrets
	claimed map[*File]bool
}

// Settings tune the rules that compare with a threshold.
type Settings struct {
	// MaxAge is the age past which an image is reported as stale (DV2011).
	MaxAge time.Duration
	// WastedBytes is the waste reported by DV2027.
	WastedBytes int64
	// LargeImage and ManyLayers are the size and layer count DV2028
	// reports.
	LargeImage int64
	ManyLayers int
}

// DefaultSettings are the thresholds used when none are configured.
func DefaultSettings() Settings {
	return Settings{MaxAge: 180 * 24 * time.Hour, WastedBytes: 20 << 20, LargeImage: 2 << 30, ManyLayers: 50}
}

// Pass is what a rule gets: the model, what the run gives (the project's
// policy, the clock, the thresholds), and the reporter of its findings.
type Pass struct {
	rule.Reporter
	Image    *Model
	Policy   *policy.Policy
	Now      time.Time
	Settings Settings
}

// Report records a finding about the image as a whole.
func (p *Pass) Report(format string, args ...any) *finding.Finding {
	return p.Emit(finding.Location{}, format, args...)
}

// ReportFile records a finding at a file of a layer.
func (p *Pass) ReportFile(f *File, format string, args ...any) *finding.Finding {
	return p.Emit(fileLocation(f), format, args...)
}

func fileLocation(f *File) finding.Location {
	return finding.Location{Path: display(f.Path()), Layer: f.Layer.DiffID.String(), LayerIndex: finding.LayerAt(f.Layer.Index)}
}

// reportSecret records a finding about a secret, with its fingerprint.
func (p *Pass) reportSecret(loc finding.Location, m secrets.Match, format string, args ...any) {
	p.Emit(loc, format, args...).Fingerprint = m.Fingerprint()
}

// AuditOptions configure an audit.
type AuditOptions struct {
	Walk     Options
	Settings Settings
	Policy   *policy.Policy
	// Enabled filters rules, the image's and the Dockerfile rules run on
	// its history; nil runs all.
	Enabled rule.Filter
	// Now is the current time (time.Now when zero).
	Now time.Time
	// Target names the image in findings (img.Ref when empty).
	Target string
	// Secrets, when set, scans every file of every layer for secrets and
	// reports them with the other findings.
	Secrets *Secrets
	// Analyzers are walked with the rules' own (package extractors, …);
	// their Finish sees the same view.
	Analyzers []Analyzer
}

// Audit walks img once and checks it. The returned view carries the layer
// table for the size report.
func Audit(ctx context.Context, img *Image, o AuditOptions) ([]finding.Finding, *View, error) {
	fa := newFacts()
	analyzers := []Analyzer{fa}
	if o.Secrets != nil {
		analyzers = append(analyzers, o.Secrets)
	}
	v, err := Walk(ctx, img, o.Walk, append(analyzers, o.Analyzers...)...)
	if err != nil {
		return nil, nil, err
	}
	m := &Model{View: v, facts: fa, secrets: o.Secrets}
	if img.Config != nil {
		m.Config = img.Config.Config
	}
	return Check(m, o), v, nil
}

// Check runs the image rules over a model, and the Dockerfile rules over
// its history (history.go).
func Check(m *Model, o AuditOptions) []finding.Finding {
	pol := o.Policy
	if pol == nil {
		pol = &policy.Policy{}
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	set := o.Settings
	def := DefaultSettings()
	if set.MaxAge <= 0 {
		set.MaxAge = def.MaxAge
	}
	if set.WastedBytes <= 0 {
		set.WastedBytes = def.WastedBytes
	}
	if set.LargeImage <= 0 {
		set.LargeImage = def.LargeImage
	}
	if set.ManyLayers <= 0 {
		set.ManyLayers = def.ManyLayers
	}
	target := finding.Target{Kind: finding.SurfaceImage, Name: o.Target}
	if target.Name == "" {
		target.Name = m.Image.Ref
	}
	var out []finding.Finding
	if m.secrets != nil {
		// Secret findings come first: the credential-file rules leave the
		// versions they cover to them (one report for the same bytes).
		// The final /etc/shadow is the account rules' to judge: DV2034
		// names the account whose hash it holds.
		_, shadow := m.Shadows()
		judged := func(f *File, s secrets.Match) bool {
			return f == shadow && s.Rule.ID == shadowHashRule && o.Enabled.Allows(&rulePasswordHash.Rule)
		}
		out, m.claimed = m.secrets.findings(m.View, target, o.Enabled, judged)
	}
	rule.Run(rules, o.Enabled, func(r *finding.Rule) *Pass {
		return &Pass{Reporter: rule.NewReporter(r, target, &out), Image: m, Policy: pol, Now: now, Settings: set}
	})
	out = append(out, historyFindings(m, o, out, target, pol, now)...)
	return out
}

// display makes a path safe to print: control characters (a hostile name
// could carry terminal escapes) are shown escaped.
func display(p string) string {
	if strings.IndexFunc(p, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) < 0 {
		return p
	}
	q := fmt.Sprintf("%+q", p)
	return q[1 : len(q)-1]
}

// origin says which layer and instruction put a file in the image.
func origin(f *File) string {
	s := fmt.Sprintf("layer %d", f.Layer.Index)
	if in := Instruction(f.Layer.CreatedBy()); in != "" {
		s += " (" + in + ")"
	}
	return s
}
