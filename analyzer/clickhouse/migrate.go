package clickhouse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// MigrationsTable records which migrations a database has applied.
const MigrationsTable = "schema_migrations"

// Version is a ClickHouse server version, as version() prints it.
type Version struct{ Major, Minor int }

// ParseVersion reads "18.16.1" or "24.8.4.13".
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("clickhouse version %q: want MAJOR.MINOR", s)
	}
	maj, err1 := strconv.Atoi(parts[0])
	min, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return Version{}, fmt.Errorf("clickhouse version %q: want MAJOR.MINOR", s)
	}
	return Version{maj, min}, nil
}

// AtLeast reports whether v is v2 or newer.
func (v Version) AtLeast(v2 Version) bool {
	return v.Major > v2.Major || v.Major == v2.Major && v.Minor >= v2.Minor
}

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// needsLowCardinalitySetting: before 19.x LowCardinality was experimental and
// CREATE TABLE refuses it without allow_experimental_low_cardinality_type.
func (v Version) needsLowCardinalitySetting() bool { return !v.AtLeast(Version{19, 0}) }

// Migration is one numbered .sql file.
type Migration struct {
	Version  int
	Name     string  // file name
	Requires Version // minimum server version; zero when any will do
	Checksum string  // of the file as embedded, to notice an edited migration
	body     string
}

var (
	migrationName = regexp.MustCompile(`^(\d+)_[a-z0-9_]+\.sql$`)
	requiresLine  = regexp.MustCompile(`(?m)^--\s*culprit:requires\s+(\S+)\s*$`)
)

// LoadMigrations reads the numbered .sql files of fsys in version order.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, name := range names {
		m := migrationName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_words.sql", name)
		}
		v, _ := strconv.Atoi(m[1])
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, v)
		}
		seen[v] = name
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		mig := Migration{Version: v, Name: name, body: string(b)}
		sum := sha256.Sum256(b)
		mig.Checksum = hex.EncodeToString(sum[:8])
		if r := requiresLine.FindStringSubmatch(mig.body); r != nil {
			if mig.Requires, err = ParseVersion(r[1]); err != nil {
				return nil, fmt.Errorf("migration %s: %w", name, err)
			}
		}
		ms = append(ms, mig)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// RenderOptions choose the SQL a migration renders to.
type RenderOptions struct {
	Database string
	// Cluster, when set, renders ON CLUSTER DDL, Replicated engines for the
	// tables that hold rows (named NAME_local) and Distributed tables under
	// the public names, sharded by line identity so that a re-delivered line
	// meets its first copy on the same shard and deduplicates there.
	Cluster string
	// TTLDays is the retention of the event tables; 0 keeps data forever.
	TTLDays int
}

type renderData struct {
	DB        string
	OnCluster string
	TTLDays   int
}

// Render returns m's statements for opts, in order.
func (m Migration) Render(opts RenderOptions) ([]string, error) {
	return renderSQL(m.Name, m.body, opts)
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func renderSQL(name, body string, opts RenderOptions) ([]string, error) {
	if !identifier.MatchString(opts.Database) {
		return nil, fmt.Errorf("database name %q: want an identifier", opts.Database)
	}
	if opts.Cluster != "" && !identifier.MatchString(opts.Cluster) {
		return nil, fmt.Errorf("cluster name %q: want an identifier", opts.Cluster)
	}
	db, cluster := opts.Database, opts.Cluster
	funcs := template.FuncMap{
		"table": func(t string) string {
			if cluster != "" {
				return t + "_local"
			}
			return t
		},
		"engine": func(engine, table string, args ...string) string {
			if cluster == "" {
				return engine + "(" + strings.Join(args, ", ") + ")"
			}
			// {shard} and {replica} are the server's macros: each replica
			// substitutes its own.
			zk := []string{fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s'", db, table), "'{replica}'"}
			return "Replicated" + engine + "(" + strings.Join(append(zk, args...), ", ") + ")"
		},
		"distributed": func(table, shardKey string) string {
			if cluster == "" {
				return ""
			}
			return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s AS %s.%s_local\nENGINE = Distributed(%s, %s, %s_local, %s);",
				db, table, cluster, db, table, cluster, db, table, shardKey)
		},
	}
	tmpl, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(body)
	if err != nil {
		return nil, fmt.Errorf("migration %s: %w", name, err)
	}
	data := renderData{DB: db, TTLDays: opts.TTLDays}
	if cluster != "" {
		data.OnCluster = "ON CLUSTER " + cluster
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("migration %s: %w", name, err)
	}
	return splitStatements(buf.String()), nil
}

// splitStatements cuts SQL at semicolons that end a line and drops comment
// lines; the migrations keep string literals free of such semicolons.
func splitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(strings.TrimRight(line, " \t"))
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			stmt := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			if stmt != "" {
				out = append(out, stmt)
			}
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, strings.TrimSuffix(rest, ";"))
	}
	return out
}

// bootstrapSQL creates the database and the migrations table itself.
func bootstrapSQL(opts RenderOptions) ([]string, error) {
	const body = `CREATE DATABASE IF NOT EXISTS {{.DB}} {{.OnCluster}};
CREATE TABLE IF NOT EXISTS {{.DB}}.` + MigrationsTable + ` {{.OnCluster}}
(
    version        UInt32,
    name           String,
    checksum       String,
    server_version String,
    applied_at     DateTime('UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "` + MigrationsTable + `"}}
ORDER BY version;`
	// The migrations table is replicated but never distributed: every
	// replica sees the same record and DDL ON CLUSTER reaches every shard.
	return renderSQL("bootstrap", body, opts)
}

// Step is one migration's fate in a Migrate run.
type Step struct {
	Migration  Migration
	Statements []string
	// Skipped is true when the server is older than Migration.Requires: the
	// migration is not recorded, so a later run on an upgraded server
	// applies it.
	Skipped bool
}

// Plan lists what Migrate would do against a server of version v that has
// already applied the versions in applied.
func Plan(migs []Migration, v Version, applied map[int]bool, opts RenderOptions) ([]Step, error) {
	var steps []Step
	for _, m := range migs {
		if applied[m.Version] {
			continue
		}
		stmts, err := m.Render(opts)
		if err != nil {
			return nil, err
		}
		steps = append(steps, Step{Migration: m, Statements: stmts, Skipped: !v.AtLeast(m.Requires)})
	}
	return steps, nil
}

// Migrator applies migrations to one server.
type Migrator struct {
	Conn   driver.Conn
	Opts   RenderOptions
	Logger *slog.Logger
}

// ServerVersion asks the server what it is.
func (mg *Migrator) ServerVersion(ctx context.Context) (Version, string, error) {
	var s string
	if err := mg.Conn.QueryRow(ctx, "SELECT version()").Scan(&s); err != nil {
		return Version{}, "", fmt.Errorf("query version(): %w", err)
	}
	v, err := ParseVersion(s)
	return v, s, err
}

// ctxFor adds the settings the server's version needs for our DDL.
func ctxFor(ctx context.Context, v Version) context.Context {
	if v.needsLowCardinalitySetting() {
		return withSettings(ctx, map[string]any{"allow_experimental_low_cardinality_type": 1})
	}
	return ctx
}

// Applied returns the versions recorded in the migrations table, or an
// empty set when the database or table does not exist yet.
func (mg *Migrator) Applied(ctx context.Context) (map[int]string, error) {
	var n uint64
	if err := mg.Conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?",
		mg.Opts.Database, MigrationsTable).Scan(&n); err != nil {
		return nil, fmt.Errorf("look for %s.%s: %w", mg.Opts.Database, MigrationsTable, err)
	}
	applied := map[int]string{}
	if n == 0 {
		return applied, nil
	}
	rows, err := mg.Conn.Query(ctx, fmt.Sprintf("SELECT version, checksum FROM %s.%s FINAL", mg.Opts.Database, MigrationsTable))
	if err != nil {
		return nil, fmt.Errorf("read %s.%s: %w", mg.Opts.Database, MigrationsTable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v uint32
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, fmt.Errorf("read %s.%s: %w", mg.Opts.Database, MigrationsTable, err)
		}
		applied[int(v)] = sum
	}
	return applied, rows.Err()
}

// Migrate applies every pending migration the server supports and records
// each; it is safe to run again (every statement is IF NOT EXISTS or an
// idempotent ALTER, so a run cut short also resumes cleanly).
func (mg *Migrator) Migrate(ctx context.Context, migs []Migration) ([]Step, error) {
	v, full, err := mg.ServerVersion(ctx)
	if err != nil {
		return nil, err
	}
	ctx = ctxFor(ctx, v)
	boot, err := bootstrapSQL(mg.Opts)
	if err != nil {
		return nil, err
	}
	for _, stmt := range boot {
		if err := mg.Conn.Exec(ctx, stmt); err != nil {
			return nil, fmt.Errorf("bootstrap: %w\n%s", err, stmt)
		}
	}
	appliedSums, err := mg.Applied(ctx)
	if err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	for _, m := range migs {
		if sum, ok := appliedSums[m.Version]; ok {
			applied[m.Version] = true
			if sum != m.Checksum {
				mg.Logger.Warn("applied migration differs from the embedded one; not re-applied",
					"migration", m.Name, "recorded", sum, "embedded", m.Checksum)
			}
		}
	}
	steps, err := Plan(migs, v, applied, mg.Opts)
	if err != nil {
		return nil, err
	}
	for _, st := range steps {
		if st.Skipped {
			mg.Logger.Info("migration needs a newer server; skipped until then",
				"migration", st.Migration.Name, "requires", st.Migration.Requires, "server", full)
			continue
		}
		for _, stmt := range st.Statements {
			if err := mg.Conn.Exec(ctx, stmt); err != nil {
				if columnExists(stmt, err) {
					// Added by a run cut short before it recorded the
					// migration (18.16 has no ADD COLUMN IF NOT EXISTS).
					mg.Logger.Info("column already added", "migration", st.Migration.Name)
					continue
				}
				return steps, fmt.Errorf("migration %s: %w\n%s", st.Migration.Name, err, stmt)
			}
		}
		if err := mg.record(ctx, st.Migration, full); err != nil {
			return steps, err
		}
		mg.Logger.Info("migration applied", "migration", st.Migration.Name, "statements", len(st.Statements))
	}
	return steps, nil
}

// columnExists reports whether err says that stmt, an ADD COLUMN, found its
// column already there: "Cannot add column x: column with this name
// already exists" (code 44, from 18.16 to current servers; ON CLUSTER wraps
// the hosts' answers in an exception of its own that quotes the text).
func columnExists(stmt string, err error) bool {
	return strings.Contains(stmt, " ADD COLUMN ") && strings.Contains(err.Error(), "column with this name already exists")
}

// record notes m as applied. A batch, not INSERT ... VALUES through Exec:
// over the native protocol an 18.16 server waits for a data block after
// such an INSERT, and only a batch sends one.
func (mg *Migrator) record(ctx context.Context, m Migration, server string) error {
	b, err := mg.Conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s.%s (version, name, checksum, server_version, applied_at)",
		mg.Opts.Database, MigrationsTable))
	if err != nil {
		return fmt.Errorf("record migration %s: %w", m.Name, err)
	}
	defer b.Close()
	if err := b.Append(uint32(m.Version), m.Name, m.Checksum, server, time.Now().UTC()); err != nil {
		return fmt.Errorf("record migration %s: %w", m.Name, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record migration %s: %w", m.Name, err)
	}
	return nil
}
