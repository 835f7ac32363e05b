package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/vulndb"
)

// ErrBadRegistry is a registry registration the fleet refuses.
var ErrBadRegistry = errors.New("bad registry")

// AddRegistry registers a registry to crawl: its base URL, the globs of
// the repositories to scan ("team/*", "team/**", "**"), a credential
// reference (never credentials) and the crawl interval ("1h" by default).
func (s *Service) AddRegistry(ctx context.Context, rawURL string, repos []string, creds, interval string) (*store.Registry, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("%w: url: want http(s)://HOST[:PORT] with no path, user or query", ErrBadRegistry)
	}
	if len(repos) == 0 {
		repos = []string{"**"}
	}
	for _, g := range repos {
		if _, err := path.Match(strings.TrimSuffix(g, "/**"), "x"); err != nil || g == "" {
			return nil, fmt.Errorf("%w: repository glob %q is malformed", ErrBadRegistry, g)
		}
	}
	if err := CheckCredentials(creds); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRegistry, err)
	}
	every := time.Hour
	if interval != "" {
		if every, err = time.ParseDuration(interval); err != nil || every < time.Minute {
			return nil, fmt.Errorf("%w: interval %q: want a duration of at least 1m, such as 1h", ErrBadRegistry, interval)
		}
	}
	return s.o.Store.AddRegistry(ctx, &store.Registry{URL: u.Scheme + "://" + u.Host, Repositories: repos, Credentials: creds, Interval: every})
}

// matchRepo reports whether a repository name matches a registry's globs:
// path.Match per glob, with "**" for everything and "PREFIX/**" for
// everything under PREFIX.
func matchRepo(globs []string, repo string) bool {
	for _, g := range globs {
		switch {
		case g == "**":
			return true
		case strings.HasSuffix(g, "/**"):
			if strings.HasPrefix(repo, strings.TrimSuffix(g, "**")) {
				return true
			}
		default:
			if ok, _ := path.Match(g, repo); ok {
				return true
			}
		}
	}
	return false
}

// Crawl runs registry crawls until ctx ends: each registry whose crawl is
// due is listed (/v2/_catalog, then each repository's tags); a tag whose
// digest the store does not hold is queued. One process crawls a registry
// at a time (store.ClaimCrawl).
func (s *Service) Crawl(ctx context.Context, owner string, poll time.Duration) {
	if poll <= 0 {
		poll = 10 * time.Second
	}
	for ctx.Err() == nil {
		reg, err := s.o.Store.ClaimCrawl(ctx, owner, time.Hour)
		if err != nil {
			if ctx.Err() == nil {
				s.notice("registry crawl: %v", err)
			}
		} else if reg != nil {
			queued, err := s.CrawlOne(ctx, reg)
			msg := ""
			if err != nil {
				msg = oneLine(err.Error())
				s.notice("crawling %s: %v", reg.URL, err)
			} else if queued > 0 {
				s.notice("crawled %s: %d images queued", reg.URL, queued)
			}
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := s.o.Store.FinishCrawl(wctx, reg.ID, msg); err != nil {
				s.notice("registry crawl: %v", err)
			}
			cancel()
			continue
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// CrawlOne lists one registry and queues what the store lacks; it returns
// how many scans it queued.
func (s *Service) CrawlOne(ctx context.Context, reg *store.Registry) (int, error) {
	u, err := url.Parse(reg.URL)
	if err != nil {
		return 0, err
	}
	kc, err := keychain(reg.Credentials)
	if err != nil {
		return 0, err
	}
	var nopts []name.Option
	if u.Scheme == "http" {
		nopts = append(nopts, name.Insecure)
	}
	rg, err := name.NewRegistry(u.Host, nopts...)
	if err != nil {
		return 0, err
	}
	opts := image.RemoteOptions(ctx, image.OpenOptions{Insecure: s.o.Insecure, Keychain: kc})
	repos, err := remote.Catalog(ctx, rg, opts...)
	if err != nil {
		return 0, fmt.Errorf("catalog: %w", err)
	}
	slices.Sort(repos)
	queued := 0
	var errs []error
	for _, repo := range repos {
		if !matchRepo(reg.Repositories, repo) {
			continue
		}
		rp, err := name.NewRepository(u.Host+"/"+repo, nopts...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tags, err := remote.List(rp, opts...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: tags: %w", repo, err))
			continue
		}
		for _, tag := range tags {
			if ctx.Err() != nil {
				return queued, ctx.Err()
			}
			n, err := s.crawlTag(ctx, reg, rp, tag, opts)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%s: %w", repo, tag, err))
			}
			queued += n
		}
	}
	if len(errs) > 0 {
		return queued, fmt.Errorf("%d errors, the first: %w", len(errs), errs[0])
	}
	return queued, nil
}

func (s *Service) crawlTag(ctx context.Context, reg *store.Registry, rp name.Repository, tag string, opts []remote.Option) (int, error) {
	ref := rp.Tag(tag)
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return 0, err
	}
	digest := desc.Digest.String()
	// A tag still at a digest the store holds needs nothing. (For a
	// multi-platform index the stored digest is the platform's: the job
	// resolves it, and answers from the store if it can.)
	if ok, err := s.o.Store.HasImage(ctx, digest); err != nil {
		return 0, err
	} else if ok {
		return 0, s.o.Store.AddTags(ctx, digest, []store.Tag{{Repository: rp.Name(), Tag: tag}})
	}
	if d, err := s.o.Store.TagDigest(ctx, rp.Name(), tag); err == nil && d != "" && !desc.MediaType.IsIndex() && d == digest {
		return 0, nil
	}
	j, err := s.Submit(ctx, ref.String(), "registry", "", reg.ID)
	if err != nil {
		return 0, err
	}
	if j.State == store.JobDone {
		return 0, nil
	}
	return 1, nil
}

// DistributionEnvelope is a CNCF Distribution (Docker registry)
// notification: a batch of events.
type DistributionEnvelope struct {
	Events []DistributionEvent `json:"events"`
}

// DistributionEvent is one registry event; only what the fleet reads.
type DistributionEvent struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	Target struct {
		MediaType  string `json:"mediaType"`
		Digest     string `json:"digest"`
		Repository string `json:"repository"`
		URL        string `json:"url"`
		Tag        string `json:"tag"`
	} `json:"target"`
	Request struct {
		Host string `json:"host"`
	} `json:"request"`
}

// manifestTypes are the media types of pushes that are images (blob
// pushes, signatures and other artifacts are not scanned).
var manifestTypes = []string{
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.index.v1+json",
}

// ErrBadNotification is a notification body the fleet cannot read.
var ErrBadNotification = errors.New("bad notification")

// ParseDistribution reads a notification envelope (at most max bytes).
func ParseDistribution(r io.Reader) (*DistributionEnvelope, error) {
	var env DistributionEnvelope
	dec := json.NewDecoder(r)
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadNotification, oneLine(err.Error()))
	}
	if len(env.Events) > 1000 {
		return nil, fmt.Errorf("%w: more than 1000 events in one envelope", ErrBadNotification)
	}
	return &env, nil
}

// HookResult says what a notification did.
type HookResult struct {
	Queued  []*store.Job `json:"queued"`
	Ignored int          `json:"ignored"`
}

// Notified queues the images a registry's push events name, at once, by
// digest. Events that are not image pushes are ignored, and so are pushes
// to a registered registry's repositories its globs leave out.
func (s *Service) Notified(ctx context.Context, env *DistributionEnvelope) (*HookResult, error) {
	res := &HookResult{Queued: []*store.Job{}}
	regs, err := s.o.Store.Registries(ctx)
	if err != nil {
		return nil, err
	}
	for _, ev := range env.Events {
		if ev.Action != "push" || !slices.Contains(manifestTypes, ev.Target.MediaType) || !validDigest(ev.Target.Digest) || ev.Target.Repository == "" {
			res.Ignored++
			continue
		}
		host := ev.Request.Host
		if u, err := url.Parse(ev.Target.URL); err == nil && u.Host != "" {
			host = u.Host
		}
		if host == "" {
			res.Ignored++
			continue
		}
		var regID int64
		skip := false
		for _, r := range regs {
			if u, err := url.Parse(r.URL); err == nil && u.Host == host {
				regID = r.ID
				skip = !matchRepo(r.Repositories, ev.Target.Repository)
			}
		}
		if skip {
			res.Ignored++
			continue
		}
		ref := host + "/" + ev.Target.Repository + "@" + ev.Target.Digest
		j, err := s.Submit(ctx, ref, "hook", ev.Target.Digest, regID)
		if err != nil {
			if errors.Is(err, ErrBadRef) {
				res.Ignored++
				continue
			}
			return nil, err
		}
		if ev.Target.Tag != "" {
			if rp, err := name.NewRepository(host + "/" + ev.Target.Repository); err == nil && j.State == store.JobDone {
				s.o.Store.AddTags(ctx, j.ImageDigest, []store.Tag{{Repository: rp.Name(), Tag: ev.Target.Tag}})
			}
		}
		res.Queued = append(res.Queued, j)
	}
	return res, nil
}

func validDigest(d string) bool {
	h, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ErrBadImport is an advisory upload that is not OSV data.
var ErrBadImport = errors.New("not OSV data")

// ImportResult says what an import did.
type ImportResult struct {
	Records    int            `json:"records"`
	Ecosystems map[string]int `json:"ecosystems"`
	Skipped    int            `json:"skipped"`
	Rematch    *RematchResult `json:"rematch"`
}

// Import imports OSV data (a zip, a directory or a JSON file) into the
// server's advisory database and re-matches the fleet at once.
func (s *Service) Import(ctx context.Context, path, label string) (*ImportResult, error) {
	res, err := vulndb.Import(ctx, s.o.VulnDir, path, time.Now())
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrBadImport, oneLine(err.Error()))
	}
	out := &ImportResult{Records: res.Records, Ecosystems: map[string]int{}, Skipped: res.SkippedCount}
	var names []string
	for _, m := range res.Ecosystems {
		out.Ecosystems[m.Ecosystem] = m.Records
		names = append(names, m.Ecosystem)
	}
	cause := fmt.Sprintf("import of %d advisories (%s) from %s", res.Records, strings.Join(names, ", "), label)
	if out.Rematch, err = s.Rematch(ctx, cause); err != nil {
		return nil, err
	}
	return out, nil
}

// DBStatus reads the advisory database's state.
func (s *Service) DBStatus() (DBState, error) { return readDBState(s.o.VulnDir) }
