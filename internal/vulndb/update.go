package vulndb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// DefaultBaseURL is OSV's public export: one all.zip per ecosystem at
// BASE/ECOSYSTEM/all.zip.
const DefaultBaseURL = "https://osv-vulnerabilities.storage.googleapis.com"

// Supported lists the ecosystems dockvet's inventory produces packages
// for: what `dockvet db update` fetches when the database is empty.
var Supported = []string{
	"AlmaLinux", "Alpine", "Chainguard", "Debian", "Mageia", "Photon OS",
	"Rocky Linux", "SUSE", "Ubuntu", "Wolfi", "openSUSE",
	"Go", "Maven", "NuGet", "Packagist", "PyPI", "RubyGems", "crates.io", "npm",
}

// UpdateOptions configure Update.
type UpdateOptions struct {
	// BaseURL replaces DefaultBaseURL (a mirror, or a test server).
	BaseURL string
	// Ecosystems to fetch. Empty: the ecosystems the database already
	// holds, or Supported when it holds none.
	Ecosystems []string
	// Client is the HTTP client; nil uses one with connection timeouts.
	Client *http.Client
	// Progress, when set, is called as an export downloads (total is -1
	// when the server does not say).
	Progress func(ecosystem string, done, total int64)
	Now      func() time.Time
}

// UnreachableError is Update's error when the export server could not be
// reached at all (no name resolution, no route, connection refused): every
// ecosystem would fail the same way, so none is tried after the first.
type UnreachableError struct {
	Base string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s is unreachable (%v); nothing was updated. Offline, download %s/ECOSYSTEM/all.zip elsewhere and 'dockvet db import' it, or copy a cache directory's vulndb/ here", e.Base, e.Err, e.Base)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// UpdateResult is the outcome for one ecosystem.
type UpdateResult struct {
	Ecosystem string
	// Unchanged is set when the server answered that the export did not
	// change since the last update (HTTP 304): nothing was downloaded.
	Unchanged bool
	Meta      Meta
	Skipped   int
	Err       error
}

// Update fetches OSV exports into the database in cacheDir. Each
// ecosystem is fetched with a conditional request (the export's ETag and
// Last-Modified from the last update) and replaced atomically only once
// downloaded and parsed whole: an error or interruption leaves the
// previous data in use. A failure in one ecosystem does not stop the
// others; the results say which failed.
func Update(ctx context.Context, cacheDir string, opt UpdateOptions) ([]UpdateResult, error) {
	base := strings.TrimSuffix(opt.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if _, err := url.Parse(base); err != nil {
		return nil, fmt.Errorf("base URL %q: %v", base, err)
	}
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	client := opt.Client
	if client == nil {
		client = defaultClient()
	}
	dir := storeDir(cacheDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	existing := map[string]Meta{}
	if st, err := ReadStatus(cacheDir); err == nil {
		for _, m := range st.Ecosystems {
			existing[m.Ecosystem] = m
		}
	}
	ecos := opt.Ecosystems
	if len(ecos) == 0 {
		for e := range existing {
			ecos = append(ecos, e)
		}
		if len(ecos) == 0 {
			ecos = Supported
		}
	}
	var out []UpdateResult
	for _, eco := range sortedUnique(ecos) {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r := updateOne(ctx, client, base, dir, eco, existing[eco], opt.Progress, now)
		var ue *UnreachableError
		if errors.As(r.Err, &ue) {
			return out, &UnreachableError{Base: base, Err: ue.Err}
		}
		out = append(out, r)
	}
	return out, nil
}

// unreachable reports whether a request failed before any server
// answered: the name did not resolve, or no connection could be made.
func unreachable(err error) bool {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	return errors.As(err, &dnsErr) || errors.As(err, &opErr) && opErr.Op == "dial"
}

func defaultClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 30 * time.Second
	tr.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: tr}
}

func updateOne(ctx context.Context, client *http.Client, base, dir, eco string, prev Meta, progress func(string, int64, int64), now func() time.Time) UpdateResult {
	res := UpdateResult{Ecosystem: eco, Meta: prev}
	src := base + "/" + url.PathEscape(eco) + "/all.zip"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		res.Err = err
		return res
	}
	// Validators are only sent for data that came from this same URL.
	if prev.Source == src {
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		if unreachable(err) {
			res.Err = &UnreachableError{Base: base, Err: unwrapURLError(err)}
			return res
		}
		res.Err = fmt.Errorf("fetching %s: %v", src, unwrapURLError(err))
		return res
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		res.Unchanged = true
		markChecked(dir, eco, now())
		res.Meta.Checked = now()
		return res
	case resp.StatusCode == http.StatusNotFound:
		res.Err = fmt.Errorf("%s: no such ecosystem export (HTTP 404)", src)
		return res
	case resp.StatusCode != http.StatusOK:
		res.Err = fmt.Errorf("%s: HTTP %s", src, resp.Status)
		return res
	}
	// The export is downloaded whole before anything is replaced: zip
	// needs random access, and a broken download must not touch the
	// database.
	tmp, err := os.CreateTemp(dir, ".download-*.zip.tmp-")
	if err != nil {
		res.Err = err
		return res
	}
	defer os.Remove(tmp.Name())
	var body io.Reader = resp.Body
	if progress != nil {
		body = &progressReader{r: resp.Body, eco: eco, total: resp.ContentLength, fn: progress}
	}
	n, err := io.Copy(tmp, body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		res.Err = fmt.Errorf("downloading %s: %v", src, unwrapURLError(err))
		return res
	}
	t := now()
	ir, err := importRecords(ctx, dir, zipSource(tmp.Name()), importOptions{
		only:    eco,
		replace: true,
		now:     t,
		meta: Meta{Source: src, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
			Updated: t, Checked: t},
	})
	if err != nil {
		res.Err = fmt.Errorf("%s: %v", src, err)
		return res
	}
	res.Skipped = ir.SkippedCount
	for _, m := range ir.Ecosystems {
		if m.Ecosystem == eco {
			res.Meta = m
		}
	}
	return res
}

type progressReader struct {
	r     io.Reader
	eco   string
	done  int64
	total int64
	fn    func(string, int64, int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	p.fn(p.eco, p.done, p.total)
	return n, err
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func sortedUnique(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}
