// Package kafka owns the shipper's Kafka producer: internal/record lines
// become kafka-go messages (value = line, key = host:path, headers =
// provenance), written with acks=all so that a nil error means every line
// is on every in-sync replica.
package kafka

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/protocol"
	metadataAPI "github.com/segmentio/kafka-go/protocol/metadata"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/culprit-dev/culprit/ingest"
	"github.com/culprit-dev/culprit/internal/record"
)

// Producer writes record lines to one topic with produce requests of its
// own, one per partition and batch: kafka-go's Writer looks the topic's
// metadata up once per *message* and copies every message into its own
// batches, about a fifth of the shipper's CPU in the benchmark. Retries are
// the shipper's, so the Writer's machinery bought nothing.
type Producer struct {
	c          *kafkago.Client
	tr         *kafkago.Transport
	topic      string
	acks       kafkago.RequiredAcks
	codec      compress.Codec // nil: uncompressed
	batchBytes int

	mu      sync.Mutex
	parts   []int // partition ids, cached
	partsAt time.Time
	hash    kafkago.Hash
}

var _ ingest.Sink = (*Producer)(nil)

// metadataTTL bounds how long a partition count is trusted; a failed
// produce refreshes it at once.
const metadataTTL = time.Minute

// NewProducer builds the client from the shipper's Kafka config.
func NewProducer(c ingest.KafkaConfig) (*Producer, error) {
	tr := &kafkago.Transport{DialTimeout: 5 * time.Second, IdleTimeout: 30 * time.Second, ClientID: "culprit-ship"}
	if c.TLS.Enabled {
		tc, err := tlsConfig(c.TLS)
		if err != nil {
			return nil, err
		}
		tr.TLS = tc
	}
	mech, err := saslMechanism(c.SASL)
	if err != nil {
		return nil, err
	}
	tr.SASL = mech
	acks := kafkago.RequireAll
	if c.Acks == "one" {
		acks = kafkago.RequireOne
	}
	return &Producer{
		c:     &kafkago.Client{Addr: kafkago.TCP(c.Brokers...), Transport: tr, Timeout: c.WriteTimeout},
		tr:    tr,
		topic: c.Topic, acks: acks, codec: codecFor(compression(c.Compression)), batchBytes: c.BatchBytes,
	}, nil
}

// Write sends lines and returns nil once all were acknowledged.
func (p *Producer) Write(ctx context.Context, lines []record.Line) error {
	send, err := p.Prepare(ctx, lines)
	if err != nil {
		return err
	}
	return send(ctx)
}

// Prepare encodes and compresses lines into produce-ready record batches
// and returns the function that sends them. The shipper prepares the next
// batch while the previous one awaits its ack, so the CPU-heavy encoding
// overlaps the round trip without a second produce request in flight
// (which could reorder a file's lines on a retry).
//
// Lines go to the partition kafka-go's Hash balancer picks for their key
// (host:path), so one file stays in one partition, in order.
func (p *Producer) Prepare(ctx context.Context, lines []record.Line) (func(context.Context) error, error) {
	parts, err := p.partitions(ctx)
	if err != nil {
		return nil, fmt.Errorf("kafka metadata for %s: %w", p.topic, err)
	}
	// Runs of one key (one file) go to one partition; a batch of one file,
	// the common case, is encoded straight from lines without a copy.
	var runs []keyRun
	var lastKey string
	for i := range lines {
		l := &lines[i]
		if k := l.Host + ":" + l.Path; len(runs) == 0 || k != lastKey {
			runs = append(runs, keyRun{i, i, p.hash.Balance(kafkago.Message{Key: []byte(k)}, parts...)})
			lastKey = k
		}
		runs[len(runs)-1].end = i + 1
	}
	byPart := map[int][]record.Line{}
	var order []int
	for _, r := range runs {
		if _, ok := byPart[r.part]; !ok {
			order = append(order, r.part)
			if allIn(runs, r.part) {
				byPart[r.part] = lines
				break
			}
		}
		byPart[r.part] = append(byPart[r.part], lines[r.start:r.end]...)
	}
	type encoded struct {
		part, n int
		raw     []byte
	}
	var batches []encoded
	for _, part := range order {
		ls := byPart[part]
		for len(ls) > 0 {
			n, size := 0, 0
			for n < len(ls) && (n == 0 || size+lineSize(&ls[n]) <= p.batchBytes) {
				size += lineSize(&ls[n])
				n++
			}
			raw, err := encodeBatch(ls[:n], p.codec)
			if err != nil {
				return nil, fmt.Errorf("kafka encode %d lines: %w", n, err)
			}
			batches = append(batches, encoded{part: part, n: n, raw: raw})
			ls = ls[n:]
		}
	}
	return func(ctx context.Context) error {
		for _, b := range batches {
			resp, err := p.c.RawProduce(ctx, &kafkago.RawProduceRequest{Topic: p.topic, Partition: b.part,
				RequiredAcks: p.acks, RawRecords: protocol.RawRecordSet{Reader: bytes.NewReader(b.raw)}})
			if err == nil && resp != nil && resp.Error != nil {
				err = resp.Error
			}
			if err != nil {
				p.invalidate()
				return fmt.Errorf("kafka write %d lines to %s[%d]: %w", b.n, p.topic, b.part, err)
			}
		}
		// Answered, so written: the buffers can serve the next batches. A
		// failed request keeps them (a cancelled one may still be on its
		// way out); the collector takes them.
		for _, b := range batches {
			releaseBatch(b.raw)
		}
		return nil
	}, nil
}

// keyRun is a run of consecutive lines with one key, bound to a partition.
type keyRun struct{ start, end, part int }

// allIn reports whether every run goes to partition part.
func allIn(runs []keyRun, part int) bool {
	for _, r := range runs {
		if r.part != part {
			return false
		}
	}
	return true
}

// partitions returns the topic's partition ids, asking the brokers (and
// letting them auto-create the topic) when the cache is cold.
func (p *Producer) partitions(ctx context.Context) ([]int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.parts != nil && time.Since(p.partsAt) < metadataTTL {
		return p.parts, nil
	}
	r, err := p.tr.RoundTrip(ctx, p.c.Addr, &metadataAPI.Request{TopicNames: []string{p.topic}, AllowAutoTopicCreation: true})
	if err != nil {
		return nil, err
	}
	for _, t := range r.(*metadataAPI.Response).Topics {
		if t.Name != p.topic {
			continue
		}
		if t.ErrorCode != 0 {
			return nil, kafkago.Error(t.ErrorCode)
		}
		ids := make([]int, 0, len(t.Partitions))
		for _, pt := range t.Partitions {
			ids = append(ids, int(pt.PartitionIndex))
		}
		if len(ids) == 0 {
			return nil, kafkago.UnknownTopicOrPartition
		}
		sort.Ints(ids)
		p.parts, p.partsAt = ids, time.Now()
		return ids, nil
	}
	return nil, kafkago.UnknownTopicOrPartition
}

func (p *Producer) invalidate() {
	p.mu.Lock()
	p.parts = nil
	p.mu.Unlock()
}

// Close closes the connections.
func (p *Producer) Close() error {
	p.tr.CloseIdleConnections()
	return nil
}

// Message encodes one line per internal/record's contract.
func Message(l *record.Line) kafkago.Message {
	return encode([]record.Line{*l})[0]
}

// encode turns lines into messages. Consecutive lines of one file share
// everything but offset and read time, so the key and the other headers are
// built once per run of such lines, and the per-line parts come from two
// arenas: the hot path of the shipper allocates per batch, not per line.
func encode(lines []record.Line) []kafkago.Message {
	msgs := make([]kafkago.Message, len(lines))
	var (
		prev     *record.Line
		key      []byte
		static   []kafkago.Header
		readTime []byte
		readAt   time.Time
		hdrs     []kafkago.Header
		offsets  = make([]byte, 0, len(lines)*8)
	)
	for i := range lines {
		l := &lines[i]
		if prev == nil || !sameProvenance(prev, l) {
			key = l.Key()
			static = static[:0:0]
			for _, h := range l.Headers() {
				if h.Key != record.HeaderOffset && h.Key != record.HeaderReadTime {
					static = append(static, kafkago.Header{Key: h.Key, Value: h.Value})
				}
			}
		}
		if prev == nil || !l.ReadTime.Equal(readAt) {
			readAt = l.ReadTime
			readTime = []byte(l.ReadTime.UTC().Format(time.RFC3339Nano))
		}
		prev = l
		n := len(static) + 2
		if cap(hdrs)-len(hdrs) < n {
			hdrs = make([]kafkago.Header, 0, max(n*256, n))
		}
		if cap(offsets)-len(offsets) < 20 {
			offsets = make([]byte, 0, 4096)
		}
		start := len(offsets)
		offsets = strconv.AppendInt(offsets, l.Offset, 10)
		h := hdrs[len(hdrs) : len(hdrs)+n : len(hdrs)+n]
		hdrs = hdrs[:len(hdrs)+n]
		h[0] = kafkago.Header{Key: record.HeaderOffset, Value: offsets[start:len(offsets):len(offsets)]}
		h[1] = kafkago.Header{Key: record.HeaderReadTime, Value: readTime}
		copy(h[2:], static)
		msgs[i] = kafkago.Message{Key: key, Value: l.Value, Headers: h, Time: l.ReadTime}
	}
	return msgs
}

// sameProvenance reports whether a and b carry the same headers apart from
// offset and read time. Labels are compared by identity: a source's lines
// share one map, and a false "different" only costs a rebuild.
func sameProvenance(a, b *record.Line) bool {
	return a.Host == b.Host && a.Kind == b.Kind && a.Path == b.Path && a.FileID == b.FileID &&
		a.TZ == b.TZ && a.LogFormat == b.LogFormat && a.Truncated == b.Truncated &&
		a.BootTime.Equal(b.BootTime) && sameMap(a.Labels, b.Labels)
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func compression(name string) compress.Compression {
	switch name {
	case "gzip":
		return compress.Gzip
	case "snappy":
		return compress.Snappy
	case "lz4":
		return compress.Lz4
	case "zstd":
		return compress.Zstd
	}
	return 0
}

func tlsConfig(c ingest.TLSConfig) (*tls.Config, error) {
	tc := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka tls ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka tls ca_file %s: no PEM certificates", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" || c.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func saslMechanism(c ingest.SASLConfig) (sasl.Mechanism, error) {
	if c.Mechanism == "" {
		return nil, nil
	}
	pw := c.Password
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("kafka sasl password_file: %w", err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	}
	switch strings.ToUpper(c.Mechanism) {
	case "PLAIN":
		return plain.Mechanism{Username: c.Username, Password: pw}, nil
	case "SCRAM-SHA-256":
		return scram.Mechanism(scram.SHA256, c.Username, pw)
	case "SCRAM-SHA-512":
		return scram.Mechanism(scram.SHA512, c.Username, pw)
	}
	return nil, fmt.Errorf("kafka sasl mechanism %q", c.Mechanism)
}
