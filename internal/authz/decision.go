package authz

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
)

// The verdicts. VerdictWouldDeny is an allowed request that the policy
// would deny if it were enforced (mode: audit).
const (
	VerdictAllow     = "allow"
	VerdictDeny      = "deny"
	VerdictWouldDeny = "would-deny"
)

// Decision is one answer and what led to it. Its JSON form is the line
// the decision log holds; it never carries a request body, a query string
// or a header, and findings mask secrets at the source.
type Decision struct {
	Time    time.Time   `json:"time"`
	Verdict string      `json:"verdict"`
	Mode    string      `json:"mode,omitempty"`
	Request RequestInfo `json:"request"`
	// User and AuthN are who the Engine says is asking.
	User  string `json:"user,omitempty"`
	AuthN string `json:"authn,omitempty"`
	// Rules are the findings the request gave, after the configuration's
	// rules: and ignore: were applied.
	Rules []RuleResult `json:"rules,omitempty"`
	// Message is what the client is told when the request is denied.
	Message string `json:"message,omitempty"`
	// Error is why the request could not be judged.
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"-"`
	// DurationMS is Duration in milliseconds, for the log.
	DurationMS float64 `json:"durationMs"`
}

// RequestInfo describes the request without its content.
type RequestInfo struct {
	Method string `json:"method,omitempty"`
	// Path is the URI without its query.
	Path      string `json:"path,omitempty"`
	Kind      Kind   `json:"kind"`
	Container string `json:"container,omitempty"`
	Image     string `json:"image,omitempty"`
}

// RuleResult is one finding of a request.
type RuleResult struct {
	RuleID   string           `json:"ruleId"`
	Severity finding.Severity `json:"severity"`
	Practice finding.Practice `json:"practice"`
	Message  string           `json:"message"`
	// Denies is true when the finding denies the request (or would, in
	// audit mode).
	Denies bool `json:"denies,omitempty"`
	// Exception is the reason of the exception that allowed the finding.
	Exception string `json:"exception,omitempty"`

	remediation string
}

// MarshalJSON adds the duration in milliseconds.
func (d *Decision) MarshalJSON() ([]byte, error) {
	type plain Decision
	c := plain(*d)
	c.DurationMS = float64(d.Duration.Microseconds()) / 1000
	c.Time = d.Time.UTC()
	return json.Marshal(&c)
}

// Allowed reports whether the Engine is told to go ahead.
func (d *Decision) Allowed() bool { return d.Verdict != VerdictDeny }

// Response is the answer to the Engine.
func (d *Decision) Response() Response {
	if d.Allowed() {
		return Response{Allow: true}
	}
	return Response{Allow: false, Msg: d.Message}
}

// Denying lists the IDs of the findings that deny (or would).
func (d *Decision) Denying() []string {
	var ids []string
	for _, r := range d.Rules {
		if r.Denies && !slices.Contains(ids, r.RuleID) {
			ids = append(ids, r.RuleID)
		}
	}
	return ids
}

// add takes findings through the configuration (rules disabled, severity
// overrides, ignores), as every scanning command does.
func (d *Decision) add(p *Policy, fs []finding.Finding) {
	if len(fs) == 0 {
		return
	}
	rep := &finding.Report{Findings: fs}
	p.filter.Apply(rep)
	for _, f := range rep.Findings {
		d.Rules = append(d.Rules, RuleResult{RuleID: f.RuleID, Severity: f.Severity, Practice: f.Practice,
			Message: f.Message, remediation: f.Remediation})
	}
}

// judge applies enforce: to the findings: which deny, which an exception
// allows, and the verdict.
func (d *Decision) judge(p *Policy, s config.Subject, now time.Time) {
	enf := &p.Config.Enforce
	for i := range d.Rules {
		r := &d.Rules[i]
		meta := &finding.Rule{ID: r.RuleID, Practice: r.Practice}
		if !enf.Denies(meta, r.Severity) {
			continue
		}
		if x, ok := enf.Exception(meta, s, now); ok {
			r.Exception = x.Reason
			continue
		}
		r.Denies = true
	}
	// The worst denial first: it is the one the client is told about.
	slices.SortStableFunc(d.Rules, func(a, b RuleResult) int {
		if a.Denies != b.Denies {
			if a.Denies {
				return -1
			}
			return 1
		}
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		return strings.Compare(a.RuleID, b.RuleID)
	})
	ids := d.Denying()
	switch {
	case len(ids) == 0:
		d.Verdict = VerdictAllow
		return
	case enf.Audit():
		d.Verdict = VerdictWouldDeny
	default:
		d.Verdict = VerdictDeny
	}
	d.Message = denyMessage(&d.Rules[0], ids[1:])
}

// denyMessage is the one line the client sees: "dockvet: DV3020 denied:
// container web mounts the engine socket …; do not give containers the
// Engine socket, or add an exception in .dockvet.yaml (enforce.exceptions)".
func denyMessage(r *RuleResult, others []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dockvet: %s denied: %s", r.RuleID, lowerFirst(strings.TrimSuffix(oneLine(r.Message), ".")))
	if fix := firstSentence(r.remediation); fix != "" {
		fmt.Fprintf(&b, "; %s, or add an exception in .dockvet.yaml (enforce.exceptions)", lowerFirst(fix))
	} else {
		b.WriteString("; add an exception in .dockvet.yaml (enforce.exceptions) if it is intended")
	}
	if len(others) > 0 {
		fmt.Fprintf(&b, " (also denied: %s)", strings.Join(others, ", "))
	}
	return b.String()
}

// fail records a request that could not be judged: denied, unless the
// policy fails open (audit roll-outs), which allows it and logs that it
// would have been denied.
func (d *Decision) fail(err error, hint string, open bool) {
	d.Error = oneLine(err.Error())
	msg := "dockvet: request denied: " + d.Error
	if hint != "" {
		msg += "; " + hint
	}
	if open {
		d.Verdict = VerdictWouldDeny
		return
	}
	d.Verdict, d.Message = VerdictDeny, msg
}

// firstSentence is the first sentence of a remediation, without its
// period: "Do not give containers the Engine socket".
func firstSentence(s string) string {
	s = oneLine(s)
	for i := 0; i < len(s); i++ {
		if s[i] == '.' && (i+1 == len(s) || s[i+1] == ' ') {
			return s[:i]
		}
	}
	return strings.TrimSuffix(s, ".")
}

// lowerFirst lowers the first letter of a sentence joined into another,
// but not of a name or an acronym ("DOCKER_HOST", "AppArmor").
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsUpper(r) {
		return s
	}
	if next, _ := utf8.DecodeRuneInString(s[n:]); !unicode.IsLower(next) {
		return s
	}
	if w, _, _ := strings.Cut(s, " "); strings.IndexFunc(w[n:], unicode.IsUpper) >= 0 {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}
