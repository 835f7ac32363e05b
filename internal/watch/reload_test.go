package watch

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/host"
)

// hostCopy copies the host audit's hardened fixture host (a root
// directory with daemon.json, the daemon's process and units) so that a
// test can change its configuration between two snapshots.
func hostCopy(t testing.TB) string {
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
func editDaemonJSON(t testing.TB, root string, edit func(map[string]any)) {
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

func snapshot(t testing.TB, root string, engine *host.Engine) *host.Snapshot {
	t.Helper()
	o := host.Options{Root: root, Env: map[string]string{}, Now: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), EngineErr: "no Engine in this test"}
	o.Recorded = engine
	s, err := host.Collect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
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
