package consume

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/internal/record"
	"github.com/culprit-dev/culprit/internal/testenv"
	"github.com/culprit-dev/culprit/schemas"
)

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// scenarioRecords turns a real scenario capture (scripts/scenarios) into the
// records `culprit ship` would produce for it: one per line, with the file's
// identity and the line's byte offset.
func scenarioRecords(t testing.TB, name string) []kafka.Message {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "scenarios", name)
	var truth struct {
		TZ        string `json:"tz"`
		LogFormat string `json:"log_format"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	var out []kafka.Message
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, path := range files {
		// As a shipper configured per file would label them; the rest
		// (app, kernel, supervisor logs) is detected per line.
		file, kind := filepath.Base(path), "auto"
		switch file {
		case "access.log":
			kind = "nginx_access"
		case "error.log":
			kind = "nginx_error"
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var off int64
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			l := record.Line{Value: append([]byte(nil), sc.Bytes()...), Host: "proxy-1", Kind: kind,
				Path: "/var/log/" + name + "/" + file, FileID: "8:1:" + name + "-" + file, Offset: off,
				ReadTime: time.Now().UTC(), TZ: truth.TZ, Labels: map[string]string{"service": "shop"}}
			if kind == "nginx_access" {
				l.LogFormat = truth.LogFormat
			}
			off += int64(len(sc.Bytes())) + 1
			m := kafka.Message{Key: l.Key(), Value: l.Value}
			for _, h := range l.Headers() {
				m.Headers = append(m.Headers, kafka.Header{Key: h.Key, Value: h.Value})
			}
			out = append(out, m)
		}
	}
	if len(out) < 300 {
		t.Fatalf("scenario %s: only %d lines", name, len(out))
	}
	return out
}

type kafkaEnv struct {
	brokers string
	topic   string
	client  *kafka.Client
}

func newTopic(t testing.TB, partitions int) *kafkaEnv {
	t.Helper()
	brokers := testenv.KafkaBrokers(t)
	topic := fmt.Sprintf("culprit-test-consume-%d", rand.Uint32())
	client := &kafka.Client{Addr: kafka.TCP(brokers), Timeout: 10 * time.Second}
	ctx := context.Background()
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Errors[topic]; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	})
	return &kafkaEnv{brokers: brokers, topic: topic, client: client}
}

func (k *kafkaEnv) produce(t testing.TB, msgs []kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(k.brokers), Topic: k.topic, Balancer: &kafka.Hash{},
		BatchSize: 1000, BatchTimeout: 10 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// committed sums the group's committed offsets (the next offset to read)
// over the topic's partitions.
func (k *kafkaEnv) committed(t testing.TB, group string, partitions int) int64 {
	t.Helper()
	n, err := k.tryCommitted(group, partitions)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (k *kafkaEnv) tryCommitted(group string, partitions int) (int64, error) {
	ps := make([]int, partitions)
	for i := range ps {
		ps[i] = i
	}
	res, err := k.client.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: group,
		Topics: map[string][]int{k.topic: ps}})
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, p := range res.Topics[k.topic] {
		if p.CommittedOffset > 0 {
			sum += p.CommittedOffset
		}
	}
	return sum, nil
}

// chProxy stands between the consumer and the real ClickHouse so a test
// can take ClickHouse away (connections reset, new ones refused) and bring
// it back on the same address, without stopping the shared server.
type chProxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newCHProxy(t testing.TB, target string) *chProxy {
	p := &chProxy{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *chProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close(); c.Close() }()
			go func() { io.Copy(c, up); up.Close(); c.Close() }()
		}
	}()
}

// down resets every connection and refuses new ones.
func (p *chProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
	clear(p.conns)
}

func (p *chProxy) up(t testing.TB) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

func migrated(t testing.TB, addr string) (driver.Conn, string) {
	t.Helper()
	ctx := context.Background()
	conn, err := clickhouse.Open(ctx, clickhouse.ConnConfig{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("culprit_test_%d", rand.Uint32())
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		conn.Close()
	})
	migs, err := clickhouse.LoadMigrations(schemas.FS)
	if err != nil {
		t.Fatal(err)
	}
	mg := &clickhouse.Migrator{Conn: conn, Opts: clickhouse.RenderOptions{Database: db}, Logger: testLogger(t)}
	if _, err := mg.Migrate(ctx, migs); err != nil {
		t.Fatal(err)
	}
	return conn, db
}

func count(t testing.TB, conn driver.Conn, q string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// rows counts distinct stored lines (FINAL) and raw rows over all event tables.
func rows(t testing.TB, conn driver.Conn, db string) (final, raw uint64) {
	for _, table := range []string{"requests", "proxy_errors", "upstream_events", "unparsed"} {
		final += count(t, conn, "SELECT count() FROM "+db+"."+table+" FINAL")
		raw += count(t, conn, "SELECT count() FROM "+db+"."+table)
	}
	return final, raw
}

func testConfig(k *kafkaEnv, chAddr, db, group string) Config {
	cfg := DefaultConfig()
	cfg.Kafka.Brokers = []string{k.brokers}
	cfg.Kafka.Topic = k.topic
	cfg.Kafka.Group = group
	cfg.Kafka.SessionTimeout = Duration(6 * time.Second) // as newReader's
	cfg.ClickHouse.Addr, cfg.ClickHouse.Database = chAddr, db
	cfg.Batch.MaxRows = 300
	cfg.Batch.MaxWait = Duration(100 * time.Millisecond)
	cfg.Retry.Initial, cfg.Retry.Max = Duration(50*time.Millisecond), Duration(500*time.Millisecond)
	return cfg
}

func newReader(cfg Config) *kafka.Reader {
	return kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Kafka.Brokers, GroupID: cfg.Kafka.Group, Topic: cfg.Kafka.Topic,
		MinBytes: 1, MaxBytes: cfg.Kafka.FetchMaxBytes, MaxWait: 100 * time.Millisecond, CommitInterval: 0,
		StartOffset: kafka.FirstOffset, QueueCapacity: 1000, HeartbeatInterval: 500 * time.Millisecond,
		SessionTimeout: 6 * time.Second, RebalanceTimeout: 2 * time.Second, JoinGroupBackoff: 500 * time.Millisecond})
}

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ClickHouse goes away mid-stream and comes back: every line is stored
// exactly once (after dedup), and offsets cover exactly what was stored.
func TestConsumer_ClickHouseOutage(t *testing.T) {
	chAddr := testenv.ClickHouseAddr(t)
	k := newTopic(t, 3)
	conn, db := migrated(t, chAddr)
	proxy := newCHProxy(t, chAddr)
	msgs := copies(scenarioRecords(t, "pm2-oom"), 4)
	k.produce(t, msgs)

	cfg := testConfig(k, proxy.addr, db, "culprit-test-"+k.topic)
	chConn, err := clickhouse.Open(context.Background(), clickhouse.ConnConfig{Addr: proxy.addr, ReadTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer chConn.Close()
	store := clickhouse.NewStore(chConn, db)
	reader := newReader(cfg)
	defer reader.Close()
	m := &Metrics{}
	// Store slowly enough that the outage lands mid-stream.
	slow := writerFunc(func(ctx context.Context, b *clickhouse.Batch) error {
		time.Sleep(100 * time.Millisecond)
		return store.Write(ctx, b)
	})
	c := New(reader, slow, cfg, testLogger(t), m)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	waitFor(t, "first batches", 20*time.Second, func() bool { return m.Batches.Load() >= 1 })
	proxy.down()
	// A batch that ClickHouse accepted just before the cut is rightly
	// committed after it. The writer stores, then commits, then takes the
	// next batch, so once a write has failed that commit is behind us.
	waitFor(t, "a write to fail", 20*time.Second, func() bool { return m.WriteRetries.Load() >= 1 })
	committedDuringOutage := k.committed(t, cfg.Kafka.Group, 3)
	if committedDuringOutage >= int64(len(msgs)) {
		t.Fatal("everything was committed before the outage: the test proves nothing")
	}
	time.Sleep(1500 * time.Millisecond)
	if got := k.committed(t, cfg.Kafka.Group, 3); got != committedDuringOutage {
		t.Errorf("offsets moved from %d to %d while ClickHouse was down", committedDuringOutage, got)
	}
	if c.Healthy() {
		t.Error("healthy while every write fails")
	}
	if m.WriteRetries.Load() == 0 {
		t.Error("no write was retried during the outage: the outage did not hit the stream")
	}
	proxy.up(t)
	waitFor(t, "all lines stored and committed", 30*time.Second, func() bool {
		return m.StoredLines.Load() >= uint64(len(msgs)) && k.committed(t, cfg.Kafka.Group, 3) == int64(len(msgs))
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	final, raw := rows(t, conn, db)
	if final != uint64(len(msgs)) {
		t.Errorf("%d distinct rows stored, want %d (one per line)", final, len(msgs))
	}
	t.Logf("%d lines, %d raw rows, %d write retries, %d batches", len(msgs), raw, m.WriteRetries.Load(), m.Batches.Load())
	// The rollup counts each 5xx line once, whatever was re-sent.
	r5 := count(t, conn, "SELECT count() FROM "+db+".requests FINAL WHERE status >= 500")
	roll := count(t, conn, "SELECT toUInt64(sum(n)) FROM (SELECT uniqExactMerge(lines) AS n FROM "+db+".requests_5xx_per_minute GROUP BY minute, service, upstream, status, class)")
	if r5 != roll {
		t.Errorf("rollup counts %d 5xx, requests FINAL holds %d", roll, r5)
	}
}

type writerFunc func(ctx context.Context, b *clickhouse.Batch) error

func (f writerFunc) Write(ctx context.Context, b *clickhouse.Batch) error { return f(ctx, b) }

// An analyzer that dies after ClickHouse accepted a batch but before it
// committed: its successor re-reads that batch, and the tables still hold
// each line once.
func TestConsumer_CrashBeforeCommit(t *testing.T) {
	chAddr := testenv.ClickHouseAddr(t)
	k := newTopic(t, 2)
	conn, db := migrated(t, chAddr)
	msgs := scenarioRecords(t, "slow-upstream")
	k.produce(t, msgs)
	cfg := testConfig(k, chAddr, db, "culprit-test-"+k.topic)
	cfg.Batch.MaxRows = 100 // several batches, so the crash comes mid-stream
	chConn, err := clickhouse.Open(context.Background(), clickhouse.ConnConfig{Addr: chAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer chConn.Close()
	store := clickhouse.NewStore(chConn, db)

	var stored atomic.Int64
	crashing := writerFunc(func(ctx context.Context, b *clickhouse.Batch) error {
		if err := store.Write(ctx, b); err != nil {
			return err
		}
		if stored.Add(1) == 3 {
			// Stored, then the process "dies": Run must stop without
			// committing this batch.
			return &clickhouse.PermanentError{Err: errors.New("simulated crash after insert")}
		}
		return nil
	})
	r1 := newReader(cfg)
	err = New(r1, crashing, cfg, testLogger(t), &Metrics{}).Run(context.Background())
	r1.Close()
	if err == nil || !strings.Contains(err.Error(), "simulated crash") {
		t.Fatalf("first analyzer: %v, want the simulated crash", err)
	}
	before := k.committed(t, cfg.Kafka.Group, 2)
	if before >= int64(len(msgs)) {
		t.Fatalf("committed %d of %d before the crash: the crash came too late to test anything", before, len(msgs))
	}
	r2 := newReader(cfg)
	defer r2.Close()
	m := &Metrics{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(r2, store, cfg, testLogger(t), m).Run(ctx) }()
	waitFor(t, "the successor to commit everything", 30*time.Second, func() bool {
		return k.committed(t, cfg.Kafka.Group, 2) == int64(len(msgs))
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	final, raw := rows(t, conn, db)
	// The re-delivery shows in the rows inserted; the raw count may not
	// show it, when a background merge already collapsed the duplicates.
	if inserted := store.Stats().Rows.Load(); inserted <= uint64(len(msgs)) {
		t.Errorf("%d rows inserted (%d raw): nothing was re-delivered, the test proves nothing", inserted, raw)
	}
	if final != uint64(len(msgs)) {
		t.Errorf("%d distinct rows, want %d", final, len(msgs))
	}
}

// Records that do not come from culprit ship (no file identity) still
// deduplicate, by their Kafka position; bad headers land in unparsed.
func TestConsumer_ForeignRecords(t *testing.T) {
	chAddr := testenv.ClickHouseAddr(t)
	k := newTopic(t, 1)
	conn, db := migrated(t, chAddr)
	msgs := []kafka.Message{
		{Value: []byte("2026/11/25 16:38:46 [error] 20448#20448: *302 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: localhost, request: \"GET /api/items HTTP/1.1\", upstream: \"http://127.0.0.1:18411/api/items\", host: \"127.0.0.1:18410\"")},
		{Value: []byte("a line with a broken offset header"), Headers: []kafka.Header{{Key: "offset", Value: []byte("x")}}},
	}
	k.produce(t, msgs)
	cfg := testConfig(k, chAddr, db, "culprit-test-"+k.topic)
	chConn, err := clickhouse.Open(context.Background(), clickhouse.ConnConfig{Addr: chAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer chConn.Close()
	store := clickhouse.NewStore(chConn, db)
	for run := 0; run < 2; run++ {
		// Two groups read the same records: a re-delivery of everything.
		cfg.Kafka.Group = fmt.Sprintf("culprit-test-%s-%d", k.topic, run)
		r := newReader(cfg)
		m := &Metrics{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- New(r, store, cfg, testLogger(t), m).Run(ctx) }()
		waitFor(t, "both records stored", 20*time.Second, func() bool { return m.StoredLines.Load() == 2 })
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	final, raw := rows(t, conn, db)
	if final != 2 || raw != 4 {
		t.Errorf("final %d raw %d, want 2 and 4", final, raw)
	}
	var reason string
	if err := conn.QueryRow(context.Background(), "SELECT reason FROM "+db+".unparsed FINAL WHERE line LIKE 'a line with%'").Scan(&reason); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reason, "bad record headers") {
		t.Errorf("reason %q", reason)
	}
}

func queryStrings(t testing.TB, conn driver.Conn, q string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// copies repeats records n times as n different files (file_id suffixed),
// for a stream long enough to be interrupted.
func copies(msgs []kafka.Message, n int) []kafka.Message {
	var out []kafka.Message
	for c := 0; c < n; c++ {
		for _, m := range msgs {
			m.Headers = append([]kafka.Header(nil), m.Headers...)
			for i, h := range m.Headers {
				if h.Key == "file_id" {
					m.Headers[i].Value = fmt.Appendf(nil, "%s-copy%d", h.Value, c)
				}
			}
			out = append(out, m)
		}
	}
	return out
}
