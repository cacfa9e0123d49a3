package parser

import "testing"

// blindCases are lines of software the recognisers were not written
// against (testdata/apps-blind/README.md says which scenario wrote each):
// what they must become is what the scenario caused.
var blindCases = []appCase{
	// PostgreSQL refused the connection at max_connections: psycopg2 names
	// the server as `"127.0.0.1", port N`.
	{"apps-blind/gunicorn27-psycopg2.log", "Error handling request GET /report", SourceGunicorn, ClassDependencyRefused,
		"pid=30479 level=ERROR dep=127.0.0.1:32022 process=gunicorn ts=2026-11-25T19:13:24Z " +
			"msg=psycopg2.OperationalError: connection to server at \"127.0.0.1\", port 32022 failed: FATAL:  sorry, too many clients already"},
	{"apps-blind/gunicorn27-psycopg2.log", "Starting gunicorn 27.0.1", SourceGunicorn, ClassStart, "pid=30434 level=INFO process=gunicorn"},
	// gunicorn >= 23's control socket is not the address the service serves.
	{"apps-blind/gunicorn27-psycopg2.log", "Control socket listening at", SourceGunicorn, ClassOther, "pid=30434 level=INFO process=gunicorn"},
	// SQLAlchemy's QueuePool ran out: the app's own pool, not the database.
	{"apps-blind/gunicorn27-uvicorn-sqlalchemy.log", "Exception in ASGI application", SourceGunicorn, ClassPoolSaturated,
		"pid=1158 level=ERROR process=gunicorn msg=sqlalchemy.exc.TimeoutError: QueuePool limit of size 2 overflow 0 reached"},
	{"apps-blind/gunicorn27-gevent.log", "WORKER TIMEOUT", SourceGunicorn, ClassWorkerTimeout, "pid=17947 level=CRITICAL process=gunicorn"},
	// asyncio's address tuple names the dependency.
	{"apps-blind/uvicorn-asyncpg.log", "Exception in ASGI application", SourcePython, ClassDependencyRefused,
		"dep=127.0.0.1:32012 process=python ts=2026-11-25T19:10:55Z " +
			"msg=ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 32012)"},
	// The database's own refusal in an exception is no planned stop.
	{"apps-blind/uvicorn-asyncpg.log", "Traceback (most recent call last)", SourcePython, ClassDependencyRefused,
		"process=python msg=asyncpg.exceptions.CannotConnectNowError: the database system is shutting down"},
	{"apps-blind/uvicorn-asyncpg.log", "Uvicorn running on", SourceApp, ClassStart, "up=127.0.0.1:32011 level=INFO ts=2026-11-25T19:10:42Z msg=INFO [uvicorn.error] Uvicorn running on"},
	// pino: the error object carries code, address and port.
	{"apps-blind/pino-ioredis.log", "redis connection error", SourceNode, ClassDependencyRefused, "pid=7366 dep=127.0.0.1:32042 level=error process=node app= msg=redis connection error"},
	// winston: pg-pool's checkout timeout is the pool, not the database.
	{"apps-blind/winston-pg-pool.log", "timeout exceeded when trying to connect", SourceNode, ClassPoolSaturated,
		"level=error process=node msg=GET /stock/sku-42 failed ts=2026-11-25T19:36:38Z"},
	// Go's accept loop out of descriptors names its own listener.
	{"apps-blind/go-accept-emfile.log", "accept4: too many open files; retrying in 5ms", SourceApp, ClassPoolSaturated,
		"up=127.0.0.1:32061 ts=2026-11-25T19:20:23Z msg=http: Accept error: accept tcp 127.0.0.1:32061: accept4: too many open files; retrying in 5ms"},
	// ondemand words it without "pm.".
	{"apps-blind/phpfpm-ondemand.log", "server reached max_children setting", SourcePHPFPM, ClassPoolSaturated, "level=WARNING app=reports"},
	// An app server's request lines in its own log are the app's, not an
	// nginx access log: the level word gives them away.
	{"apps-blind/aiohttp-redis.log", "aiohttp.access 127.0.0.1", SourceApp, ClassOther,
		"level=INFO ts=2026-11-25T19:49:21Z msg=INFO aiohttp.access 127.0.0.1 \"GET /session/ab12 HTTP/1.0\" 200"},
	{"apps-blind/aiohttp-redis.log", "Error handling request", SourcePython, ClassDependencyRefused,
		"dep=127.0.0.1:32122 process=python ts=2026-11-25T19:49:37Z msg=redis.exceptions.ConnectionError: Error 111 connecting to 127.0.0.1:32122."},
	{"apps-blind/uvicorn-journal.log", "GET /api/items", SourceApp, ClassOther,
		"level=INFO ts=2026-11-25T19:51:22Z msg=INFO:     127.0.0.1:46506 - \"GET /api/items HTTP/1.0\" 200 OK"},
	{"apps-blind/uvicorn-journal.log", "Shutting down", SourceApp, ClassStop,
		"level=INFO ts=2026-11-25T19:51:36Z msg=INFO:     Shutting down"},
	// PostgreSQL cancelled the query at the session's statement_timeout.
	{"apps-blind/uvicorn-statement-timeout.log", "Exception in ASGI application", SourcePython, ClassDependencyTimeout,
		"process=python ts=2026-11-25T20:06:53Z msg=asyncpg.exceptions.QueryCanceledError: canceling statement due to statement timeout"},
	// A dependency's certificate rejected by the client: it could not be used.
	{"apps-blind/go-dependency-cert.log", "rates unavailable", SourceApp, ClassDependencyRefused,
		"dep=127.0.0.1:32222 ts=2026-11-25T20:12:04Z msg=convert: rates unavailable: Get \"https://127.0.0.1:32222/rates\": tls: failed to verify certificate"},
}

func TestApps_BlindLines(t *testing.T) { runAppCases(t, blindCases) }

// TestClassify_ServerSideTLSIsNoDependency: Go's server rejecting a client
// certificate names the client, not a dependency. The line's shape is
// net/http's (server.go: "http: TLS handshake error from %s: %v").
func TestClassify_ServerSideTLSIsNoDependency(t *testing.T) {
	class, dep := ClassifyUpstreamText("2026/11/25 20:12:04 http: TLS handshake error from 127.0.0.1:50412: " +
		"tls: failed to verify certificate: x509: certificate signed by unknown authority")
	if class == ClassDependencyRefused || dep != "" {
		t.Errorf("class %s dependency %q, want no dependency failure", class, dep)
	}
}

// TestUpstreamStderr_RealLines: nginx relays PHP's warning (php-fastcgi-
// stderr-refused); the relayed words classify as PHP's own log line would.
func TestUpstreamStderr_RealLines(t *testing.T) {
	groups := readGroups(t, "apps-blind/nginx-fastcgi-stderr.log")
	cases := []struct {
		match string
		ok    bool
		class Class
		dep   string
	}{
		{"Connection refused", true, ClassDependencyRefused, "127.0.0.1:32112"},
		{"Primary script unknown", true, ClassOther, ""},
	}
	p, err := New(Options{Source: SourceNginxError})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		line := findGroup(groups, c.match)
		if line == nil {
			t.Fatalf("no line with %q", c.match)
		}
		var ev Event
		p.Parse(line, &ev)
		text, ok := UpstreamStderr(ev.Message)
		if ok != c.ok {
			t.Fatalf("%s: ok %v", c.match, ok)
		}
		class, dep := ClassifyUpstreamText(text)
		if class != c.class || dep != c.dep {
			t.Errorf("%s: %q -> %s %q, want %s %q", c.match, text, class, dep, c.class, c.dep)
		}
	}
	if _, ok := UpstreamStderr("upstream prematurely closed connection while reading response header from upstream"); ok {
		t.Error("a message nginx wrote itself is no relayed stderr")
	}
}

// TestDetect_AppLogLead: request lines an app server logs next to its errors
// (a level word first, or after its logger's stamp) are the app's; access
// lines whose format starts with a time or an address stay nginx's.
func TestDetect_AppLogLead(t *testing.T) {
	for _, c := range []struct {
		line string
		want Source
	}{
		{`INFO:     127.0.0.1:46506 - "GET /api/items HTTP/1.0" 200 OK`, SourceApp},
		{`2026-11-25 19:49:21,359 INFO aiohttp.access 127.0.0.1 "GET /session/ab12 HTTP/1.0" 200 160 0.012310`, SourceApp},
		{`127.0.0.1 - - [25/Nov/2026:19:49:21 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/7.88.1"`, SourceNginxAccess},
		{`2026-11-25T19:49:21+00:00 127.0.0.1 "GET / HTTP/1.1" 200 612 0.004`, SourceNginxAccess},
	} {
		if got := detect([]byte(c.line), ""); got != c.want {
			t.Errorf("%q: %s, want %s", c.line, got, c.want)
		}
	}
}

// PHP's session module names its save handler's path: a network store's
// address is a dependency, a files handler's directory is not.
func TestClassifyUpstreamText_PHPSessionStore(t *testing.T) {
	for _, tc := range []struct {
		text  string
		class Class
		dep   string
	}{
		{"PHP message: PHP Fatal error:  Uncaught Error: Failed to create session ID: memcached (path: 127.0.0.1:39042) in /srv/account.php:3", ClassDependencyRefused, "127.0.0.1:39042"},
		{"PHP Warning:  session_start(): Failed to read session data: redis (path: tcp://10.0.0.7:6379?auth=x) in /srv/a.php on line 2", ClassDependencyRefused, "10.0.0.7:6379"},
		// php-src ext/session/tests/016.phpt: a files handler with a bad directory.
		{"Warning: session_start(): Failed to read session data: files (path: /var/lib/php/sessions) in /srv/a.php on line 4", ClassOther, ""},
	} {
		if class, dep := ClassifyUpstreamText(tc.text); class != tc.class || dep != tc.dep {
			t.Errorf("%q: %s (%q), want %s (%q)", tc.text, class, dep, tc.class, tc.dep)
		}
	}
}

// HAProxy between the proxy and the app: its health checks marking the
// server DOWN and the backend left without servers are the proxy chain's
// next hop down (real lines, apps-blind/haproxy-health.log), not a
// dependency of an application; its UP line and request lines are neither.
func TestClassify_HAProxyHealth(t *testing.T) {
	groups := readGroups(t, "apps-blind/haproxy-health.log")
	want := []Class{ClassUpstreamRefused, ClassUpstreamRefused, ClassNoLiveUpstreams, ClassNoLiveUpstreams,
		ClassOther, ClassOther, ClassOther, ClassOther}
	if len(groups) != len(want) {
		t.Fatalf("%d lines, want %d", len(groups), len(want))
	}
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range groups {
		var ev Event
		p.Parse(g, &ev)
		if ev.Kind != KindUpstreamEvent || ev.Class != want[i] || ev.Dependency != "" {
			t.Errorf("%q: %s %s dep %q, want upstream_event %s", g, ev.Kind, ev.Class, ev.Dependency, want[i])
		}
	}
}
