package consume

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/internal/record"
	"github.com/culprit-dev/culprit/parser"
)

// Fetcher is the part of a kafka-go consumer-group Reader the Consumer uses.
type Fetcher interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Producer re-produces evidence onto the events topic; a kafka.Writer.
type Producer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Writer stores a batch; *clickhouse.Store is the real one.
type Writer interface {
	Write(ctx context.Context, b *clickhouse.Batch) error
}

var (
	_ Fetcher = (*kafka.Reader)(nil)
	_ Writer  = (*clickhouse.Store)(nil)
)

// Consumer turns fetched records into stored events. Run it once.
type Consumer struct {
	fetch   Fetcher
	store   Writer
	cfg     Config
	log     *slog.Logger
	metrics *Metrics
	parsers map[parserKey]*parser.Parser
	// ShutdownTimeout bounds the final flush after ctx is cancelled.
	ShutdownTimeout time.Duration
	// failing is set while a write or commit is being retried (for /healthz).
	failing atomic.Bool
	// free holds written batches for reuse: their columns keep capacity.
	free chan *clickhouse.Batch
	// events, when set, receives the evidence of each batch (correlate).
	events Producer
	// lastTime is the newest event time per file, for lines without one.
	lastTime map[string]time.Time
	// topo keys evidence by service (correlate.topology); nil: by label.
	topo *analyzer.Topology
	// dec reads record headers, interning the values that repeat.
	dec record.Decoder
	// kafkaIDs is the file id of each partition's records that have none.
	kafkaIDs map[kafkaPartition]string
}

type kafkaPartition struct {
	topic     string
	partition int
}

// WithTopology keys the evidence by the service t maps each event to, so
// that several correlators share the work (see eventKey).
func (c *Consumer) WithTopology(t *analyzer.Topology) *Consumer {
	c.topo = t
	return c
}

// WithEvents makes the consumer re-produce evidence to p before it
// commits, for the correlator.
func (c *Consumer) WithEvents(p Producer) *Consumer {
	c.events = p
	return c
}

// New wires a Consumer; cfg must be valid.
func New(f Fetcher, w Writer, cfg Config, log *slog.Logger, m *Metrics) *Consumer {
	return &Consumer{fetch: f, store: w, cfg: cfg, log: log, metrics: m,
		parsers: map[parserKey]*parser.Parser{}, ShutdownTimeout: 15 * time.Second,
		free: make(chan *clickhouse.Batch, writers+1), lastTime: map[string]time.Time{}, kafkaIDs: map[kafkaPartition]string{}}
}

// Healthy reports whether the consumer is storing and committing, not
// stuck retrying an outage.
func (c *Consumer) Healthy() bool { return !c.failing.Load() }

// pending is a batch with the last message of each partition it holds: the
// offsets to commit once the batch is stored.
type pending struct {
	batch  *clickhouse.Batch
	events []kafka.Message // evidence for the events topic
	last   map[int]kafka.Message
	msgs   int
	first  time.Time
}

// Run consumes until ctx is cancelled (then it stores and commits what it
// holds, within ShutdownTimeout) or a permanent error stops it.
func (c *Consumer) Run(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan kafka.Message, 4096)
	fetchErr := make(chan error, 1)
	go func() {
		defer close(msgs)
		backoff := c.cfg.Retry.Initial.D()
		for {
			m, err := c.fetch.FetchMessage(runCtx)
			if err != nil {
				if runCtx.Err() != nil {
					return
				}
				if errors.Is(err, io.EOF) {
					// The reader was closed under us.
					fetchErr <- fmt.Errorf("fetch: %w", err)
					return
				}
				c.metrics.FetchErrors.Add(1)
				c.log.Warn("kafka fetch failed; retrying", "err", err, "backoff", backoff)
				if !sleep(runCtx, jitter(backoff)) {
					return
				}
				backoff = min(backoff*2, c.cfg.Retry.Max.D())
				continue
			}
			backoff = c.cfg.Retry.Initial.D()
			select {
			case msgs <- m:
			case <-runCtx.Done():
				return
			}
		}
	}()

	// Batches are written while the next is built: the channel of capacity
	// one and the writers bound memory to writers+2 batches.
	ready := make(chan *pending, 1)
	writeDone := make(chan struct{})
	var werr error
	go func() {
		defer close(writeDone)
		werr = c.writeLoop(ctx, ready)
	}()

	err := c.buildLoop(runCtx, msgs, fetchErr, ready, writeDone)
	close(ready)
	cancel()
	<-writeDone
	if werr != nil {
		// The writer's failure is the cause; buildLoop only noticed it.
		err = werr
	}
	return err
}

func (c *Consumer) buildLoop(ctx context.Context, msgs <-chan kafka.Message, fetchErr <-chan error,
	ready chan<- *pending, writeDone <-chan struct{}) error {
	var cur *pending
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var ev parser.Event
	hdrs := make([]record.Header, 0, 16)
	send := func() error {
		if cur == nil {
			return nil
		}
		timer.Stop()
		select {
		case ready <- cur:
			cur = nil
			return nil
		case <-writeDone:
			return errWriterStopped
		}
	}
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				// Fetching stopped: ctx cancelled (store what we hold) or
				// the reader failed for good.
				if err := send(); err != nil {
					return err
				}
				select {
				case err := <-fetchErr:
					return err
				default:
					return nil
				}
			}
			if cur == nil {
				cur = &pending{batch: c.newBatch(), last: map[int]kafka.Message{}, first: time.Now()}
				timer.Reset(c.cfg.Batch.MaxWait.D())
			}
			hdrs = hdrs[:0]
			for _, h := range m.Headers {
				hdrs = append(hdrs, record.Header{Key: h.Key, Value: h.Value})
			}
			c.add(cur, &m, hdrs, &ev)
			cur.last[m.Partition] = m
			cur.msgs++
			c.metrics.Messages.Add(1)
			if cur.batch.Len() >= c.cfg.Batch.MaxRows {
				if err := send(); err != nil {
					return err
				}
			}
		case <-timer.C:
			if err := send(); err != nil {
				return err
			}
		case <-writeDone:
			return errWriterStopped
		}
	}
}

var errWriterStopped = errors.New("consume: writer stopped")

// writers is how many batches are inserted at once. ClickHouse works on
// one INSERT with about one core: a second lets it use another while the
// first waits, and overlaps our encoding and sending with its work.
// Offsets are still committed in fetch order, each only after its batch and
// every batch before it was stored.
const writers = 2

// writeLoop stores each batch, retrying until ClickHouse accepts it, then
// produces its evidence and commits its offsets, in the order the batches
// were built. ctx is the caller's: once it is cancelled the loop still
// drains what it was handed, within ShutdownTimeout.
func (c *Consumer) writeLoop(ctx context.Context, ready <-chan *pending) error {
	// Writes outlive ctx by ShutdownTimeout, so that a stop stores and
	// commits what was already fetched instead of re-reading it.
	wctx, wcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer wcancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(c.ShutdownTimeout, wcancel) })
	defer stop()
	type write struct {
		p    *pending
		done chan error
	}
	// queue holds the writes in flight, oldest first: only its head may
	// commit, and at most `writers` batches are held beyond the last commit.
	var queue []write
	in := ready
	// stopped: a batch could not be stored or handed on before the
	// deadline; it and everything after it stay uncommitted (re-read by the
	// next run), so the rest is only drained.
	stopped := false
	for in != nil || len(queue) > 0 {
		var head chan error
		if len(queue) > 0 {
			head = queue[0].done
		}
		src := in
		if len(queue) >= writers {
			src = nil
		}
		select {
		case p, ok := <-src:
			if !ok {
				in = nil
				continue
			}
			if stopped {
				continue
			}
			w := write{p, make(chan error, 1)}
			go func() { w.done <- c.writeRetry(wctx, w.p) }()
			queue = append(queue, w)
		case err := <-head:
			p := queue[0].p
			queue = queue[1:]
			if stopped {
				continue
			}
			if err != nil {
				if wctx.Err() != nil {
					// Out of time with ClickHouse unavailable: leave the
					// offsets uncommitted, the next run re-reads these lines.
					c.log.Warn("shutdown: batch not stored; its lines stay uncommitted", "lines", p.msgs, "err", err)
					stopped = true
					continue
				}
				// Permanent: stop the other writes and wait for them (a
				// later batch they store is re-read and deduplicated).
				wcancel()
				for _, w := range queue {
					<-w.done
				}
				return err
			}
			if err := c.produceRetry(wctx, p); err != nil {
				// Stored but not handed to the correlator: leave the offsets
				// uncommitted so the lines (and their evidence) come again.
				c.log.Warn("evidence not produced; lines stay uncommitted", "lines", p.msgs, "err", err)
				stopped = true
				continue
			}
			c.commitRetry(wctx, p)
			p.batch.Reset()
			select {
			case c.free <- p.batch:
			default:
			}
		}
	}
	return nil
}

func (c *Consumer) newBatch() *clickhouse.Batch {
	select {
	case b := <-c.free:
		return b
	default:
		return &clickhouse.Batch{}
	}
}

func (c *Consumer) writeRetry(ctx context.Context, p *pending) error {
	backoff := c.cfg.Retry.Initial.D()
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := c.store.Write(ctx, p.batch)
		if err == nil {
			c.failing.Store(false)
			c.metrics.Batches.Add(1)
			c.metrics.StoredLines.Add(uint64(p.msgs))
			c.metrics.BatchAge.Store(int64(time.Since(p.first)))
			c.log.Debug("batch stored", "rows", p.batch.Len(), "lines", p.msgs, "took", time.Since(start), "attempt", attempt)
			return nil
		}
		if clickhouse.IsPermanent(err) {
			c.failing.Store(true)
			return fmt.Errorf("store batch of %d lines: %w", p.msgs, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.failing.Store(true)
		c.metrics.WriteRetries.Add(1)
		c.log.Warn("clickhouse write failed; retrying", "err", err, "attempt", attempt, "backoff", backoff, "rows", p.batch.Len())
		if !sleep(ctx, jitter(backoff)) {
			return ctx.Err()
		}
		backoff = min(backoff*2, c.cfg.Retry.Max.D())
	}
}

// produceRetry hands p's evidence to the correlator before p is committed.
func (c *Consumer) produceRetry(ctx context.Context, p *pending) error {
	if c.events == nil || len(p.events) == 0 {
		return nil
	}
	backoff := c.cfg.Retry.Initial.D()
	for {
		err := c.events.WriteMessages(ctx, p.events...)
		if err == nil {
			c.failing.Store(false)
			c.metrics.Evidence.Add(uint64(len(p.events)))
			return nil
		}
		c.failing.Store(true)
		c.log.Warn("kafka: producing evidence failed; retrying", "err", err, "records", len(p.events))
		if !sleep(ctx, jitter(backoff)) {
			return ctx.Err()
		}
		backoff = min(backoff*2, c.cfg.Retry.Max.D())
	}
}

// commitRetry commits p's offsets. A commit that keeps failing (the group
// rebalanced, the broker is gone for good) is given up after a few tries:
// the rows are stored, so the worst outcome is a re-delivery, which the
// tables deduplicate.
func (c *Consumer) commitRetry(ctx context.Context, p *pending) {
	msgs := make([]kafka.Message, 0, len(p.last))
	for _, m := range p.last {
		m.Value, m.Key, m.Headers = nil, nil, nil
		msgs = append(msgs, m)
	}
	// Bounded: a commit lost to a rebalance will never succeed, and the
	// writer must not stall the pipeline for long on it.
	backoff := c.cfg.Retry.Initial.D()
	const tries = 5
	for attempt := 1; attempt <= tries; attempt++ {
		err := c.fetch.CommitMessages(ctx, msgs...)
		if err == nil {
			c.failing.Store(false)
			c.metrics.Commits.Add(1)
			return
		}
		c.metrics.CommitErrors.Add(1)
		c.log.Warn("kafka commit failed", "err", err, "attempt", attempt, "partitions", len(msgs))
		if ctx.Err() != nil || !sleep(ctx, jitter(backoff)) {
			return
		}
		backoff = min(backoff*2, c.cfg.Retry.Max.D(), 2*time.Second)
	}
}

type parserKey struct{ kind, format, tz, boot string }

// add parses one record into b. Nothing here fails: a record we cannot
// read becomes an unparsed row with the reason.
func (c *Consumer) add(p *pending, m *kafka.Message, hdrs []record.Header, ev *parser.Event) {
	b := p.batch
	line, herr := c.dec.Decode(m.Value, hdrs)
	o := clickhouse.Origin{Host: line.Host, Service: line.Labels["service"], Path: line.Path, FileID: line.FileID,
		Offset: line.Offset, ReadTime: line.ReadTime, Truncated: line.Truncated}
	if o.FileID == "" {
		// Not from culprit ship (kcat, rsyslog): the Kafka position is the
		// only identity the line has, and it survives re-delivery.
		o.FileID = c.kafkaID(m)
		o.Offset = m.Offset
	}
	if o.ReadTime.IsZero() {
		o.ReadTime = m.Time
	}
	if herr != nil {
		c.metrics.Unparsed.Add(1)
		b.AddUnparsed(m.Value, "bad record headers: "+herr.Error(), &o)
		return
	}
	pr, err := c.parserFor(line.Kind, line.LogFormat, line.TZ, line.BootTime)
	if err != nil {
		c.metrics.Unparsed.Add(1)
		b.AddUnparsed(m.Value, err.Error(), &o)
		return
	}
	pr.Parse(line.Value, ev)
	if ev.Kind == parser.KindUnparsed {
		c.metrics.Unparsed.Add(1)
	} else if ev.Time.IsZero() {
		// A line without a time of its own (a stack trace line, a bare
		// message) was written right after its predecessor in the file;
		// the read time is only right when tailing live, not in a backfill.
		if t, ok := c.lastTime[o.FileID]; ok {
			ev.Time = t
		}
	} else {
		if len(c.lastTime) >= 65536 {
			clear(c.lastTime)
		}
		c.lastTime[o.FileID] = ev.Time
	}
	c.metrics.countKind(ev.Kind)
	b.Add(ev, &o)
	if c.events != nil && analyzer.Wants(ev) {
		if ev.Time.IsZero() {
			ev.Time = o.ReadTime
		}
		rec := EvidenceRecord{Event: *ev, Line: string(line.Value), Path: o.Path, Host: o.Host, Service: o.Service,
			FileID: o.FileID, Offset: o.Offset}
		if rec.Event.Hostname == "" {
			rec.Event.Hostname = o.Host
		}
		if v, err := json.Marshal(&rec); err == nil {
			p.events = append(p.events, kafka.Message{Key: eventKey(c.topo, &rec.Event, rec.Event.Hostname, o.Service), Value: v})
		}
	}
}

// kafkaID is the file id of a record from m's partition, built once.
func (c *Consumer) kafkaID(m *kafka.Message) string {
	k := kafkaPartition{m.Topic, m.Partition}
	id, ok := c.kafkaIDs[k]
	if !ok {
		id = "kafka:" + m.Topic + ":" + strconv.Itoa(m.Partition)
		c.kafkaIDs[k] = id
	}
	return id
}

// parserFor caches one Parser per source, format, zone and boot time: a
// Parser compiles its log_format once, which is too slow to do per line.
func (c *Consumer) parserFor(kind, format, tz string, boot time.Time) (*parser.Parser, error) {
	k := parserKey{kind, format, tz, ""}
	if !boot.IsZero() {
		k.boot = boot.Format(time.RFC3339Nano)
	}
	if p, ok := c.parsers[k]; ok {
		return p, nil
	}
	opts := parser.Options{Source: parser.Source(kind), LogFormat: format, BootTime: boot}
	if tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("record tz %q: %w", tz, err)
		}
		opts.Location = loc
	}
	p, err := parser.New(opts)
	if err != nil {
		return nil, fmt.Errorf("record headers kind=%q log_format=%q: %w", kind, format, err)
	}
	// Bounded: a shipper fleet has few distinct sources; hosts rebooting
	// forever must not grow the cache without end.
	if len(c.parsers) >= 4096 {
		clear(c.parsers)
	}
	c.parsers[k] = p
	return p, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// jitter spreads retries of many analyzers over [d/2, d).
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}
