package finding

import "fmt"

// CheckStatus is the outcome of one benchmark check, in the four words a
// docker-bench-security user reads.
type CheckStatus int

// The statuses. A check that could not be made is Info, never Pass.
const (
	// CheckPass: the check was made and found nothing wrong.
	CheckPass CheckStatus = iota + 1
	// CheckWarn: the check was made and reported findings.
	CheckWarn
	// CheckInfo: the check was not made (not applicable, not present,
	// permission denied); the note says why.
	CheckInfo
	// CheckNote: a check the benchmark leaves to a person; the note and the
	// check's info finding say what to look at.
	CheckNote
)

var checkStatusNames = map[CheckStatus]string{
	CheckPass: "pass", CheckWarn: "warn", CheckInfo: "info", CheckNote: "note",
}

func (s CheckStatus) String() string {
	if n, ok := checkStatusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// MarshalText writes the lower-case name used in JSON.
func (s CheckStatus) MarshalText() ([]byte, error) {
	n, ok := checkStatusNames[s]
	if !ok {
		return nil, fmt.Errorf("invalid check status %d", int(s))
	}
	return []byte(n), nil
}

// UnmarshalText reads a status name.
func (s *CheckStatus) UnmarshalText(b []byte) error {
	for st, n := range checkStatusNames {
		if n == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("unknown check status %q", b)
}

// Check is one benchmark recommendation as a run saw it: the rows of the
// CIS table that `dockvet host --format table` prints. Findings stay the
// report's substance; checks add what passed and what could not be checked,
// which findings alone cannot say.
type Check struct {
	// Section is the benchmark section the check belongs to ("1 Host Configuration").
	Section string `json:"section"`
	// CIS is the CIS Docker Benchmark 1.6.0 ID, empty for dockvet's own checks.
	CIS    string `json:"cis,omitempty"`
	RuleID string `json:"ruleId"`
	// Title is the recommendation, worded as the benchmark words it.
	Title string `json:"title"`
	// Manual marks a check the benchmark leaves to a person.
	Manual bool        `json:"manual,omitempty"`
	Status CheckStatus `json:"status"`
	// Note says why a check was not made, or what a manual check found.
	Note string `json:"note,omitempty"`
}
