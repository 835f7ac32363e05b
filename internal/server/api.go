package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/fleet"
	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/report"
)

func (s *Server) routes() {
	s.route("GET /healthz", "healthz", 0, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	s.route("GET /readyz", "readyz", 0, s.readyz)
	s.route("GET /metrics", "metrics", ScopeRead, func(w http.ResponseWriter, r *http.Request) {
		s.f.Metrics().Handler().ServeHTTP(w, r)
	})
	s.route("GET /api/v1/openapi.yaml", "openapi", 0, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(OpenAPI)
	})
	s.route("POST /api/v1/scans", "scans.create", ScopeWrite, s.createScan)
	s.route("GET /api/v1/scans/{id}", "scans.get", ScopeRead, s.getScan)
	s.route("GET /api/v1/scans/{id}/report", "scans.report", ScopeRead, s.scanReport)
	s.route("GET /api/v1/jobs", "jobs.list", ScopeRead, s.listJobs)
	s.route("GET /api/v1/images", "images.list", ScopeRead, s.listImages)
	s.route("GET /api/v1/images/{digest}", "images.get", ScopeRead, s.imageReport)
	s.route("GET /api/v1/advisories/{id}/images", "advisories.images", ScopeRead, s.advisoryImages)
	s.route("GET /api/v1/changes", "changes", ScopeRead, s.listChanges)
	s.route("POST /api/v1/db/import", "db.import", ScopeWrite, s.dbImport)
	s.route("GET /api/v1/db", "db.status", ScopeRead, s.dbStatus)
	s.route("POST /api/v1/registries", "registries.create", ScopeWrite, s.addRegistry)
	s.route("GET /api/v1/registries", "registries.list", ScopeRead, s.listRegistries)
	s.route("DELETE /api/v1/registries/{id}", "registries.delete", ScopeWrite, s.deleteRegistry)
	s.route("POST /api/v1/hooks/distribution", "hooks.distribution", ScopeWrite, s.distributionHook)
	s.harborRoutes()
	s.webRoutes()
	s.route("/", "notfound", 0, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: %s %s (see /api/v1/openapi.yaml)", r.Method, r.URL.Path)
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.f.Store().Ping(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "database: %v", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ready\n")
}

// scanRequest is POST /api/v1/scans.
type scanRequest struct {
	Image string `json:"image"`
}

func (s *Server) createScan(w http.ResponseWriter, r *http.Request) {
	var req scanRequest
	if !s.decode(w, r, &req) {
		return
	}
	j, err := s.f.Submit(r.Context(), req.Image, "api", "", 0)
	if err != nil {
		s.fail(w, err)
		return
	}
	code := http.StatusAccepted
	if j.State == store.JobDone {
		code = http.StatusOK
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/scans/%d", j.ID))
	writeJSON(w, code, j)
}

// fail answers an error: a client's mistake is a 4xx that says what is
// wrong; anything else is a 500 whose detail goes to the log.
func (s *Server) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, fleet.ErrBadRef):
		writeError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "%v", err)
	case errors.Is(err, context.Canceled):
		writeError(w, http.StatusServiceUnavailable, "the request was cancelled")
	default:
		s.o.Notice("internal error: %v", err)
		writeError(w, http.StatusInternalServerError, "internal error (see the server's log)")
	}
}

func (s *Server) job(w http.ResponseWriter, r *http.Request) (*store.Job, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "scan id %q: want a positive integer", r.PathValue("id"))
		return nil, false
	}
	j, err := s.f.Store().Job(r.Context(), id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, "no scan %d", id)
		} else {
			s.fail(w, err)
		}
		return nil, false
	}
	return j, true
}

func (s *Server) getScan(w http.ResponseWriter, r *http.Request) {
	if j, ok := s.job(w, r); ok {
		writeJSON(w, http.StatusOK, j)
	}
}

// scanReport is the job's result: the report `dockvet image REF` writes,
// REF as the scan was asked for. A scan still running answers 202 with
// the job; a dead one 422 with its error.
func (s *Server) scanReport(w http.ResponseWriter, r *http.Request) {
	j, ok := s.job(w, r)
	if !ok {
		return
	}
	switch j.State {
	case store.JobQueued, store.JobRunning:
		w.Header().Set("Retry-After", "2")
		writeJSON(w, http.StatusAccepted, j)
		return
	case store.JobDead:
		writeError(w, http.StatusUnprocessableEntity, "the scan failed: %s", j.LastError)
		return
	}
	s.writeReport(w, r, j.ImageDigest, j.Ref)
}

// writeReport renders a stored image's report in the format asked for
// (?format=, default json), matched against the current advisories first.
func (s *Server) writeReport(w http.ResponseWriter, r *http.Request, digest, target string) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	render, err := report.Lookup(format)
	if err != nil || format == "table" {
		writeError(w, http.StatusBadRequest, "format %q: want json, sarif, junit or html", format)
		return
	}
	rep, err := s.report(r.Context(), digest, target)
	if err != nil {
		s.fail(w, err)
		return
	}
	var buf bytes.Buffer
	if err := render(&buf, rep, report.Options{}); err != nil {
		s.fail(w, err)
		return
	}
	ctype := map[string]string{"json": "application/json", "sarif": "application/sarif+json", "junit": "application/xml", "html": "text/html; charset=utf-8"}[format]
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	if format == "html" {
		w.Header().Set("Content-Security-Policy", contentPolicy)
	}
	w.Write(buf.Bytes())
}

func (s *Server) report(ctx context.Context, digest, target string) (*finding.Report, error) {
	if err := s.f.EnsureMatched(ctx, digest); err != nil {
		return nil, err
	}
	img, err := s.f.Store().Image(ctx, digest)
	if err != nil {
		return nil, err
	}
	if target == "" {
		target = img.Ref
	}
	return s.f.Reporting().Report(img, target)
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	switch state {
	case "", store.JobQueued, store.JobRunning, store.JobDone, store.JobDead:
	default:
		writeError(w, http.StatusBadRequest, "state %q: want queued, running, done or dead", state)
		return
	}
	limit, ok := intParam(w, q, "limit", 100, 1000)
	if !ok {
		return
	}
	jobs, err := s.f.Store().Jobs(r.Context(), state, limit)
	if err != nil {
		s.fail(w, err)
		return
	}
	if jobs == nil {
		jobs = []*store.Job{}
	}
	counts, err := s.f.Store().QueueCounts(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"counts": counts, "jobs": jobs})
}

func intParam(w http.ResponseWriter, q url.Values, name string, def, maxV int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > maxV {
		writeError(w, http.StatusBadRequest, "%s %q: want a number from 1 to %d", name, v, maxV)
		return 0, false
	}
	return n, true
}

// imageList is a page of images.
type imageList struct {
	Images []store.Summary `json:"images"`
	// Next is the ?after= of the next page, when there may be one.
	Next string `json:"next,omitempty"`
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.Filter{Repository: q.Get("repository"), Practice: q.Get("practice"), Advisory: q.Get("advisory"), After: q.Get("after")}
	if f.Practice != "" && !finding.Practice(f.Practice).Valid() {
		writeError(w, http.StatusBadRequest, "practice %q: want one of %v", f.Practice, finding.Practices)
		return
	}
	if v := q.Get("severity"); v != "" {
		sev, err := finding.ParseSeverity(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "severity: %v", err)
			return
		}
		f.MinSeverity = int(sev)
	}
	var ok bool
	if f.Limit, ok = intParam(w, q, "limit", 100, 1000); !ok {
		return
	}
	s.writeImages(w, r, f)
}

func (s *Server) writeImages(w http.ResponseWriter, r *http.Request, f store.Filter) {
	list, err := s.f.Store().Images(r.Context(), f)
	if err != nil {
		s.fail(w, err)
		return
	}
	out := imageList{Images: list}
	if len(list) == f.Limit {
		out.Next = list[len(list)-1].Digest
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) imageReport(w http.ResponseWriter, r *http.Request) {
	d := r.PathValue("digest")
	if !validDigest(d) {
		writeError(w, http.StatusBadRequest, "digest %q: want sha256:<64 hex digits>", d)
		return
	}
	s.writeReport(w, r, d, "")
}

func validDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// advisoryImages answers "which of our images does this advisory hit",
// by ID or any alias.
func (s *Server) advisoryImages(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" || len(id) > 200 {
		writeError(w, http.StatusBadRequest, "advisory id: want an ID such as CVE-2024-1234 or GHSA-…")
		return
	}
	q := r.URL.Query()
	limit, ok := intParam(w, q, "limit", 100, 1000)
	if !ok {
		return
	}
	s.writeImages(w, r, store.Filter{Advisory: id, After: q.Get("after"), Limit: limit})
}

func (s *Server) listChanges(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since time.Time
	var after int64
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", v)
			return
		}
		since = t
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "after %q: want a change id", v)
			return
		}
		after = n
	}
	limit, ok := intParam(w, q, "limit", 100, 1000)
	if !ok {
		return
	}
	cs, err := s.f.Store().Changes(r.Context(), after, since, limit)
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]changeJSON, 0, len(cs))
	for _, c := range cs {
		cj := changeJSON{Change: c, Severity: finding.Severity(c.Severity).String()}
		if rec, err := fleet.ChangeRecord(c); err == nil {
			cj.Finding = &rec.Finding
		}
		out = append(out, cj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"changes": out})
}

type changeJSON struct {
	store.Change
	Severity string           `json:"severity"`
	Finding  *finding.Finding `json:"finding,omitempty"`
}

// dbImport imports an OSV upload (a zip such as OSV's all.zip, or one JSON
// record) into the server's advisory database and re-matches the fleet.
func (s *Server) dbImport(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.o.MaxImport)
	ext := ".zip"
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
		ext = ".json"
	}
	tmp, err := os.CreateTemp(s.o.ImportDir, "dockvet-import-*"+ext)
	if err != nil {
		s.fail(w, err)
		return
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, r.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "upload larger than %d bytes", s.o.MaxImport)
			return
		}
		writeError(w, http.StatusBadRequest, "reading the upload: %v", oneLine(err.Error()))
		return
	}
	res, err := s.f.Import(r.Context(), tmp.Name(), "upload")
	if err != nil {
		if errors.Is(err, fleet.ErrBadImport) {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) dbStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.f.DBStatus()
	if err != nil {
		s.fail(w, err)
		return
	}
	ecos := []map[string]any{}
	for _, m := range st.Ecosystems {
		ecos = append(ecos, map[string]any{"ecosystem": m.Ecosystem, "records": m.Records, "packages": m.Packages, "updated": m.Updated.UTC()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": st.Fingerprint, "ecosystems": ecos})
}

// registryRequest is POST /api/v1/registries.
type registryRequest struct {
	URL          string   `json:"url"`
	Repositories []string `json:"repositories"`
	Credentials  string   `json:"credentials"`
	// Interval is how often to crawl ("1h", "15m"; default 1h).
	Interval string `json:"interval"`
}

func (s *Server) addRegistry(w http.ResponseWriter, r *http.Request) {
	var req registryRequest
	if !s.decode(w, r, &req) {
		return
	}
	reg, err := s.f.AddRegistry(r.Context(), req.URL, req.Repositories, req.Credentials, req.Interval)
	if err != nil {
		if errors.Is(err, fleet.ErrBadRegistry) {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, registryJSON(reg))
}

func registryJSON(r *store.Registry) map[string]any {
	return map[string]any{"id": r.ID, "url": r.URL, "repositories": r.Repositories, "credentials": r.Credentials,
		"interval": r.Interval.String(), "nextCrawl": r.NextCrawl, "lastCrawl": r.LastCrawl, "lastError": r.LastError, "createdAt": r.CreatedAt}
}

func (s *Server) listRegistries(w http.ResponseWriter, r *http.Request) {
	regs, err := s.f.Store().Registries(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	out := []map[string]any{}
	for _, reg := range regs {
		out = append(out, registryJSON(reg))
	}
	writeJSON(w, http.StatusOK, map[string]any{"registries": out})
}

func (s *Server) deleteRegistry(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "registry id %q: want a positive integer", r.PathValue("id"))
		return
	}
	if err := s.f.Store().DeleteRegistry(r.Context(), id); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
