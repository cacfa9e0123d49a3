package parser

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/New_York must resolve on machines without zoneinfo
)

// nginxRealLine is one row of testdata/nginx_error/{real,cited}.tsv.
type nginxRealLine struct {
	class  Class
	source string // the run.sh scenario or the bug report URL
	line   string
}

func readNginxTSV(t testing.TB, name string) []nginxRealLine {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "nginx_error", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []nginxRealLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if sc.Text() == "" || strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		parts := strings.SplitN(sc.Text(), "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("%s: malformed row %q", name, sc.Text())
		}
		rows = append(rows, nginxRealLine{Class(parts[0]), parts[1], parts[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func newNginxErrorParser(t testing.TB, loc *time.Location) *Parser {
	t.Helper()
	p, err := New(Options{Source: SourceNginxError, Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// rebuildNginxTail writes the trailing fields back the way nginx's log
// handler does, for the fields the line carried.
func rebuildNginxTail(ev *Event, line string) string {
	if ev.Client == "" {
		return ""
	}
	var b strings.Builder
	udp := ""
	if strings.Contains(line, ", udp client: ") {
		udp = "udp "
	}
	fmt.Fprintf(&b, ", %sclient: %s, server: %s", udp, ev.Client, ev.Server)
	if ev.Request != "" {
		fmt.Fprintf(&b, `, request: "%s"`, ev.Request)
	}
	if strings.Contains(line, `, upstream: "`) {
		fmt.Fprintf(&b, `, upstream: "%s"`, ev.Upstream)
	}
	if ev.Host != "" {
		fmt.Fprintf(&b, `, host: "%s"`, ev.Host)
	}
	if ev.Referrer != "" {
		fmt.Fprintf(&b, `, referrer: "%s"`, ev.Referrer)
	}
	return b.String()
}

// TestNginxError_RealLines parses every captured and cited line: each must
// get the class of the failure that produced it, and its pieces put back
// together must give the line again, so no field swallowed or lost a part.
func TestNginxError_RealLines(t *testing.T) {
	rows := append(readNginxTSV(t, "real.tsv"), readNginxTSV(t, "cited.tsv")...)
	p := newNginxErrorParser(t, time.UTC)
	perClass := map[Class]int{}
	for i, r := range rows {
		t.Run(fmt.Sprintf("%03d_%s", i, r.class), func(t *testing.T) {
			var ev Event
			p.Parse([]byte(r.line), &ev)
			if ev.Kind != KindProxyError {
				t.Fatalf("kind %q (%s), want proxy_error\n%s", ev.Kind, ev.Reason, r.line)
			}
			if ev.Class != r.class {
				t.Errorf("class %q, want %q (%s)\n%s", ev.Class, r.class, r.source, r.line)
			}
			if ev.Source != SourceNginxError || ev.Level == "" || ev.PID <= 0 || ev.Message == "" {
				t.Errorf("source %q level %q pid %d message %q", ev.Source, ev.Level, ev.PID, ev.Message)
			}
			want, _ := time.Parse("2006/01/02 15:04:05", r.line[:19])
			if !ev.Time.Equal(want) || ev.Time.Location() != time.UTC {
				t.Errorf("time %v, want %v UTC", ev.Time, want)
			}
			head := fmt.Sprintf("%s [%s] %d#%d: ", r.line[:19], ev.Level, ev.PID, ev.TID)
			if ev.CID != 0 {
				head += fmt.Sprintf("*%d ", ev.CID)
			}
			got := head + ev.Message + rebuildNginxTail(&ev, r.line)
			if got != r.line && !strings.HasPrefix(r.line, got+", bytes from/to client:") {
				t.Errorf("fields do not rebuild the line\n got %s\nwant %s", got, r.line)
			}
			if strings.Contains(ev.Message, "(") && ev.Errno == 0 && ev.Class != ClassUpstreamDNS &&
				strings.Contains(ev.Message, ": ") && strings.Contains(ev.Message, ") ") {
				// A "(N: text)" in the message that was not read as errno.
				for _, c := range []string{"(2: ", "(11: ", "(24: ", "(32: ", "(98: ", "(104: ", "(110: ", "(111: ", "(113: "} {
					if strings.Contains(ev.Message, c) {
						t.Errorf("errno %s not extracted from %q", c, ev.Message)
					}
				}
			}
		})
		perClass[r.class]++
	}
	// DESIGN.md's proxy_error taxonomy: every class has at least two real lines.
	for _, c := range []Class{ClassUpstreamRefused, ClassUpstreamSocketMissing, ClassUpstreamOverloaded,
		ClassUpstreamConnectTimeout, ClassUpstreamReadTimeout, ClassUpstreamSendTimeout,
		ClassUpstreamPrematureClose, ClassUpstreamReset, ClassUpstreamBrokenPipe, ClassUpstreamInvalid,
		ClassUpstreamHeaderTooBig, ClassNoLiveUpstreams, ClassUpstreamDNS, ClassUpstreamUnreachable,
		ClassUpstreamTLS, ClassRateLimited, ClassConnLimited, ClassProxyFDExhausted,
		ClassProxyWorkerConnections, ClassClientClosed, ClassOther} {
		if perClass[c] < 2 {
			t.Errorf("class %s has %d real example lines, want at least 2", c, perClass[c])
		}
	}
}

// TestNginxError_Fields spells out every field of chosen real lines.
func TestNginxError_Fields(t *testing.T) {
	rows := append(readNginxTSV(t, "real.tsv"), readNginxTSV(t, "cited.tsv")...)
	find := func(sub string) string {
		t.Helper()
		for _, r := range rows {
			if strings.Contains(r.line, sub) {
				return r.line
			}
		}
		t.Fatalf("no testdata line contains %q", sub)
		return ""
	}
	type want struct{ Event }
	cases := []struct {
		name string
		line string
		want want
	}{
		{"quotes and commas in request, referrer", find(`request: "GET /refused?a=1,b="2" HTTP/1.1"`), want{Event: Event{
			Class: ClassUpstreamRefused, Level: "error", PID: 31312, TID: 31312, CID: 3, Errno: 111, Client: "127.0.0.1", Server: "proxy.test",
			Request: `GET /refused?a=1,b="2" HTTP/1.1`, Upstream: `http://127.0.0.1:18199/refused?a=1,b="2"`,
			Host: "127.0.0.1:18100", Referrer: "http://ref.test/a,b",
			Message: "connect() failed (111: Connection refused) while connecting to upstream"}}},
		{"IPv6 client", find(`client: ::1, server: proxy.test, request: "GET /refused`), want{Event: Event{
			Class: ClassUpstreamRefused, Level: "error", PID: 31312, TID: 31312, CID: 5, Errno: 111, Client: "::1", Server: "proxy.test",
			Request: "GET /refused HTTP/1.1", Upstream: "http://127.0.0.1:18199/refused", Host: "[::1]:18100",
			Message: "connect() failed (111: Connection refused) while connecting to upstream"}}},
		{"IPv6 upstream", find(`upstream: "http://[::1]:18199/v6"`), want{Event: Event{
			Class: ClassUpstreamRefused, Level: "error", PID: 31312, TID: 31312, CID: 7, Errno: 111, Client: "127.0.0.1", Server: "proxy.test",
			Request: "GET /v6 HTTP/1.1", Upstream: "http://[::1]:18199/v6", Host: "127.0.0.1:18100",
			Message: "connect() failed (111: Connection refused) while connecting to upstream"}}},
		{"stream line without request", find(`server: 127.0.0.1:18103, upstream: "unix:`), want{Event: Event{
			Class: ClassUpstreamSocketMissing, Level: "crit", Errno: 2, Client: "127.0.0.1", Server: "127.0.0.1:18103"}}},
		{"empty server name", find(`socket() failed (24: Too many open files) while connecting to upstream`), want{Event: Event{
			Class: ClassProxyFDExhausted, Level: "alert", PID: 31328, TID: 31328, CID: 1, Errno: 24, Client: "127.0.0.1", Server: "",
			Request: "GET /f HTTP/1.1", Upstream: "http://127.0.0.1:18150/sleepf", Host: "127.0.0.1:18120",
			Message: "socket() failed (24: Too many open files) while connecting to upstream"}}},
		{"no cid", find(`accept4() failed (24: Too many open files)`), want{Event: Event{
			Class: ClassProxyFDExhausted, Level: "crit", PID: 31328, TID: 31328, Errno: 24, Message: "accept4() failed (24: Too many open files)"}}},
		{"startup bind failure", find(`bind() to 127.0.0.1:18100 failed (98: Address already in use)`), want{Event: Event{
			Class: ClassOther, Level: "emerg", PID: 31373, TID: 31373, Errno: 98, Message: "bind() to 127.0.0.1:18100 failed (98: Address already in use)"}}},
		{"resolver rcode is not an errno", find(`api.slow.test could not be resolved (110: Operation timed out)`), want{Event: Event{
			Class: ClassUpstreamDNS, Level: "error", PID: 31312, TID: 31312, CID: 75, Errno: 0, Client: "127.0.0.1", Server: "proxy.test",
			Request: "GET /dns-slow HTTP/1.1", Upstream: "api.slow.test", Host: "127.0.0.1:18100",
			Message: "api.slow.test could not be resolved (110: Operation timed out)"}}},
		{"host not found at config time", find(`host not found in upstream "backend.nx.test"`), want{Event: Event{
			Class: ClassUpstreamDNS, Level: "emerg", Upstream: "backend.nx.test"}}},
		{"limit_req zone", find(`limiting requests, excess: 1.000 by zone "perip"`), want{Event: Event{
			Class: ClassRateLimited, Level: "error", PID: 31312, TID: 31312, CID: 83, Zone: "perip", Client: "127.0.0.1", Server: "proxy.test",
			Request: "GET /limited/2 HTTP/1.1", Host: "127.0.0.1:18100", Message: `limiting requests, excess: 1.000 by zone "perip"`}}},
		{"limit_req delay", find(`delaying request, excess:`), want{Event: Event{Class: ClassRateLimited, Level: "warn", Zone: "burst"}}},
		{"limit_conn zone", find(`limiting connections by zone "addr"`), want{Event: Event{
			Class: ClassConnLimited, Level: "error", PID: 31312, TID: 31312, CID: 101, Zone: "addr", Client: "127.0.0.1",
			Server: "proxy.test", Request: "GET /connlimit HTTP/1.1", Host: "127.0.0.1:18100",
			Message: `limiting connections by zone "addr"`}}},
		{"unix socket EAGAIN", find(`full.sock failed (11: Resource temporarily unavailable)`), want{Event: Event{
			Class: ClassUpstreamOverloaded, Level: "error", Errno: 11}}},
		{"windows errno", find(`(10061: No connection could be made`), want{Event: Event{
			Class: ClassUpstreamRefused, Level: "error", PID: 10916, TID: 8776, CID: 19, Errno: 10061,
			Client: "127.0.0.1", Server: "localhost", Request: "GET / HTTP/1.1", Upstream: "fastcgi://127.0.0.1:9010",
			Host: "localhost"}}},
		{"tls", find(`wrong version number) while SSL handshaking to upstream`), want{Event: Event{Class: ClassUpstreamTLS, Level: "error"}}},
		{"client reset during response", find(`client prematurely closed connection (104: Connection reset by peer) while sending to client`), want{Event: Event{
			Class: ClassClientClosed, Level: "info", Errno: 104, Upstream: "http://127.0.0.1:18150/big/file"}}},
		{"stream idle timeout is not an upstream fault", find(`connection timed out (110: Connection timed out) while proxying connection`), want{Event: Event{
			Class: ClassOther, Level: "info", Errno: 110, Client: "127.0.0.1", Server: "127.0.0.1:18102", Upstream: "127.0.0.1:18156"}}},
	}
	p := newNginxErrorParser(t, time.UTC)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ev Event
			p.Parse([]byte(c.line), &ev)
			w := c.want
			// A case with a Message spells out every field; the others
			// name only the fields they are about.
			full := w.Message != ""
			check := func(field string, got, want any, zero bool) {
				t.Helper()
				if (full || !zero) && got != want {
					t.Errorf("%s = %#v, want %#v", field, got, want)
				}
			}
			check("Kind", ev.Kind, KindProxyError, false)
			check("Class", ev.Class, w.Class, false)
			check("Level", ev.Level, w.Level, false)
			check("Errno", ev.Errno, w.Errno, w.Errno == 0)
			check("Zone", ev.Zone, w.Zone, w.Zone == "")
			check("Client", ev.Client, w.Client, w.Client == "")
			check("Server", ev.Server, w.Server, w.Client == "")
			check("Request", ev.Request, w.Request, w.Request == "")
			check("Upstream", ev.Upstream, w.Upstream, w.Upstream == "")
			check("Host", ev.Host, w.Host, w.Host == "")
			check("Referrer", ev.Referrer, w.Referrer, w.Referrer == "")
			check("Message", ev.Message, w.Message, w.Message == "")
			check("PID", ev.PID, w.PID, w.PID == 0)
			check("TID", ev.TID, w.TID, w.TID == 0)
			check("CID", ev.CID, w.CID, w.CID == 0)
			_, after, _ := strings.Cut(c.line, "#")
			_, after, _ = strings.Cut(after, ": ")
			if want := strings.HasPrefix(after, "*"); want != (ev.CID != 0) {
				t.Errorf("CID %d, line has *cid: %v", ev.CID, want)
			}
		})
	}
}

// TestNginxError_Location: the error log's time is local to the host and
// carries no zone; the configured zone turns it into UTC, across DST.
func TestNginxError_Location(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	p := newNginxErrorParser(t, ny)
	for _, c := range []struct{ line, want string }{
		{`2026/11/25 16:39:12 [error] 23056#23056: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: proxy.test, request: "GET /refused HTTP/1.1", upstream: "http://127.0.0.1:18199/refused", host: "127.0.0.1:18100"`, "2026-11-25T21:39:12Z"},
		{`2026/07/06 15:03:34 [alert] 2130#2130: 512 worker_connections are not enough`, "2026-07-06T19:03:34Z"},
		{`2026/12/31 23:59:59 [notice] 1#1: exit`, "2027-01-01T04:59:59Z"},
	} {
		var ev Event
		p.Parse([]byte(c.line), &ev)
		if got := ev.Time.Format(time.RFC3339); got != c.want || ev.Time.Location() != time.UTC {
			t.Errorf("%s: time %s (%v), want %s", c.line[:19], got, ev.Time.Location(), c.want)
		}
	}
}

// TestNginxError_Shapes covers what real logs contain beyond the captures,
// in the shapes nginx's source writes them: other systems' errno numbers,
// client-side failures that must not blame the upstream, the resolver's own
// tail, user data that imitates fields, truncation, wrapping whitespace.
func TestNginxError_Shapes(t *testing.T) {
	const ts = "2026/11/25 10:00:00 "
	cases := []struct {
		name, line string
		class      Class
		check      func(t *testing.T, ev *Event)
	}{
		{"FreeBSD ECONNREFUSED 61", ts + `[error] 7#100: *3 connect() failed (61: Connection refused) while connecting to upstream, client: 10.0.0.1, server: a, request: "GET / HTTP/1.1", upstream: "http://10.0.0.2:80/", host: "a"`, ClassUpstreamRefused, nil},
		{"musl wording of ETIMEDOUT", ts + `[error] 7#7: *3 upstream timed out (110: Operation timed out) while reading response header from upstream, client: 10.0.0.1, server: a, request: "GET / HTTP/1.1", upstream: "http://10.0.0.2:80/", host: "a"`, ClassUpstreamReadTimeout, nil},
		{"unknown number, known text", ts + `[error] 7#7: *3 connect() failed (146: Connection refused) while connecting to upstream, client: 10.0.0.1, server: a, upstream: "10.0.0.2:80"`, ClassUpstreamRefused, nil},
		{"client reset while reading its headers", ts + `[info] 7#7: *3 recv() failed (104: Connection reset by peer) while reading client request headers, client: 10.0.0.1, server: 0.0.0.0:80`, ClassClientClosed, nil},
		{"client broken pipe", ts + `[info] 7#7: *3 sendfile() failed (32: Broken pipe) while sending response to client, client: 10.0.0.1, server: a, request: "GET /big HTTP/1.1", host: "a"`, ClassClientClosed, nil},
		{"upstream broken pipe", ts + `[error] 7#7: *3 writev() failed (32: Broken pipe) while sending request to upstream, client: 10.0.0.1, server: a, request: "POST /up HTTP/1.1", upstream: "http://10.0.0.2:80/up", host: "a"`, ClassUpstreamBrokenPipe, nil},
		{"client-side TLS is not upstream TLS", ts + `[info] 7#7: *3 SSL_do_handshake() failed (SSL: error:0A000076:SSL routines::no suitable signature algorithm) while SSL handshaking, client: 10.0.0.1, server: 0.0.0.0:443`, ClassOther, nil},
		{"SELinux denial is not a network failure", ts + `[crit] 7#7: *3 connect() to 127.0.0.1:8080 failed (13: Permission denied) while connecting to upstream, client: 10.0.0.1, server: a, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:8080/", host: "a"`, ClassOther, nil},
		{"resolver refused is DNS", ts + `[error] 7#7: recv() failed (111: Connection refused) while resolving, resolver: 127.0.0.1:53`, ClassUpstreamDNS,
			func(t *testing.T, ev *Event) {
				if ev.Upstream != "127.0.0.1:53" || ev.Message != "recv() failed (111: Connection refused) while resolving" {
					t.Errorf("upstream %q message %q", ev.Upstream, ev.Message)
				}
			}},
		{"udp stream client", ts + `[error] 7#7: *3 upstream timed out (110: Connection timed out) while proxying connection, udp client: 10.0.0.1, server: 0.0.0.0:53, upstream: "10.0.0.2:53", bytes from/to client:40/0, bytes from/to upstream:0/40`, ClassUpstreamReadTimeout,
			func(t *testing.T, ev *Event) {
				if ev.Client != "10.0.0.1" || ev.Server != "0.0.0.0:53" || ev.Upstream != "10.0.0.2:53" {
					t.Errorf("client %q server %q upstream %q", ev.Client, ev.Server, ev.Upstream)
				}
			}},
		{"request imitating later fields", ts + `[error] 7#7: *3 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: a, request: "GET /x", host: "evil HTTP/1.1", upstream: "http://10.0.0.2:80/x", host: "real.test"`, ClassUpstreamRefused,
			func(t *testing.T, ev *Event) {
				if ev.Request != `GET /x", host: "evil HTTP/1.1` || ev.Host != "real.test" || ev.Upstream != "http://10.0.0.2:80/x" {
					t.Errorf("request %q host %q upstream %q", ev.Request, ev.Host, ev.Upstream)
				}
			}},
		{"message imitating the tail", ts + `[error] 7#7: *3 open() "/srv/a, client: x, server: y" failed (2: No such file or directory), client: 10.0.0.1, server: a, request: "GET /a,%20client:%20x,%20server:%20y HTTP/1.1", host: "a"`, ClassOther,
			func(t *testing.T, ev *Event) {
				if ev.Client != "10.0.0.1" || ev.Errno != 2 || ev.Message != `open() "/srv/a, client: x, server: y" failed (2: No such file or directory)` {
					t.Errorf("client %q errno %d message %q", ev.Client, ev.Errno, ev.Message)
				}
			}},
		{"truncated at 2048 bytes", ts + `[error] 7#7: *3 upstream prematurely closed connection while reading response header from upstream, client: 10.0.0.1, server: a, request: "GET /` + strings.Repeat("q", 1900), ClassUpstreamPrematureClose,
			func(t *testing.T, ev *Event) {
				if !strings.HasPrefix(ev.Request, "GET /qqq") || ev.Client != "10.0.0.1" {
					t.Errorf("request %.20q client %q", ev.Request, ev.Client)
				}
			}},
		{"CRLF and indentation", "  " + ts + `[error] 7#7: *3 no live upstreams while connecting to upstream, client: 10.0.0.1, server: a, request: "GET / HTTP/1.1", upstream: "http://app/", host: "a"` + "\r", ClassNoLiveUpstreams,
			func(t *testing.T, ev *Event) {
				if ev.Host != "a" || ev.Upstream != "http://app/" {
					t.Errorf("host %q upstream %q", ev.Host, ev.Upstream)
				}
			}},
		{"subrequest", ts + `[error] 7#7: *3 upstream timed out (110: Connection timed out) while connecting to upstream, client: 10.0.0.1, server: a, request: "GET / HTTP/1.1", subrequest: "/auth", upstream: "http://10.0.0.9:80/auth", host: "a"`, ClassUpstreamConnectTimeout,
			func(t *testing.T, ev *Event) {
				if ev.Upstream != "http://10.0.0.9:80/auth" || ev.Host != "a" {
					t.Errorf("upstream %q host %q", ev.Upstream, ev.Host)
				}
			}},
		// Captured here by an earlier run.sh whose plain-HTTP backend waited
		// for a request end that a ClientHello never sends.
		{"handshake timeout is TLS", `2026/11/25 16:39:42 [error] 23056#23056: *67 upstream timed out (110: Connection timed out) while SSL handshaking to upstream, client: 127.0.0.1, server: proxy.test, request: "GET /tls/a HTTP/1.1", upstream: "https://127.0.0.1:18150/tls/a", host: "127.0.0.1:18100"`, ClassUpstreamTLS, nil},
		{"upstream SSL certificate", ts + `[error] 7#7: *3 upstream SSL certificate verify error: (10:certificate has expired) while SSL handshaking to upstream, client: 10.0.0.1, server: a, request: "GET / HTTP/1.1", upstream: "https://10.0.0.2:443/", host: "a"`, ClassUpstreamTLS,
			func(t *testing.T, ev *Event) {
				if ev.Errno != 0 {
					t.Errorf("errno %d from an OpenSSL verify code", ev.Errno)
				}
			}},
	}
	p := newNginxErrorParser(t, time.UTC)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ev Event
			p.Parse([]byte(c.line), &ev)
			if ev.Kind != KindProxyError {
				t.Fatalf("kind %q: %s", ev.Kind, ev.Reason)
			}
			if ev.Class != c.class {
				t.Errorf("class %q, want %q", ev.Class, c.class)
			}
			if c.check != nil {
				c.check(t, &ev)
			}
		})
	}
}

// TestNginxError_Junk: what is not an nginx error line is refused with a
// reason, never half-parsed.
func TestNginxError_Junk(t *testing.T) {
	p := newNginxErrorParser(t, time.UTC)
	for _, line := range []string{
		"",
		"hello",
		"2026/11/25 16:39:12",
		"2026/11/25 16:39:12 [error]",
		"2026/13/25 16:39:12 [error] 1#1: month 13",
		"2026/11/25 25:39:12 [error] 1#1: hour 25",
		"0001/01/01 00:00:00 [error] 0#0: 0", // found by FuzzNginxError: Go's zero time
		"2026/11/25 16:39:12 [fatal] 1#1: not a level",
		"2026/11/25 16:39:12 [error] x#1: no pid",
		"2026/11/25 16:39:12 [error] 12#: no tid",
		"2026-11-25 16:39:12 [error] 1#1: dashes",
		`127.0.0.1 - - [25/Nov/2026:16:39:12 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/7.88.1"`,
		"<3>1 2026-11-25T16:39:12Z host nginx 1 - - x",
	} {
		var ev Event
		if err := p.parseNginxError([]byte(line), &ev); err == nil {
			t.Errorf("%q parsed as %+v, want an error", line, ev)
		}
		ev.Reset()
		p.Parse([]byte(line), &ev)
		if ev.Kind != KindUnparsed || ev.Reason == "" || ev.Line != line {
			t.Errorf("%q: kind %q reason %q line %q, want unparsed with a reason", line, ev.Kind, ev.Reason, ev.Line)
		}
	}
}

// TestNginxError_Hostile: a line near the 1 MiB limit made of fake fields
// and quotes must still parse in linear time (a quadratic search takes
// minutes here).
func TestNginxError_Hostile(t *testing.T) {
	p := newNginxErrorParser(t, time.UTC)
	for _, unit := range []string{`, client: a`, `, client: a, server: b, request: "x`, `"`, `", host: "`, `(1: `, ` HTTP/1.1"`} {
		line := []byte("2026/11/25 16:39:12 [error] 1#1: *1 x" + strings.Repeat(unit, (MaxLineBytes-100)/len(unit)))
		start := time.Now()
		var ev Event
		p.Parse(line, &ev)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q repeated: %v", unit, d)
		}
		if ev.Kind != KindProxyError {
			t.Errorf("%q repeated: kind %q (%s)", unit, ev.Kind, ev.Reason)
		}
	}
}

func TestLooksLikeNginxError(t *testing.T) {
	for _, r := range append(readNginxTSV(t, "real.tsv"), readNginxTSV(t, "cited.tsv")...) {
		if !looksLikeNginxError([]byte(r.line)) {
			t.Errorf("not recognised: %s", r.line)
		}
	}
	for _, line := range []string{
		"",
		`127.0.0.1 - - [25/Nov/2026:16:39:12 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/7.88.1"`,
		"2026/11/25 16:39:12 some app message",
		"2026/11/25 16:39:12 [ERROR] shouting app",
		"6,1234,5678901,-;Out of memory: Killed process 42 (node)",
		"[2026-11-25 16:39:12 +0000] [42] [CRITICAL] WORKER TIMEOUT (pid:43)",
		"2026/11/25 16:39:12 [error",
		"2026/11/25 16:39:12 [info] app listening on :8080",
		"2026/11/25 16:39:12 [error] 12345",
	} {
		if looksLikeNginxError([]byte(line)) {
			t.Errorf("wrongly recognised: %q", line)
		}
	}
}

// TestNginxError_NoAllocs: the fields alias the line; parsing allocates
// nothing in steady state.
func TestNginxError_NoAllocs(t *testing.T) {
	rows := readNginxTSV(t, "real.tsv")
	p := newNginxErrorParser(t, time.UTC)
	var ev Event
	for _, r := range rows {
		line := []byte(r.line)
		if n := testing.AllocsPerRun(50, func() {
			ev.Reset()
			if err := p.parseNginxError(line, &ev); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%.1f allocs for %s", n, r.line)
		}
	}
}

func FuzzNginxError(f *testing.F) {
	for _, name := range []string{"real.tsv", "cited.tsv"} {
		for _, r := range readNginxTSV(f, name) {
			f.Add([]byte(r.line))
		}
	}
	f.Add([]byte("2026/11/25 16:39:12 [error] 1#1: *1 x, client: , server: , request: \""))
	f.Add([]byte("2026/11/25 16:39:12 [error] 1#1: *1 (9999999999999999999999: x) while , client: a, server: b, upstream: \"\""))
	f.Add([]byte("2026/11/25 16:39:12 [error] 1#1: *18446744073709551616 ("))
	f.Add([]byte{0xff, 0xfe, 0})
	p, err := New(Options{Source: SourceNginxError})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var ev Event
		ev.Reset()
		if err := p.parseNginxError(line, &ev); err != nil {
			if ev.Kind != "" {
				t.Fatalf("error %v but kind %q set", err, ev.Kind)
			}
		} else {
			if ev.Kind != KindProxyError || ev.Class == "" || ev.Time.IsZero() {
				t.Fatalf("parsed without kind/class/time: %+v", ev)
			}
			s := string(line)
			for _, f := range []string{ev.Message, ev.Client, ev.Server, ev.Request, ev.Upstream, ev.Host, ev.Referrer, ev.Zone} {
				if !strings.Contains(s, f) {
					t.Fatalf("field %q is not part of the line", f)
				}
			}
		}
		ev.Reset()
		p.Parse(line, &ev) // the public path must not panic either
		if ev.Kind == "" {
			t.Fatal("Parse left no kind")
		}
	})
}

// TestNginxError_Wrapped: real lines as users paste them, wrapped by a
// compose tool, a container runtime, syslog or kubectl, detected per line.
func TestNginxError_Wrapped(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readNginxTSV(t, "wrapped.tsv") {
		var ev Event
		p.Parse([]byte(r.line), &ev)
		if ev.Source != SourceNginxError || ev.Kind != KindProxyError || ev.Class != r.class {
			t.Errorf("source %q kind %q class %q (%s), want nginx_error %s\n%s", ev.Source, ev.Kind, ev.Class, ev.Reason, r.class, r.line)
			continue
		}
		i := 0 // the nginx stamp inside the wrapper
		for i < len(r.line) && !looksLikeNginxError([]byte(r.line[i:])) {
			i++
		}
		want, err := time.Parse("2006/01/02 15:04:05", r.line[i:min(i+19, len(r.line))])
		if err != nil {
			t.Fatal(err)
		}
		if !ev.Time.Equal(want) {
			t.Errorf("time %v, want %v (the nginx stamp, not the wrapper's)\n%s", ev.Time, want, r.line)
		}
	}
}

// TestNginxError_MultiLine: nginx copies a FastCGI backend's stderr into the
// message verbatim, newlines included, so one entry spans several physical
// lines (multiline.log, php-fpm behind run.sh's nginx). Grouped the way the
// parser's contract says (lines joined by '\n'), it is one event with its
// trailing fields read from the last physical line.
func TestNginxError_MultiLine(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "nginx_error", "multiline.log"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if looksLikeNginxError([]byte(l)) || len(entries) == 0 {
			entries = append(entries, l)
		} else {
			entries[len(entries)-1] += "\n" + l
		}
	}
	if len(entries) != 2 {
		t.Fatalf("%d entries, want the FastCGI one and a keep-alive close", len(entries))
	}
	p := newNginxErrorParser(t, time.UTC)
	var ev Event
	p.Parse([]byte(entries[0]), &ev)
	if ev.Kind != KindProxyError || ev.Class != ClassOther {
		t.Fatalf("kind %q class %q (%s)", ev.Kind, ev.Class, ev.Reason)
	}
	if !strings.HasPrefix(ev.Message, `FastCGI sent in stderr: "PHP message: PHP Fatal error:`) ||
		!strings.Contains(ev.Message, "\nStack trace:\n#0 {main}\n") ||
		!strings.HasSuffix(ev.Message, `on line 1" while reading response header from upstream`) {
		t.Errorf("message %q", ev.Message)
	}
	if ev.Client != "127.0.0.1" || ev.Request != "GET /fpm/fatal.php HTTP/1.1" || ev.Host != "127.0.0.1:18100" ||
		!strings.HasPrefix(ev.Upstream, "fastcgi://unix:/") || ev.CID != 114 {
		t.Errorf("client %q request %q host %q upstream %q cid %d", ev.Client, ev.Request, ev.Host, ev.Upstream, ev.CID)
	}
}

// TestNginxError_Syslog: nginx's own syslog output (syslog.log), detected
// per line under its RFC 3164 header, keeps nginx's time and the host.
func TestNginxError_Syslog(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "nginx_error", "syslog.log"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	classes := map[Class]int{}
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.Contains(l, "  nginx: ") {
			continue // empty hostname: the envelope's concern, see the README
		}
		var ev Event
		p.Parse([]byte(l), &ev)
		if ev.Source != SourceNginxError || ev.Kind != KindProxyError || ev.Hostname != "vm" {
			t.Errorf("source %q kind %q host %q (%s)\n%s", ev.Source, ev.Kind, ev.Hostname, ev.Reason, l)
		}
		classes[ev.Class]++
	}
	if classes[ClassUpstreamRefused] != 1 || classes[ClassOther] != 3 {
		t.Errorf("classes %v, want one refused and three other", classes)
	}
}
