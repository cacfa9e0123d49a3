package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/internal/testenv"
)

// End to end from files: culprit ship -> Kafka -> culprit analyze (parse,
// store, correlate) -> ClickHouse, on real scenario captures; the incidents
// in ClickHouse are those `culprit explain` finds in the same files, cause
// for cause.
func TestAnalyze_ShipToClickHouseMatchesExplain(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	chAddr := testenv.ClickHouseAddr(t)
	for _, sc := range []string{"pm2-oom", "crash-twice", "gunicorn-timeout", "two-upstreams"} {
		t.Run(sc, func(t *testing.T) { shipAnalyzeExplain(t, brokers, chAddr, sc) })
	}
}

func shipAnalyzeExplain(t *testing.T, brokers, chAddr, sc string) {
	src := scenarioDir(sc)
	dir := t.TempDir()
	truth := readScenarioTruth(t, sc)
	logs, _ := filepath.Glob(filepath.Join(src, "*.log"))
	var sources strings.Builder
	var files []string
	for _, f := range logs {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, dst)
		kind := logKind(f)
		fmt.Fprintf(&sources, "  - paths: [%q]\n    kind: %s\n    tz: %s\n", dst, kind, truth.TZ)
		if kind == "nginx_access" {
			fmt.Fprintf(&sources, "    log_format: %q\n", truth.LogFormat)
		}
	}

	x := newE2E(t, brokers, chAddr, "e2e")
	id, db, conn := x.id, x.db, x.conn
	lines, events := x.topic(t, "lines", 6), x.topic(t, "events", 3)

	shipYAML := fmt.Sprintf("host: proxy-1\nregistry: %s\nkafka:\n  brokers: [%q]\n  topic: %s\ntail:\n  start_at: beginning\nsources:\n%s",
		filepath.Join(dir, "registry.json"), brokers, lines, sources.String())
	analyzeYAML := fmt.Sprintf(`kafka:
  brokers: [%q]
  topic: %s
  group: e2e-%d
  session_timeout: 6s
clickhouse:
  addr: %q
  database: %s
batch:
  max_rows: 2000
  max_wait: 200ms
correlate:
  enabled: true
  topic: %s
  group: e2e-corr-%d
  idle: 1s
  # Backfilling whole files: partitions are read at different speeds.
  lateness: 10m
`, brokers, lines, id, chAddr, db, events, id)
	for name, body := range map[string]string{"ship.yaml": shipYAML, "analyze.yaml": analyzeYAML} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// What explain says about the same files.
	var exOut bytes.Buffer
	ex := &env{stdout: &exOut, stderr: &bytes.Buffer{}, logger: discardLogger()}
	if err := run(context.Background(), ex, append([]string{"explain", "--json", "--progress", "never", "--tz", truth.TZ,
		"--log-format", truth.LogFormat}, files...)); err != nil {
		t.Fatalf("explain: %v\n%s", err, ex.stderr)
	}
	var explained struct {
		Incidents []struct {
			Cause    string `json:"cause"`
			Upstream string `json:"upstream"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal(exOut.Bytes(), &explained); err != nil {
		t.Fatalf("explain --json: %v\n%s", err, exOut.String())
	}
	var want []string
	for _, in := range explained.Incidents {
		want = append(want, in.Cause+" "+in.Upstream)
	}
	sort.Strings(want)
	if len(want) == 0 {
		t.Fatal("explain found no incident: nothing to compare")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 2)
	shipErr, anErr := &bytes.Buffer{}, &bytes.Buffer{}
	shipLog, anLog := &lockedWriter{w: &bytes.Buffer{}}, &lockedWriter{w: &bytes.Buffer{}}
	go func() {
		done <- run(ctx, &env{stdout: &bytes.Buffer{}, stderr: shipErr, logger: slog.New(slog.NewTextHandler(shipLog, nil))},
			[]string{"ship", "--config", filepath.Join(dir, "ship.yaml")})
	}()
	go func() {
		done <- run(ctx, &env{stdout: &bytes.Buffer{}, stderr: anErr, logger: slog.New(slog.NewTextHandler(anLog, &slog.HandlerOptions{Level: slog.LevelDebug}))},
			[]string{"analyze", "--config", filepath.Join(dir, "analyze.yaml")})
	}()
	var got []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		got = x.closedIncidents(t)
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			<-done
			var all uint64
			conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".incidents").Scan(&all)
			t.Fatalf("closed incidents in ClickHouse (of %d revisions):\n%s\nexplain:\n%s\nship stderr: %s\nanalyze stderr: %s",
				all, strings.Join(got, "\n"), strings.Join(want, "\n"), lastBytes(shipLog.String()), lastBytes(anLog.String()))
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Errorf("stopping: %v", err)
		}
	}
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".requests FINAL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	// Every 5xx of every incident carries its incident id and its error
	// class through the documented view: per incident, the linked 5xx by
	// class are the incident's class counts (the engine's pseudo classes for
	// 5xx without an error line are '' in the link).
	linked := map[string]string{}
	rows, err := conn.Query(context.Background(), "SELECT incident_id, arrayStringConcat(groupArray(concat(class, '=', toString(n))), ' ') "+
		"FROM (SELECT incident_id, class, count() AS n FROM "+db+".requests_linked WHERE status >= 500 AND incident_id != '' "+
		"GROUP BY incident_id, class ORDER BY class) GROUP BY incident_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, per string
		if err := rows.Scan(&id, &per); err != nil {
			t.Fatal(err)
		}
		linked[id] = per
	}
	rows.Close()
	rows, err = conn.Query(context.Background(), "SELECT incident_id, classes, class_counts FROM "+db+".incidents FINAL")
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
			if c == "app_error" || c == "no_response" || c == "unlinked" {
				c = ""
			}
			per[c] += counts[i]
		}
		keys := make([]string, 0, len(per))
		for c := range per {
			keys = append(keys, c)
		}
		sort.Strings(keys)
		var parts []string
		for _, c := range keys {
			parts = append(parts, fmt.Sprintf("%s=%d", c, per[c]))
		}
		if w := strings.Join(parts, " "); linked[id] != w {
			t.Errorf("incident %s: linked 5xx by class %q, the incident counts %q", id, linked[id], w)
		}
	}
	rows.Close()
	t.Logf("%s: %d requests stored; incidents %v; 5xx linked by class %v", sc, n, got, linked)
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// e2e is what an end-to-end test of analyze works in: the shared Kafka and
// ClickHouse, with topics and a migrated database of its own, named after
// the test and a random id, dropped when it ends.
type e2e struct {
	brokers, chAddr string
	id              uint32
	db              string
	conn            driver.Conn
}

func newE2E(t *testing.T, brokers, chAddr, name string) *e2e {
	t.Helper()
	x := &e2e{brokers: brokers, chAddr: chAddr, id: rand.Uint32()}
	x.db = fmt.Sprintf("culprit_test_%s_%d", name, x.id)
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, logger: discardLogger()}
	if err := run(context.Background(), e, []string{"migrate", "--addr", chAddr, "--database", x.db}); err != nil {
		t.Fatal(err)
	}
	conn, err := clickhouse.Open(context.Background(), clickhouse.ConnConfig{Addr: chAddr})
	if err != nil {
		t.Fatal(err)
	}
	x.conn = conn
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+x.db)
		conn.Close()
	})
	return x
}

// topic creates the test's topic culprit-test-<db name>-<role>.
func (x *e2e) topic(t *testing.T, role string, partitions int) string {
	t.Helper()
	name := fmt.Sprintf("%s-%s", strings.ReplaceAll(x.db, "_", "-"), role)
	client := &kafka.Client{Addr: kafka.TCP(x.brokers), Timeout: 10 * time.Second}
	if _, err := client.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: name, NumPartitions: partitions, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{name}}) })
	return name
}

// closedIncidents: "cause upstream" of every closed incident, sorted.
func (x *e2e) closedIncidents(t *testing.T) []string {
	t.Helper()
	rows, err := x.conn.Query(context.Background(), "SELECT concat(cause, ' ', upstream) FROM "+x.db+".incidents FINAL WHERE state = 'closed' ORDER BY concat(cause, ' ', upstream)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	return got
}

// startAnalyzers runs n `culprit analyze` processes of the built binary
// with the same config, each logging to its own buffer; killed at the end.
func startAnalyzers(t *testing.T, bin string, n int, cfg string) ([]*exec.Cmd, []*lockedWriter) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "analyze.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	procs := make([]*exec.Cmd, n)
	logs := make([]*lockedWriter, n)
	for i := range procs {
		logs[i] = &lockedWriter{w: &bytes.Buffer{}}
		procs[i] = exec.Command(bin, "analyze", "--config", path)
		procs[i].Stderr = logs[i]
		if err := procs[i].Start(); err != nil {
			t.Fatal(err)
		}
		p := procs[i]
		t.Cleanup(func() { p.Process.Kill(); p.Wait() })
	}
	return procs, logs
}

// produceSlowly writes msgs in batches of n with a pause between them, so
// that lines keep arriving for a while (a consumer group forms, a member
// dies, incidents stay open); the channel says when all are written.
func produceSlowly(w *kafka.Writer, msgs []kafka.Message, n int) <-chan error {
	produced := make(chan error, 1)
	go func() {
		for i := 0; i < len(msgs); i += n {
			if err := w.WriteMessages(context.Background(), msgs[i:min(i+n, len(msgs))]...); err != nil {
				produced <- err
				return
			}
			time.Sleep(150 * time.Millisecond)
		}
		produced <- nil
	}()
	return produced
}

// scenarioTruth: what these tests read of a scenario's truth.json.
type scenarioTruth struct {
	TZ        string `json:"tz"`
	LogFormat string `json:"log_format"`
	Incidents []struct {
		Cause    string `json:"cause"`
		Upstream string `json:"upstream"`
	} `json:"incidents"`
}

func scenarioDir(name string) string { return filepath.Join("..", "..", "testdata", "scenarios", name) }

func readScenarioTruth(t *testing.T, name string) scenarioTruth {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(scenarioDir(name), "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth scenarioTruth
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	return truth
}

// logKind: the source kind a scenario capture's file is shipped as.
func logKind(path string) string {
	switch filepath.Base(path) {
	case "access.log":
		return "nginx_access"
	case "error.log":
		return "nginx_error"
	}
	return "auto"
}

func lastBytes(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// Scale-out: three analyzer processes in one consumer group on a
// six-partition topic while lines keep arriving; one is killed with SIGKILL
// mid-run. The others take over its partitions and every line is stored
// exactly once (after dedup): nothing lost, nothing counted twice.
func TestAnalyze_ThreeAnalyzersOneKilled(t *testing.T) {
	x := newE2E(t, testenv.KafkaBrokers(t), testenv.ClickHouseAddr(t), "scale")
	brokers, chAddr, id, db, conn := x.brokers, x.chAddr, x.id, x.db, x.conn
	bin := buildCulprit(t)
	topic := x.topic(t, "lines", 6)

	// Real access lines from the scenarios, as 24 files on 6 hosts.
	var lines [][]byte
	for _, sc := range []string{"pm2-oom", "slow-upstream", "deploy"} {
		data, err := os.ReadFile(filepath.Join(scenarioDir(sc), "access.log"))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Split(bytes.TrimSpace(data), []byte("\n"))...)
	}
	truth := readScenarioTruth(t, "pm2-oom")
	var msgs []kafka.Message
	for f := 0; f < 24; f++ {
		var off int64
		for _, l := range lines[:400] {
			msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprintf("host-%d:/var/log/nginx/access.log.%d", f%6, f)), Value: l,
				Headers: []kafka.Header{{Key: "kind", Value: []byte("nginx_access")}, {Key: "log_format", Value: []byte(truth.LogFormat)}, {Key: "host", Value: []byte(fmt.Sprintf("host-%d", f%6))},
					{Key: "file_id", Value: []byte(fmt.Sprintf("8:%d:scale", f))}, {Key: "offset", Value: []byte(fmt.Sprint(off))}}})
			off += int64(len(l)) + 1
		}
	}
	w := &kafka.Writer{Addr: kafka.TCP(brokers), Topic: topic, Balancer: &kafka.Hash{}, BatchSize: 500,
		BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()

	procs, logs := startAnalyzers(t, bin, 3, fmt.Sprintf("kafka:\n  brokers: [%q]\n  topic: %s\n  group: scale-%d\n  session_timeout: 6s\n"+
		"clickhouse:\n  addr: %q\n  database: %s\nbatch:\n  max_rows: 300\n  max_wait: 100ms\n", brokers, topic, id, chAddr, db))
	// Lines keep arriving while the group forms and while one member dies.
	produced := produceSlowly(w, msgs, 600)
	stored := func() uint64 {
		var n uint64
		if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".requests").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for stored() < uint64(len(msgs)/4) {
		if time.Now().After(deadline) {
			t.Fatalf("analyzers stored %d rows in 30 s\n%s", stored(), lastBytes(logs[0].String()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	killedAt := stored()
	if err := procs[0].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	procs[0].Wait()
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	var final uint64
	deadline = time.Now().Add(60 * time.Second)
	for {
		if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".requests FINAL").Scan(&final); err != nil {
			t.Fatal(err)
		}
		if final >= uint64(len(msgs)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d lines stored 60 s after the kill\nsurvivor log:\n%s", final, len(msgs), lastBytes(logs[1].String()))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, p := range procs[1:] {
		p.Process.Signal(syscall.SIGTERM)
		if err := p.Wait(); err != nil {
			t.Errorf("analyzer after SIGTERM: %v", err)
		}
	}
	rawRows := stored()
	if final != uint64(len(msgs)) {
		t.Errorf("%d distinct lines stored, want %d", final, len(msgs))
	}
	var unparsed uint64
	conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".unparsed").Scan(&unparsed)
	if unparsed != 0 {
		t.Errorf("%d lines unparsed", unparsed)
	}
	t.Logf("%d lines; killed one analyzer at %d stored rows; %d raw rows (%d re-delivered after the kill), %d after dedup",
		len(msgs), killedAt, rawRows, rawRows-final, final)
}

// Scale-out with correlation: three analyzer processes (each with its
// correlator) share the lines and the events topics; the process whose
// correlator is writing incidents is SIGKILLed mid-run. Another takes over
// the evidence partition, re-reads what was not committed and rebuilds the
// incidents under the same ids: none is duplicated or split, and the set
// equals the scenarios' ground truth.
func TestAnalyze_CorrelatorKilled(t *testing.T) {
	x := newE2E(t, testenv.KafkaBrokers(t), testenv.ClickHouseAddr(t), "ck")
	brokers, chAddr, id, db, conn := x.brokers, x.chAddr, x.id, x.db, x.conn
	bin := buildCulprit(t)
	lines, events := x.topic(t, "lines", 6), x.topic(t, "events", 3)

	// Records as culprit ship makes them, for three scenarios on distinct
	// upstreams; their ground truth is the expected set of incidents.
	var msgs []kafka.Message
	var want []string
	// Captured within three minutes of each other (16:39:57-16:42:59), so
	// that replaying them together stays within the correlator's lateness
	// whatever order the partitions deliver them in (pm2-oom, re-captured
	// at 17:11, made the others 30 min late: a flaky verdict). Files of
	// different periods replayed at once are a backfill per period.
	for _, sc := range []string{"crash-loop", "gunicorn-timeout", "slow-upstream"} {
		dir := scenarioDir(sc)
		truth := readScenarioTruth(t, sc)
		for _, in := range truth.Incidents {
			want = append(want, in.Cause+" "+in.Upstream)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			kind := logKind(f)
			var off int64
			for _, l := range bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n")) {
				hs := []kafka.Header{{Key: "kind", Value: []byte(kind)}, {Key: "host", Value: []byte(sc)},
					{Key: "path", Value: []byte(f)}, {Key: "file_id", Value: []byte("ck:" + f)},
					{Key: "offset", Value: []byte(fmt.Sprint(off))}, {Key: "tz", Value: []byte("UTC")}}
				if kind == "nginx_access" {
					hs = append(hs, kafka.Header{Key: "log_format", Value: []byte(truth.LogFormat)})
				}
				msgs = append(msgs, kafka.Message{Key: []byte(sc + ":" + f), Value: l, Headers: hs})
				off += int64(len(l)) + 1
			}
		}
	}
	sort.Strings(want)

	procs, logs := startAnalyzers(t, bin, 3, fmt.Sprintf(`kafka:
  brokers: [%q]
  topic: %s
  group: ck-%d
  session_timeout: 6s
clickhouse:
  addr: %q
  database: %s
batch:
  max_rows: 100
  max_wait: 100ms
correlate:
  enabled: true
  topic: %s
  group: ck-corr-%d
  idle: 1s
  lateness: 10m
`, brokers, lines, id, chAddr, db, events, id))
	w := &kafka.Writer{Addr: kafka.TCP(brokers), Topic: lines, Balancer: &kafka.Hash{}, BatchSize: 200,
		BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	// Lines keep arriving (no idle second in which a backfill would be
	// flushed), so incidents are still open when the kill comes.
	produced := produceSlowly(w, msgs, 100)
	// Kill the process whose correlator has written incidents.
	victim := -1
	deadline := time.Now().Add(40 * time.Second)
	for victim < 0 {
		for i, l := range logs {
			if strings.Contains(l.String(), "incident written") {
				victim = i
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no correlator wrote an incident in 40 s\n%s", lastBytes(logs[0].String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	procs[victim].Process.Signal(syscall.SIGKILL)
	procs[victim].Wait()
	killedAt := time.Now()
	var closedAtKill uint64
	conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".incidents FINAL WHERE state = 'closed'").Scan(&closedAtKill)
	if closedAtKill >= uint64(len(want)) {
		t.Fatalf("every incident was closed before the kill: the test proves nothing")
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	var got []string
	deadline = time.Now().Add(60 * time.Second)
	for {
		got = x.closedIncidents(t)
		if len(got) >= len(want) {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var all, ids uint64
	conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".incidents FINAL").Scan(&all)
	conn.QueryRow(context.Background(), "SELECT uniqExact(incident_id) FROM "+db+".incidents").Scan(&ids)
	if strings.Join(got, "\n") != strings.Join(want, "\n") || all != uint64(len(want)) || ids != uint64(len(want)) {
		survivor := (victim + 1) % 3
		t.Errorf("closed incidents:\n%s\nwant:\n%s\n%d incidents (any state), %d distinct ids ever written\nsurvivor log:\n%s",
			strings.Join(got, "\n"), strings.Join(want, "\n"), all, ids, lastBytes(logs[survivor].String()))
	}
	for i, p := range procs {
		if i != victim {
			p.Process.Signal(syscall.SIGTERM)
			p.Wait()
		}
	}
	t.Logf("killed analyzer %d when %d of %d incidents were closed; the rest closed %v later; incidents %v",
		victim, closedAtKill, len(want), time.Since(killedAt).Round(100*time.Millisecond), got)
}
