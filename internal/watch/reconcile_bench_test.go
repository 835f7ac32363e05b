package watch

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/testenv"
)

// BenchmarkReconcileIdle measures one reconcile of the slow timer on an
// idle Engine, the cost watch adds to a quiet host every ReconcileEvery:
// a private dockerd holding 150 containers (120 created, 30 running),
// all already seen, so that the reconcile lists them and audits none. It
// reports the wall time of one reconcile (ns/op), the Engine's CPU
// (dockerd's, from /proc) and watch's (this process's) per reconcile.
func BenchmarkReconcileIdle(b *testing.B) {
	d := testenv.PrivateDaemon(b, testenv.DaemonOptions{})
	img := "dockvet-bench/app:1"
	testenv.Load(b, d.C, testenv.TinyImage(b, v1.Config{}), img)
	ctx := context.Background()
	for i := range 150 {
		res, err := d.C.ContainerCreate(ctx, client.ContainerCreateOptions{Name: fmt.Sprintf("idle-%d", i),
			Config: &containertypes.Config{Image: img}, HostConfig: &containertypes.HostConfig{NetworkMode: "none"}})
		if err != nil {
			b.Fatal(err)
		}
		if i < 30 {
			if _, err := d.C.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	benchReconcile(b, d.C, d.Pid())
}

// BenchmarkReconcileSeen is watch's own part of a reconcile that finds
// nothing missed, without an Engine: n containers listed, all seen.
func BenchmarkReconcileSeen(b *testing.B) {
	for _, n := range []int{150, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f := newFakeEngine()
			for i := range n {
				f.put(ctr(fmt.Sprintf("s%d", i), fmt.Sprintf("seen-%d", i), containertypes.StateCreated, containertypes.HostConfig{}))
			}
			benchReconcile(b, f, 0)
		})
	}
}

// benchReconcile runs the reconciles of the slow timer on a Watcher of c
// that is not following events, after the listing of its start; pid, when
// set, is the Engine's process, whose CPU is reported.
func benchReconcile(b *testing.B, c Client, pid int) {
	w := New(c, Options{})
	ctx := context.Background()
	w.ask(causeStart, false)
	if err := w.reconcile(ctx, &job{kind: jobReconcile}); err != nil {
		b.Fatal(err)
	}
	queued := w.q.len() // the running containers, audited at start
	engine0, _ := procCPU(pid)
	self0 := selfCPU()
	for b.Loop() {
		w.lastList = time.Time{} // not the once-a-second bound: measure the listing
		w.ask(causeTimer, false)
		if err := w.reconcile(ctx, &job{kind: jobReconcile}); err != nil {
			b.Fatal(err)
		}
	}
	if q := w.q.len(); q != queued {
		b.Fatalf("the timer's reconciles of an idle Engine queued %d audits", q-queued)
	}
	if pid != 0 {
		engine1, _ := procCPU(pid)
		b.ReportMetric((engine1-engine0)*1000/float64(b.N), "engine-cpu-ms/op")
	}
	b.ReportMetric((selfCPU()-self0)*1000/float64(b.N), "watch-cpu-ms/op")
}

// selfCPU is this process's CPU time in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
