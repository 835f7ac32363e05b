package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/fleet"
	"github.com/dockvet/dockvet/internal/fleet/store"
)

// Harbor's pluggable scanner API v1.2 (goharbor/pluggable-scanner-spec,
// api/spec/scanner-adapter-openapi-v1.2.yaml), mounted under HarborPrefix:
// Harbor registers http://dockvet:PORT/harbor and calls
// /harbor/api/v1/metadata, /scan and /scan/{id}/report.
const (
	mimeMetadata     = "application/vnd.scanner.adapter.metadata+json; version=1.1"
	mimeScanRequest  = "application/vnd.scanner.adapter.scan.request+json"
	mimeScanResponse = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
	mimeError        = "application/vnd.scanner.adapter.error+json; version=1.0"
	// The Harbor vulnerability report, in its two names.
	mimeHarborReport  = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
	mimeSecurityVulns = "application/vnd.security.vulnerability.report; version=1.1"
	// The raw report: dockvet's own JSON report, as `dockvet image` writes it.
	mimeRawReport = "application/vnd.scanner.adapter.vuln.report.raw"
	mimeOCIImage  = "application/vnd.oci.image.manifest.v1+json"
	mimeDockerV2  = "application/vnd.docker.distribution.manifest.v2+json"
)

func (s *Server) harborRoutes() {
	p := s.o.HarborPrefix + "/api/v1"
	s.route("GET "+p+"/metadata", "harbor.metadata", ScopeRead, s.harborMetadata)
	s.route("POST "+p+"/scan", "harbor.scan", ScopeWrite, s.harborScan)
	s.route("GET "+p+"/scan/{id}/report", "harbor.report", ScopeRead, s.harborReport)
}

func harborError(w http.ResponseWriter, code int, format string, args ...any) {
	var e apiError
	e.Error.Message = fmt.Sprintf(format, args...)
	writeJSONType(w, code, mimeError, e)
}

type harborScanner struct {
	Name    string `json:"name"`
	Vendor  string `json:"vendor"`
	Version string `json:"version"`
}

type harborCapability struct {
	Type              string   `json:"type"`
	ConsumesMimeTypes []string `json:"consumes_mime_types"`
	ProducesMimeTypes []string `json:"produces_mime_types"`
}

type harborMetadata struct {
	Scanner      harborScanner      `json:"scanner"`
	Capabilities []harborCapability `json:"capabilities"`
	Properties   map[string]string  `json:"properties"`
}

func (s *Server) scannerInfo() harborScanner {
	return harborScanner{Name: "dockvet", Vendor: "dockvet", Version: s.f.Reporting().Version}
}

func (s *Server) harborMetadata(w http.ResponseWriter, r *http.Request) {
	props := map[string]string{
		"harbor.scanner-adapter/scanner-type": "os-package-vulnerability",
		"env.dockvet.report":                  "the raw report is dockvet's JSON report: rules, secrets and vulnerabilities",
	}
	if st, err := s.f.DBStatus(); err == nil && len(st.Ecosystems) > 0 {
		var newest time.Time
		for _, m := range st.Ecosystems {
			if m.Updated.After(newest) {
				newest = m.Updated
			}
		}
		props["harbor.scanner-adapter/vulnerability-database-updated-at"] = newest.UTC().Format(time.RFC3339)
	}
	writeJSONType(w, http.StatusOK, mimeMetadata, harborMetadata{
		Scanner: s.scannerInfo(),
		Capabilities: []harborCapability{{
			Type:              "vulnerability",
			ConsumesMimeTypes: []string{mimeOCIImage, mimeDockerV2},
			ProducesMimeTypes: []string{mimeHarborReport, mimeSecurityVulns, mimeRawReport},
		}},
		Properties: props,
	})
}

type harborArtifact struct {
	Repository string `json:"repository,omitempty"`
	Digest     string `json:"digest,omitempty"`
	Tag        string `json:"tag,omitempty"`
	MimeType   string `json:"mime_type,omitempty"`
}

type harborScanRequest struct {
	Registry struct {
		URL           string `json:"url"`
		Authorization string `json:"authorization"`
	} `json:"registry"`
	Artifact            harborArtifact    `json:"artifact"`
	EnabledCapabilities []json.RawMessage `json:"enabled_capabilities"`
}

func (s *Server) harborScan(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != mimeScanRequest && mt != "application/json") {
			harborError(w, http.StatusBadRequest, "content type %q: want %s", ct, mimeScanRequest)
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.o.MaxBody)
	var req harborScanRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		harborError(w, http.StatusBadRequest, "scan request: %v", oneLine(err.Error()))
		return
	}
	u, err := url.Parse(req.Registry.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		harborError(w, http.StatusUnprocessableEntity, "registry.url %q: want http(s)://HOST", req.Registry.URL)
		return
	}
	a := req.Artifact
	if a.Repository == "" || !validDigest(a.Digest) {
		harborError(w, http.StatusUnprocessableEntity, "artifact: want a repository and a sha256 digest")
		return
	}
	if a.MimeType != "" && a.MimeType != mimeOCIImage && a.MimeType != mimeDockerV2 {
		harborError(w, http.StatusNotImplemented, "artifact mime_type %q: dockvet scans images (%s, %s)", a.MimeType, mimeOCIImage, mimeDockerV2)
		return
	}
	for _, c := range req.EnabledCapabilities {
		var cp struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(c, &cp) == nil && cp.Type != "" && cp.Type != "vulnerability" {
			harborError(w, http.StatusNotImplemented, "capability %q: dockvet produces vulnerability reports", cp.Type)
			return
		}
	}
	ref := u.Host + "/" + a.Repository + "@" + a.Digest
	j, err := s.f.SubmitWithAuthorization(r.Context(), ref, "harbor", a.Digest, req.Registry.Authorization)
	if err != nil {
		if errors.Is(err, fleet.ErrBadRef) {
			harborError(w, http.StatusUnprocessableEntity, "%v", err)
			return
		}
		s.o.Notice("harbor scan: %v", err)
		harborError(w, http.StatusInternalServerError, "internal error (see the server's log)")
		return
	}
	writeJSONType(w, http.StatusAccepted, mimeScanResponse, map[string]string{"id": strconv.FormatInt(j.ID, 10)})
}

type harborCVSS struct {
	ScoreV3 *float64 `json:"score_v3,omitempty"`
}

type harborVuln struct {
	ID               string         `json:"id"`
	Package          string         `json:"package"`
	Version          string         `json:"version"`
	FixVersion       string         `json:"fix_version,omitempty"`
	Severity         string         `json:"severity"`
	Description      string         `json:"description,omitempty"`
	Links            []string       `json:"links,omitempty"`
	PreferredCVSS    *harborCVSS    `json:"preferred_cvss,omitempty"`
	VendorAttributes map[string]any `json:"vendor_attributes,omitempty"`
}

type harborReport struct {
	GeneratedAt     time.Time      `json:"generated_at"`
	Artifact        harborArtifact `json:"artifact"`
	Scanner         harborScanner  `json:"scanner"`
	Severity        string         `json:"severity"`
	Vulnerabilities []harborVuln   `json:"vulnerabilities"`
}

// harborSeverity maps dockvet's severities onto Harbor's scale.
func harborSeverity(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "Critical"
	case finding.High:
		return "High"
	case finding.Medium:
		return "Medium"
	case finding.Low:
		return "Low"
	case finding.Info:
		return "Negligible"
	}
	return "Unknown"
}

// harborAccept picks the report type asked for (Harbor sends one).
func harborAccept(accept string) (string, bool) {
	if accept == "" || accept == "*/*" {
		return mimeSecurityVulns, true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/vnd.security.vulnerability.report":
			return mimeSecurityVulns, true
		case "application/vnd.scanner.adapter.vuln.report.harbor+json":
			return mimeHarborReport, true
		case mimeRawReport:
			return mimeRawReport, true
		case "*/*":
			return mimeSecurityVulns, true
		}
		_ = params
	}
	return "", false
}

func (s *Server) harborReport(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("sbom_media_type") != "" {
		harborError(w, http.StatusBadRequest, "dockvet's Harbor adapter produces vulnerability reports, not SBOMs")
		return
	}
	mt, ok := harborAccept(r.Header.Get("Accept"))
	if !ok {
		harborError(w, http.StatusNotImplemented, "Accept %q: dockvet produces %s, %s and %s", r.Header.Get("Accept"), mimeSecurityVulns, mimeHarborReport, mimeRawReport)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	j, err := s.f.Store().Job(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && j.Source != "harbor") {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err != nil {
		harborError(w, http.StatusInternalServerError, "internal error")
		return
	}
	switch j.State {
	case store.JobQueued, store.JobRunning:
		w.Header().Set("Refresh-After", "5")
		w.Header().Set("Location", r.URL.Path)
		w.WriteHeader(http.StatusFound)
		return
	case store.JobDead:
		harborError(w, http.StatusInternalServerError, "the scan failed: %s", j.LastError)
		return
	}
	rep, err := s.report(r.Context(), j.ImageDigest, j.Ref)
	if err != nil {
		s.o.Notice("harbor report %d: %v", id, err)
		harborError(w, http.StatusInternalServerError, "internal error (see the server's log)")
		return
	}
	if mt == mimeRawReport {
		w.Header().Set("Content-Type", mimeRawReport)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		return
	}
	out := harborReport{GeneratedAt: s.o.Now().UTC(), Scanner: s.scannerInfo(), Vulnerabilities: []harborVuln{}}
	if rf, err := fleet.ParseRef(j.Ref); err == nil {
		out.Artifact = harborArtifact{Repository: strings.TrimPrefix(rf.Repository, rf.Registry+"/"), Digest: j.WantDigest, MimeType: ""}
		if out.Artifact.Digest == "" {
			out.Artifact.Digest = j.ImageDigest
		}
	}
	worst := finding.Severity(0)
	for _, f := range rep.Findings {
		v := f.Vulnerability
		if v == nil {
			continue
		}
		worst = max(worst, f.Severity)
		hv := harborVuln{ID: v.ID, Package: v.Package, Version: v.Installed, FixVersion: v.Fixed, Severity: harborSeverity(f.Severity),
			Description: v.Summary, Links: f.References,
			VendorAttributes: map[string]any{"ecosystem": v.Ecosystem, "path": f.Location.Path}}
		if len(v.Aliases) > 0 {
			hv.VendorAttributes["aliases"] = v.Aliases
		}
		if v.PURL != "" {
			hv.VendorAttributes["purl"] = v.PURL
		}
		if v.CVSS > 0 {
			sc := v.CVSS
			hv.PreferredCVSS = &harborCVSS{ScoreV3: &sc}
		}
		out.Vulnerabilities = append(out.Vulnerabilities, hv)
	}
	out.Severity = harborSeverity(worst)
	writeJSONType(w, http.StatusOK, mt, out)
}

func (s *Server) distributionHook(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	env, err := fleet.ParseDistribution(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "notification larger than 4 MiB")
			return
		}
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	res, err := s.f.Notified(r.Context(), env)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
