package fleet

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dockvet/dockvet/internal/fleet/store"
)

// Metrics are the fleet's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	reg        *prometheus.Registry
	jobs       *prometheus.CounterVec
	jobSeconds *prometheus.HistogramVec
	scans      *prometheus.CounterVec
	fromStore  prometheus.Counter
	layers     *prometheus.CounterVec
	rematchSec prometheus.Histogram
	rematchedN prometheus.Counter
	changes    *prometheus.CounterVec
	// HTTP is for the API's own request counters.
	HTTP *prometheus.CounterVec
}

const ns = "dockvet_server"

// NewMetrics registers the fleet's metrics; the queue's depth is read from
// st when scraped (the queue is shared by every process on the database).
func NewMetrics(st *store.Store) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "jobs_total",
		Help: "Scan jobs this process ran, by outcome (done, retry, dead, released, lease-lost)."}, []string{"result"})
	m.jobSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "job_seconds",
		Help: "Time from claiming a scan job to its outcome.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}, []string{"result"})
	m.scans = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "scans_submitted_total",
		Help: "Scans asked for, by source (api, harbor, registry, hook) and whether the store answered at once."}, []string{"source", "stored"})
	m.fromStore = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "jobs_answered_from_store_total",
		Help: "Jobs whose reference named a digest already indexed: nothing was read."})
	m.layers = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "layers_total",
		Help: "Layers of scanned images: read from the registry, or reused from the store's per-layer results."}, []string{"how"})
	m.rematchSec = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "rematch_seconds",
		Help: "Time to re-match stored inventories after an advisory database change.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)})
	m.rematchedN = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "rematched_images_total",
		Help: "Stored inventories matched again without reading their images."})
	m.changes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "changes_total",
		Help: "Vulnerabilities that appeared in (new) or left (fixed) stored images on re-matching."}, []string{"kind"})
	m.HTTP = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "http_requests_total",
		Help: "API requests, by route and status code."}, []string{"route", "code"})
	m.reg.MustRegister(m.jobs, m.jobSeconds, m.scans, m.fromStore, m.layers, m.rematchSec, m.rematchedN, m.changes, m.HTTP,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if st != nil {
		m.reg.MustRegister(&queueCollector{st: st, desc: prometheus.NewDesc(ns+"_queue_jobs",
			"Scan jobs in the shared queue, by state.", []string{"state"}, nil)})
	}
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *Metrics) jobDone(result string, d time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(result).Inc()
	m.jobSeconds.WithLabelValues(result).Observe(d.Seconds())
}

func (m *Metrics) submitted(source string, stored bool) {
	if m == nil {
		return
	}
	s := "false"
	if stored {
		s = "true"
	}
	m.scans.WithLabelValues(source, s).Inc()
}

func (m *Metrics) answeredFromStore() {
	if m != nil {
		m.fromStore.Inc()
	}
}

func (m *Metrics) layer(reused bool) {
	if m == nil {
		return
	}
	how := "read"
	if reused {
		how = "reused"
	}
	m.layers.WithLabelValues(how).Inc()
}

func (m *Metrics) rematched(r *RematchResult) {
	if m == nil {
		return
	}
	m.rematchSec.Observe(r.Duration.Seconds())
	m.rematchedN.Add(float64(r.Images))
	m.changes.WithLabelValues("new").Add(float64(r.New))
	m.changes.WithLabelValues("fixed").Add(float64(r.Fixed))
}

// queueCollector reads the queue's depth from the database at scrape time.
type queueCollector struct {
	st   *store.Store
	desc *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.st.QueueCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}
