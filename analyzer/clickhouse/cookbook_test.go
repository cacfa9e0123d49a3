package clickhouse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/parser"
)

// cookbookScenarios are real captures (scripts/scenarios) with different
// causes; the cookbook runs over all of them at once, like a week of data.
var cookbookScenarios = []string{"pm2-oom", "gunicorn-oom-kmsg", "gunicorn-timeout", "slow-upstream", "deploy", "crash-twice", "rate-limit"}

type loaded struct {
	events    []parser.Event // every parsed event, all scenarios
	incidents []analyzer.Incident
	silentOOM time.Time
}

// loadScenarios parses the scenario files as culprit analyze would see them
// (one service per scenario), writes every event to db, correlates each
// scenario with the analyzer engine and writes its incidents, twice, as a
// restarted analyzer would.
func loadScenarios(t *testing.T, conn driver.Conn, db string) loaded {
	t.Helper()
	ctx := context.Background()
	st := NewStore(conn, db)
	var out loaded
	var b Batch
	for _, sc := range cookbookScenarios {
		dir := filepath.Join("..", "..", "testdata", "scenarios", sc)
		var truth struct {
			TZ        string `json:"tz"`
			LogFormat string `json:"log_format"`
			BootTime  string `json:"boot_time"`
		}
		raw, err := os.ReadFile(filepath.Join(dir, "truth.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &truth); err != nil {
			t.Fatal(err)
		}
		loc, err := time.LoadLocation(truth.TZ)
		if err != nil {
			t.Fatal(err)
		}
		var boot time.Time
		if truth.BootTime != "" {
			if boot, err = time.Parse(time.RFC3339Nano, truth.BootTime); err != nil {
				t.Fatal(err)
			}
		}
		eng, err := analyzer.New(analyzer.Config{})
		if err != nil {
			t.Fatal(err)
		}
		var evidence []*analyzer.Evidence
		files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, f := range files {
			opts := parser.Options{Source: parser.SourceAuto, Location: loc, BootTime: boot}
			switch filepath.Base(f) {
			case "access.log":
				opts.Source, opts.LogFormat = parser.SourceNginxAccess, truth.LogFormat
			case "error.log":
				opts.Source = parser.SourceNginxError
			}
			p, err := parser.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			o := Origin{Host: "host-" + sc, Service: sc, Path: f, FileID: "test:" + sc + ":" + filepath.Base(f),
				ReadTime: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)}
			s := bufio.NewScanner(bytes.NewReader(data))
			s.Buffer(nil, 1<<20)
			var ev parser.Event
			for s.Scan() {
				// A fresh buffer per line: the batch keeps strings that
				// alias it (as it keeps a Kafka record's value).
				line := append([]byte(nil), s.Bytes()...)
				p.Parse(line, &ev)
				b.Add(&ev, &o)
				c := ev.Clone()
				out.events = append(out.events, c)
				if analyzer.Wants(&c) && !c.Time.IsZero() {
					evidence = append(evidence, &analyzer.Evidence{Event: c, Origin: analyzer.Origin{Path: f, Host: o.Host},
						Line: s.Text()})
				}
				o.Offset += int64(len(line)) + 1
			}
		}
		sort.SliceStable(evidence, func(i, j int) bool { return evidence[i].Event.Time.Before(evidence[j].Event.Time) })
		for _, x := range evidence {
			eng.Add(x)
		}
		eng.Flush()
		latest := map[string]analyzer.Incident{}
		for _, in := range eng.Drain() {
			latest[in.ID] = in
		}
		for _, in := range latest {
			// The store's service is the shipper label, as in culprit analyze.
			in.Service = sc
			out.incidents = append(out.incidents, in)
		}
	}
	// One OOM kill with no 5xx after it: the pm2-oom kill line again, an hour
	// later, as another host's kernel would log it.
	for _, ev := range out.events {
		if ev.Class == parser.ClassOOMKill && out.silentOOM.IsZero() {
			ev.Time = ev.Time.Add(time.Hour)
			out.silentOOM = ev.Time.Truncate(time.Second)
			b.Add(&ev, &Origin{Host: "app-9", Service: "batch", Path: "/dev/kmsg", FileID: "test:silent-oom", ReadTime: ev.Time})
			out.events = append(out.events, ev)
		}
	}
	if out.silentOOM.IsZero() {
		t.Fatal("no oom_kill event parsed from the scenarios")
	}
	for i := 0; i < 2; i++ {
		if err := st.Write(ctx, &b); err != nil {
			t.Fatal(err)
		}
		if err := st.WriteIncidents(ctx, out.incidents, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if len(out.incidents) < len(cookbookScenarios) {
		t.Fatalf("the engine found %d incidents in %d scenarios with one each", len(out.incidents), len(cookbookScenarios))
	}
	return out
}

var cookbookBlock = regexp.MustCompile("(?s)```sql\n-- cookbook: ([a-z0-9-]+)\n(.*?)```")

func cookbook(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "clickhouse.md"))
	if err != nil {
		t.Fatal(err)
	}
	qs := map[string]string{}
	for _, m := range cookbookBlock.FindAllStringSubmatch(string(doc), -1) {
		qs[m[1]] = m[2]
	}
	if len(qs) < 8 {
		t.Fatalf("docs/clickhouse.md has %d cookbook queries", len(qs))
	}
	return qs
}

func queryAll(t *testing.T, conn driver.Conn, q string) [][]string {
	t.Helper()
	// Read every column as text, whatever its type.
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	var out [][]string
	cols := rows.ColumnTypes()
	for rows.Next() {
		vals := make([]any, len(cols))
		for i, c := range cols {
			vals[i] = newScan(c.ScanType())
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = fmt.Sprint(deref(v))
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The cookbook's queries run on 18.16 over the scenario data and say what
// the events and the engine's incidents say.
func TestCookbook(t *testing.T) {
	conn, db := testDB(t)
	data := loadScenarios(t, conn, db)
	// "now" is fixed at the end of the day the scenarios were captured.
	at := "toDateTime('2026-11-26 00:00:00', 'UTC')"
	run := func(name string) [][]string {
		q, ok := cookbook(t)[name]
		if !ok {
			t.Fatalf("cookbook query %q missing from docs/clickhouse.md", name)
		}
		q = strings.ReplaceAll(q, "culprit.", db+".")
		q = strings.ReplaceAll(q, "now()", at)
		return queryAll(t, conn, q)
	}
	for name := range cookbook(t) {
		t.Run(name, func(t *testing.T) {
			rows := run(name)
			switch name {
			case "5xx-per-minute":
				var want, got int
				for _, ev := range data.events {
					if ev.Kind == parser.KindRequest && ev.Status >= 500 && ev.Status < 600 {
						want++
					}
				}
				for _, r := range rows {
					got += atoi(t, r[4])
				}
				if got != want || want == 0 {
					t.Errorf("rollup counts %d 5xx, the logs hold %d", got, want)
				}
			case "top-causes":
				want := map[string]int{}
				for _, in := range data.incidents {
					want[string(in.Cause)]++
				}
				got := map[string]int{}
				for _, r := range rows {
					got[r[0]] = atoi(t, r[1])
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("top causes %v, the engine found %v", got, want)
				}
				if got["oom_kill"] < 2 || got["worker_timeout"] < 1 {
					t.Errorf("top causes %v lack the scenarios' oom_kill (2) and worker_timeout", got)
				}
			case "mttr":
				want := map[string]int{}
				for _, in := range data.incidents {
					if !in.Open {
						want[in.Service]++
					}
				}
				for _, r := range rows {
					if atoi(t, r[1]) != want[r[0]] {
						t.Errorf("mttr: %s has %s incidents, want %d", r[0], r[1], want[r[0]])
					}
				}
				if len(rows) != len(want) {
					t.Errorf("mttr rows %d, want %d services", len(rows), len(want))
				}
			case "requests-affected":
				if len(rows) != len(data.incidents) {
					t.Errorf("%d rows for %d incidents", len(rows), len(data.incidents))
				}
				for _, r := range rows {
					if r[2] != "" && atoi(t, r[4]) == 0 {
						t.Errorf("incident %s on %s: no stored 5xx in its window (%v)", r[0], r[2], r)
					}
				}
			case "silent-oom-kills":
				if len(rows) != 1 || !strings.HasPrefix(rows[0][0], data.silentOOM.Format("2006-01-02 15:04:05")) {
					t.Errorf("silent OOM kills %v, want only the one at %v", rows, data.silentOOM)
				}
			case "classes-per-upstream":
				want := 0
				for _, ev := range data.events {
					if ev.Kind == parser.KindProxyError && ev.Class != "" {
						want++
					}
				}
				got := 0
				for _, r := range rows {
					got += atoi(t, r[2])
				}
				if got != want || want == 0 {
					t.Errorf("classes per upstream sum to %d lines, the error logs hold %d", got, want)
				}
			case "evidence":
				want := 0
				for _, in := range data.incidents {
					want += len(in.Evidence) + len(in.Marks)
				}
				if len(rows) != want || want == 0 {
					t.Errorf("%d evidence rows, the incidents hold %d", len(rows), want)
				}
			default:
				if len(rows) == 0 {
					t.Errorf("no rows")
				}
			}
		})
	}
}

func newScan(t reflect.Type) any { return reflect.New(t).Interface() }

func deref(v any) any { return reflect.ValueOf(v).Elem().Interface() }

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}
