package config

import (
	"strings"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
)

func TestEnforceDefaults(t *testing.T) {
	c := Default()
	e := &c.Enforce
	if e.Audit() || e.FailOpen() || e.DecisionTimeout() != DefaultEnforceTimeout {
		t.Fatalf("defaults: %+v", e)
	}
	sock := &finding.Rule{ID: "DV3020", Practice: finding.PracticeDaemonSocket}
	if !e.Denies(sock, finding.Critical) || !e.Denies(sock, finding.High) || e.Denies(sock, finding.Medium) {
		t.Fatal("the default denies every rule at high and above, nothing below")
	}
}

func TestEnforceParse(t *testing.T) {
	c, err := Parse([]byte(`
enforce:
  mode: audit
  onFailure: allow
  timeout: 250ms
  deny:
    - rules: [practice:daemon-socket, DV3001]
      severity: low
    - rules: ["*"]
      severity: critical
  exceptions:
    - rules: [DV3020]
      images: [ghcr.io/acme/watch]
      labels: {dockvet.io/role: monitor}
      reason: the watch container reads events
    - users: ["ci-*"]
      reason: CI builds images
      expires: 2020-01-31
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := &c.Enforce
	if !e.Audit() || !e.FailOpen() || e.DecisionTimeout() != 250*time.Millisecond {
		t.Fatalf("%+v", e)
	}
	sock := &finding.Rule{ID: "DV3020", Practice: finding.PracticeDaemonSocket}
	root := &finding.Rule{ID: "DV3050", Practice: finding.PracticeNonRoot}
	if !e.Denies(sock, finding.Low) || e.Denies(root, finding.High) || !e.Denies(root, finding.Critical) {
		t.Fatal("deny entries")
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	monitor := Subject{Image: "ghcr.io/acme/watch:1", Labels: map[string]string{"dockvet.io/role": "monitor"}}
	if _, ok := e.Exception(sock, monitor, now); !ok {
		t.Fatal("image and label match: excepted")
	}
	if _, ok := e.Exception(root, monitor, now); ok {
		t.Fatal("the exception is for DV3020 only")
	}
	if _, ok := e.Exception(sock, Subject{Image: "ghcr.io/acme/watch:1"}, now); ok {
		t.Fatal("without the label: not excepted")
	}
	if _, ok := e.Exception(sock, Subject{Image: "docker.io/acme/watch:1", Labels: monitor.Labels}, now); ok {
		t.Fatal("another registry: not excepted")
	}
	if _, ok := e.Exception(root, Subject{User: "ci-bot"}, time.Date(2020, 1, 31, 12, 0, 0, 0, time.UTC)); !ok {
		t.Fatal("user glob, on its last day: excepted")
	}
	if _, ok := e.Exception(root, Subject{User: "ci-bot"}, now); ok {
		t.Fatal("expired")
	}
	if _, ok := e.Exception(root, Subject{}, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)); ok {
		t.Fatal("no user: a user exception does not apply")
	}
}

func TestEnforceErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"enforce: {mode: block}", `enforce.mode: "block"`},
		{"enforce: {onFailure: allow}", "allow is for mode: audit only"},
		{"enforce: {timeout: soon}", "enforce.timeout"},
		{"enforce: {deny: [{severity: high}]}", "enforce.deny[0]: rules is required"},
		{"enforce: {deny: [{rules: [DV30]}]}", "not a rule ID"},
		{"enforce: {deny: [{rules: [practice:nope]}]}", "unknown practice"},
		{"enforce: {deny: [{rules: ['*'], severity: huge}]}", "enforce.deny[0].severity"},
		{"enforce: {exceptions: [{reason: x}]}", "name images, labels or users"},
		{"enforce: {exceptions: [{users: [a]}]}", "a reason is required"},
		{"enforce: {exceptions: [{users: ['a[b'], reason: x}]}", "bad pattern"},
		{"enforce: {exceptions: [{images: ['[z'], reason: x}]}", "bad pattern"},
		{"enforce: {exceptions: [{users: [a], reason: x, expires: soon}]}", "not a date"},
		{"enforce: {exceptions: [{users: [a], reason: x, rules: ['*']}]}", "not a rule ID"},
		{"enforce: {modes: audit}", "field modes not found"},
	} {
		_, err := Parse([]byte(tc.yaml), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
