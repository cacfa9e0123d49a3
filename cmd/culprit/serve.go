package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/ui"
)

// serveOptions are the flags of `culprit serve`.
type serveOptions struct {
	addr, chAddr, database, user, password string
}

// runServe serves the incident web UI, reading ClickHouse.
func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve")
	var o serveOptions
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "`host:port` the UI listens on")
	fs.StringVar(&o.chAddr, "clickhouse", envOr("CULPRIT_CLICKHOUSE_ADDR", "127.0.0.1:9000"), "ClickHouse native protocol `host:port` (env CULPRIT_CLICKHOUSE_ADDR)")
	fs.StringVar(&o.database, "database", envOr("CULPRIT_DATABASE", "culprit"), "ClickHouse `database` that culprit migrate created (env CULPRIT_DATABASE)")
	fs.StringVar(&o.user, "user", envOr("CULPRIT_CLICKHOUSE_USER", "default"), "ClickHouse `user`; give the UI a read-only one (env CULPRIT_CLICKHOUSE_USER)")
	fs.StringVar(&o.password, "password", os.Getenv("CULPRIT_CLICKHOUSE_PASSWORD"), "ClickHouse password (env CULPRIT_CLICKHOUSE_PASSWORD)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: serve takes no arguments, got %q", errUsage, fs.Args())
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return serve(ctx, e.logger, o, ln)
}

// serve answers on ln until ctx is cancelled.
func serve(ctx context.Context, log *slog.Logger, o serveOptions, ln net.Listener) error {
	defer ln.Close()
	conn, err := clickhouse.Open(ctx, clickhouse.ConnConfig{Addr: o.chAddr, User: o.user, Password: o.password,
		ReadTimeout: 30 * time.Second})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer conn.Close()
	// The UI only reads. Say so when the user could write: a read-only
	// user is the cheap guarantee that it never will.
	var ro string
	if err := conn.QueryRow(ctx, "SELECT value FROM system.settings WHERE name = 'readonly'").Scan(&ro); err == nil && ro == "0" {
		log.Warn("serve: the ClickHouse user may write; the UI needs only a read-only one", "user", o.user)
	}
	h, err := ui.New(&ui.ClickHouse{Conn: conn, Database: o.database}, log)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serve: listening", "addr", "http://"+ln.Addr().String(), "clickhouse", o.chAddr, "database", o.database)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}
