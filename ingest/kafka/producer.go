// Package kafka owns the shipper's Kafka producer: internal/record lines
// become kafka-go messages (value = line, key = host:path, headers =
// provenance), written with acks=all so that a nil error means every line
// is on every in-sync replica.
package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/culprit-dev/culprit/ingest"
	"github.com/culprit-dev/culprit/internal/record"
)

// Producer writes record lines to one topic.
type Producer struct {
	w *kafkago.Writer
}

var _ ingest.Sink = (*Producer)(nil)

// NewProducer builds the writer from the shipper's Kafka config.
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
	w := &kafkago.Writer{
		Addr:         kafkago.TCP(c.Brokers...),
		Topic:        c.Topic,
		Balancer:     &kafkago.Hash{}, // key host:path -> one partition per file, in order
		RequiredAcks: acks,
		Compression:  compression(c.Compression),
		BatchSize:    c.BatchLines,
		BatchBytes:   int64(c.BatchBytes),
		// The shipper batches itself; this only bounds the wait of the
		// writer's own per-partition batches within one Write call.
		BatchTimeout: time.Millisecond,
		// Retries are the shipper's (forever, with backoff): one attempt
		// here keeps error reporting prompt.
		MaxAttempts:            1,
		WriteTimeout:           c.WriteTimeout,
		ReadTimeout:            c.WriteTimeout,
		AllowAutoTopicCreation: true,
		Transport:              tr,
	}
	return &Producer{w: w}, nil
}

// Write sends lines and returns nil once all were acknowledged.
func (p *Producer) Write(ctx context.Context, lines []record.Line) error {
	msgs := encode(lines)
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("kafka write %d lines to %s: %w", len(lines), p.w.Topic, err)
	}
	return nil
}

// Close flushes and closes the connections.
func (p *Producer) Close() error { return p.w.Close() }

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
		msgs[i] = kafkago.Message{Key: key, Value: l.Value, Headers: h}
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
