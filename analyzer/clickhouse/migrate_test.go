package clickhouse

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/culprit-dev/culprit/internal/testenv"
	"github.com/culprit-dev/culprit/schemas"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func loadMigrations(t testing.TB) []Migration {
	t.Helper()
	migs, err := LoadMigrations(schemas.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) == 0 {
		t.Fatal("no migrations embedded")
	}
	return migs
}

// testDB connects to the test server and migrates a fresh database that the
// test drops at the end.
func testDB(t testing.TB) (driver.Conn, string) {
	t.Helper()
	addr := testenv.ClickHouseAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := Open(ctx, ConnConfig{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("culprit_test_%d", rand.Uint32())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
		conn.Close()
	})
	mg := &Migrator{Conn: conn, Opts: RenderOptions{Database: db, TTLDays: 30}, Logger: discard()}
	if _, err := mg.Migrate(ctx, loadMigrations(t)); err != nil {
		t.Fatal(err)
	}
	return conn, db
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		ok   bool
	}{
		{"18.16.1", Version{18, 16}, true},
		{"24.8.4.13", Version{24, 8}, true},
		{"26.9", Version{26, 9}, true},
		{"x.1", Version{}, false},
		{"19", Version{}, false},
	} {
		got, err := ParseVersion(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if !(Version{19, 6}).AtLeast(Version{19, 6}) || (Version{18, 16}).AtLeast(Version{19, 6}) || !(Version{20, 1}).AtLeast(Version{19, 6}) {
		t.Error("AtLeast compares wrong")
	}
}

func TestPlan_VersionGates(t *testing.T) {
	migs := loadMigrations(t)
	opts := RenderOptions{Database: "culprit", TTLDays: 30}
	old, err := Plan(migs, Version{18, 16}, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := Plan(migs, Version{24, 8}, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	skippedOld, skippedCur := 0, 0
	for i := range old {
		if old[i].Skipped {
			skippedOld++
			for _, s := range old[i].Statements {
				if !strings.Contains(s, "TTL") && !strings.Contains(s, "CODEC") && !strings.Contains(s, "INDEX") {
					t.Errorf("gated migration %s holds a statement 18.16 could run: %s", old[i].Migration.Name, s)
				}
			}
		} else {
			for _, s := range old[i].Statements {
				for _, newer := range []string{" TTL ", "CODEC(", "ADD INDEX", "DateTime64", "Map(", "toStartOfInterval"} {
					if strings.Contains(s, newer) {
						t.Errorf("%s is applied on 18.16 but uses %q:\n%s", old[i].Migration.Name, newer, s)
					}
				}
			}
		}
		if cur[i].Skipped {
			skippedCur++
		}
	}
	if skippedOld == 0 {
		t.Error("18.16 skipped no migration, but TTL/codecs/indexes need newer servers")
	}
	if skippedCur != 0 {
		t.Errorf("24.8 skipped %d migrations", skippedCur)
	}
	noTTL, err := Plan(migs, Version{24, 8}, nil, RenderOptions{Database: "culprit"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range noTTL {
		for _, s := range st.Statements {
			if strings.Contains(s, "TTL") {
				t.Errorf("ttl 0 still renders %s", s)
			}
		}
	}
}

func TestRender_Cluster(t *testing.T) {
	migs := loadMigrations(t)
	steps, err := Plan(migs, Version{24, 8}, nil, RenderOptions{Database: "culprit", Cluster: "prod", TTLDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, st := range steps {
		all = append(all, st.Statements...)
	}
	boot, err := bootstrapSQL(RenderOptions{Database: "culprit", Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, boot...)
	distributed := map[string]bool{}
	for _, s := range all {
		if !strings.Contains(s, "ON CLUSTER prod") {
			t.Errorf("statement without ON CLUSTER:\n%s", s)
		}
		if strings.Contains(s, "ENGINE = ReplacingMergeTree") || strings.Contains(s, "ENGINE = AggregatingMergeTree") {
			t.Errorf("non-replicated engine in cluster mode:\n%s", s)
		}
		if strings.HasPrefix(s, "CREATE TABLE") && strings.Contains(s, "MergeTree(") &&
			!strings.Contains(s, "'/clickhouse/tables/{shard}/culprit/") {
			t.Errorf("replicated table without a per-shard ZooKeeper path:\n%s", s)
		}
		if i := strings.Index(s, "ENGINE = Distributed(prod, culprit, "); i >= 0 {
			name := strings.Fields(s[i+len("ENGINE = Distributed(prod, culprit, "):])[0]
			distributed[strings.TrimSuffix(name, ",")] = true
		}
		if strings.HasPrefix(s, "CREATE MATERIALIZED VIEW") &&
			(!strings.Contains(s, "FROM culprit.requests_local") || !strings.Contains(s, "TO culprit.requests_5xx_per_minute_local")) {
			t.Errorf("the rollup view must read and write the shard-local tables:\n%s", s)
		}
		if strings.Contains(s, "TTL") && !strings.Contains(s, "INTERVAL 7 DAY") {
			t.Errorf("TTL not from options: %s", s)
		}
	}
	for _, table := range []string{"requests", "proxy_errors", "upstream_events", "unparsed", "incidents", "incident_evidence", "requests_5xx_per_minute"} {
		if !distributed[table+"_local"] {
			t.Errorf("no Distributed table over %s_local", table)
		}
	}
	// A column added to a sharded table is added to its Distributed twin.
	for _, local := range []string{"ALTER TABLE culprit.incidents_local ON CLUSTER prod ADD COLUMN merged_into",
		"ALTER TABLE culprit.incidents ON CLUSTER prod ADD COLUMN merged_into"} {
		if !slices.ContainsFunc(all, func(s string) bool { return strings.HasPrefix(s, local) }) {
			t.Errorf("no %s", local)
		}
	}
	// Lines are sharded by identity so a re-delivered copy meets the first
	// one in the same shard's ReplacingMergeTree.
	for _, s := range all {
		if strings.Contains(s, "Distributed(prod, culprit, requests_local") && !strings.Contains(s, "cityHash64(file_id, line_offset)") {
			t.Errorf("requests not sharded by line identity:\n%s", s)
		}
	}
}

func TestRender_RejectsBadNames(t *testing.T) {
	migs := loadMigrations(t)
	for _, opts := range []RenderOptions{{Database: "x; DROP"}, {Database: "ok", Cluster: "a b"}, {Database: ""}} {
		if _, err := migs[0].Render(opts); err == nil {
			t.Errorf("Render(%+v) accepted a bad identifier", opts)
		}
	}
}

func TestMigrate_Idempotent(t *testing.T) {
	conn, db := testDB(t)
	ctx := context.Background()
	mg := &Migrator{Conn: conn, Opts: RenderOptions{Database: db, TTLDays: 30}, Logger: discard()}
	v, _, err := mg.ServerVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A second and third run apply nothing new and fail on nothing.
	for run := 0; run < 2; run++ {
		steps, err := mg.Migrate(ctx, loadMigrations(t))
		if err != nil {
			t.Fatalf("run %d: %v", run+2, err)
		}
		for _, st := range steps {
			if !st.Skipped {
				t.Errorf("run %d re-applied %s", run+2, st.Migration.Name)
			}
		}
	}
	applied, err := mg.Applied(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range loadMigrations(t) {
		_, ok := applied[m.Version]
		if want := v.AtLeast(m.Requires); ok != want {
			t.Errorf("%s recorded=%v, want %v on server %v", m.Name, ok, want, v)
		}
	}
	var tables []string
	rows, err := conn.Query(ctx, "SELECT name FROM system.tables WHERE database = ? ORDER BY name", db)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	want := "incident_evidence incidents proxy_errors request_links requests requests_5xx_per_minute requests_5xx_per_minute_mv requests_linked schema_migrations unparsed upstream_events"
	if got := strings.Join(tables, " "); got != want {
		t.Errorf("tables:\n got %s\nwant %s", got, want)
	}
}

// A run cut short after an ADD COLUMN but before it recorded the migration:
// 18.16 has no ADD COLUMN IF NOT EXISTS, so the next run must take the
// server's "already exists" for done.
func TestMigrate_ResumesAddColumn(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	ctx := context.Background()
	conn, err := Open(ctx, ConnConfig{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("culprit_test_%d", rand.Uint32())
	t.Cleanup(func() {
		if err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
		conn.Close()
	})
	all := loadMigrations(t)
	var before []Migration
	var adds *Migration
	for i, m := range all {
		if strings.Contains(m.body, " ADD COLUMN ") && adds == nil {
			adds = &all[i]
			break
		}
		before = append(before, m)
	}
	if adds == nil {
		t.Skip("no migration adds a column")
	}
	mg := &Migrator{Conn: conn, Opts: RenderOptions{Database: db}, Logger: discard()}
	if _, err := mg.Migrate(ctx, before); err != nil {
		t.Fatal(err)
	}
	stmts, err := adds.Render(mg.Opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, stmts[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := mg.Migrate(ctx, all); err != nil {
		t.Fatalf("resume after %s was half applied: %v", adds.Name, err)
	}
	applied, err := mg.Applied(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := applied[adds.Version]; !ok {
		t.Errorf("%s not recorded", adds.Name)
	}
}
