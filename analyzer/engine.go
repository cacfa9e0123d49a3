// Package analyzer owns the correlation engine: it links an nginx 5xx to the
// error-log line that explains it, groups 5xx into incidents per upstream,
// and names each incident's root cause from the upstream-side events around
// it (OOM kills, crashes, restarts, worker timeouts, saturated pools, failing
// dependencies, DNS), with a confidence, the evidence lines and a fix.
//
// The engine is pure and incremental: events go in (Add), incidents come out
// and are revised (Drain). Its clock is the events' own time: the watermark
// is the newest event time minus the allowed lateness, so it behaves the same
// over files read in any order, over a replayed Kafka topic and in tests,
// without sleeping. Memory is bounded by the open incidents and a time-bounded
// evidence window, not by the input size. `culprit explain` runs it over local
// files; the streaming analyzer (analyzer/consume) runs one per partition.
//
// An Engine is not safe for concurrent use.
package analyzer

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/culprit-dev/culprit/parser"
)

// Engine correlates evidence into incidents.
type Engine struct {
	cfg    Config
	inv    *inventory
	groups map[string]string // normalized server address -> upstream{} name

	maxTime   time.Time // newest event time seen
	wm        time.Time // watermark: maxTime - Lateness
	lastSweep time.Time
	seq       int64

	keys     map[string][]*incident // incidents per grouping key, by start
	errs     joinIndex[*item]       // error lines not yet linked to an access 5xx
	reqs     joinIndex[*reqRec]     // access 5xx not yet linked to an error line
	unkeyed  []*reqRec              // 5xx with no upstream, waiting for their error line
	buf      []*item                // upstream events and proxy errors, arrival order
	dirty    map[*incident]bool
	ready    map[*incident]Incident // evaluated, waiting for Drain
	nextStat Stats
	owned    bool // the evidence being added belongs to the engine

	withLinks bool   // EmitLinks was called
	links     []Link // evaluated, waiting for DrainLinks

	// gone are ids Drain returned that a merge ended, waiting for Drain to
	// report their end (with their survivor's next snapshot).
	gone []absorbed
}

// absorbed is an id that a merge ended: its last drained snapshot and the
// incident that took its requests (followed to the root when reported: the
// survivor may be merged again before the next Drain).
type absorbed struct {
	last Incident
	into *incident
}

// Stats counts what the engine saw; the report shows it.
type Stats struct {
	Events         int64 // every event given to Add
	Requests       int64 // access log entries
	ServerErrors   int64 // 5xx among them
	ProxyErrors    int64
	UpstreamEvents int64
	Unparsed       int64
	NoTime         int64 // events without a time, ignored
	Late           int64 // events behind the watermark
	Linked         int64 // 5xx joined to an error-log line
	Dropped        int64 // evidence dropped because a buffer was full
}

// item is one kept line of evidence.
type item struct {
	ev     parser.Event
	origin Origin
	line   string
	seq    int64
	inc    *incident // set for error lines linked to an incident's request
}

// reqRec is what an incident keeps of one 5xx, enough to link it late and
// to report its link.
type reqRec struct {
	t       time.Time
	reqTime float64
	status  int
	cls     parser.Class
	linked  bool
	cid     int64
	ckey    string
	host    string // the proxy that logged it: serials are per nginx instance
	server  string
	err     *item
	inc     *incident
	first   *item // the access line, kept for the first requests only
	fileID  string
	offset  int64
	queued  bool // in its incident's pending links
}

type incident struct {
	key      string
	upstream string
	server   string
	id       string
	start    time.Time
	end      time.Time
	requests int
	status   map[int]int
	classes  map[parser.Class]int
	recs     int
	lines    []*item // first access lines
	errLines []*item // first linked error lines
	tlStart  int64   // unix second of timeline[0]
	timeline []int
	closed   bool
	dropped  bool
	merged   *incident
	version  int
	lastSig  string
	// With EmitLinks: the 5xx placed here (up to MaxRecords, the ones a
	// merge or a late error line can still change), those whose link
	// changed since it was last reported, and the incident id they were
	// reported under ("" before the incident was one).
	reqs     []*reqRec
	pending  []*reqRec
	linkedAs string
	// shown is the last snapshot Drain returned, without what only a chart
	// or a report needs; nil when none was. Its ID is always the
	// incident's id: a merge that ends the id it was shown under reports
	// that id's end (see absorbed).
	shown *Incident
}

// maxTimeline bounds the per-second chart of one incident (6 hours).
const maxTimeline = 6 * 3600

// New returns an engine; cfg's zero fields take DefaultConfig's values.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	// A group of one server is that server: nginx logs its address, and the
	// address says more. Groups of several are keyed by their name.
	groups := map[string]string{}
	members := map[string]int{}
	for addr, name := range cfg.Groups {
		if a := NormalizeUpstream(addr); a != "" && name != "" {
			groups[a] = name
			members[name]++
		}
	}
	for a, name := range groups {
		if members[name] < 2 {
			delete(groups, a)
		}
	}
	return &Engine{
		groups: groups,
		cfg:    cfg,
		inv:    newInventory(cfg.Topology),
		keys:   map[string][]*incident{},
		errs:   newJoinIndex[*item](),
		reqs:   newJoinIndex[*reqRec](),
		dirty:  map[*incident]bool{},
		ready:  map[*incident]Incident{},

		withLinks: cfg.Links,
	}, nil
}

// Watermark is the event time up to which input is considered complete.
func (e *Engine) Watermark() time.Time { return e.wm }

// Stats returns the counters so far.
func (e *Engine) Stats() Stats { return e.nextStat }

// Inferred lists what the engine inferred about services without a topology
// (or beyond it), for the report.
func (e *Engine) Inferred() []string { return slices.Clone(e.inv.notes) }

// Wants reports whether Add would keep anything of ev beyond its time: the
// caller may skip building Evidence.Line for the others (most access lines).
func Wants(ev *parser.Event) bool {
	switch ev.Kind {
	case parser.KindRequest:
		return ev.Status >= 500
	case parser.KindProxyError:
		return true
	case parser.KindUpstreamEvent:
		return ev.Class != "" && ev.Class != parser.ClassOther || ev.Upstream != ""
	}
	return false
}

// Add feeds one piece of evidence. It never retains ev: what it keeps is
// copied.
func (e *Engine) Add(in *Evidence) { e.add(in, false) }

// AddOwned is Add for evidence the caller hands over: the engine may keep in
// itself, so the caller must not touch it afterwards and its strings must
// not alias a reused buffer (an Event.Clone does not). It saves a copy when
// the caller had to clone anyway, as a reader goroutine does.
func (e *Engine) AddOwned(in *Evidence) { e.add(in, true) }

func (e *Engine) add(in *Evidence, owned bool) {
	e.owned = owned
	ev := &in.Event
	e.nextStat.Events++
	if ev.Kind == parser.KindUnparsed {
		e.nextStat.Unparsed++
		return
	}
	if ev.Time.IsZero() {
		e.nextStat.NoTime++
		return
	}
	if ev.Time.Before(e.wm) {
		e.nextStat.Late++
	}
	switch ev.Kind {
	case parser.KindRequest:
		e.nextStat.Requests++
		if ev.Status >= 500 {
			e.nextStat.ServerErrors++
			e.addRequest(in)
		}
	case parser.KindProxyError:
		e.nextStat.ProxyErrors++
		e.addProxyError(in)
	case parser.KindUpstreamEvent:
		e.nextStat.UpstreamEvents++
		e.addUpstream(in)
	}
	e.Advance(ev.Time)
}

// Advance moves the clock to event time t (the newest time seen; older times
// are ignored) and closes what the watermark passed. The streaming path calls
// it with the wall clock minus a delay when its input is idle.
func (e *Engine) Advance(t time.Time) {
	if t.After(e.maxTime) {
		e.maxTime = t
		e.wm = t.Add(-e.cfg.Lateness)
	}
	if e.wm.Sub(e.lastSweep) >= time.Second {
		e.sweep(false)
		e.lastSweep = e.wm
	}
}

// Flush declares the input complete: every pending 5xx is placed and every
// incident closed. Later Adds still work (as late evidence).
func (e *Engine) Flush() {
	e.wm = e.maxTime.Add(e.cfg.Gap + e.cfg.After + time.Second)
	e.sweep(true)
	e.lastSweep = e.wm
}

func (e *Engine) newItem(in *Evidence) *item {
	e.seq++
	if e.owned {
		return &item{ev: in.Event, origin: in.Origin, line: in.Line, seq: e.seq}
	}
	return &item{ev: in.Event.Clone(), origin: in.Origin, line: strings.Clone(in.Line), seq: e.seq}
}

// linkOK says whether an error line at errT may belong to a request logged at
// reqT that took reqTime seconds: nginx logs the error while the request runs.
func (e *Engine) linkOK(errT, reqT time.Time, reqTime float64) bool {
	slack := e.cfg.Skew + 2*time.Second
	lo := reqT.Add(-slack)
	if reqTime > 0 {
		lo = lo.Add(-time.Duration(reqTime * float64(time.Second)))
	}
	return !errT.Before(lo) && !errT.After(reqT.Add(slack))
}

func requestKey(client, request string) string {
	if client == "" || request == "" {
		return ""
	}
	return client + " " + request
}

// joinKey joins an access line and an error line without a connection
// serial: same proxy host, client and request line.
func joinKey(host, client, request string) string {
	if client == "" || request == "" {
		return ""
	}
	return host + "\x00" + client + " " + request
}

// requestLine rebuilds the request line nginx's error log quotes.
func requestLine(ev *parser.Event) string {
	if ev.Method == "" {
		return ""
	}
	if ev.Protocol == "" {
		return ev.Method + " " + ev.URI
	}
	return ev.Method + " " + ev.URI + " " + ev.Protocol
}

// fieldClass is what the access fields alone say about a 5xx.
func fieldClass(ev *parser.Event) parser.Class {
	n := len(ev.UpstreamStatus)
	if n == 0 || ev.UpstreamStatus[n-1] == 0 {
		return ClassUnlinked
	}
	if len(ev.UpstreamHeaderTime) == n && ev.UpstreamHeaderTime[n-1] >= 0 {
		return ClassAppError
	}
	return ClassNoResponse
}

// upstreamKey is the grouping key of a request's $upstream_addr: the
// upstream{} group of the servers it tried when the configuration says, else
// the last server tried (the one whose failure the client got).
func (e *Engine) upstreamKey(addrs []string) string {
	last := ""
	for i := len(addrs) - 1; i >= 0; i-- {
		u := NormalizeUpstream(addrs[i])
		if u == "" {
			continue
		}
		if g, ok := e.groups[u]; ok {
			return g
		}
		if last == "" {
			last = u
		}
	}
	return last
}

// keyOf is the grouping key of one upstream as an error line names it.
func (e *Engine) keyOf(upstream string) string {
	u := NormalizeUpstream(upstream)
	if g, ok := e.groups[u]; ok {
		return g
	}
	return u
}

func (e *Engine) addRequest(in *Evidence) {
	ev := &in.Event
	it := e.newItem(in)
	r := &reqRec{
		t:       ev.Time,
		reqTime: ev.RequestTime,
		status:  ev.Status,
		cls:     fieldClass(ev),
		cid:     ev.CID,
		ckey:    joinKey(it.origin.Host, ev.Client, requestLine(ev)),
		host:    it.origin.Host,
		server:  firstNonEmpty(ev.ServerName, ev.Host),
		first:   it,
		fileID:  it.origin.FileID,
		offset:  it.origin.Offset,
	}
	// The error line may already be here.
	if x, ok := e.errs.take(r.host, r.cid, r.ckey, r.t, true, func(x *item) bool { return e.linkOK(x.ev.Time, r.t, r.reqTime) }); ok {
		e.link(r, x)
	}
	up := e.upstreamKey(ev.UpstreamAddr)
	if r.err != nil {
		if up == "" {
			up = e.keyOf(r.err.ev.Upstream)
		}
		if r.server == "" {
			r.server = r.err.ev.Server // the access format may not log $server_name
		}
	}
	if up == "" && !r.linked {
		// No upstream and no error line yet: wait a moment of event time
		// for the error line (a DNS failure, a limit_req rejection).
		e.unkeyed = append(e.unkeyed, r)
		e.reqs.put(r.host, r.cid, r.ckey, r, r.t)
		return
	}
	e.place(r, up)
	if !r.linked && r.inc != nil {
		e.reqs.put(r.host, r.cid, r.ckey, r, r.t)
	}
}

// link joins request r and error line x.
func (e *Engine) link(r *reqRec, x *item) {
	e.nextStat.Linked++
	old := r.cls
	r.cls = x.ev.Class
	if r.cls == "" {
		r.cls = parser.ClassOther
	}
	r.linked = true
	r.err = x
	if inc := r.inc; inc != nil {
		inc = inc.root()
		inc.classes[old]--
		if inc.classes[old] <= 0 {
			delete(inc.classes, old)
		}
		inc.classes[r.cls]++
		inc.addErrLine(x)
		r.err = nil // only an unplaced request needs it
		e.queueLink(inc, r)
		e.touch(inc)
	}
}

func (inc *incident) root() *incident {
	for inc.merged != nil {
		inc = inc.merged
	}
	return inc
}

func (inc *incident) addErrLine(x *item) {
	x.inc = inc
	per := 0
	for _, l := range inc.errLines {
		if l.ev.Class == x.ev.Class {
			per++
		}
	}
	if per < 3 && len(inc.errLines) < 12 {
		inc.errLines = append(inc.errLines, x)
	}
}

func (e *Engine) touch(inc *incident) {
	if !inc.dropped {
		e.dirty[inc] = true
	}
}

func serverKey(server string) string {
	if server == "" {
		server = "-"
	}
	return "server:" + server
}

// place adds request r to the incident of its key, opening, extending or
// merging incidents.
func (e *Engine) place(r *reqRec, up string) {
	key := up
	if key == "" {
		key = serverKey(r.server)
	}
	incs := e.keys[key]
	var hit []*incident
	for _, inc := range incs {
		if !r.t.Before(inc.start.Add(-e.cfg.Gap)) && !r.t.After(inc.end.Add(e.cfg.Gap)) {
			hit = append(hit, inc)
		}
	}
	var inc *incident
	switch len(hit) {
	case 0:
		inc = &incident{key: key, upstream: up, start: r.t, end: r.t, status: map[int]int{},
			classes: map[parser.Class]int{}, tlStart: r.t.Unix()}
		if up == "" {
			inc.server = r.server
		}
		inc.id = incidentID(key, r.t)
		incs = append(incs, inc)
		sort.Slice(incs, func(i, j int) bool { return incs[i].start.Before(incs[j].start) })
		e.keys[key] = incs
	default:
		inc = hit[0]
		for _, other := range hit[1:] {
			e.merge(inc, other)
		}
	}
	if r.t.Before(inc.start) {
		inc.start = r.t
	}
	if r.t.After(inc.end) {
		inc.end = r.t
	}
	inc.requests++
	inc.status[r.status]++
	inc.classes[r.cls]++
	if r.err != nil {
		inc.addErrLine(r.err)
		r.err = nil // placed: an incident holding its links must not hold the line too
	}
	inc.tick(r.t.Unix(), 1)
	if len(inc.lines) < 3 && r.first != nil {
		inc.lines = append(inc.lines, r.first)
	}
	r.first = nil
	if inc.recs < e.cfg.MaxRecords {
		inc.recs++
		r.inc = inc
		if e.withLinks {
			inc.reqs = append(inc.reqs, r)
		}
	} else {
		r.inc = nil // counted, but too many to keep for late linking
	}
	e.queueLink(inc, r) // reported once even beyond MaxRecords
	e.touch(inc)
}

// incidentID hashes the grouping key and the second the incident was first
// seen to start in: re-runs over the same input give the same id, two bursts
// of one upstream never share one (they are a gap apart), and the id is kept
// when late evidence moves the start.
func incidentID(key string, start time.Time) string {
	h := sha256.Sum256([]byte(key + "|" + start.UTC().Truncate(time.Second).Format(time.RFC3339)))
	return hex.EncodeToString(h[:8])
}

func (inc *incident) tick(sec int64, n int) {
	if len(inc.timeline) == 0 {
		inc.tlStart = sec
	}
	if sec < inc.tlStart {
		shift := inc.tlStart - sec
		if shift+int64(len(inc.timeline)) > maxTimeline {
			return
		}
		inc.timeline = append(make([]int, shift), inc.timeline...)
		inc.tlStart = sec
	}
	i := sec - inc.tlStart
	if i >= maxTimeline {
		return
	}
	for int64(len(inc.timeline)) <= i {
		inc.timeline = append(inc.timeline, 0)
	}
	inc.timeline[i] += n
}

// merge folds b into a (a late 5xx bridged the gap between them); a keeps
// the earlier start's id. A reader that got b (or a under the id it gives
// up) from Drain must hear that the id ended: its store would keep it as a
// live incident beside the survivor.
func (e *Engine) merge(a, b *incident) {
	if b.start.Before(a.start) {
		a.id = b.id
		a.start = b.start
	}
	var shown *Incident
	for _, s := range []*Incident{a.shown, b.shown} {
		switch {
		case s == nil:
		case s.ID == a.id:
			shown = s // the id lives on in a
		default:
			e.gone = append(e.gone, absorbed{last: *s, into: a})
		}
	}
	a.shown, b.shown = shown, nil
	// A snapshot of a not drained yet is stale now: the merge re-evaluates it.
	delete(e.ready, a)
	if b.end.After(a.end) {
		a.end = b.end
	}
	a.requests += b.requests
	for k, v := range b.status {
		a.status[k] += v
	}
	for k, v := range b.classes {
		a.classes[k] += v
	}
	a.recs += b.recs
	for _, l := range b.lines {
		if len(a.lines) < 3 {
			a.lines = append(a.lines, l)
		}
	}
	for _, l := range b.errLines {
		a.addErrLine(l)
	}
	for i, n := range b.timeline {
		a.tick(b.tlStart+int64(i), n)
	}
	if b.version > a.version {
		a.version = b.version
	}
	a.closed = a.closed && b.closed
	// b's requests now belong to a; if a took b's id, all of a's links
	// change too (linkedAs no longer matches).
	a.pending = append(a.pending, b.pending...)
	for _, r := range b.reqs {
		e.queueLink(a, r)
	}
	a.reqs = append(a.reqs, b.reqs...)
	b.reqs, b.pending = nil, nil
	b.merged = a
	b.dropped = true
	delete(e.dirty, b)
	delete(e.ready, b)
	incs := e.keys[a.key]
	e.keys[a.key] = slices.DeleteFunc(incs, func(x *incident) bool { return x == b })
	e.touch(a)
}

func (e *Engine) addProxyError(in *Evidence) {
	ev := &in.Event
	it := e.newItem(in)
	e.keep(it)
	if ev.Class == parser.ClassOther || ev.Class == parser.ClassClientClosed {
		// "client closed keepalive connection" and other notices carry the
		// connection serial of requests that failed for another reason: a
		// kept-alive connection serves many requests, and the notice would
		// take the place of the line that explains the 5xx.
		return
	}
	host := it.origin.Host
	key := joinKey(host, ev.Client, ev.Request)
	// One request per error line.
	if r, ok := e.reqs.take(host, ev.CID, key, ev.Time, false, func(r *reqRec) bool { return e.linkOK(ev.Time, r.t, r.reqTime) }); ok {
		e.link(r, it)
		return
	}
	e.errs.put(host, ev.CID, key, it, ev.Time)
	e.touchWindows(ev.Time, e.keyOf(ev.Upstream))
}

func (e *Engine) addUpstream(in *Evidence) {
	ev := &in.Event
	e.inv.learn(ev, in.Origin)
	if !Wants(ev) {
		return
	}
	it := e.newItem(in)
	e.keep(it)
	e.touchWindows(ev.Time, "")
}

// keep adds an item to the evidence window.
func (e *Engine) keep(it *item) {
	if len(e.buf) >= e.cfg.MaxBuffered {
		e.buf = e.buf[1:]
		e.nextStat.Dropped++
	}
	e.buf = append(e.buf, it)
}

// touchWindows marks for re-evaluation the incidents whose evidence window
// contains t: late evidence revises them.
func (e *Engine) touchWindows(t time.Time, key string) {
	for k, incs := range e.keys {
		if key != "" && k != key {
			continue
		}
		for _, inc := range incs {
			if !t.Before(inc.start.Add(-e.cfg.Before-e.cfg.Skew)) && !t.After(inc.end.Add(e.cfg.After+e.cfg.Skew)) {
				e.touch(inc)
			}
		}
	}
}

// sweep places waiting 5xx, closes incidents the watermark passed and drops
// what no late evidence can revise any more.
func (e *Engine) sweep(final bool) {
	joinDelay := e.cfg.Skew + 2*time.Second
	if len(e.unkeyed) > 0 {
		keep := e.unkeyed[:0]
		for _, r := range e.unkeyed {
			if !final && r.t.Add(joinDelay).After(e.wm) {
				keep = append(keep, r)
				continue
			}
			up := ""
			if r.err != nil {
				up = e.keyOf(r.err.ev.Upstream)
				if r.server == "" {
					r.server = r.err.ev.Server
				}
			}
			e.place(r, up)
		}
		clear(e.unkeyed[len(keep):])
		e.unkeyed = keep
	}
	closeAfter := max(e.cfg.Gap, e.cfg.After)
	oldest := e.wm.Add(-e.cfg.Retention - e.cfg.Before - e.cfg.After - e.cfg.Gap)
	for k, incs := range e.keys {
		kept := incs[:0]
		for _, inc := range incs {
			if !inc.closed && e.wm.After(inc.end.Add(closeAfter)) {
				inc.closed = true
				e.touch(inc)
			}
			// An incident not drained yet is kept (with its evidence) until
			// Drain has evaluated it.
			if !final && inc.closed && !e.dirty[inc] && e.wm.After(inc.end.Add(closeAfter+e.cfg.Retention)) {
				inc.dropped = true
				inc.reqs, inc.pending = nil, nil // their links were reported
				continue
			}
			if (!inc.closed || e.dirty[inc]) && inc.start.Add(-e.cfg.Before).Before(oldest) {
				oldest = inc.start.Add(-e.cfg.Before)
			}
			kept = append(kept, inc)
		}
		if len(kept) == 0 {
			delete(e.keys, k)
		} else {
			e.keys[k] = kept
		}
	}
	if final {
		return
	}
	e.prepare(false)
	// The evidence window: items arrive roughly in time order, so trimming
	// the front is enough to bound it (MaxBuffered caps the rest).
	n := 0
	for n < len(e.buf) && e.buf[n].ev.Time.Before(oldest) {
		n++
	}
	if n > 0 {
		clear(e.buf[:n])
		e.buf = e.buf[n:]
	}
	horizon := e.wm.Add(-e.cfg.Retention)
	e.errs.expire(horizon)
	e.reqs.expire(horizon)
}

// EmitLinks makes the engine report each 5xx's Link through DrainLinks
// (the streaming path stores them in request_links), as Config.Links does.
// Call it before the first Add. Off by default: explain has no use for
// them, and an engine whose caller never drains its links would keep them.
func (e *Engine) EmitLinks() { e.withLinks = true }

// DrainLinks returns the links that changed since the last DrainLinks, in
// the order they were evaluated. Call it after Drain: a link names an
// incident that Drain returned by then (the same evaluation reports both),
// so a store that writes the incidents first never holds a link to an
// incident it lacks. With EmitOpen, the links of open incidents come too;
// without it, only those of closed ones.
func (e *Engine) DrainLinks() []Link {
	out := e.links
	e.links = nil
	return out
}

// queueLink marks r's link as changed in inc (its root incident).
func (e *Engine) queueLink(inc *incident, r *reqRec) {
	if !e.withLinks || r.queued || inc.dropped {
		return
	}
	r.queued = true
	inc.pending = append(inc.pending, r)
}

// reportLinks queues for DrainLinks the links of inc that changed, under
// incident id (every link when the id itself changed).
func (e *Engine) reportLinks(inc *incident, id string, version int) {
	if !e.withLinks {
		return
	}
	if id != inc.linkedAs {
		for _, r := range inc.reqs {
			e.queueLink(inc, r)
		}
		inc.linkedAs = id
	}
	for _, r := range inc.pending {
		r.queued = false
		e.links = append(e.links, Link{Host: r.host, FileID: r.fileID, Offset: r.offset, Time: r.t, Class: r.cls,
			Incident: id, Version: version})
	}
	clear(inc.pending)
	inc.pending = inc.pending[:0]
}

// Drain returns the incidents that changed since the last Drain, each with
// its version bumped: closed incidents (and open ones too with EmitOpen),
// ordered by start. Bursts smaller than MinRequests are not incidents.
func (e *Engine) Drain() []Incident {
	e.prepare(e.cfg.EmitOpen)
	out := make([]Incident, 0, len(e.ready)+len(e.gone))
	for inc, snap := range e.ready {
		out = append(out, snap)
		shown := snap
		shown.Evidence, shown.Marks, shown.Timeline = nil, nil, nil
		inc.shown = &shown
	}
	out = e.drainGone(out)
	clear(e.ready)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Upstream+out[i].Server < out[j].Upstream+out[j].Server
	})
	return out
}

// drainGone appends the final snapshots of absorbed ids whose survivor is
// in this Drain (or was dropped): a reader never sees an id end before the
// incident that holds its requests.
func (e *Engine) drainGone(out []Incident) []Incident {
	if len(e.gone) == 0 {
		return out
	}
	kept := e.gone[:0]
	for _, g := range e.gone {
		root := g.into.root()
		if _, now := e.ready[root]; !now && !root.dropped {
			kept = append(kept, g)
			continue
		}
		if root.id != g.last.ID {
			out = append(out, MergedSnapshot(g.last, root.id))
		}
	}
	clear(e.gone[len(kept):])
	e.gone = kept
	return out
}

// prepare evaluates the changed incidents (closed ones, and open ones when
// asked) while their evidence window is in memory, and queues the snapshots
// for Drain. The sweep calls it as incidents close, so the window can be
// trimmed however rarely the caller drains.
func (e *Engine) prepare(open bool) {
	for inc := range e.dirty {
		if inc.merged != nil {
			delete(e.dirty, inc)
			continue
		}
		if !inc.closed && !open {
			continue
		}
		delete(e.dirty, inc)
		if inc.requests < e.cfg.MinRequests {
			if inc.closed {
				// Noise, not an incident: its 5xx keep their class.
				e.reportLinks(inc, "", 0)
			}
			continue
		}
		snap := e.evaluate(inc)
		if sig := snap.signature(); sig != inc.lastSig {
			inc.lastSig = sig
			inc.version++
			snap.Version = inc.version
			e.ready[inc] = snap
		}
		e.reportLinks(inc, inc.id, inc.version)
	}
}

// signature is what makes two snapshots of an incident different.
func (s *Incident) signature() string {
	var b strings.Builder
	b.WriteString(s.Start.String() + s.End.String() + strconv.Itoa(s.Requests) + string(s.Cause) +
		strconv.FormatFloat(s.Confidence, 'f', 2, 64) + s.Service + s.Dependency + strconv.FormatBool(s.Open))
	for _, l := range s.Evidence {
		b.WriteString(l.Line)
	}
	keys := make([]string, 0, len(s.ClassCounts))
	for k := range s.ClassCounts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + strconv.Itoa(s.ClassCounts[k]))
	}
	for _, c := range s.Contributing {
		b.WriteString(string(c.Cause))
	}
	return b.String()
}
