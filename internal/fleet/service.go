// Package fleet is dockvet's fleet service: images indexed once into a
// store (internal/fleet/store) by workers that share a queue in the
// database, their stored inventories matched again whenever the advisory
// database changes, without reading any image, and the changes that
// re-matching finds delivered to webhooks. The HTTP API (internal/server)
// and the `dockvet server` and `dockvet worker` commands are built on it.
package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/watch"
)

// Options configure a Service. Store, VulnDir and Scanner are required.
type Options struct {
	Store *store.Store
	// VulnDir is the cache directory holding the advisory database
	// (vulndb), the one `dockvet db update|import --cache-dir` writes.
	VulnDir string
	Scanner Scanner
	// Reporting turns stored images into reports.
	Reporting Reporting
	// Insecure allows plain HTTP and unverified TLS to registries beyond
	// loopback; Platform picks from multi-platform images.
	Insecure bool
	Platform *v1.Platform
	// MatchOnScan makes a worker match an image right after reading it:
	// set for the server's own workers, which share its database. A
	// worker elsewhere leaves the match to the server.
	MatchOnScan bool
	// MatchWorkers re-match inventories concurrently (default 2).
	MatchWorkers int
	// Lease is how long a claimed job is a worker's without renewal
	// (default 2m); it is renewed every third of it.
	Lease time.Duration
	// Poll is how often an idle worker looks for work (default 1s).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait before a failed job runs
	// again (defaults 10s and 10m), doubling per attempt.
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts is how often a job is tried before it is dead (default 3).
	MaxAttempts int
	// Sinks receive the changes re-matching finds (watch's webhook sink:
	// spooled on disk, retried).
	Sinks []watch.Sink
	// Notice reports what an operator should know (one line each).
	Notice func(format string, args ...any)
	// JobLog, when set, is told each job's outcome (done, retry, dead,
	// released, lease-lost) as the worker records it.
	JobLog  func(j *store.Job, worker, result string, took time.Duration)
	Metrics *Metrics
}

// Service is the fleet: submit scans, run workers, re-match, report.
type Service struct {
	o       Options
	metrics *Metrics
	matcher matcher
	// wake tells idle in-process workers that a job was queued.
	wake     chan struct{}
	notifyCh chan struct{}

	mu     sync.Mutex
	lastSt *DBState
	layers *layerStore
	// jobCreds are pull credentials that came with scan requests (job ID
	// -> jobCred), in memory only.
	jobCreds sync.Map
}

// New returns a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Scanner == nil || o.VulnDir == "" {
		return nil, errors.New("fleet: Store, Scanner and VulnDir are required")
	}
	if o.MatchWorkers <= 0 {
		o.MatchWorkers = 2
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 10 * time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(10*time.Minute, o.MinBackoff)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Notice == nil {
		o.Notice = func(string, ...any) {}
	}
	m := o.Metrics
	if m == nil {
		m = NewMetrics(o.Store)
	}
	s := &Service{o: o, metrics: m, wake: make(chan struct{}, 1), notifyCh: make(chan struct{}, 1), layers: newLayerStore(o.Store)}
	s.o.Reporting.dbState = s.lastDB
	return s, nil
}

// Store is the service's store.
func (s *Service) Store() *store.Store { return s.o.Store }

// Metrics are the service's Prometheus metrics.
func (s *Service) Metrics() *Metrics { return s.metrics }

// Reporting is how the service makes reports.
func (s *Service) Reporting() *Reporting { return &s.o.Reporting }

func (s *Service) notice(format string, args ...any) { s.o.Notice(format, args...) }

// Ref is an image reference the fleet accepts: a registry name, with an
// optional "registry:" prefix (dockvet image's form for the same thing).
type Ref struct {
	// Given is the reference as written: the report's target.
	Given string
	// Name is the reference without the prefix.
	Name       string
	Repository string
	// Registry is the registry's host.
	Registry string
	Tag      string
	Digest   string
	parsed   name.Reference
}

// ErrBadRef is a reference the fleet refuses.
var ErrBadRef = errors.New("bad image reference")

// ParseRef reads a reference. Only registry references are accepted: a
// service must not open files or the Engine's images on a request's word.
func ParseRef(s string) (*Ref, error) {
	if s == "" || len(s) > 1024 || strings.ContainsAny(s, " \t\r\n") {
		return nil, fmt.Errorf("%w: want a registry image reference such as registry.example.com/team/app:1.4", ErrBadRef)
	}
	rest := strings.TrimPrefix(s, "registry:")
	for _, p := range []string{"docker:", "docker-archive:", "oci-archive:", "oci:"} {
		if strings.HasPrefix(rest, p) {
			return nil, fmt.Errorf("%w: %s references: the server reads images from registries only", ErrBadRef, strings.TrimSuffix(p, ":"))
		}
	}
	r, err := name.ParseReference(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRef, err)
	}
	out := &Ref{Given: s, Name: rest, Repository: r.Context().Name(), Registry: r.Context().RegistryStr(), parsed: r}
	switch t := r.(type) {
	case name.Tag:
		out.Tag = t.TagStr()
	case name.Digest:
		out.Digest = t.DigestStr()
	}
	return out, nil
}

// Submit queues a scan of ref (source says from where: api, harbor,
// registry, hook). A reference by digest that the store holds is answered
// at once: the job is done without a worker.
func (s *Service) Submit(ctx context.Context, ref, source, wantDigest string, registryID int64) (*store.Job, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	n := store.NewJob{Ref: r.Given, WantDigest: wantDigest, Source: source, RegistryID: registryID, MaxAttempts: s.o.MaxAttempts}
	d := r.Digest
	if d == "" {
		d = wantDigest
	}
	if d != "" {
		if ok, err := s.o.Store.HasImage(ctx, d); err != nil {
			return nil, err
		} else if ok {
			s.metrics.submitted(source, true)
			return s.o.Store.EnqueueDone(ctx, n, d)
		}
	}
	j, created, err := s.o.Store.Enqueue(ctx, n)
	if err != nil {
		return nil, err
	}
	if created {
		s.metrics.submitted(source, false)
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return j, nil
}

// lastDB is the advisory database state of the last re-match.
func (s *Service) lastDB() DBState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastSt != nil {
		return *s.lastSt
	}
	var st DBState
	if v, err := s.o.Store.Setting(context.Background(), "advisory_db"); err == nil && v != "" {
		json.Unmarshal([]byte(v), &st)
	}
	s.lastSt = &st
	return st
}

func (s *Service) setLastDB(st DBState) {
	s.mu.Lock()
	s.lastSt = &st
	s.mu.Unlock()
	if b, err := json.Marshal(st); err == nil {
		if err := s.o.Store.SetSetting(context.Background(), "advisory_db", string(b)); err != nil {
			s.notice("recording the advisory database state: %v", err)
		}
	}
}

// WatchDB re-matches the fleet whenever the advisory database under
// VulnDir changes (`dockvet db update|import --cache-dir` of the server's
// directory), checking every interval, and once at start for images the
// current database has not seen. It returns when ctx ends.
func (s *Service) WatchDB(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	last := ""
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st, err := readDBState(s.o.VulnDir)
		if err != nil {
			s.notice("advisory database: %v", err)
		} else if st.Fingerprint != last {
			res, err := s.Rematch(ctx, "")
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				s.notice("re-matching the fleet: %v", err)
			default:
				last = st.Fingerprint
				if res.Images > 0 {
					s.notice("advisory database %s: %d images re-matched in %.2fs, %d changed (%d new, %d fixed vulnerabilities)",
						res.DB, res.Images, res.Seconds, res.Changed, res.New, res.Fixed)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// hostname names this process in leases.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "worker"
	}
	return h
}
