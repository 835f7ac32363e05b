package live_test

import (
	"strconv"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/dockvet/dockvet/internal/live"
)

// BenchmarkAudit is one container's inspect data (the unsafe running
// container of testdata/engine) into a spec, through every rule.
func BenchmarkAudit(b *testing.B) {
	_, c := readCase(b, "testdata/engine/unsafe-running.txtar")
	b.ReportAllocs()
	for b.Loop() {
		if len(live.Audit(c, live.Options{})) == 0 {
			b.Fatal("no findings")
		}
	}
}

// BenchmarkFetch is what `watch` does on an event: one container, its
// image and its tag's image from the real Engine.
func BenchmarkFetch(b *testing.B) {
	l := newLab(b)
	id := l.create("bench", containertypes.Config{Image: l.Unsafe}, containertypes.HostConfig{})
	b.ResetTimer()
	for b.Loop() {
		if _, err := live.Fetch(ctx(b), l.C, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunning is what the host audit does: list the running
// containers (20 of them started here, plus whatever else runs), fetch
// and audit each.
func BenchmarkRunning(b *testing.B) {
	l := newLab(b)
	for i := range 20 {
		id := l.create("bench"+strconv.Itoa(i), containertypes.Config{Image: l.Unsafe}, containertypes.HostConfig{})
		if err := l.start(id); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		all, err := live.Running(ctx(b), l.C)
		if err != nil || len(all) < 20 {
			b.Fatalf("%d running: %v", len(all), err)
		}
		for _, c := range all {
			live.Audit(c, live.Options{})
		}
	}
}
