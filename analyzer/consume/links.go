package consume

import (
	"strconv"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/parser"
)

// linker works out, for every 5xx request the correlator sees, which error
// class and incident it belongs to, for the request_links table. The engine
// reports incidents (upstream or server, window) and a sample of evidence,
// not a link per request, so the link is computed here from the same facts
// the engine joins on: an error line on the same proxy host with the same
// connection serial (cid) or client and request line, logged while the
// request ran; and the incident of the request's upstream (or virtual
// server) whose window holds it.
type linker struct {
	slack time.Duration
	reqs  []*linkReq
	byCID map[string][]*linkErr // host + cid
	byReq map[string][]*linkErr // host + client + request line
	incs  map[string]*linkInc   // incident id -> latest revision's window
}

type linkReq struct {
	t        time.Time
	reqTime  float64
	fileID   string
	offset   int64
	upstream string // the engine's grouping key: last upstream tried
	server   string
	cidKey   string
	reqKey   string
	class    string // as last written
	incident string
	written  bool
}

type linkErr struct {
	t        time.Time
	class    string
	upstream string
	reqKey   string // host + client + request line, "" when not logged
}

type linkInc struct {
	upstream, server string
	start, end       time.Time
	requests         int
}

func newLinker() *linker {
	d := analyzer.DefaultConfig()
	return &linker{slack: d.Skew + 2*time.Second, byCID: map[string][]*linkErr{}, byReq: map[string][]*linkErr{},
		incs: map[string]*linkInc{}}
}

func cidKey(host string, cid int64) string {
	if cid <= 0 {
		return ""
	}
	return host + "\x00" + strconv.FormatInt(cid, 10)
}

func reqKey(host, client, request string) string {
	if client == "" || request == "" {
		return ""
	}
	return host + "\x00" + client + " " + request
}

// add notes a piece of evidence the correlator took in (after dedup).
func (l *linker) add(rec *EvidenceRecord) {
	ev := &rec.Event
	switch {
	case ev.Kind == parser.KindRequest && ev.Status >= 500:
		up := ""
		for i := len(ev.UpstreamAddr) - 1; i >= 0 && up == ""; i-- {
			up = analyzer.NormalizeUpstream(ev.UpstreamAddr[i])
		}
		request := ""
		if ev.Method != "" {
			request = ev.Method + " " + ev.URI
			if ev.Protocol != "" {
				request += " " + ev.Protocol
			}
		}
		l.reqs = append(l.reqs, &linkReq{t: ev.Time, reqTime: ev.RequestTime, fileID: rec.FileID, offset: rec.Offset,
			upstream: up, server: firstOf(ev.ServerName, ev.Host), cidKey: cidKey(rec.Host, ev.CID),
			reqKey: reqKey(rec.Host, ev.Client, request)})
	case ev.Kind == parser.KindProxyError && ev.Class != parser.ClassOther && ev.Class != parser.ClassClientClosed:
		// Notices ("client closed keepalive connection") share the cid of
		// requests that failed for another reason; the engine skips them too.
		e := &linkErr{t: ev.Time, class: string(ev.Class), upstream: analyzer.NormalizeUpstream(ev.Upstream),
			reqKey: reqKey(rec.Host, ev.Client, ev.Request)}
		if k := cidKey(rec.Host, ev.CID); k != "" {
			l.byCID[k] = append(l.byCID[k], e)
		}
		if k := e.reqKey; k != "" {
			l.byReq[k] = append(l.byReq[k], e)
		}
	}
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// errFor is the error line nginx wrote for r: on its connection (else
// with its client and request line), logged while it ran, the closest in
// time. A kept-alive connection carries several requests, so a line that
// quotes another request line is not r's.
func (l *linker) errFor(r *linkReq) *linkErr {
	lo := r.t.Add(-l.slack)
	if r.reqTime > 0 {
		lo = lo.Add(-time.Duration(r.reqTime * float64(time.Second)))
	}
	hi := r.t.Add(l.slack)
	pick := func(list []*linkErr) *linkErr {
		var best *linkErr
		var bestD time.Duration
		for _, e := range list {
			if e.t.Before(lo) || e.t.After(hi) || e.reqKey != "" && r.reqKey != "" && e.reqKey != r.reqKey {
				continue
			}
			d := r.t.Sub(e.t).Abs()
			if best == nil || d <= bestD {
				best, bestD = e, d
			}
		}
		return best
	}
	if r.cidKey != "" {
		if e := pick(l.byCID[r.cidKey]); e != nil {
			return e
		}
	}
	if r.reqKey != "" {
		return pick(l.byReq[r.reqKey])
	}
	return nil
}

// revise records the incident revisions just written and returns the
// links that changed since they were last written.
func (l *linker) revise(incs []analyzer.Incident, version uint64) []clickhouse.RequestLink {
	for i := range incs {
		in := &incs[i]
		l.incs[in.ID] = &linkInc{upstream: in.Upstream, server: in.Server, start: in.Start, end: in.End, requests: in.Requests}
	}
	var out []clickhouse.RequestLink
	for _, r := range l.reqs {
		cls := ""
		up := r.upstream
		if e := l.errFor(r); e != nil {
			cls = e.class
			if up == "" {
				up = e.upstream // the engine places such a request by its error line
			}
		}
		inc := l.incidentOf(r, up)
		if r.written && cls == r.class && inc == r.incident {
			continue
		}
		if !r.written && cls == "" && inc == "" {
			continue
		}
		r.class, r.incident, r.written = cls, inc, true
		out = append(out, clickhouse.RequestLink{Time: r.t, FileID: r.fileID, Offset: r.offset, Class: cls,
			IncidentID: inc, Version: version})
	}
	return out
}

// incidentOf is the incident whose window holds r on its upstream (or its
// virtual server when nginx answered itself). When a merge left two
// revisions covering r, the one with more requests is the survivor.
func (l *linker) incidentOf(r *linkReq, up string) string {
	best, n := "", -1
	for id, in := range l.incs {
		if up != "" && in.upstream != up || up == "" && (in.upstream != "" || in.server != r.server) {
			continue
		}
		if r.t.Before(in.start) || r.t.After(in.end) {
			continue
		}
		if in.requests > n || in.requests == n && id < best {
			best, n = id, in.requests
		}
	}
	return best
}

// forget drops what is older than horizon (the correlator forgets and
// commits that evidence too).
func (l *linker) forget(horizon time.Time) {
	n := 0
	for _, r := range l.reqs {
		if !r.t.Before(horizon) {
			l.reqs[n] = r
			n++
		}
	}
	clear(l.reqs[n:])
	l.reqs = l.reqs[:n]
	for _, m := range []map[string][]*linkErr{l.byCID, l.byReq} {
		for k, list := range m {
			if list[len(list)-1].t.Before(horizon) {
				delete(m, k)
			}
		}
	}
	for id, in := range l.incs {
		if in.end.Before(horizon) {
			delete(l.incs, id)
		}
	}
}
