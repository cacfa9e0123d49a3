package ui

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/dashboards/fixture"
	"github.com/culprit-dev/culprit/internal/testenv"
)

// Scenarios the UI tests load: an OOM kill, a deploy, a crash on one of two
// upstreams, a rate limit (no upstream) and a DNS failure (no address).
var uiScenarios = []string{"pm2-oom", "deploy", "two-upstreams", "rate-limit", "dns-failure"}

type env struct {
	srv       *Server
	incidents []analyzer.Incident
	byName    map[string][]analyzer.Incident
	// absorbed is an id a merge ended, stored live and then merged into
	// incidents[0] (fixture.Absorbed).
	absorbed string
}

// setup loads uiScenarios into a throwaway database and returns the UI
// over it, reading as the test server's read-only user.
func setup(t *testing.T) *env {
	t.Helper()
	conn, db := fixture.NewDatabase(t)
	bin := fixture.BuildCulprit(t)
	ctx := context.Background()
	e := &env{byName: map[string][]analyzer.Incident{}}
	var b clickhouse.Batch
	for _, name := range uiScenarios {
		s, err := fixture.Open(filepath.Join("..", "testdata", "scenarios", name))
		if err != nil {
			t.Fatal(err)
		}
		incs, err := fixture.Explain(ctx, bin, s)
		if err != nil {
			t.Fatal(err)
		}
		if len(incs) == 0 {
			t.Fatalf("%s: explain found no incident", name)
		}
		if _, err := s.AddTo(&b, incs); err != nil {
			t.Fatal(err)
		}
		e.incidents = append(e.incidents, incs...)
		e.byName[name] = incs
	}
	if err := fixture.Write(ctx, conn, db, &b, e.incidents); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.absorbed, err = fixture.WriteAbsorbed(ctx, conn, db, e.incidents[0]); err != nil {
		t.Fatal(err)
	}
	ro, err := clickhouse.Open(ctx, clickhouse.ConnConfig{Addr: testenv.ClickHouseAddr(t), User: "readonly"})
	if err != nil {
		t.Fatalf("the test ClickHouse has no read-only user (scripts/clickhouse.sh creates one): %v", err)
	}
	t.Cleanup(func() { ro.Close() })
	// The user the UI reads with cannot write.
	if err := ro.Exec(ctx, "CREATE TABLE "+db+".nope (x UInt8) ENGINE = Memory"); err == nil {
		t.Fatal("the readonly user could create a table")
	}
	e.srv, err = New(&ClickHouse{Conn: ro, Database: db}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

var rowRE = regexp.MustCompile(`<tr class="incident" data-id="([0-9a-f]+)">`)

func TestUI_ClickHouse(t *testing.T) {
	e := setup(t)
	h := e.srv

	t.Run("ListNewestFirst", func(t *testing.T) {
		code, body := get(t, h, "/")
		if code != 200 {
			t.Fatalf("GET / = %d\n%s", code, body)
		}
		ids := rowRE.FindAllStringSubmatch(body, -1)
		if len(ids) != len(e.incidents) {
			t.Fatalf("list shows %d incidents, %d stored", len(ids), len(e.incidents))
		}
		start := map[string]time.Time{}
		for _, in := range e.incidents {
			start[in.ID] = in.Start
		}
		for i := 1; i < len(ids); i++ {
			if start[ids[i][1]].After(start[ids[i-1][1]]) {
				t.Errorf("row %d (%s) starts after row %d (%s): not newest first", i, ids[i][1], i-1, ids[i-1][1])
			}
		}
		for _, in := range e.incidents {
			if !strings.Contains(body, `href="/incidents/`+in.ID+`">`+string(in.Cause)+`</a>`) {
				t.Errorf("list lacks %s with cause %s", in.ID, in.Cause)
			}
		}
		for _, bad := range []string{`src="http`, `href="http`, `url(http`} {
			if strings.Contains(body, bad) {
				t.Errorf("page loads something from elsewhere: %s", bad)
			}
		}
	})

	t.Run("Filters", func(t *testing.T) {
		oom := e.byName["pm2-oom"][0]
		for _, tc := range []struct {
			query string
			want  func(analyzer.Incident) bool
		}{
			{"service=" + oom.Service, func(in analyzer.Incident) bool { return in.Service == oom.Service }},
			{"cause=" + string(oom.Cause), func(in analyzer.Incident) bool { return in.Cause == oom.Cause }},
			{"cause=rate_limit", func(in analyzer.Incident) bool { return in.Cause == analyzer.CauseRateLimit }},
			{"service=no-such&cause=oom_kill", func(analyzer.Incident) bool { return false }},
		} {
			code, body := get(t, h, "/?"+tc.query)
			if code != 200 {
				t.Fatalf("GET /?%s = %d", tc.query, code)
			}
			got := map[string]bool{}
			for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
				got[m[1]] = true
			}
			n := 0
			for _, in := range e.incidents {
				if tc.want(in) {
					n++
					if !got[in.ID] {
						t.Errorf("?%s: %s (%s, %s) missing", tc.query, in.ID, in.Service, in.Cause)
					}
				} else if got[in.ID] {
					t.Errorf("?%s: %s (%s, %s) should be filtered out", tc.query, in.ID, in.Service, in.Cause)
				}
			}
			if n == 0 && !strings.Contains(body, "No incident") {
				t.Errorf("?%s: an empty result should say so", tc.query)
			}
		}
	})

	t.Run("IncidentPage", func(t *testing.T) {
		for _, in := range e.incidents {
			code, body := get(t, h, "/incidents/"+in.ID)
			if code != 200 {
				t.Fatalf("GET /incidents/%s = %d\n%s", in.ID, code, body)
			}
			if !strings.Contains(body, `<span class="cause" id="cause">`+string(in.Cause)) {
				t.Errorf("%s: cause %s not on the page", in.ID, in.Cause)
			}
			text := html.UnescapeString(body)
			for _, ev := range in.Evidence {
				if !strings.Contains(text, ev.Line) {
					t.Errorf("%s: evidence line missing: %q", in.ID, ev.Line)
				}
			}
			if !strings.Contains(text, in.Fix) {
				t.Errorf("%s: fix missing", in.ID)
			}
			bars := strings.Count(body, `<rect class="bar"`)
			if bars == 0 {
				t.Errorf("%s: the timeline has no 5xx bar", in.ID)
			}
		}
		// The OOM kill sits on the timeline as a mark, before the 5xx.
		oom := e.byName["pm2-oom"][0]
		_, body := get(t, h, "/incidents/"+oom.ID)
		if !strings.Contains(body, `<text class="mark-label"`) || !strings.Contains(body, ">oom_kill</text>") {
			t.Errorf("pm2-oom: no oom_kill mark on the timeline")
		}
	})

	t.Run("MergedIDShowsItsSurvivor", func(t *testing.T) {
		// The list (ListNewestFirst) has one row per stored incident, so
		// not the absorbed id; an old link to it opens the survivor.
		surv := e.incidents[0]
		_, list := get(t, h, "/")
		if strings.Contains(list, e.absorbed) {
			t.Errorf("the list shows %s, merged into %s", e.absorbed, surv.ID)
		}
		code, body := get(t, h, "/incidents/"+e.absorbed)
		if code != 200 || !strings.Contains(body, `<span class="cause" id="cause">`+string(surv.Cause)) || !strings.Contains(body, surv.ID) {
			t.Errorf("GET /incidents/%s = %d; want the page of %s (%s)", e.absorbed, code, surv.ID, surv.Cause)
		}
		text := html.UnescapeString(body)
		for _, ev := range surv.Evidence {
			if !strings.Contains(text, ev.Line) {
				t.Errorf("%s: the survivor's evidence line missing: %q", e.absorbed, ev.Line)
			}
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		for _, p := range []string{"/incidents/0000000000000000", "/incidents/..%2f..%2fetc", "/nope"} {
			if code, _ := get(t, h, p); code != 404 {
				t.Errorf("GET %s = %d, want 404", p, code)
			}
		}
	})

	t.Run("Static", func(t *testing.T) {
		code, body := get(t, h, "/static/style.css")
		if code != 200 || !strings.Contains(body, "--bad:#d92d20") {
			t.Errorf("GET /static/style.css = %d", code)
		}
		if code, _ := get(t, h, "/healthz"); code != 200 {
			t.Errorf("GET /healthz = %d", code)
		}
	})
}
