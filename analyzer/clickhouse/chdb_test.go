package clickhouse

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

type chdbCheck struct {
	Name string  `json:"name"`
	SQL  string  `json:"sql"`
	Want *string `json:"want"`
}

type chdbResult struct {
	Name  string `json:"name"`
	SQL   string `json:"sql"`
	Got   string `json:"got"`
	Error string `json:"error"`
}

// runCHDB renders the migrations for a current server and runs them plus
// checks in chdb (a current ClickHouse engine embedded in Python). It skips
// when python3 or chdb is missing: scripts/deps.sh does not install chdb,
// the 18.16 server remains the tests' reference.
func runCHDB(t *testing.T, checks []chdbCheck) (string, []chdbResult) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	boot, err := bootstrapSQL(RenderOptions{Database: "culprit"})
	if err != nil {
		t.Fatal(err)
	}
	steps, err := Plan(loadMigrations(t), Version{26, 1}, nil, RenderOptions{Database: "culprit", TTLDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	ddl := boot
	for _, st := range steps {
		if st.Skipped {
			t.Fatalf("%s skipped on a current server", st.Migration.Name)
		}
		ddl = append(ddl, st.Statements...)
	}
	in, _ := json.Marshal(map[string]any{"ddl": ddl, "checks": checks})
	cmd := exec.Command(py, "testdata/chdb_check.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		t.Skip("chdb not installed (pip install chdb)")
	}
	if err != nil {
		t.Fatalf("chdb_check.py: %v\n%s", err, stderr.String())
	}
	var res struct {
		Version string       `json:"version"`
		Results []chdbResult `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("chdb_check.py output: %v\n%s", err, out)
	}
	return res.Version, res.Results
}

func want(s string) *string { return &s }

// The same migrations, and the dedup guarantees, on a current engine.
func TestMigrations_CurrentEngine(t *testing.T) {
	// One 5xx line delivered three times, one 200 twice, a second 5xx once.
	ins := `INSERT INTO culprit.requests (time, service, upstream, status, class, file_id, line_offset) VALUES
		('2026-11-25 16:38:46', 'shop', '127.0.0.1:18411', 502, 'upstream_refused', 'f1', 100),
		('2026-11-25 16:38:46', 'shop', '127.0.0.1:18411', 200, '', 'f1', 200),
		('2026-11-25 16:38:47', 'shop', '127.0.0.1:18411', 502, 'upstream_refused', 'f1', 300)`
	again := `INSERT INTO culprit.requests (time, service, upstream, status, class, file_id, line_offset) VALUES
		('2026-11-25 16:38:46', 'shop', '127.0.0.1:18411', 502, 'upstream_refused', 'f1', 100),
		('2026-11-25 16:38:46', 'shop', '127.0.0.1:18411', 200, '', 'f1', 200)`
	again2 := `INSERT INTO culprit.requests (time, service, upstream, status, class, file_id, line_offset) VALUES
		('2026-11-25 16:38:46', 'shop', '127.0.0.1:18411', 502, 'upstream_refused', 'f1', 100)`
	checks := []chdbCheck{
		{Name: "insert", SQL: ins},
		{Name: "redeliver", SQL: again},
		{Name: "redeliver again", SQL: again2},
		{Name: "raw rows", SQL: "SELECT count() FROM culprit.requests", Want: want("6")},
		{Name: "final rows", SQL: "SELECT count() FROM culprit.requests FINAL", Want: want("3")},
		{Name: "rollup 5xx", SQL: "SELECT sum(n) FROM (SELECT uniqExactMerge(lines) AS n FROM culprit.requests_5xx_per_minute GROUP BY minute, service, upstream, status, class)", Want: want("2")},
		{Name: "ttl applied", SQL: "SELECT countIf(create_table_query LIKE '%TTL%') FROM system.tables WHERE database = 'culprit' AND name = 'requests'", Want: want("1")},
		{Name: "links", SQL: `INSERT INTO culprit.request_links (time, file_id, line_offset, class, incident_id, version) VALUES
			('2026-11-25 16:38:46', 'f1', 100, 'upstream_refused', 'i1', 1), ('2026-11-25 16:38:46', 'f1', 100, 'upstream_reset', 'i2', 2)`},
		{Name: "requests linked", SQL: "SELECT arrayStringConcat(groupArray(concat(toString(line_offset), ':', class, ':', incident_id)), ' ') FROM (SELECT * FROM culprit.requests_linked ORDER BY line_offset)",
			Want: want("100:upstream_reset:i2 200:: 300::")},
		{Name: "index applied", SQL: "SELECT count() FROM system.data_skipping_indices WHERE database = 'culprit' AND table = 'requests'", Want: want("2")},
	}
	// Every cookbook query must also run on a current engine.
	for name, q := range cookbook(t) {
		checks = append(checks, chdbCheck{Name: "cookbook " + name, SQL: q})
	}
	version, res := runCHDB(t, checks)
	t.Logf("chdb engine %s", version)
	for _, r := range res {
		if r.Name == "ddl" {
			t.Errorf("a current ClickHouse refuses:\n%s\n%s", r.SQL, firstLine(r.Error))
		}
	}
	wants := map[string]string{"raw rows": "6", "final rows": "3", "rollup 5xx": "2", "ttl applied": "1", "index applied": "2",
		"requests linked": "100:upstream_reset:i2 200:: 300::"}
	for _, r := range res {
		if r.Error != "" && r.Name != "ddl" {
			t.Errorf("%s: %s", r.Name, firstLine(r.Error))
			continue
		}
		if w, ok := wants[r.Name]; ok {
			if r.Got != w {
				t.Errorf("%s = %q, want %q", r.Name, r.Got, w)
			}
			delete(wants, r.Name)
		}
	}
	for name := range wants {
		t.Errorf("check %q did not run", name)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
