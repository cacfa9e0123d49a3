package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// Table names: a public contract (docs/clickhouse.md).
const (
	TableRequests         = "requests"
	TableProxyErrors      = "proxy_errors"
	TableUpstreamEvents   = "upstream_events"
	TableUnparsed         = "unparsed"
	TableIncidents        = "incidents"
	TableIncidentEvidence = "incident_evidence"
)

// PermanentError is an insert the server will refuse however often it is
// retried (a schema that does not match, a missing table): the caller must
// stop, without committing, until a person fixes it.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether retrying err cannot help.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Server error codes that say the statement itself is wrong. Everything
// else (network, timeouts, too many parts, memory limits, a server shutting
// down) is retried.
var permanentCodes = map[int32]bool{
	16:  true, // NO_SUCH_COLUMN_IN_TABLE
	47:  true, // UNKNOWN_IDENTIFIER
	53:  true, // TYPE_MISMATCH
	60:  true, // UNKNOWN_TABLE
	62:  true, // SYNTAX_ERROR
	70:  true, // CANNOT_CONVERT_TYPE
	81:  true, // UNKNOWN_DATABASE
	164: true, // READONLY
	192: true, // UNKNOWN_USER
	193: true, // WRONG_PASSWORD
	497: true, // ACCESS_DENIED
	516: true, // AUTHENTICATION_FAILED
}

// classify wraps err as permanent when the server said the statement is
// wrong; the driver's own conversion errors are ours and permanent too.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ex *proto.Exception
	if errors.As(err, &ex) {
		if permanentCodes[ex.Code] {
			return &PermanentError{err}
		}
		return err
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	}
	if strings.Contains(err.Error(), "converting") || strings.Contains(err.Error(), "clickhouse [Append") {
		return &PermanentError{err}
	}
	return err
}

// RowsPerInsertBuckets are the upper bounds of the rows-per-insert histogram.
var RowsPerInsertBuckets = []float64{1, 10, 100, 1000, 5000, 10000, 50000, 100000, 500000}

// Stats are the Store's counters, for /metrics.
type Stats struct {
	Inserts  atomic.Uint64 // successful INSERTs (one per table per Write)
	Rows     atomic.Uint64 // rows in successful INSERTs
	Failures atomic.Uint64 // failed INSERTs
	Seconds  atomicFloat   // time spent in successful INSERTs

	mu      sync.Mutex
	buckets []uint64 // cumulative counts, one per RowsPerInsertBuckets entry
	sum     float64
	count   uint64
}

func (s *Stats) observe(rows int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets == nil {
		s.buckets = make([]uint64, len(RowsPerInsertBuckets))
	}
	for i, le := range RowsPerInsertBuckets {
		if float64(rows) <= le {
			s.buckets[i]++
		}
	}
	s.sum += float64(rows)
	s.count++
}

// RowsPerInsert returns the histogram: cumulative counts per bucket, the sum
// of rows and the number of inserts.
func (s *Stats) RowsPerInsert() (buckets []uint64, sum float64, count uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buckets = append([]uint64(nil), s.buckets...)
	if buckets == nil {
		buckets = make([]uint64, len(RowsPerInsertBuckets))
	}
	return buckets, s.sum, s.count
}

type atomicFloat struct {
	mu sync.Mutex
	v  float64
}

func (f *atomicFloat) Add(d float64) { f.mu.Lock(); f.v += d; f.mu.Unlock() }

// Load returns the current value.
func (f *atomicFloat) Load() float64 { f.mu.Lock(); defer f.mu.Unlock(); return f.v }

// Store writes batches into one database. Safe for concurrent use.
type Store struct {
	conn     driver.Conn
	database string
	stats    Stats
}

// NewStore writes into database through conn.
func NewStore(conn driver.Conn, database string) *Store {
	return &Store{conn: conn, database: database}
}

// Stats returns the live counters.
func (s *Store) Stats() *Stats { return &s.stats }

// Write inserts every table of b, one INSERT each. When it fails, some
// tables may already hold their rows: writing the same batch again is safe,
// because every table deduplicates by line identity and the rollup counts
// distinct lines. A *PermanentError means retrying will not help.
func (s *Store) Write(ctx context.Context, b *Batch) error {
	type part struct {
		table string
		names []string
		cols  []any
		rows  int
	}
	parts := []part{
		{TableRequests, requestColumns, b.req.columns(), len(b.req.time)},
		{TableProxyErrors, proxyErrorColumns, b.perr.columns(), len(b.perr.time)},
		{TableUpstreamEvents, upstreamColumns, b.up.columns(), len(b.up.time)},
		{TableUnparsed, unparsedColumns, b.unp.columns(), len(b.unp.time)},
	}
	for _, p := range parts {
		if p.rows == 0 {
			continue
		}
		if err := s.insert(ctx, p.table, p.names, p.cols, p.rows); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) insert(ctx context.Context, table string, names []string, cols []any, rows int) (err error) {
	start := time.Now()
	defer func() {
		if err != nil {
			s.stats.Failures.Add(1)
			err = classify(fmt.Errorf("insert %d rows into %s.%s: %w", rows, s.database, table, err))
			return
		}
		s.stats.Inserts.Add(1)
		s.stats.Rows.Add(uint64(rows))
		s.stats.Seconds.Add(time.Since(start).Seconds())
		s.stats.observe(rows)
	}()
	q := "INSERT INTO " + s.database + "." + table + " (" + strings.Join(names, ", ") + ")"
	batch, err := s.conn.PrepareBatch(ctx, q)
	if err != nil {
		return err
	}
	defer batch.Close()
	for i, c := range cols {
		if err := batch.Column(i).Append(c); err != nil {
			return fmt.Errorf("column %s: %w", names[i], err)
		}
	}
	return batch.Send()
}
