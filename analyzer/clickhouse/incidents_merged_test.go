package clickhouse

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
)

// mergedQuery is the SQL docs/clickhouse.md gives to list merged ids.
var mergedQuery = regexp.MustCompile("(?s)```sql\n(SELECT incident_id, merged_into[^`]*WHERE state = 'merged'[^`]*)```")

// The cookbook's queries on incidents never show an id a merge ended, and
// the documented query for merged ids finds it (on 18.16; the chdb test
// runs the same queries on a current engine).
func TestCookbook_SkipsMergedIDs(t *testing.T) {
	conn, db := testDB(t)
	ctx := context.Background()
	st := NewStore(conn, db)
	t0 := time.Date(2026, 11, 25, 17, 6, 2, 0, time.UTC)
	surv := analyzer.Incident{ID: "8fd13ac56a95869e", Service: "inventory", Upstream: "127.0.0.1:18463", Start: t0,
		End: t0.Add(43 * time.Second), Requests: 42, StatusCounts: map[string]int{"502": 42},
		ClassCounts: map[string]int{"upstream_refused": 39, "upstream_premature_close": 2, "no_response": 1},
		Cause:       analyzer.CauseOOMKill, Confidence: .9, Summary: "42 failed", Fix: analyzer.Fix(analyzer.CauseOOMKill, ""), Version: 3,
		Evidence: []analyzer.EvidenceLine{{TS: t0, Source: "kern.log", Line: "Killed process 1 (node)", Class: "oom_kill"}}}
	live := surv
	live.ID, live.Start, live.Requests, live.Open, live.Version = "6d12c212037f9d59", t0.Add(40*time.Second), 20, true, 1
	live.StatusCounts, live.ClassCounts = map[string]int{"502": 20}, map[string]int{"upstream_refused": 20}
	for _, revs := range [][]analyzer.Incident{{surv, live}, {analyzer.MergedSnapshot(live, surv.ID)}} {
		if err := st.WriteIncidents(ctx, revs, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	at := "toDateTime('2026-11-26 00:00:00', 'UTC')"
	for name, q := range cookbook(t) {
		if !strings.Contains(q, "culprit.incidents") {
			continue
		}
		q = strings.ReplaceAll(strings.ReplaceAll(q, "culprit.", db+"."), "now()", at)
		for _, r := range queryAll(t, conn, q) {
			if strings.Contains(strings.Join(r, " "), live.ID) {
				t.Errorf("cookbook %s shows the merged id: %v", name, r)
			}
			if name == "top-causes" && (r[1] != "1" || r[2] != "42") {
				t.Errorf("top causes %v, want one incident of 42 requests", r)
			}
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "clickhouse.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := mergedQuery.FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/clickhouse.md lacks the query for merged ids")
	}
	q := strings.ReplaceAll(strings.ReplaceAll(string(m[1]), "culprit.", db+"."), "now()", at)
	if rows := queryAll(t, conn, q); len(rows) != 1 || rows[0][0] != live.ID || rows[0][1] != surv.ID {
		t.Errorf("merged ids: %v, want %s into %s", rows, live.ID, surv.ID)
	}
}

// The same on a current engine (chdb): FINAL then the state filter, with
// the absorbed id's live and merged revisions in separate parts.
func TestCookbook_SkipsMergedIDs_CurrentEngine(t *testing.T) {
	qs := cookbook(t)
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "clickhouse.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := mergedQuery.FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/clickhouse.md lacks the query for merged ids")
	}
	at := func(q string) string {
		return strings.ReplaceAll(q, "now()", "toDateTime('2026-11-26 00:00:00', 'UTC')")
	}
	cols := `(incident_id, version, service, upstream, state, cause, confidence, start_time, end_time, requests_affected,
		statuses, status_counts, classes, class_counts, summary, fix, merged_into)`
	checks := []chdbCheck{
		{Name: "survivor", SQL: `INSERT INTO culprit.incidents ` + cols + ` VALUES ('abc', 3, 'shop', '127.0.0.1:4000', 'closed',
			'oom_kill', 0.9, '2026-11-25 16:38:46', '2026-11-25 16:39:30', 42, [502], [42], ['upstream_refused'], [42], 's', 'f', '')`},
		{Name: "absorbed live", SQL: `INSERT INTO culprit.incidents ` + cols + ` VALUES ('abd', 1, 'shop', '127.0.0.1:4000', 'open',
			'oom_kill', 0.9, '2026-11-25 16:39:26', '2026-11-25 16:39:30', 20, [502], [20], ['upstream_refused'], [20], 's', 'f', '')`},
		{Name: "absorbed merged", SQL: `INSERT INTO culprit.incidents ` + cols + ` VALUES ('abd', 2, 'shop', '127.0.0.1:4000', 'merged',
			'oom_kill', 0.9, '2026-11-25 16:39:26', '2026-11-25 16:39:30', 0, [], [], [], [], 'merged into abc', 'f', 'abc')`},
		{Name: "evidence", SQL: `INSERT INTO culprit.incident_evidence (incident_id, version, seq, role, line) VALUES
			('abc', 3, 0, 'evidence', 'Killed process 1'), ('abd', 1, 0, 'evidence', 'Killed process 1')`},
		{Name: "top-causes", SQL: "SELECT sum(incidents) FROM (" + at(qs["top-causes"]) + ")", Want: want("1")},
		{Name: "requests-affected", SQL: "SELECT countIf(incident_id = 'abd') FROM (" + at(qs["requests-affected"]) + ")", Want: want("0")},
		{Name: "cookbook evidence", SQL: "SELECT countIf(incident_id = 'abd') FROM (" + at(qs["evidence"]) + ")", Want: want("0")},
		{Name: "merged ids", SQL: "SELECT arrayStringConcat(groupArray(concat(incident_id, '>', merged_into)), ' ') FROM (" + at(string(m[1])) + ")",
			Want: want("abd>abc")},
	}
	_, res := runCHDB(t, checks)
	wants := map[string]string{}
	for _, c := range checks {
		if c.Want != nil {
			wants[c.Name] = *c.Want
		}
	}
	for _, r := range res {
		switch {
		case r.Error != "":
			t.Errorf("%s: %s", r.Name, firstLine(r.Error))
		case wants[r.Name] != "" && r.Got != wants[r.Name]:
			t.Errorf("%s = %q, want %q", r.Name, r.Got, wants[r.Name])
		}
		delete(wants, r.Name)
	}
	for name := range wants {
		t.Errorf("check %q did not run", name)
	}
}
