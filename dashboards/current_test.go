package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/schemas"
)

// TestDashboards_CurrentClickHouse runs every dashboard query on a current
// ClickHouse (chdb embeds one) over the schema `culprit migrate` renders for
// it and a few rows: what runs on 18.16 must also run where users are. It
// skips when python3 or chdb is missing (scripts/deps.sh does not install
// chdb; the 18.16 server stays the reference).
func TestDashboards_CurrentClickHouse(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	migs, err := clickhouse.LoadMigrations(schemas.FS)
	if err != nil {
		t.Fatal(err)
	}
	const db = "culprit"
	steps, err := clickhouse.Plan(migs, clickhouse.Version{Major: 26, Minor: 1}, nil, clickhouse.RenderOptions{Database: db, TTLDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	setup := []string{"CREATE DATABASE IF NOT EXISTS " + db}
	for _, st := range steps {
		setup = append(setup, st.Statements...)
	}
	// One incident's worth of rows, in columns every query reads.
	setup = append(setup,
		`INSERT INTO culprit.requests (time, service, hostname, upstream, status, file_id, line_offset) VALUES
		 ('2026-11-25 16:38:46', 'shop-api', 'proxy-1', '127.0.0.1:4000', 502, 'f', 1),
		 ('2026-11-25 16:38:47', 'shop-api', 'proxy-1', '127.0.0.1:4000', 502, 'f', 2),
		 ('2026-11-25 16:38:40', 'shop-api', 'proxy-1', '127.0.0.1:4000', 200, 'f', 0)`,
		`INSERT INTO culprit.proxy_errors (time, service, hostname, class, upstream, message, file_id, line_offset) VALUES
		 ('2026-11-25 16:38:46', 'shop-api', 'proxy-1', 'upstream_refused', '127.0.0.1:4000', 'connect() failed', 'e', 1)`,
		`INSERT INTO culprit.upstream_events (time, service, hostname, class, message, file_id, line_offset) VALUES
		 ('2026-11-25 16:38:45', 'shop-api', 'app-1', 'oom_kill', 'Killed process 1 (node)', 'k', 1)`,
		`INSERT INTO culprit.incidents (incident_id, version, service, upstream, cause, confidence, start_time, end_time,
		 requests_affected, statuses, status_counts, classes, class_counts, summary, fix) VALUES
		 ('abc', 1, 'shop-api', '127.0.0.1:4000', 'oom_kill', 0.9, '2026-11-25 16:38:46', '2026-11-25 16:38:47', 2,
		  [502], [2], ['upstream_refused'], [2], 'two failed', 'raise the limit')`,
		`INSERT INTO culprit.incident_evidence (incident_id, version, seq, role, class, time, line) VALUES
		 ('abc', 1, 0, 'evidence', 'oom_kill', '2026-11-25 16:38:45', 'Killed process 1 (node)')`,
		// An id a merge ended: stored live, then merged into abc.
		`INSERT INTO culprit.incidents (incident_id, version, service, upstream, state, cause, confidence, start_time, end_time,
		 requests_affected, statuses, status_counts, classes, class_counts, summary, fix) VALUES
		 ('abd', 1, 'shop-api', '127.0.0.1:4000', 'open', 'oom_kill', 0.9, '2026-11-25 16:38:47', '2026-11-25 16:38:47', 1,
		  [502], [1], ['upstream_refused'], [1], 'one failed', 'raise the limit')`,
		`INSERT INTO culprit.incidents (incident_id, version, service, upstream, state, cause, confidence, start_time, end_time,
		 requests_affected, summary, fix, merged_into) VALUES
		 ('abd', 2, 'shop-api', '127.0.0.1:4000', 'merged', 'oom_kill', 0.9, '2026-11-25 16:38:47', '2026-11-25 16:38:47', 0,
		  'merged into abc', 'raise the limit', 'abc')`,
	)
	from := time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)
	type query struct {
		Name string `json:"name"`
		SQL  string `json:"sql"`
	}
	var qs []query
	for _, d := range loadAll(t) {
		for _, vars := range []map[string]Selection{
			{"service": {All: true}, "upstream": {All: true}, "host": {All: true}, "incident": {Values: []string{"abc"}}},
			{"service": {Values: []string{"shop-api"}}, "upstream": {Values: []string{"127.0.0.1:4000"}},
				"host": {Values: []string{"proxy-1"}}, "incident": {Values: []string{"abc"}}},
			// An old link to the absorbed id shows the incident it joined.
			{"service": {All: true}, "upstream": {All: true}, "host": {All: true}, "incident": {Values: []string{"abd"}}},
		} {
			q := Query{From: from, To: from.Add(time.Hour), Interval: 5 * time.Second, Vars: vars}
			for _, nq := range queries(d) {
				sql, err := Expand(nq.sql, d.Templating.List, q)
				if err != nil {
					t.Fatalf("%s: %v", nq.where, err)
				}
				qs = append(qs, query{nq.where, sql})
			}
		}
	}
	in, _ := json.Marshal(map[string]any{"setup": setup, "queries": qs})
	cmd := exec.Command(py, "testdata/chdb_run.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		t.Skip("chdb not installed (pip install chdb)")
	}
	if err != nil {
		t.Fatalf("chdb: %v\n%s", err, stderr.String())
	}
	var res struct {
		Version     string   `json:"version"`
		SetupErrors []string `json:"setup_errors"`
		Results     []struct {
			Name  string `json:"name"`
			Rows  int    `json:"rows"`
			Error string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	t.Logf("ClickHouse %s (chdb): %d queries", res.Version, len(res.Results))
	for _, e := range res.SetupErrors {
		t.Errorf("setup: %s", e)
	}
	rowsOf := map[string]int{}
	for i, r := range res.Results {
		if r.Error != "" {
			t.Errorf("%s: %s\n%s", r.Name, firstLine(r.Error), qs[i].SQL)
		}
		rowsOf[r.Name] += r.Rows
	}
	// The incident is on the Incidents table and its drill-down.
	for _, panel := range []string{"Incidents", "Incident ${incident}: verdict", "Incident ${incident}: evidence", "Incident ${incident}: 5xx timeline"} {
		if n := rowsOf[`incidents.json panel "`+panel+`" A`]; n == 0 {
			t.Errorf("panel %q shows nothing on the current engine", panel)
		}
	}
	// Once per variable set, never the merged id; its drill-down is abc's.
	for _, panel := range []string{"Incidents", "Incident ${incident}: verdict", "Incident ${incident}: evidence"} {
		if n := rowsOf[`incidents.json panel "`+panel+`" A`]; n != 3 {
			t.Errorf("panel %q: %d rows over three variable sets, want one each (abd was merged into abc)", panel, n)
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
