package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/host"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/watch"
)

// WatchOptions are those of `dockvet watch`.
type WatchOptions struct {
	*Shared
	Engine         func(context.Context) (EngineClient, error)
	Once           bool
	Verify         bool
	Webhook        string
	Headers        []string
	HeaderFile     string
	SpoolDir       string
	SpoolMax       int
	MetricsAddr    string
	Workers        int
	QueueSize      int
	DrainTimeout   time.Duration
	WebhookTimeout time.Duration
	ReconcileEvery time.Duration
}

// NewCmdWatch follows the Engine's events and audits what they are about.
func NewCmdWatch(f *Factory, runF func(*WatchOptions) error) *cobra.Command {
	opts := &WatchOptions{Shared: f.Shared, Engine: f.Engine}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Follow the Docker Engine's events and audit containers, execs, pulls and reloads as they happen",
		Long: "Audit every running container, then follow the Engine's event stream until interrupted (SIGINT, SIGTERM):\n" +
			"containers as they are created, started and updated (the container rules), execs (--privileged, root), networks\n" +
			"connected to running containers, images pulled, loaded and tagged (trusted registries, mutable tags), plugins, and\n" +
			"daemon reloads that weaken the daemon's configuration. Each finding is reported once, as one line (--format table\n" +
			"or json) on standard output or appended to --output FILE, and POSTed to --webhook URL (spooled on disk while the\n" +
			"webhook is down). A lost connection is resumed from the last event read. The Engine drops events for a reader that\n" +
			"falls behind, so whenever events may have been missed (watch was stopped or starved of CPU, reconnected, or its\n" +
			"queue overflowed) and every --reconcile-every, watch lists the containers and audits those it has not seen in\n" +
			"their current state, and says so (DV5040). On SIGINT/SIGTERM watch audits what is queued, delivers what it can\n" +
			"and exits 0. --once audits what runs and exits (for cron), with --fail-on.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runWatch(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	opts.bindEngine(fl)
	fl.BoolVar(&opts.Once, "once", false, "audit the running containers and exit (exit code as --fail-on says)")
	fl.BoolVar(&opts.Verify, "verify", false, "check the signatures of images the trust policy (.dockvet.yaml trust:) requires signed (DV6501)")
	fl.StringVar(&opts.Webhook, "webhook", "", "POST each finding as JSON to this http(s) URL")
	fl.StringArrayVar(&opts.Headers, "webhook-header", nil, "add a header to every webhook POST, \"Name: value\" (repeatable; a token is better kept in --webhook-header-file)")
	fl.StringVar(&opts.HeaderFile, "webhook-header-file", "", "read webhook headers from this file, one \"Name: value\" per line")
	fl.StringVar(&opts.SpoolDir, "webhook-spool", "", "directory for findings the webhook has not accepted yet (default: under the cache directory)")
	fl.IntVar(&opts.SpoolMax, "webhook-spool-max", 10000, "most findings the webhook spool holds")
	fl.DurationVar(&opts.WebhookTimeout, "webhook-timeout", 10*time.Second, "time limit of one webhook POST")
	fl.StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics; a port alone (\":9464\") listens on loopback")
	fl.IntVar(&opts.Workers, "workers", 16, "audits run concurrently (they mostly wait for the Engine)")
	fl.IntVar(&opts.QueueSize, "queue-size", 4096, "audits waiting before events overflow the queue (each overflow is reported)")
	fl.DurationVar(&opts.DrainTimeout, "drain-timeout", 10*time.Second, "on SIGINT/SIGTERM, time to audit what is queued and deliver to the webhook")
	fl.DurationVar(&opts.ReconcileEvery, "reconcile-every", time.Minute, "list the containers this often and audit those whose events were missed (at least 1s)")
	return cmd
}

func runWatch(ctx context.Context, opts *WatchOptions) error {
	format, err := opts.checkFormat([]string{"table", "json"})
	if err != nil {
		return err
	}
	enc := watch.EncodeTable
	if format == "json" {
		enc = watch.EncodeJSON
	}
	if opts.Workers < 1 || opts.QueueSize < 1 || opts.SpoolMax < 1 {
		return fail("--workers, --queue-size and --webhook-spool-max must be at least 1")
	}
	if opts.ReconcileEvery < time.Second {
		return fail("--reconcile-every must be at least 1s")
	}
	var mu sync.Mutex
	notice := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		opts.notice(format, args...)
	}
	header := http.Header{}
	if opts.HeaderFile != "" {
		h, err := watch.ReadHeaderFile(opts.HeaderFile)
		if err != nil {
			return fail("--webhook-header-file: %v", unwrap(err))
		}
		header = h
	}
	for _, line := range opts.Headers {
		if err := watch.AddHeader(header, line); err != nil {
			return fail("--webhook-header: %v", err)
		}
	}
	if opts.Webhook == "" && (len(header) > 0 || opts.SpoolDir != "") {
		return fail("--webhook-header, --webhook-header-file and --webhook-spool need --webhook")
	}
	if opts.Verify && opts.Offline {
		return fail("--verify reads signatures from the registry, which --offline forbids")
	}
	if opts.Webhook != "" {
		if _, err := watch.CheckWebhookURL(opts.Webhook); err != nil {
			return fail("%v", err)
		}
		if opts.Offline {
			return fail("--webhook posts findings over the network, which --offline forbids")
		}
	}

	var metrics *watch.Metrics
	var metricsLn net.Listener
	if opts.MetricsAddr != "" {
		addr := opts.MetricsAddr
		if strings.HasPrefix(addr, ":") {
			addr = "127.0.0.1" + addr // loopback unless an address is named
		}
		if metricsLn, err = net.Listen("tcp", addr); err != nil {
			return fail("--metrics-addr %s: %v", opts.MetricsAddr, err)
		}
		metrics = watch.NewMetrics()
	}
	closeMetrics := func() {}
	if metricsLn != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(metricsLn)
		notice("metrics at http://%s/metrics", metricsLn.Addr())
		closeMetrics = func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		}
	}
	defer closeMetrics()

	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	cli, err := opts.Engine(cctx)
	cancel()
	if err != nil {
		return fail("%v", err)
	}
	defer cli.Close()
	opts.engineUsed()

	var sinks []watch.Sink
	if opts.Output != "" && opts.Output != "-" {
		s, err := watch.OpenFileSink(opts.Output, enc)
		if err != nil {
			return fail("--output %s: %v", opts.Output, unwrap(err))
		}
		sinks = append(sinks, s)
	} else {
		sinks = append(sinks, watch.NewWriterSink("standard output", opts.IO.Out, enc, opts.color()))
	}
	if opts.Webhook != "" {
		dir := opts.SpoolDir
		if dir == "" {
			cache, err := opts.cacheDir()
			if err != nil {
				return err
			}
			sum := sha256.Sum256([]byte(opts.Webhook))
			dir = filepath.Join(cache, "watch-spool", hex.EncodeToString(sum[:8]))
		}
		wh, err := watch.NewWebhook(watch.WebhookOptions{URL: opts.Webhook, Header: header, SpoolDir: dir, SpoolMax: opts.SpoolMax,
			Timeout: opts.WebhookTimeout, UserAgent: "dockvet/" + Version, Metrics: metrics, Notice: notice})
		if err != nil {
			for _, s := range sinks {
				s.Close(ctx)
			}
			return fail("%v", err)
		}
		sinks = append(sinks, wh)
	}

	filter := findingFilter(opts.Shared, notice)
	disp := watch.NewDispatcher(watch.DispatcherOptions{Metrics: metrics, Notice: notice, Filter: filter}, sinks...)
	wo := watch.Options{
		Policy: opts.cfg.Policy(), Enabled: opts.cfg.Enabled, Filter: filter,
		Workers: opts.Workers, QueueSize: opts.QueueSize, DrainTimeout: opts.DrainTimeout,
		ReconcileEvery: opts.ReconcileEvery, Metrics: metrics, Notice: notice,
	}
	if opts.Verify {
		checker, err := opts.signChecker()
		if err != nil {
			return fail("trust policy: %v", err)
		}
		wo.Verify = func(ctx context.Context, c *live.Container, target finding.Target) ([]finding.Finding, error) {
			vctx, cancel := context.WithTimeout(ctx, verifyTimeout)
			defer cancel()
			return checker.Container(vctx, c, target)
		}
	}
	if h := cli.DaemonHost(); strings.HasPrefix(h, "unix://") || strings.HasPrefix(h, "npipe://") {
		// The daemon's files are this machine's only when the Engine is.
		wo.Snapshot = func(ctx context.Context) (*host.Snapshot, error) {
			return host.Collect(ctx, host.Options{Root: "/", Engine: cli, Now: opts.Now()})
		}
	} else {
		notice("the Engine at %s is not local: daemon reloads are not compared", h)
	}
	w := watch.New(cli, wo)

	sctx, stop := stoppable(ctx)
	defer stop()
	if opts.Once {
		err = w.Once(sctx, disp.Write)
	} else {
		notice("watching the Docker Engine at %s (SIGINT or SIGTERM to stop)", cli.DaemonHost())
		err = w.Run(sctx, disp.Write)
	}
	stop()
	dctx, dcancel := context.WithTimeout(context.Background(), opts.DrainTimeout)
	cerr := disp.Close(dctx)
	dcancel()
	if err != nil {
		return fail("%v", err)
	}
	if cerr != nil {
		return fail("%v", cerr)
	}
	if !opts.Once {
		notice("stopped")
		return nil
	}
	worst, _ := disp.Worst()
	if opts.failLevel != 0 && worst >= opts.failLevel {
		return &exitError{code: ExitFindings}
	}
	return nil
}

// findingFilter applies the project's configuration and the severity flags
// to one finding at a time, as finish does to a report; an expired ignore
// is announced once.
func findingFilter(s *Shared, notice func(string, ...any)) func(finding.Finding) (finding.Finding, bool) {
	flt := &config.Filter{Config: s.cfg, IgnoreFile: s.ignores, Severities: s.severities, Now: s.Now}
	var said sync.Map
	return func(f finding.Finding) (finding.Finding, bool) {
		r := &finding.Report{Findings: []finding.Finding{f}}
		for _, n := range flt.Apply(r) {
			if _, dup := said.LoadOrStore(n, true); !dup {
				notice("%s", n)
			}
		}
		if len(r.Findings) == 0 {
			return f, false
		}
		return r.Findings[0], true
	}
}
