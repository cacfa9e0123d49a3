package consume

import (
	"testing"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/parser"
)

// The link of each 5xx: the error line of its own request on a kept-alive
// connection (not a notice, not the previous request's), one written after
// the request was first seen, and the incident whose window holds it.
func TestLinker(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 17, 11, 45, 0, time.UTC)
	l := newLinker()
	req := func(off int64, at time.Duration, cid int64, uri string) {
		l.add(&EvidenceRecord{Host: "proxy-1", FileID: "a", Offset: off, Event: parser.Event{Kind: parser.KindRequest,
			Time: t0.Add(at), Status: 502, CID: cid, Client: "10.0.0.5", Method: "GET", URI: uri, Protocol: "HTTP/1.1",
			RequestTime: 0.01, UpstreamAddr: []string{"127.0.0.1:18411"}}})
	}
	errLine := func(off int64, at time.Duration, cid int64, class parser.Class, request string) {
		l.add(&EvidenceRecord{Host: "proxy-1", FileID: "e", Offset: off, Event: parser.Event{Kind: parser.KindProxyError,
			Time: t0.Add(at), CID: cid, Class: class, Client: "10.0.0.5", Request: request, Upstream: "http://127.0.0.1:18411/x"}})
	}
	errLine(1, 0, 7, parser.ClassUpstreamRefused, "GET /a HTTP/1.1")
	req(1, 0, 7, "/a")
	errLine(2, time.Second, 7, parser.ClassClientClosed, "") // keep-alive notice on the same connection
	req(2, 2*time.Second, 7, "/b")                           // same connection, its error line comes late
	req(3, 30*time.Minute, 9, "/c")                          // no incident holds it
	inc := []analyzer.Incident{{ID: "i1", Upstream: "127.0.0.1:18411", Start: t0, End: t0.Add(2 * time.Second), Requests: 2}}
	links := l.revise(inc, 1)
	got := map[int64]string{}
	for _, k := range links {
		got[k.Offset] = k.Class + "/" + k.IncidentID
	}
	// /b's own error line is not there yet, and /a's quotes another
	// request: /b is in the incident without a class for now.
	if got[1] != "upstream_refused/i1" || got[2] != "/i1" || len(got) != 2 {
		t.Errorf("first links %v", got)
	}
	errLine(3, 2*time.Second, 7, parser.ClassUpstreamReset, "GET /b HTTP/1.1")
	links = l.revise(inc, 2)
	if len(links) != 1 || links[0].Offset != 2 || links[0].Class != "upstream_reset" || links[0].Version != 2 {
		t.Errorf("after the late error line: %+v, want only /b revised to upstream_reset", links)
	}
	if links = l.revise(inc, 3); len(links) != 0 {
		t.Errorf("nothing changed, yet %d links rewritten", len(links))
	}
	l.forget(t0.Add(time.Hour))
	if len(l.reqs) != 0 || len(l.byCID) != 0 || len(l.byReq) != 0 || len(l.incs) != 0 {
		t.Errorf("forget kept %d requests, %d/%d error keys, %d incidents", len(l.reqs), len(l.byCID), len(l.byReq), len(l.incs))
	}
}
