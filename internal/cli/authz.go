package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/authz"
	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/watch"
)

// AuthzOptions are `dockvet authz`'s flags and what it depends on.
type AuthzOptions struct {
	*Shared

	Listen        string
	Verify        bool
	EngineInspect bool
	OnFailure     string
	LogReads      bool
	MaxRequest    int64
	Webhook       string
	HeaderFile    string
	SpoolDir      string
	SpoolMax      int
	MetricsAddr   string

	// Engine connects to the Docker Engine that --engine-inspect asks
	// about containers and images.
	Engine func(ctx context.Context) (authz.Engine, func(), error)
	// Hangup delivers the reload signal (default: SIGHUP).
	Hangup <-chan os.Signal
	// Ready, when set, is called once the socket listens.
	Ready func(socket string)
}

// NewCmdAuthz makes `dockvet authz`. runF replaces the run in tests.
func NewCmdAuthz(f *Factory, runF func(context.Context, *AuthzOptions) error) *cobra.Command {
	o := &AuthzOptions{Shared: f.Shared, Engine: func(ctx context.Context) (authz.Engine, func(), error) {
		ep, err := f.Shared.endpoint()
		if err != nil {
			return nil, nil, err
		}
		c, err := ep.Connect(ctx)
		if err != nil {
			return nil, nil, err
		}
		return c, func() { c.Close() }, nil
	}}
	cmd := &cobra.Command{
		Use:   "authz",
		Short: "Serve the Docker Engine's authorization plugin: deny requests that break the enforce: policy",
		Long: "Serve the Docker Engine's authorization plugin protocol on a Unix socket (dockerd --authorization-plugin=dockvet\n" +
			"finds the default one). Container creates face the container rules (the same spec as Compose files and `docker\n" +
			"run` lines), execs the exec rules (--privileged, root), updates are checked for limits they remove, pulls and\n" +
			"creates face the trust policy; the enforce: section of .dockvet.yaml says what denies and what is excepted, or\n" +
			"mode: audit to allow everything and log what would have been denied. A request that cannot be judged is denied.\n" +
			"Every decision is one JSON line on standard output (or --output FILE, and --webhook). SIGHUP reloads the policy;\n" +
			"a policy that does not load leaves the previous one in force.",
		Args:        cobra.NoArgs,
		Annotations: map[string]string{noConfig: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if runF != nil {
				return runF(ctx, o)
			}
			return runAuthz(ctx, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Listen, "listen", "unix://"+authz.DefaultSocket, "the plugin's Unix socket (unix:///PATH.sock)")
	fl.BoolVar(&o.Verify, "verify", false, "check the signatures the trust policy (.dockvet.yaml trust:) requires, before creates and pulls (DV6501)")
	fl.BoolVar(&o.EngineInspect, "engine-inspect", false, "ask the Engine (--host, DOCKER_HOST, the Docker context) for the container of an exec or update and an image's registry digests")
	o.Shared.bindEngine(fl)
	fl.StringVar(&o.OnFailure, "on-failure", config.FailDeny, "while no policy is loaded: deny every request, or allow (audit roll-outs only)")
	fl.BoolVar(&o.LogReads, "log-reads", true, "log allowed GET and HEAD requests too")
	fl.Int64Var(&o.MaxRequest, "max-request", authz.DefaultMaxRequest, "largest message from the Engine, in bytes")
	fl.StringVar(&o.Webhook, "webhook", "", "POST each decision as JSON to this http(s) URL (spooled on disk while it is down)")
	fl.StringVar(&o.HeaderFile, "webhook-header-file", "", "read webhook headers from this file, one \"Name: value\" per line")
	fl.StringVar(&o.SpoolDir, "webhook-spool", "", "directory for decisions the webhook has not accepted yet (default: under the cache directory)")
	fl.IntVar(&o.SpoolMax, "webhook-spool-max", 10000, "most decisions the webhook spool holds")
	fl.StringVar(&o.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics; a port alone (\":9465\") listens on loopback")
	return cmd
}

func runAuthz(ctx context.Context, o *AuthzOptions) error {
	g := o.Shared
	if g.Format != "" && g.Format != "json" {
		return fail("--format %s does not fit this command: decisions are JSON lines", g.Format)
	}
	socket, err := authz.SocketPath(o.Listen)
	if err != nil {
		return fail("--listen %v", err)
	}
	switch o.OnFailure {
	case config.FailDeny, config.FailAllow:
	default:
		return fail("--on-failure: %q is neither deny nor allow", o.OnFailure)
	}
	if o.MaxRequest < 1<<20 {
		return fail("--max-request: at least 1048576 bytes (the Engine sends bodies up to 1 MiB)")
	}
	if o.Verify && g.Offline {
		return fail("--verify reads signatures from the registry, which --offline forbids")
	}
	if o.Webhook == "" && (o.HeaderFile != "" || o.SpoolDir != "") {
		return fail("--webhook-header-file and --webhook-spool need --webhook")
	}
	var mu sync.Mutex
	notice := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		g.notice(format, args...)
	}

	metrics := authz.NewMetrics()
	if o.MetricsAddr != "" {
		addr := o.MetricsAddr
		if strings.HasPrefix(addr, ":") {
			addr = "127.0.0.1" + addr
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fail("--metrics-addr %s: %v", o.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		notice("metrics at http://%s/metrics", ln.Addr())
	}

	sinks, err := o.sinks(notice, metrics)
	if err != nil {
		return err
	}
	disp := watch.NewDispatcher(watch.DispatcherOptions{Notice: notice}, sinks...)
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		disp.Close(dctx)
	}()

	var eng authz.Engine
	if o.EngineInspect {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		e, closeEngine, err := o.Engine(cctx)
		cancel()
		if err != nil {
			return fail("--engine-inspect: %v", err)
		}
		defer closeEngine()
		g.engineUsed()
		eng = e
	}

	d := authz.New(authz.Options{Load: o.loader(), Engine: eng, FailOpen: o.OnFailure == config.FailAllow,
		LogReads: o.LogReads, Log: authz.LogTo(disp), Notice: notice, Metrics: metrics, Now: g.Now})
	if err := d.LoadError(); err != nil {
		notice("policy not loaded, every request is %s until a SIGHUP loads one: %v", map[bool]string{true: "allowed", false: "denied"}[o.OnFailure == config.FailAllow], err)
	} else {
		p := d.Policy()
		notice("policy %s: mode %s", p.Source, p.Config.Enforce.Mode)
	}

	ln, err := authz.Listen(socket)
	if err != nil {
		return fail("--listen %s: %v", socket, unwrap(err))
	}
	hup := o.Hangup
	if hup == nil {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGHUP)
		defer signal.Stop(c)
		hup = c
	}
	sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		for {
			select {
			case <-sctx.Done():
				return
			case <-hup:
				if err := d.Reload(); err != nil {
					if d.Policy() != nil {
						notice("policy not reloaded, the previous one stays in force: %v", err)
					} else {
						notice("policy still not loaded, every request is denied: %v", err)
					}
					continue
				}
				p := d.Policy()
				notice("policy reloaded from %s: mode %s", p.Source, p.Config.Enforce.Mode)
			}
		}
	}()
	notice("serving the authorization plugin at unix://%s (SIGHUP reloads the policy)", socket)
	if o.Ready != nil {
		o.Ready(socket)
	}
	if err := authz.Serve(sctx, ln, &authz.Handler{Decider: d, MaxRequest: o.MaxRequest}); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail("%v", err)
	}
	notice("stopped")
	return nil
}

// loader reads the policy as the other commands read their configuration:
// --config, else .dockvet.yaml in the working directory when there is one,
// else the defaults; --ignore-file, else .dockvetignore when there is one.
func (o *AuthzOptions) loader() func() (*authz.Policy, error) {
	g := o.Shared
	var verifier func(*config.Config) (authz.Verifier, error)
	if o.Verify {
		verifier = func(cfg *config.Config) (authz.Verifier, error) {
			return newSignChecker(cfg, g.CacheDir, g.Offline, g.InsecureRegistry)
		}
	}
	exists := func(p string) bool {
		_, err := os.Stat(p)
		return !errors.Is(err, fs.ErrNotExist)
	}
	return func() (*authz.Policy, error) {
		cfgPath, ignPath := g.ConfigFile, g.IgnoreFile
		if cfgPath == "" && exists(config.DefaultFile) {
			cfgPath = config.DefaultFile
		}
		if ignPath == "" && exists(config.DefaultIgnoreFile) {
			ignPath = config.DefaultIgnoreFile
		}
		if cfgPath != "" {
			return authz.LoadPolicy(cfgPath, ignPath, verifier)
		}
		p := &authz.Policy{Config: config.Default(), Source: "defaults (no .dockvet.yaml)"}
		var err error
		if ignPath != "" {
			if p.Ignores, err = config.LoadIgnoreFile(ignPath, true); err != nil {
				return nil, err
			}
		}
		if verifier != nil {
			if p.Verifier, err = verifier(p.Config); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
}

// sinks are where decisions go: standard output or --output, and the
// webhook.
func (o *AuthzOptions) sinks(notice func(string, ...any), metrics *authz.Metrics) ([]watch.Sink, error) {
	g := o.Shared
	var sinks []watch.Sink
	if g.Output != "" && g.Output != "-" {
		s, err := watch.OpenFileSink(g.Output, watch.EncodeJSON)
		if err != nil {
			return nil, fail("--output %s: %v", g.Output, unwrap(err))
		}
		sinks = append(sinks, s)
	} else {
		sinks = append(sinks, watch.NewWriterSink("standard output", g.IO.Out, watch.EncodeJSON, false))
	}
	if o.Webhook == "" {
		return sinks, nil
	}
	if _, err := watch.CheckWebhookURL(o.Webhook); err != nil {
		return nil, fail("%v", err)
	}
	if g.Offline {
		return nil, fail("--webhook posts decisions over the network, which --offline forbids")
	}
	header := http.Header{}
	if o.HeaderFile != "" {
		h, err := watch.ReadHeaderFile(o.HeaderFile)
		if err != nil {
			return nil, fail("--webhook-header-file: %v", unwrap(err))
		}
		header = h
	}
	dir := o.SpoolDir
	if dir == "" {
		cache, err := g.cacheDir()
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(o.Webhook))
		dir = filepath.Join(cache, "authz-spool", hex.EncodeToString(sum[:8]))
	}
	wh, err := watch.NewWebhook(watch.WebhookOptions{URL: o.Webhook, Header: header, SpoolDir: dir, SpoolMax: o.SpoolMax,
		UserAgent: "dockvet/" + Version, Notice: notice})
	if err != nil {
		for _, s := range sinks {
			s.Close(context.Background())
		}
		return nil, fail("%v", err)
	}
	metrics.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "dockvet_authz", Name: "webhook_spool_depth",
		Help: "Decisions spooled on disk waiting for the webhook."}, func() float64 { return float64(wh.Spooled()) }))
	return append(sinks, wh), nil
}
