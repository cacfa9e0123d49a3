package ingest

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the shipper's Prometheus metrics and health. They outlive a
// Shipper so that a SIGHUP reload keeps the counters.
type Metrics struct {
	reg *prometheus.Registry

	linesRead, bytesRead, linesAcked, bytesAcked *prometheus.CounterVec
	truncatedLines, truncations                  *prometheus.CounterVec
	invalid, sourceErrors                        *prometheus.CounterVec
	kafkaErrors, kafkaBatches, checkpointErrors  prometheus.Counter

	current  atomic.Pointer[Shipper]
	lastOK   atomic.Int64 // unix nanos of the last acknowledged batch
	lastFail atomic.Int64 // unix nanos of the last failed write
	started  time.Time
}

// NewMetrics registers the metrics on a private registry (nil) or reg.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	src := []string{"source"}
	cv := func(name, help string, labels []string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "culprit_ship", Name: name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	c := func(name, help string) prometheus.Counter {
		x := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "culprit_ship", Name: name, Help: help})
		reg.MustRegister(x)
		return x
	}
	m := &Metrics{reg: reg, started: time.Now(),
		linesRead:        cv("lines_read_total", "Lines (records) read from the source.", src),
		bytesRead:        cv("bytes_read_total", "Bytes read from the source, newlines included.", src),
		linesAcked:       cv("lines_acked_total", "Lines acknowledged by Kafka.", src),
		bytesAcked:       cv("bytes_acked_total", "Bytes acknowledged by Kafka.", src),
		truncatedLines:   cv("lines_truncated_total", "Lines longer than tail.max_line_bytes, shipped cut.", src),
		truncations:      cv("file_truncations_total", "Files whose content was replaced under the same inode (truncate, copytruncate).", src),
		invalid:          cv("lines_invalid_total", "Lines that are not UTF-8 text (reason: invalid_utf8, binary), shipped raw.", []string{"source", "reason"}),
		sourceErrors:     cv("source_errors_total", "Problems reading a source (reason: permission, not_regular, open, read, truncated, ...).", []string{"source", "reason"}),
		kafkaErrors:      c("kafka_errors_total", "Failed Kafka writes (each is retried)."),
		kafkaBatches:     c("kafka_batches_total", "Batches acknowledged by Kafka."),
		checkpointErrors: c("checkpoint_errors_total", "Failed registry writes."),
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(&liveCollector{m: m,
		lag: prometheus.NewDesc("culprit_ship_lag_bytes", "Bytes of a followed file not yet acknowledged by Kafka.",
			[]string{"source", "path", "file_id"}, nil),
		age:   prometheus.NewDesc("culprit_ship_checkpoint_age_seconds", "Seconds since the registry was last written.", nil, nil),
		files: prometheus.NewDesc("culprit_ship_files_open", "Files being followed.", nil, nil),
	})
	return m
}

func (m *Metrics) kafkaOK() {
	m.kafkaBatches.Inc()
	m.lastOK.Store(time.Now().UnixNano())
}

func (m *Metrics) kafkaFailed() {
	m.kafkaErrors.Inc()
	m.lastFail.Store(time.Now().UnixNano())
}

// liveCollector reports values read from the running shipper at scrape time.
type liveCollector struct {
	m               *Metrics
	lag, age, files *prometheus.Desc
}

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.lag; ch <- c.age; ch <- c.files }

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	sh := c.m.current.Load()
	if sh == nil {
		return
	}
	sh.mu.Lock()
	files := len(sh.active)
	type lag struct {
		src, path, id string
		v             int64
	}
	var lags []lag
	for cur := range sh.cursors {
		if cur.noSave {
			continue
		}
		lags = append(lags, lag{cur.src.name, cur.path, cur.idStr, max(0, cur.size.Load()-cur.acked.Load())})
	}
	sh.mu.Unlock()
	for _, l := range lags {
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(l.v), l.src, l.path, l.id)
	}
	ch <- prometheus.MustNewConstMetric(c.files, prometheus.GaugeValue, float64(files))
	if t := sh.reg.SavedAt(); !t.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, time.Since(t).Seconds())
	}
}

// unhealthyAfter is how long Kafka may fail without a success before
// /healthz reports the shipper unhealthy.
const unhealthyAfter = 30 * time.Second

// Handler serves /metrics and /healthz.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ok, fail := m.lastOK.Load(), m.lastFail.Load()
		status := map[string]any{"status": "ok", "running": m.current.Load() != nil}
		code := http.StatusOK
		if fail > ok && time.Since(time.Unix(0, max(ok, m.started.UnixNano()))) > unhealthyAfter {
			status["status"] = "kafka failing"
			status["last_kafka_error"] = time.Unix(0, fail).UTC().Format(time.RFC3339)
			code = http.StatusServiceUnavailable
		}
		if ok > 0 {
			status["last_kafka_ack"] = time.Unix(0, ok).UTC().Format(time.RFC3339)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(status)
	})
	return mux
}
