package clickhouse_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/analyzer/consume"
	"github.com/culprit-dev/culprit/internal/testenv"
	"github.com/culprit-dev/culprit/parser"
	"github.com/culprit-dev/culprit/schemas"
)

// phasedFetcher serves the events topic in phases, as partitions that lag
// deliver it: each phase's records, then silence until the correlator has
// flushed what it made of them (it fetches again after its idle timeout)
// and the test has looked at ClickHouse.
type phasedFetcher struct {
	mu      sync.Mutex
	phases  [][]kafka.Message
	phase   int
	next    int
	idled   bool // the phase's records are out and an idle fetch returned
	waiting bool // flushed, waiting for proceed
	flushed chan int
	proceed chan struct{}
}

func (f *phasedFetcher) FetchMessage(ctx context.Context) (kafka.Message, error) {
	f.mu.Lock()
	if f.idled {
		// Back after an idle fetch: the correlator flushed.
		f.idled, f.waiting = false, true
		f.flushed <- f.phase
	}
	if f.waiting {
		f.mu.Unlock()
		select {
		case <-f.proceed:
		case <-ctx.Done():
			return kafka.Message{}, ctx.Err()
		}
		f.mu.Lock()
		f.waiting = false
		f.phase, f.next = f.phase+1, 0
	}
	if f.phase < len(f.phases) && f.next < len(f.phases[f.phase]) {
		m := f.phases[f.phase][f.next]
		f.next++
		f.mu.Unlock()
		return m, nil
	}
	f.idled = f.phase < len(f.phases)
	f.mu.Unlock()
	<-ctx.Done()
	return kafka.Message{}, ctx.Err()
}

func (f *phasedFetcher) CommitMessages(context.Context, ...kafka.Message) error { return nil }

// scenarioRecords parses a recorded scenario's logs into events-topic
// records, in time order, as the parse stage re-produces them.
func scenarioRecords(t *testing.T, dir, logFormat, host string) []consume.EvidenceRecord {
	t.Helper()
	var out []consume.EvidenceRecord
	for _, f := range []struct {
		name string
		opts parser.Options
	}{
		{"access.log", parser.Options{Source: parser.SourceNginxAccess, LogFormat: logFormat, Location: time.UTC}},
		{"error.log", parser.Options{Source: parser.SourceNginxError, Location: time.UTC}},
		{"app.log", parser.Options{Location: time.UTC}},
	} {
		p, err := parser.New(f.opts)
		if err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(fh)
		var off int64
		for {
			line, err := r.ReadString('\n')
			if len(line) > 0 {
				var ev parser.Event
				text := strings.TrimRight(line, "\r\n")
				p.Parse([]byte(text), &ev)
				if !ev.Time.IsZero() {
					out = append(out, consume.EvidenceRecord{Event: ev.Clone(), Line: text, Path: f.name, Host: host,
						FileID: filepath.Base(dir) + "/" + f.name, Offset: off})
				}
				off += int64(len(line))
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		fh.Close()
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Event.Time.Before(out[j].Event.Time) })
	return out
}

func messages(t *testing.T, recs []consume.EvidenceRecord, first int64) []kafka.Message {
	t.Helper()
	var out []kafka.Message
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, kafka.Message{Topic: "culprit.events", Offset: first + int64(i), Value: b})
	}
	return out
}

// TestIncidents_MergeInTheStream: testdata/scenarios/crash-twice is two real
// incidents on one upstream, 37 s apart (more than the 30 s gap). The
// streaming analyzer stores both; then a 5xx that a second proxy logged
// between them arrives late (its partition lagged) and bridges them. After
// that, ClickHouse holds one live incident with every request, the
// absorbed id is a 'merged' row naming it, and request_links agree with the
// survivor's class counts.
func TestIncidents_MergeInTheStream(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := clickhouse.Open(ctx, clickhouse.ConnConfig{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("culprit_merged_%d", rand.Uint32())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
		conn.Close()
	})
	migs, err := clickhouse.LoadMigrations(schemas.FS)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mg := &clickhouse.Migrator{Conn: conn, Opts: clickhouse.RenderOptions{Database: db}, Logger: log}
	if _, err := mg.Migrate(ctx, migs); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join("..", "..", "testdata", "scenarios", "crash-twice")
	var truth struct {
		LogFormat string `json:"log_format"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	recs := scenarioRecords(t, dir, truth.LogFormat, "proxy-1")
	// The late 5xx: the scenario's first 502, as a second proxy in front of
	// the same upstream logged it in the quiet between the two bursts.
	var bridge consume.EvidenceRecord
	var bursts []time.Time
	for _, r := range recs {
		if r.Event.Kind == parser.KindRequest && r.Event.Status >= 500 {
			bursts = append(bursts, r.Event.Time)
			if bridge.Line == "" {
				bridge = r
			}
		}
	}
	mid := bursts[0].Add(bursts[len(bursts)-1].Sub(bursts[0]) / 2)
	bridge.Event.Time, bridge.Host, bridge.FileID, bridge.Offset = mid, "proxy-2", "proxy-2/access.log", 0
	bridge.Line = strings.Replace(bridge.Line, bursts[0].Format("02/Jan/2006:15:04:05"), mid.Format("02/Jan/2006:15:04:05"), 1)

	f := &phasedFetcher{phases: [][]kafka.Message{messages(t, recs, 0), messages(t, []consume.EvidenceRecord{bridge}, int64(len(recs)))},
		flushed: make(chan int, 1), proceed: make(chan struct{})}
	cfg := consume.DefaultConfig()
	cfg.Correlate.Idle = consume.Duration(300 * time.Millisecond)
	corr, err := consume.NewCorrelator(f, clickhouse.NewStore(conn, db), cfg, analyzer.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- corr.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("correlator: %v", err)
		}
	}()
	wait := func(phase int) {
		t.Helper()
		select {
		case p := <-f.flushed:
			if p != phase {
				t.Fatalf("phase %d flushed, want %d", p, phase)
			}
		case err := <-done:
			t.Fatalf("correlator stopped: %v", err)
		case <-time.After(time.Minute):
			t.Fatalf("phase %d never flushed", phase)
		}
	}

	type incRow struct {
		id, state, into string
		requests        uint64
		classes         map[string]uint64
	}
	read := func() map[string]incRow {
		t.Helper()
		rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT incident_id, state, merged_into, requests_affected, classes, class_counts
			FROM %s.incidents FINAL`, db))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]incRow{}
		for rows.Next() {
			var r incRow
			var classes []string
			var counts []uint64
			if err := rows.Scan(&r.id, &r.state, &r.into, &r.requests, &classes, &counts); err != nil {
				t.Fatal(err)
			}
			r.classes = map[string]uint64{}
			for i, c := range classes {
				r.classes[c] = counts[i]
			}
			out[r.id] = r
		}
		return out
	}

	wait(0)
	before := read()
	var sum uint64
	for _, r := range before {
		if r.state == clickhouse.StateMerged {
			t.Errorf("before the late 5xx: %s is merged into %s", r.id, r.into)
		}
		sum += r.requests
	}
	if len(before) != 2 {
		t.Fatalf("before the late 5xx: %d incidents stored, want crash-twice's two: %+v", len(before), before)
	}
	f.proceed <- struct{}{}
	wait(1)
	after := read()
	var live, merged []incRow
	for _, r := range after {
		if r.state == clickhouse.StateMerged {
			merged = append(merged, r)
		} else {
			live = append(live, r)
		}
	}
	if len(live) != 1 || len(merged) != 1 {
		t.Fatalf("after the merge: live %+v, merged %+v", live, merged)
	}
	surv, gone := live[0], merged[0]
	if surv.requests != sum+1 {
		t.Errorf("survivor %s holds %d requests, want the two incidents' %d and the late one", surv.id, surv.requests, sum)
	}
	if _, ok := before[surv.id]; !ok || gone.into != surv.id || gone.requests != 0 || len(gone.classes) != 0 {
		t.Errorf("absorbed %+v, survivor %s", gone, surv.id)
	}
	// What a reader of the cookbook sees.
	var n, total uint64
	if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count(), sum(requests_affected) FROM %s.incidents FINAL WHERE state != 'merged'", db)).Scan(&n, &total); err != nil {
		t.Fatal(err)
	}
	if n != 1 || total != sum+1 {
		t.Errorf("live incidents: %d holding %d requests", n, total)
	}

	// Each 5xx's latest link, per incident and class: the survivor's class
	// counts (request_links leave the class empty where no error line
	// explains a 5xx: the pseudo classes app_error, no_response, unlinked).
	rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT inc, cls, count() FROM (
		SELECT argMax(incident_id, version) AS inc, argMax(class, version) AS cls FROM %s.request_links GROUP BY file_id, line_offset)
		GROUP BY inc, cls`, db))
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]map[string]uint64{}
	for rows.Next() {
		var inc, cls string
		var c uint64
		if err := rows.Scan(&inc, &cls, &c); err != nil {
			t.Fatal(err)
		}
		if links[inc] == nil {
			links[inc] = map[string]uint64{}
		}
		links[inc][cls] += c
	}
	rows.Close()
	want := map[string]uint64{}
	for c, k := range surv.classes {
		switch c {
		case string(analyzer.ClassAppError), string(analyzer.ClassNoResponse), string(analyzer.ClassUnlinked):
			c = ""
		}
		want[c] += k
	}
	if fmt.Sprint(links[surv.id]) != fmt.Sprint(want) || links[gone.id] != nil {
		t.Errorf("links by incident and class %v; survivor %s counts %v", links, surv.id, surv.classes)
	}
}
