package analyzer

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/culprit-dev/culprit/parser"
)

// How a verdict is reached (docs/incidents.md explains it to users):
//
//  1. The incident's 5xx are split into families by their error class (what
//     the proxy saw): the upstream was down (refused, socket missing, no live
//     upstreams), closed the connection mid-response, timed out, was
//     overloaded, or answered the 5xx itself; or the proxy failed by itself
//     (DNS, TLS, rate limit, exhausted).
//  2. Every upstream-side event around the window votes for the causes it
//     can explain, with a weight: how strong that kind of event is, times
//     how well its timing fits (just before or during the window is best; a
//     start after the window is recovery), times whether it belongs to the
//     incident's service, times how compatible the cause is with what the
//     proxy saw (an OOM kill explains refused connections, not a slow
//     response; a failing dependency explains an application's own 502).
//  3. The proxy's error classes vote too, weakly for the causes they only
//     suggest (refused alone: backend_down; read timeouts alone:
//     slow_upstream) and strongly for the ones they prove (DNS, TLS, limits).
//  4. The cause with the highest vote wins; its confidence is that vote,
//     lowered when a rival comes close. Other causes with real evidence are
//     reported as contributing.

// family is what the proxy saw of a group of 5xx.
type family int

const (
	famDown family = iota
	famClosed
	famTimeout
	famConnTimeout
	famOverloaded
	famAnswered
	famProxy
	famOther
	numFamilies
)

func classFamily(c parser.Class, status int) family {
	switch c {
	case parser.ClassUpstreamRefused, parser.ClassUpstreamSocketMissing, parser.ClassNoLiveUpstreams:
		return famDown
	case parser.ClassUpstreamPrematureClose, parser.ClassUpstreamReset, parser.ClassUpstreamBrokenPipe:
		return famClosed
	case parser.ClassUpstreamReadTimeout, parser.ClassUpstreamSendTimeout:
		return famTimeout
	case parser.ClassUpstreamConnectTimeout:
		return famConnTimeout
	case parser.ClassUpstreamOverloaded:
		return famOverloaded
	case ClassAppError:
		return famAnswered
	case parser.ClassUpstreamDNS, parser.ClassUpstreamTLS, parser.ClassUpstreamInvalid, parser.ClassUpstreamHeaderTooBig,
		parser.ClassRateLimited, parser.ClassConnLimited, parser.ClassProxyFDExhausted,
		parser.ClassProxyWorkerConnections, parser.ClassUpstreamUnreachable:
		return famProxy
	case ClassNoResponse:
		if status == 504 {
			return famTimeout
		}
		return famDown
	}
	return famOther
}

// compat says how well a root cause explains each family (rows follow the
// family order above). A saturated pool explains an application's own 5xx
// too: when its database pool (SQLAlchemy, pg-pool, HikariCP) has no free
// connection the app answers 500 itself.
var compat = map[Cause][numFamilies]float64{
	//                      down closed timeout conntimeout overloaded answered proxy other
	CauseOOMKill:           {1, 1, .5, .5, .5, .4, .1, .6},
	CauseRuntimeOOM:        {1, 1, .6, .5, .5, .7, .1, .6},
	CauseCrash:             {1, 1, .4, .4, .4, .8, .1, .6},
	CauseRestart:           {1, .8, .3, .5, .3, .3, .1, .6},
	CauseWorkerTimeout:     {.5, 1, 1, .6, .6, .6, .1, .6},
	CausePoolSaturation:    {.5, .6, 1, 1, 1, .9, .1, .6},
	CauseDependencyFailure: {.3, .5, .8, .4, .4, 1, .1, .6},
}

// compatWeight is how well cause explains the incident's mix of families.
func compatWeight(c Cause, fam *[numFamilies]float64) float64 {
	row, ok := compat[c]
	if !ok {
		return 1
	}
	cw := 0.0
	for f, share := range fam {
		cw += share * row[f]
	}
	return cw
}

// vote is one piece of evidence for one cause.
type vote struct {
	cause   Cause
	weight  float64
	it      *item  // the line behind it, nil for class-count votes
	dep     string // dependency named by the line
	symptom bool   // a proxy-side hint, not evidence of its own
}

// upstreamVotes is what one upstream-side event can explain, with its base
// strength.
func upstreamVotes(ev *parser.Event) []vote {
	v := func(c Cause, w float64) vote { return vote{cause: c, weight: w} }
	switch ev.Class {
	case parser.ClassOOMKill:
		return []vote{v(CauseOOMKill, 1)}
	case parser.ClassContainerOOM:
		return []vote{v(CauseOOMKill, .95)}
	case parser.ClassOOMInvoked:
		return []vote{v(CauseOOMKill, .6)}
	case parser.ClassMemoryLimitRestart:
		return []vote{v(CauseOOMKill, .7)}
	case parser.ClassRuntimeOOM:
		return []vote{v(CauseRuntimeOOM, .95)}
	case parser.ClassCrash:
		return []vote{v(CauseCrash, .8)}
	case parser.ClassListenError:
		return []vote{v(CauseCrash, .6)}
	case parser.ClassWorkerTimeout:
		return []vote{v(CauseWorkerTimeout, .9)}
	case parser.ClassWorkerKilled:
		// A master kills a timed-out worker after saying so (WORKER TIMEOUT,
		// HARAKIRI); a SIGKILL nobody announced is usually the OOM killer.
		if ev.Signal == "SIGKILL" {
			return []vote{v(CauseOOMKill, .5), v(CauseWorkerTimeout, .35)}
		}
		return []vote{v(CauseWorkerTimeout, .6), v(CauseCrash, .3)}
	case parser.ClassPoolSaturated:
		return []vote{v(CausePoolSaturation, .9)}
	case parser.ClassDependencyRefused:
		return []vote{{cause: CauseDependencyFailure, weight: .85, dep: ev.Dependency}}
	case parser.ClassDependencyTimeout:
		return []vote{{cause: CauseDependencyFailure, weight: .75, dep: ev.Dependency}}
	case parser.ClassUpstreamRefused, parser.ClassNoLiveUpstreams:
		// A load balancer between the proxy and the app (HAProxy) saying its
		// servers are down: the service behind it is down, and the
		// balancer's 503 is what the proxy relayed.
		return []vote{v(CauseBackendDown, .8)}
	case parser.ClassStop:
		return []vote{v(CauseRestart, .7)}
	case parser.ClassStart, parser.ClassRestart:
		return []vote{v(CauseRestart, .3)}
	case parser.ClassProbeFailed:
		return []vote{v(CauseRestart, .2)}
	case parser.ClassProcessExit:
		switch ev.Signal {
		case "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP":
			return []vote{v(CauseRestart, .6)}
		case "SIGKILL":
			return []vote{v(CauseOOMKill, .4), v(CauseCrash, .4)}
		case "":
			if ev.ExitCode == 0 {
				return []vote{v(CauseRestart, .5)}
			}
			if ev.ExitCode > 0 {
				return []vote{v(CauseCrash, .6)}
			}
			return []vote{v(CauseCrash, .3)}
		}
		return []vote{v(CauseCrash, .6)}
	}
	return nil
}

// classVote is what a proxy error class says by itself, and whether it is
// only a symptom (it tells how the request failed, not why).
func classVote(c parser.Class, status int) (Cause, float64, bool) {
	switch c {
	case parser.ClassUpstreamDNS:
		return CauseDNSFailure, .95, false
	case parser.ClassUpstreamTLS:
		return CauseTLSFailure, .95, false
	case parser.ClassUpstreamInvalid, parser.ClassUpstreamHeaderTooBig:
		return CauseInvalidResponse, .9, false
	case parser.ClassRateLimited, parser.ClassConnLimited:
		return CauseRateLimit, .95, false
	case parser.ClassProxyFDExhausted, parser.ClassProxyWorkerConnections:
		return CauseProxyExhaustion, .95, false
	case parser.ClassUpstreamUnreachable:
		return CauseNetworkUnreach, .85, false
	case parser.ClassUpstreamRefused, parser.ClassUpstreamSocketMissing, parser.ClassNoLiveUpstreams:
		return CauseBackendDown, .45, true
	case parser.ClassUpstreamOverloaded:
		return CausePoolSaturation, .6, true
	case parser.ClassUpstreamReadTimeout, parser.ClassUpstreamSendTimeout:
		return CauseSlowUpstream, .5, true
	case parser.ClassUpstreamConnectTimeout:
		return CauseSlowUpstream, .4, true
	case parser.ClassUpstreamPrematureClose, parser.ClassUpstreamReset, parser.ClassUpstreamBrokenPipe:
		return CauseCrash, .35, true
	case ClassNoResponse:
		if status == 504 {
			return CauseSlowUpstream, .45, true
		}
		return CauseBackendDown, .45, true
	case ClassUnlinked:
		switch status {
		case 503:
			return CauseRateLimit, .3, true
		case 504:
			return CauseSlowUpstream, .3, true
		}
		return CauseBackendDown, .25, true
	}
	return CauseUnknown, .15, true
}

func isRecovery(c parser.Class) bool {
	return c == parser.ClassStart || c == parser.ClassRestart
}

// timing weighs an upstream event at t against the window [t0, t1].
// stopLead is how long after an incident's first 5xx a stop it caused can
// still be logged (a request in flight finishing, a log line buffered).
const stopLead = 3 * time.Second

func (e *Engine) timing(t, t0, t1 time.Time, c parser.Class) float64 {
	near := 10*time.Second + e.cfg.Skew
	switch {
	case t.Before(t0.Add(-e.cfg.Before - e.cfg.Skew)):
		return 0
	case t.Before(t0.Add(-near)):
		d := t0.Add(-near).Sub(t).Seconds()
		span := math.Max(e.cfg.Before.Seconds()-near.Seconds(), 1)
		return math.Max(.4, 1-.6*d/span)
	case c == parser.ClassStop && t.After(t0.Add(stopLead+e.cfg.Skew)):
		// A server logs its stop as the signal arrives (gunicorn's "Handling
		// signal: term", uvicorn's "Shutting down"), before its listener
		// closes: the 5xx a stop causes follow it. A stop logged well after
		// the failures began came while the service was already failing:
		// the operator's restart that ends an outage, not what began it.
		return .3
	case !t.After(t1.Add(e.cfg.Skew)):
		return 1
	case t.After(t1.Add(e.cfg.After + e.cfg.Skew)):
		return 0
	case isRecovery(c):
		return .9
	}
	return .3
}

// match weighs whether an event belongs to the incident's service.
func matchWeight(evSvc, incSvc string) float64 {
	switch {
	case evSvc != "" && incSvc != "" && evSvc == incSvc:
		return 1
	case evSvc != "" && incSvc != "":
		return .1
	}
	return .6
}

type candidate struct {
	cause   Cause
	best    float64
	n       int
	votes   []vote
	dep     string
	depW    float64
	symptom bool // every vote is a symptom
}

func (c *candidate) score() float64 {
	return math.Min(.99, c.best+.03*float64(min(c.n-1, 5)))
}

// evaluate names the cause of inc from the evidence window.
func (e *Engine) evaluate(inc *incident) Incident {
	t0, t1 := inc.start, inc.end
	svc := e.serviceOf(inc.upstream)

	// What the proxy saw.
	var fam [numFamilies]float64
	total := float64(inc.requests)
	domStatus := 0
	for st, n := range inc.status {
		if domStatus == 0 || n > inc.status[domStatus] || n == inc.status[domStatus] && st < domStatus {
			domStatus = st
		}
	}
	for c, n := range inc.classes {
		fam[classFamily(c, domStatus)] += float64(n) / total
	}

	cands := map[Cause]*candidate{}
	add := func(v vote) {
		if v.weight <= 0 {
			return
		}
		c := cands[v.cause]
		if c == nil {
			c = &candidate{cause: v.cause, symptom: true}
			cands[v.cause] = c
		}
		c.n++
		c.votes = append(c.votes, v)
		if v.weight > c.best {
			c.best = v.weight
		}
		if !v.symptom {
			c.symptom = false
		}
		if v.dep != "" && v.weight > c.depW {
			c.dep, c.depW = v.dep, v.weight
		}
	}

	// Proxy classes, weighted by their share of the requests.
	for c, n := range inc.classes {
		cause, w, symptom := classVote(c, domStatus)
		f := float64(n) / total
		var it *item
		for _, l := range inc.errLines {
			if l.ev.Class == c {
				it = l
				break
			}
		}
		add(vote{cause: cause, weight: w * (.5 + .5*f), it: it, symptom: symptom})
	}
	// Unlinked error lines of the same upstream in the window count too
	// (the access format may not allow an exact join).
	lo, hi := t0.Add(-e.cfg.Skew-2*time.Second), t1.Add(e.cfg.Skew+2*time.Second)
	extra := map[parser.Class]int{}
	for _, it := range e.buf {
		ev := &it.ev
		if ev.Kind != parser.KindProxyError || it.inc != nil || ev.Time.Before(lo) || ev.Time.After(hi) {
			continue
		}
		if inc.upstream != "" && e.keyOf(ev.Upstream) != inc.upstream {
			continue
		}
		if inc.upstream == "" && ev.Upstream != "" {
			continue
		}
		if _, linkedClass := inc.classes[ev.Class]; linkedClass || ev.Class == parser.ClassClientClosed {
			continue
		}
		extra[ev.Class]++
		if extra[ev.Class] == 1 {
			cause, w, symptom := classVote(ev.Class, domStatus)
			add(vote{cause: cause, weight: w * .7, it: it, symptom: symptom})
		}
	}

	// An application's own words that the proxy relays in its error log
	// (nginx's "FastCGI sent in stderr": PHP's warnings and fatal errors when
	// php.ini's error_log is unset) are upstream-side evidence about this
	// upstream, read as its own log line would be.
	if inc.upstream != "" {
		relayed := map[parser.Class]int{}
		for _, it := range e.buf {
			ev := &it.ev
			if ev.Kind != parser.KindProxyError || ev.Time.Before(lo) || ev.Time.After(hi) || e.keyOf(ev.Upstream) != inc.upstream {
				continue
			}
			text, ok := parser.UpstreamStderr(ev.Message)
			if !ok {
				continue
			}
			class, dep := parser.ClassifyUpstreamText(text)
			if relayed[class] >= 5 {
				continue // corroboration counts at most five lines anyway
			}
			relayed[class]++
			probe := parser.Event{Kind: parser.KindUpstreamEvent, Class: class, Dependency: dep, ExitCode: parser.Absent}
			for _, v := range upstreamVotes(&probe) {
				v.weight *= compatWeight(v.cause, &fam)
				v.it = it
				add(v)
			}
		}
	}

	// Upstream-side events.
	// A stop of this service logged well after the failures began (see
	// timing): the service ran through the outage and was restarted to end
	// it, so its start after that stop is the repair, not a sign that a
	// restart caused the outage.
	var lateStop time.Time
	for _, it := range e.buf {
		ev := &it.ev
		if ev.Kind == parser.KindUpstreamEvent && ev.Class == parser.ClassStop && ev.Time.After(t0.Add(stopLead+e.cfg.Skew)) &&
			e.timing(ev.Time, t0, t1, ev.Class) > 0 && matchWeight(e.inv.service(ev, it.origin), svc) > .5 &&
			(lateStop.IsZero() || ev.Time.Before(lateStop)) {
			lateStop = ev.Time
		}
	}
	var marks []EvidenceLine
	for _, it := range e.buf {
		ev := &it.ev
		if ev.Kind != parser.KindUpstreamEvent {
			continue
		}
		tw := e.timing(ev.Time, t0, t1, ev.Class)
		if tw == 0 {
			continue
		}
		repair := !lateStop.IsZero() && isRecovery(ev.Class) && !ev.Time.Before(lateStop)
		if repair {
			tw = min(tw, .3)
		}
		if ev.Class == parser.ClassStart && ev.Time.Before(t0.Add(-10*time.Second-e.cfg.Skew)) {
			// A process that started well before the first 5xx and served
			// in between did not fail these requests by starting: its boot
			// lines (gunicorn's, PostgreSQL's) are no restart. A start after
			// a stop still counts through the stop's own vote.
			tw = 0
		}
		evSvc := e.inv.service(ev, it.origin)
		mw := matchWeight(evSvc, svc)
		if evSvc == "" && svc != "" && ev.Source == parser.SourceKernel && ev.PID > 0 && e.inv.ownsPIDs(svc) {
			// The service's own logs name its pids and this is none of
			// them: another process was killed.
			mw = .2
		}
		vs := upstreamVotes(ev)
		if len(vs) > 0 && mw > .5 && len(marks) < 40 {
			marks = append(marks, evidenceLine(it))
		}
		for _, v := range vs {
			// The service listening again between the start of the window
			// and shortly after its end: it was down and came back, a
			// restart, even when no line says why it stopped.
			if v.cause == CauseRestart && isRecovery(ev.Class) && !ev.Time.Before(t0) && !repair {
				v.weight = max(v.weight, .5)
			}
			v.weight *= tw * mw * compatWeight(v.cause, &fam)
			v.it = it
			add(v)
		}
	}

	ranked := make([]*candidate, 0, len(cands))
	for _, c := range cands {
		ranked = append(ranked, c)
	}
	sort.Slice(ranked, func(i, j int) bool {
		si, sj := ranked[i].score(), ranked[j].score()
		if si != sj {
			return si > sj
		}
		if ranked[i].symptom != ranked[j].symptom {
			return !ranked[i].symptom
		}
		return ranked[i].cause < ranked[j].cause
	})

	out := Incident{
		ID:           inc.id,
		Service:      svc,
		Upstream:     inc.upstream,
		Server:       inc.server,
		Start:        t0.UTC(),
		End:          t1.UTC(),
		Requests:     inc.requests,
		StatusCounts: map[string]int{},
		ClassCounts:  map[string]int{},
		Cause:        CauseUnknown,
		Open:         !inc.closed,
		Marks:        marks,
		Contributing: []Contributing{},
		Evidence:     []EvidenceLine{},
	}
	for st, n := range inc.status {
		out.StatusCounts[strconv.Itoa(st)] = n
	}
	for c, n := range inc.classes {
		out.ClassCounts[string(c)] = n
	}
	out.Timeline = make([]int, 0, len(inc.timeline))
	if len(inc.timeline) > 0 {
		skip := int(t0.Unix() - inc.tlStart)
		if skip > 0 && skip < len(inc.timeline) {
			out.Timeline = append(out.Timeline, inc.timeline[skip:]...)
		} else {
			out.Timeline = append(out.Timeline, inc.timeline...)
		}
	}

	var top *candidate
	if len(ranked) > 0 {
		top = ranked[0]
		s1 := top.score()
		// A rival with evidence of its own lowers the confidence; a rival
		// that is only a symptom (read timeouts next to a saturated pool)
		// is mostly what the winner explains.
		s2 := 0.0
		for _, c := range ranked[1:] {
			sc := c.score()
			if consequence(top.cause, c.cause) {
				sc *= .5 // the supervisor's restart after a kill agrees with it
			}
			if c.symptom && !top.symptom {
				sc *= .5
			}
			s2 = max(s2, sc)
		}
		out.Cause = top.cause
		out.Confidence = round2(s1 * (1 - .3*(s2/s1)*(s2/s1)))
		out.Dependency = top.dep
		topItems := map[*item]bool{}
		for _, v := range top.votes {
			topItems[v.it] = true
		}
		for _, c := range ranked[1:] {
			if c.symptom || c.score() < .35 || c.score() < .5*s1 || consequence(top.cause, c.cause) {
				continue
			}
			// The same line read two ways is not a second cause.
			own := false
			for _, v := range c.votes {
				own = own || v.it != nil && !v.symptom && !topItems[v.it]
			}
			if !own {
				continue
			}
			out.Contributing = append(out.Contributing, Contributing{Cause: c.cause,
				Confidence: round2(c.score() * .9), Dependency: c.dep, Fix: Fix(c.cause, c.dep)})
		}
	}
	out.Fix = Fix(out.Cause, out.Dependency)
	out.Evidence = e.pickEvidence(inc, top, t1)
	out.Summary = summary(&out, top)
	return out
}

// serviceOf names the service behind an upstream key; a group's service is
// its servers' when they agree.
func (e *Engine) serviceOf(up string) string {
	if up == "" {
		return ""
	}
	if s := e.inv.upstreamService(up); s != "" {
		return s
	}
	if e.inv.topo != nil {
		for _, s := range e.inv.topo.Services {
			if containsUpstream(s.Upstreams, up) {
				return s.Name
			}
		}
	}
	svc := ""
	for addr, g := range e.groups {
		if g != up {
			continue
		}
		s := e.serviceOf(addr)
		if s == "" || svc != "" && s != svc {
			return ""
		}
		svc = s
	}
	return svc
}

// consequence says whether cause b usually follows a (a supervisor restarts
// what was killed; a killed worker is what a timeout looks like).
func consequence(a, b Cause) bool {
	switch a {
	case CauseOOMKill, CauseRuntimeOOM, CauseCrash, CauseWorkerTimeout:
		return b == CauseRestart || b == CauseCrash || b == CauseOOMKill && a == CauseWorkerTimeout
	}
	return false
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func evidenceLine(it *item) EvidenceLine {
	line := it.line
	if line == "" {
		line = it.ev.Message
	}
	if len(line) > 2000 {
		line = line[:2000]
	}
	return EvidenceLine{TS: it.ev.Time.UTC(), Source: it.origin.Path,
		Host: firstNonEmpty(it.ev.Hostname, it.origin.Host), Line: line, Class: it.ev.Class}
}

// pickEvidence chooses three to five lines that prove the verdict: the
// strongest upstream-side lines for the cause, the first error-log line and
// the first 5xx, and the recovery when there is one.
func (e *Engine) pickEvidence(inc *incident, top *candidate, t1 time.Time) []EvidenceLine {
	var picked []*item
	seen := map[*item]bool{}
	pick := func(it *item) bool {
		if it == nil || seen[it] || len(picked) >= 5 {
			return false
		}
		seen[it] = true
		picked = append(picked, it)
		return true
	}
	if top != nil {
		vs := append([]vote(nil), top.votes...)
		// Among equals, the line that says more (the kernel's "Killed
		// process" line carries the memory figures).
		sort.SliceStable(vs, func(i, j int) bool {
			if vs[i].weight != vs[j].weight {
				return vs[i].weight > vs[j].weight
			}
			return vs[i].it != nil && vs[j].it != nil && vs[i].it.ev.MemoryKB > vs[j].it.ev.MemoryKB
		})
		// The strongest lines first, one per file (the kernel writes the
		// same kill three ways), then the rest.
		n := 0
		kinds := map[string]bool{}
		for _, v := range vs {
			if v.it == nil || v.it.ev.Kind != parser.KindUpstreamEvent || n >= 3 {
				continue
			}
			k := v.it.origin.Path
			if !kinds[k] && pick(v.it) {
				kinds[k] = true
				n++
			}
		}
		for _, v := range vs {
			if v.it != nil && v.it.ev.Kind == parser.KindUpstreamEvent && n < 2 && pick(v.it) {
				n++
			}
		}
	}
	if len(inc.errLines) > 0 {
		pick(inc.errLines[0])
	} else if top != nil {
		for _, v := range top.votes {
			if v.it != nil && v.it.ev.Kind == parser.KindProxyError {
				pick(v.it)
				break
			}
		}
	}
	if len(inc.lines) > 0 {
		pick(inc.lines[0])
	}
	if top != nil && (top.cause == CauseOOMKill || top.cause == CauseCrash || top.cause == CauseRuntimeOOM || top.cause == CauseRestart) {
		for _, it := range e.buf {
			if it.ev.Kind == parser.KindUpstreamEvent && isRecovery(it.ev.Class) &&
				!it.ev.Time.Before(inc.start) && !it.ev.Time.After(t1.Add(e.cfg.After)) && it.ev.Time.After(t1.Add(-e.cfg.Gap)) {
				pick(it)
				break
			}
		}
	}
	for _, l := range inc.errLines[min(1, len(inc.errLines)):] {
		if len(picked) >= 3 {
			break
		}
		pick(l)
	}
	for _, l := range inc.lines {
		if len(picked) >= 3 {
			break
		}
		pick(l)
	}
	sort.SliceStable(picked, func(i, j int) bool {
		if !picked[i].ev.Time.Equal(picked[j].ev.Time) {
			return picked[i].ev.Time.Before(picked[j].ev.Time)
		}
		return picked[i].seq < picked[j].seq
	})
	out := make([]EvidenceLine, 0, len(picked))
	for _, it := range picked {
		out = append(out, evidenceLine(it))
	}
	return out
}

// summary is the one sentence a person reads first.
func summary(in *Incident, top *candidate) string {
	where := in.Upstream
	if where == "" {
		where = "server " + in.Server
	}
	if in.Service != "" {
		where = in.Service + " (" + where + ")"
	}
	what := fmt.Sprintf("%d requests failed on %s for %s", in.Requests, where, in.End.Sub(in.Start).Round(time.Second))
	var best *item
	if top != nil {
		bw := -1.0
		for _, v := range top.votes {
			if v.it != nil && (v.weight > bw || v.weight == bw && best != nil && v.it.ev.MemoryKB > best.ev.MemoryKB) {
				best, bw = v.it, v.weight
			}
		}
	}
	why := causeText[in.Cause]
	if in.Cause == CauseBackendDown && best != nil && best.ev.Kind == parser.KindUpstreamEvent &&
		(best.ev.Class == parser.ClassUpstreamRefused || best.ev.Class == parser.ClassNoLiveUpstreams) {
		// A load balancer's own report (HAProxy): a log does say why.
		why = "the servers behind the upstream (a load balancer) were down"
	}
	if in.Cause == CauseDependencyFailure && in.Dependency != "" {
		why += " (" + in.Dependency + ")"
	}
	if best != nil && best.ev.Kind == parser.KindUpstreamEvent {
		why += ": " + oneLine(firstNonEmpty(best.ev.Message, best.line))
	} else if best != nil && best.ev.Kind == parser.KindProxyError {
		// The application's own words the proxy relayed (FastCGI stderr).
		if text, ok := parser.UpstreamStderr(best.ev.Message); ok {
			why += ": " + oneLine(text)
		}
	}
	return what + "; " + why
}

var causeText = map[Cause]string{
	CauseOOMKill:           "the kernel (or a supervisor) killed the process for lack of memory",
	CauseRuntimeOOM:        "the runtime ran out of memory",
	CauseCrash:             "the application crashed",
	CauseRestart:           "the application was stopped and restarted (deploy or planned restart)",
	CauseWorkerTimeout:     "a worker hit its timeout and was killed",
	CausePoolSaturation:    "the upstream ran out of capacity (its worker pool, a connection pool or its file descriptors)",
	CauseSlowUpstream:      "the upstream was too slow to answer",
	CauseDependencyFailure: "the application answered errors because a dependency failed",
	CauseDNSFailure:        "the upstream's name could not be resolved",
	CauseNetworkUnreach:    "the upstream's network was unreachable",
	CauseTLSFailure:        "the TLS handshake with the upstream failed",
	CauseInvalidResponse:   "the upstream sent an invalid response",
	CauseRateLimit:         "the proxy rejected requests over its rate or connection limit",
	CauseProxyExhaustion:   "the proxy ran out of connections or file descriptors",
	CauseBackendDown:       "nothing was accepting connections on the upstream, and no log says why",
	CauseUnknown:           "no evidence explains these errors",
}
