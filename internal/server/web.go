package server

import (
	"bytes"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/report"
)

// The web page is rendered on the server: no scripts, no external
// resources (the Content-Security-Policy says so to the browser too), one
// inline style sheet.
const contentPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// cookieName carries a token for the web page (set by /login; HttpOnly,
// SameSite=Strict, and honoured for GET requests only, so a page
// elsewhere cannot make a browser change anything).
const cookieName = "dockvet_token"

func (s *Server) webRoutes() {
	s.route("GET /{$}", "web.overview", ScopeRead, s.webOverview)
	s.route("GET /images/{digest}", "web.image", ScopeRead, s.webImage)
	s.route("GET /advisories", "web.advisories", ScopeRead, s.webAdvisories)
	s.route("GET /login", "web.login", 0, s.webLoginForm)
	s.route("POST /login", "web.login", 0, s.webLogin)
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"sev":   func(n int) string { return finding.Severity(n).String() },
	"upper": strings.ToUpper,
	"n": func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	},
	"short": func(d string) string {
		if len(d) > 19 {
			return d[:19]
		}
		return d
	},
	"add": func(a, b int) int { return a + b },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — dockvet server</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#222;max-width:80rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid #ddd}
.sev{font-weight:bold;font-size:.8rem;padding:.1rem .4rem;border-radius:3px;color:#fff}
.critical{background:#7b1fa2}.high{background:#c62828}.medium{background:#ef6c00}.low{background:#0277bd}.info{background:#757575}.none{background:#2e7d32}
.muted{color:#777}code{font-size:.9em}.bar{display:inline-block;height:.8rem;background:#90a4ae;vertical-align:middle}
nav a{margin-right:1rem}form{margin:1rem 0}input[type=text],input[type=password]{padding:.3rem;width:22rem}
</style>
</head>
<body>
<nav><a href="/">Fleet</a><a href="/advisories">Advisory search</a><a href="/api/v1/openapi.yaml">API</a></nav>
{{if eq .Page "overview"}}{{with .Overview}}
<h1>Fleet overview</h1>
<p>{{n .Images "image"}} indexed, {{n .Layers "distinct layer"}} read; advisory database {{.DB}}.</p>
<h2>Images by worst severity</h2>
<table><tr><th>Worst</th><th>Images</th><th></th></tr>
{{range .BySeverity}}<tr><td><span class="sev {{.Class}}">{{upper .Name}}</span></td><td>{{.Count}}</td><td><span class="bar" style="width:{{.Width}}rem"></span></td></tr>
{{end}}</table>
<h2>Images by practice</h2>
<table><tr><th>Practice</th><th>Images with findings</th></tr>
{{range .ByPractice}}<tr><td><a href="/?practice={{.Name}}">{{.Name}}</a></td><td>{{.Count}}</td></tr>
{{else}}<tr><td colspan="2" class="muted">No findings.</td></tr>
{{end}}</table>
<h2>Since the last database update</h2>
<p>{{if .Since.IsZero}}No advisory database yet.{{else}}Since {{when .Since}}: {{.New}} new and {{.Fixed}} fixed {{if eq (add .New .Fixed) 1}}vulnerability{{else}}vulnerabilities{{end}} in {{n .ChangedImages "image"}}.{{end}}</p>
{{if .Changes}}<table><tr><th>When</th><th>Change</th><th>Advisory</th><th>Package</th><th>Image</th></tr>
{{range .Changes}}<tr><td>{{when .At}}</td><td>{{.Kind}}</td><td><a href="/advisories?id={{.Advisory}}">{{.Advisory}}</a></td><td>{{.Package}} {{.Installed}}</td><td><a href="/images/{{.Digest}}">{{.Ref}}</a></td></tr>
{{end}}</table>{{end}}
<h2>Images{{if $.Filter}} ({{$.Filter}}){{end}}</h2>
{{template "images" .List}}
{{end}}{{end}}
{{if eq .Page "advisories"}}
<h1>Advisory search</h1>
<form method="get" action="/advisories"><label>Advisory ID or alias <input type="text" name="id" value="{{.Query}}" placeholder="CVE-2024-1234"></label> <button type="submit">Search</button></form>
{{if .Query}}<h2>Images {{.Query}} affects</h2>{{template "images" .List}}{{end}}
{{end}}
{{if eq .Page "login"}}
<h1>Sign in</h1>
{{if .Error}}<p><strong>{{.Error}}</strong></p>{{end}}
<form method="post" action="/login"><label>API token <input type="password" name="token" autocomplete="current-password"></label> <button type="submit">Sign in</button></form>
{{end}}
</body>
</html>
{{define "images"}}<table><tr><th>Image</th><th>Worst</th><th>Critical</th><th>High</th><th>Medium</th><th>Low</th><th>Platform</th><th>Scanned</th></tr>
{{range .}}<tr><td><a href="/images/{{.Digest}}">{{.Ref}}</a><br><code class="muted">{{short .Digest}}</code></td><td>{{if .Counts.Worst}}<span class="sev {{sev .Counts.Worst}}">{{upper (sev .Counts.Worst)}}</span>{{else}}<span class="sev none">NONE</span>{{end}}</td><td>{{.Counts.Critical}}</td><td>{{.Counts.High}}</td><td>{{.Counts.Medium}}</td><td>{{.Counts.Low}}</td><td>{{.Platform}}{{if .Distro}}<br><span class="muted">{{.Distro}}</span>{{end}}</td><td>{{when .ScannedAt}}</td></tr>
{{else}}<tr><td colspan="8" class="muted">No images.</td></tr>
{{end}}</table>{{end}}
`))

type countRow struct {
	Name, Class string
	Count       int
	Width       float64
}

type overview struct {
	Images, Layers int
	DB             string
	BySeverity     []countRow
	ByPractice     []countRow
	Since          time.Time
	New, Fixed     int
	ChangedImages  int
	Changes        []store.Change
	List           []store.Summary
}

type pageData struct {
	Title, Page, Query, Error, Filter string
	Overview                          *overview
	List                              []store.Summary
}

func (s *Server) renderPage(w http.ResponseWriter, code int, d pageData) {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, d); err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", contentPolicy)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func (s *Server) webOverview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, err := s.f.Store().Stats(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	ov := &overview{Images: st.Images, Layers: st.Layers}
	dbs, err := s.f.DBStatus()
	if err == nil {
		ov.DB = "empty"
		if len(dbs.Ecosystems) > 0 {
			var names []string
			for _, m := range dbs.Ecosystems {
				names = append(names, m.Ecosystem)
				if m.Updated.After(ov.Since) {
					ov.Since = m.Updated
				}
			}
			ov.DB = strings.Join(names, ", ") + ", updated " + ov.Since.UTC().Format("2006-01-02 15:04 UTC")
		}
	}
	most := 1
	for _, n := range st.Worst {
		most = max(most, n)
	}
	for sev := int(finding.Critical); sev >= 0; sev-- {
		name, class := "none", "none"
		if sev > 0 {
			name, class = finding.Severity(sev).String(), finding.Severity(sev).String()
		}
		n := st.Worst[sev]
		ov.BySeverity = append(ov.BySeverity, countRow{Name: name, Class: class, Count: n, Width: 20 * float64(n) / float64(most)})
	}
	pc, err := s.f.Store().PracticeCounts(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	for p, n := range pc {
		ov.ByPractice = append(ov.ByPractice, countRow{Name: p, Count: n})
	}
	slices.SortFunc(ov.ByPractice, func(a, b countRow) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Name, b.Name)
	})
	if !ov.Since.IsZero() {
		cs, err := s.f.Store().Changes(ctx, 0, ov.Since, 1000)
		if err != nil {
			s.fail(w, err)
			return
		}
		imgs := map[string]bool{}
		for _, c := range cs {
			imgs[c.Digest] = true
			if c.Kind == "new" {
				ov.New++
			} else {
				ov.Fixed++
			}
		}
		ov.ChangedImages = len(imgs)
		ov.Changes = cs[:min(len(cs), 50)]
	}
	f := store.Filter{Practice: r.URL.Query().Get("practice"), Limit: 200}
	filter := ""
	if f.Practice != "" {
		if !finding.Practice(f.Practice).Valid() {
			f.Practice = ""
		} else {
			filter = "practice " + f.Practice
		}
	}
	if ov.List, err = s.f.Store().Images(ctx, f); err != nil {
		s.fail(w, err)
		return
	}
	s.renderPage(w, http.StatusOK, pageData{Title: "Fleet", Page: "overview", Overview: ov, Filter: filter})
}

// webImage is the image's page: the HTML report `dockvet image --format
// html` writes.
func (s *Server) webImage(w http.ResponseWriter, r *http.Request) {
	d := r.PathValue("digest")
	if !validDigest(d) {
		writeError(w, http.StatusBadRequest, "digest %q: want sha256:<64 hex digits>", d)
		return
	}
	rep, err := s.report(r.Context(), d, "")
	if err != nil {
		s.fail(w, err)
		return
	}
	var buf bytes.Buffer
	if err := report.HTML(&buf, rep, report.Options{}); err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", contentPolicy)
	w.Write(buf.Bytes())
}

func (s *Server) webAdvisories(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	d := pageData{Title: "Advisory search", Page: "advisories", Query: id}
	if id != "" {
		if len(id) > 200 {
			writeError(w, http.StatusBadRequest, "advisory id too long")
			return
		}
		list, err := s.f.Store().Images(r.Context(), store.Filter{Advisory: id, Limit: 1000})
		if err != nil {
			s.fail(w, err)
			return
		}
		d.List = list
	}
	s.renderPage(w, http.StatusOK, d)
}

func (s *Server) webLoginForm(w http.ResponseWriter, r *http.Request) {
	s.renderPage(w, http.StatusOK, pageData{Title: "Sign in", Page: "login"})
}

func (s *Server) webLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "sign-in form: %v", oneLine(err.Error()))
		return
	}
	tok := r.PostForm.Get("token")
	probe := r.Clone(r.Context())
	probe.Header = http.Header{"Authorization": {"Bearer " + tok}}
	if len(s.o.Tokens) > 0 {
		rec := &discardWriter{h: http.Header{}}
		if _, ok := s.authorize(rec, probe, ScopeRead); !ok {
			s.renderPage(w, http.StatusUnauthorized, pageData{Title: "Sign in", Page: "login", Error: "Unknown token."})
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: 12 * 3600})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
