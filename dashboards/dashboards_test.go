package dashboards

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"gopkg.in/yaml.v3"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/dashboards/fixture"
)

func loadAll(t *testing.T) []Dashboard {
	t.Helper()
	ds, err := Load(FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) < 4 {
		t.Fatalf("%d dashboards, want at least Overview, Incidents, Upstream health and Error classes", len(ds))
	}
	return ds
}

// Every query of a dashboard: panels' targets, variables' queries and
// annotation queries, named for messages.
type namedSQL struct {
	where string
	sql   string
	fmt   int
}

func queries(d Dashboard) []namedSQL {
	var out []namedSQL
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			out = append(out, namedSQL{d.File + " variable " + v.Name, v.Query, FormatTable})
		}
	}
	for _, a := range d.Annotations.List {
		if a.Target != nil {
			out = append(out, namedSQL{d.File + " annotation " + a.Name, a.Target.RawSQL, FormatTable})
		}
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			f := FormatTable
			if tg.Format != nil {
				f = *tg.Format
			}
			out = append(out, namedSQL{fmt.Sprintf("%s panel %q %s", d.File, p.Title, tg.RefID), tg.RawSQL, f})
		}
	}
	return out
}

func TestProvisioning(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name     string         `yaml:"name"`
			Type     string         `yaml:"type"`
			UID      string         `yaml:"uid"`
			JSONData map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	b, err := fs.ReadFile(FS, "provisioning/datasources/culprit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("datasources file: apiVersion %d, %d datasources; want 1 and 1", ds.APIVersion, len(ds.Datasources))
	}
	d := ds.Datasources[0]
	if d.UID != DatasourceUID || d.Type != DatasourceType {
		t.Errorf("datasource uid %q type %q; want %q %q", d.UID, d.Type, DatasourceUID, DatasourceType)
	}
	for _, k := range []string{"host", "port", "protocol", "username", "defaultDatabase"} {
		if d.JSONData[k] == nil || d.JSONData[k] == "" {
			t.Errorf("datasource jsonData.%s is not set", k)
		}
	}
	if d.JSONData["protocol"] != "native" {
		t.Errorf("protocol %v: culprit's ClickHouse speaks native", d.JSONData["protocol"])
	}

	var prov struct {
		Providers []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	b, err = fs.ReadFile(FS, "provisioning/dashboards/culprit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &prov); err != nil {
		t.Fatal(err)
	}
	if len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options.Path == "" {
		t.Fatalf("dashboards provider: %+v; want one file provider with a path", prov.Providers)
	}
}

// ReplacingMergeTree tables: a read that counts or lists rows must see one
// copy of a re-delivered line or one revision of an incident.
var replacing = regexp.MustCompile(`FROM \$\{database\}\.(requests|proxy_errors|upstream_events|unparsed|incidents|incident_evidence)\b(\s+FINAL\b)?`)

func TestDashboards_Structure(t *testing.T) {
	uids := map[string]string{}
	for _, d := range loadAll(t) {
		t.Run(d.File, func(t *testing.T) {
			if d.UID == "" || d.Title == "" {
				t.Errorf("uid %q title %q: both are needed", d.UID, d.Title)
			}
			if prev, dup := uids[d.UID]; dup {
				t.Errorf("uid %q also used by %s", d.UID, prev)
			}
			uids[d.UID] = d.File
			defined := map[string]Variable{}
			for _, v := range d.Templating.List {
				defined[v.Name] = v
				if v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != DatasourceUID) {
					t.Errorf("variable %s: datasource %+v, want uid %s", v.Name, v.Datasource, DatasourceUID)
				}
				if v.IncludeAll && v.AllValue == "" {
					t.Errorf("variable %s: All without a custom all value expands to every value, or to IN () when there is none", v.Name)
				}
			}
			for _, want := range []string{"database", "service", "upstream", "host"} {
				if _, ok := defined[want]; !ok {
					t.Errorf("variable %s not defined", want)
				}
			}
			if len(d.Panels) == 0 {
				t.Fatal("no panels")
			}
			for _, p := range d.Panels {
				if p.Datasource == nil || p.Datasource.UID != DatasourceUID || p.Datasource.Type != DatasourceType {
					t.Errorf("panel %q: datasource %+v does not resolve to the provisioned one", p.Title, p.Datasource)
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no query", p.Title)
				}
				for _, tg := range p.Targets {
					if strings.TrimSpace(tg.RawSQL) == "" || tg.EditorType != "sql" {
						t.Errorf("panel %q %s: empty SQL or not the SQL editor", p.Title, tg.RefID)
					}
					if tg.Datasource != nil && tg.Datasource.UID != DatasourceUID {
						t.Errorf("panel %q %s: datasource %+v", p.Title, tg.RefID, tg.Datasource)
					}
					if tg.Format == nil || (*tg.Format != FormatTable && *tg.Format != FormatTimeSeries) {
						t.Errorf("panel %q %s: format %v, want 0 (time series) or 1 (table)", p.Title, tg.RefID, tg.Format)
					}
					if (p.Type == "timeseries") != (tg.Format != nil && *tg.Format == FormatTimeSeries) {
						t.Errorf("panel %q (%s) %s: format %v does not match the panel type", p.Title, p.Type, tg.RefID, *tg.Format)
					}
				}
				for _, name := range References(p.Title + " " + strings.Join(p.Links(), " ")) {
					if _, ok := defined[name]; !ok {
						t.Errorf("panel %q: title or link uses $%s, which is not defined", p.Title, name)
					}
				}
			}
			for _, a := range d.Annotations.List {
				if a.BuiltIn == 1 {
					continue
				}
				if a.Datasource == nil || a.Datasource.UID != DatasourceUID || a.Target == nil || a.Target.RawSQL == "" {
					t.Errorf("annotation %q: needs the provisioned datasource and a query", a.Name)
				}
			}
			for _, q := range queries(d) {
				for _, name := range References(q.sql) {
					if _, ok := defined[name]; !ok {
						t.Errorf("%s: $%s is not defined", q.where, name)
					}
				}
				for _, bad := range []string{"toStartOfInterval", "DateTime64", "$__timeInterval", "_ms("} {
					if strings.Contains(q.sql, bad) {
						t.Errorf("%s: uses %s, which ClickHouse 18.16 lacks", q.where, bad)
					}
				}
				if !strings.Contains(q.sql, "${database}.") {
					t.Errorf("%s: tables must be named ${database}.TABLE", q.where)
				}
				for _, m := range replacing.FindAllStringSubmatchIndex(q.sql, -1) {
					if m[4] >= 0 {
						continue
					}
					// Without FINAL, only a per-incident argMax/max over the
					// version column is duplicate-proof.
					// SELECT DISTINCT does not care about copies either.
					sel := q.sql[:m[0]]
					sel = sel[strings.LastIndex(sel, "SELECT"):]
					if !strings.Contains(sel, "argMax(") && !strings.Contains(sel, "max(version)") && !strings.HasPrefix(sel, "SELECT DISTINCT") {
						t.Errorf("%s: reads %s without FINAL: %s", q.where, q.sql[m[2]:m[3]], sel)
					}
				}
			}
		})
	}
}

func TestExpand(t *testing.T) {
	vars := []Variable{
		{Name: "database", Type: "constant", Query: "culprit"},
		{Name: "service", Type: "query", Multi: true, IncludeAll: true, AllValue: "'*'"},
		{Name: "upstream", Type: "query", Multi: true, IncludeAll: true},
		{Name: "incident", Type: "query"},
	}
	from := time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)
	q := Query{From: from, To: from.Add(time.Hour), Interval: 20 * time.Second,
		Vars: map[string]Selection{"service": {All: true}, "upstream": {All: true},
			"incident": {Values: []string{"it's"}}},
		Options: map[string][]string{"upstream": {"127.0.0.1:1", "unix:/run/a.sock"}}}
	for _, tc := range []struct{ in, want string }{
		{"$__timeFilter(time)", "time >= toDateTime(1795622400) AND time <= toDateTime(1795626000)"},
		{"$__fromTime..$__toTime", "toDateTime(1795622400)..toDateTime(1795626000)"},
		{"intDiv(x, $__interval_s)", "intDiv(x, 20)"},
		{"FROM ${database}.t", "FROM culprit.t"},
		{"FROM $database.t", "FROM culprit.t"},
		{"s IN (${service:singlequote})", "s IN ('*')"},
		{"u IN (${upstream:singlequote})", "u IN ('127.0.0.1:1','unix:/run/a.sock')"},
		{"id = ${incident:singlequote}", `id = 'it\'s'`},
	} {
		got, err := Expand(tc.in, vars, q)
		if err != nil || got != tc.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"$nope", "$__timeInterval(time)", "$__bogus", "${upstream:json}"} {
		if got, err := Expand(bad, vars, q); err == nil {
			t.Errorf("Expand(%q) = %q, want an error", bad, got)
		}
	}
}

// ---- Against ClickHouse, with the scenarios loaded.

type loaded struct {
	conn      driver.Conn
	db        string
	scenarios []*fixture.Scenario
	incidents []analyzer.Incident
	from, to  time.Time
	// absorbed is an id a merge ended (fixture.Absorbed): stored live, then
	// as merged into survivor. No panel may show it as an incident.
	absorbed, survivor string
}

// load stores every scenario in one throwaway database: the dashboards
// are meant to be read over many services at once.
func load(t *testing.T) *loaded {
	t.Helper()
	conn, db := fixture.NewDatabase(t)
	bin := fixture.BuildCulprit(t)
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "scenarios", "*", "truth.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	ctx := context.Background()
	l := &loaded{conn: conn, db: db}
	start := time.Now()
	// explain runs two at a time (the machine has two cores); the stores
	// follow in order.
	type result struct {
		s    *fixture.Scenario
		incs []analyzer.Incident
		err  error
	}
	results := make([]result, len(dirs))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, tj := range dirs {
		s, err := fixture.Open(filepath.Dir(tj))
		if err != nil {
			t.Fatal(err)
		}
		results[i].s = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i].incs, results[i].err = fixture.Explain(ctx, bin, s)
		}()
	}
	wg.Wait()
	var b clickhouse.Batch
	for _, r := range results {
		if r.err != nil {
			t.Fatal(r.err)
		}
		if _, err := r.s.AddTo(&b, r.incs); err != nil {
			t.Fatal(err)
		}
		l.scenarios = append(l.scenarios, r.s)
		l.incidents = append(l.incidents, r.incs...)
		for _, in := range r.incs {
			if l.from.IsZero() || in.Start.Before(l.from) {
				l.from = in.Start
			}
			if in.End.After(l.to) {
				l.to = in.End
			}
		}
	}
	// Twice, as a consumer that crashed before committing would deliver
	// it: every panel must count each line once.
	for range 2 {
		if err := fixture.Write(ctx, conn, db, &b, l.incidents); err != nil {
			t.Fatal(err)
		}
	}
	if len(l.incidents) < 10 {
		t.Fatalf("explain found %d incidents in %d scenarios: too few to test the dashboards", len(l.incidents), len(l.scenarios))
	}
	l.survivor = l.incidents[len(l.incidents)/2].ID
	if l.absorbed, err = fixture.WriteAbsorbed(ctx, conn, db, l.incidents[len(l.incidents)/2]); err != nil {
		t.Fatal(err)
	}
	l.from = l.from.Add(-30 * time.Minute).Truncate(time.Minute)
	l.to = l.to.Add(30 * time.Minute).Truncate(time.Minute)
	t.Logf("loaded %d scenarios, %d incidents into %s in %v", len(l.scenarios), len(l.incidents), db, time.Since(start).Round(time.Millisecond))
	return l
}

type row map[string]any

func run(t *testing.T, conn driver.Conn, sql string) ([]row, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols := rows.ColumnTypes()
	var out []row
	for rows.Next() {
		dst := make([]any, len(cols))
		for i, c := range cols {
			dst[i] = reflect.New(c.ScanType()).Interface()
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		r := row{}
		for i, c := range cols {
			r[c.Name()] = reflect.ValueOf(dst[i]).Elem().Interface()
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (r row) str(k string) string { return fmt.Sprint(r[k]) }

func (r row) num(k string) float64 {
	switch v := r[k].(type) {
	case uint64:
		return float64(v)
	case uint32:
		return float64(v)
	case float64:
		return v
	case float32:
		return float64(v)
	case int64:
		return float64(v)
	}
	return -1
}

func (r row) time(k string) time.Time {
	tm, _ := r[k].(time.Time)
	return tm
}

// runner expands and runs a dashboard's queries with chosen variables.
type runner struct {
	t    *testing.T
	l    *loaded
	d    Dashboard
	q    Query
	seen map[string]bool // queries run, by where
}

func newRunner(t *testing.T, l *loaded, d Dashboard, vars map[string]Selection) *runner {
	span := l.to.Sub(l.from)
	all := map[string]Selection{"database": {Values: []string{l.db}}, "service": {All: true}, "upstream": {All: true}, "host": {All: true}}
	for k, v := range vars {
		all[k] = v
	}
	// Grafana's interval: the range over the panel's width in points
	// (about 1000 at most), at least 1 s.
	return &runner{t: t, l: l, d: d, seen: map[string]bool{},
		q: Query{From: l.from, To: l.to, Interval: max(span/1000, time.Second), Vars: all, Options: map[string][]string{}}}
}

func (r *runner) run(where, sql string) []row {
	r.t.Helper()
	exp, err := Expand(sql, r.d.Templating.List, r.q)
	if err != nil {
		r.t.Fatalf("%s: %v", where, err)
	}
	rows, err := run(r.t, r.l.conn, exp)
	if err != nil {
		r.t.Fatalf("%s: %v\n%s", where, err, exp)
	}
	r.seen[where] = true
	return rows
}

func (r *runner) panel(title string) []row {
	r.t.Helper()
	for _, p := range r.d.Panels {
		if p.Title == title {
			return r.run(r.d.File+" panel "+title, p.Targets[0].RawSQL)
		}
	}
	r.t.Fatalf("%s: no panel %q", r.d.File, title)
	return nil
}

func (r *runner) annotation(name string) []row {
	r.t.Helper()
	for _, a := range r.d.Annotations.List {
		if a.Name == name && a.Target != nil {
			return r.run(r.d.File+" annotation "+name, a.Target.RawSQL)
		}
	}
	r.t.Fatalf("%s: no annotation %q", r.d.File, name)
	return nil
}

// all runs every query of the dashboard, variables first (their results
// become the options), and checks time series have a time column first.
func (r *runner) all() {
	r.t.Helper()
	for _, q := range queries(r.d) {
		rows := r.run(q.where, q.sql)
		if strings.Contains(q.where, " variable ") {
			name := q.where[strings.LastIndex(q.where, " ")+1:]
			var opts []string
			for _, row := range rows {
				for _, v := range row {
					opts = append(opts, fmt.Sprint(v))
				}
			}
			r.q.Options[name] = opts
		}
		if q.fmt == FormatTimeSeries && len(rows) > 0 {
			if _, ok := rows[0]["t"].(time.Time); !ok {
				r.t.Errorf("%s: a time series needs its DateTime first, as t", q.where)
			}
		}
	}
}

func dashboard(t *testing.T, uid string) Dashboard {
	for _, d := range loadAll(t) {
		if d.UID == uid {
			return d
		}
	}
	t.Fatalf("no dashboard %s", uid)
	return Dashboard{}
}

// TestDashboards_ClickHouse loads every scenario once and runs the
// dashboards against it.
func TestDashboards_ClickHouse(t *testing.T) {
	l := load(t)
	t.Run("EveryQueryRuns", func(t *testing.T) { everyQueryRuns(t, l) })
	t.Run("ShowIncidents", func(t *testing.T) { showIncidents(t, l) })
	t.Run("HideMerged", func(t *testing.T) { hideMerged(t, l) })
}

// An id a merge ended is stored (its live revision, then its end): the
// incident list and the incident picker do not show it, and its drill-down
// (an old link, a notification) shows the incident it was merged into.
func hideMerged(t *testing.T, l *loaded) {
	d := dashboard(t, "culprit-incidents")
	r := newRunner(t, l, d, nil)
	n := 0
	for _, row := range r.panel("Incidents") {
		if row.str("incident_id") == l.absorbed {
			t.Errorf("the incidents table shows %s, merged into %s", l.absorbed, l.survivor)
		}
		n++
	}
	if n != len(l.incidents) {
		t.Errorf("the incidents table shows %d rows for %d incidents", n, len(l.incidents))
	}
	for _, v := range d.Templating.List {
		if v.Name != "incident" {
			continue
		}
		for _, row := range r.run("incident variable", v.Query) {
			if row.str("incident_id") == l.absorbed {
				t.Errorf("the incident picker offers %s, merged into %s", l.absorbed, l.survivor)
			}
		}
	}
	var surv analyzer.Incident
	for _, in := range l.incidents {
		if in.ID == l.survivor {
			surv = in
		}
	}
	drill := newRunner(t, l, d, map[string]Selection{"incident": {Values: []string{l.absorbed}}})
	if v := drill.panel("Incident ${incident}: verdict"); len(v) != 1 || v[0].str("incident_id") != l.survivor ||
		v[0].num("requests_affected") != float64(surv.Requests) {
		t.Errorf("verdict of the absorbed id: %v, want the survivor %s with %d requests", v, l.survivor, surv.Requests)
	}
	if ev := drill.panel("Incident ${incident}: evidence"); len(ev) != len(surv.Evidence) {
		t.Errorf("evidence of the absorbed id: %d lines, the survivor has %d", len(ev), len(surv.Evidence))
	}
}

func everyQueryRuns(t *testing.T, l *loaded) {
	ctx := context.Background()
	var version string
	if err := l.conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	t.Logf("ClickHouse %s", version)

	// Every query of every dashboard runs, with All selected and with one
	// value of each variable selected (the other branch of the filters).
	var svc, up, host string
	for _, in := range l.incidents {
		if in.Service != "" && in.Upstream != "" {
			svc, up = in.Service, in.Upstream
			break
		}
	}
	host = fixture.ProxyHost
	total := 0
	for _, d := range loadAll(t) {
		for _, vars := range []map[string]Selection{
			nil,
			{"service": {Values: []string{svc, "no-such-service"}}, "upstream": {Values: []string{up}}, "host": {Values: []string{host}}},
		} {
			if d.UID == "culprit-incidents" {
				vars = with(vars, "incident", Selection{Values: []string{l.incidents[0].ID}})
			}
			r := newRunner(t, l, d, vars)
			r.all()
			total += len(r.seen)
		}
	}
	t.Logf("%d queries ran", total)
}

func with(m map[string]Selection, k string, v Selection) map[string]Selection {
	out := map[string]Selection{k: v}
	for a, b := range m {
		out[a] = b
	}
	return out
}

// The panels that should show an incident do, with what was stored.
func showIncidents(t *testing.T, l *loaded) {

	ov := newRunner(t, l, dashboard(t, "culprit-overview"), nil)
	byUpstream := ov.panel("5xx per minute by upstream")
	inc := newRunner(t, l, dashboard(t, "culprit-incidents"), nil)
	table := inc.panel("Incidents")
	health := newRunner(t, l, dashboard(t, "culprit-upstream-health"), nil)
	classes := newRunner(t, l, dashboard(t, "culprit-error-classes"), nil).panel("Error classes by upstream")

	bucket := int64(max(ov.q.Interval/time.Second, 60))

	// The rollup counts what requests FINAL counts, upstream by upstream.
	total := func(rows []row) map[string]int {
		m := map[string]int{}
		for _, r := range rows {
			m[r.str("upstream_name")] += int(r.num("per_minute")*float64(bucket)/60 + 0.5)
		}
		return m
	}
	raw, rolled := total(byUpstream), total(ov.panel("5xx per minute by upstream (rollup, fast over long ranges)"))
	lines, err := run(t, l.conn, fmt.Sprintf(`SELECT if(upstream = '', '(no upstream)', upstream) AS u, uniqExact(file_id, line_offset) AS n
		FROM %s.requests WHERE status >= 500 AND status < 600 GROUP BY u`, l.db))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, r := range lines {
		want[r.str("u")] = int(r.num("n"))
	}
	if len(want) == 0 || !maps.Equal(raw, want) || !maps.Equal(rolled, want) {
		t.Errorf("5xx per upstream, each line stored twice: requests FINAL %v, rollup %v, distinct lines %v", raw, rolled, want)
	}
	agree := 0
	for _, in := range l.incidents {
		// The Overview groups by the address nginx wrote in the access
		// log: none when it answered by itself (a rate limit, a name it
		// could not resolve).
		name, incName := in.Upstream, in.Upstream
		if n, err := run(t, l.conn, fmt.Sprintf("SELECT count() FROM %s.requests WHERE upstream = '%s'", l.db, in.Upstream)); err != nil {
			t.Fatal(err)
		} else if in.Upstream == "" || n[0].num("count()") == 0 {
			name = "(no upstream)"
		}
		if in.Upstream == "" {
			incName = "server " + in.Server
		}
		// An incident on a named upstream group (users_api) holds requests
		// nginx logged under the group's name (no live upstreams) and
		// under the address of each member it tried: the dashboards key
		// series by the logged address, so only the former are on the
		// group's series (docs/dashboards.md, known limits).
		group := isGroupName(in.Upstream)
		want5xx := in.Requests
		if group {
			n, err := run(t, l.conn, fmt.Sprintf("SELECT count() FROM %s.requests FINAL WHERE upstream = '%s' AND status >= 500 AND time >= %d AND time <= %d",
				l.db, in.Upstream, in.Start.Unix(), in.End.Unix()))
			if err != nil {
				t.Fatal(err)
			}
			// None at all: a name nginx could not resolve, shown as
			// "(no upstream)" like any 5xx nginx answered by itself.
			if stored := int(n[0].num("count()")); stored > 0 && stored < in.Requests {
				want5xx = stored
			} else {
				group = false
			}
		}
		t.Run(in.ID, func(t *testing.T) {
			// Overview: the 5xx of the incident's window are on its upstream's series.
			var n float64
			for _, r := range byUpstream {
				ts := r.time("t").Unix()
				if r.str("upstream_name") == name && ts+bucket > in.Start.Unix() && ts <= in.End.Unix() {
					n += r.num("per_minute") * float64(bucket) / 60
				}
			}
			if int(n+0.5) < want5xx {
				t.Errorf("overview: %.0f 5xx on %s during the incident, want at least its %d", n, name, want5xx)
			}
			// Top failing upstreams, filtered to the incident's upstream.
			sel := Selection{All: true}
			if name == in.Upstream {
				sel = Selection{Values: []string{in.Upstream}}
			}
			top := newRunner(t, l, ov.d, map[string]Selection{"upstream": sel}).panel("Top failing upstreams")
			found := false
			for _, r := range top {
				if r.str("upstream_name") == name && r.num("errors_5xx") >= float64(want5xx) {
					found = true
				}
			}
			if !found {
				t.Errorf("overview: %s not among the top failing upstreams with >= %d 5xx", name, want5xx)
			}

			// Incidents: the table row, then the drill-down.
			var got row
			for _, r := range table {
				if r.str("incident_id") == in.ID {
					got = r
				}
			}
			if got == nil {
				t.Fatalf("incidents table has no row for %s", in.ID)
			}
			if got.str("cause") != string(in.Cause) || got.num("requests_affected") != float64(in.Requests) ||
				got.str("service") != in.Service || got.str("upstream_name") != incName {
				t.Errorf("incidents table row %v; stored %s %s %s %d", got, in.Cause, in.Service, incName, in.Requests)
			}
			if d := got.num("duration_s"); d != float64(in.End.Unix()-in.Start.Unix()) {
				t.Errorf("duration %v s, want %d", d, in.End.Unix()-in.Start.Unix())
			}
			drill := newRunner(t, l, inc.d, map[string]Selection{"incident": {Values: []string{in.ID}}})
			verdict := drill.panel("Incident ${incident}: verdict")
			if len(verdict) != 1 || verdict[0].str("cause") != string(in.Cause) || verdict[0].str("fix") != in.Fix {
				t.Errorf("verdict panel: %v, want one row with cause %s", verdict, in.Cause)
			}
			ev := drill.panel("Incident ${incident}: evidence")
			if len(ev) != len(in.Evidence) {
				t.Errorf("evidence panel: %d lines, want %d", len(ev), len(in.Evidence))
			}
			for i := range min(len(ev), len(in.Evidence)) {
				if !containsLine(ev, in.Evidence[i].Line) {
					t.Errorf("evidence panel lacks %q", in.Evidence[i].Line)
				}
			}
			var inTimeline float64
			for _, r := range drill.panel("Incident ${incident}: 5xx timeline") {
				inTimeline += r.num("per_5s")
			}
			if int(inTimeline) < want5xx {
				t.Errorf("timeline: %v 5xx, want at least the incident's %d", inTimeline, want5xx)
			}

			// Upstream health: the upstream-side cause is annotated on the
			// graph, when an upstream-side line (not the proxy's) supports
			// it: PHP's memory limit relayed by nginx ("FastCGI sent in
			// stderr") is a proxy_errors row, which the layers do not read.
			if ann, ok := annotationFor[in.Cause]; ok && upstreamSide(in) {
				hit := false
				for _, r := range health.annotation(ann) {
					at := r.time("time")
					if !at.Before(in.Start.Add(-2*time.Minute)) && !at.After(in.End.Add(time.Minute)) &&
						strings.Contains(r.str("text"), in.Service) {
						hit = true
					}
				}
				if !hit {
					t.Errorf("upstream health: no %q annotation for %s between 2 min before %s and 1 min after %s",
						ann, in.Service, in.Start.Format(time.TimeOnly), in.End.Format(time.TimeOnly))
				}
			}

			// Error classes: the proxy's classes of the incident show on its
			// upstream (for a group, at least one: the rest are on its members).
			groupSeen := false
			for cls := range in.ClassCounts {
				if !isProxyClass(cls) || in.Upstream == "" {
					continue
				}
				seen := false
				for _, r := range classes {
					if r.str("upstream_name") == in.Upstream && r.str("class") == cls {
						seen = true
					}
				}
				groupSeen = groupSeen || seen
				if !seen && !group {
					t.Errorf("error classes: no %s row for %s", cls, in.Upstream)
				}
			}
			if group && !groupSeen {
				t.Errorf("error classes: none of %v on group %s", in.ClassCounts, in.Upstream)
			}
		})
		if causeOfTruth(l, in) == string(in.Cause) {
			agree++
		}
	}
	t.Logf("%d incidents shown; %d of them with the cause their scenario's truth.json names", len(l.incidents), agree)

	// Where explain's verdict differs from what the scenario's author
	// caused, the dashboards show explain's: the correlator's tests own
	// that difference; say it here so a reader of the dashboards knows.
	for _, s := range l.scenarios {
		for _, want := range s.Truth {
			found := false
			for _, r := range table {
				up := r.str("upstream_name")
				if (up == want.Upstream || want.Upstream == "" && r.str("server") == want.Server) &&
					!r.time("start_time").After(want.End) && r.str("cause") == want.Cause {
					found = true
				}
			}
			if !found {
				t.Logf("%s: truth.json names %s on %q; the stored incident says otherwise", s.Name, want.Cause, want.Upstream)
			}
		}
	}
}

// upstreamSide reports whether one of in's evidence lines comes from the
// application host's logs (the fixture ships nginx's from the proxy).
func upstreamSide(in analyzer.Incident) bool {
	for _, ev := range in.Evidence {
		if m := logFile.FindStringSubmatch(filepath.Base(ev.Source)); m == nil || (m[1] != "access" && m[1] != "error") {
			return true
		}
	}
	return false
}

var logFile = regexp.MustCompile(`^(.*)\.[a-z]+(\.\d+)?(\.gz)?$`)

// annotationFor names the Upstream health annotation that must mark an
// incident of each upstream-side cause.
var annotationFor = map[analyzer.Cause]string{
	analyzer.CauseOOMKill:       "OOM kills",
	analyzer.CauseRuntimeOOM:    "OOM kills",
	analyzer.CauseCrash:         "Crashes",
	analyzer.CauseRestart:       "Restarts",
	analyzer.CauseWorkerTimeout: "Worker timeouts",
}

func isProxyClass(c string) bool {
	switch c {
	case string(analyzer.ClassAppError), string(analyzer.ClassNoResponse), string(analyzer.ClassUnlinked), "other", "client_closed":
		return false
	}
	return true
}

func causeOfTruth(l *loaded, in analyzer.Incident) string {
	for _, s := range l.scenarios {
		for _, w := range s.Truth {
			if w.Upstream == in.Upstream && !in.Start.After(w.End) && !in.End.Before(w.Start) {
				return w.Cause
			}
		}
	}
	return ""
}

func containsLine(rows []row, line string) bool {
	for _, r := range rows {
		if r.str("line") == line {
			return true
		}
	}
	return false
}

// isGroupName reports whether upstream is an nginx upstream block's name
// rather than an address (host:port, [v6]:port, unix:/path) or none.
func isGroupName(upstream string) bool {
	return upstream != "" && !strings.Contains(upstream, ":")
}
