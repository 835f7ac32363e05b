package cli

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/fleet/fleettest"
	"github.com/dockvet/dockvet/internal/fleet/store"
)

// blobCounter counts blob reads per digest, and can hold the first read
// of one blob until released (a worker "mid-job").
type blobCounter struct {
	mu      sync.Mutex
	reads   map[string]int
	hold    string
	held    chan struct{}
	release chan struct{}
}

var blobPath = regexp.MustCompile(`^/v2/.+/blobs/(sha256:[0-9a-f]{64})$`)

func newBlobCounter() *blobCounter {
	return &blobCounter{reads: map[string]int{}, held: make(chan struct{}), release: make(chan struct{})}
}

func (c *blobCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := blobPath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodGet {
			c.mu.Lock()
			c.reads[m[1]]++
			first := c.reads[m[1]] == 1 && m[1] == c.hold
			c.mu.Unlock()
			if first {
				close(c.held)
				select {
				case <-c.release:
				case <-r.Context().Done():
				}
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (c *blobCounter) count(d string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads[d]
}

var jobLine = regexp.MustCompile(`^job (\d+) \S+: (\S+) in `)

// TestWorkersShareQueue: two `dockvet worker` processes on one database
// share a queue of 100 jobs; every job runs once (counted from the
// workers' own lines, the jobs' attempts and the registry's blob reads).
func TestWorkersShareQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("100 images; -short")
	}
	for _, d := range fleettest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			bc := newBlobCounter()
			reg := fleettest.NewRegistryWith(t, bc.wrap)
			base := fleettest.DebianBase(t, fleettest.Package{Name: "demo", Version: "1.0-1"})
			st, err := store.Open(ctx, d.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			const n = 100
			apps := map[string]bool{}
			for i := range n {
				app := fleettest.AppLayer(t, "app/main", fmt.Sprintf("application %d", i))
				ref, _ := reg.Push(t, fmt.Sprintf("fleet/app%03d", i), "1", fleettest.DebianImage(t, base, app))
				dg, _ := app.Digest()
				apps[dg.String()] = true
				if _, _, err := st.Enqueue(ctx, store.NewJob{Ref: ref, Source: "api"}); err != nil {
					t.Fatal(err)
				}
			}
			cache := t.TempDir()
			var ws []*proc
			for i := range 2 {
				ws = append(ws, startDockvet(t, fmt.Sprintf("worker %d", i+1), nil,
					"worker", "--db", d.URL, "--workers", "2", "--lease", "20s", "--cache-dir", cache))
			}
			deadline := time.Now().Add(4 * time.Minute)
			for {
				c, err := st.QueueCounts(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if c[store.JobDone] == n {
					break
				}
				if c[store.JobDead] > 0 || time.Now().After(deadline) {
					t.Fatalf("queue: %v\n%s\n%s", c, ws[0].output(), ws[1].output())
				}
				time.Sleep(100 * time.Millisecond)
			}
			runs := map[int64]int{}
			perWorker := make([]int, len(ws))
			for i, w := range ws {
				w.stop()
				for _, l := range strings.Split(w.output(), "\n") {
					m := jobLine.FindStringSubmatch(l)
					if m == nil {
						continue
					}
					if m[2] != "done" {
						t.Errorf("%s: %s", w.name, l)
					}
					id, _ := strconv.ParseInt(m[1], 10, 64)
					runs[id]++
					perWorker[i]++
				}
			}
			twice := 0
			for id, k := range runs {
				if k != 1 {
					twice++
					t.Errorf("job %d ran %d times", id, k)
				}
			}
			jobs, err := st.Jobs(ctx, store.JobDone, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				if j.Attempts != 1 {
					t.Errorf("job %d: %d attempts", j.ID, j.Attempts)
				}
			}
			for a := range apps {
				if k := bc.count(a); k != 1 {
					t.Errorf("application layer %s read %d times", a[:19], k)
				}
			}
			t.Logf("%d jobs: %d ran once, %d more than once; worker 1 ran %d, worker 2 ran %d", n, len(runs), twice, perWorker[0], perWorker[1])
			if len(runs) != n || perWorker[0] == 0 || perWorker[1] == 0 {
				t.Fatalf("jobs run: %d of %d; per worker %v", len(runs), n, perWorker)
			}
		})
	}
}

// TestWorkerKilledMidJob: a worker killed while it reads an image loses
// nothing: its lease runs out and another worker finishes the job.
func TestWorkerKilledMidJob(t *testing.T) {
	for _, d := range fleettest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			bc := newBlobCounter()
			reg := fleettest.NewRegistryWith(t, bc.wrap)
			t.Cleanup(func() { close(bc.release) })
			app := fleettest.AppLayer(t, "app/main", "the slow application")
			dg, _ := app.Digest()
			bc.hold = dg.String()
			ref, digest := reg.Push(t, "slow/app", "1", fleettest.DebianImage(t, fleettest.DebianBase(t), app))
			st, err := store.Open(ctx, d.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			j, _, err := st.Enqueue(ctx, store.NewJob{Ref: ref, Source: "api", MaxAttempts: 3})
			if err != nil {
				t.Fatal(err)
			}
			cache := t.TempDir()
			a := startDockvet(t, "worker A", nil, "worker", "--db", d.URL, "--lease", "2s", "--cache-dir", cache)
			select {
			case <-bc.held:
			case <-time.After(60 * time.Second):
				t.Fatalf("worker A never read the layer:\n%s", a.output())
			}
			if got, _ := st.Job(ctx, j.ID); got.State != store.JobRunning || got.Attempts != 1 {
				t.Fatalf("mid-job: %+v", got)
			}
			a.cmd.Process.Signal(syscall.SIGKILL)
			<-a.done
			b := startDockvet(t, "worker B", nil, "worker", "--db", d.URL, "--lease", "2s", "--cache-dir", cache)
			b.await(regexp.MustCompile(fmt.Sprintf(`^job %d \S+: done in`, j.ID)), 60*time.Second)
			got, err := st.Job(ctx, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != store.JobDone || got.Attempts != 2 || got.ImageDigest != digest {
				t.Fatalf("after the kill: %+v", got)
			}
			if ok, _ := st.HasImage(ctx, digest); !ok {
				t.Fatal("the image is not stored")
			}
			b.stop()
		})
	}
}
