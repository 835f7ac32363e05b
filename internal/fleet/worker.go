package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/vulndb"
)

// WorkerName is a name for a worker that no other worker has: host, process
// and a random suffix (leases name their owner).
func WorkerName() string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", hostname(), os.Getpid(), hex.EncodeToString(b[:]))
}

// RunWorker claims and runs jobs until ctx ends. A job interrupted by the
// end of ctx is handed back to the queue at once.
func (s *Service) RunWorker(ctx context.Context, name string) {
	for ctx.Err() == nil {
		j, err := s.o.Store.Claim(ctx, name, s.o.Lease)
		if err != nil {
			if ctx.Err() == nil {
				s.notice("worker %s: claiming a job: %v", name, err)
			}
			s.idle(ctx, s.o.Poll*5)
			continue
		}
		if j == nil {
			s.idle(ctx, s.o.Poll)
			continue
		}
		s.runJob(ctx, name, j)
	}
}

func (s *Service) idle(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-s.wake:
	}
}

// runJob runs one claimed job, renewing its lease while it runs. A worker
// that loses its lease (the database thought it dead) stops the scan: the
// job is someone else's now.
func (s *Service) runJob(ctx context.Context, worker string, j *store.Job) {
	start := time.Now()
	result := ""
	defer func() {
		if s.o.JobLog != nil && result != "" {
			s.o.JobLog(j, worker, result, time.Since(start))
		}
	}()
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(s.o.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-jctx.Done():
				return
			case <-t.C:
				if err := s.o.Store.Renew(jctx, j.ID, worker, s.o.Lease); errors.Is(err, store.ErrLeaseLost) {
					cancel(err)
					return
				} else if err != nil && jctx.Err() == nil {
					s.notice("job %d: renewing its lease: %v", j.ID, err)
				}
			}
		}
	}()
	digest, err := s.process(jctx, j)
	cancel(nil)
	<-renewed
	// The outcome is written even when ctx is ending (a stopping server
	// still says what became of the job).
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer wcancel()
	switch {
	case err == nil:
		err = s.o.Store.Complete(wctx, j.ID, worker, digest)
		if err == nil {
			result = "done"
			s.metrics.jobDone(result, time.Since(start))
		}
	case ctx.Err() != nil:
		// Shutting down: the job goes back to the queue, attempt unused.
		err = s.o.Store.Release(wctx, j.ID, worker)
		result = "released"
		s.metrics.jobDone(result, time.Since(start))
	case errors.Is(context.Cause(jctx), store.ErrLeaseLost):
		s.notice("job %d (%s): lost its lease; another worker has it", j.ID, j.Ref)
		result = "lease-lost"
		s.metrics.jobDone(result, time.Since(start))
		return
	default:
		permanent := isPermanent(err)
		backoff := s.backoff(j.Attempts)
		j.LastError = oneLine(err.Error())
		if ferr := s.o.Store.Fail(wctx, j.ID, worker, j.LastError, backoff, permanent); ferr != nil {
			err = ferr
			break
		}
		result = "retry"
		if permanent || j.Attempts >= j.MaxAttempts {
			result = "dead"
			s.notice("job %d (%s) failed for good: %v", j.ID, j.Ref, err)
		}
		s.metrics.jobDone(result, time.Since(start))
		return
	}
	if err != nil && !errors.Is(err, store.ErrLeaseLost) {
		s.notice("job %d: recording its outcome: %v", j.ID, err)
	}
}

// backoff is the wait before attempt n+1: doubling from MinBackoff, capped.
func (s *Service) backoff(attempt int) time.Duration {
	d := float64(s.o.MinBackoff) * math.Pow(2, float64(max(0, attempt-1)))
	return time.Duration(min(d, float64(s.o.MaxBackoff)))
}

// isPermanent says whether trying again cannot help: a reference the
// registry does not know, an image over the limits.
func isPermanent(err error) bool {
	if errors.Is(err, ErrBadRef) || errors.Is(err, image.ErrLimit) {
		return true
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode == http.StatusNotFound
	}
	return false
}

// process reads and stores the job's image, unless the store already
// holds the digest its reference names now: then nothing is read.
func (s *Service) process(ctx context.Context, j *store.Job) (string, error) {
	r, err := ParseRef(j.Ref)
	if err != nil {
		return "", err
	}
	kc, err := s.keychainFor(ctx, j.ID, j.RegistryID, r.Registry)
	if err != nil {
		return "", err
	}
	var tags []store.Tag
	if r.Tag != "" {
		tags = []store.Tag{{Repository: r.Repository, Tag: r.Tag}}
	}
	digest, err := s.resolve(ctx, r, kc)
	if err != nil {
		return "", err
	}
	if ok, err := s.o.Store.HasImage(ctx, digest); err != nil {
		return "", err
	} else if ok {
		s.metrics.answeredFromStore()
		return digest, s.o.Store.AddTags(ctx, digest, tags)
	}
	layers := s.layers.forScan()
	defer layers.done()
	res, err := s.o.Scanner.Scan(ctx, ScanRequest{Ref: j.Ref, Keychain: kc, Insecure: s.o.Insecure, Platform: s.o.Platform,
		Layers: layers, LayerKey: "dockvet " + s.o.Reporting.Version})
	if err != nil {
		return "", err
	}
	return res.Digest, s.storeScan(ctx, r, res, tags)
}

// storeScan stores a scan result, matched at once when this worker shares
// the server's advisory database.
func (s *Service) storeScan(ctx context.Context, r *Ref, res *ScanResult, tags []store.Tag) error {
	img := &store.Image{Digest: res.Digest, Ref: r.Given, Repository: res.Repository, ConfigDigest: res.ConfigDigest,
		Platform: res.Platform, Distro: res.Distro, Created: res.Created, Size: res.Size, Analyzer: s.o.Reporting.Version}
	for _, l := range res.Layers {
		img.Layers = append(img.Layers, l.DiffID)
		s.metrics.layer(l.Reused)
	}
	var err error
	if img.Facts, err = json.Marshal(res.Facts); err != nil {
		return err
	}
	if img.Findings, err = pack(nonNil(res.Findings)); err != nil {
		return err
	}
	if img.Inventory, err = pack(res.Packages); err != nil {
		return err
	}
	img.Vulns = []byte("[]")
	r2 := s.o.Reporting.assemble(res.Findings, nil, r.Given)
	if s.o.MatchOnScan {
		state, err := readDBState(s.o.VulnDir)
		if err != nil {
			return err
		}
		var db *vulndb.DB
		if state.Fingerprint != noDatabase {
			if db, err = vulndb.Open(s.o.VulnDir); err != nil {
				return err
			}
			defer db.Close()
		}
		vs, err := s.o.Reporting.matchInventory(db, res.Packages, r.Given)
		if err != nil {
			return err
		}
		if img.Vulns, err = pack(nonNil(vs)); err != nil {
			return err
		}
		img.MatchedDB, img.MatchedAt = state.Fingerprint, time.Now()
		r2 = s.o.Reporting.assemble(res.Findings, vs, r.Given)
	}
	idx, counts := indexOf(r2)
	img.Counts = counts
	return s.o.Store.PutImage(ctx, img, idx, tags)
}

// resolve finds the manifest digest a reference names now (the platform's
// manifest, for a multi-platform index), with one small request.
func (s *Service) resolve(ctx context.Context, r *Ref, kc authn.Keychain) (string, error) {
	opts := image.RemoteOptions(ctx, image.OpenOptions{Insecure: s.o.Insecure, Keychain: kc})
	desc, err := remote.Get(r.parsed, opts...)
	if err != nil {
		return "", fmt.Errorf("%s: %w", r.Given, err)
	}
	if !desc.MediaType.IsIndex() {
		return desc.Digest.String(), nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return "", fmt.Errorf("%s: %w", r.Given, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return "", fmt.Errorf("%s: %w", r.Given, err)
	}
	want := s.o.Platform
	if want == nil {
		want = &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	}
	for _, m := range im.Manifests {
		if m.Platform != nil && m.Platform.Satisfies(*want) {
			return m.Digest.String(), nil
		}
	}
	return "", fmt.Errorf("%s: no image for %s in the index", r.Given, want.String())
}

func oneLine(s string) string {
	out := make([]rune, 0, len(s))
	space := false
	for _, c := range s {
		if c == '\n' || c == '\r' || c == '\t' || c == ' ' {
			if !space && len(out) > 0 {
				out = append(out, ' ')
			}
			space = true
			continue
		}
		space = false
		out = append(out, c)
	}
	return string(out)
}
