package secrets

import "github.com/dockvet/dockvet/internal/finding"

// StoredMatch is a Match without its secret: the mask and the fingerprint
// stand in for it, so that a result cache never holds a secret whole.
// Stored and Restore give back a Match whose findings are the same.
type StoredMatch struct {
	RuleID      string           `json:"rule"`
	Masked      string           `json:"masked"`
	Fingerprint string           `json:"fingerprint"`
	Start       int              `json:"start"`
	End         int              `json:"end"`
	Line        int              `json:"line,omitempty"`
	Column      int              `json:"column,omitempty"`
	Severity    finding.Severity `json:"severity"`
	Note        string           `json:"note,omitempty"`
}

// Stored is m without its secret.
func (m Match) Stored() StoredMatch {
	return StoredMatch{RuleID: m.Rule.ID, Masked: m.Masked(), Fingerprint: m.Fingerprint(), Start: m.Start, End: m.End,
		Line: m.Line, Column: m.Column, Severity: m.Severity, Note: m.Note}
}

// Restore is the Match s was made of, without the secret (Secret is
// empty; Masked and Fingerprint give what they gave). False when the rule
// is no longer in the catalog.
func (s StoredMatch) Restore() (Match, bool) {
	r := ruleByID[s.RuleID]
	if r == nil {
		return Match{}, false
	}
	return Match{Rule: r, Start: s.Start, End: s.End, Line: s.Line, Column: s.Column, Severity: s.Severity, Note: s.Note,
		stored: &storedSecret{masked: s.Masked, fingerprint: s.Fingerprint}}, true
}

// storedSecret is what a restored Match knows of its secret.
type storedSecret struct{ masked, fingerprint string }

var ruleByID = func() map[string]*Rule {
	m := map[string]*Rule{}
	for _, r := range Rules() {
		m[r.ID] = r
	}
	return m
}()
