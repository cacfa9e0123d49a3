package analyzer

import (
	"strings"
	"testing"

	"github.com/culprit-dev/culprit/parser"
)

// TestEngine_CauseVocabulary: each cause of DESIGN.md's vocabulary is named
// from the evidence that proves it, and only from that.
func TestEngine_CauseVocabulary(t *testing.T) {
	const up = "127.0.0.1:4000"
	burst := func(class parser.Class, status int, headerTime float64) []Evidence {
		var evs []Evidence
		evs = append(evs, listening(0, "api-out.log", ":4000", "api"))
		for i := 0; i < 20; i++ {
			s := 30 + float64(i)*0.5
			cid := int64(1000 + i)
			if class != "" {
				evs = append(evs, proxyErr(s, cid, class, up))
			}
			evs = append(evs, access(s, up, status, cid, headerTime))
		}
		return evs
	}
	appEvent := func(sec float64, class parser.Class, mod func(*parser.Event)) Evidence {
		return upstreamEv(sec, class, "api-out.log", mod)
	}
	cases := []struct {
		name string
		evs  []Evidence
		want Cause
	}{
		{"dns", burst(parser.ClassUpstreamDNS, 502, parser.Absent), CauseDNSFailure},
		{"tls", burst(parser.ClassUpstreamTLS, 502, parser.Absent), CauseTLSFailure},
		{"invalid header", burst(parser.ClassUpstreamInvalid, 502, parser.Absent), CauseInvalidResponse},
		{"rate limit", burst(parser.ClassRateLimited, 503, parser.Absent), CauseRateLimit},
		{"fd exhausted", burst(parser.ClassProxyFDExhausted, 502, parser.Absent), CauseProxyExhaustion},
		{"unreachable", burst(parser.ClassUpstreamUnreachable, 502, parser.Absent), CauseNetworkUnreach},
		{"refused alone", burst(parser.ClassUpstreamRefused, 502, parser.Absent), CauseBackendDown},
		{"read timeouts alone", burst(parser.ClassUpstreamReadTimeout, 504, parser.Absent), CauseSlowUpstream},
		{"EAGAIN alone", burst(parser.ClassUpstreamOverloaded, 502, parser.Absent), CausePoolSaturation},
		{"app answered, nothing else", burst("", 502, 0.003), CauseUnknown},
		{"runtime oom", append(burst(parser.ClassUpstreamPrematureClose, 502, parser.Absent),
			appEvent(29.5, parser.ClassRuntimeOOM, func(ev *parser.Event) {
				ev.Message = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"
			})), CauseRuntimeOOM},
		{"pool saturated", append(burst(parser.ClassUpstreamReadTimeout, 504, parser.Absent),
			appEvent(25, parser.ClassPoolSaturated, func(ev *parser.Event) {
				ev.Message = "server reached pm.max_children setting (5), consider raising it"
			})), CausePoolSaturation},
		{"crash", append(burst(parser.ClassUpstreamRefused, 502, parser.Absent),
			appEvent(29.9, parser.ClassCrash, func(ev *parser.Event) { ev.Message = "panic: runtime error: index out of range" })), CauseCrash},
		// A worker timeout does not explain a DNS failure: the proxy's own
		// proof wins over an unrelated upstream event.
		{"dns beside a worker timeout", append(burst(parser.ClassUpstreamDNS, 502, parser.Absent),
			appEvent(29, parser.ClassWorkerTimeout, nil)), CauseDNSFailure},
		// An event long before the window explains nothing.
		{"oom kill an hour earlier", append(burst(parser.ClassUpstreamRefused, 502, parser.Absent),
			oomKill(-3600, "node", 42)), CauseBackendDown},
		// A stop as the failures begin caused them (a deploy)...
		{"stop, then refused", append(burst(parser.ClassUpstreamRefused, 502, parser.Absent),
			appEvent(29.8, parser.ClassStop, nil), appEvent(40.5, parser.ClassStart, nil)), CauseRestart},
		// ...a stop logged 10 s into them is the operator's restart that
		// ended them (gunicorn-socket-removed: the socket file was deleted
		// under a running gunicorn, whose log is silent until the restart).
		// A balancer between the proxy and the app (HAProxy) answers 503
		// itself once its server is DOWN: the service behind it is down.
		{"balancer's server down", append(burst("", 503, 0.001),
			appEvent(29.7, parser.ClassUpstreamRefused, func(ev *parser.Event) {
				ev.Message = `Server app/app1 is DOWN, reason: Layer4 connection problem, info: "Connection refused"`
			}),
			appEvent(29.7, parser.ClassNoLiveUpstreams, func(ev *parser.Event) { ev.Message = "backend app has no server available!" })),
			CauseBackendDown},
		{"restart that ends the outage", append(burst(parser.ClassUpstreamSocketMissing, 502, parser.Absent),
			appEvent(39.6, parser.ClassStop, nil), appEvent(40.5, parser.ClassStart, nil)), CauseBackendDown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sortByTime(c.evs)
			in := one(t, run(t, Config{}, c.evs))
			if in.Cause != c.want {
				t.Errorf("cause %s (%.2f: %s), want %s", in.Cause, in.Confidence, in.Summary, c.want)
			}
			if c.want == CauseBackendDown && strings.Contains(c.name, "balancer") && !strings.Contains(in.Summary, "behind the upstream") {
				t.Errorf("summary %q does not say the servers behind the balancer were down", in.Summary)
			}
			if in.Fix == "" || in.Confidence <= 0 || in.Confidence > 1 {
				t.Errorf("fix %q confidence %.2f", in.Fix, in.Confidence)
			}
		})
	}
}

// TestEngine_BadInputNeverPanics: events without time, unparsed lines,
// empty fields and absurd values are counted, not crashed on.
func TestEngine_BadInputNeverPanics(t *testing.T) {
	e, _ := New(Config{})
	for _, ev := range []parser.Event{
		{},
		{Kind: parser.KindUnparsed, Reason: "junk"},
		{Kind: parser.KindRequest, Status: 502},
		{Kind: parser.KindRequest, Status: 502, Time: at(1), UpstreamAddr: []string{"-", ""}, UpstreamStatus: []int{0}},
		{Kind: parser.KindRequest, Status: 999, Time: at(1), UpstreamHeaderTime: []float64{1}},
		{Kind: parser.KindProxyError, Time: at(2), CID: -5},
		{Kind: parser.KindUpstreamEvent, Time: at(3), Class: parser.ClassOOMKill},
		{Kind: parser.KindUpstreamEvent, Time: at(-1e9), Class: parser.ClassStart, Upstream: "::::"},
	} {
		in := Evidence{Event: ev}
		e.Add(&in)
	}
	e.Flush()
	e.Drain()
	if s := e.Stats(); s.NoTime != 2 || s.Unparsed != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestEngine_AppAnsweredFromItsOwnLimits: an application that answers its
// own 5xx (the header time is set) is explained by what its logs say about
// it; lines that only say it booted, long before, explain nothing. Shapes
// from the blind scenarios (sqlalchemy-pool-timeout, pg-too-many-clients).
func TestEngine_AppAnsweredFromItsOwnLimits(t *testing.T) {
	const up = "127.0.0.1:4000"
	answered := func(extra ...Evidence) []Evidence {
		evs := []Evidence{listening(-60, "gunicorn.log", up, "")}
		for i := 0; i < 20; i++ {
			evs = append(evs, access(30+float64(i)*0.5, up, 500, int64(2000+i), 1.002))
		}
		return append(evs, extra...)
	}
	boot := func(sec float64, msg string) Evidence {
		return upstreamEv(sec, parser.ClassStart, "gunicorn.log", func(ev *parser.Event) { ev.Message = msg })
	}
	pool := func(sec float64) Evidence {
		return upstreamEv(sec, parser.ClassPoolSaturated, "gunicorn.log", func(ev *parser.Event) {
			ev.Message = "sqlalchemy.exc.TimeoutError: QueuePool limit of size 2 overflow 0 reached, connection timed out, timeout 1.00"
		})
	}
	cases := []struct {
		name    string
		evs     []Evidence
		want    Cause
		minConf float64
	}{
		// The app's connection pool had no free connection: it answered 500.
		{"pool exhausted in the app", answered(pool(30.9), pool(31.5), pool(33)), CausePoolSaturation, .8},
		// Boot lines 40 s before the first 5xx, then nothing: no restart.
		{"boot lines long before", answered(boot(-40, "Starting gunicorn 27.0.1"), boot(-40, "Booting worker with pid: 7"),
			boot(-39.9, "Booting worker with pid: 8"), boot(-39.5, "listening on IPv4 address \"127.0.0.1\", port 5432"),
			boot(-39, "Control socket listening at /run/gunicorn.ctl"), boot(-38, "Application startup complete.")), CauseUnknown, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sortByTime(c.evs)
			in := one(t, run(t, Config{}, c.evs))
			if in.Cause != c.want || in.Confidence < c.minConf {
				t.Errorf("cause %s (%.2f: %s), want %s (confidence >= %.2f)", in.Cause, in.Confidence, in.Summary, c.want, c.minConf)
			}
		})
	}
}

// TestEngine_RelayedStderr: the application's words that nginx relays in its
// error log (FastCGI stderr) explain the 502 the application answered
// itself; the proxy line of another upstream does not.
func TestEngine_RelayedStderr(t *testing.T) {
	const up = "127.0.0.1:9000"
	relayed := func(sec float64, cid int64, upstream string) Evidence {
		ev := parser.Event{Kind: parser.KindProxyError, Source: parser.SourceNginxError, Time: at(sec), Class: parser.ClassOther,
			CID: cid, Upstream: "fastcgi://" + upstream, Request: "GET /quote.php HTTP/1.1", Client: "127.0.0.1",
			ExitCode: parser.Absent, MemoryKB: parser.Absent,
			Message: `FastCGI sent in stderr: "PHP message: PHP Warning:  file_get_contents(http://127.0.0.1:9100/price): ` +
				`Failed to open stream: Connection refused in /srv/www/quote.php on line 3" while reading response header from upstream`}
		return Evidence{Event: ev, Origin: Origin{Path: "error.log"}, Line: ev.Message}
	}
	for _, c := range []struct {
		name    string
		relayTo string
		want    Cause
		dep     string
	}{
		{"own upstream", up, CauseDependencyFailure, "127.0.0.1:9100"},
		{"another upstream", "127.0.0.1:9999", CauseUnknown, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var evs []Evidence
			for i := 0; i < 12; i++ {
				s := 30 + float64(i)*0.5
				evs = append(evs, relayed(s, int64(500+i), c.relayTo), access(s, up, 502, int64(500+i), 0.004))
			}
			sortByTime(evs)
			in := one(t, run(t, Config{}, evs))
			if in.Cause != c.want || in.Dependency != c.dep {
				t.Errorf("cause %s (%.2f, dependency %q: %s), want %s %q", in.Cause, in.Confidence, in.Dependency, in.Summary, c.want, c.dep)
			}
			if c.want == CauseDependencyFailure && !strings.Contains(in.Summary, "Failed to open stream: Connection refused") {
				t.Errorf("summary %q does not quote the application's words", in.Summary)
			}
		})
	}
}
