package analyzer

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/parser"
)

// The events below are built by hand in the shape the parsers produce for
// real lines (the real lines themselves are exercised by the scenario test in
// cmd/culprit); each carries the raw line it stands for.

var base = time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC)

func at(sec float64) time.Time { return base.Add(time.Duration(sec * float64(time.Second))) }

func access(sec float64, up string, status int, cid int64, headerTime float64) Evidence {
	ev := parser.Event{Kind: parser.KindRequest, Source: parser.SourceNginxAccess, Time: at(sec), Status: status,
		Client: "127.0.0.1", Method: "GET", URI: "/api", Protocol: "HTTP/1.1", CID: cid, RequestTime: 0.01,
		BodyBytes: 100, ExitCode: parser.Absent, MemoryKB: parser.Absent}
	if up != "" {
		ev.UpstreamAddr = []string{up}
		ev.UpstreamStatus = []int{status}
		ev.UpstreamHeaderTime = []float64{headerTime}
	}
	line := fmt.Sprintf(`127.0.0.1 - - [%s] "GET /api HTTP/1.1" %d 100 "-" "wrk" cid=%d ua="%s"`,
		at(sec).Format("02/Jan/2006:15:04:05 -0700"), status, cid, up)
	return Evidence{Event: ev, Origin: Origin{Path: "access.log", Host: "proxy"}, Line: line}
}

func proxyErr(sec float64, cid int64, class parser.Class, up string) Evidence {
	ev := parser.Event{Kind: parser.KindProxyError, Source: parser.SourceNginxError, Time: at(sec).Truncate(time.Second),
		Class: class, CID: cid, Client: "127.0.0.1", Request: "GET /api HTTP/1.1", Upstream: "http://" + up + "/api",
		Level: "error", ExitCode: parser.Absent, MemoryKB: parser.Absent}
	line := fmt.Sprintf(`%s [error] 100#100: *%d %s, client: 127.0.0.1, server: _, request: "GET /api HTTP/1.1", upstream: "http://%s/api"`,
		at(sec).Format("2006/01/02 15:04:05"), cid, class, up)
	return Evidence{Event: ev, Origin: Origin{Path: "error.log", Host: "proxy"}, Line: line}
}

func upstreamEv(sec float64, class parser.Class, path string, mod func(*parser.Event)) Evidence {
	ev := parser.Event{Kind: parser.KindUpstreamEvent, Time: at(sec), Class: class, ExitCode: parser.Absent, MemoryKB: parser.Absent}
	if mod != nil {
		mod(&ev)
	}
	if ev.Message == "" {
		ev.Message = string(class) + " " + ev.Process + ev.App
	}
	return Evidence{Event: ev, Origin: Origin{Path: path, Host: "proxy"}, Line: ev.Message}
}

func listening(sec float64, path, addr, app string) Evidence {
	return upstreamEv(sec, parser.ClassStart, path, func(ev *parser.Event) {
		ev.Source = parser.SourceNode
		ev.Upstream = addr
		ev.App = app
		ev.Process = "node"
		ev.Message = "listening on " + addr
	})
}

func oomKill(sec float64, comm string, pid int) Evidence {
	return upstreamEv(sec, parser.ClassOOMKill, "kern.log", func(ev *parser.Event) {
		ev.Source = parser.SourceKernel
		ev.Process = comm
		ev.PID = pid
		ev.Signal = "SIGKILL"
		ev.Message = fmt.Sprintf("Memory cgroup out of memory: Killed process %d (%s) total-vm:1000kB, anon-rss:130000kB", pid, comm)
	})
}

func run(t *testing.T, cfg Config, evs []Evidence) []Incident {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		e.Add(&evs[i])
	}
	e.Flush()
	return e.Drain()
}

// oomScenario: node behind 127.0.0.1:4000 is OOM-killed at 10 s, nginx is
// refused from 10.2 s to 14 s, the supervisor brings it back at 14.5 s.
func oomScenario() []Evidence {
	var evs []Evidence
	evs = append(evs, listening(0, "api-out.log", ":4000", "api"))
	cid := int64(1)
	for i := 10; i < 300; i++ {
		s := float64(i) / 10
		cid++
		if s >= 10.2 && s < 14 {
			evs = append(evs, proxyErr(s, cid, parser.ClassUpstreamRefused, "127.0.0.1:4000"))
			evs = append(evs, access(s, "127.0.0.1:4000", 502, cid, parser.Absent))
		} else {
			evs = append(evs, access(s, "127.0.0.1:4000", 200, cid, 0.005))
		}
	}
	evs = append(evs, oomKill(10, "node", 4242))
	evs = append(evs, upstreamEv(10.1, parser.ClassProcessExit, "pm2.log", func(ev *parser.Event) {
		ev.App = "api"
		ev.Signal = "SIGKILL"
		ev.Message = "App [api:0] exited with code [0] via signal [SIGKILL]"
	}))
	evs = append(evs, listening(14.5, "api-out.log", ":4000", "api"))
	sortByTime(evs)
	return evs
}

func sortByTime(evs []Evidence) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Event.Time.Before(evs[j-1].Event.Time); j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

func one(t *testing.T, got []Incident) Incident {
	t.Helper()
	if len(got) != 1 {
		for _, in := range got {
			t.Logf("incident %s %s %s..%s %d %s", in.ID, in.Upstream, in.Start, in.End, in.Requests, in.Cause)
		}
		t.Fatalf("got %d incidents, want 1", len(got))
	}
	return got[0]
}

func TestEngine_OOMKill(t *testing.T) {
	in := one(t, run(t, Config{}, oomScenario()))
	if in.Cause != CauseOOMKill {
		t.Errorf("cause %s (%.2f), want oom_kill; summary %q", in.Cause, in.Confidence, in.Summary)
	}
	if in.Upstream != "127.0.0.1:4000" || in.Service != "api" {
		t.Errorf("upstream %q service %q", in.Upstream, in.Service)
	}
	if in.Requests != 38 || in.StatusCounts["502"] != 38 || in.ClassCounts["upstream_refused"] != 38 {
		t.Errorf("requests %d status %v classes %v", in.Requests, in.StatusCounts, in.ClassCounts)
	}
	if !in.Start.Equal(at(10.2)) || in.End.Before(at(13.8)) || in.End.After(at(14)) {
		t.Errorf("window %s..%s", in.Start, in.End)
	}
	if n := len(in.Evidence); n < 3 || n > 5 {
		t.Errorf("%d evidence lines", n)
	}
	var sawKill bool
	for _, l := range in.Evidence {
		sawKill = sawKill || strings.Contains(l.Line, "Killed process 4242")
	}
	if !sawKill {
		t.Errorf("evidence lacks the kill: %+v", in.Evidence)
	}
	if in.Confidence < 0.7 || in.Version != 1 || in.Open {
		t.Errorf("confidence %.2f version %d open %v", in.Confidence, in.Version, in.Open)
	}
	for _, c := range in.Contributing {
		if c.Cause == CauseRestart {
			t.Errorf("the restart after an OOM kill is recovery, not a contributing cause")
		}
	}
}

func TestEngine_RefusedWithoutEvidenceIsBackendDown(t *testing.T) {
	var evs []Evidence
	for _, ev := range oomScenario() {
		if ev.Event.Kind != parser.KindUpstreamEvent {
			evs = append(evs, ev)
		}
	}
	in := one(t, run(t, Config{}, evs))
	if in.Cause != CauseBackendDown {
		t.Errorf("cause %s, want backend_down", in.Cause)
	}
}

func TestEngine_CleanRestartIsRestart(t *testing.T) {
	var evs []Evidence
	for _, ev := range oomScenario() {
		if ev.Event.Kind != parser.KindUpstreamEvent {
			evs = append(evs, ev)
		}
	}
	evs = append(evs, listening(0, "api-out.log", ":4000", "api"),
		upstreamEv(10, parser.ClassStop, "api-out.log", func(ev *parser.Event) {
			ev.Signal = "SIGTERM"
			ev.Message = "received SIGTERM, shutting down"
		}),
		listening(14.5, "api-out.log", ":4000", "api"))
	sortByTime(evs)
	in := one(t, run(t, Config{}, evs))
	if in.Cause != CauseRestart {
		t.Errorf("cause %s, want restart; %q", in.Cause, in.Summary)
	}
}

func TestEngine_QuietBaselineGivesNothing(t *testing.T) {
	var evs []Evidence
	for i := 0; i < 500; i++ {
		st := 200
		switch i % 50 {
		case 7:
			st = 404
		case 9:
			st = 499
		}
		evs = append(evs, access(float64(i)*0.2, "127.0.0.1:4000", st, int64(i), 0.003))
	}
	evs = append(evs, proxyErr(9, 9, parser.ClassClientClosed, "127.0.0.1:4000"))
	evs = append(evs, oomKill(30, "python3", 77)) // an OOM kill that caused no 5xx is no incident
	sortByTime(evs)
	if got := run(t, Config{}, evs); len(got) != 0 {
		t.Fatalf("quiet baseline gave %d incidents: %+v", len(got), got)
	}
}

func TestEngine_OutOfOrderGivesSameResult(t *testing.T) {
	want := one(t, run(t, Config{}, oomScenario()))
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 5; round++ {
		evs := oomScenario()
		// Displace every event by up to 4 s of arrival order (inside the
		// default lateness), as concurrent files and shippers do.
		keys := make([]float64, len(evs))
		for i := range evs {
			keys[i] = float64(evs[i].Event.Time.UnixNano())/1e9 + rng.Float64()*4
		}
		for i := 1; i < len(evs); i++ {
			for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
				keys[j], keys[j-1] = keys[j-1], keys[j]
				evs[j], evs[j-1] = evs[j-1], evs[j]
			}
		}
		got := one(t, run(t, Config{}, evs))
		if got.ID != want.ID || got.Cause != want.Cause || got.Requests != want.Requests ||
			!got.Start.Equal(want.Start) || !got.End.Equal(want.End) || got.ClassCounts["upstream_refused"] != want.Requests {
			t.Errorf("round %d: got %s %s %d %s..%s %v, want %s %s %d %s..%s", round, got.ID, got.Cause, got.Requests,
				got.Start, got.End, got.ClassCounts, want.ID, want.Cause, want.Requests, want.Start, want.End)
		}
	}
}

func TestEngine_ErrorLogReadAfterAccessLog(t *testing.T) {
	// A whole file later than the other: within one Flush everything links.
	var acc, rest []Evidence
	for _, ev := range oomScenario() {
		if ev.Event.Kind == parser.KindRequest {
			acc = append(acc, ev)
		} else {
			rest = append(rest, ev)
		}
	}
	e, _ := New(Config{Lateness: time.Hour})
	for i := range acc {
		e.Add(&acc[i])
	}
	for i := range rest {
		e.Add(&rest[i])
	}
	e.Flush()
	in := one(t, e.Drain())
	if in.Cause != CauseOOMKill || in.ClassCounts["upstream_refused"] != in.Requests {
		t.Errorf("cause %s classes %v", in.Cause, in.ClassCounts)
	}
}

func TestEngine_LateEvidenceRevisesWithVersion(t *testing.T) {
	var onTime []Evidence
	var kill Evidence
	for _, ev := range oomScenario() {
		if ev.Event.Class == parser.ClassOOMKill {
			kill = ev
			continue
		}
		if ev.Event.Kind == parser.KindUpstreamEvent {
			continue
		}
		onTime = append(onTime, ev)
	}
	// More traffic so the watermark passes the incident and closes it.
	for s := 30.0; s < 120; s += 1 {
		onTime = append(onTime, access(s, "127.0.0.1:4000", 200, int64(s*1000), 0.004))
	}
	e, _ := New(Config{})
	for i := range onTime {
		e.Add(&onTime[i])
	}
	first := one(t, e.Drain())
	if first.Open || first.Version != 1 || first.Cause != CauseBackendDown {
		t.Fatalf("first: open %v version %d cause %s", first.Open, first.Version, first.Cause)
	}
	if again := e.Drain(); len(again) != 0 {
		t.Fatalf("nothing changed, yet Drain returned %d", len(again))
	}
	e.Add(&kill) // 110 s late: behind the watermark, within retention
	second := one(t, e.Drain())
	if second.ID != first.ID || second.Version != 2 || second.Cause != CauseOOMKill {
		t.Errorf("revision: id %s (was %s) version %d cause %s", second.ID, first.ID, second.Version, second.Cause)
	}
	if e.Stats().Late == 0 {
		t.Errorf("the kill was late but not counted as late")
	}
}

func TestEngine_TwoUpstreamsSameMinuteStayApart(t *testing.T) {
	var evs []Evidence
	evs = append(evs, listening(0, "api-out.log", ":4000", "api"))
	evs = append(evs, upstreamEv(0, parser.ClassStart, "gunicorn.log", func(ev *parser.Event) {
		ev.Source = parser.SourceGunicorn
		ev.Upstream = "127.0.0.1:5000"
		ev.Process = "gunicorn"
		ev.Message = "Listening at: http://127.0.0.1:5000 (1200)"
	}))
	cid := int64(0)
	for s := 1.0; s < 40; s += 0.25 {
		cid++
		switch {
		case s >= 10 && s < 13:
			evs = append(evs, proxyErr(s, cid, parser.ClassUpstreamRefused, "127.0.0.1:4000"),
				access(s, "127.0.0.1:4000", 502, cid, parser.Absent))
		case s >= 12 && s < 20:
			evs = append(evs, proxyErr(s, cid, parser.ClassUpstreamPrematureClose, "127.0.0.1:5000"),
				access(s, "127.0.0.1:5000", 502, cid, parser.Absent))
		default:
			evs = append(evs, access(s, "127.0.0.1:4000", 200, cid, 0.01))
		}
	}
	evs = append(evs, oomKill(9.8, "node", 4242),
		upstreamEv(11.9, parser.ClassWorkerTimeout, "gunicorn.log", func(ev *parser.Event) {
			ev.Source = parser.SourceGunicorn
			ev.PID = 1201
			ev.Message = "[1200] [CRITICAL] WORKER TIMEOUT (pid:1201)"
		}),
		listening(13.5, "api-out.log", ":4000", "api"))
	sortByTime(evs)
	got := run(t, Config{}, evs)
	if len(got) != 2 {
		t.Fatalf("got %d incidents, want 2", len(got))
	}
	byUp := map[string]Incident{}
	for _, in := range got {
		byUp[in.Upstream] = in
	}
	if in := byUp["127.0.0.1:4000"]; in.Cause != CauseOOMKill || in.Requests != 12 || in.Service != "api" {
		t.Errorf(":4000: cause %s requests %d service %q", in.Cause, in.Requests, in.Service)
	}
	if in := byUp["127.0.0.1:5000"]; in.Cause != CauseWorkerTimeout || in.Requests != 28 || in.Service != "gunicorn" {
		t.Errorf(":5000: cause %s requests %d service %q; %q", in.Cause, in.Requests, in.Service, in.Summary)
	}
	if byUp["127.0.0.1:4000"].ID == byUp["127.0.0.1:5000"].ID {
		t.Errorf("two incidents share an id")
	}
}

func TestEngine_GapAndMinimumSize(t *testing.T) {
	var evs []Evidence
	burst := func(from float64, n int) {
		for i := 0; i < n; i++ {
			s := from + float64(i)*0.5
			evs = append(evs, access(s, "127.0.0.1:4000", 502, 0, parser.Absent))
		}
	}
	burst(0, 10)   // 0..4.5
	burst(20, 10)  // within the 30 s gap: same incident
	burst(100, 10) // a new one
	burst(300, 2)  // too small
	got := run(t, Config{}, evs)
	if len(got) != 2 || got[0].Requests != 20 || got[1].Requests != 10 {
		t.Fatalf("got %d incidents: %+v", len(got), got)
	}
	if got2 := run(t, Config{Gap: 5 * time.Second, MinRequests: 2}, evs); len(got2) != 4 {
		t.Errorf("gap 5s min 2: got %d incidents, want 4", len(got2))
	}
}

func TestEngine_OverlapBridgedByLateRequestMerges(t *testing.T) {
	var evs []Evidence
	for i := 0; i < 10; i++ {
		evs = append(evs, access(float64(i), "127.0.0.1:4000", 502, 0, parser.Absent))
		evs = append(evs, access(70+float64(i), "127.0.0.1:4000", 502, 0, parser.Absent))
	}
	sortByTime(evs)
	bridge := access(40, "127.0.0.1:4000", 504, 0, parser.Absent)
	e, _ := New(Config{Lateness: time.Minute, Gap: 31 * time.Second})
	for i := range evs {
		e.Add(&evs[i])
	}
	e.Add(&bridge)
	e.Flush()
	in := one(t, e.Drain())
	if in.Requests != 21 || in.StatusCounts["504"] != 1 || !in.Start.Equal(at(0)) {
		t.Errorf("merged: %d requests, %v, start %s", in.Requests, in.StatusCounts, in.Start)
	}
	if in.ID != incidentID("127.0.0.1:4000", at(0)) {
		t.Errorf("merged incident must keep the earlier id")
	}
}

func TestEngine_ClockSkewBetweenHosts(t *testing.T) {
	// The app host's clock is 4 s behind the proxy's: its kill line reads
	// 6 s while the refusals start at 10.2 s... and 4 s ahead: 14 s.
	for _, skew := range []float64{-4, 4} {
		var evs []Evidence
		for _, ev := range oomScenario() {
			if ev.Event.Kind == parser.KindUpstreamEvent {
				ev.Event.Time = ev.Event.Time.Add(time.Duration(skew * float64(time.Second)))
				ev.Origin.Host = "app-1"
			}
			evs = append(evs, ev)
		}
		sortByTime(evs)
		in := one(t, run(t, Config{}, evs))
		if in.Cause != CauseOOMKill {
			t.Errorf("skew %+.0fs: cause %s", skew, in.Cause)
		}
	}
}

func TestEngine_LinkByClientAndRequestWithoutConnection(t *testing.T) {
	var evs []Evidence
	for i := 0; i < 5; i++ {
		s := 10 + float64(i)*3
		a := access(s, "127.0.0.1:8000", 504, 0, parser.Absent)
		a.Event.Client = fmt.Sprintf("10.0.0.%d", i)
		a.Event.RequestTime = 3.0
		er := proxyErr(s-0.5, 0, parser.ClassUpstreamReadTimeout, "127.0.0.1:8000")
		er.Event.Client = a.Event.Client
		evs = append(evs, a, er)
	}
	sortByTime(evs)
	in := one(t, run(t, Config{}, evs))
	if in.ClassCounts["upstream_read_timeout"] != 5 || in.Cause != CauseSlowUpstream {
		t.Errorf("classes %v cause %s", in.ClassCounts, in.Cause)
	}
}

func TestEngine_DependencyFailure(t *testing.T) {
	var evs []Evidence
	evs = append(evs, listening(0, "shop-out.log", ":3000", "shop"))
	for i := 0; i < 20; i++ {
		evs = append(evs, access(5+float64(i)*0.5, "127.0.0.1:3000", 502, int64(i+1), 0.002))
		evs = append(evs, upstreamEv(5+float64(i)*0.5-0.001, parser.ClassDependencyRefused, "shop-error.log", func(ev *parser.Event) {
			ev.Dependency = "127.0.0.1:5432"
			ev.Message = "Error: connect ECONNREFUSED 127.0.0.1:5432"
		}))
	}
	sortByTime(evs)
	in := one(t, run(t, Config{}, evs))
	if in.Cause != CauseDependencyFailure || in.Dependency != "127.0.0.1:5432" || in.ClassCounts["app_error"] != 20 {
		t.Errorf("cause %s dependency %q classes %v", in.Cause, in.Dependency, in.ClassCounts)
	}
	if !strings.Contains(in.Fix, "127.0.0.1:5432") {
		t.Errorf("fix does not name the dependency: %q", in.Fix)
	}
}

func TestEngine_DNSFailureWithoutUpstreamAddress(t *testing.T) {
	var evs []Evidence
	for i := 0; i < 8; i++ {
		s := float64(i)
		a := access(s, "", 502, int64(100+i), parser.Absent)
		a.Event.ServerName = "shop.example"
		er := proxyErr(s, int64(100+i), parser.ClassUpstreamDNS, "")
		er.Event.Upstream = ""
		er.Line = "backend.invalid could not be resolved (3: Host not found)"
		evs = append(evs, er, a)
	}
	in := one(t, run(t, Config{}, evs))
	if in.Cause != CauseDNSFailure || in.Upstream != "" || in.Server != "shop.example" || in.Requests != 8 {
		t.Errorf("cause %s upstream %q server %q requests %d", in.Cause, in.Upstream, in.Server, in.Requests)
	}
}

func TestEngine_TopologyMapsKernelCommToService(t *testing.T) {
	topo, err := ParseTopology(strings.NewReader(`
services:
  - name: web
    upstreams: ["127.0.0.1:4000"]
    processes: ["node /srv/app/server.js"]
  - name: worker
    upstreams: ["127.0.0.1:4001"]
    processes: ["node /srv/app/worker.js"]
`))
	if err != nil {
		t.Fatal(err)
	}
	var evs []Evidence
	for _, ev := range oomScenario() {
		if ev.Event.Kind == parser.KindUpstreamEvent {
			continue
		}
		evs = append(evs, ev)
	}
	// Kernel comm is the title cut to 15 characters; the worker's kill
	// must not explain web's incident.
	evs = append(evs, oomKill(10, "node /srv/app/w", 5000))
	sortByTime(evs)
	in := one(t, run(t, Config{Topology: topo}, evs))
	if in.Service != "web" || in.Cause == CauseOOMKill {
		t.Errorf("worker's OOM kill blamed for web: service %q cause %s", in.Service, in.Cause)
	}
	evs = append(evs, oomKill(10, "node /srv/app/s", 5001))
	sortByTime(evs)
	if in := one(t, run(t, Config{Topology: topo}, evs)); in.Cause != CauseOOMKill {
		t.Errorf("web's own kill: cause %s", in.Cause)
	}
}

func TestEngine_MemoryBoundedByOpenIncidents(t *testing.T) {
	e, _ := New(Config{})
	e.EmitLinks()
	links := 0
	var ev Evidence
	cid := int64(0)
	for s := 0; s < 6*3600; s++ { // six hours, an incident every ten minutes
		for k := 0; k < 5; k++ {
			cid++
			st := 200
			if s%600 < 5 {
				st = 502
				pe := proxyErr(float64(s), cid, parser.ClassUpstreamRefused, "127.0.0.1:4000")
				e.Add(&pe)
			}
			ev = access(float64(s)+float64(k)*0.1, "127.0.0.1:4000", st, cid, parser.Absent)
			ev.Origin.FileID, ev.Origin.Offset = "access", cid*100
			e.Add(&ev)
		}
		if s%600 == 300 {
			ke := oomKill(float64(s), "node", s)
			e.Add(&ke)
		}
		if s > 3600 && s%60 == 0 {
			if len(e.buf) > 400 || e.errs.len() > 400 || e.reqs.len() > 400 || len(e.keys["127.0.0.1:4000"]) > 3 {
				t.Fatalf("at %ds: buf %d errs %d reqs %d incidents %d", s, len(e.buf), e.errs.len(), e.reqs.len(), len(e.keys["127.0.0.1:4000"]))
			}
			// Links held: by the incidents still kept, and reported ones
			// until the next DrainLinks (every 15 minutes: two incidents).
			held := len(e.links)
			for _, inc := range e.keys["127.0.0.1:4000"] {
				held += len(inc.reqs) + len(inc.pending)
			}
			if held > 3*25*2 {
				t.Fatalf("at %ds: %d links held", s, held)
			}
		}
		if s%900 == 0 {
			e.Drain()
			links += len(e.DrainLinks())
		}
	}
	e.Flush()
	e.Drain()
	if links += len(e.DrainLinks()); links != 36*25 {
		t.Errorf("%d links reported for 36 incidents of 25 5xx each", links)
	}
}

func TestOffsetSampler(t *testing.T) {
	s := NewOffsetSampler()
	for i := int64(1); i <= 10; i++ {
		// The error log was read as UTC but written in UTC+2: its times are
		// two hours ahead of the access log's real ones.
		er := proxyErr(float64(i), i, parser.ClassUpstreamRefused, "127.0.0.1:4000").Event
		er.Time = er.Time.Add(2 * time.Hour)
		s.Observe(&er)
		a := access(float64(i)+0.3, "127.0.0.1:4000", 502, i, parser.Absent).Event
		s.Observe(&a)
	}
	shift, pairs, ok := s.Shift()
	if !ok || shift != -2*time.Hour || pairs != 10 {
		t.Errorf("shift %v pairs %d ok %v", shift, pairs, ok)
	}
}

func TestEngine_UndrainedIncidentKeepsItsEvidence(t *testing.T) {
	evs := oomScenario()
	// An hour of quiet traffic before anyone drains: the closed incident and
	// the evidence it rests on must survive the retention until then.
	for s := 60.0; s < 3600; s += 30 {
		evs = append(evs, access(s, "127.0.0.1:4000", 200, int64(s*10), 0.002))
	}
	e, _ := New(Config{})
	for i := range evs {
		e.Add(&evs[i])
	}
	in := one(t, e.Drain())
	if in.Cause != CauseOOMKill {
		t.Errorf("drained late: cause %s, evidence %d lines", in.Cause, len(in.Evidence))
	}
	// After the drain the window is released.
	for s := 3600.0; s < 4000; s += 30 {
		ev := access(s, "127.0.0.1:4000", 200, int64(s*10), 0.002)
		e.Add(&ev)
	}
	if len(e.buf) != 0 || len(e.keys) != 0 {
		t.Errorf("after drain and retention: %d buffered, %d keys", len(e.buf), len(e.keys))
	}
}

// TestEngine_DeployBesideUnrelatedOOMKill: a batch job's OOM kill a second
// before a deploy does not take the blame when the service's own log shows
// the clean stop (the shape of testdata/scenarios/deploy-noisy-oom).
func TestEngine_DeployBesideUnrelatedOOMKill(t *testing.T) {
	var evs []Evidence
	for _, ev := range oomScenario() {
		if ev.Event.Kind != parser.KindUpstreamEvent {
			evs = append(evs, ev)
		}
	}
	evs = append(evs, listening(0, "app.log", ":4000", ""),
		oomKill(9.3, "python3", 25792),
		upstreamEv(10.5, parser.ClassStop, "app.log", func(ev *parser.Event) {
			ev.Signal = "SIGTERM"
			ev.Message = "INFO [orders-api] received SIGTERM, shutting down"
		}),
		listening(14.5, "app.log", ":4000", ""))
	sortByTime(evs)
	in := one(t, run(t, Config{}, evs))
	if in.Cause != CauseRestart {
		t.Errorf("cause %s (%.2f): %s", in.Cause, in.Confidence, in.Summary)
	}
}

func TestEngine_KillOfAnotherPIDIsNotTheService(t *testing.T) {
	var evs []Evidence
	for _, ev := range oomScenario() {
		if ev.Event.Class != parser.ClassOOMKill && ev.Event.Class != parser.ClassProcessExit {
			evs = append(evs, ev)
		}
	}
	// The app's log names its pid; the kernel kills pid 25792 (python3).
	evs = append(evs, upstreamEv(0, parser.ClassOther, "api-out.log", func(ev *parser.Event) {
		ev.PID = 4242
		ev.Message = "starting pid 4242"
	}), oomKill(9.5, "python3", 25792))
	sortByTime(evs)
	if in := one(t, run(t, Config{}, evs)); in.Cause == CauseOOMKill {
		t.Errorf("a kill of a pid the service never had was blamed: %s", in.Summary)
	}
	evs = append(evs, oomKill(9.6, "node", 4242))
	sortByTime(evs)
	if in := one(t, run(t, Config{}, evs)); in.Cause != CauseOOMKill {
		t.Errorf("the service's own pid killed: cause %s", in.Cause)
	}
}

func TestEngine_UpstreamGroupIsOneIncident(t *testing.T) {
	var evs []Evidence
	for i := 0; i < 10; i++ {
		a := access(float64(i), "", 502, int64(i+1), parser.Absent)
		if i%3 == 0 { // nginx tried both servers, both refused
			a.Event.UpstreamAddr = []string{"127.0.0.1:18535", "127.0.0.1:18536"}
			a.Event.UpstreamStatus = []int{502, 502}
			a.Event.UpstreamHeaderTime = []float64{parser.Absent, parser.Absent}
		} else { // then both marked failed: no live upstreams
			a.Event.UpstreamAddr = []string{"users_api"}
			a.Event.UpstreamStatus = []int{502}
			a.Event.UpstreamHeaderTime = []float64{parser.Absent}
		}
		evs = append(evs, a)
	}
	groups := map[string]string{"127.0.0.1:18535": "users_api", "127.0.0.1:18536": "users_api", "127.0.0.1:9": "solo"}
	in := one(t, run(t, Config{Groups: groups}, evs))
	if in.Upstream != "users_api" || in.Requests != 10 {
		t.Errorf("upstream %q requests %d", in.Upstream, in.Requests)
	}
	// Without the configuration the servers' 5xx are keyed apart.
	if got := run(t, Config{MinRequests: 1}, evs); len(got) != 2 {
		t.Errorf("without groups: %d incidents, want 2", len(got))
	}
	// A group of one server keeps its address.
	solo := []Evidence{access(0, "127.0.0.1:9", 502, 1, parser.Absent), access(1, "127.0.0.1:9", 502, 2, parser.Absent),
		access(2, "127.0.0.1:9", 502, 3, parser.Absent)}
	if in := one(t, run(t, Config{Groups: groups}, solo)); in.Upstream != "127.0.0.1:9" {
		t.Errorf("single-server group keyed %q", in.Upstream)
	}
}

// benchStream is what a correlator partition receives (the events topic
// carries 5xx, proxy errors and upstream events, not the 2xx): every two
// minutes a 10 s burst of refused 502s at 100 per second, each with its
// error line, and an OOM kill before it.
func benchStream() []Evidence {
	var evs []Evidence
	cid := int64(0)
	for s := 0.0; s < 10; s += 0.01 {
		cid++
		evs = append(evs, proxyErr(s, cid, parser.ClassUpstreamRefused, "127.0.0.1:4000"),
			access(s, "127.0.0.1:4000", 502, cid, parser.Absent))
	}
	evs = append(evs, oomKill(-0.5, "node", 4242))
	sortByTime(evs)
	return evs
}

// BenchmarkEngine_Add: the engine's cost per event over a stream of
// incidents, drained every 1024 events as the correlator does.
func BenchmarkEngine_Add(b *testing.B) { benchAdd(b, false) }

// BenchmarkEngine_AddLinks: the same with each 5xx's link reported and
// drained (analyze's correlator).
func BenchmarkEngine_AddLinks(b *testing.B) { benchAdd(b, true) }

func benchAdd(b *testing.B, links bool) {
	evs := benchStream()
	for i := range evs {
		evs[i].Origin.FileID, evs[i].Origin.Offset = "dev:inode:fingerprint", int64(i)*180
	}
	e, _ := New(Config{EmitOpen: true})
	if links {
		e.EmitLinks()
	}
	period := 2 * time.Minute
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := evs[i%len(evs)]
		shift := time.Duration(i/len(evs)) * period
		ev.Event.Time = ev.Event.Time.Add(shift)
		ev.Event.CID += int64(i/len(evs)) * 1e6
		e.Add(&ev)
		if i%1024 == 1023 {
			benchSink += len(e.Drain()) + len(e.DrainLinks())
		}
	}
}

var benchSink int

// A late 5xx bridges two incidents that were both drained (the streaming
// path stored both): the absorbed id ends with a snapshot that names the
// survivor, and the survivor carries the totals. An id nobody was given
// needs no such snapshot.
func TestEngine_MergeEndsTheAbsorbedID(t *testing.T) {
	var evs []Evidence
	for i := 0; i < 10; i++ {
		evs = append(evs, access(float64(i), "127.0.0.1:4000", 502, 0, parser.Absent))
		evs = append(evs, access(70+float64(i), "127.0.0.1:4000", 502, 0, parser.Absent))
	}
	sortByTime(evs)
	bridge := access(40, "127.0.0.1:4000", 504, 0, parser.Absent)
	cfg := Config{Lateness: time.Minute, Gap: 31 * time.Second, EmitOpen: true}

	e, _ := New(cfg)
	for i := range evs {
		e.Add(&evs[i])
	}
	before := map[string]Incident{}
	for _, in := range e.Drain() {
		before[in.ID] = in
	}
	first, later := incidentID("127.0.0.1:4000", at(0)), incidentID("127.0.0.1:4000", at(70))
	if len(before) != 2 || before[first].Requests != 10 || before[later].Requests != 10 {
		t.Fatalf("before the bridge: %+v", before)
	}
	e.Add(&bridge)
	got := map[string]Incident{}
	for _, in := range e.Drain() {
		got[in.ID] = in
	}
	surv, gone := got[first], got[later]
	if len(got) != 2 || surv.Merged() || surv.Requests != 21 || surv.StatusCounts["504"] != 1 || surv.Version <= before[first].Version {
		t.Fatalf("survivor %+v (drained %d incidents)", surv, len(got))
	}
	if gone.MergedInto != first || gone.Version <= before[later].Version || gone.Open || gone.Requests != 0 ||
		len(gone.ClassCounts) != 0 || gone.Upstream != "127.0.0.1:4000" || !gone.Start.Equal(at(70)) {
		t.Errorf("absorbed id's last snapshot: %+v", gone)
	}
	if b, _ := json.Marshal(gone); !strings.Contains(string(b), `"merged_into":"`+first+`"`) {
		t.Errorf("json: %s", b)
	}
	if b, _ := json.Marshal(surv); strings.Contains(string(b), "merged_into") {
		t.Errorf("a live incident's json names merged_into: %s", b)
	}
	e.Flush()
	for _, in := range e.Drain() {
		if in.ID != first || in.Merged() {
			t.Errorf("after the merge was reported: %s merged into %q", in.ID, in.MergedInto)
		}
	}

	// The same bridge before anything was drained: one incident, no end
	// to report.
	e2, _ := New(cfg)
	for i := range evs {
		e2.Add(&evs[i])
	}
	e2.Add(&bridge)
	e2.Flush()
	if in := one(t, e2.Drain()); in.ID != first || in.Requests != 21 {
		t.Errorf("merged before any drain: %+v", in)
	}
}

// A survivor that takes the absorbed incident's id (it started earlier)
// gives up its own: that id ends, the other lives on.
func TestEngine_MergeKeepingTheOtherID(t *testing.T) {
	var evs []Evidence
	for i := 0; i < 10; i++ {
		evs = append(evs, access(float64(i), "127.0.0.1:4000", 502, 0, parser.Absent))
		evs = append(evs, access(70+float64(i), "127.0.0.1:4000", 502, 0, parser.Absent))
	}
	sortByTime(evs)
	e, _ := New(Config{Lateness: time.Minute, Gap: 31 * time.Second, EmitOpen: true})
	for i := range evs {
		e.Add(&evs[i])
	}
	before := map[string]Incident{}
	for _, in := range e.Drain() {
		before[in.ID] = in
	}
	incs := e.keys["127.0.0.1:4000"]
	if len(incs) != 2 {
		t.Fatalf("%d incidents", len(incs))
	}
	first, later := incs[0].id, incs[1].id
	e.merge(incs[1], incs[0]) // the later one survives, under the earlier id
	got := map[string]Incident{}
	for _, in := range e.Drain() {
		got[in.ID] = in
	}
	if len(got) != 2 || got[first].MergedInto != "" || got[first].Requests != 20 || got[first].Version <= before[first].Version {
		t.Errorf("survivor under %s: %+v", first, got[first])
	}
	if g := got[later]; g.MergedInto != first || g.Version <= before[later].Version {
		t.Errorf("the id the survivor gave up: %+v", g)
	}
}

// Without EmitOpen (explain): two incidents drained closed, then a 5xx
// between them far behind the watermark. The next Drain has the survivor's
// revision with the totals and, with it, the end of the absorbed id.
func TestEngine_MergeOfClosedIncidents(t *testing.T) {
	var evs []Evidence
	for i := 0; i < 10; i++ {
		evs = append(evs, access(float64(i), "127.0.0.1:4000", 502, 0, parser.Absent))
		evs = append(evs, access(70+float64(i), "127.0.0.1:4000", 502, 0, parser.Absent))
	}
	for s := 80.0; s < 200; s++ { // traffic that closes both
		evs = append(evs, access(s, "127.0.0.1:4000", 200, 0, 0.004))
	}
	sortByTime(evs)
	e, _ := New(Config{Gap: 31 * time.Second})
	for i := range evs {
		e.Add(&evs[i])
	}
	if got := e.Drain(); len(got) != 2 || got[0].Open || got[1].Open {
		t.Fatalf("before the bridge: %+v", got)
	}
	bridge := access(40, "127.0.0.1:4000", 504, 0, parser.Absent)
	e.Add(&bridge)
	next := access(200.5, "127.0.0.1:4000", 200, 0, 0.004)
	e.Add(&next)
	if got := e.Drain(); len(got) != 2 {
		t.Errorf("after the bridge, closed again: %d snapshots, want the survivor and the end", len(got))
	} else if got[0].MergedInto != "" || got[1].MergedInto != got[0].ID || got[0].Requests != 21 {
		t.Errorf("after the bridge: %+v", got)
	}
}
