package image

import (
	"fmt"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/rule"
	"github.com/dockvet/dockvet/internal/secrets"
)

// Secrets runs the secret engine over every file of every layer on the
// walk, the versions that later layers delete or overwrite included: their
// bytes are in the image. Give it to Audit (AuditOptions.Secrets): each
// secret becomes a finding of its secret rule (DV7xxx) at the file, line
// and column, in the layer that holds the bytes, and the image rules that
// judge credential files by name (DV2022, DV2023) leave the files it
// reported to it. Files it does not read are counted (Stats), and a text
// file longer than the engine's byte cap is reported (DV2024): nothing is
// dropped silently.
type Secrets struct {
	e     *secrets.Engine
	found map[*File][]secrets.Match
	// truncated are the text files read only up to the cap; capped those
	// with more secrets than the engine keeps from one file.
	truncated, capped []*File
	// perLayer counts the matches kept from each layer (MaxLayerSecrets).
	perLayer map[*Layer]int
	stats    SecretStats
	// saved is stats as of the last layer recorded (layerrecord.go).
	saved SecretStats
}

// SecretStats counts what the secret scan of one image read and what it
// did not.
type SecretStats struct {
	// Files and Bytes are the files read and their bytes.
	Files, Bytes int64
	// Binary counts files not scanned because they are binary; Strings
	// the binary files scanned as their printable strings (compiled
	// Python, Java classes, SQLite databases).
	Binary, Strings int64
	// SkippedPath counts files not read because of where they are
	// (secrets.DefaultSkipPaths: documentation, locales, CA bundles…), and
	// SkippedBytes their size.
	SkippedPath, SkippedBytes int64
	// Truncated counts text files longer than MaxBytes, scanned only up
	// to it.
	Truncated int64
	MaxBytes  int64
	// Capped counts files with more secrets than the engine keeps from
	// one file (secrets.DefaultMaxMatches); their rest was not searched.
	Capped int64
	// Dropped counts the secrets found past MaxLayerSecrets in a layer,
	// not reported, and DroppedFiles the files that held them.
	Dropped, DroppedFiles int64
}

// MaxLayerSecrets caps the secrets kept from one layer. Each costs a
// deliberately slow fingerprint (finding.Fingerprint) and a finding: a
// layer of 300,000 distinct keys took 323 s and a 292 MB report, which
// helps no one. A thousand say what to fix; the rest are counted and
// reported as one finding (DV2029). The cap is per layer, not per image,
// so that a layer's cached record does not depend on the layers before.
const MaxLayerSecrets = 1000

// NewSecrets returns the analyzer for one walk, scanning with e.
func NewSecrets(e *secrets.Engine) *Secrets {
	return &Secrets{e: e, found: map[*File][]secrets.Match{}, perLayer: map[*Layer]int{}, stats: SecretStats{MaxBytes: e.MaxBytes()}}
}

// Stats says what the walk read and skipped.
func (s *Secrets) Stats() SecretStats { return s.stats }

// Name implements Analyzer.
func (s *Secrets) Name() string { return "secret scan" }

// Want implements Analyzer: every non-empty file outside the engine's
// documented skip paths, up to one byte past the cap.
func (s *Secrets) Want(f *File) (Want, bool) {
	if f.Size == 0 {
		return Want{}, false
	}
	if s.e.SkipReason(f.Path()) != "" {
		s.stats.SkippedPath++
		s.stats.SkippedBytes += f.Size
		return Want{}, false
	}
	if c := s.e.MaxBytes(); c > 0 {
		return Want{Max: c + 1}, true
	}
	return Want{}, true
}

// Visit implements Analyzer.
func (s *Secrets) Visit(f *File, c Content) error {
	res, err := s.e.ScanFile(c, f.Path())
	if err != nil {
		return err
	}
	s.stats.Files++
	s.stats.Bytes += res.Bytes
	switch res.Mode {
	case "binary":
		s.stats.Binary++
	case "strings":
		s.stats.Strings++
	}
	if res.Truncated {
		s.stats.Truncated++
		s.truncated = append(s.truncated, f)
	}
	if res.Capped {
		s.stats.Capped++
		s.capped = append(s.capped, f)
	}
	if len(res.Matches) > 0 {
		ms := res.Matches
		if room := MaxLayerSecrets - s.perLayer[f.Layer]; len(ms) > room {
			s.stats.Dropped += int64(len(ms) - max(room, 0))
			s.stats.DroppedFiles++
			ms = ms[:max(room, 0)]
		}
		s.perLayer[f.Layer] += len(ms)
		if len(ms) > 0 {
			s.found[f] = ms
		}
	}
	return nil
}

// Finish implements Analyzer; the findings are made by Check, which knows
// the target and the enabled rules.
func (s *Secrets) Finish(*View) error { return nil }

// secretVersion is one version of a file holding one secret.
type secretVersion struct {
	f *File
	m secrets.Match
}

// shadowHashRule is the secret rule that finds password hashes in shadow
// files; DV2034 reports those of the final /etc/shadow by account.
const shadowHashRule = "DV7109"

// findings turns the matches into findings, one per secret per path: when
// several versions of a file hold the same secret, the latest (the one
// the final filesystem shows, if any) is reported and the message names
// the layers holding the others. Matches of disabled rules, and those an
// image rule reports itself (judged), are left out. It returns the files
// whose bytes the findings cover.
func (s *Secrets) findings(v *View, target finding.Target, enabled rule.Filter, judged func(*File, secrets.Match) bool) ([]finding.Finding, map[*File]bool) {
	var out []finding.Finding
	claimed := map[*File]bool{}
	for e := range v.Entries() {
		var order []string
		groups := map[string][]secretVersion{}
		for _, ev := range e.events() {
			if ev.Kind == Deleted || !v.Owns(ev.File) {
				continue
			}
			for _, m := range s.found[ev.File] {
				if judged(ev.File, m) {
					continue
				}
				if meta := m.Rule.Meta(); !enabled.Allows(&meta) {
					continue
				}
				key := m.Rule.ID + " " + m.Fingerprint()
				if _, ok := groups[key]; !ok {
					order = append(order, key)
				}
				groups[key] = append(groups[key], secretVersion{ev.File, m})
			}
		}
		for _, key := range order {
			vs := groups[key]
			last := vs[len(vs)-1]
			for _, x := range vs {
				claimed[x.f] = true
			}
			out = append(out, secretFinding(v, e, last, vs[:len(vs)-1], target))
		}
	}
	return out, claimed
}

func secretFinding(v *View, e *Entry, sv secretVersion, earlier []secretVersion, target finding.Target) finding.Finding {
	f, m := sv.f, sv.m
	loc := finding.Location{Path: display(f.Path()), Layer: f.Layer.DiffID.String(), LayerIndex: finding.LayerAt(f.Layer.Index)}
	note := m.Note
	bare := m
	bare.Note = ""
	msg := strings.TrimSuffix(bare.Describe(loc.Path), ".") + ", from " + origin(f) + fate(v, e, f)
	if len(earlier) > 0 {
		var idx []int
		for _, x := range earlier {
			if len(idx) == 0 || idx[len(idx)-1] != x.f.Layer.Index {
				idx = append(idx, x.f.Layer.Index)
			}
		}
		if len(idx) == 1 && idx[0] == f.Layer.Index {
			msg += "; the layer holds it twice"
		} else {
			msg += "; earlier versions in " + layerList(idx) + " hold it too"
		}
	}
	if note != "" {
		msg += "; " + note
	}
	out := m.Finding(target, loc)
	out.Message = msg + "."
	return out
}

// fate says what later layers did to a version that the final filesystem
// does not show ("" when it does).
func fate(v *View, e *Entry, f *File) string {
	if e.Final() == f {
		return ""
	}
	evs := e.Events()
	for i, ev := range evs {
		if ev.File != f || i+1 >= len(evs) {
			continue
		}
		next := evs[i+1]
		how := fmt.Sprintf("deleted in layer %d", next.Layer)
		switch {
		case next.Kind == Changed:
			how = fmt.Sprintf("overwritten in layer %d", next.Layer)
		case next.File != nil && next.File.Type != Whiteout && next.File.Type != Opaque && next.File.Path() != f.Path():
			how = fmt.Sprintf("hidden in layer %d, which put a file at %s in place of its directory", next.Layer, display(next.File.Path()))
		}
		return fmt.Sprintf("; %s, but still extractable from layer %d", how, f.Layer.Index)
	}
	return ""
}

// layerList writes layer indexes for a sentence: "layer 1", "layers 1 and 3".
func layerList(idx []int) string {
	s := make([]string, len(idx))
	for i, n := range idx {
		s[i] = fmt.Sprint(n)
	}
	if len(s) == 1 {
		return "layer " + s[0]
	}
	return "layers " + strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

var ruleSecretScanCapped = &Rule{
	Rule: finding.Rule{
		ID: "DV2029", Title: "Text file too large to scan completely for secrets", Practice: finding.PracticeSecrets, Severity: finding.Info,
		Description: "A text file in a layer is longer than the secret engine's byte cap (64 MiB unless configured otherwise), so only its " +
			"beginning was scanned for secrets. Large text files in images are mostly logs, data exports and database dumps, which can " +
			"hold credentials; the rest of this one was not read. Reported so that a clean result is never taken for a complete one. " +
			"The same holds for a file with more secrets than the scan keeps from one file (1,000), and for a layer with more than " +
			"1,000: the rest are counted, not listed.",
		Remediation: "Check whether the file belongs in the image at all (logs and dumps rarely do: keep them out with .dockerignore or a " +
			"multi-stage build); if it does, scan it on its own.",
		References: refSecrets,
	},
	Check: func(p *Pass) {
		s := p.Image.secrets
		if s == nil {
			return
		}
		for _, f := range s.truncated {
			if !p.Image.Owns(f) {
				continue
			}
			p.ReportFile(f, "Only the first %s of %s (%s of text) were scanned for secrets, from %s%s.",
				humanBytes(s.stats.MaxBytes), display(f.Path()), humanBytes(f.Size), origin(f), fate(p.Image.View, p.Image.Entry(f.Path()), f))
		}
		for _, f := range s.capped {
			if !p.Image.Owns(f) {
				continue
			}
			p.ReportFile(f, "%s holds more than %d secrets (the secret scan's cap per file); only the first %d were reported and the rest of the file was not searched, from %s%s.",
				display(f.Path()), secrets.DefaultMaxMatches, secrets.DefaultMaxMatches, origin(f), fate(p.Image.View, p.Image.Entry(f.Path()), f))
		}
		if s.stats.Dropped > 0 {
			p.Report("%d more secrets in %d files were found but not reported: the secret scan reports at most %d per layer (MaxLayerSecrets).",
				s.stats.Dropped, s.stats.DroppedFiles, MaxLayerSecrets)
		}
	},
}
