package consume

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/internal/record"
	"github.com/culprit-dev/culprit/internal/testenv"
	"github.com/culprit-dev/culprit/parser"
)

// Lines of a real capture go through Kafka, the parse stage, the events
// topic and the correlator; the incidents that land in ClickHouse are the
// scenario's ground truth, cause for cause, even though every line was
// delivered twice.
func TestCorrelate_ScenarioIncidents(t *testing.T) {
	for _, sc := range []string{"pm2-oom", "gunicorn-timeout"} {
		t.Run(sc, func(t *testing.T) { correlateScenario(t, sc) })
	}
}

func correlateScenario(t *testing.T, sc string) {
	chAddr := testenv.ClickHouseAddr(t)
	// One partition, lines in the order they were written, as live shippers
	// tailing these files would deliver them: a replay that delivers one
	// file minutes after another is beyond any watermark's lateness.
	lines := newTopic(t, 1)
	events := newTopic(t, 2)
	conn, db := migrated(t, chAddr)
	msgs := byWriteTime(t, scenarioRecords(t, sc))
	lines.produce(t, msgs)
	lines.produce(t, msgs[:len(msgs)/2]) // a shipper that re-sent half its lines

	var truth struct {
		Incidents []struct {
			Upstream string `json:"upstream"`
			Cause    string `json:"cause"`
		} `json:"incidents"`
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", sc, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, in := range truth.Incidents {
		want = append(want, in.Cause+" "+in.Upstream)
	}
	sort.Strings(want)

	cfg := testConfig(lines, chAddr, db, "culprit-test-"+lines.topic)
	cfg.Correlate = CorrelateConfig{Enabled: true, Topic: events.topic, Group: "culprit-test-" + events.topic,
		Idle: Duration(2 * time.Second)}
	hook := &receiver{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	cfg.Webhooks = []WebhookConfig{{URL: hookSrv.URL, Format: "json"}}
	chConn, err := clickhouse.Open(context.Background(), clickhouse.ConnConfig{Addr: chAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer chConn.Close()
	store := clickhouse.NewStore(chConn, db)
	w := &kafka.Writer{Addr: kafka.TCP(events.brokers), Topic: events.topic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	r := newReader(cfg)
	defer r.Close()
	evCfg := cfg
	evCfg.Kafka.Topic, evCfg.Kafka.Group = events.topic, cfg.Correlate.Group
	er := newReader(evCfg)
	defer er.Close()
	m := &Metrics{}
	c := New(r, store, cfg, testLogger(t), m).WithEvents(w)
	corr, err := NewCorrelator(er, store, cfg, analyzer.Config{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- c.Run(ctx) }()
	go func() { done <- corr.Run(ctx) }()
	var got []string
	waitFor(t, "the scenario's incidents in ClickHouse", 40*time.Second, func() bool {
		got = nil
		for _, row := range queryStrings(t, chConn, "SELECT concat(cause, ' ', upstream) FROM "+db+".incidents FINAL WHERE state = 'closed' ORDER BY concat(cause, ' ', upstream)") {
			got = append(got, row)
		}
		return m.StoredLines.Load() >= uint64(len(msgs)) && len(got) >= len(want)
	})
	cancel()
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("incidents in ClickHouse:\n%s\nground truth:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The webhook announced each incident's close with its final cause.
	var closed []string
	hook.mu.Lock()
	for _, b := range hook.bodies {
		var p struct {
			Event    string `json:"event"`
			Incident struct {
				Cause    string `json:"cause"`
				Upstream string `json:"upstream"`
			} `json:"incident"`
		}
		if err := json.Unmarshal([]byte(b), &p); err != nil {
			t.Fatal(err)
		}
		if p.Event == "closed" {
			closed = append(closed, p.Incident.Cause+" "+p.Incident.Upstream)
		}
	}
	hook.mu.Unlock()
	sort.Strings(closed)
	if strings.Join(closed, "\n") != strings.Join(want, "\n") {
		t.Errorf("webhook announced closed incidents %v, want %v", closed, want)
	}
	// Evidence of the latest revision is stored with it.
	ev := count(t, conn, "SELECT count() FROM "+db+".incident_evidence FINAL WHERE (incident_id, version) IN (SELECT incident_id, max(version) FROM "+db+".incidents GROUP BY incident_id)")
	if ev == 0 {
		t.Error("no evidence stored for the incidents")
	}
	checkRequestLinks(t, conn, db)
	t.Logf("%s: %d lines (+%d re-sent), %d evidence records, %d incident revisions written", sc, len(msgs), len(msgs)/2,
		m.Evidence.Load(), corr.Written.Load())
}

// byWriteTime orders records by the time their line was written (a line
// without a time keeps its predecessor's), files interleaved.
func byWriteTime(t *testing.T, msgs []kafka.Message) []kafka.Message {
	t.Helper()
	type keyed struct {
		at time.Time
		m  kafka.Message
	}
	parsers := map[string]*parser.Parser{}
	last := map[string]time.Time{}
	var ks []keyed
	var ev parser.Event
	for _, m := range msgs {
		hs := make([]record.Header, 0, len(m.Headers))
		for _, h := range m.Headers {
			hs = append(hs, record.Header{Key: h.Key, Value: h.Value})
		}
		l, err := record.FromHeaders(m.Value, hs)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := parsers[l.Path]
		if !ok {
			if p, err = parser.New(parser.Options{Source: parser.Source(l.Kind), LogFormat: l.LogFormat}); err != nil {
				t.Fatal(err)
			}
			parsers[l.Path] = p
		}
		p.Parse(l.Value, &ev)
		if !ev.Time.IsZero() {
			last[l.Path] = ev.Time
		}
		ks = append(ks, keyed{last[l.Path], m})
	}
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].at.Before(ks[j].at) })
	out := make([]kafka.Message, len(ks))
	for i, k := range ks {
		out[i] = k.m
	}
	return out
}

// checkRequestLinks: through the documented view requests_linked, every 5xx
// of every incident carries the incident's id, and its error class: per
// incident, the classes of its linked requests are the incident's own
// class counts (the engine's pseudo classes for 5xx without an error line,
// app_error, no_response and unlinked, are ” in the link).
func checkRequestLinks(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	ctx := context.Background()
	want := map[string]string{}
	rows, err := conn.Query(ctx, "SELECT incident_id, classes, class_counts FROM "+db+".incidents FINAL")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var classes []string
		var counts []uint64
		if err := rows.Scan(&id, &classes, &counts); err != nil {
			t.Fatal(err)
		}
		per := map[string]uint64{}
		for i, c := range classes {
			switch c {
			case string(analyzer.ClassAppError), string(analyzer.ClassNoResponse), string(analyzer.ClassUnlinked):
				c = ""
			}
			per[c] += counts[i]
		}
		want[id] = fmt.Sprint(per)
	}
	rows.Close()
	got := map[string]map[string]uint64{}
	rows, err = conn.Query(ctx, "SELECT incident_id, class, count() FROM "+db+".requests_linked WHERE status >= 500 GROUP BY incident_id, class")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, class string
		var n uint64
		if err := rows.Scan(&id, &class, &n); err != nil {
			t.Fatal(err)
		}
		if got[id] == nil {
			got[id] = map[string]uint64{}
		}
		got[id][class] = n
	}
	rows.Close()
	if len(want) == 0 {
		t.Fatal("no incidents: nothing to link")
	}
	for id, w := range want {
		if g := fmt.Sprint(got[id]); g != w {
			t.Errorf("incident %s: 5xx by linked class %s, the incident counts %s", id, g, w)
		}
	}
	t.Logf("request links: %v (\"\" key: 5xx in no incident or with no error line)", got)
}
