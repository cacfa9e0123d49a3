// Package clickhouse owns everything culprit knows about ClickHouse: the
// schema migrations (rendered from the embedded schemas/ for one node or a
// cluster, version-gated for old servers) and the Store that batch-inserts
// events over the native protocol. Nothing else in culprit imports the
// driver.
package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ConnConfig says where ClickHouse is.
type ConnConfig struct {
	Addr     string // host:port of the native protocol (9000 by default)
	User     string
	Password string
	// DialTimeout bounds connecting; ReadTimeout bounds one query or insert.
	DialTimeout time.Duration
	ReadTimeout time.Duration
}

// Open connects over the native protocol: clickhouse-go's HTTP protocol
// fails against the 18.16 servers the tests run. Tables are always named
// with their database, so the session stays in "default" (which exists
// before `culprit migrate` creates ours).
func Open(ctx context.Context, cfg ConnConfig) (driver.Conn, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:9000"
	}
	if cfg.User == "" {
		cfg.User = "default"
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 60 * time.Second
	}
	conn, err := ch.Open(&ch.Options{
		Addr:        []string{cfg.Addr},
		Protocol:    ch.Native,
		Auth:        ch.Auth{Database: "default", Username: cfg.User, Password: cfg.Password},
		DialTimeout: cfg.DialTimeout,
		ReadTimeout: cfg.ReadTimeout,
		Compression: &ch.Compression{Method: ch.CompressionLZ4},
		// The driver encodes a block into one buffer per connection and
		// sends it when it passes this size; at its 10 MiB default a 50 k-row
		// batch grew that buffer and its compressed copy to ~24 MB each, kept
		// by every pooled connection.
		MaxCompressionBuffer: 4 << 20,
		MaxOpenConns:         4,
		MaxIdleConns:         2,
		ConnMaxLifetime:      time.Hour,
		ConnOpenStrategy:     ch.ConnOpenInOrder,
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", cfg.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse %s: %w", cfg.Addr, err)
	}
	return conn, nil
}

func withSettings(ctx context.Context, s map[string]any) context.Context {
	return ch.Context(ctx, ch.WithSettings(ch.Settings(s)))
}
