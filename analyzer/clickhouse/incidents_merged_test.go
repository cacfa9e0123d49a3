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
