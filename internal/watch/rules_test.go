package watch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/plugin"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/host"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/ruletest"
)

// The cases of testdata/events are txtar archives (internal/ruletest): the
// comment describes the case and holds its annotations, `# want RULEID
// "message regexp"` and `# ok RULEID`, for the case as a whole; the files
// are what watch would have read:
//
//	event.json          the event, as a Docker 20.10 Engine sent it
//	exec.json           the exec it names (GET /exec/ID/json)
//	container.json      the container it concerns (inspect)
//	image.json          the image it concerns (inspect)
//	plugin.json         the plugin it concerns (inspect)
//	before/daemon.json  for a daemon reload: daemon.json before and after
//	after/daemon.json   it, on the host audit's hardened fixture host
//	                    (its own daemon.json when a file is missing)
//	before/engine.json  for a daemon reload: the Engine's answers before
//	after/engine.json   and after it (host.Engine), when it has some
//	trouble.json        trouble of watch's own (the Trouble model)
//
// The Engine's answers were recorded on this machine, except where a
// comment says otherwise. `# dockvet-test trusted=REGISTRY` adds a
// registry to the trusted list.

// eventCase is a case's inputs: the files of an event archive.
type eventCase struct {
	Event     json.RawMessage                     `json:"event"`
	Exec      *containertypes.ExecInspectResponse `json:"exec"`
	Container *containertypes.InspectResponse     `json:"container"`
	Image     *image.InspectResponse              `json:"image"`
	Plugin    *plugin.Plugin                      `json:"plugin"`
	Trusted   []string                            `json:"trusted"`
	Trouble   *Trouble                            `json:"trouble"`
	// Reload holds the files of a daemon reload by name ("before/daemon.json").
	Reload map[string][]byte `json:"-"`
}

func readCase(t testing.TB, file string) (*ruletest.Case, *eventCase) {
	t.Helper()
	c, a, err := ruletest.ParseArchive(file)
	if err != nil {
		t.Fatal(err)
	}
	ec := &eventCase{Trusted: c.Directives["trusted"]}
	// The Engine's answers keep the fields of its API version (1.41),
	// which newer API types dropped: unknown fields are not errors.
	decode := func(name string, data []byte, v any) {
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %s: %v", file, name, err)
		}
	}
	for _, f := range a.Files {
		switch f.Name {
		case "event.json":
			ec.Event = json.RawMessage(f.Data)
		case "exec.json":
			decode(f.Name, f.Data, &ec.Exec)
		case "container.json":
			decode(f.Name, f.Data, &ec.Container)
		case "image.json":
			decode(f.Name, f.Data, &ec.Image)
		case "plugin.json":
			decode(f.Name, f.Data, &ec.Plugin)
		case "trouble.json":
			decode(f.Name, f.Data, &ec.Trouble)
		case "before/daemon.json", "after/daemon.json", "before/engine.json", "after/engine.json":
			if ec.Reload == nil {
				ec.Reload = map[string][]byte{}
			}
			ec.Reload[f.Name] = f.Data
		default:
			t.Fatalf("%s: unknown file %s", file, f.Name)
		}
	}
	return c, ec
}

// judgeCase runs the rules that an event of its kind is judged by, as the
// watcher does once it has asked the Engine, and says which rules ran.
func judgeCase(t testing.TB, c *eventCase) ([]finding.Finding, []*finding.Rule, string) {
	if c.Trouble != nil {
		name := "watch"
		if c.Trouble.Event.Type != typeWatch {
			name = c.Trouble.Subject
		}
		return check(troubleRules, c.Trouble, about{target: watchTarget(name)}, nil), metas(troubleRules), ""
	}
	var m events.Message
	if err := json.Unmarshal(c.Event, &m); err != nil {
		return nil, nil, "event.json: " + err.Error()
	}
	ev, ok := Decode(m)
	if !ok {
		return nil, nil, "not an event watch acts on"
	}
	pol := &policy.Policy{TrustedRegistries: c.Trusted}
	var ct *live.Container
	name := ev.Name
	if c.Container != nil {
		ct = &live.Container{Inspect: *c.Container}
		name = ct.Name()
	}
	on := about{policy: pol, target: watchTarget(name)}
	switch {
	case ev.Type == "container" && strings.HasPrefix(ev.Action, "exec_"):
		x := &Exec{Event: ev, Container: ct}
		if c.Exec != nil {
			x.Inspect = *c.Exec
		}
		on.loc = finding.Location{Container: name}
		return check(execRules, x, on, nil), metas(execRules), ""
	case ev.Type == "network":
		if ct == nil {
			return nil, nil, "no container"
		}
		on.loc = finding.Location{Container: name}
		return check(connectRules, &Connect{Event: ev, Container: ct}, on, nil), metas(connectRules), ""
	case ev.Type == "image":
		m := newImageEvent(ev, c.Image)
		on.target = watchTarget(m.name())
		return check(imageRules, m, on, nil), metas(imageRules), ""
	case ev.Type == "plugin":
		m := &Plugin{Event: ev}
		if c.Plugin != nil {
			m.Plugin = *c.Plugin
		}
		on.target = watchTarget(m.name())
		return check(pluginRules, m, on, nil), metas(pluginRules), ""
	case ev.Type == "daemon" && t != nil:
		before, after := reloadSnapshots(t, c.Reload)
		on.target = watchTarget(after.Target().Name)
		return check(reloadRules, &Reload{Event: ev, Before: before, After: after}, on, nil), metas(reloadRules), ""
	}
	return nil, nil, "no rules for " + ev.Type + " " + ev.Action
}

func metas[M any](rules []*Rule[M]) []*finding.Rule {
	out := make([]*finding.Rule, len(rules))
	for i, r := range rules {
		out[i] = &r.Rule
	}
	return out
}

// reloadSnapshots reads the hardened fixture host with the case's
// daemon.json and Engine answers before and after a reload.
func reloadSnapshots(t testing.TB, files map[string][]byte) (before, after *host.Snapshot) {
	t.Helper()
	root := hostCopy(t)
	read := func(when string) *host.Snapshot {
		if data, ok := files[when+"/daemon.json"]; ok {
			if err := os.WriteFile(filepath.Join(root, "etc", "docker", "daemon.json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var engine *host.Engine
		if data, ok := files[when+"/engine.json"]; ok {
			engine = &host.Engine{}
			if err := json.Unmarshal(data, engine); err != nil {
				t.Fatalf("%s/engine.json: %v", when, err)
			}
		}
		return snapshot(t, root, engine)
	}
	return read("before"), read("after")
}

func caseFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/events/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	return files
}

// TestEventCases runs every case of testdata/events and checks its
// annotations exactly: the findings with their messages, and the rules
// that must not report. Every finding is one sentence about the watch
// target, naming the container it is about.
func TestEventCases(t *testing.T) {
	var ran []string
	for _, file := range caseFiles(t) {
		ran = append(ran, filepath.ToSlash(file))
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			c, ec := readCase(t, file)
			fs, rules, why := judgeCase(t, ec)
			if why != "" {
				t.Fatal(why)
			}
			for _, f := range fs {
				if strings.Count(strings.TrimSuffix(f.Message, "."), ". ") > 0 || !strings.HasSuffix(f.Message, ".") {
					t.Errorf("%s: not one sentence: %q", f.RuleID, f.Message)
				}
				if f.TargetKind != finding.SurfaceWatch || f.Target == "" {
					t.Errorf("%s: target %q (%s)", f.RuleID, f.Target, f.TargetKind)
				}
				if ec.Container != nil && !strings.Contains(f.Message, strings.TrimPrefix(ec.Container.Name, "/")) {
					t.Errorf("%s does not name the container: %s", f.RuleID, f.Message)
				}
			}
			c.Check(t, ruletest.Whole(fs), func(id string) bool {
				for _, r := range rules {
					if r.ID == id {
						return true
					}
				}
				return false
			})
		})
	}
	ruletest.RequireRun(t, "testdata", ran)
}
