package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/dockvet/dockvet/internal/finding"
)

// Hit is a Match as it may be kept: everything a finding needs, with the
// secret itself reduced to its masked form and fingerprint. Results that
// outlive the scan (a build context's files shared by many Dockerfiles,
// the layer cache on disk) hold Hits, never Matches: the secret is not
// stored whole anywhere.
type Hit struct {
	Rule *Rule
	// Masked is the secret as it may be shown (finding.Mask); Fingerprint
	// names it for ignore entries (finding.Fingerprint).
	Masked, Fingerprint string
	// Start is the byte offset of the secret in the scanned input; Line
	// and Column locate it (0 for printable strings of a binary file).
	Start, Line, Column int
	Severity            finding.Severity
	Note                string
}

// Hit is the match without the secret.
func (m Match) Hit() Hit {
	return Hit{Rule: m.Rule, Masked: m.Masked(), Fingerprint: m.Fingerprint(), Start: m.Start, Line: m.Line, Column: m.Column,
		Severity: m.Severity, Note: m.Note}
}

// Hits turns matches into hits.
func Hits(ms []Match) []Hit {
	if len(ms) == 0 {
		return nil
	}
	out := make([]Hit, len(ms))
	for i, m := range ms {
		out[i] = m.Hit()
	}
	return out
}

// Kind names what was found, with an article (Match.Kind).
func (h Hit) Kind() string { return Match{Rule: h.Rule}.Kind() }

// Describe is the finding message for a hit in a file (Match.Describe).
func (h Hit) Describe(path string) string {
	where := path
	if h.Line > 0 {
		where = fmt.Sprintf("%s line %d, column %d", path, h.Line, h.Column)
	} else if path != "" {
		where = fmt.Sprintf("%s at byte %d", path, h.Start)
	}
	msg := fmt.Sprintf("%s holds %s (%s)", where, h.Kind(), h.Masked)
	if where == "" {
		msg = fmt.Sprintf("Found %s (%s)", h.Kind(), h.Masked)
	}
	if h.Note != "" {
		msg += "; " + h.Note
	}
	return msg + "."
}

// Finding turns a hit into a finding of its secret rule (Match.Finding).
func (h Hit) Finding(target finding.Target, loc finding.Location) finding.Finding {
	meta := h.Rule.Meta()
	if loc.Line == 0 {
		loc.Line, loc.Column = h.Line, h.Column
	}
	f := finding.New(&meta, target, loc, h.Describe(loc.Path))
	f.Severity = h.Severity
	f.Fingerprint = h.Fingerprint
	return f
}

// RuleByID returns the engine's rule with this ID, or nil: a stored hit
// names its rule by ID.
func (e *Engine) RuleByID(id string) *Rule {
	if id == genericRule.ID {
		return genericRule
	}
	return e.byID[id]
}

// Identity names what the engine finds: its options and every rule's
// detection data (ID, severity, keywords, expressions, windows, paths,
// ranks). Results computed by an engine may be reused by another whose
// Identity is the same; the validators are code, so a cache keys on the
// program's version as well.
func (e *Engine) Identity() string {
	h := sha256.New()
	fmt.Fprintf(h, "max=%d exec=%t info=%t skip=%q\n", e.maxBytes, e.opts.Executables, e.opts.Info, e.opts.SkipPaths)
	for _, r := range e.rules {
		paths := ""
		if r.Paths != nil {
			paths = r.Paths.String()
		}
		fmt.Fprintf(h, "%s %s %q %q near=%t group=%d entropy=%g paths=%q multi=%t %d/%d boundary=%q fallback=%d\n",
			r.ID, r.Severity, r.Keywords, r.Regex.String(), r.Near, r.Group, r.MinEntropy, paths, r.MultiLine, r.Before, r.After, r.Boundary, r.Fallback)
	}
	return hex.EncodeToString(h.Sum(nil))
}
