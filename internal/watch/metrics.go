package watch

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dockvet/dockvet/internal/finding"
)

// Metrics are watch's Prometheus metrics. A nil *Metrics counts nothing,
// so every caller can use it unconditionally.
type Metrics struct {
	reg          *prometheus.Registry
	events       *prometheus.CounterVec
	findings     *prometheus.CounterVec
	reconnects   prometheus.Counter
	connected    prometheus.Gauge
	queueDepth   prometheus.Gauge
	queueLimit   prometheus.Gauge
	overflows    prometheus.Counter
	gaps         prometheus.Counter
	stalls       prometheus.Counter
	reconciles   *prometheus.CounterVec
	caught       prometheus.Counter
	unaudited    prometheus.Counter
	latency      prometheus.Histogram
	sinkErrors   *prometheus.CounterVec
	webhook      *prometheus.CounterVec
	spoolDepth   prometheus.Gauge
	spoolDropped prometheus.Counter
}

// NewMetrics registers watch's metrics, with the Go runtime's and the
// process's own (CPU seconds, resident memory), in a registry of their
// own.
func NewMetrics() *Metrics {
	const ns = "dockvet_watch"
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "events_total",
		Help: "Engine events read, by type and action (without the text some actions carry)."}, []string{"type", "action"})
	m.findings = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "findings_total",
		Help: "Findings reported, by severity and practice."}, []string{"severity", "practice"})
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "reconnects_total",
		Help: "Times the event stream was lost and opened again."})
	m.connected = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "connected",
		Help: "1 while the event stream is open."})
	m.queueDepth = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "queue_depth",
		Help: "Audits waiting for a worker."})
	m.queueLimit = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "queue_limit",
		Help: "Audits the queue holds before events overflow it."})
	m.overflows = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "queue_overflows_total",
		Help: "Events not queued because the queue was full (each one is also reported as a finding)."})
	m.gaps = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "event_gaps_total",
		Help: "Reconnections after which the Engine no longer held every missed event."})
	m.stalls = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "stalls_total",
		Help: "Times watch fell behind its event stream (an event read late, or its clock jumped: stopped, suspended, starved of CPU)."})
	m.reconciles = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reconciles_total",
		Help: "Listings of the containers to catch up on missed events, by what asked for them (start, timer, stall, reconnect, gap, overflow)."}, []string{"cause"})
	m.caught = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "caught_up_containers_total",
		Help: "Containers a listing found that watch had not seen in their current state (their events were missed), audited then."})
	m.unaudited = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "unaudited_events_total",
		Help: "Events whose subject could not be inspected (removed first, or an Engine error)."})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "event_to_sink_seconds",
		Help:    "Time from an event (the Engine's timestamp) to its finding being handed to the sinks.",
		Buckets: []float64{.005, .01, .025, .05, .1, .2, .5, 1, 2.5, 5, 10}})
	m.sinkErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sink_errors_total",
		Help: "Records a sink failed to write, by sink."}, []string{"sink"})
	m.webhook = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "webhook_deliveries_total",
		Help: "Webhook POSTs, by result (delivered, retried, rejected)."}, []string{"result"})
	m.spoolDepth = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "webhook_spool_depth",
		Help: "Findings spooled on disk waiting for the webhook."})
	m.spoolDropped = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "webhook_spool_dropped_total",
		Help: "Findings not spooled for the webhook because the spool was full."})
	m.reg.MustRegister(m.events, m.findings, m.reconnects, m.connected, m.queueDepth, m.queueLimit, m.overflows,
		m.gaps, m.stalls, m.reconciles, m.caught, m.unaudited, m.latency, m.sinkErrors, m.webhook, m.spoolDepth, m.spoolDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every severity and practice exists from the start, so a query over
	// them does not see a series appear with its first finding.
	for _, s := range finding.Severities {
		for _, p := range finding.Practices {
			m.findings.WithLabelValues(s.String(), string(p))
		}
	}
	for _, r := range []string{"delivered", "retried", "rejected"} {
		m.webhook.WithLabelValues(r)
	}
	for _, c := range causes {
		m.reconciles.WithLabelValues(c)
	}
	return m
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *Metrics) event(e *Event) {
	if m != nil {
		m.events.WithLabelValues(e.Type, e.Action).Inc()
	}
}

func (m *Metrics) finding(f *finding.Finding) {
	if m != nil {
		m.findings.WithLabelValues(f.Severity.String(), string(f.Practice)).Inc()
	}
}

func (m *Metrics) reconnect() {
	if m != nil {
		m.reconnects.Inc()
	}
}

func (m *Metrics) setConnected(up bool) {
	if m != nil {
		v := 0.0
		if up {
			v = 1
		}
		m.connected.Set(v)
	}
}

func (m *Metrics) depth(n int) {
	if m != nil {
		m.queueDepth.Set(float64(n))
	}
}

func (m *Metrics) limit(n int) {
	if m != nil {
		m.queueLimit.Set(float64(n))
	}
}

func (m *Metrics) overflow() {
	if m != nil {
		m.overflows.Inc()
	}
}

func (m *Metrics) gap() {
	if m != nil {
		m.gaps.Inc()
	}
}

func (m *Metrics) stall() {
	if m != nil {
		m.stalls.Inc()
	}
}

func (m *Metrics) reconciled(cause string) {
	if m != nil {
		m.reconciles.WithLabelValues(cause).Inc()
	}
}

func (m *Metrics) caughtUp(n int) {
	if m != nil && n > 0 {
		m.caught.Add(float64(n))
	}
}

func (m *Metrics) notAudited() {
	if m != nil {
		m.unaudited.Inc()
	}
}

func (m *Metrics) delivered(ev Event) {
	if m != nil && !ev.Time.IsZero() && ev.Type != typeWatch && ev.Action != actionRunning && ev.Action != actionReconcile {
		m.latency.Observe(time.Since(ev.Time).Seconds())
	}
}

func (m *Metrics) sinkError(sink string) {
	if m != nil {
		m.sinkErrors.WithLabelValues(sink).Inc()
	}
}

func (m *Metrics) webhookResult(result string) {
	if m != nil {
		m.webhook.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) spool(depth int) {
	if m != nil {
		m.spoolDepth.Set(float64(depth))
	}
}

func (m *Metrics) spoolDrop() {
	if m != nil {
		m.spoolDropped.Inc()
	}
}
