package clickhouse

import (
	"bytes"
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

	"github.com/ClickHouse/ch-go/proto"
	chcol "github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	chproto "github.com/ClickHouse/clickhouse-go/v2/lib/proto"
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
	var ex *chproto.Exception
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
	encoders sync.Pool // of *encoder
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
	for _, t := range []struct {
		table string
		cols  []col
	}{
		{TableRequests, b.req.cols()},
		{TableProxyErrors, b.perr.cols()},
		{TableUpstreamEvents, b.up.cols()},
		{TableUnparsed, b.unp.cols()},
	} {
		if rows := t.cols[0].data.Rows(); rows > 0 {
			err := s.record(ctx, t.table, rows, func() error { return s.insertNative(ctx, t.table, t.cols, rows) })
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// record runs one INSERT of rows into table and counts it.
func (s *Store) record(ctx context.Context, table string, rows int, insert func() error) error {
	start := time.Now()
	if err := insert(); err != nil {
		s.stats.Failures.Add(1)
		return classify(fmt.Errorf("insert %d rows into %s.%s: %w", rows, s.database, table, err))
	}
	s.stats.Inserts.Add(1)
	s.stats.Rows.Add(uint64(rows))
	s.stats.Seconds.Add(time.Since(start).Seconds())
	s.stats.observe(rows)
	return nil
}

// insertNative hands the driver each column already in ClickHouse's native
// format: the driver decodes a whole column at once, where appending values
// costs it reflection and an allocation per value.
func (s *Store) insertNative(ctx context.Context, table string, cols []col, rows int) error {
	batch, err := s.conn.PrepareBatch(ctx, insertQuery(s.database, table, names(cols)))
	if err != nil {
		return err
	}
	defer batch.Close()
	dst := batch.Columns()
	if len(dst) != len(cols) {
		return &PermanentError{fmt.Errorf("server expects %d columns, culprit writes %d", len(dst), len(cols))}
	}
	enc, _ := s.encoders.Get().(*encoder)
	if enc == nil {
		enc = newEncoder()
	}
	defer s.encoders.Put(enc)
	for i, c := range cols {
		if c.data.Rows() != rows {
			return fmt.Errorf("column %s holds %d rows, want %d (a culprit bug)", c.name, c.data.Rows(), rows)
		}
		if got := string(dst[i].Type()); baseType(got) != c.typ {
			// The table was altered (String for LowCardinality, Nullable):
			// the driver converts values one by one, slowly but correctly.
			if _, err := dst[i].Append(c.values()); err != nil {
				return &PermanentError{fmt.Errorf("column %s is %s in the table, culprit writes %s: %w", c.name, got, c.typ, err)}
			}
			continue
		}
		if err := enc.load(dst[i], c.data, rows); err != nil {
			return &PermanentError{fmt.Errorf("column %s: %w", c.name, err)}
		}
	}
	return batch.Send()
}

// encoder moves a column into the driver's through one buffer, which
// holds one column at a time (a whole batch would double its memory).
type encoder struct {
	buf proto.Buffer
	src bytes.Reader
	r   *proto.Reader
}

func newEncoder() *encoder {
	e := &encoder{}
	e.r = proto.NewReader(&e.src)
	return e
}

// load encodes c and decodes it into d. The decoder must consume exactly
// what the encoder wrote, or the next column would start out of place.
func (e *encoder) load(d chcol.Interface, c column, rows int) error {
	e.buf.Reset()
	c.EncodeColumn(&e.buf)
	e.src.Reset(e.buf.Buf)
	if err := d.Decode(e.r, rows); err != nil {
		return err
	}
	if _, err := e.r.ReadByte(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("the driver did not read the whole encoding of %d rows", rows)
	}
	return nil
}

// baseType is a column type without what does not change its encoding:
// DateTime's zone.
func baseType(t string) string {
	if strings.HasPrefix(t, "DateTime(") {
		return tDateTime
	}
	return t
}

func insertQuery(db, table string, names []string) string {
	return "INSERT INTO " + db + "." + table + " (" + strings.Join(names, ", ") + ")"
}

// insert appends values column by column through the driver: for the small
// tables (incidents, links), where its per-value cost does not matter.
func (s *Store) insert(ctx context.Context, table string, names []string, cols []any, rows int) error {
	return s.record(ctx, table, rows, func() error {
		batch, err := s.conn.PrepareBatch(ctx, insertQuery(s.database, table, names))
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
	})
}
