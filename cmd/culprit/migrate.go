package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/schemas"
)

// runMigrate creates or upgrades the ClickHouse schema from the migrations
// embedded in the binary.
func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "migrate")
	addr := fs.String("addr", envOr("CULPRIT_CLICKHOUSE_ADDR", "127.0.0.1:9000"), "ClickHouse native protocol host:port (env CULPRIT_CLICKHOUSE_ADDR)")
	user := fs.String("user", envOr("CULPRIT_CLICKHOUSE_USER", "default"), "ClickHouse user (env CULPRIT_CLICKHOUSE_USER)")
	password := fs.String("password", os.Getenv("CULPRIT_CLICKHOUSE_PASSWORD"), "ClickHouse password (env CULPRIT_CLICKHOUSE_PASSWORD)")
	database := fs.String("database", "culprit", "database to create or upgrade")
	cluster := fs.String("cluster", "", "render ON CLUSTER DDL with Replicated tables (NAME_local) and Distributed tables for this cluster")
	ttlDays := fs.Int("ttl-days", 30, "retention of the event tables in days, on servers with TTL (19.6+); 0 keeps data forever")
	dryRun := fs.Bool("dry-run", false, "print the SQL of pending migrations without applying it")
	serverVersion := fs.String("server-version", "", "with --dry-run: render for this server version (e.g. 24.8) without connecting, as if nothing were applied")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: migrate takes no arguments, got %q", errUsage, fs.Args())
	}
	if *serverVersion != "" && !*dryRun {
		return fmt.Errorf("%w: --server-version needs --dry-run", errUsage)
	}
	opts := clickhouse.RenderOptions{Database: *database, Cluster: *cluster, TTLDays: *ttlDays}
	migs, err := clickhouse.LoadMigrations(schemas.FS)
	if err != nil {
		return err
	}
	if *serverVersion != "" {
		v, err := clickhouse.ParseVersion(*serverVersion)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		steps, err := clickhouse.Plan(migs, v, nil, opts)
		if err != nil {
			return err
		}
		return printPlan(e.stdout, steps)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	conn, err := clickhouse.Open(ctx, clickhouse.ConnConfig{Addr: *addr, User: *user, Password: *password})
	if err != nil {
		return err
	}
	defer conn.Close()
	mg := &clickhouse.Migrator{Conn: conn, Opts: opts, Logger: e.logger}
	if *dryRun {
		v, _, err := mg.ServerVersion(ctx)
		if err != nil {
			return err
		}
		done, err := mg.Applied(ctx)
		if err != nil {
			return err
		}
		applied := map[int]bool{}
		for ver := range done {
			applied[ver] = true
		}
		steps, err := clickhouse.Plan(migs, v, applied, opts)
		if err != nil {
			return err
		}
		return printPlan(e.stdout, steps)
	}
	steps, err := mg.Migrate(ctx, migs)
	if err != nil {
		return err
	}
	n := 0
	for _, st := range steps {
		if st.Skipped {
			fmt.Fprintf(e.stdout, "skipped %s (needs ClickHouse %s or newer)\n", st.Migration.Name, st.Migration.Requires)
			continue
		}
		n++
		fmt.Fprintf(e.stdout, "applied %s (%d statements)\n", st.Migration.Name, len(st.Statements))
	}
	if n == 0 {
		fmt.Fprintf(e.stdout, "database %s is up to date\n", *database)
	}
	return nil
}

func printPlan(w io.Writer, steps []clickhouse.Step) error {
	for _, st := range steps {
		if st.Skipped {
			fmt.Fprintf(w, "-- %s: skipped, needs ClickHouse %s or newer\n\n", st.Migration.Name, st.Migration.Requires)
			continue
		}
		fmt.Fprintf(w, "-- %s\n", st.Migration.Name)
		for _, s := range st.Statements {
			if _, err := fmt.Fprintf(w, "%s;\n\n", s); err != nil {
				return err
			}
		}
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
