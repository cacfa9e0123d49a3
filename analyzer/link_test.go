package analyzer

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/parser"
)

// nginx logs "[info] client closed keepalive connection" with the serial of
// a kept-alive connection that served many requests: the notice must not
// stand in for the error line that explains a 5xx on that connection.
// (Seen live: 392 of 437 failed requests were counted as class other.)
func TestEngine_KeepaliveNoticeDoesNotTakeTheLink(t *testing.T) {
	// Arrival order as the streaming path can have it (access and error
	// logs on different partitions): the 5xx first, then the notice, then
	// the line that explains it.
	var evs []Evidence
	var pendingErr []Evidence
	for _, ev := range oomScenario() {
		if ev.Event.Kind == parser.KindProxyError {
			pendingErr = append(pendingErr, ev)
			continue
		}
		evs = append(evs, ev)
		if ev.Event.Kind != parser.KindRequest || ev.Event.Status < 500 {
			continue
		}
		for _, class := range []parser.Class{parser.ClassOther, parser.ClassClientClosed} {
			notice := proxyErr(ev.Event.Time.Sub(base).Seconds(), ev.Event.CID, class, "127.0.0.1:4000")
			notice.Event.Level = "info"
			notice.Event.Message = "client 127.0.0.1 closed keepalive connection"
			notice.Event.Request, notice.Event.Upstream = "", ""
			evs = append(evs, notice)
		}
		evs = append(evs, pendingErr...)
		pendingErr = pendingErr[:0]
	}
	in := one(t, run(t, Config{}, evs))
	if in.ClassCounts["upstream_refused"] != 38 {
		t.Errorf("classes %v, want all 38 requests linked to their refused line", in.ClassCounts)
	}
}

// withIDs gives every request an identity, as the shipper does (the access
// log's file and the line's offset).
func withIDs(evs []Evidence) []Evidence {
	for i := range evs {
		evs[i].Origin.FileID = evs[i].Origin.Path + "-id"
		evs[i].Origin.Offset = int64(i) * 100
	}
	return evs
}

// latestLinks keeps the last link reported for each request.
func latestLinks(m map[string]Link, links []Link) map[string]Link {
	if m == nil {
		m = map[string]Link{}
	}
	for _, l := range links {
		m[fmt.Sprintf("%s@%d", l.FileID, l.Offset)] = l
	}
	return m
}

// classesOf counts, per incident, the classes of its requests' links: the
// incident's own ClassCounts when links and incidents agree.
func classesOf(m map[string]Link) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, l := range m {
		if out[l.Incident] == nil {
			out[l.Incident] = map[string]int{}
		}
		out[l.Incident][string(l.Class)]++
	}
	return out
}

func TestEngine_LinksFollowIncidents(t *testing.T) {
	evs := withIDs(oomScenario())
	e, _ := New(Config{})
	e.EmitLinks()
	for i := range evs {
		e.Add(&evs[i])
	}
	e.Flush()
	in := one(t, e.Drain())
	m := latestLinks(nil, e.DrainLinks())
	if got := classesOf(m); len(got) != 1 || fmt.Sprint(got[in.ID]) != fmt.Sprint(in.ClassCounts) {
		t.Errorf("links by incident and class %v, incident %s counts %v", got, in.ID, in.ClassCounts)
	}
	for k, l := range m {
		if l.Version != in.Version || l.Host != "proxy" || l.Time.Before(in.Start) || l.Time.After(in.End) {
			t.Errorf("%s: %+v (incident version %d, %s..%s)", k, l, in.Version, in.Start, in.End)
		}
	}
	// An engine that was not asked keeps no links.
	e2, _ := New(Config{})
	for i := range evs {
		e2.Add(&evs[i])
	}
	e2.Flush()
	e2.Drain()
	if l := e2.DrainLinks(); len(l) != 0 {
		t.Errorf("links without EmitLinks: %d", len(l))
	}
}

// The streaming path: evidence out of order within the lateness, the
// incident drained while open, some error lines arriving after the incident
// closed (another partition lagging). Each request's link is first reported
// with what its access fields say and revised when its error line comes,
// with the incident's new version; unchanged links are not reported again.
func TestEngine_LateErrorLineRevisesLink(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	evs := withIDs(oomScenario())
	for s := 30.0; s < 120; s++ { // traffic that moves the watermark past the incident
		evs = append(evs, access(s, "127.0.0.1:4000", 200, int64(s*1000), 0.004))
	}
	var onTime, late []Evidence
	for _, ev := range evs {
		if ev.Event.Kind == parser.KindProxyError && rng.Intn(4) == 0 {
			late = append(late, ev)
			continue
		}
		onTime = append(onTime, ev)
	}
	if len(late) == 0 {
		t.Fatal("no late error lines")
	}
	// Displace arrival by up to 4 s, inside the default lateness.
	keys := make([]float64, len(onTime))
	for i := range onTime {
		keys[i] = float64(onTime[i].Event.Time.UnixNano())/1e9 + rng.Float64()*4
	}
	for i := 1; i < len(onTime); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
			onTime[j], onTime[j-1] = onTime[j-1], onTime[j]
		}
	}
	e, _ := New(Config{EmitOpen: true})
	e.EmitLinks()
	var m map[string]Link
	unchanged := 0
	var first Incident
	for i := range onTime {
		e.Add(&onTime[i])
		if i%50 == 49 {
			if incs := e.Drain(); len(incs) > 0 {
				first = incs[len(incs)-1]
			}
			l := e.DrainLinks()
			for _, k := range l {
				if old, ok := m[fmt.Sprintf("%s@%d", k.FileID, k.Offset)]; ok && old.Class == k.Class && old.Incident == k.Incident {
					unchanged++
				}
			}
			m = latestLinks(m, l)
		}
	}
	if first.ID == "" || first.Open {
		t.Fatalf("incident %+v not drained closed before the late lines", first)
	}
	if got := classesOf(m)[first.ID]; len(m) != 38 || fmt.Sprint(got) != fmt.Sprint(first.ClassCounts) {
		t.Fatalf("before the late lines: %d links, classes %v, incident counts %v", len(m), got, first.ClassCounts)
	}
	if unchanged != 0 {
		t.Errorf("%d links reported again unchanged", unchanged)
	}
	if m := classesOf(m)[first.ID]; m[string(ClassNoResponse)] != len(late) {
		t.Errorf("%d requests without their error line yet, links say %v", len(late), m)
	}
	for i := range late {
		e.Add(&late[i])
	}
	second := one(t, e.Drain())
	revised := e.DrainLinks()
	if len(revised) != len(late) {
		t.Errorf("%d links revised by %d late error lines", len(revised), len(late))
	}
	for _, l := range revised {
		if l.Class != parser.ClassUpstreamRefused || l.Incident != first.ID || l.Version != second.Version || second.Version <= first.Version {
			t.Errorf("revised link %+v; incident %s version %d (was %d)", l, second.ID, second.Version, first.Version)
		}
	}
	m = latestLinks(m, revised)
	if got := classesOf(m)[second.ID]; fmt.Sprint(got) != fmt.Sprint(second.ClassCounts) || second.ClassCounts["upstream_refused"] != 38 {
		t.Errorf("after the late lines: links %v, incident counts %v", got, second.ClassCounts)
	}
}

// A late 5xx that bridges two incidents merges them: the later one's
// requests are reported again under the surviving id. A burst too small to
// be an incident keeps its class and no incident.
func TestEngine_LinksMoveOnMerge(t *testing.T) {
	var evs []Evidence
	for i := 0; i < 10; i++ {
		evs = append(evs, access(float64(i), "127.0.0.1:4000", 502, 0, parser.Absent))
		evs = append(evs, access(70+float64(i), "127.0.0.1:4000", 502, 0, parser.Absent))
	}
	evs = append(evs, access(300, "127.0.0.1:4000", 502, 0, parser.Absent), access(301, "127.0.0.1:4000", 502, 0, parser.Absent))
	sortByTime(evs)
	evs = append(evs, access(40, "127.0.0.1:4000", 504, 0, parser.Absent))
	evs = withIDs(evs)
	e, _ := New(Config{Lateness: time.Minute, Gap: 31 * time.Second, EmitOpen: true})
	e.EmitLinks()
	for i := range evs[:len(evs)-1] {
		e.Add(&evs[i])
	}
	before := e.Drain()
	m := latestLinks(nil, e.DrainLinks())
	if len(before) != 2 || len(classesOf(m)) != 2 {
		t.Fatalf("before the bridge: %d incidents, links in %d", len(before), len(classesOf(m)))
	}
	e.Add(&evs[len(evs)-1])
	e.Flush()
	var in, gone Incident
	for _, x := range e.Drain() {
		if x.MergedInto != "" {
			gone = x
		} else {
			in = x
		}
	}
	if gone.MergedInto != in.ID || gone.ID == in.ID {
		t.Fatalf("the later incident's id did not end: %+v, survivor %s", gone, in.ID)
	}
	moved := e.DrainLinks()
	m = latestLinks(m, moved)
	got := classesOf(m)
	if len(got) != 2 || got[in.ID][string(ClassNoResponse)] != 21 || got[""][string(ClassNoResponse)] != 2 || got[gone.ID] != nil {
		t.Errorf("after the merge: links %v, incident %s (absorbed %s)", got, in.ID, gone.ID)
	}
	if len(moved) != 13 { // the bridge, the later incident's ten, the small burst's two
		t.Errorf("%d links reported on the merge, want 13", len(moved))
	}
}

// linkClasses runs evs through an engine and counts the requests by
// their URI (digits dropped), host and linked class.
func linkClasses(t *testing.T, evs []Evidence) map[string]int {
	t.Helper()
	evs = withIDs(evs)
	e, _ := New(Config{})
	e.EmitLinks()
	for i := range evs {
		e.Add(&evs[i])
	}
	e.Flush()
	e.Drain()
	links := latestLinks(nil, e.DrainLinks())
	got := map[string]int{}
	for _, ev := range evs {
		if ev.Event.Kind == parser.KindRequest {
			l := links[fmt.Sprintf("%s@%d", ev.Origin.FileID, ev.Origin.Offset)]
			got[strings.TrimRight(ev.Event.URI, "0123456789")+" "+ev.Origin.Host+" "+string(l.Class)]++
		}
	}
	return got
}

// A kept-alive connection carries one request after another: an error line
// that quotes one request line does not explain the next request on the
// connection, even when that one is logged first.
func TestEngine_LinkKeepsToItsRequestLine(t *testing.T) {
	var evs []Evidence
	for i := 0; i < 5; i++ {
		s := float64(i)
		a := access(s, "127.0.0.1:4000", 502, 7, parser.Absent)
		a.Event.URI = fmt.Sprintf("/a%d", i)
		er := proxyErr(s, 7, parser.ClassUpstreamRefused, "127.0.0.1:4000")
		er.Event.Request = "GET " + a.Event.URI + " HTTP/1.1"
		next := access(s+0.5, "127.0.0.1:4000", 502, 7, parser.Absent) // its own error line never came
		next.Event.URI = fmt.Sprintf("/next%d", i)
		evs = append(evs, er, next, a)
	}
	want := map[string]int{"/a proxy upstream_refused": 5, "/next proxy no_response": 5}
	if got := linkClasses(t, evs); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("links %v, want %v", got, want)
	}
}

// nginx numbers connections per instance: two proxies in front of one
// service reuse serials. An error line explains only a request of its own
// proxy, even when it quotes no request line.
func TestEngine_LinkStaysOnItsProxy(t *testing.T) {
	var evs []Evidence
	for i := 0; i < 5; i++ {
		s := float64(i)
		a := access(s, "127.0.0.1:4000", 502, 7, parser.Absent)
		er := proxyErr(s, 7, parser.ClassUpstreamRefused, "127.0.0.1:4000")
		b := access(s, "127.0.0.1:4000", 502, 7, parser.Absent)
		berr := proxyErr(s, 7, parser.ClassUpstreamReset, "127.0.0.1:4000")
		b.Origin.Host, berr.Origin.Host = "proxy-2", "proxy-2"
		er.Event.Request, berr.Event.Request = "", ""
		evs = append(evs, berr, er, b, a)
	}
	want := map[string]int{"/api proxy upstream_refused": 5, "/api proxy-2 upstream_reset": 5}
	if got := linkClasses(t, evs); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("links %v, want %v", got, want)
	}
}

// FuzzEngineLinks: whatever the lines, every placed 5xx ends with one link,
// and the links of each incident add up to its class counts (the promise
// request_links rests on).
func FuzzEngineLinks(f *testing.F) {
	f.Add([]byte("2026/11/25 16:38:46 [error] 1#1: *302 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: s, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:4000/\", host: \"h\"\n" +
		"127.0.0.1 - - [25/Nov/2026:16:38:46 +0000] \"GET / HTTP/1.1\" 502 157 \"-\" \"ua\"\n" +
		"127.0.0.1 - - [25/Nov/2026:16:38:47 +0000] \"GET / HTTP/1.1\" 502 157 \"-\" \"ua\"\n" +
		"127.0.0.1 - - [25/Nov/2026:16:38:48 +0000] \"GET /x HTTP/1.1\" 504 157 \"-\" \"ua\"\n" +
		"2026/11/25 16:38:47 [error] 1#1: *303 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 127.0.0.1, server: s, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:4000/\", host: \"h\"\n" +
		"127.0.0.1 - - [25/Nov/2026:16:40:48 +0000] \"GET /x HTTP/1.1\" 503 157 \"-\" \"ua\"\n" +
		"127.0.0.1 - - [25/Nov/2026:16:38:30 +0000] \"GET /x HTTP/1.1\" 503 157 \"-\" \"ua\"\n" +
		"127.0.0.1 - - [25/Nov/2026:16:38:49 +0000] \"GET /y HTTP/1.1\" 502 157 \"-\" \"ua\"\n" +
		"127.0.0.1 - - [25/Nov/2026:16:38:50 +0000] \"GET /y HTTP/1.1\" 502 157 \"-\" \"ua\"\n" +
		"2026/11/25 16:38:50 [error] 1#1: *304 no live upstreams while connecting to upstream, client: 127.0.0.1, server: s, request: \"GET /y HTTP/1.1\", upstream: \"http://app/y\", host: \"h\"\n"))
	f.Add(mergeSeed())
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parser.New(parser.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(Config{EmitOpen: true})
		if err != nil {
			t.Fatal(err)
		}
		e.EmitLinks()
		incs := map[string]Incident{}
		var links map[string]Link
		drain := func() {
			for _, in := range e.Drain() {
				incs[in.ID] = in
			}
			links = latestLinks(links, e.DrainLinks())
		}
		placed := 0
		var ev parser.Event
		for i, l := range bytes.Split(data, []byte("\n")) {
			p.Parse(l, &ev)
			if ev.Kind == parser.KindRequest && ev.Time.IsZero() {
				ev.Time = time.Unix(int64(i), 0)
			}
			if ev.Kind == parser.KindRequest && ev.Status >= 500 {
				placed++
			}
			in := Evidence{Event: ev, Origin: Origin{Path: "fuzz.log", FileID: "fuzz", Offset: int64(i)}, Line: string(l)}
			e.Add(&in)
			if i%7 == 0 {
				drain()
			}
		}
		e.Flush()
		drain()
		if len(links) != placed {
			t.Errorf("%d 5xx, %d with a link", placed, len(links))
		}
		for id, got := range classesOf(links) {
			if id == "" {
				continue
			}
			in, ok := incs[id]
			if !ok {
				t.Errorf("links name incident %s, never drained", id)
				continue
			}
			if fmt.Sprint(got) != fmt.Sprint(in.ClassCounts) {
				t.Errorf("incident %s: links by class %v, class counts %v", id, got, in.ClassCounts)
			}
		}
	})
}
