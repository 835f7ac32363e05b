package config

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/moby/patternmatcher"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
)

// Enforce is the `enforce:` section: what `dockvet authz` denies when the
// Docker Engine asks it about a request. The findings it judges are those
// the scanners report for the same settings, after `rules:` (disable,
// enable, severity) and `ignore:` have been applied.
type Enforce struct {
	// Mode is ModeEnforce (the default: deny) or ModeAudit (allow
	// everything, and log what would have been denied).
	Mode string `yaml:"mode"`
	// Deny says which findings deny: a finding denies when an entry names
	// its rule (by ID, by "practice:KEY", or "*") and its severity is at
	// least the entry's. The default is one entry: every rule at high.
	Deny []EnforceDeny `yaml:"deny"`
	// Exceptions allow what would be denied, for some images, container
	// labels or requesting users.
	Exceptions []EnforceException `yaml:"exceptions"`
	// OnFailure is what a request gets that cannot be judged (a body that
	// does not decode, a policy that did not load, a decision that timed
	// out): "deny" (the default) or "allow", which only mode: audit
	// accepts.
	OnFailure string `yaml:"onFailure"`
	// Timeout bounds one decision, signature checks included (Go
	// duration; default 10s). The Engine waits for the answer.
	Timeout string `yaml:"timeout"`

	timeout time.Duration
}

// The values of Enforce.Mode and Enforce.OnFailure.
const (
	ModeEnforce = "enforce"
	ModeAudit   = "audit"
	FailDeny    = "deny"
	FailAllow   = "allow"
)

// DefaultEnforceTimeout bounds a decision when enforce.timeout is not set.
const DefaultEnforceTimeout = 10 * time.Second

// EnforceDeny is one `enforce.deny` entry.
type EnforceDeny struct {
	// Rules are rule IDs, "practice:KEY", or "*" for every rule.
	Rules []string `yaml:"rules"`
	// Severity is the lowest severity that denies (default high).
	Severity string `yaml:"severity"`

	level finding.Severity
}

// EnforceException allows requests that would be denied. Every condition
// given must hold (images, labels, users); at least one must be given.
type EnforceException struct {
	// Rules limits the exception to these rule IDs or "practice:KEY";
	// empty means every rule.
	Rules []string `yaml:"rules"`
	// Images are image globs, as in trustedRegistries ("ghcr.io/acme/*").
	Images []string `yaml:"images"`
	// Labels are container labels that must all be set to these values
	// ("*" for any value). Whoever creates a container chooses its labels:
	// pair a label with users or images when that is not a trusted party.
	Labels map[string]string `yaml:"labels"`
	// Users are the requesting users the Engine names (the common name of
	// a TLS client certificate, or what an authentication plugin says),
	// with path.Match globs.
	Users  []string `yaml:"users"`
	Reason string   `yaml:"reason"`
	// Expires is a date (YYYY-MM-DD); from the day after, the exception
	// no longer applies.
	Expires string `yaml:"expires"`

	expires time.Time
}

var ruleIDPattern = regexp.MustCompile(`^DV[0-9]{4}$`)

func (e *Enforce) prepare() error {
	switch e.Mode {
	case "":
		e.Mode = ModeEnforce
	case ModeEnforce, ModeAudit:
	default:
		return fmt.Errorf("enforce.mode: %q is neither %q nor %q", e.Mode, ModeEnforce, ModeAudit)
	}
	switch e.OnFailure {
	case "":
		e.OnFailure = FailDeny
	case FailDeny:
	case FailAllow:
		if e.Mode != ModeAudit {
			return fmt.Errorf("enforce.onFailure: allow is for mode: audit only; enforcing fails closed")
		}
	default:
		return fmt.Errorf("enforce.onFailure: %q is neither %q nor %q", e.OnFailure, FailDeny, FailAllow)
	}
	e.timeout = DefaultEnforceTimeout
	if e.Timeout != "" {
		d, err := time.ParseDuration(e.Timeout)
		if err != nil || d <= 0 {
			return fmt.Errorf("enforce.timeout: %q is not a positive duration (\"2s\", \"500ms\")", e.Timeout)
		}
		e.timeout = d
	}
	if len(e.Deny) == 0 {
		e.Deny = []EnforceDeny{{Rules: []string{"*"}, Severity: "high"}}
	}
	for i := range e.Deny {
		d := &e.Deny[i]
		where := fmt.Sprintf("enforce.deny[%d]", i)
		if len(d.Rules) == 0 {
			return fmt.Errorf("%s: rules is required (rule IDs, practice:KEY, or \"*\")", where)
		}
		if err := validRuleRefs(where+".rules", d.Rules, true); err != nil {
			return err
		}
		d.level = finding.High
		if d.Severity != "" {
			sev, err := finding.ParseSeverity(d.Severity)
			if err != nil {
				return fmt.Errorf("%s.severity: %w", where, err)
			}
			d.level = sev
		}
	}
	for i := range e.Exceptions {
		x := &e.Exceptions[i]
		where := fmt.Sprintf("enforce.exceptions[%d]", i)
		if len(x.Images) == 0 && len(x.Labels) == 0 && len(x.Users) == 0 {
			return fmt.Errorf("%s: name images, labels or users (to allow a rule everywhere, disable it under rules:)", where)
		}
		if strings.TrimSpace(x.Reason) == "" {
			return fmt.Errorf("%s: a reason is required, so that the next reader knows why it is allowed", where)
		}
		if err := validRuleRefs(where+".rules", x.Rules, false); err != nil {
			return err
		}
		if err := validPatterns(where+".images", x.Images); err != nil {
			return err
		}
		for _, u := range x.Users {
			if _, err := path.Match(u, ""); err != nil || strings.TrimSpace(u) == "" {
				return fmt.Errorf("%s.users: bad pattern %q", where, u)
			}
		}
		for k := range x.Labels {
			if strings.TrimSpace(k) == "" {
				return fmt.Errorf("%s.labels: empty label name", where)
			}
		}
		if x.Expires != "" {
			t, err := time.Parse(time.DateOnly, x.Expires)
			if err != nil {
				return fmt.Errorf("%s: expires %q is not a date (YYYY-MM-DD)", where, x.Expires)
			}
			x.expires = t
		}
	}
	return nil
}

func validRuleRefs(where string, refs []string, star bool) error {
	for _, r := range refs {
		if k, ok := strings.CutPrefix(r, "practice:"); ok {
			if !finding.Practice(k).Valid() {
				return fmt.Errorf("%s: unknown practice %q", where, k)
			}
			continue
		}
		if r == "*" && star {
			continue
		}
		if !ruleIDPattern.MatchString(r) {
			return fmt.Errorf("%s: %q is not a rule ID (DV3020), practice:KEY or \"*\"", where, r)
		}
	}
	return nil
}

// validPatterns checks image globs as policy.Validate checks
// trustedRegistries, whose matcher the exceptions use.
func validPatterns(where string, pats []string) error {
	for _, pat := range pats {
		if strings.TrimSpace(pat) == "" {
			return fmt.Errorf("%s: empty entry", where)
		}
		if _, err := patternmatcher.New([]string{pat}); err != nil {
			return fmt.Errorf("%s: bad pattern %q", where, pat)
		}
	}
	return nil
}

// Audit reports whether the mode is audit: allow everything, log what
// would have been denied.
func (e *Enforce) Audit() bool { return e.Mode == ModeAudit }

// FailOpen reports whether a request that cannot be judged is allowed.
func (e *Enforce) FailOpen() bool { return e.OnFailure == FailAllow }

// DecisionTimeout bounds one decision.
func (e *Enforce) DecisionTimeout() time.Duration {
	if e.timeout <= 0 {
		return DefaultEnforceTimeout
	}
	return e.timeout
}

// Denies reports whether a finding of rule r at severity sev denies.
func (e *Enforce) Denies(r *finding.Rule, sev finding.Severity) bool {
	for _, d := range e.Deny {
		level := d.level
		if level == 0 {
			level = finding.High
		}
		if sev >= level && refsMatch(d.Rules, r) {
			return true
		}
	}
	return false
}

func refsMatch(refs []string, r *finding.Rule) bool {
	for _, ref := range refs {
		if ref == "*" || ref == r.ID || ref == "practice:"+string(r.Practice) {
			return true
		}
	}
	return false
}

// Subject is what an exception is matched against: the request's user and,
// when the request is about a container or an image, its image and
// labels.
type Subject struct {
	User   string
	Image  string
	Labels map[string]string
}

// Exception returns the first exception that allows a finding of rule r
// for the subject, and whether there is one. Expired exceptions are
// skipped.
func (e *Enforce) Exception(r *finding.Rule, s Subject, now time.Time) (*EnforceException, bool) {
	for i := range e.Exceptions {
		x := &e.Exceptions[i]
		if !x.expires.IsZero() && now.After(x.expires.AddDate(0, 0, 1)) {
			continue
		}
		if len(x.Rules) > 0 && !refsMatch(x.Rules, r) {
			continue
		}
		if x.matches(s) {
			return x, true
		}
	}
	return nil, false
}

func (x *EnforceException) matches(s Subject) bool {
	if len(x.Users) > 0 {
		ok := false
		for _, u := range x.Users {
			if m, _ := path.Match(u, s.User); m && s.User != "" {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(x.Images) > 0 {
		img, err := policy.ParseImage(s.Image)
		if err != nil || !(&policy.Policy{TrustedRegistries: x.Images}).Trusted(img) {
			return false
		}
	}
	for k, want := range x.Labels {
		got, ok := s.Labels[k]
		if !ok || (want != "*" && got != want) {
			return false
		}
	}
	return true
}
