package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/fleet/fleettest"
	"github.com/dockvet/dockvet/internal/fleet/store"
)

// each runs f on a fresh store of every configured engine.
func each(t *testing.T, f func(t *testing.T, s *store.Store)) {
	for _, d := range fleettest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			s, err := store.Open(context.Background(), d.URL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			f(t, s)
		})
	}
}

func TestMigrations(t *testing.T) {
	for _, d := range fleettest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, d.URL)
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.Version(ctx)
			if err != nil || v != store.SchemaVersion {
				t.Fatalf("version %d, %v; want %d", v, err, store.SchemaVersion)
			}
			if _, _, err := s.Enqueue(ctx, store.NewJob{Ref: "a", Source: "api"}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			// Opening again applies nothing and keeps the data.
			s, err = store.Open(ctx, d.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			n, err := s.QueueCounts(ctx)
			if err != nil || n[store.JobQueued] != 1 {
				t.Fatalf("after reopening: %v %v", n, err)
			}
		})
	}
}

func TestParseDSN(t *testing.T) {
	for _, bad := range []string{"", "sqlite:", "mysql://x", "/tmp/x.db", "postgres://%zz"} {
		if _, _, err := store.ParseDSN(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if d, p, err := store.ParseDSN("sqlite:/tmp/f.db"); err != nil || d != store.SQLite || p != "/tmp/f.db" {
		t.Errorf("sqlite: %v %v %v", d, p, err)
	}
	if got := store.Redact("postgres://u:secret@h/db"); got != "postgres://u:xxxxx@h/db" {
		t.Errorf("Redact: %s", got)
	}
}

func TestQueueLifecycle(t *testing.T) {
	each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		j, created, err := s.Enqueue(ctx, store.NewJob{Ref: "reg/app:1", Source: "api", MaxAttempts: 2})
		if err != nil || !created || j.State != store.JobQueued {
			t.Fatalf("enqueue: %+v %v %v", j, created, err)
		}
		// The same image while queued is the same job.
		again, created, err := s.Enqueue(ctx, store.NewJob{Ref: "reg/app:1", Source: "hook"})
		if err != nil || created || again.ID != j.ID {
			t.Fatalf("second enqueue: %+v %v %v", again, created, err)
		}
		c, err := s.Claim(ctx, "w1", time.Minute)
		if err != nil || c == nil || c.ID != j.ID || c.Attempts != 1 || c.LeaseOwner != "w1" {
			t.Fatalf("claim: %+v %v", c, err)
		}
		if c2, err := s.Claim(ctx, "w2", time.Minute); err != nil || c2 != nil {
			t.Fatalf("a claimed job was claimed again: %+v %v", c2, err)
		}
		if err := s.Renew(ctx, j.ID, "w2", time.Minute); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("renew by a non-owner: %v", err)
		}
		// A failure requeues after the backoff.
		if err := s.Fail(ctx, j.ID, "w1", "registry down", 0, false); err != nil {
			t.Fatal(err)
		}
		c, err = s.Claim(ctx, "w2", time.Minute)
		if err != nil || c == nil || c.Attempts != 2 || c.LastError != "registry down" {
			t.Fatalf("reclaim: %+v %v", c, err)
		}
		// The second failure is the last attempt: dead, with the error.
		if err := s.Fail(ctx, j.ID, "w2", "registry still down", 0, false); err != nil {
			t.Fatal(err)
		}
		got, err := s.Job(ctx, j.ID)
		if err != nil || got.State != store.JobDead || got.LastError != "registry still down" || got.FinishedAt.IsZero() {
			t.Fatalf("dead: %+v %v", got, err)
		}
		// A new job for the same image may now be queued, and completes.
		j2, created, err := s.Enqueue(ctx, store.NewJob{Ref: "reg/app:1", Source: "api"})
		if err != nil || !created || j2.ID == j.ID {
			t.Fatalf("enqueue after death: %+v %v %v", j2, created, err)
		}
		c, _ = s.Claim(ctx, "w1", time.Minute)
		if err := s.Complete(ctx, c.ID, "w1", "sha256:abc"); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, c.ID, "w1", "sha256:abc"); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("completed twice: %v", err)
		}
		got, _ = s.Job(ctx, c.ID)
		if got.State != store.JobDone || got.ImageDigest != "sha256:abc" {
			t.Fatalf("done: %+v", got)
		}
		if _, err := s.Job(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing job: %v", err)
		}
	})
}

func TestQueuePermanentFailureAndBackoff(t *testing.T) {
	each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		j, _, _ := s.Enqueue(ctx, store.NewJob{Ref: "x", Source: "api", MaxAttempts: 5})
		s.Claim(ctx, "w", time.Minute)
		if err := s.Fail(ctx, j.ID, "w", "retry later", time.Hour, false); err != nil {
			t.Fatal(err)
		}
		if c, err := s.Claim(ctx, "w", time.Minute); err != nil || c != nil {
			t.Fatalf("claimed before its backoff ended: %+v %v", c, err)
		}
		j2, _, _ := s.Enqueue(ctx, store.NewJob{Ref: "y", Source: "api", MaxAttempts: 5})
		c, _ := s.Claim(ctx, "w", time.Minute)
		if c == nil || c.ID != j2.ID {
			t.Fatalf("claim: %+v", c)
		}
		if err := s.Fail(ctx, j2.ID, "w", "no such image", 0, true); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Job(ctx, j2.ID); got.State != store.JobDead {
			t.Fatalf("a permanent failure is retried: %+v", got)
		}
	})
}

func TestLeaseExpiry(t *testing.T) {
	each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		j, _, _ := s.Enqueue(ctx, store.NewJob{Ref: "x", Source: "api", MaxAttempts: 2})
		if c, _ := s.Claim(ctx, "dies", time.Millisecond); c == nil {
			t.Fatal("no claim")
		}
		time.Sleep(20 * time.Millisecond)
		c, err := s.Claim(ctx, "lives", time.Minute)
		if err != nil || c == nil || c.ID != j.ID || c.Attempts != 2 || c.LeaseOwner != "lives" {
			t.Fatalf("the expired lease was not taken over: %+v %v", c, err)
		}
		// The dead worker's late result is refused.
		if err := s.Complete(ctx, j.ID, "dies", "sha256:x"); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("late completion: %v", err)
		}
		// The second worker dies too, with no attempts left: dead.
		if err := s.Renew(ctx, j.ID, "lives", time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		if c, err := s.Claim(ctx, "third", time.Minute); err != nil || c != nil {
			t.Fatalf("claimed past its attempts: %+v %v", c, err)
		}
		got, _ := s.Job(ctx, j.ID)
		if got.State != store.JobDead || got.LastError == "" {
			t.Fatalf("not dead: %+v", got)
		}
	})
}

// TestClaimConcurrent: many claimers on one queue; every job is claimed
// exactly once.
func TestClaimConcurrent(t *testing.T) {
	each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const jobs = 60
		for i := range jobs {
			if _, _, err := s.Enqueue(ctx, store.NewJob{Ref: string(rune('A'+i%26)) + time.Duration(i).String(), Source: "api"}); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := "w" + string(rune('0'+w))
				for {
					c, err := s.Claim(ctx, owner, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if c == nil {
						return
					}
					mu.Lock()
					seen[c.ID]++
					mu.Unlock()
					if err := s.Complete(ctx, c.ID, owner, "sha256:x"); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if len(seen) != jobs {
			t.Fatalf("%d jobs claimed, want %d", len(seen), jobs)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("job %d claimed %d times", id, n)
			}
		}
	})
}
