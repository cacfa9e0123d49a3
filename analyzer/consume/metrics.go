package consume

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/parser"
)

// Metrics are the consumer's counters, exposed in the Prometheus text
// format by Handler (no client library: a handful of counters do not need
// one).
type Metrics struct {
	Messages     atomic.Uint64 // records fetched
	StoredLines  atomic.Uint64 // records whose rows ClickHouse accepted
	Unparsed     atomic.Uint64 // records stored in unparsed
	Batches      atomic.Uint64 // batches stored
	WriteRetries atomic.Uint64 // failed ClickHouse writes that were retried
	Commits      atomic.Uint64 // successful offset commits
	CommitErrors atomic.Uint64 // failed offset commits
	FetchErrors  atomic.Uint64 // failed fetches that were retried
	Evidence     atomic.Uint64 // evidence records produced for the correlator
	BatchAge     atomic.Int64  // ns from a batch's first record to its store, last batch

	requests, proxyErrors, upstreamEvents atomic.Uint64
}

func (m *Metrics) countKind(k parser.Kind) {
	switch k {
	case parser.KindRequest:
		m.requests.Add(1)
	case parser.KindProxyError:
		m.proxyErrors.Add(1)
	case parser.KindUpstreamEvent:
		m.upstreamEvents.Add(1)
	}
}

// Handler serves /metrics and /healthz.
func Handler(m *Metrics, store *clickhouse.Store, lag func() int64, healthy func() bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		m.write(w, store, lag)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if healthy != nil && !healthy() {
			http.Error(w, "retrying: ClickHouse or Kafka unavailable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	return mux
}

func (m *Metrics) write(w io.Writer, store *clickhouse.Store, lag func() int64) {
	counter := func(name, help string, v uint64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	counter("culprit_analyzer_records_total", "Records fetched from Kafka.", m.Messages.Load())
	counter("culprit_analyzer_records_stored_total", "Records whose rows ClickHouse accepted.", m.StoredLines.Load())
	fmt.Fprintf(w, "# HELP culprit_analyzer_events_total Parsed events by kind.\n# TYPE culprit_analyzer_events_total counter\n")
	fmt.Fprintf(w, "culprit_analyzer_events_total{kind=\"request\"} %d\n", m.requests.Load())
	fmt.Fprintf(w, "culprit_analyzer_events_total{kind=\"proxy_error\"} %d\n", m.proxyErrors.Load())
	fmt.Fprintf(w, "culprit_analyzer_events_total{kind=\"upstream_event\"} %d\n", m.upstreamEvents.Load())
	fmt.Fprintf(w, "culprit_analyzer_events_total{kind=\"unparsed\"} %d\n", m.Unparsed.Load())
	counter("culprit_analyzer_batches_total", "Batches stored in ClickHouse.", m.Batches.Load())
	counter("culprit_analyzer_write_retries_total", "ClickHouse writes that failed and were retried.", m.WriteRetries.Load())
	counter("culprit_analyzer_commits_total", "Kafka offset commits.", m.Commits.Load())
	counter("culprit_analyzer_commit_errors_total", "Kafka offset commits that failed.", m.CommitErrors.Load())
	counter("culprit_analyzer_fetch_errors_total", "Kafka fetches that failed and were retried.", m.FetchErrors.Load())
	counter("culprit_analyzer_evidence_total", "Evidence records produced onto the events topic.", m.Evidence.Load())
	fmt.Fprintf(w, "# HELP culprit_analyzer_batch_age_seconds Time from a batch's first record to its store (last batch).\n"+
		"# TYPE culprit_analyzer_batch_age_seconds gauge\nculprit_analyzer_batch_age_seconds %g\n",
		time.Duration(m.BatchAge.Load()).Seconds())
	if lag != nil {
		fmt.Fprintf(w, "# HELP culprit_analyzer_lag_records Records behind the end of the assigned partitions.\n"+
			"# TYPE culprit_analyzer_lag_records gauge\nculprit_analyzer_lag_records %d\n", lag())
	}
	if store == nil {
		return
	}
	st := store.Stats()
	counter("culprit_clickhouse_inserts_total", "INSERTs ClickHouse accepted (one per table per batch).", st.Inserts.Load())
	counter("culprit_clickhouse_rows_total", "Rows ClickHouse accepted.", st.Rows.Load())
	counter("culprit_clickhouse_insert_failures_total", "INSERTs that failed.", st.Failures.Load())
	fmt.Fprintf(w, "# HELP culprit_clickhouse_insert_seconds_total Time spent in accepted INSERTs.\n"+
		"# TYPE culprit_clickhouse_insert_seconds_total counter\nculprit_clickhouse_insert_seconds_total %g\n", st.Seconds.Load())
	buckets, sum, count := st.RowsPerInsert()
	fmt.Fprintf(w, "# HELP culprit_clickhouse_rows_per_insert Rows per accepted INSERT.\n# TYPE culprit_clickhouse_rows_per_insert histogram\n")
	for i, le := range clickhouse.RowsPerInsertBuckets {
		fmt.Fprintf(w, "culprit_clickhouse_rows_per_insert_bucket{le=\"%g\"} %d\n", le, buckets[i])
	}
	fmt.Fprintf(w, "culprit_clickhouse_rows_per_insert_bucket{le=\"+Inf\"} %d\n", count)
	fmt.Fprintf(w, "culprit_clickhouse_rows_per_insert_sum %g\nculprit_clickhouse_rows_per_insert_count %d\n", sum, count)
}
