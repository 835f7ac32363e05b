package vulndb

import (
	"strings"

	"github.com/ossf/osv-schema/bindings/go/osvschema"
	cvss30 "github.com/pandatix/go-cvss/30"
	cvss31 "github.com/pandatix/go-cvss/31"
	cvss40 "github.com/pandatix/go-cvss/40"

	"github.com/dockvet/dockvet/internal/finding"
)

// rating is a severity label and, when it came from a CVSS vector, the
// base score.
type rating struct {
	label string
	score float64
}

// rateSeverities computes the base score of the newest CVSS vector a
// record gives (v4 over v3.1 over v3.0: a database that publishes a v4
// vector has scored the vulnerability again) and bands it as practices.md
// says. Without a usable vector it returns the database's own label
// ("Ubuntu" severity entries), or nothing.
func rateSeverities(ss []*osvschema.Severity) rating {
	best, bestRank := rating{}, 0
	label := ""
	for _, s := range ss {
		score, rank, ok := 0.0, 0, false
		switch s.GetType() {
		case osvschema.Severity_CVSS_V4:
			if v, err := cvss40.ParseVector(s.GetScore()); err == nil {
				score, rank, ok = v.Score(), 3, true
			}
		case osvschema.Severity_CVSS_V3:
			switch {
			case strings.HasPrefix(s.GetScore(), "CVSS:3.1/"):
				if v, err := cvss31.ParseVector(s.GetScore()); err == nil {
					score, rank, ok = v.BaseScore(), 2, true
				}
			case strings.HasPrefix(s.GetScore(), "CVSS:3.0/"):
				if v, err := cvss30.ParseVector(s.GetScore()); err == nil {
					score, rank, ok = v.BaseScore(), 1, true
				}
			}
		case osvschema.Severity_Ubuntu:
			label = firstNonEmpty(label, normalizeLabel(s.GetScore()))
		}
		if ok && (rank > bestRank || rank == bestRank && score > best.score) {
			best, bestRank = rating{label: band(score), score: score}, rank
		}
	}
	if bestRank > 0 {
		return best
	}
	return rating{label: label}
}

// betterRating reports whether a rates more severely than b: the higher
// severity, then the higher score.
func betterRating(a, b rating) bool {
	if a.label == "" {
		return false
	}
	if b.label == "" {
		return true
	}
	sa, sb := findingSeverity(a.label), findingSeverity(b.label)
	return sa > sb || sa == sb && a.score > b.score
}

// band maps a CVSS base score to a severity: 9.0 and above critical, 7.0
// high, 4.0 medium, above 0 low. A score of 0 rates nothing.
func band(score float64) string {
	switch {
	case score >= 9.0:
		return "critical"
	case score >= 7.0:
		return "high"
	case score >= 4.0:
		return "medium"
	case score > 0:
		return "low"
	}
	return ""
}

// normalizeLabel reads the severity words databases use: GitHub's
// MODERATE, Red Hat's Important, Ubuntu's negligible.
func normalizeLabel(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return "critical"
	case "high", "important":
		return "high"
	case "medium", "moderate":
		return "medium"
	case "low", "negligible", "unimportant", "minor":
		return "low"
	}
	return ""
}

// DefaultSeverity is the severity of an advisory that rates nothing, itself
// or through an alias the database holds (the Go vulnerability database
// rates no advisory; most of its advisories are GHSA aliases that do).
// Medium: neither hides it under --fail-on high by calling it low, nor
// fails a build on a guess.
const DefaultSeverity = finding.Medium

// findingSeverity turns a stored label into a finding severity; a record
// that rates nothing gets DefaultSeverity.
func findingSeverity(label string) finding.Severity {
	if s, err := finding.ParseSeverity(label); err == nil && label != "" {
		return s
	}
	return DefaultSeverity
}
