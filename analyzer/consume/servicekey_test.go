package consume

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/internal/testenv"
	"github.com/culprit-dev/culprit/parser"
)

// twoServices is the topology of the test: two real captures, each an app
// on its own machine behind the proxy on proxy-1.
const twoServices = `services:
  - name: reports
    upstreams: ["127.0.0.1:18421"]
    hosts: [app-reports]
  - name: search
    upstreams: ["127.0.0.1:18471"]
    hosts: [app-search]
`

// Scale-out of the correlation: three correlators in one group on a
// three-partition events topic, with a topology of two services. Every
// piece of evidence is keyed by its service, each service's evidence lands
// in exactly one partition, two correlators do the work, and the incidents
// in ClickHouse are the captures' ground truth with their service names.
func TestCorrelate_KeyedByService(t *testing.T) {
	chAddr := testenv.ClickHouseAddr(t)
	lines := newTopic(t, 3)
	events := newTopic(t, 3)
	conn, db := migrated(t, chAddr)
	topo, err := analyzer.ParseTopology(strings.NewReader(twoServices))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []kafka.Message
	var want []string
	for _, sc := range []string{"gunicorn-timeout", "slow-upstream"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", sc, "truth.json"))
		if err != nil {
			t.Fatal(err)
		}
		var truth struct {
			Incidents []struct{ Cause, Upstream string } `json:"incidents"`
		}
		if err := json.Unmarshal(raw, &truth); err != nil {
			t.Fatal(err)
		}
		svc := map[string]string{"gunicorn-timeout": "reports", "slow-upstream": "search"}[sc]
		for _, in := range truth.Incidents {
			want = append(want, svc+" "+in.Cause+" "+in.Upstream)
		}
		for _, m := range scenarioRecords(t, sc) {
			m.Headers = append([]kafka.Header(nil), m.Headers...)
			proxySide := false
			for _, h := range m.Headers {
				if h.Key == "path" {
					base := filepath.Base(string(h.Value))
					proxySide = base == "access.log" || base == "error.log"
				}
			}
			for i, h := range m.Headers {
				switch h.Key {
				case "host":
					// The proxy's logs on proxy-1, the app's on its own machine.
					if !proxySide {
						m.Headers[i].Value = []byte("app-" + svc)
					}
				case "label.service":
					m.Headers[i].Value = []byte("shop") // one label for all: the old key would put everything in one partition
				}
			}
			msgs = append(msgs, m)
		}
	}
	sort.Strings(want)
	lines.produce(t, byWriteTime(t, msgs))

	cfg := testConfig(lines, chAddr, db, "culprit-test-"+lines.topic)
	cfg.Correlate = CorrelateConfig{Enabled: true, Topic: events.topic, Group: "culprit-test-" + events.topic,
		Idle: Duration(time.Second), Lateness: Duration(10 * time.Minute)}
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
	m := &Metrics{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 4)
	go func() { done <- New(r, store, cfg, testLogger(t), m).WithEvents(w).WithTopology(topo).Run(ctx) }()
	evCfg := cfg
	evCfg.Kafka.Topic, evCfg.Kafka.Group = events.topic, cfg.Correlate.Group
	corrs := make([]*Correlator, 3)
	for i := range corrs {
		er := newReader(evCfg)
		defer er.Close()
		if corrs[i], err = NewCorrelator(er, store, cfg, analyzer.Config{Topology: topo}, testLogger(t)); err != nil {
			t.Fatal(err)
		}
		go func(c *Correlator) { done <- c.Run(ctx) }(corrs[i])
	}
	var got []string
	waitFor(t, "both services' incidents closed in ClickHouse", 60*time.Second, func() bool {
		got = queryStrings(t, chConn, "SELECT concat(service, ' ', cause, ' ', upstream) FROM "+db+
			".incidents FINAL WHERE state = 'closed' ORDER BY concat(service, ' ', cause, ' ', upstream)")
		return m.StoredLines.Load() >= uint64(len(msgs)) && len(got) >= len(want)
	})
	cancel()
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("incidents in ClickHouse:\n%s\nground truth:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := count(t, conn, "SELECT count() FROM (SELECT incident_id FROM "+db+".incidents GROUP BY incident_id)"); n != uint64(len(want)) {
		t.Errorf("%d incident ids, want %d: an incident was split", n, len(want))
	}

	// Links written by different correlators meet in one table.
	checkRequestLinks(t, conn, db)

	// Where the evidence went: every record keyed by its service, each
	// service in one partition.
	parts := map[string]map[int]int{}
	total := 0
	for p := 0; p < 3; p++ {
		pr := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{events.brokers}, Topic: events.topic, Partition: p,
			MaxWait: 100 * time.Millisecond})
		end, err := pr.ReadLag(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := int64(0); i < end; i++ {
			rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
			msg, err := pr.ReadMessage(rctx)
			rcancel()
			if err != nil {
				t.Fatal(err)
			}
			if parts[string(msg.Key)] == nil {
				parts[string(msg.Key)] = map[int]int{}
			}
			parts[string(msg.Key)][p]++
			if string(msg.Key) == "host:proxy-1" {
				// nginx's own notices (start, signals, shutdown) name no
				// upstream: they belong to the proxy's host, not a service.
				var rec EvidenceRecord
				if err := json.Unmarshal(msg.Value, &rec); err != nil {
					t.Fatal(err)
				}
				if rec.Event.Kind != "proxy_error" || rec.Event.Upstream != "" {
					t.Errorf("%s %q keyed by the proxy's host", rec.Event.Kind, rec.Line)
				}
			}
			total++
		}
		pr.Close()
	}
	if total == 0 || total != int(m.Evidence.Load()) {
		t.Errorf("read %d evidence records back, produced %d", total, m.Evidence.Load())
	}
	for key, ps := range parts {
		if key != "service:reports" && key != "service:search" && key != "host:proxy-1" {
			t.Errorf("evidence keyed %q (%v records): not mapped to a service", key, ps)
		}
		if len(ps) != 1 {
			t.Errorf("evidence of %s spread over partitions %v", key, ps)
		}
	}
	busy := 0
	for _, c := range corrs {
		if c.Written.Load() > 0 {
			busy++
		}
	}
	// kafka.Hash puts "service:reports" and "service:search" on different
	// partitions of three (FNV-1a), so two correlators must have written.
	if busy != 2 {
		t.Errorf("%d correlators wrote incidents, want 2 (one per service)", busy)
	}
	t.Logf("%d lines, %d evidence records by key and partition %v; correlators wrote %d/%d/%d revisions",
		len(msgs), total, parts, corrs[0].Written.Load(), corrs[1].Written.Load(), corrs[2].Written.Load())
}

// Keys without the help of a topology entry: where the evidence of one
// incident must meet anyway.
func TestEventKey_Fallbacks(t *testing.T) {
	topo, err := analyzer.ParseTopology(strings.NewReader(twoServices))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		topo  *analyzer.Topology
		ev    parser.Event
		host  string
		label string
		want  string
	}{
		{"no topology: the label", nil, parser.Event{Kind: parser.KindRequest, Status: 502}, "proxy-1", "shop", "shop"},
		{"no topology, no label: one key", nil, parser.Event{Kind: parser.KindUpstreamEvent}, "app-3", "", "-"},
		{"request of a known service", topo, parser.Event{Kind: parser.KindRequest, UpstreamAddr: []string{"10.0.0.9:80", "127.0.0.1:18421"}}, "proxy-1", "x", "service:reports"},
		{"error line of a known service", topo, parser.Event{Kind: parser.KindProxyError, Upstream: "http://127.0.0.1:18471/search"}, "proxy-1", "", "service:search"},
		{"kernel kill on a service's host", topo, parser.Event{Kind: parser.KindUpstreamEvent, Class: parser.ClassOOMKill, Process: "python3"}, "app-search", "", "service:search"},
		{"remote unknown upstream", topo, parser.Event{Kind: parser.KindRequest, UpstreamAddr: []string{"http://10.0.0.3:4000"}}, "proxy-1", "", "upstream:10.0.0.3:4000"},
		{"its error line", topo, parser.Event{Kind: parser.KindProxyError, Upstream: "http://10.0.0.3:4000/api"}, "proxy-1", "", "upstream:10.0.0.3:4000"},
		{"local unknown upstream: the proxy's host", topo, parser.Event{Kind: parser.KindRequest, UpstreamAddr: []string{"127.0.0.1:9000"}}, "proxy-1", "", "host:proxy-1"},
		{"unix socket: the proxy's host", topo, parser.Event{Kind: parser.KindProxyError, Upstream: "unix:/run/php/fpm.sock:"}, "proxy-1", "", "host:proxy-1"},
		{"rate limited, no upstream", topo, parser.Event{Kind: parser.KindRequest, Status: 503, UpstreamAddr: []string{"-"}}, "proxy-1", "", "host:proxy-1"},
		{"unknown app on the proxy's host", topo, parser.Event{Kind: parser.KindUpstreamEvent, Class: parser.ClassCrash, Process: "php-fpm"}, "proxy-1", "", "host:proxy-1"},
	} {
		if got := string(eventKey(c.topo, &c.ev, c.host, c.label)); got != c.want {
			t.Errorf("%s: key %q, want %q", c.name, got, c.want)
		}
	}
}
