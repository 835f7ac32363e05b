package authz

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the plugin's Prometheus metrics. A nil *Metrics counts
// nothing.
type Metrics struct {
	reg       *prometheus.Registry
	decisions *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	reloads   *prometheus.CounterVec
	loaded    prometheus.Gauge
}

// NewMetrics registers the plugin's metrics, with the Go runtime's and the
// process's, in a registry of their own.
func NewMetrics() *Metrics {
	const ns = "dockvet_authz"
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "decisions_total",
		Help: "Requests decided, by kind of request and verdict (allow, deny, would-deny)."}, []string{"kind", "verdict"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "decision_seconds",
		Help:    "Time to decide a request, by kind of request.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .05, .25, 1, 5}}, []string{"kind"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reloads_total",
		Help: "Policy reloads (SIGHUP), by result (ok, failed: the previous policy stays)."}, []string{"result"})
	m.loaded = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "policy_loaded",
		Help: "1 while a policy is in force, 0 while every request is denied because none loaded."})
	m.reg.MustRegister(m.decisions, m.latency, m.reloads, m.loaded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{"ok", "failed"} {
		m.reloads.WithLabelValues(r)
	}
	return m
}

// Register adds collectors of the process's other parts (the webhook's
// spool depth).
func (m *Metrics) Register(cs ...prometheus.Collector) {
	if m != nil {
		m.reg.MustRegister(cs...)
	}
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *Metrics) decided(d *Decision, took interface{ Seconds() float64 }) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(string(d.Request.Kind), d.Verdict).Inc()
	m.latency.WithLabelValues(string(d.Request.Kind)).Observe(took.Seconds())
}

func (m *Metrics) reloaded(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
	} else {
		m.reloads.WithLabelValues("failed").Inc()
	}
}

func (m *Metrics) policyLoaded(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.loaded.Set(1)
	} else {
		m.loaded.Set(0)
	}
}
