// Package ingest owns `culprit ship`: following log files (with rotation,
// truncation and restarts), /dev/kmsg and stdin, turning their lines into
// records (internal/record) and handing them to a Sink, and the registry
// that remembers how far each file was acknowledged. Delivery is
// at-least-once: a file's checkpoint moves only after the Sink (Kafka, with
// acks=all) acknowledged every line before it.
package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/culprit-dev/culprit/internal/nginxconf"
	"github.com/culprit-dev/culprit/internal/record"
	"github.com/culprit-dev/culprit/parser"
)

// Config is the whole ship.yaml.
type Config struct {
	// Host names this machine in every record; empty means os.Hostname.
	Host string `yaml:"host"`
	// Registry is the checkpoint file (identity -> acknowledged offset).
	Registry string      `yaml:"registry"`
	Kafka    KafkaConfig `yaml:"kafka"`
	Tail     TailConfig  `yaml:"tail"`
	Sources  []Source    `yaml:"sources"`
	// Metrics is the listen address of /metrics and /healthz; "" disables.
	Metrics string `yaml:"metrics"`
	// ShutdownTimeout bounds how long a stop waits for Kafka to acknowledge
	// what was already read; unacknowledged lines are re-read next start.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// KafkaConfig configures the producer. The defaults are tuned for a log
// shipper (kafka-go's own defaults, 100 messages or 1 s, are not).
type KafkaConfig struct {
	Brokers []string `yaml:"brokers"`
	Topic   string   `yaml:"topic"`
	// Compression: none, gzip, snappy (default), lz4, zstd.
	Compression string `yaml:"compression"`
	// BatchLines and BatchBytes bound one produce batch; BatchTimeout is how
	// long a partly filled batch waits for more lines.
	BatchLines   int           `yaml:"batch_lines"`
	BatchBytes   int           `yaml:"batch_bytes"`
	BatchTimeout time.Duration `yaml:"batch_timeout"`
	// MaxInFlight is how many batches may await their ack at once. Above 1
	// a failed batch is retried after later ones succeeded, so a file's
	// lines can reach Kafka out of order (never lost); 1 keeps the order.
	MaxInFlight int `yaml:"max_in_flight"`
	// Acks: "all" (default, required for at-least-once) or "one".
	Acks         string        `yaml:"acks"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	TLS          TLSConfig     `yaml:"tls"`
	SASL         SASLConfig    `yaml:"sasl"`
}

// TLSConfig enables TLS to the brokers.
type TLSConfig struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// SASLConfig authenticates to the brokers.
type SASLConfig struct {
	// Mechanism: "" (none), PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
	// PasswordFile keeps the secret out of the config file.
	PasswordFile string `yaml:"password_file"`
}

// TailConfig tunes file following; the defaults suit nginx and logrotate.
type TailConfig struct {
	// PollInterval is how often an idle file is checked for new data.
	PollInterval time.Duration `yaml:"poll_interval"`
	// ScanInterval is how often globs are expanded to find new files.
	ScanInterval time.Duration `yaml:"scan_interval"`
	// RotateWait is how long a renamed or deleted file is still read after
	// it stopped growing: nginx writes to the old file until it reopens.
	RotateWait time.Duration `yaml:"rotate_wait"`
	// PartialTimeout: a last line without newline is shipped after the file
	// stayed unchanged this long.
	PartialTimeout time.Duration `yaml:"partial_timeout"`
	// MaxLineBytes cuts longer lines (shipped with the truncated header).
	MaxLineBytes int `yaml:"max_line_bytes"`
	// StartAt: "beginning" (default) or "end" for files without checkpoint.
	StartAt string `yaml:"start_at"`
}

// Source is one input.
type Source struct {
	// Name labels the source in metrics and logs; default: type and first path.
	Name string `yaml:"name"`
	// Type: file (default), kmsg, stdin.
	Type  string   `yaml:"type"`
	Paths []string `yaml:"paths"`
	// Kind is the parser source of the lines (nginx_access, nginx_error,
	// kernel, gunicorn, ..., auto).
	Kind string `yaml:"kind"`
	// LogFormat is the nginx log_format of an access log. Empty: the
	// shipper infers it from the file's first lines (see InferLogFormat)
	// and sends it in each record's log_format header.
	LogFormat string `yaml:"log_format"`
	// InferLogFormat (default true) lets a file source of kind nginx_access
	// or auto without log_format infer it from the file's lines
	// (parser.InferAccessFormat); false ships without a format (the
	// analyzer then reads combined).
	InferLogFormat *bool `yaml:"infer_log_format"`
	// NginxConf is the nginx.conf (includes followed) whose access_log
	// directive for this source's paths names the log_format to use, when
	// LogFormat is empty: the format as the proxy itself defines it.
	NginxConf string `yaml:"nginx_conf"`
	// TZ is the IANA zone of the source's zone-less timestamps.
	TZ        string            `yaml:"tz"`
	Multiline *MultilineConfig  `yaml:"multiline"`
	Labels    map[string]string `yaml:"labels"`
	// Device overrides /dev/kmsg for a kmsg source (tests).
	Device string `yaml:"device"`
}

// MultilineConfig groups continuation lines (stack traces) into one record.
type MultilineConfig struct {
	// Which lines continue a record is parser.Grouper's rule (indented
	// lines, "Traceback", "Caused by:", ...); these bound a group.
	MaxLines int           `yaml:"max_lines"`
	MaxBytes int           `yaml:"max_bytes"`
	Timeout  time.Duration `yaml:"timeout"`
}

// Source types.
const (
	TypeFile  = "file"
	TypeKmsg  = "kmsg"
	TypeStdin = "stdin"
)

// LoadConfig reads and validates a ship.yaml.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(b)
}

// ParseConfig decodes YAML (unknown keys are errors: a typo must not
// silently disable an option), fills defaults and validates.
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c.SetDefaults()
	if err := errors.Join(c.resolveNginxConf(), c.Validate()); err != nil {
		return nil, err
	}
	return &c, nil
}

// resolveNginxConf sets the log_format of every source that names an
// nginx_conf and no log_format, from that configuration.
func (c *Config) resolveNginxConf() error {
	var errs []error
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.NginxConf == "" || s.LogFormat != "" {
			continue
		}
		f, err := NginxAccessFormat(s.NginxConf, s.Paths)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: sources[%d] (%s): nginx_conf: %w", i, s.Name, err))
			continue
		}
		s.LogFormat = f
	}
	return errors.Join(errs...)
}

// NginxAccessFormat reads an nginx configuration (following include) and
// returns the log_format string of the access_log written at one of paths
// (file globs, as a source's paths), in the form CompileAccessFormat takes.
func NginxAccessFormat(conf string, paths []string) (string, error) {
	ds, err := nginxconf.Load(conf)
	if err != nil {
		return "", err
	}
	return nginxconf.AccessFormat(conf, ds, paths)
}

// SetDefaults fills every unset option.
func (c *Config) SetDefaults() {
	if c.Registry == "" {
		c.Registry = "/var/lib/culprit/ship-registry.json"
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	k := &c.Kafka
	if k.Topic == "" {
		k.Topic = record.DefaultTopic
	}
	if k.Compression == "" {
		// Measured with scripts/bench/shipper.sh: kafka-go's lz4 writers
		// keep 4 MiB blocks (about 15 MB more RSS) for a few % less CPU.
		k.Compression = "snappy"
	}
	if k.BatchLines == 0 {
		// The cost is per line, not per call: larger batches bought no
		// throughput in the benchmark, only memory.
		k.BatchLines = 2048
	}
	if k.BatchBytes == 0 {
		// Brokers refuse batches over message.max.bytes (1 MiB by default).
		k.BatchBytes = 1 << 20
	}
	if k.BatchTimeout == 0 {
		k.BatchTimeout = 20 * time.Millisecond
	}
	if k.MaxInFlight == 0 {
		k.MaxInFlight = 1
	}
	if k.Acks == "" {
		k.Acks = "all"
	}
	if k.WriteTimeout == 0 {
		k.WriteTimeout = 10 * time.Second
	}
	t := &c.Tail
	if t.PollInterval == 0 {
		t.PollInterval = 100 * time.Millisecond
	}
	if t.ScanInterval == 0 {
		t.ScanInterval = time.Second
	}
	if t.RotateWait == 0 {
		t.RotateWait = 5 * time.Second
	}
	if t.PartialTimeout == 0 {
		t.PartialTimeout = 5 * time.Second
	}
	if t.MaxLineBytes == 0 {
		// Below kafka-go's and the broker's 1 MiB message limit, with room
		// for the headers.
		t.MaxLineBytes = 512 << 10
	}
	if t.StartAt == "" {
		t.StartAt = "beginning"
	}
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Type == "" {
			s.Type = TypeFile
		}
		if s.Kind == "" {
			s.Kind = string(parser.SourceAuto)
			if s.Type == TypeKmsg {
				s.Kind = string(parser.SourceKernel)
			}
		}
		if s.InferLogFormat == nil {
			infer := true
			s.InferLogFormat = &infer
		}
		if s.Type == TypeKmsg && s.Device == "" {
			s.Device = "/dev/kmsg"
		}
		if s.Name == "" {
			s.Name = s.Type
			if len(s.Paths) > 0 {
				s.Name = s.Type + ":" + s.Paths[0]
			}
		}
		if m := s.Multiline; m != nil {
			if m.MaxLines == 0 {
				m.MaxLines = 500
			}
			if m.MaxBytes == 0 {
				m.MaxBytes = t.MaxLineBytes
			}
			if m.Timeout == 0 {
				m.Timeout = time.Second
			}
		}
	}
}

// Validate reports every mistake at once, before anything starts.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("config: "+format, a...)) }
	if len(c.Kafka.Brokers) == 0 {
		bad("kafka.brokers is empty")
	}
	switch c.Kafka.Compression {
	case "none", "gzip", "snappy", "lz4", "zstd":
	default:
		bad("kafka.compression %q: want none, gzip, snappy, lz4 or zstd", c.Kafka.Compression)
	}
	switch c.Kafka.Acks {
	case "all", "one":
	default:
		bad("kafka.acks %q: want all or one", c.Kafka.Acks)
	}
	switch strings.ToUpper(c.Kafka.SASL.Mechanism) {
	case "", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
	default:
		bad("kafka.sasl.mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.Kafka.SASL.Mechanism)
	}
	if c.Kafka.BatchLines < 1 || c.Kafka.MaxInFlight < 1 {
		bad("kafka.batch_lines and kafka.max_in_flight must be positive")
	}
	if c.Tail.MaxLineBytes+4096 > c.Kafka.BatchBytes {
		bad("tail.max_line_bytes %d must stay 4 KiB below kafka.batch_bytes %d (a line is one message)",
			c.Tail.MaxLineBytes, c.Kafka.BatchBytes)
	}
	if c.Tail.StartAt != "beginning" && c.Tail.StartAt != "end" {
		bad("tail.start_at %q: want beginning or end", c.Tail.StartAt)
	}
	if len(c.Sources) == 0 {
		bad("no sources")
	}
	names := map[string]bool{}
	stdin := 0
	for i, s := range c.Sources {
		where := fmt.Sprintf("sources[%d] (%s)", i, s.Name)
		if names[s.Name] {
			bad("%s: duplicate name", where)
		}
		names[s.Name] = true
		switch s.Type {
		case TypeFile:
			if len(s.Paths) == 0 {
				bad("%s: file source without paths", where)
			}
			for _, p := range s.Paths {
				if !filepath.IsAbs(p) {
					bad("%s: path %q is not absolute", where, p)
				}
				if _, err := filepath.Match(p, ""); err != nil {
					bad("%s: path %q: %v", where, p, err)
				}
			}
		case TypeKmsg:
		case TypeStdin:
			stdin++
		default:
			bad("%s: type %q: want file, kmsg or stdin", where, s.Type)
		}
		if _, err := parser.New(parser.Options{Source: parser.Source(s.Kind), LogFormat: s.LogFormat}); err != nil {
			bad("%s: %v", where, err)
		}
		if s.TZ != "" {
			if _, err := time.LoadLocation(s.TZ); err != nil {
				bad("%s: tz: %v", where, err)
			}
		}
	}
	if stdin > 1 {
		bad("more than one stdin source")
	}
	return errors.Join(errs...)
}
