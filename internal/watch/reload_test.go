package watch

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/registry"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/host"
)

// hostCopy copies the host audit's hardened fixture host (a root
// directory with daemon.json, the daemon's process and units) so that a
// test can change its configuration between two snapshots.
func hostCopy(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "host", "testdata", "hosts", "hardened", "root")
	dst := filepath.Join(t.TempDir(), "root")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// editDaemonJSON changes daemon.json under root.
func editDaemonJSON(t *testing.T, root string, edit func(map[string]any)) {
	t.Helper()
	p := filepath.Join(root, "etc", "docker", "daemon.json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	data, _ = json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func snapshot(t *testing.T, root string, engine *host.Engine) *host.Snapshot {
	t.Helper()
	o := host.Options{Root: root, Env: map[string]string{}, Now: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), EngineErr: "no Engine in this test"}
	o.Recorded = engine
	s, err := host.Collect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func reloadFindings(before, after *host.Snapshot) []finding.Finding {
	m := &Reload{Event: Event{Type: "daemon", Action: "reload", Time: time.Now()}, Before: before, After: after}
	return check(reloadRules, m, &pass{target: watchTarget("host")}, nil)
}

// TestReloadWeakens compares a hardened daemon's configuration before and
// after edits, as a daemon reload applies them: what weakens it is
// reported, what changes without weakening it is not (a naive diff would
// report every change), and a setting that improves is not either.
func TestReloadWeakens(t *testing.T) {
	cases := []struct {
		name string
		edit func(map[string]any)
		want []string // substrings of the messages, one per finding
	}{
		{name: "insecure registry, live restore off, authorization plugin removed",
			edit: func(c map[string]any) {
				c["insecure-registries"] = []string{"10.0.0.5:5000"}
				c["live-restore"] = false
				delete(c, "authorization-plugins")
			},
			want: []string{"DV4205 (Insecure registries configured) apply: the daemon trusts 1 insecure registry", "DV4212", "DV4215"}},
		{name: "equally safe values",
			edit: func(c map[string]any) {
				c["default-ulimits"] = map[string]any{"nofile": map[string]any{"Name": "nofile", "Hard": 32000, "Soft": 32000}}
				c["log-driver"] = "syslog"
				c["authorization-plugins"] = []string{"opa-docker-authz", "another-authz"}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := hostCopy(t)
			before := snapshot(t, root, nil)
			editDaemonJSON(t, root, tc.edit)
			after := snapshot(t, root, nil)
			got := reloadFindings(before, after)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d findings, want %d:\n%v", len(got), len(tc.want), got)
			}
			for i, f := range got {
				if f.RuleID != "DV5030" || !strings.Contains(f.Message, tc.want[i]) {
					t.Errorf("finding %d: %s %q, want it to say %q", i, f.RuleID, f.Message, tc.want[i])
				}
			}
		})
	}
}

// TestReloadWorsens: a setting that was already reported and gets worse
// (a second insecure registry, as the Engine reports it after the reload)
// is reported; one that gets better is not.
func TestReloadWorsens(t *testing.T) {
	root := hostCopy(t)
	engine := func(insecure ...string) *host.Engine {
		e := &host.Engine{}
		e.Info.RegistryConfig = &registry.ServiceConfig{InsecureRegistryCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
		for _, s := range insecure {
			e.Info.RegistryConfig.InsecureRegistryCIDRs = append(e.Info.RegistryConfig.InsecureRegistryCIDRs, netip.MustParsePrefix(s))
		}
		return e
	}
	one := snapshot(t, root, engine("10.0.0.0/24"))
	two := snapshot(t, root, engine("10.0.0.0/24", "192.168.7.0/24"))
	got := reloadFindings(one, two)
	if len(got) != 1 || !strings.Contains(got[0].Message, "added insecure registries: 192.168.7.0/24") {
		t.Errorf("one more insecure registry: %v", got)
	}
	if got := reloadFindings(two, one); len(got) != 0 {
		t.Errorf("one insecure registry fewer reported: %v", got)
	}
}

// TestReloadEvent: a daemon reload event makes watch read the host again
// and compare with what it read before; the finding names the reload.
func TestReloadEvent(t *testing.T) {
	root := hostCopy(t)
	snaps := []*host.Snapshot{snapshot(t, root, nil)}
	editDaemonJSON(t, root, func(c map[string]any) { c["no-new-privileges"] = false })
	snaps = append(snaps, snapshot(t, root, nil))
	calls := 0
	w := New(nil, Options{Snapshot: func(context.Context) (*host.Snapshot, error) {
		s := snaps[min(calls, len(snaps)-1)]
		calls++
		return s, nil
	}})
	col := newCollector()
	w.out = make(chan Record, 16)
	w.jobs, w.stopJobs = context.WithCancel(context.Background())
	defer w.stopJobs()
	w.readSnapshot(context.Background())
	if !w.daemonDefaults().NoNewPrivileges {
		t.Error("the daemon's no-new-privileges default was not read")
	}
	ev := Event{Type: "daemon", Action: "reload", Actor: "c0ffee", Time: time.Now().UTC(), nano: 42}
	w.run(&job{kind: jobReload, key: "d:reload", ev: ev})
	close(w.out)
	for r := range w.out {
		col.sink(r)
	}
	recs := col.all()
	if got := ids(recs); !slices.Equal(got, []string{"DV5030"}) || !strings.Contains(recs[0].Message, "DV4214") || recs[0].Event.Action != "reload" {
		t.Errorf("reload: %s", dump(recs))
	}
	if w.daemonDefaults().NoNewPrivileges {
		t.Error("the daemon's defaults were not read again after the reload")
	}
}
