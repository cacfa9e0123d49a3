package parser

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The samples in testdata/nginx_access were written by a real nginx 1.22
// (scripts/corpus/samples.sh): the same requests, in the same order, logged
// in five log_formats. accessSamples is the ground truth of those requests,
// known because samples.sh sent them to upstreams it had broken on purpose.
type accessWant struct {
	uri, method, proto string
	request            string // checked when set (requests without a method)
	status             int    // 0: timing-dependent, not checked
	body               int64  // checked when >= 0
	referer, ua        string // checked when not "?"
	addr               []string
	ustatus            []int
	uct, uht           string // per upstream: "-" nginx wrote "-", "x" a time; "" not checked
}

func accessSamples() []accessWant {
	none := []string{}
	const curl = "curl/7.88.1"
	return []accessWant{
		{uri: "/ok/first?x=1", method: "GET", proto: "HTTP/1.1", status: 200, body: 3, referer: "http://127.0.0.1:18000/static/",
			ua:   "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
			addr: []string{"127.0.0.1:18001"}, ustatus: []int{200}, uct: "x", uht: "x"},
		{uri: "/static/page.html", method: "GET", proto: "HTTP/1.1", status: 200, body: 2048, referer: "", ua: curl, addr: none},
		{uri: "/missing.html", method: "GET", proto: "HTTP/1.1", status: 404, body: 153, referer: "", ua: curl, addr: none},
		// The application answered 404/502/503 itself: upstream_header_time is set.
		{uri: "/ok/missing", method: "GET", proto: "HTTP/1.1", status: 404, body: -1, referer: "", ua: curl, addr: []string{"127.0.0.1:18001"}, ustatus: []int{404}, uht: "x"},
		{uri: "/ok/app502", method: "GET", proto: "HTTP/1.1", status: 502, body: -1, referer: "", ua: curl, addr: []string{"127.0.0.1:18001"}, ustatus: []int{502}, uct: "x", uht: "x"},
		{uri: "/ok/app503", method: "GET", proto: "HTTP/1.1", status: 503, body: -1, referer: "", ua: curl, addr: []string{"127.0.0.1:18001"}, ustatus: []int{503}, uct: "x", uht: "x"},
		// nginx could not talk to the upstream: no header time.
		{uri: "/refused", method: "GET", proto: "HTTP/1.1", status: 502, body: -1, referer: "?", ua: "?", addr: []string{"127.0.0.1:18009"}, ustatus: []int{502}, uct: "-", uht: "-"},
		{uri: "/closing", method: "GET", proto: "HTTP/1.1", status: 502, body: -1, referer: "?", ua: "?", addr: []string{"127.0.0.1:18002"}, ustatus: []int{502}, uct: "x", uht: "-"},
		{uri: "/slow/warm", method: "GET", proto: "HTTP/1.1", body: -1, referer: "?", ua: "?", addr: []string{"127.0.0.1:18003"}},
		{uri: "/slow/late", method: "GET", proto: "HTTP/1.1", status: 504, body: -1, referer: "?", ua: "?", addr: []string{"127.0.0.1:18003"}, ustatus: []int{504}, uct: "x", uht: "-"},
		// /mixed/a and /mixed/b: checked together in TestAccess_MixedUpstream.
		{uri: "/mixed/a", method: "GET", proto: "HTTP/1.1", status: 200, body: 3, referer: "?", ua: "?"},
		{uri: "/mixed/b", method: "GET", proto: "HTTP/1.1", status: 200, body: 3, referer: "?", ua: "?"},
		// error_page to a named location: two upstream groups.
		{uri: "/fallback", method: "GET", proto: "HTTP/1.1", status: 200, body: 3, referer: "?", ua: "?",
			addr: []string{"127.0.0.1:18009", "127.0.0.1:18001"}, ustatus: []int{502, 200}, uct: "-x", uht: "-x"},
		{uri: "/nolive/1", method: "GET", proto: "HTTP/1.1", status: 502, body: -1, referer: "?", ua: "?",
			addr: []string{"127.0.0.1:18009", "127.0.0.1:18008"}, ustatus: []int{502, 502}, uct: "--", uht: "--"},
		// Both servers marked failed: nginx logs the upstream block's name.
		{uri: "/nolive/2", method: "GET", proto: "HTTP/1.1", status: 502, body: -1, referer: "?", ua: "?", addr: []string{"deadpool"}, ustatus: []int{502}, uct: "-", uht: "-"},
		{uri: "/limited/1", method: "GET", proto: "HTTP/1.1", status: 200, body: 3, referer: "?", ua: "?", addr: []string{"127.0.0.1:18001"}, ustatus: []int{200}},
		{uri: "/limited/2", method: "GET", proto: "HTTP/1.1", status: 503, body: -1, referer: "?", ua: "?", addr: none},
		{uri: "/sock", method: "GET", proto: "HTTP/1.1", status: 502, body: -1, referer: "?", ua: "?", addr: []string{"unix:/tmp/culprit-samples/nope.sock"}, ustatus: []int{502}, uht: "-"},
		{uri: "/ok/post", method: "POST", proto: "HTTP/1.1", status: 200, body: 3, referer: "?", ua: "?", addr: []string{"127.0.0.1:18001"}},
		{uri: "/ok/head", method: "HEAD", proto: "HTTP/1.1", status: 200, body: 0, referer: "?", ua: "?"},
		{uri: "/ok/http10", method: "GET", proto: "HTTP/1.0", status: 200, body: 3, referer: "?", ua: "?"},
		// Quotes and backslashes in headers: \x22 and \x5C (escape=json: \" and \\).
		{uri: "/ok/quotes", method: "GET", proto: "HTTP/1.1", status: 200, body: 3, referer: `http://ref.test/?q="quoted"`, ua: `agent with "quotes" and \back\slash`},
		// Raw bytes in the request line, as the client sent them.
		{uri: "/q?a=\"x\"&b=\xff\xfe", method: "GET", proto: "HTTP/1.1", status: 404, body: 153, referer: "", ua: ""},
		{uri: "/café/€", method: "GET", proto: "HTTP/1.1", status: 404, body: 153, referer: "", ua: "tést"},
		{uri: "/tab\there", method: "GET", proto: "HTTP/1.1", status: 400, body: -1, referer: "", ua: ""},
		// HTTP/0.9: no protocol.
		{uri: "/", method: "GET", proto: "", body: -1, referer: "", ua: ""},
		// Not HTTP: nginx answers 400 and logs what it got.
		{request: "garbage", status: 400, body: -1, referer: "", ua: ""},
		{request: "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x9b\x1c \"tls\"", status: 400, body: -1, referer: "", ua: ""},
	}
}

type accessSample struct {
	name   string
	format string
	lines  [][]byte
}

func loadAccessSamples(t testing.TB) []accessSample {
	t.Helper()
	formats, err := filepath.Glob("testdata/nginx_access/*.format")
	if err != nil || len(formats) == 0 {
		t.Fatalf("no testdata/nginx_access/*.format (%v)", err)
	}
	var out []accessSample
	for _, fp := range formats {
		name := strings.TrimSuffix(filepath.Base(fp), ".format")
		fb, err := os.ReadFile(fp)
		if err != nil {
			t.Fatal(err)
		}
		lb, err := os.ReadFile(strings.TrimSuffix(fp, ".format") + ".log")
		if err != nil {
			t.Fatal(err)
		}
		s := accessSample{name: name, format: strings.TrimRight(string(fb), "\n")}
		for _, l := range bytes.Split(bytes.TrimRight(lb, "\n"), []byte("\n")) {
			s.lines = append(s.lines, l)
		}
		out = append(out, s)
	}
	return out
}

func mustCompile(t testing.TB, format string) *AccessFormat {
	t.Helper()
	f, err := CompileAccessFormat(format)
	if err != nil {
		t.Fatalf("CompileAccessFormat(%q): %v", format, err)
	}
	return f
}

func timesPattern(ts []float64) string {
	var b strings.Builder
	for _, x := range ts {
		if x == Absent {
			b.WriteByte('-')
		} else {
			b.WriteByte('x')
		}
	}
	return b.String()
}

func TestAccess_RealSamples(t *testing.T) {
	want := accessSamples()
	for _, s := range loadAccessSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			f := mustCompile(t, s.format)
			if len(s.lines) != len(want) {
				t.Fatalf("%d lines, want %d (regenerate with scripts/corpus/samples.sh)", len(s.lines), len(want))
			}
			hasUp := strings.Contains(s.format, "$upstream_addr")
			hasBody := strings.Contains(s.format, "$body_bytes_sent")
			hasUA := strings.Contains(s.format, "$http_user_agent")
			for i, w := range want {
				var ev Event
				if err := f.Parse(s.lines[i], time.UTC, &ev); err != nil {
					t.Errorf("line %d: %v\n%s", i+1, err, s.lines[i])
					continue
				}
				if ev.Kind != KindRequest || ev.Source != SourceNginxAccess {
					t.Errorf("line %d: kind %q source %q", i+1, ev.Kind, ev.Source)
				}
				if ev.URI != w.uri || ev.Method != w.method || ev.Protocol != w.proto {
					t.Errorf("line %d: method/uri/proto = %q %q %q, want %q %q %q", i+1, ev.Method, ev.URI, ev.Protocol, w.method, w.uri, w.proto)
				}
				if w.request != "" && ev.Request != w.request {
					t.Errorf("line %d: request %q, want %q", i+1, ev.Request, w.request)
				}
				if w.status != 0 && ev.Status != w.status {
					t.Errorf("line %d (%s): status %d, want %d", i+1, w.uri, ev.Status, w.status)
				}
				if ev.Client != "127.0.0.1" {
					t.Errorf("line %d: client %q", i+1, ev.Client)
				}
				if hasBody && w.body >= 0 && ev.BodyBytes != w.body {
					t.Errorf("line %d (%s): body %d, want %d", i+1, w.uri, ev.BodyBytes, w.body)
				}
				if hasUA && w.ua != "?" && ev.UserAgent != w.ua {
					t.Errorf("line %d: user agent %q, want %q", i+1, ev.UserAgent, w.ua)
				}
				if hasUA && w.referer != "?" && ev.Referer != w.referer {
					t.Errorf("line %d: referer %q, want %q", i+1, ev.Referer, w.referer)
				}
				if !hasUp {
					if len(ev.UpstreamAddr)+len(ev.UpstreamStatus)+len(ev.UpstreamHeaderTime) != 0 {
						t.Errorf("line %d: upstream fields from a format without them: %v %v", i+1, ev.UpstreamAddr, ev.UpstreamStatus)
					}
					continue
				}
				if w.addr != nil && !reflect.DeepEqual(append([]string{}, ev.UpstreamAddr...), w.addr) {
					t.Errorf("line %d (%s): upstream_addr %q, want %q", i+1, w.uri, ev.UpstreamAddr, w.addr)
				}
				if w.ustatus != nil && !reflect.DeepEqual(ev.UpstreamStatus, w.ustatus) {
					t.Errorf("line %d (%s): upstream_status %v, want %v", i+1, w.uri, ev.UpstreamStatus, w.ustatus)
				}
				if w.uct != "" && timesPattern(ev.UpstreamConnectTime) != w.uct {
					t.Errorf("line %d (%s): upstream_connect_time %v, want pattern %q", i+1, w.uri, ev.UpstreamConnectTime, w.uct)
				}
				if w.uht != "" && timesPattern(ev.UpstreamHeaderTime) != w.uht {
					t.Errorf("line %d (%s): upstream_header_time %v, want pattern %q", i+1, w.uri, ev.UpstreamHeaderTime, w.uht)
				}
				if n := len(ev.UpstreamAddr); len(ev.UpstreamStatus) != n || len(ev.UpstreamResponseTime) != n ||
					len(ev.UpstreamConnectTime) != n || len(ev.UpstreamHeaderTime) != n {
					t.Errorf("line %d: upstream lists not aligned: %q %v %v %v %v", i+1, ev.UpstreamAddr, ev.UpstreamStatus,
						ev.UpstreamConnectTime, ev.UpstreamHeaderTime, ev.UpstreamResponseTime)
				}
			}
		})
	}
}

// The one-pass readers of numbers and lists give what the generic path
// gives, on every real sample.
func TestAccess_FastPathsAgree(t *testing.T) {
	for _, s := range loadAccessSamples(t) {
		fast, slow := mustCompile(t, s.format), accessWithoutFastPaths(mustCompile(t, s.format))
		for i, l := range s.lines {
			var a, b Event
			if err := fast.Parse(l, time.UTC, &a); err != nil {
				t.Fatal(err)
			}
			if err := slow.Parse(l, time.UTC, &b); err != nil {
				t.Fatalf("%s line %d, generic path: %v", s.name, i+1, err)
			}
			if !reflect.DeepEqual(a.Clone(), b.Clone()) {
				t.Errorf("%s line %d:\nfast    %+v\ngeneric %+v", s.name, i+1, a, b)
			}
		}
	}
}

// The 504 from the slow backend took the front's 300 ms proxy_read_timeout.
func TestAccess_RequestTime(t *testing.T) {
	for _, s := range loadAccessSamples(t) {
		if !strings.Contains(s.format, "$request_time") {
			continue
		}
		var ev Event
		if err := mustCompile(t, s.format).Parse(s.lines[9], time.UTC, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.RequestTime < 0.3 || ev.RequestTime > 1 {
			t.Errorf("%s: request_time %v for the 504, want about 0.3 s", s.name, ev.RequestTime)
		}
		if len(ev.UpstreamResponseTime) == 1 && (ev.UpstreamResponseTime[0] < 0.3 || ev.UpstreamResponseTime[0] > 1) {
			t.Errorf("%s: upstream_response_time %v, want about 0.3 s", s.name, ev.UpstreamResponseTime)
		}
	}
}

// The dead server of the "mixed" upstream block has max_fails=0: round robin
// sends one of two requests to it first, then to the live one.
func TestAccess_MixedUpstream(t *testing.T) {
	for _, s := range loadAccessSamples(t) {
		if !strings.Contains(s.format, "$upstream_addr") {
			continue
		}
		f := mustCompile(t, s.format)
		var got [][]string
		for _, l := range s.lines[10:12] {
			var ev Event
			if err := f.Parse(l, time.UTC, &ev); err != nil {
				t.Fatal(err)
			}
			got = append(got, append([]string(nil), ev.UpstreamAddr...))
			if len(ev.UpstreamAddr) == 2 && !reflect.DeepEqual(ev.UpstreamStatus, []int{502, 200}) {
				t.Errorf("%s: statuses %v, want [502 200]", s.name, ev.UpstreamStatus)
			}
		}
		two := []string{"127.0.0.1:18009", "127.0.0.1:18001"}
		one := []string{"127.0.0.1:18001"}
		if !reflect.DeepEqual(got, [][]string{two, one}) && !reflect.DeepEqual(got, [][]string{one, two}) {
			t.Errorf("%s: upstream_addr of the two /mixed requests %q", s.name, got)
		}
	}
}

// Every format logged the same requests: what they have in common must
// agree, whatever the escaping and the time variable.
func TestAccess_FormatsAgree(t *testing.T) {
	samples := loadAccessSamples(t)
	parse := func(s accessSample, i int) Event {
		var ev Event
		if err := mustCompile(t, s.format).Parse(s.lines[i], time.UTC, &ev); err != nil {
			t.Fatalf("%s line %d: %v", s.name, i+1, err)
		}
		return ev.Clone()
	}
	ref := samples[0]
	for i := range ref.lines {
		a := parse(ref, i)
		for _, s := range samples[1:] {
			b := parse(s, i)
			if a.Request != b.Request || a.Status != b.Status || a.Client != b.Client {
				t.Errorf("line %d: %s says %q %d %q, %s says %q %d %q", i+1, ref.name, a.Request, a.Status, a.Client, s.name, b.Request, b.Status, b.Client)
			}
			if d := a.Time.Sub(b.Time); d < -time.Second || d > time.Second || a.Time.IsZero() {
				t.Errorf("line %d: %s time %v, %s time %v", i+1, ref.name, a.Time, s.name, b.Time)
			}
		}
	}
}

// Times read by hand equal what time.Parse reads from the same bytes.
func TestAccess_TimeOracle(t *testing.T) {
	for _, s := range loadAccessSamples(t) {
		f := mustCompile(t, s.format)
		for i, l := range s.lines {
			var ev Event
			if err := f.Parse(l, time.UTC, &ev); err != nil {
				t.Fatal(err)
			}
			var want time.Time
			var err error
			switch {
			case strings.Contains(s.format, "$msec"):
				fields := strings.Fields(string(l))
				ms := fields[len(fields)-2]
				sec, frac, _ := strings.Cut(ms, ".")
				n, _ := strconv.ParseInt(sec, 10, 64)
				m, _ := strconv.ParseInt(frac, 10, 64)
				want = time.Unix(n, m*1e6)
			case strings.Contains(s.format, "[$time_local]"):
				ts := string(l[bytes.IndexByte(l, '[')+1 : bytes.IndexByte(l, ']')])
				want, err = time.Parse("02/Jan/2006:15:04:05 -0700", ts)
			case strings.Contains(s.format, "[$time_iso8601]"):
				ts := string(l[bytes.IndexByte(l, '[')+1 : bytes.IndexByte(l, ']')])
				want, err = time.Parse(time.RFC3339, ts)
			case strings.Contains(s.format, `"time":"$time_iso8601"`):
				ts := string(l[len(`{"time":"`) : len(`{"time":"`)+25])
				want, err = time.Parse(time.RFC3339, ts)
			default:
				t.Fatalf("no time oracle for format %s", s.name)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !ev.Time.Equal(want) || ev.Time.Location() != time.UTC {
				t.Errorf("%s line %d: time %v, want %v", s.name, i+1, ev.Time, want.UTC())
			}
		}
	}
}

// The last time read is reused for the next line with the same bytes, but
// never across zones for a time written without an offset.
func TestAccess_TimeCacheAndZone(t *testing.T) {
	f := mustCompile(t, "[$time_iso8601] $status")
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	line := []byte("[2026-11-25T16:42:20] 200")
	var a, b Event
	if err := f.Parse(line, time.UTC, &a); err != nil {
		t.Fatal(err)
	}
	if err := f.Parse(line, ny, &b); err != nil {
		t.Fatal(err)
	}
	if !a.Time.Equal(time.Date(2026, 11, 25, 16, 42, 20, 0, time.UTC)) || b.Time.Sub(a.Time) != 5*time.Hour {
		t.Errorf("UTC %v, New York %v", a.Time, b.Time)
	}
	var c Event
	if err := f.Parse([]byte("[2026-11-25T16:42:20-05:00] 200"), time.UTC, &c); err != nil || !c.Time.Equal(b.Time) {
		t.Errorf("with offset: %v %v", c.Time, err)
	}
}

// $msec (milliseconds) wins over $time_local, before or after it.
func TestAccess_MsecWins(t *testing.T) {
	want := time.UnixMilli(1795624940549).UTC()
	for _, format := range []string{"$msec [$time_local] $status", "[$time_local] $status $msec"} {
		line := strings.NewReplacer("$msec", "1795624940.549", "$time_local", "25/Nov/2026:16:42:20 +0000", "$status", "200").Replace(format)
		var ev Event
		if err := mustCompile(t, format).Parse([]byte(line), time.UTC, &ev); err != nil || !ev.Time.Equal(want) {
			t.Errorf("%s: %v %v, want %v", format, ev.Time, err, want)
		}
	}
}

func TestAccessTime_RandomOracle(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		zone := time.FixedZone("", (r.Intn(28*4)-14*4)*900)
		tm := time.Unix(r.Int63n(4e9), int64(r.Intn(1000))*1e6).In(zone)
		local := tm.Format("02/Jan/2006:15:04:05 -0700")
		got, ok := accessTimeLocal([]byte(local))
		if !ok || !got.Equal(tm.Truncate(time.Second)) {
			t.Fatalf("accessTimeLocal(%q) = %v %v, want %v", local, got, ok, tm.Truncate(time.Second))
		}
		iso := tm.Format("2006-01-02T15:04:05.000Z07:00")
		got, ok = accessTimeISO([]byte(iso), time.UTC)
		if !ok || !got.Equal(tm) {
			t.Fatalf("accessTimeISO(%q) = %v %v, want %v", iso, got, ok, tm)
		}
	}
	for _, bad := range []string{"31/Feb/2026:10:00:00 +0000", "25/Nox/2026:10:00:00 +0000", "25/Nov/2026:24:00:00 +0000",
		"25/Nov/2026:10:00:00 +2500", "25/Nov/2026 10:00:00 +0000", "25/Nov/2026:10:00:0x +0000"} {
		if _, ok := accessTimeLocal([]byte(bad)); ok {
			t.Errorf("accessTimeLocal(%q) accepted", bad)
		}
	}
	// A zone-less ISO time is in the configured location.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err == nil {
		got, ok := accessTimeISO([]byte("2026-07-01T12:00:00"), berlin)
		if !ok || !got.Equal(time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("zone-less ISO in Berlin: %v %v", got, ok)
		}
	}
}

func TestAccessFloat_Oracle(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	cases := []string{"0", "0.000", "0.001", "1.5", "123.456", "60.000", "0.300", "999999.999"}
	for i := 0; i < 20000; i++ {
		cases = append(cases, strconv.FormatFloat(float64(r.Intn(1e7))/1000, 'f', 3, 64))
	}
	for i := 0; i < 5000; i++ {
		cases = append(cases, strconv.FormatFloat(r.Float64()*1000, 'f', r.Intn(10), 64))
	}
	for _, c := range cases {
		got, ok := accessFloat([]byte(c))
		want, _ := strconv.ParseFloat(c, 64)
		if !ok || got != want {
			t.Fatalf("accessFloat(%q) = %v %v, want %v", c, got, ok, want)
		}
		// The one-pass scanner of the fast paths agrees too.
		if got, end := accessScanSeconds([]byte(c+" "), 0); end != len(c) || got != want {
			t.Fatalf("accessScanSeconds(%q) = %v (end %d), want %v", c, got, end, want)
		}
	}
	for _, bad := range []string{"", ".", "1.2.3", "abc", "-", "NaN", "-1"} {
		if x, ok := accessFloat([]byte(bad)); ok {
			t.Errorf("accessFloat(%q) = %v, want failure", bad, x)
		}
	}
	for _, long := range []string{"123456789012.123456789", "99999999999999999.5"} {
		want, _ := strconv.ParseFloat(long, 64)
		if got, ok := accessFloat([]byte(long)); !ok || got != want {
			t.Errorf("accessFloat(%q) = %v, want %v", long, got, want)
		}
		if _, end := accessScanSeconds([]byte(long), 0); end == len(long) {
			t.Errorf("accessScanSeconds(%q) took a mantissa it cannot hold exactly", long)
		}
	}
	if x, ok := accessFloat([]byte("1e-3")); !ok || x != 0.001 {
		t.Errorf("accessFloat(1e-3) = %v %v", x, ok)
	}
}

// A JSON line is read by its keys even when the configured format is not
// JSON: the result equals the template's. That includes what nginx writes
// for a template with bare upstream variables (jsonraw): empty values and
// "502, 200" without quotes.
func TestAccess_JSONByKeys(t *testing.T) {
	keys := mustCompile(t, DefaultLogFormat)
	n := 0
	for _, js := range loadAccessSamples(t) {
		if !strings.HasPrefix(js.name, "json") {
			continue
		}
		n++
		tmpl := mustCompile(t, js.format)
		for i, l := range js.lines {
			var a, b Event
			if err := tmpl.Parse(l, time.UTC, &a); err != nil {
				t.Fatalf("%s template, line %d: %v", js.name, i+1, err)
			}
			if err := keys.Parse(l, time.UTC, &b); err != nil {
				t.Fatalf("%s by keys, line %d: %v", js.name, i+1, err)
			}
			if !reflect.DeepEqual(a.Clone(), b.Clone()) {
				t.Errorf("%s line %d: template and keys differ:\n%+v\n%+v", js.name, i+1, a, b)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d JSON samples, want json and jsonraw", n)
	}
}

// JSON formats people write by hand: aliases, numbers, arrays, a leading
// '$' or '@', nested objects to skip. These follow configurations published
// in nginx JSON logging guides (e.g. https://docs.nginx.com/nginx/admin-guide/monitoring/logging/
// and the Elastic Common Schema field names).
func TestAccess_JSONAliases(t *testing.T) {
	f := mustCompile(t, DefaultLogFormat)
	cases := []struct {
		line string
		want func(ev *Event) bool
	}{
		{`{"@timestamp":"2026-11-25T16:42:20.123Z","$status":"502","$remote_addr":"10.0.0.9","$request":"GET /x HTTP/1.1","upstream_status":"502, 200","upstream_addr":"10.0.0.1:80, 10.0.0.2:80","upstream_response_time":"0.001, 0.020"}`,
			func(ev *Event) bool {
				return ev.Status == 502 && ev.Client == "10.0.0.9" && ev.URI == "/x" &&
					ev.Time.Equal(time.Date(2026, 11, 25, 16, 42, 20, 123e6, time.UTC)) &&
					reflect.DeepEqual(ev.UpstreamStatus, []int{502, 200}) && len(ev.UpstreamAddr) == 2 && ev.UpstreamResponseTime[1] == 0.02
			}},
		{`{ "timestamp": 1764088940123, "status": 504, "method": "POST", "uri": "/api", "request_time": 1.5, "upstream_status": [504], "upstream_addr": ["10.0.0.1:80"], "extra": {"a": [1, {"b": "}"}]}, "bytes": 0 }`,
			func(ev *Event) bool {
				return ev.Status == 504 && ev.Method == "POST" && ev.URI == "/api" && ev.RequestTime == 1.5 &&
					ev.Time.Equal(time.UnixMilli(1764088940123)) && reflect.DeepEqual(ev.UpstreamStatus, []int{504}) && ev.BodyBytes == 0
			}},
		{`{"time_local":"25/Nov/2026:16:42:20 +0100","http.response.status_code":200,"url.original":"/a?b=\u00e9","user_agent.original":"x\"y","upstream_status":null,"request_id":"abc"}`,
			func(ev *Event) bool {
				return ev.Status == 200 && ev.URI == "/a?b=é" && ev.UserAgent == `x"y` && ev.RequestID == "abc" &&
					ev.Time.Equal(time.Date(2026, 11, 25, 15, 42, 20, 0, time.UTC)) && len(ev.UpstreamStatus) == 0
			}},
	}
	for i, c := range cases {
		var ev Event
		if err := f.Parse([]byte(c.line), time.UTC, &ev); err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if !c.want(&ev) {
			t.Errorf("case %d: %+v", i, ev)
		}
	}
}

// Lines that do not match give an error naming the field and what was
// expected; nothing panics.
func TestAccess_Unparsed(t *testing.T) {
	samples := loadAccessSamples(t)
	byName := map[string]accessSample{}
	for _, s := range samples {
		byName[s.name] = s
	}
	ext, comb, js := byName["ext"], byName["combined"], byName["json"]
	errLog, err := os.ReadFile("testdata/nginx_access/error.log")
	if err != nil {
		t.Fatal(err)
	}
	errLine := bytes.SplitN(errLog, []byte("\n"), 2)[0]
	cases := []struct {
		name, format string
		line         []byte
		reason       string // substring of the error
	}{
		{"error log line", ext.format, errLine, `$remote_addr: expected " - "`},
		{"combined line, ext format", ext.format, comb.lines[0], `$http_user_agent: expected "\" rt="`},
		{"escape=none: the last quote must end the line", "escape=none " + comb.format, ext.lines[0], `$http_user_agent: the line should end with "\""`},
		{"ext line, combined format", comb.format, ext.lines[0], `$http_user_agent: the line goes on after the format's last field: " rt=`},
		{"cut inside the user agent", ext.format, ext.lines[0][:200], `$http_user_agent`},
		{"cut inside the time", comb.format, comb.lines[0][:25], `$time_local`},
		{"cut inside the status", comb.format, []byte(`127.0.0.1 - - [25/Nov/2026:16:42:20 +0000] "GET / HTTP/1.1" 2`), `$status`},
		{"status not a number", comb.format, bytes.Replace(comb.lines[0], []byte(`" 200 `), []byte(`" abc `), 1), `$status: expected a 3-digit status, got "abc"`},
		{"bad month", comb.format, bytes.Replace(comb.lines[0], []byte("/Nov/"), []byte("/Nox/"), 1), `$time_local: expected`},
		{"bad upstream status", ext.format, bytes.Replace(ext.lines[0], []byte(`us="200"`), []byte(`us="200, x"`), 1), `$upstream_status: expected statuses`},
		{"bad bare list", byName["bare"].format, bytes.Replace(byName["bare"].lines[12], []byte("502 : 200"), []byte("502 :: 200"), 1), `$upstream_connect_time: expected times like "0.001, 0.120", got "::"`},
		{"truncated JSON", comb.format, js.lines[0][:len(js.lines[0])-40], `(truncated line?)`},
		{"truncated JSON, JSON format", js.format, js.lines[0][:100], `$request`},
		{"JSON without access keys", comb.format, []byte(`{"status":"die","id":"4f8e","from":"alpine","Type":"container","Action":"die"}`), `expected a 3-digit status`},
		{"JSON, unrelated keys", comb.format, []byte(`{"level":"info","msg":"listening","port":8080}`), `no access log keys`},
		{"empty", comb.format, nil, "empty line"},
		{"binary", comb.format, []byte("\x00\xff\xfe[\"\x01"), `$remote_addr`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ev Event
			err := mustCompile(t, c.format).Parse(c.line, time.UTC, &ev)
			if err == nil {
				t.Fatalf("parsed %q: %+v", c.line, ev)
			}
			if !strings.Contains(err.Error(), c.reason) {
				t.Errorf("reason %q, want it to contain %q", err, c.reason)
			}
		})
	}
	// Every prefix of every real line: an error or an event, never a panic,
	// and a prefix cut before the last field never parses.
	for _, s := range samples {
		f := mustCompile(t, s.format)
		for _, l := range s.lines {
			for n := 0; n < len(l); n++ {
				var ev Event
				_ = f.Parse(l[:n], time.UTC, &ev)
			}
		}
	}
}

// A line with more fields than the format is refused, whichever way the
// extra fields end: combined on ext lines (ending in a bare request id) and
// on nginx.org "main" lines (ending in a quoted X-Forwarded-For, where the
// user agent would otherwise swallow `" "-`).
func TestAccess_MoreFieldsThanFormat(t *testing.T) {
	byName := map[string]accessSample{}
	for _, s := range loadAccessSamples(t) {
		byName[s.name] = s
	}
	comb := mustCompile(t, DefaultLogFormat)
	for _, l := range byName["ext"].lines {
		var ev Event
		if err := comb.Parse(l, time.UTC, &ev); err == nil || !strings.Contains(err.Error(), "goes on after the format's last field") {
			t.Errorf("combined on an ext line: %v (user agent %q)", err, ev.UserAgent)
		}
	}
	for _, l := range byName["combined"].lines {
		main := append(append([]byte{}, l...), ` "-"`...)
		var ev Event
		if err := comb.Parse(main, time.UTC, &ev); err == nil {
			t.Errorf("combined on a main line: user agent %q", ev.UserAgent)
		}
	}
}

func TestCompileAccessFormat(t *testing.T) {
	good := []struct {
		format string
		escape accessEscape
		vars   []string
	}{
		{DefaultLogFormat, escapeDefault, []string{"$remote_addr", "$remote_user", "$time_local", "$request", "$status", "$body_bytes_sent", "$http_referer", "$http_user_agent"}},
		{`escape=json {"s":$status,"u":"${request_uri}x"}`, escapeJSON, []string{"$status", "$request_uri"}},
		{`escape=none $Status cost $ $request_time`, escapeNone, []string{"$status", "$request_time"}},
	}
	for _, g := range good {
		f := mustCompile(t, g.format)
		var names []string
		for _, st := range f.steps {
			names = append(names, st.name)
		}
		if f.escape != g.escape || !reflect.DeepEqual(names, g.vars) {
			t.Errorf("%q: escape %d vars %v, want %d %v", g.format, f.escape, names, g.escape, g.vars)
		}
	}
	for _, bad := range []string{"", "escape=xml $status", "no variables", "$status$body_bytes_sent", "${status", "${bad-name}"} {
		if _, err := CompileAccessFormat(bad); err == nil {
			t.Errorf("CompileAccessFormat(%q) succeeded", bad)
		}
	}
}

// Steady state: no allocation per line, escapes and JSON included.
func TestAccess_ZeroAlloc(t *testing.T) {
	for _, s := range loadAccessSamples(t) {
		f := mustCompile(t, s.format)
		keys := mustCompile(t, DefaultLogFormat)
		var ev Event
		for i, l := range s.lines {
			if err := f.Parse(l, time.UTC, &ev); err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(50, func() { _ = f.Parse(l, time.UTC, &ev) }); n != 0 {
				t.Errorf("%s line %d: %v allocs per line", s.name, i+1, n)
			}
			if s.name == "json" {
				if n := testing.AllocsPerRun(50, func() { _ = keys.Parse(l, time.UTC, &ev) }); n != 0 {
					t.Errorf("JSON by keys, line %d: %v allocs per line", i+1, n)
				}
			}
		}
	}
}

func TestLooksLikeAccess(t *testing.T) {
	// Formats without a bracketed time are recognised by the request and
	// status: the bare sample with its time field cut out.
	for _, l := range []string{
		`127.0.0.1 "GET /ok/first?x=1 HTTP/1.1" 200 127.0.0.1:18001 200 0.000 0.000 0.000 0.000`,
		`10.0.0.1 "POST /api HTTP/2.0" 502 - "curl/8.0"`,
	} {
		if !looksLikeAccess([]byte(l)) {
			t.Errorf("not recognised: %s", l)
		}
	}
	for _, s := range loadAccessSamples(t) {
		for i, l := range s.lines {
			if !looksLikeAccess(l) {
				t.Errorf("%s line %d not recognised: %s", s.name, i+1, l)
			}
		}
	}
	errLog, err := os.ReadFile("testdata/nginx_access/error.log")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bytes.Split(bytes.TrimSpace(errLog), []byte("\n")) {
		if looksLikeAccess(l) {
			t.Errorf("error log line taken for access: %s", l)
		}
	}
	for _, l := range []string{
		// docker events --format '{{json .}}' (https://docs.docker.com/reference/cli/docker/system/events/)
		`{"status":"die","id":"4f8e","from":"alpine","Type":"container","Action":"die","Actor":{"ID":"4f8e","Attributes":{"exitCode":"137","image":"alpine","name":"web"}},"scope":"local","time":1764088940,"timeNano":1764088940123456789}`,
		`Nov 25 16:42:20 host kernel: [12345.678] Out of memory: Killed process 123 (node)`,
		`[2026-11-25 16:42:20 +0000] [123] [CRITICAL] WORKER TIMEOUT (pid:124)`,
		// Flask's development server (werkzeug), from testdata/python/flask.log:
		// its own stamp, an application's log.
		`127.0.0.1 - - [25/Nov/2026 16:38:41] "GET / HTTP/1.1" 500 -`,
		``, `-`,
	} {
		if looksLikeAccess([]byte(l)) {
			t.Errorf("taken for access: %s", l)
		}
	}
}

// Through the public Parser with auto detection, every sample line that is
// valid UTF-8 is detected as nginx_access and parsed with the given format.
func TestAccess_ParserAuto(t *testing.T) {
	for _, s := range loadAccessSamples(t) {
		p, err := New(Options{LogFormat: s.format})
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range s.lines {
			if !utf8.Valid(l) {
				continue // Parser.Parse reports these as invalid UTF-8
			}
			var ev Event
			p.Parse(l, &ev)
			if ev.Kind != KindRequest || ev.Source != SourceNginxAccess || ev.Time.IsZero() {
				t.Errorf("%s line %d: kind %q source %q reason %q", s.name, i+1, ev.Kind, ev.Source, ev.Reason)
			}
		}
	}
}

// The directive as it stands in nginx.conf, copied whole, compiles to the
// same steps as the bare format string. The first is the "main" format of
// the nginx.org packages' /etc/nginx/nginx.conf.
func TestCompileAccessFormat_ConfigForm(t *testing.T) {
	cases := []struct{ conf, bare string }{
		{`log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';`,
			`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"`},
		{`log_format json escape=json '{"time":"$time_iso8601",' '"status":$status}';`, `escape=json {"time":"$time_iso8601","status":$status}`},
		{`'$remote_addr \'$request\''`, `$remote_addr '$request'`},
		{`log_format x "$status \"$request\"";`, `$status "$request"`},
	}
	for _, c := range cases {
		a, b := mustCompile(t, c.conf), mustCompile(t, c.bare)
		if a.escape != b.escape || !bytes.Equal(a.prefix, b.prefix) || !reflect.DeepEqual(a.steps, b.steps) {
			t.Errorf("%s\ncompiles to %q %+v\nwant %q %+v", c.conf, a.prefix, a.steps, b.prefix, b.steps)
		}
	}
	// Quoted text that is not the directive stays a literal format.
	f := mustCompile(t, `"$request" $status`)
	if string(f.prefix) != `"` || len(f.steps) != 2 {
		t.Errorf(`"$request" $status: prefix %q, %d steps`, f.prefix, len(f.steps))
	}
	if _, err := CompileAccessFormat(`log_format main '$status`); err == nil {
		t.Error("unclosed quote accepted")
	}
}

// The SWAR helpers agree with byte loops on words mixing digits with every
// other byte value, the neighbours of '0' and '9' included.
func TestAccessSWAR(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	alphabet := []byte("0123456789/:;.-, \"\\\x00\xff\xfa\xf9\x2f\x3a\x39\x30")
	for i := 0; i < 200000; i++ {
		var b [8]byte
		for k := range b {
			if r.Intn(3) > 0 {
				b[k] = '0' + byte(r.Intn(10))
			} else if r.Intn(2) == 0 {
				b[k] = alphabet[r.Intn(len(alphabet))]
			} else {
				b[k] = byte(r.Intn(256))
			}
		}
		x := accessLoad8(b[:], 0)
		n := 0
		for n < 8 && b[n] >= '0' && b[n] <= '9' {
			n++
		}
		if got := accessDigitRun(x); got != n {
			t.Fatalf("accessDigitRun(%q) = %d, want %d", b, got, n)
		}
		if n == 0 {
			continue
		}
		want, _ := strconv.ParseUint(string(b[:n]), 10, 64)
		if got := accessSWARUint(x, n); got != want {
			t.Fatalf("accessSWARUint(%q, %d) = %d, want %d", b, n, got, want)
		}
		c := alphabet[r.Intn(len(alphabet))]
		if got, want := accessSWARIndex(b[:], 0, c), bytes.IndexByte(b[:], c); got != want && !(want < 0 && got == len(b)) {
			t.Fatalf("accessSWARIndex(%q, %q) = %d, want %d", b, c, got, want)
		}
	}
	for i := 0; i < 100000; i++ {
		b := make([]byte, r.Intn(24))
		for k := range b {
			b[k] = alphabet[r.Intn(len(alphabet))]
			if r.Intn(3) > 0 {
				b[k] = '0' + byte(r.Intn(10))
			}
		}
		c, from := alphabet[r.Intn(len(alphabet))], r.Intn(len(b)+1)
		want := from
		for want < len(b) && b[want] != ' ' && b[want] != ',' && b[want] != '\\' && b[want] != c {
			want++
		}
		if got := accessIndexStop(b, from, c); got != want {
			t.Fatalf("accessIndexStop(%q, %d, %q) = %d, want %d", b, from, c, got, want)
		}
	}
	// Past the end of the line the load is zero-padded.
	if x := accessLoad8([]byte("12"), 0); accessDigitRun(x) != 2 || accessSWARUint(x, 2) != 12 {
		t.Fatalf("short load: %x", x)
	}
	if x := accessLoad8([]byte("12"), 5); x != 0 {
		t.Fatalf("load past the end: %x", x)
	}
}

// The one-pass reader of $request agrees with the general one on the shapes
// real request lines take, and on the near misses around each shortcut.
func TestAccessRequestLine(t *testing.T) {
	cases := []string{"", "-", "GET / HTTP/1.1", "GET /x?a=b HTTP/2.0", "POST /a%20b HTTP/1.0", "GET /", "GET",
		"get / HTTP/1.1", " / HTTP/1.1", "GET  / HTTP/1.1", "GET / HTTP/1.1 ", "GET /a b HTTP/1.1", "GET / HTTP/ 1.1",
		"GET / XTTP/1.1", "GET HTTP/1.1", "M-SEARCH * HTTP/1.1", "A_B / HTTP/1.1", "\x16\x03\x01", "GET /x HTTP/1",
		"ABCDEFGHIJKLMNOPQRSTUVWXY / HTTP/1.1", "ABCDEFGHIJKLMNOPQRSTUVWX / HTTP/1.1", "GET / HTTP/1.1 HTTP/1.1", "GET / HTTP/1. "}
	r := rand.New(rand.NewSource(4))
	for i := 0; i < 20000; i++ {
		b := []byte("GET /p HTTP/1.1")
		for k := r.Intn(3); k >= 0; k-- {
			const alphabet = " AZ/-_H1.\\\x00"
			b[r.Intn(len(b))] = alphabet[r.Intn(len(alphabet))]
		}
		cases = append(cases, string(b[:r.Intn(len(b)+1)]))
	}
	for _, c := range cases {
		accessCheckRequestLine(t, []byte(c))
	}
}
