package watch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/plugin"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/policy"
)

// eventCase is one file of testdata/events: an event as a Docker 20.10
// Engine sent it, the Engine's answers about what it concerns (recorded on
// this machine), the trusted registries, and exactly the rules that must
// report it.
type eventCase struct {
	Comment   string                              `json:"comment"`
	Event     json.RawMessage                     `json:"event"`
	Exec      *containertypes.ExecInspectResponse `json:"exec"`
	Container *containertypes.InspectResponse     `json:"container"`
	Image     *image.InspectResponse              `json:"image"`
	Plugin    *plugin.Plugin                      `json:"plugin"`
	Trusted   []string                            `json:"trusted"`
	Want      []string                            `json:"want"`
}

func readCase(t testing.TB, file string) *eventCase {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The Engine's answers keep the fields of its API version (1.41),
	// which newer API types dropped; only the case's own keys are fixed.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for k := range top {
		if !slices.Contains([]string{"comment", "event", "exec", "container", "image", "plugin", "trusted", "want"}, k) {
			t.Fatalf("%s: unknown key %q", file, k)
		}
	}
	var c eventCase
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &c
}

// judgeCase runs the rules that an event of its kind is judged by, as the
// watcher does once it has asked the Engine.
func judgeCase(c *eventCase, m events.Message) ([]finding.Finding, string) {
	ev, ok := Decode(m)
	if !ok {
		return nil, "not an event watch acts on"
	}
	p := &pass{policy: &policy.Policy{TrustedRegistries: c.Trusted}, target: watchTarget(ev.Name)}
	var ct *live.Container
	if c.Container != nil {
		ct = &live.Container{Inspect: *c.Container}
	}
	switch {
	case ev.Type == "container" && strings.HasPrefix(ev.Action, "exec_"):
		x := &Exec{Event: ev, Container: ct}
		if c.Exec != nil {
			x.Inspect = *c.Exec
		}
		return check(execRules, x, p, nil), ""
	case ev.Type == "network":
		if ct == nil {
			return nil, "no container"
		}
		return check(connectRules, &Connect{Event: ev, Container: ct}, p, nil), ""
	case ev.Type == "image":
		return check(imageRules, newImageEvent(ev, c.Image), p, nil), ""
	case ev.Type == "plugin":
		m := &Plugin{Event: ev}
		if c.Plugin != nil {
			m.Plugin = *c.Plugin
		}
		return check(pluginRules, m, p, nil), ""
	}
	return nil, "no rules for " + ev.Type + " " + ev.Action
}

func caseFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	return files
}

// TestEventCases checks that exactly the wanted rules report each recorded
// event, with one-sentence messages naming what the event was about.
func TestEventCases(t *testing.T) {
	for _, file := range caseFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			c := readCase(t, file)
			var m events.Message
			if err := json.Unmarshal(c.Event, &m); err != nil {
				t.Fatal(err)
			}
			fs, why := judgeCase(c, m)
			if why != "" {
				t.Fatal(why)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.RuleID)
				if strings.Count(strings.TrimSuffix(f.Message, "."), ". ") > 0 || !strings.HasSuffix(f.Message, ".") {
					t.Errorf("%s: not one sentence: %q", f.RuleID, f.Message)
				}
				if f.TargetKind != finding.SurfaceWatch || f.Target == "" {
					t.Errorf("%s: target %q (%s)", f.RuleID, f.Target, f.TargetKind)
				}
				if c.Container != nil && !strings.Contains(f.Message, strings.TrimPrefix(c.Container.Name, "/")) {
					t.Errorf("%s does not name the container: %s", f.RuleID, f.Message)
				}
			}
			slices.Sort(got)
			want := slices.Clone(c.Want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s\ngot  %v\nwant %v\n%v", c.Comment, got, want, fs)
			}
		})
	}
}

// TestEveryRuleHasCases: every event rule has a recorded case that it
// reports and one of the same type of event (an image event, an exec)
// that it must not report.
func TestEveryRuleHasCases(t *testing.T) {
	kind := func(c *eventCase) string {
		var m events.Message
		json.Unmarshal(c.Event, &m)
		return string(m.Type)
	}
	positive, negative := map[string]bool{}, map[string]bool{}
	kinds := map[string][]string{} // rule -> event kinds it was reported for
	var all []*eventCase
	for _, file := range caseFiles(t) {
		c := readCase(t, file)
		all = append(all, c)
		for _, id := range c.Want {
			positive[id] = true
			kinds[id] = append(kinds[id], kind(c))
		}
	}
	for _, c := range all {
		for id, ks := range kinds {
			if slices.Contains(ks, kind(c)) && !slices.Contains(c.Want, id) {
				negative[id] = true
			}
		}
	}
	var ids []string
	for _, r := range execRules {
		ids = append(ids, r.ID)
	}
	for _, r := range connectRules {
		ids = append(ids, r.ID)
	}
	for _, r := range imageRules {
		ids = append(ids, r.ID)
	}
	for _, r := range pluginRules {
		ids = append(ids, r.ID)
	}
	for _, id := range ids {
		if !positive[id] || !negative[id] {
			t.Errorf("%s: positive case %v, negative case %v", id, positive[id], negative[id])
		}
	}
}
