package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// gapLine is a JSON line of watch with what these tests look at.
type gapLine struct {
	RuleID  string `json:"ruleId"`
	Target  string `json:"target"`
	Message string `json:"message"`
	Event   struct {
		Type, Action string
		CaughtUp     int `json:"caughtUp"`
	} `json:"event"`
}

func gapLines(t *testing.T, out string) []gapLine {
	t.Helper()
	var ls []gapLine
	for _, s := range strings.Split(strings.TrimSpace(out), "\n") {
		if s == "" {
			continue
		}
		var l gapLine
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("not a JSON line: %q", s)
		}
		ls = append(ls, l)
	}
	return ls
}

// TestWatchFakeEngineMissedEvents: a container whose events the Engine
// never sent (it drops a subscriber's events when the subscriber falls
// behind) is found by the listing of --reconcile-every: its findings come
// with the event action "reconcile", one DV5040 says how many containers
// were caught up on, and standard error says so; the container that was
// only created when watch started is not audited, nor anything twice.
func TestWatchFakeEngineMissedEvents(t *testing.T) {
	e := newFakeEngine(t, "tcp://engine.test:2376")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, out, errOut := startFake(ctx, e.connect, "watch", "--format", "json", "--reconcile-every", "1s")
	await := func(what string, ok func([]gapLine) bool) []gapLine {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for {
			ls := gapLines(t, out.String())
			if ok(ls) {
				return ls
			}
			select {
			case code := <-done:
				t.Fatalf("watch ended (exit %d) before %s:\n%s\n%s", code, what, out, errOut)
			case <-deadline:
				t.Fatalf("no %s:\n%s\n%s", what, out, errOut)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	has := func(ls []gapLine, id, target, action string) bool {
		for _, l := range ls {
			if l.RuleID == id && l.Target == target && l.Event.Action == action {
				return true
			}
		}
		return false
	}
	await("the running containers", func(ls []gapLine) bool { return has(ls, "DV3020", "lvexp-unsafe-running", "running") })

	base, ok := e.find("lvexp-unsafe-running")
	if !ok {
		t.Fatal("the recorded container is missing")
	}
	silent := base
	silent.Inspect.ID = strings.Repeat("5", 64)
	silent.Inspect.Name = "/silent"
	e.add(silent)
	ls := await("the silent container and DV5040", func(ls []gapLine) bool {
		return has(ls, "DV3020", "silent", "reconcile") && has(ls, "DV5040", "watch", "missed")
	})
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d after the stop, want 0", code)
	}
	seen := map[string]bool{}
	for _, l := range ls {
		k := l.RuleID + " " + l.Target + " " + l.Message
		if seen[k] {
			t.Errorf("reported twice: %s", k)
		}
		seen[k] = true
		switch {
		case l.Target == "lvexp-hardened":
			t.Errorf("the container only created at watch's start was audited: %+v", l)
		case l.Target == "silent" && l.Event.Action != "reconcile":
			t.Errorf("the silent container reported from a %q event", l.Event.Action)
		case l.RuleID == "DV5040" && l.Event.CaughtUp != 1:
			t.Errorf("DV5040's event says it caught up on %d containers, want 1", l.Event.CaughtUp)
		case l.RuleID == "DV5040" && !strings.HasPrefix(l.Message, "1 container had events watch did not see (the Engine dropped them) and was audited when watch listed the containers at "):
			t.Errorf("DV5040: %s", l.Message)
		}
	}
	if !strings.Contains(errOut.String(), "dockvet: caught up on 1 container watch had not seen in its current state\n") {
		t.Errorf("standard error does not say what was caught up on:\n%s", errOut)
	}
}
