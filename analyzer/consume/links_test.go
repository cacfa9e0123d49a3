package consume

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/parser"
)

// linkStore records what the correlator writes.
type linkStore struct {
	incs  []analyzer.Incident
	links []clickhouse.RequestLink
}

func (s *linkStore) WriteIncidents(_ context.Context, incs []analyzer.Incident, _ time.Time) error {
	s.incs = append(s.incs, incs...)
	return nil
}

func (s *linkStore) WriteRequestLinks(_ context.Context, links []clickhouse.RequestLink, _ time.Time) error {
	s.links = append(s.links, links...)
	return nil
}

// take returns what was written since the last take, links as
// "offset class/incident" sorted.
func (s *linkStore) take() (incs []analyzer.Incident, links []string) {
	incs, s.incs = s.incs, nil
	for _, l := range s.links {
		links = append(links, fmt.Sprintf("%d %s/%s", l.Offset, l.Class, l.IncidentID))
	}
	s.links = nil
	sort.Strings(links)
	return incs, links
}

// The correlator stores the links the engine reports: each 5xx's error
// class (on a kept-alive connection its own request's line, not a notice,
// not the previous request's) and incident, revised when a late error line
// comes, not rewritten when nothing changed, and a lone 5xx's class without
// an incident.
func TestCorrelator_RequestLinks(t *testing.T) {
	store := &linkStore{}
	c, err := NewCorrelator(nil, store, DefaultConfig(), analyzer.Config{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 17, 11, 45, 0, time.UTC)
	req := func(off int64, at time.Duration, cid int64, uri string) {
		c.add(&EvidenceRecord{Host: "proxy-1", FileID: "a", Offset: off, Event: parser.Event{Kind: parser.KindRequest,
			Time: t0.Add(at), Status: 502, CID: cid, Client: "10.0.0.5", Method: "GET", URI: uri, Protocol: "HTTP/1.1",
			RequestTime: 0.01, UpstreamAddr: []string{"127.0.0.1:18411"}, UpstreamStatus: []int{502},
			UpstreamHeaderTime: []float64{parser.Absent}}})
	}
	errLine := func(off int64, at time.Duration, cid int64, class parser.Class, request string) {
		c.add(&EvidenceRecord{Host: "proxy-1", FileID: "e", Offset: off, Event: parser.Event{Kind: parser.KindProxyError,
			Time: t0.Add(at), CID: cid, Class: class, Client: "10.0.0.5", Request: request, Upstream: "http://127.0.0.1:18411/x"}})
	}
	errLine(1, 0, 7, parser.ClassUpstreamRefused, "GET /a HTTP/1.1")
	req(1, 0, 7, "/a")
	errLine(2, time.Second, 7, parser.ClassClientClosed, "") // keep-alive notice on the same connection
	req(2, 2*time.Second, 7, "/b")                           // same connection, its error line comes late
	errLine(3, 2*time.Second, 8, parser.ClassUpstreamRefused, "GET /c HTTP/1.1")
	req(3, 2*time.Second, 8, "/c")
	req(4, 3*time.Second, 9, "/d") // no error line at all
	if err := c.flush(ctx); err != nil {
		t.Fatal(err)
	}
	incs, links := store.take()
	if len(incs) != 1 || !incs[0].Open {
		t.Fatalf("incidents written: %+v", incs)
	}
	id := incs[0].ID
	// /b's own error line is not there yet, and /a's quotes another
	// request: /b is in the incident without a class for now.
	want := []string{"1 upstream_refused/" + id, "2 /" + id, "3 upstream_refused/" + id, "4 /" + id}
	if strings.Join(links, ",") != strings.Join(want, ",") {
		t.Errorf("first links %v, want %v", links, want)
	}
	errLine(4, 2*time.Second, 7, parser.ClassUpstreamReset, "GET /b HTTP/1.1")
	if err := c.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, links = store.take(); strings.Join(links, ",") != "2 upstream_reset/"+id {
		t.Errorf("after the late error line: %v, want only /b revised to upstream_reset", links)
	}
	// A lone 5xx half an hour later, explained by its error line: no
	// incident, but its class is stored. Then the input ends: the incident
	// closes, no link changes.
	errLine(5, 30*time.Minute, 10, parser.ClassUpstreamRefused, "GET /e HTTP/1.1")
	req(5, 30*time.Minute, 10, "/e")
	req(6, 30*time.Minute, 11, "/f") // and one without: nothing to store
	c.eng.Flush()
	if err := c.flush(ctx); err != nil {
		t.Fatal(err)
	}
	incs, links = store.take()
	if len(incs) != 1 || incs[0].ID != id || incs[0].Open {
		t.Errorf("closing: incidents %+v", incs)
	}
	if strings.Join(links, ",") != "5 upstream_refused/" {
		t.Errorf("at the end: links %v, want only the lone 5xx's class", links)
	}
	if err := c.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if incs, links = store.take(); len(incs)+len(links) != 0 {
		t.Errorf("nothing changed, yet %d incidents and links %v written", len(incs), links)
	}
}

// A store that does not keep links costs the engine nothing.
func TestCorrelator_NoLinkWriterNoLinks(t *testing.T) {
	c, err := NewCorrelator(nil, incidentsOnly{}, DefaultConfig(), analyzer.Config{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < 5; i++ {
		c.add(&EvidenceRecord{Host: "p", FileID: "a", Offset: i, Event: parser.Event{Kind: parser.KindRequest,
			Time: time.Unix(1e9+i, 0), Status: 502, UpstreamAddr: []string{"127.0.0.1:1"}}})
	}
	c.eng.Flush()
	if err := c.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l := c.eng.DrainLinks(); len(l) != 0 {
		t.Errorf("%d links kept for a store without request_links", len(l))
	}
}

type incidentsOnly struct{}

func (incidentsOnly) WriteIncidents(context.Context, []analyzer.Incident, time.Time) error {
	return nil
}

type discardStore struct{ incs, links int }

func (s *discardStore) WriteIncidents(_ context.Context, incs []analyzer.Incident, _ time.Time) error {
	s.incs += len(incs)
	return nil
}

func (s *discardStore) WriteRequestLinks(_ context.Context, links []clickhouse.RequestLink, _ time.Time) error {
	s.links += len(links)
	return nil
}

// BenchmarkCorrelator_Links: the correlator's cost per evidence record,
// request links included, on a partition's input: every two minutes a 10 s
// burst of refused 502s at 100 per second from 50 clients, each with its
// error line; flushed every 1024 records as under load.
func BenchmarkCorrelator_Links(b *testing.B) {
	var recs []EvidenceRecord
	t0 := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	for i := 0; i < 1000; i++ {
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		cid := int64(i + 1)
		client := "10.0.0." + strconv.Itoa(i%50+1)
		recs = append(recs, EvidenceRecord{Host: "proxy-1", FileID: "e", Event: parser.Event{Kind: parser.KindProxyError,
			Time: at.Truncate(time.Second), CID: cid, Class: parser.ClassUpstreamRefused, Client: client,
			Request: "GET /api HTTP/1.1", Upstream: "http://127.0.0.1:4000/api"}},
			EvidenceRecord{Host: "proxy-1", FileID: "a", Event: parser.Event{Kind: parser.KindRequest,
				Time: at, Status: 502, CID: cid, Client: client, Method: "GET", URI: "/api", Protocol: "HTTP/1.1",
				RequestTime: 0.001, UpstreamAddr: []string{"127.0.0.1:4000"}, UpstreamStatus: []int{502},
				UpstreamHeaderTime: []float64{parser.Absent}}})
	}
	store := &discardStore{}
	c, err := NewCorrelator(nil, store, DefaultConfig(), analyzer.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := recs[i%len(recs)]
		round := int64(i / len(recs))
		rec.Event.Time = rec.Event.Time.Add(time.Duration(round) * 2 * time.Minute)
		rec.Event.CID += round * 1e6
		rec.Offset = int64(i)
		c.add(&rec)
		if i%1024 == 1023 {
			if err := c.flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(store.links)/float64(b.N), "links/op")
}
