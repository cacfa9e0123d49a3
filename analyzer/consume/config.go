// Package consume owns the analyzer's Kafka side: a consumer-group member
// that fetches shipped lines, parses them, batch-writes the events to
// ClickHouse and commits offsets only after ClickHouse accepted the rows, so
// a crash, a rebalance or an outage re-delivers lines (deduplicated by
// their identity downstream) but never loses one.
package consume

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/internal/record"
)

// Config is analyze.yaml.
type Config struct {
	Kafka      KafkaConfig      `yaml:"kafka"`
	ClickHouse ClickHouseConfig `yaml:"clickhouse"`
	Batch      BatchConfig      `yaml:"batch"`
	Retry      RetryConfig      `yaml:"retry"`
	Correlate  CorrelateConfig  `yaml:"correlate"`
	// Webhooks receive incidents as they open, change cause and close
	// (with correlate.enabled).
	Webhooks []WebhookConfig `yaml:"webhooks"`
	// Listen is the address of /metrics and /healthz; "" disables them.
	Listen string `yaml:"listen"`
}

// KafkaConfig names the lines topic and the consumer group.
type KafkaConfig struct {
	Brokers []string `yaml:"brokers"`
	Topic   string   `yaml:"topic"`
	Group   string   `yaml:"group"`
	// FetchMaxBytes bounds one fetch response (and so the memory a
	// partition's read-ahead holds).
	FetchMaxBytes int `yaml:"fetch_max_bytes"`
	// QueueCapacity is how many fetched messages the reader buffers.
	QueueCapacity int `yaml:"queue_capacity"`
	// SessionTimeout is how long the group waits for a silent member (a
	// killed analyzer) before giving its partitions to the others.
	SessionTimeout Duration `yaml:"session_timeout"`
}

// ClickHouseConfig says where to write.
type ClickHouseConfig struct {
	Addr     string `yaml:"addr"`
	Database string `yaml:"database"`
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// BatchConfig bounds one insert: it is sent when it holds MaxRows rows or
// when its first line has waited MaxWait, whichever comes first.
type BatchConfig struct {
	MaxRows int      `yaml:"max_rows"`
	MaxWait Duration `yaml:"max_wait"`
}

// RetryConfig is the backoff for ClickHouse and Kafka outages: Initial,
// doubled per failure up to Max, retried until the process is stopped.
type RetryConfig struct {
	Initial Duration `yaml:"initial"`
	Max     Duration `yaml:"max"`
}

// Duration reads "500ms", "2s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// DefaultConfig is what an empty analyze.yaml means.
func DefaultConfig() Config {
	return Config{
		Kafka: KafkaConfig{Brokers: []string{"127.0.0.1:9092"}, Topic: record.DefaultTopic, Group: "culprit-analyzer",
			FetchMaxBytes: 16 << 20, QueueCapacity: 10000, SessionTimeout: Duration(30 * time.Second)},
		ClickHouse: ClickHouseConfig{Addr: "127.0.0.1:9000", Database: "culprit", User: "default"},
		// 50k rows per insert keeps ClickHouse's part count low at 150k
		// lines/s; one second bounds the delay a quiet stream sees.
		Batch:     BatchConfig{MaxRows: 50000, MaxWait: Duration(time.Second)},
		Retry:     RetryConfig{Initial: Duration(200 * time.Millisecond), Max: Duration(10 * time.Second)},
		Correlate: CorrelateConfig{Topic: "culprit.events", Group: "culprit-correlator", Idle: Duration(2 * time.Second)},
	}
}

// LoadConfig reads path over the defaults; unknown keys are errors, so a
// typo does not silently fall back to a default.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	f, err := os.Open(path)
	if err != nil {
		return cfg, fmt.Errorf("analyze config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	// io.EOF: an empty file means all defaults.
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("analyze config %s: %w", path, err)
	}
	return cfg, cfg.Validate()
}

// Validate reports settings that cannot work, all at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	if len(c.Kafka.Brokers) == 0 {
		bad("kafka.brokers is empty")
	}
	if c.Kafka.Topic == "" {
		bad("kafka.topic is empty")
	}
	if c.Kafka.Group == "" {
		bad("kafka.group is empty: offsets are committed per consumer group")
	}
	if c.Kafka.SessionTimeout < Duration(time.Second) {
		bad("kafka.session_timeout must be at least 1s (brokers default to a 6s minimum)")
	}
	if c.Kafka.FetchMaxBytes < 1<<10 || c.Kafka.QueueCapacity < 1 {
		bad("kafka.fetch_max_bytes must be at least 1024 and kafka.queue_capacity positive")
	}
	if c.ClickHouse.Addr == "" || c.ClickHouse.Database == "" {
		bad("clickhouse.addr and clickhouse.database are required")
	}
	if c.Batch.MaxRows < 1 || c.Batch.MaxWait <= 0 {
		bad("batch.max_rows and batch.max_wait must be positive")
	}
	if c.Retry.Initial <= 0 || c.Retry.Max < c.Retry.Initial {
		bad("retry.initial must be positive and retry.max at least retry.initial")
	}
	if c.Correlate.Enabled && (c.Correlate.Topic == "" || c.Correlate.Group == "" || c.Correlate.Idle <= 0) {
		bad("correlate.topic, correlate.group and correlate.idle are required when correlate.enabled")
	}
	if c.Correlate.Topology != "" {
		if !c.Correlate.Enabled {
			bad("correlate.topology needs correlate.enabled")
		}
		if _, err := c.Correlate.LoadTopology(); err != nil {
			bad("%v", err)
		}
	}
	for i, h := range c.Webhooks {
		if _, err := url.ParseRequestURI(h.URL); err != nil || !strings.HasPrefix(h.URL, "http") {
			bad("webhooks[%d].url %q: want an http(s) URL", i, h.URL)
		}
		if _, err := Payload(h.Format, NotifyOpened, &analyzer.Incident{}); err != nil {
			bad("webhooks[%d]: %v", i, err)
		}
	}
	if len(c.Webhooks) > 0 && !c.Correlate.Enabled {
		bad("webhooks need correlate.enabled")
	}
	if c.Correlate.Enabled && c.Correlate.Group == c.Kafka.Group {
		bad("correlate.group must differ from kafka.group")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("analyze config: %w", err)
	}
	return nil
}
