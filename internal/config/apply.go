package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/moby/patternmatcher"

	"github.com/dockvet/dockvet/internal/finding"
)

// Filter is everything that decides which findings a report shows.
type Filter struct {
	Config *Config
	// IgnoreFile holds the entries of .dockvetignore.
	IgnoreFile []Ignore
	// Severities, when not empty, keeps only findings of these severities
	// (--severity). Findings it drops are not "suppressed": the user asked
	// not to see them in this run.
	Severities []finding.Severity
	// Now is today's date for expiry checks (time.Now when nil).
	Now func() time.Time
}

// Apply rewrites r in place: disabled rules go, severity overrides apply,
// ignores and waivers move findings to r.Suppressed, the severity filter
// drops the rest. It returns notices for the user (expired ignores).
func (flt *Filter) Apply(r *finding.Report) []string {
	cfg := flt.Config
	if cfg == nil {
		cfg = Default()
	}
	now := time.Now()
	if flt.Now != nil {
		now = flt.Now()
	}
	ignores := append(slices.Clone(cfg.Ignore), flt.IgnoreFile...)
	var notices []string
	expiredSeen := map[int]bool{}

	kept := r.Findings[:0]
	for _, f := range r.Findings {
		if !cfg.Enabled(&finding.Rule{ID: f.RuleID, Practice: f.Practice}) {
			continue
		}
		if sev, ok := cfg.Rules.severity[f.RuleID]; ok {
			f.Severity = sev
		}
		if flt.ignored(r, ignores, f, now, expiredSeen, &notices) {
			continue
		}
		if len(f.Missing) > 0 {
			// A grouped finding: each listed setting is judged as the
			// finding of its own rule would be.
			var ms []finding.Missing
			for _, m := range f.Missing {
				mf := f
				mf.RuleID, mf.Title, mf.Severity, mf.Practice, mf.CIS, mf.Missing = m.RuleID, m.Title, m.Severity, m.Practice, m.CIS, nil
				if !cfg.Enabled(&finding.Rule{ID: m.RuleID, Practice: m.Practice}) {
					continue
				}
				if sev, ok := cfg.Rules.severity[m.RuleID]; ok {
					m.Severity, mf.Severity = sev, sev
				}
				if flt.ignored(r, ignores, mf, now, expiredSeen, &notices) {
					continue
				}
				if len(flt.Severities) > 0 && !slices.Contains(flt.Severities, m.Severity) {
					continue
				}
				ms = append(ms, m)
			}
			if len(ms) == 0 {
				continue
			}
			f.SetMissing(ms)
			if sev, ok := cfg.Rules.severity[f.RuleID]; ok {
				f.Severity = sev
			}
			kept = append(kept, f)
			continue
		}
		if len(flt.Severities) > 0 && !slices.Contains(flt.Severities, f.Severity) {
			continue
		}
		kept = append(kept, f)
	}
	r.Findings = kept
	r.Finalize()
	return notices
}

// ignored moves f to r.Suppressed when an inline waiver or a live ignore
// covers it, and notes an expired ignore once.
func (flt *Filter) ignored(r *finding.Report, ignores []Ignore, f finding.Finding, now time.Time, expiredSeen map[int]bool, notices *[]string) bool {
	if w, ok := waiverFor(r.Waivers, f); ok {
		r.Suppressed = append(r.Suppressed, suppressed(f, w.Reason, "inline"))
		return true
	}
	i, ok := ignoreFor(ignores, f)
	if !ok {
		return false
	}
	ig := ignores[i]
	if !ig.expires.IsZero() && now.After(ig.expires.AddDate(0, 0, 1)) {
		if !expiredSeen[i] {
			expiredSeen[i] = true
			*notices = append(*notices, fmt.Sprintf("ignore of %s in %s expired on %s; its findings are shown again", ig.ID+ig.Fingerprint, ig.origin, ig.Expires))
		}
		return false
	}
	r.Suppressed = append(r.Suppressed, suppressed(f, ig.Reason, ig.by))
	return true
}

func suppressed(f finding.Finding, reason, by string) finding.Suppressed {
	return finding.Suppressed{RuleID: f.RuleID, Target: f.Target, Location: f.Location, Reason: reason, By: by, Fingerprint: f.Fingerprint}
}

func waiverFor(ws []finding.Waiver, f finding.Finding) (finding.Waiver, bool) {
	for _, w := range ws {
		if w.Covers(f) {
			return w, true
		}
	}
	return finding.Waiver{}, false
}

// ignoreFor finds the first ignore entry that matches f. An entry that has
// expired still matches (so the caller can say it expired) unless a later,
// live entry also matches.
func ignoreFor(igs []Ignore, f finding.Finding) (int, bool) {
	found := -1
	for i, ig := range igs {
		if !ig.matches(f) {
			continue
		}
		if ig.expires.IsZero() || found < 0 {
			found = i
		}
		if ig.expires.IsZero() {
			break
		}
	}
	return found, found >= 0
}

func (ig Ignore) matches(f finding.Finding) bool {
	if ig.Fingerprint != "" && ig.Fingerprint != f.Fingerprint {
		return false
	}
	if ig.ID != "" && !idMatches(ig.ID, f) {
		return false
	}
	if len(ig.Paths) == 0 {
		return true
	}
	for _, subject := range []string{f.Location.Path, f.Target} {
		if subject == "" {
			continue
		}
		subject = filepath.ToSlash(strings.TrimPrefix(subject, "./"))
		for _, p := range ig.Paths {
			if ok, _ := patternmatcher.MatchesOrParentMatches(subject, []string{strings.TrimPrefix(p, "./")}); ok {
				return true
			}
		}
	}
	return false
}

func idMatches(id string, f finding.Finding) bool {
	if strings.EqualFold(id, f.RuleID) {
		return true
	}
	if v := f.Vulnerability; v != nil {
		if strings.EqualFold(id, v.ID) {
			return true
		}
		for _, a := range v.Aliases {
			if strings.EqualFold(id, a) {
				return true
			}
		}
	}
	return false
}
