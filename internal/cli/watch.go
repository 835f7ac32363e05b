package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/engine"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/host"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/sign"
	"github.com/dockvet/dockvet/internal/watch"
)

var _ = register(newWatchCmd)

type watchOptions struct {
	once          bool
	verify        bool
	webhook       string
	headers       []string
	headerFile    string
	spoolDir      string
	spoolMax      int
	metricsAddr   string
	workers       int
	queueSize     int
	drainTimeout  time.Duration
	webhookTimout time.Duration
}

func newWatchCmd(g *globals) *cobra.Command {
	o := &watchOptions{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Follow the Docker Engine's events and audit containers, execs, pulls and reloads as they happen",
		Long: "Audit every running container, then follow the Engine's event stream until interrupted (SIGINT, SIGTERM):\n" +
			"containers as they are created, started and updated (the container rules), execs (--privileged, root), networks\n" +
			"connected to running containers, images pulled, loaded and tagged (trusted registries, mutable tags), plugins, and\n" +
			"daemon reloads that weaken the daemon's configuration. Each finding is reported once, as one line (--format table\n" +
			"or json) on standard output or appended to --output FILE, and POSTed to --webhook URL (spooled on disk while the\n" +
			"webhook is down). A lost connection is resumed from the last event read. On SIGINT/SIGTERM watch audits what is\n" +
			"queued, delivers what it can and exits 0. --once audits what runs and exits (for cron), with --fail-on.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.runWatch(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.BoolVar(&o.once, "once", false, "audit the running containers and exit (exit code as --fail-on says)")
	f.BoolVar(&o.verify, "verify", false, "check the signatures of images the trust policy (.dockvet.yaml trust:) requires signed (DV6501)")
	f.StringVar(&o.webhook, "webhook", "", "POST each finding as JSON to this http(s) URL")
	f.StringArrayVar(&o.headers, "webhook-header", nil, "add a header to every webhook POST, \"Name: value\" (repeatable; a token is better kept in --webhook-header-file)")
	f.StringVar(&o.headerFile, "webhook-header-file", "", "read webhook headers from this file, one \"Name: value\" per line")
	f.StringVar(&o.spoolDir, "webhook-spool", "", "directory for findings the webhook has not accepted yet (default: under the cache directory)")
	f.IntVar(&o.spoolMax, "webhook-spool-max", 10000, "most findings the webhook spool holds")
	f.DurationVar(&o.webhookTimout, "webhook-timeout", 10*time.Second, "time limit of one webhook POST")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics; a port alone (\":9464\") listens on loopback")
	f.IntVar(&o.workers, "workers", 16, "audits run concurrently (they mostly wait for the Engine)")
	f.IntVar(&o.queueSize, "queue-size", 4096, "audits waiting before events overflow the queue (each overflow is reported)")
	f.DurationVar(&o.drainTimeout, "drain-timeout", 10*time.Second, "on SIGINT/SIGTERM, time to audit what is queued and deliver to the webhook")
	return cmd
}

func (g *globals) runWatch(ctx context.Context, o *watchOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	format, err := g.checkFormat([]string{"table", "json"})
	if err != nil {
		return err
	}
	enc := watch.EncodeTable
	if format == "json" {
		enc = watch.EncodeJSON
	}
	if o.workers < 1 || o.queueSize < 1 || o.spoolMax < 1 {
		return fail("--workers, --queue-size and --webhook-spool-max must be at least 1")
	}
	var mu sync.Mutex
	notice := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		g.notice(format, args...)
	}
	header := http.Header{}
	if o.headerFile != "" {
		h, err := watch.ReadHeaderFile(o.headerFile)
		if err != nil {
			return fail("--webhook-header-file: %v", unwrap(err))
		}
		header = h
	}
	for _, line := range o.headers {
		if err := watch.AddHeader(header, line); err != nil {
			return fail("--webhook-header: %v", err)
		}
	}
	if o.webhook == "" && (len(header) > 0 || o.spoolDir != "") {
		return fail("--webhook-header, --webhook-header-file and --webhook-spool need --webhook")
	}
	if o.verify && g.offline {
		return fail("--verify reads signatures from the registry, which --offline forbids")
	}
	if o.webhook != "" {
		if _, err := watch.CheckWebhookURL(o.webhook); err != nil {
			return fail("%v", err)
		}
		if g.offline {
			return fail("--webhook posts findings over the network, which --offline forbids")
		}
	}

	var metrics *watch.Metrics
	var metricsLn net.Listener
	if o.metricsAddr != "" {
		addr := o.metricsAddr
		if strings.HasPrefix(addr, ":") {
			addr = "127.0.0.1" + addr // loopback unless an address is named
		}
		if metricsLn, err = net.Listen("tcp", addr); err != nil {
			return fail("--metrics-addr %s: %v", o.metricsAddr, err)
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
	cli, err := engine.Connect(cctx)
	cancel()
	if err != nil {
		return fail("%v", err)
	}
	defer cli.Close()

	var sinks []watch.Sink
	if g.output != "" && g.output != "-" {
		s, err := watch.OpenFileSink(g.output, enc)
		if err != nil {
			return fail("--output %s: %v", g.output, unwrap(err))
		}
		sinks = append(sinks, s)
	} else {
		sinks = append(sinks, watch.NewWriterSink("standard output", g.streams.Out, enc, g.color()))
	}
	if o.webhook != "" {
		dir := o.spoolDir
		if dir == "" {
			cache, err := g.CacheDir()
			if err != nil {
				return err
			}
			sum := sha256.Sum256([]byte(o.webhook))
			dir = filepath.Join(cache, "watch-spool", hex.EncodeToString(sum[:8]))
		}
		wh, err := watch.NewWebhook(watch.WebhookOptions{URL: o.webhook, Header: header, SpoolDir: dir, SpoolMax: o.spoolMax,
			Timeout: o.webhookTimout, UserAgent: "dockvet/" + Version, Metrics: metrics, Notice: notice})
		if err != nil {
			for _, s := range sinks {
				s.Close(ctx)
			}
			return fail("%v", err)
		}
		sinks = append(sinks, wh)
	}

	filter := g.findingFilter(notice)
	disp := watch.NewDispatcher(watch.DispatcherOptions{Metrics: metrics, Notice: notice, Filter: filter}, sinks...)
	opts := watch.Options{
		Policy: g.cfg.Policy(), Enabled: g.cfg.Enabled, Filter: filter,
		Workers: o.workers, QueueSize: o.queueSize, DrainTimeout: o.drainTimeout,
		Metrics: metrics, Notice: notice,
	}
	if o.verify {
		l, err := g.loader()
		if err != nil {
			return fail("trust policy: %v", err)
		}
		checker := &sign.Checker{Policy: g.cfg.Policy(), Remote: g.remote(), Loader: l, Enabled: g.cfg.Enabled}
		opts.Verify = func(ctx context.Context, c *live.Container, target finding.Target) ([]finding.Finding, error) {
			vctx, cancel := context.WithTimeout(ctx, verifyTimeout)
			defer cancel()
			return checker.Container(vctx, c, target)
		}
	}
	if h := cli.DaemonHost(); strings.HasPrefix(h, "unix://") || strings.HasPrefix(h, "npipe://") {
		// The daemon's files are this machine's only when the Engine is.
		opts.Snapshot = func(ctx context.Context) (*host.Snapshot, error) {
			return host.Collect(ctx, host.Options{Root: "/", Engine: cli, Now: g.now()})
		}
	} else {
		notice("the Engine at %s is not local: daemon reloads are not compared", h)
	}
	w := watch.New(cli, opts)

	sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.once {
		err = w.Once(sctx, disp.Write)
	} else {
		notice("watching the Docker Engine at %s (SIGINT or SIGTERM to stop)", cli.DaemonHost())
		err = w.Run(sctx, disp.Write)
	}
	stop()
	dctx, dcancel := context.WithTimeout(context.Background(), o.drainTimeout)
	cerr := disp.Close(dctx)
	dcancel()
	if err != nil {
		return fail("%v", err)
	}
	if cerr != nil {
		return fail("%v", cerr)
	}
	if !o.once {
		notice("stopped")
		return nil
	}
	worst, _ := disp.Worst()
	if g.failLevel != 0 && worst >= g.failLevel {
		return &exitError{code: ExitFindings}
	}
	return nil
}

// findingFilter applies the project's configuration and the severity flags
// to one finding at a time, as finish does to a report; an expired ignore
// is announced once.
func (g *globals) findingFilter(notice func(string, ...any)) func(finding.Finding) (finding.Finding, bool) {
	flt := &config.Filter{Config: g.cfg, IgnoreFile: g.ignores, Severities: g.severities, Now: g.now}
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
