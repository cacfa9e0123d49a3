package clickhouse

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/culprit-dev/culprit/parser"
)

// accessLine reads the few fields the store tests need from the scenario
// access logs (combined + upstream variables), independently of the parser
// package: these tests are about storage, not parsing.
var accessLine = regexp.MustCompile(`\[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+) .* ua="([^"]*)" us="([^"]*)"`)

type scenarioLine struct {
	ev     parser.Event
	origin Origin
}

// loadAccess reads a real access log captured by scripts/scenarios into
// request events with their line identity (file_id, byte offset).
func loadAccess(t testing.TB, path string) []scenarioLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []scenarioLine
	var off int64
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		o := Origin{Host: "proxy-1", Service: "shop", Path: path, FileID: "test:" + filepath.Base(filepath.Dir(path)),
			Offset: off, ReadTime: time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)}
		off += int64(len(line)) + 1
		var ev parser.Event
		ev.Reset()
		m := accessLine.FindStringSubmatch(line)
		if m == nil {
			ev.Unparsed(parser.SourceNginxAccess, []byte(line), "test regexp did not match")
			out = append(out, scenarioLine{ev, o})
			continue
		}
		ts, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[1])
		if err != nil {
			t.Fatal(err)
		}
		ev.Kind, ev.Source, ev.Time = parser.KindRequest, parser.SourceNginxAccess, ts.UTC()
		ev.Method, ev.URI = m[2], m[3]
		ev.Status, _ = strconv.Atoi(m[4])
		ev.BodyBytes, _ = strconv.ParseInt(m[5], 10, 64)
		ev.UpstreamAddr = strings.Split(m[6], ", ")
		for _, s := range strings.Split(m[7], ", ") {
			n, _ := strconv.Atoi(s)
			ev.UpstreamStatus = append(ev.UpstreamStatus, n)
		}
		out = append(out, scenarioLine{ev, o})
	}
	return out
}

func queryUint(t testing.TB, conn driver.Conn, q string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestStore_RedeliveryDedup(t *testing.T) {
	conn, db := testDB(t)
	ctx := context.Background()
	st := NewStore(conn, db)
	var lines []scenarioLine
	for _, sc := range []string{"pm2-oom", "slow-upstream", "deploy"} {
		lines = append(lines, loadAccess(t, filepath.Join("..", "..", "testdata", "scenarios", sc, "access.log"))...)
	}
	want5xx := map[string]uint64{} // "minute status" -> lines
	var wantReq uint64
	for _, l := range lines {
		if l.ev.Kind == parser.KindRequest {
			wantReq++
			if l.ev.Status >= 500 {
				want5xx[l.ev.Time.Truncate(time.Minute).Format("15:04")+" "+strconv.Itoa(l.ev.Status)]++
			}
		}
	}
	if len(want5xx) == 0 || wantReq < 1000 {
		t.Fatalf("fixtures hold %d requests and %d 5xx buckets: too few to test anything", wantReq, len(want5xx))
	}
	write := func(ls []scenarioLine) {
		t.Helper()
		var b Batch
		for i := range ls {
			b.Add(&ls[i].ev, &ls[i].origin)
		}
		if err := st.Write(ctx, &b); err != nil {
			t.Fatal(err)
		}
	}
	// The whole stream once, then re-deliveries as a consumer that crashed
	// before committing would make them: the same records again, in
	// different batch boundaries.
	write(lines)
	write(lines[:len(lines)/2])
	write(lines[len(lines)/3:])

	raw := queryUint(t, conn, "SELECT count() FROM "+db+".requests")
	if raw <= wantReq {
		t.Fatalf("raw count %d: the re-deliveries did not reach the table (want > %d), the test proves nothing", raw, wantReq)
	}
	if got := queryUint(t, conn, "SELECT count() FROM "+db+".requests FINAL"); got != wantReq {
		t.Errorf("requests FINAL = %d rows, want %d (one per line)", got, wantReq)
	}
	// The rollup sees every insert (the view fires on duplicates too) but
	// counts distinct line identities.
	rows, err := conn.Query(ctx, "SELECT formatDateTime(minute, '%H:%M'), status, uniqExactMerge(lines) FROM "+db+
		".requests_5xx_per_minute GROUP BY minute, status")
	if err != nil {
		t.Fatal(err)
	}
	got5xx := map[string]uint64{}
	for rows.Next() {
		var m string
		var status uint16
		var n uint64
		if err := rows.Scan(&m, &status, &n); err != nil {
			t.Fatal(err)
		}
		got5xx[m+" "+strconv.Itoa(int(status))] = n
	}
	rows.Close()
	if !equalCounts(got5xx, want5xx) {
		t.Errorf("rollup 5xx per minute:\n got %v\nwant %v", got5xx, want5xx)
	}
	// After a merge the table itself holds one row per line.
	if err := conn.Exec(ctx, "OPTIMIZE TABLE "+db+".requests FINAL"); err != nil {
		t.Fatal(err)
	}
	if got := queryUint(t, conn, "SELECT count() FROM "+db+".requests"); got != wantReq {
		t.Errorf("after OPTIMIZE FINAL: %d rows, want %d", got, wantReq)
	}
}

func equalCounts(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestStore_AllKinds(t *testing.T) {
	conn, db := testDB(t)
	ctx := context.Background()
	st := NewStore(conn, db)
	at := time.Date(2026, 11, 25, 16, 38, 46, 158_000_000, time.UTC)
	o := Origin{Host: "app-3", Service: "shop", Path: "/var/log/kern.log", FileID: "1:2:abc", Offset: 10, ReadTime: at.Add(time.Second)}
	var b Batch
	var pe, ue, un, req parser.Event
	pe.Reset()
	pe.Kind, pe.Source, pe.Class, pe.Time = parser.KindProxyError, parser.SourceNginxError, parser.ClassUpstreamRefused, at
	pe.Errno, pe.PID, pe.CID, pe.Upstream, pe.Host = 111, 20447, 302, "http://127.0.0.1:18411/api", "localhost"
	b.Add(&pe, &o)
	o.Offset = 20
	ue.Reset()
	ue.Kind, ue.Source, ue.Class, ue.Time = parser.KindUpstreamEvent, parser.SourceKernel, parser.ClassOOMKill, at
	ue.Process, ue.PID, ue.MemoryKB = "node /tmp/scena", 20352, 151234
	b.Add(&ue, &o)
	o.Offset, o.Truncated = 30, true
	un.Unparsed(parser.SourceKernel, []byte("\x00garbage"), "no timestamp")
	b.Add(&un, &o)
	o.Offset = 40
	req.Reset()
	req.Kind, req.Status, req.Time = parser.KindRequest, 200, time.Time{} // no time: read time is used
	b.Add(&req, &o)
	if b.Len() != 4 {
		t.Fatalf("Len = %d, want 4", b.Len())
	}
	if err := st.Write(ctx, &b); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ q, want string }{
		{"SELECT concat(class, ' ', toString(errno), ' ', toString(time_ms), ' ', upstream, ' ', upstream_url, ' ', host, ' ', hostname) FROM " + db + ".proxy_errors",
			"upstream_refused 111 158 127.0.0.1:18411 http://127.0.0.1:18411/api localhost app-3"},
		{"SELECT concat(class, ' ', process, ' ', toString(memory_kb), ' ', toString(exit_code)) FROM " + db + ".upstream_events",
			"oom_kill node /tmp/scena 151234 -1"},
		{"SELECT concat(reason, ' ', toString(truncated), ' ', toString(length(line))) FROM " + db + ".unparsed",
			"no timestamp 1 8"},
		{"SELECT toString(time) FROM " + db + ".requests", "2026-11-25 16:38:47"},
	} {
		var got string
		if err := conn.QueryRow(ctx, c.q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		if got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.q, got, c.want)
		}
	}
	s := st.Stats()
	if s.Inserts.Load() != 4 || s.Rows.Load() != 4 {
		t.Errorf("stats: %d inserts, %d rows; want 4, 4", s.Inserts.Load(), s.Rows.Load())
	}
}

// The Store's column lists are the schema's: a column added to a migration
// but not to the Store (or the reverse) fails here, not in production.
func TestStore_ColumnsMatchSchema(t *testing.T) {
	conn, db := testDB(t)
	for table, cols := range map[string][]string{TableRequests: requestColumns, TableProxyErrors: proxyErrorColumns,
		TableUpstreamEvents: upstreamColumns, TableUnparsed: unparsedColumns} {
		rows, err := conn.Query(context.Background(), "SELECT name FROM system.columns WHERE database = ? AND table = ?", db, table)
		if err != nil {
			t.Fatal(err)
		}
		var live []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			live = append(live, n)
		}
		rows.Close()
		ours := append([]string(nil), cols...)
		sort.Strings(live)
		sort.Strings(ours)
		if strings.Join(live, ",") != strings.Join(ours, ",") {
			t.Errorf("%s: schema has %v, Store writes %v", table, live, ours)
		}
	}
}

func TestUpstreamAddr(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:18411/api/items":         "127.0.0.1:18411",
		"fastcgi://unix:/run/php/php8.2-fpm.sock:": "unix:/run/php/php8.2-fpm.sock",
		"http://unix:/tmp/app.sock:/x":             "unix:/tmp/app.sock",
		"https://backend.internal:8443/":           "backend.internal:8443",
		"10.0.0.1:80":                              "10.0.0.1:80",
		"":                                         "",
		"uwsgi://127.0.0.1:3031":                   "127.0.0.1:3031",
	} {
		if got := upstreamAddr(in); got != want {
			t.Errorf("upstreamAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStore_PermanentError(t *testing.T) {
	conn, db := testDB(t)
	st := NewStore(conn, db+"_missing")
	var b Batch
	var ev parser.Event
	ev.Unparsed("", []byte("x"), "test")
	b.Add(&ev, &Origin{ReadTime: time.Now()})
	err := st.Write(context.Background(), &b)
	if err == nil || !IsPermanent(err) {
		t.Fatalf("insert into a missing database: %v; want a permanent error", err)
	}
	if st.Stats().Failures.Load() != 1 {
		t.Errorf("failures = %d, want 1", st.Stats().Failures.Load())
	}
}

func TestStore_RetryableWhenDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Nothing listens on this port of our range: like a server that is down.
	_, err := Open(ctx, ConnConfig{Addr: "127.0.0.1:18799", DialTimeout: time.Second})
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	if IsPermanent(classify(err)) {
		t.Errorf("connection refused classified permanent: %v", err)
	}
}

// BenchmarkStore_Write measures rows/s into the test server for batches of
// real access lines (the rows the analyzer writes most).
func BenchmarkStore_Write(b *testing.B) {
	conn, db := testDB(b)
	st := NewStore(conn, db)
	lines := loadAccess(b, filepath.Join("..", "..", "testdata", "scenarios", "pm2-oom", "access.log"))
	const rows = 20000
	var batch Batch
	for i := 0; i < rows; i++ {
		l := lines[i%len(lines)]
		l.origin.Offset = int64(i)
		batch.Add(&l.ev, &l.origin)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := st.Write(context.Background(), &batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
