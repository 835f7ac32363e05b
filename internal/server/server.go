// Package server is the HTTP face of the fleet service (internal/fleet):
// the REST API under /api/v1 (described by openapi.yaml, served at
// /api/v1/openapi.yaml), Harbor's pluggable scanner API under /harbor,
// registry push notifications, health and readiness, Prometheus metrics,
// and a server-rendered web page with no external resources.
//
// The service guards itself: API tokens with a read or write scope
// (compared in constant time, only their hashes kept), a rate limit per
// token (per address for anonymous clients on loopback), bounded request
// bodies, and no listening beyond loopback without tokens.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/dockvet/dockvet/internal/fleet"
)

// OpenAPI is the REST API's OpenAPI 3 document.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Options configure a Server.
type Options struct {
	Fleet *fleet.Service
	// Tokens are the API tokens; none means every request is allowed
	// (loopback only: see Listen).
	Tokens []Token
	// RateLimit is requests per second per client (default 50), Burst
	// the requests allowed at once (default 100).
	RateLimit float64
	Burst     int
	// MaxBody bounds a JSON request body (default 64 KiB); MaxImport an
	// advisory upload (default 512 MiB).
	MaxBody, MaxImport int64
	// ImportDir holds uploads while they are imported (default: the
	// system's temporary directory).
	ImportDir string
	// HarborPrefix is where Harbor's scanner API is mounted (default
	// /harbor: Harbor appends /api/v1/…).
	HarborPrefix string
	// Notice reports what an operator should know.
	Notice func(format string, args ...any)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Scope is what a token may do.
type Scope int

// Scopes: write includes read.
const (
	ScopeRead Scope = iota + 1
	ScopeWrite
)

// Token is one API token: its SHA-256, never the token itself.
type Token struct {
	Name  string
	Scope Scope
	Hash  [sha256.Size]byte
}

// NewToken makes a Token of a secret.
func NewToken(name string, scope Scope, secret string) Token {
	return Token{Name: name, Scope: scope, Hash: sha256.Sum256([]byte(secret))}
}

// ParseTokens reads a token file: one token per line, "SCOPE TOKEN [NAME]"
// (SCOPE read or write), # comments. Tokens shorter than 16 characters are
// refused: they can be guessed.
func ParseTokens(data []byte) ([]Token, error) {
	var out []Token
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("line %d: want SCOPE TOKEN [NAME]", i+1)
		}
		var sc Scope
		switch f[0] {
		case "read":
			sc = ScopeRead
		case "write":
			sc = ScopeWrite
		default:
			return nil, fmt.Errorf("line %d: scope %q: want read or write", i+1, f[0])
		}
		if len(f[1]) < 16 {
			return nil, fmt.Errorf("line %d: the token is shorter than 16 characters", i+1)
		}
		name := fmt.Sprintf("token-%d", i+1)
		if len(f) == 3 {
			name = f[2]
		}
		out = append(out, NewToken(name, sc, f[1]))
	}
	if len(out) == 0 {
		return nil, errors.New("no tokens")
	}
	return out, nil
}

// Server is the HTTP service.
type Server struct {
	o      Options
	f      *fleet.Service
	mux    *http.ServeMux
	limits sync.Map // client key -> *rate.Limiter
}

// New builds the server's handler.
func New(o Options) (*Server, error) {
	if o.Fleet == nil {
		return nil, errors.New("server: no fleet")
	}
	if o.RateLimit <= 0 {
		o.RateLimit = 50
	}
	if o.Burst <= 0 {
		o.Burst = 100
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 64 << 10
	}
	if o.MaxImport <= 0 {
		o.MaxImport = 512 << 20
	}
	if o.HarborPrefix == "" {
		o.HarborPrefix = "/harbor"
	}
	o.HarborPrefix = "/" + strings.Trim(o.HarborPrefix, "/")
	if o.Notice == nil {
		o.Notice = func(string, ...any) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, f: o.Fleet, mux: http.NewServeMux()}
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// route registers a handler with the scope it needs (0: none).
func (s *Server) route(pattern, name string, need Scope, h func(w http.ResponseWriter, r *http.Request)) {
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusWriter{ResponseWriter: w}
		defer func() {
			if m := s.f.Metrics(); m != nil {
				m.HTTP.WithLabelValues(name, fmt.Sprint(rec.code())).Inc()
			}
		}()
		client, ok := s.authorize(rec, r, need)
		if !ok {
			return
		}
		if !s.allow(client) {
			rec.Header().Set("Retry-After", "1")
			writeError(rec, http.StatusTooManyRequests, "rate limit exceeded; slow down")
			return
		}
		h(rec, r)
	}))
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(c int) {
	if w.status == 0 {
		w.status = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// authorize checks the request's token against the scope needed and
// returns the client's key for rate limiting. With no tokens configured
// every request is allowed (the server then listens on loopback only).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, need Scope) (string, bool) {
	secret := presented(r)
	if len(s.o.Tokens) == 0 {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		return "addr:" + host, true
	}
	if need == 0 {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		return "addr:" + host, true
	}
	if secret == "" {
		if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
			// A browser is sent to the sign-in form.
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return "", false
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="dockvet"`)
		writeError(w, http.StatusUnauthorized, "this server needs an API token (Authorization: Bearer TOKEN)")
		return "", false
	}
	h := sha256.Sum256([]byte(secret))
	var match *Token
	// Every token is compared, in constant time, whatever matched.
	for i := range s.o.Tokens {
		if subtle.ConstantTimeCompare(h[:], s.o.Tokens[i].Hash[:]) == 1 {
			match = &s.o.Tokens[i]
		}
	}
	if match == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="dockvet", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "unknown API token")
		return "", false
	}
	if match.Scope < need {
		writeError(w, http.StatusForbidden, "this token may only read")
		return "", false
	}
	return "token:" + match.Name, true
}

// presented is the token a request carries: a bearer token, Harbor's API
// key header, a basic-auth password, or the web page's cookie.
func presented(r *http.Request) string {
	if a := r.Header.Get("Authorization"); a != "" {
		if t, ok := strings.CutPrefix(a, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		if _, p, ok := r.BasicAuth(); ok {
			return p
		}
	}
	if k := r.Header.Get("X-ScannerAdapter-API-Key"); k != "" {
		return k
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if c, err := r.Cookie(cookieName); err == nil {
			return c.Value
		}
	}
	return ""
}

func (s *Server) allow(client string) bool {
	v, ok := s.limits.Load(client)
	if !ok {
		v, _ = s.limits.LoadOrStore(client, rate.NewLimiter(rate.Limit(s.o.RateLimit), s.o.Burst))
	}
	return v.(*rate.Limiter).Allow()
}

// apiError is the body of every error answer (Harbor's ErrorResponse shape).
type apiError struct {
	Error struct {
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	var e apiError
	e.Error.Message = fmt.Sprintf(format, args...)
	writeJSONType(w, code, "application/json", e)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	writeJSONType(w, code, "application/json", v)
}

func writeJSONType(w http.ResponseWriter, code int, ctype string, v any) {
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// decode reads a JSON request body of at most MaxBody bytes.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, s.o.MaxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body larger than %d bytes", s.o.MaxBody)
			return false
		}
		writeError(w, http.StatusBadRequest, "request body: %v", oneLine(err.Error()))
		return false
	}
	return true
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ListenOptions say where and how to listen.
type ListenOptions struct {
	Addr             string
	TLSCert, TLSKey  string
	TokensConfigured bool
}

// CheckListen refuses an address beyond loopback without API tokens: an
// open API there would let anyone on the network queue scans, read the
// fleet's findings and change its registries. It returns the address to
// listen on and a warning to print, if any.
func CheckListen(o ListenOptions) (string, string, error) {
	addr := o.Addr
	if !strings.Contains(addr, ":") {
		addr = "127.0.0.1:" + addr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("--addr %q: want HOST:PORT or PORT", o.Addr)
	}
	if host == "" {
		// ":8080" means every interface to net.Listen.
		host = "0.0.0.0"
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return "", "", errors.New("--tls-cert and --tls-key go together")
	}
	loop := host == "localhost"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loop = true
	}
	if loop {
		return addr, "", nil
	}
	if !o.TokensConfigured {
		return "", "", fmt.Errorf("--addr %s listens beyond loopback: give --token-file (and --tls-cert/--tls-key), or listen on 127.0.0.1", o.Addr)
	}
	if o.TLSCert == "" {
		return addr, "listening beyond loopback without TLS: API tokens cross the network in clear text (give --tls-cert and --tls-key)", nil
	}
	return addr, "", nil
}

// Serve serves h on l until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, l net.Listener, h http.Handler, cert, key string) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10}
	if cert != "" {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	errc := make(chan error, 1)
	go func() {
		if cert != "" {
			errc <- srv.ServeTLS(l, cert, key)
		} else {
			errc <- srv.Serve(l)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
