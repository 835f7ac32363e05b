package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dockvet/dockvet/internal/safefile"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/fleet"
	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/server"
	"github.com/dockvet/dockvet/internal/watch"
)

// ServerOptions are `dockvet server`'s flags and dependencies.
type ServerOptions struct {
	*Shared

	db            string
	addr          string
	workers       int
	tokenFile     string
	tlsCert       string
	tlsKey        string
	webhooks      []string
	headerFile    string
	spoolDir      string
	dbPoll        time.Duration
	crawl         bool
	lease         time.Duration
	maxAttempts   int
	rateLimit     float64
	maxBody       int64
	maxImport     int64
	ignoreUnfixed bool
	noSecrets     bool

	// listening, when set, is told the address the server listens on
	// (tests listen on port 0).
	listening func(addr string)
}

// NewCmdServer runs the fleet service.
func NewCmdServer(f *Factory, runF func(*ServerOptions) error) *cobra.Command {
	o := &ServerOptions{Shared: f.Shared}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the fleet service: scan images once, re-match them when advisories change, serve the API and a web page",
		Long: "A long-running service for a fleet of images. Images are scanned by workers sharing a queue in the database\n" +
			"(--db: sqlite:PATH, the default under the cache directory, or postgres://… to scale out with 'dockvet worker'),\n" +
			"each image and layer once; a repeat request for a stored digest is answered from the store. When the advisory\n" +
			"database under the cache directory changes ('dockvet db update|import --cache-dir DIR', or POST /api/v1/db/import),\n" +
			"every stored inventory is matched again without reading any image, and the changes go to GET /api/v1/changes and\n" +
			"--webhook. Sources: POST /api/v1/scans, registries crawled on a schedule (POST /api/v1/registries), registry push\n" +
			"notifications (POST /api/v1/hooks/distribution), and Harbor's pluggable scanner API under /harbor.\n" +
			"The REST API is described at /api/v1/openapi.yaml; /healthz, /readyz, /metrics; the web page is at /.\n" +
			"Listening beyond loopback needs --token-file (lines \"read|write TOKEN [NAME]\"), and should have --tls-cert/--tls-key.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runServer(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.db, "db", "", "the fleet database: sqlite:PATH or postgres://USER@HOST/DB (default: sqlite under the cache directory)")
	fl.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address, HOST:PORT (a port alone listens on loopback)")
	fl.IntVar(&o.workers, "workers", 2, "scan workers in this process (0: leave scanning to 'dockvet worker' processes)")
	fl.StringVar(&o.tokenFile, "token-file", "", "API tokens, one \"read|write TOKEN [NAME]\" per line; required to listen beyond loopback")
	fl.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fl.StringVar(&o.tlsKey, "tls-key", "", "the key of --tls-cert (PEM)")
	fl.StringArrayVar(&o.webhooks, "webhook", nil, "POST each change (a vulnerability new in or fixed in a stored image) as JSON to this URL (repeatable)")
	fl.StringVar(&o.headerFile, "webhook-header-file", "", "webhook headers, one \"Name: value\" per line (tokens)")
	fl.StringVar(&o.spoolDir, "webhook-spool", "", "directory for changes the webhooks have not accepted yet (default: under the cache directory)")
	fl.DurationVar(&o.dbPoll, "db-poll", 30*time.Second, "how often to look for a changed advisory database")
	fl.BoolVar(&o.crawl, "crawl", true, "crawl the registered registries on their schedules")
	fl.DurationVar(&o.lease, "lease", 2*time.Minute, "how long a worker holds a job without renewing (renewed every third of it)")
	fl.IntVar(&o.maxAttempts, "max-attempts", 3, "attempts before a failing job is dead")
	fl.Float64Var(&o.rateLimit, "rate-limit", 50, "requests per second per API token (per address without tokens)")
	fl.Int64Var(&o.maxBody, "max-body", 64<<10, "largest JSON request body, in bytes")
	fl.Int64Var(&o.maxImport, "max-import-size", 512<<20, "largest advisory upload (POST /api/v1/db/import), in bytes")
	fl.BoolVar(&o.ignoreUnfixed, "ignore-unfixed", false, "leave out vulnerabilities that no released version fixes yet")
	fl.BoolVar(&o.noSecrets, "no-secrets", false, "do not scan the layers' files for secrets")
	return cmd
}

// WorkerOptions are `dockvet worker`'s flags.
type WorkerOptions struct {
	*Shared
	db          string
	workers     int
	lease       time.Duration
	maxAttempts int
	noSecrets   bool
}

// NewCmdWorker runs scan workers for a server's database.
func NewCmdWorker(f *Factory, runF func(*WorkerOptions) error) *cobra.Command {
	o := &WorkerOptions{Shared: f.Shared}
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run scan workers for a 'dockvet server' database, on any machine",
		Long: "Claim scan jobs from the fleet database's queue and run them, until interrupted: each job is leased and the lease\n" +
			"renewed while it runs, so a worker that dies loses nothing (its lease expires and another worker takes the job).\n" +
			"Images are read with this machine's registry credentials; the server matches them against its advisory database.\n" +
			"One line per finished job on standard error, unless --quiet.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runWorker(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.db, "db", "", "the fleet database the server uses: postgres://USER@HOST/DB (or sqlite:PATH on the same machine)")
	fl.IntVar(&o.workers, "workers", 1, "jobs run at once")
	fl.DurationVar(&o.lease, "lease", 2*time.Minute, "how long a job is held without renewing (renewed every third of it)")
	fl.IntVar(&o.maxAttempts, "max-attempts", 3, "attempts before a failing job is dead")
	fl.BoolVar(&o.noSecrets, "no-secrets", false, "do not scan the layers' files for secrets")
	return cmd
}

// fleetStore opens --db (default: SQLite under the cache directory).
func fleetStore(ctx context.Context, g *Shared, dsn string) (*store.Store, string, error) {
	if dsn == "" {
		dir, err := g.cacheDir()
		if err != nil {
			return nil, "", err
		}
		dsn = "sqlite:" + filepath.Join(dir, "server", "fleet.db")
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, "", fail("--db %s: %v", store.Redact(dsn), err)
	}
	return st, dsn, nil
}

func (g *Shared) fleetService(st *store.Store, o fleet.Options, noSecrets bool) (*fleet.Service, error) {
	dir, err := g.cacheDir()
	if err != nil {
		return nil, err
	}
	o.Store, o.VulnDir = st, dir
	o.Scanner = &fleet.ImageScanner{Config: g.cfg, NoSecrets: noSecrets, Now: g.Now}
	o.Reporting.Config, o.Reporting.IgnoreFile, o.Reporting.Severities = g.cfg, g.ignores, g.severities
	o.Reporting.Version, o.Reporting.Now = Version, g.Now
	// As `dockvet image`'s default --db-max-age: the same report for the same image.
	o.Reporting.DBMaxAge = defaultDBMaxAge
	o.Insecure = g.InsecureRegistry
	if o.Notice == nil {
		o.Notice = g.notice
	}
	svc, err := fleet.New(o)
	if err != nil {
		return nil, fail("%v", err)
	}
	return svc, nil
}

func runServer(ctx context.Context, o *ServerOptions) error {
	g := o.Shared
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var tokens []server.Token
	if o.tokenFile != "" {
		data, err := safefile.ReadFile(o.tokenFile, safefile.MaxConfig)
		if err != nil {
			return fail("--token-file %s: %s", o.tokenFile, safefile.Message(err))
		}
		if tokens, err = server.ParseTokens(data); err != nil {
			return fail("--token-file %s: %v", o.tokenFile, err)
		}
	}
	addr, warning, err := server.CheckListen(server.ListenOptions{Addr: o.addr, TLSCert: o.tlsCert, TLSKey: o.tlsKey, TokensConfigured: len(tokens) > 0})
	if err != nil {
		return fail("%v", err)
	}
	if o.workers < 0 {
		return fail("--workers %d: want 0 or more", o.workers)
	}
	cache, err := g.cacheDir()
	if err != nil {
		return err
	}
	var sinks []watch.Sink
	if len(o.webhooks) > 0 {
		var header http.Header
		if o.headerFile != "" {
			if header, err = watch.ReadHeaderFile(o.headerFile); err != nil {
				return fail("--webhook-header-file: %v", err)
			}
		}
		spool := o.spoolDir
		if spool == "" {
			spool = filepath.Join(cache, "server", "webhook-spool")
		}
		for i, u := range o.webhooks {
			dir := spool
			if len(o.webhooks) > 1 {
				dir = filepath.Join(spool, fmt.Sprint(i))
			}
			wh, err := watch.NewWebhook(watch.WebhookOptions{URL: u, Header: header, SpoolDir: dir, UserAgent: "dockvet/" + Version, Notice: g.notice})
			if err != nil {
				return fail("%v", err)
			}
			sinks = append(sinks, wh)
		}
	}
	st, dsn, err := fleetStore(ctx, g, o.db)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := g.fleetService(st, fleet.Options{MatchOnScan: true, Lease: o.lease, MaxAttempts: o.maxAttempts, Sinks: sinks}, o.noSecrets)
	if err != nil {
		return err
	}
	svc.Reporting().IgnoreUnfixed = o.ignoreUnfixed
	srv, err := server.New(server.Options{Fleet: svc, Tokens: tokens, RateLimit: o.rateLimit, MaxBody: o.maxBody, MaxImport: o.maxImport,
		ImportDir: cache, Notice: g.notice, Now: g.Now})
	if err != nil {
		return fail("%v", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fail("--addr %s: %v", o.addr, err)
	}
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	if warning != "" {
		g.notice("%s", warning)
	}
	g.notice("server: listening on %s://%s (database %s, %d workers)", scheme, l.Addr(), store.Redact(dsn), o.workers)
	if o.listening != nil {
		o.listening(l.Addr().String())
	}
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	for range o.workers {
		name := fleet.WorkerName()
		run(func() { svc.RunWorker(ctx, name) })
	}
	run(func() { svc.WatchDB(ctx, o.dbPoll) })
	run(func() { svc.Notify(ctx, 10*time.Second) })
	if o.crawl {
		owner := fleet.WorkerName()
		run(func() { svc.Crawl(ctx, owner, 10*time.Second) })
	}
	err = server.Serve(ctx, l, srv, o.tlsCert, o.tlsKey)
	stop()
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail("server: %v", err)
	}
	return nil
}

func runWorker(ctx context.Context, o *WorkerOptions) error {
	g := o.Shared
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.db == "" {
		return fail("worker needs --db, the server's database (postgres://USER@HOST/DB)")
	}
	if o.workers < 1 {
		return fail("--workers %d: want 1 or more", o.workers)
	}
	st, dsn, err := fleetStore(ctx, g, o.db)
	if err != nil {
		return err
	}
	defer st.Close()
	var mu sync.Mutex
	logJob := func(j *store.Job, worker, result string, took time.Duration) {
		if g.Quiet {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		line := fmt.Sprintf("job %d %s: %s in %.2fs by %s", j.ID, j.Ref, result, took.Seconds(), worker)
		if result != "done" && j.LastError != "" {
			line += " (" + j.LastError + ")"
		}
		fmt.Fprintln(g.IO.Err, line)
	}
	svc, err := g.fleetService(st, fleet.Options{Lease: o.lease, MaxAttempts: o.maxAttempts, JobLog: logJob}, o.noSecrets)
	if err != nil {
		return err
	}
	g.notice("worker: %d workers on %s", o.workers, store.Redact(dsn))
	var wg sync.WaitGroup
	for range o.workers {
		name := fleet.WorkerName()
		wg.Add(1)
		go func() { defer wg.Done(); svc.RunWorker(ctx, name) }()
	}
	wg.Wait()
	return nil
}

// remoteImage is `dockvet image --server URL REF`: the server scans (or
// answers from its store) and the report is rendered here, with the same
// formats and exit codes as a local scan.
func (g *Shared) remoteImage(ctx context.Context, base, ref string, timeout time.Duration) error {
	if _, err := g.checkFormat(findingFormats); err != nil {
		return err
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail("--server %q: want http(s)://HOST[:PORT]", base)
	}
	if g.Offline {
		return fail("--server: --offline forbids the network")
	}
	token := os.Getenv("DOCKVET_SERVER_TOKEN")
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Minute}
	call := func(method, path string, body any, out any) (int, error) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, rd)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		if err != nil {
			return 0, err
		}
		if resp.StatusCode >= 400 {
			var e struct {
				Error struct{ Message string } `json:"error"`
			}
			if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
				return resp.StatusCode, fmt.Errorf("%s", e.Error.Message)
			}
			return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				return resp.StatusCode, fmt.Errorf("reading the server's answer: %v", err)
			}
		}
		return resp.StatusCode, nil
	}
	var job store.Job
	if _, err := call(http.MethodPost, "/api/v1/scans", map[string]string{"image": ref}, &job); err != nil {
		return fail("%s: --server %s: %v", ref, u.Host, err)
	}
	for job.State == store.JobQueued || job.State == store.JobRunning {
		select {
		case <-ctx.Done():
			return fail("%s: --server %s: the scan did not finish in %s (job %d is %s)", ref, u.Host, timeout, job.ID, job.State)
		case <-time.After(500 * time.Millisecond):
		}
		if _, err := call(http.MethodGet, fmt.Sprintf("/api/v1/scans/%d", job.ID), nil, &job); err != nil {
			return fail("%s: --server %s: %v", ref, u.Host, err)
		}
	}
	if job.State == store.JobDead {
		return fail("%s: --server %s: the scan failed: %s", ref, u.Host, job.LastError)
	}
	var r finding.Report
	if _, err := call(http.MethodGet, fmt.Sprintf("/api/v1/scans/%d/report?format=json", job.ID), nil, &r); err != nil {
		return fail("%s: --server %s: %v", ref, u.Host, err)
	}
	return g.finish(&r, findingFormats)
}
