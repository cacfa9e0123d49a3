package parser

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lastLine(b []byte) string {
	return string(b[bytes.LastIndexByte(b, '\n')+1:])
}

func multi(groups [][]byte) [][]byte {
	var out [][]byte
	for _, g := range groups {
		if bytes.IndexByte(g, '\n') >= 0 {
			out = append(out, g)
		}
	}
	return out
}

// Each real capture's traces become one group each: the group opens on the
// first line of the crash output and ends on its last line.
func TestGrouper_RealTraces(t *testing.T) {
	for _, tc := range []struct {
		file        string
		first, last []string // per multi-line group
	}{
		{"java/caused-by.log", []string{"Exception in thread \"main\" java.lang.IllegalStateException"}, []string{"\t... 2 more"}},
		{"java/oom.log", []string{"Exception in thread \"main\" java.lang.OutOfMemoryError"}, []string{"\tat Oom.main(Oom.java:2)"}},
		{"java/wrapped-refused.log", []string{"Exception in thread \"pool-1-thread-1\""}, []string{"\t... 2 more"}},
		// JUL's SEVERE line and the exception it logged are one group.
		{"java/bind.log", []string{"SEVERE: cannot start second listener", "Exception in thread \"main\" java.net.BindException"},
			[]string{"\tat Bind.main(Bind.java:8)", "\tat Bind.main(Bind.java:10)"}},
		{"python/tracebacks.log",
			[]string{pyTraceback, pyTraceback, pyTraceback, pyTraceback, pyTraceback, pyTraceback, pyTraceback},
			[]string{"ZeroDivisionError: division by zero", "MemoryError", "ConnectionRefusedError: [Errno 111] Connection refused",
				"TimeoutError: timed out", "urllib.error.URLError: <urlopen error [Errno 111] Connection refused>",
				"urllib.error.URLError: <urlopen error timed out>", "RuntimeError: bad config"}},
		{"python/public-psycopg2.log", []string{pyTraceback, pyTraceback},
			[]string{"\tTCP/IP connections on port 5432?", "        Is the server running on that host and accepting TCP/IP connections?"}},
		{"node/uncaught.log", []string{"/tmp/apps/node/throw.js:1"}, []string{"Node.js v20.20.2"}},
		{"node/eaddrinuse.log", []string{"node:events:502"}, []string{"Node.js v20.20.2"}},
		{"node/json-throw.log", []string{"<anonymous_script>:1"}, []string{"Node.js v20.20.2"}},
		{"node/logged-econnrefused.log", []string{"database connection failed: Error: connect ECONNREFUSED"}, []string{"}"}},
		{"node/stamped.log", []string{"ERROR GET /api/orders failed"}, []string{"}"}},
		{"node/heap-oom.log", []string{"<--- Last few GCs --->"}, []string{"16: 0x195e476  [node]"}},
		{"node/handler.log", []string{"TypeError: Cannot read properties of null"}, []string{"    at process.processTimers (node:internal/timers:519:7)"}},
		{"node/public-etimedout.log", []string{"{ Error: connect ETIMEDOUT", "error:  Error: connect ETIMEDOUT"},
			[]string{"  port: 443 }", "    at TCPConnectWrap.afterConnect [as oncomplete] (net.js:1085:14)"}},
		{"php_fpm/php-cli-error.log", []string{"Uncaught RuntimeException"}, []string{"  thrown in Command line code on line 1"}},
		{"app/rust.log", []string{"panicked at", "panicked at", "panicked at", "memory allocation of"},
			[]string{"note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
				"note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
				"note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
				"note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace."}},
		{"go/panic.log", []string{"panic: unexpected state"}, []string{"\t/tmp/apps/go/src/main.go:21 +0x40b"}},
		{"go/segv.log", []string{"panic: runtime error"}, []string{"\t/tmp/apps/go/src/main.go:24 +0x88"}},
		{"go/http-refused.log", []string{"panic: dependency unavailable"}, []string{"\t/tmp/apps/go/src/main.go:38 +0x3f8"}},
		{"go/http-panic.log", []string{"http: panic serving"}, []string{"\t/usr/local/go/src/net/http/server.go:3464 +0x485"}},
		{"go/sigquit.log", []string{"SIGQUIT: quit"}, []string{"gs     0x0"}},
		{"go/oom.log", []string{"runtime: out of memory"}, []string{"\t/usr/local/go/src/runtime/mcleanup.go:672 +0xa5"}},
		{"python/logging.log", []string{"ERROR orders: cannot reach the database"}, []string{"ConnectionRefusedError: [Errno 111] Connection refused"}},
		{"java/bind-stamped.log", []string{"SEVERE com.example.Server - cannot start second listener", "Exception in thread \"main\""},
			[]string{"\tat Bind.main(Bind.java:8)", "\tat Bind.main(Bind.java:10)"}},
		{"python/flask.log", []string{"ERROR in app: Exception on / [GET]"}, []string{"KeyError: 'missing'"}},
		{"gunicorn/boot-failure.log", []string{"[ERROR] Exception in worker process"}, []string{"ModuleNotFoundError: No module named 'nosuchmodule_for_culprit'"}},
		// PM2 `time: true`: every line carries the stamp; real capture.
		{"pm2/crasher-error.log", []string{"Error: boom", "Error: boom", "Error: boom"},
			[]string{"    at process.processTimers (node:internal/timers:519:7)", "    at process.processTimers (node:internal/timers:519:7)",
				"    at process.processTimers (node:internal/timers:519:7)"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			groups := multi(readGroups(t, tc.file))
			if len(groups) != len(tc.first) {
				for _, g := range groups {
					t.Logf("group:\n%s", g)
				}
				t.Fatalf("%d multi-line groups, want %d", len(groups), len(tc.first))
			}
			for i, g := range groups {
				if !strings.Contains(string(firstLine(g)), tc.first[i]) {
					t.Errorf("group %d opens with %q, want %q", i, firstLine(g), tc.first[i])
				}
				if got := lastLine(g); got != tc.last[i] {
					t.Errorf("group %d ends with %q, want %q", i, got, tc.last[i])
				}
			}
		})
	}
}

// The whole capture is one crash: every line of the file is in the group
// (blank lines inside it included).
func TestGrouper_WholeCrashIsOneGroup(t *testing.T) {
	for _, file := range []string{"node/econnrefused.log", "node/http-econnrefused.log", "node/eaddrinuse.log",
		"go/oom.log", "go/oom-reserve.log", "go/nilmap.log", "java/caused-by.log", "java/connect-timeout.log"} {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimRight(string(raw), "\n")
		groups := readGroups(t, file)
		if len(groups) != 1 || string(groups[0]) != want {
			t.Errorf("%s: %d groups, want the whole file as one", file, len(groups))
		}
	}
}

// wrap prefixes every line of a real capture the way a tool in front of the
// app would.
func wrap(lines []string, prefix func(i int) string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = prefix(i) + l
	}
	return out
}

func groupLines(lines []string) [][]byte {
	g := NewGrouper(200, 64<<10)
	var out [][]byte
	for _, l := range lines {
		for _, grp := range g.Add([]byte(l)) {
			out = append(out, bytes.Clone(grp))
		}
	}
	return append(out, g.Flush()...)
}

func TestGrouper_Wrappers(t *testing.T) {
	wrappers := map[string]func(i int) string{
		"pm2":     func(i int) string { return "2026-11-25T16:35:3" + string(rune('0'+i%10)) + ": " },
		"compose": func(int) string { return "api-1  | " },
		"cri":     func(i int) string { return "2026-11-25T16:35:32.12345678" + string(rune('0'+i%10)) + "Z stderr F " },
		"kubectl": func(int) string { return "2026-11-25T16:35:32.123456789Z " },
		"syslog":  func(int) string { return "Nov 25 16:35:32 web1 app[123]: " },
	}
	for _, file := range []string{"python/tracebacks.log", "node/uncaught.log", "java/wrapped-refused.log", "go/segv.log", "node/logged-econnrefused.log"} {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
		plain := groupLines(lines)
		for name, prefix := range wrappers {
			wrapped := groupLines(wrap(lines, prefix))
			if len(wrapped) != len(plain) {
				t.Errorf("%s with %s prefix: %d groups, want %d as unwrapped", file, name, len(wrapped), len(plain))
				continue
			}
			for i := range plain {
				// The first line keeps its wrapper; continuations lose it.
				// (all prefixes of one kind have the same length).
				want := string(wrapped[i][:min(len(prefix(0)), len(wrapped[i]))]) + string(plain[i])
				if string(wrapped[i]) != want {
					t.Errorf("%s with %s prefix: group %d\n%s\nwant\n%s", file, name, i, wrapped[i], want)
				}
			}
		}
	}
}

// A different wrapper (another compose service interleaving) ends a group:
// its lines are not part of this trace.
func TestGrouper_InterleavedServicesSplit(t *testing.T) {
	lines := []string{
		"api-1  | Error: connect ECONNREFUSED 127.0.0.1:5432",
		"api-1  |     at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)",
		"db-1   |     at something else",
		"api-1  |     at more",
	}
	groups := groupLines(lines)
	if len(groups) != 3 || lastLine(groups[0]) != "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)" {
		t.Fatalf("groups %q", groups)
	}
}

func TestGrouper_Limits(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "go/oom.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	for _, lim := range []struct{ lines, bytes int }{{10, 1 << 20}, {1000, 600}, {2, 100}} {
		g := NewGrouper(lim.lines, lim.bytes)
		var out [][]byte
		for _, l := range lines {
			for _, grp := range g.Add([]byte(l)) {
				out = append(out, bytes.Clone(grp))
			}
		}
		out = append(out, g.Flush()...)
		total := 0
		for _, grp := range out {
			n := bytes.Count(grp, []byte("\n")) + 1
			total += n
			if n > lim.lines {
				t.Errorf("limit %+v: group of %d lines", lim, n)
			}
			if len(grp) > lim.bytes && n > 1 {
				t.Errorf("limit %+v: group of %d bytes", lim, len(grp))
			}
		}
		if total != len(lines) {
			t.Errorf("limit %+v: %d lines out, %d in (nothing may be lost)", lim, total, len(lines))
		}
		if len(out) < 2 {
			t.Errorf("limit %+v: the trace was not cut", lim)
		}
	}
}

// Ordinary lines pass through as they came: no copy, no allocation.
func TestGrouper_PassThroughNoCopy(t *testing.T) {
	g := NewGrouper(200, 64<<10)
	line := []byte(`127.0.0.1 - - [25/Nov/2026:16:38:41 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/7.88.1"`)
	out := g.Add(line)
	if len(out) != 1 || &out[0][0] != &line[0] {
		t.Fatalf("ordinary line was not returned as is: %q", out)
	}
	allocs := testing.AllocsPerRun(1000, func() { g.Add(line) })
	if allocs != 0 {
		t.Errorf("%.1f allocations per ordinary line, want 0", allocs)
	}
	if len(g.Flush()) != 0 || g.Pending() {
		t.Error("nothing should be pending")
	}
}

func BenchmarkGrouper_PlainLines(b *testing.B) {
	g := NewGrouper(200, 64<<10)
	line := []byte(`2026/11/25 16:40:17 listening on 127.0.0.1:18373 and serving requests for the api`)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		g.Add(line)
	}
}

func FuzzGrouper(f *testing.F) {
	for _, file := range []string{"node/eaddrinuse.log", "python/tracebacks.log", "java/caused-by.log", "go/segv.log", "pm2/crasher-error.log"} {
		if raw, err := os.ReadFile(filepath.Join("testdata", file)); err == nil {
			f.Add(raw, 20, 2000)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, maxLines, maxBytes int) {
		maxLines, maxBytes = 1+abs(maxLines)%300, 1+abs(maxBytes)%(1<<16)
		g := NewGrouper(maxLines, maxBytes)
		in, out, fed, spanned := 0, 0, 0, 0
		check := func(groups [][]byte) {
			if len(g.Spans()) != len(groups) {
				t.Fatalf("%d spans for %d groups", len(g.Spans()), len(groups))
			}
			for _, n := range g.Spans() {
				spanned += n
			}
			for _, grp := range groups {
				n := bytes.Count(grp, []byte("\n")) + 1
				if n > 1 && (n > maxLines || len(grp) > maxBytes) {
					t.Fatalf("group of %d lines, %d bytes exceeds %d/%d", n, len(grp), maxLines, maxBytes)
				}
				for _, l := range bytes.Split(grp, []byte("\n")) {
					if !isBlank(l) {
						out++
					}
				}
			}
		}
		for _, l := range bytes.Split(data, []byte("\n")) {
			_, _, inner := wrapperOf(l)
			if !isBlank(inner) {
				in++
			}
			fed++
			check(g.Add(l))
		}
		check(g.Flush())
		if spanned != fed {
			t.Fatalf("spans cover %d lines, %d were fed", spanned, fed)
		}
		if out < in {
			t.Fatalf("%d non-blank lines in, %d out", in, out)
		}
	})
}

func abs(v int) int {
	if v < 0 {
		if v == -v {
			return 0
		}
		return -v
	}
	return v
}

// A trace that reached us wrapped (container runtime, compose, syslog) is
// grouped, unwrapped by Parse and classified as the bare trace is.
func TestGrouper_WrappedTracesParseAlike(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	wrappers := map[string]func(i int) string{
		"cri":     func(int) string { return "2026-11-25T16:35:32.123456789Z stderr F " },
		"compose": func(int) string { return "api-1  | " },
		"syslog":  func(int) string { return "Nov 25 16:35:32 web1 app[123]: " },
	}
	for _, file := range []string{"python/tracebacks.log", "node/econnrefused.log", "java/wrapped-refused.log", "go/oom.log"} {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
		var bare []Class
		for _, g := range multi(groupLines(lines)) {
			var ev Event
			p.Parse(g, &ev)
			bare = append(bare, ev.Class)
		}
		for name, prefix := range wrappers {
			var got []Class
			for _, g := range multi(groupLines(wrap(lines, prefix))) {
				var ev Event
				p.Parse(g, &ev)
				got = append(got, ev.Class)
			}
			if strings.Join(classStrings(got), ",") != strings.Join(classStrings(bare), ",") {
				t.Errorf("%s wrapped by %s: classes %v, bare %v", file, name, got, bare)
			}
		}
	}
}

func classStrings(cs []Class) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

// Spans map groups back to input lines (a shipper's byte offsets): over a
// real capture they add up to the file's lines, and Pending says when a
// group is still open.
func TestGrouper_SpansOnRealCapture(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "python/tracebacks.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	g := NewGrouper(200, 64<<10)
	total, groups := 0, 0
	for i, l := range lines {
		out := g.Add([]byte(l))
		for _, n := range g.Spans() {
			total += n
		}
		groups += len(out)
		if strings.HasPrefix(l, pyTraceback) && !g.Pending() {
			t.Fatalf("line %d opens a traceback but nothing is pending", i+1)
		}
	}
	out := g.Flush()
	for _, n := range g.Spans() {
		total += n
	}
	groups += len(out)
	if total != len(lines) || g.Pending() {
		t.Errorf("spans cover %d of %d lines (pending %v)", total, len(lines), g.Pending())
	}
	if groups != 8 { // "worker started" and 7 tracebacks
		t.Errorf("%d groups, want 8", groups)
	}
}

// nginx relays a FastCGI application's stderr as it came, newlines
// included (PHP's uncaught exception and its stack): one error-log entry
// over several physical lines is one group, read with nginx's context
// (upstream, request) from its last line. Real capture (apps-blind README).
func TestGrouper_NginxRelayedStderr(t *testing.T) {
	groups := readGroups(t, "apps-blind/nginx-fastcgi-multiline.log")
	if len(groups) != 5 {
		for _, g := range groups {
			t.Logf("group:\n%s", g)
		}
		t.Fatalf("%d groups, want 5 (two one-line entries, three relayed traces)", len(groups))
	}
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		lines    int
		upstream string
		class    Class
		dep      string
	}{
		{1, "fastcgi://127.0.0.1:39021", ClassOther, ""},
		{1, "fastcgi://127.0.0.1:39021", ClassOther, ""},
		{5, "fastcgi://127.0.0.1:39021", ClassDependencyRefused, ""}, // "Too many connections" names no address
		{5, "fastcgi://127.0.0.1:39021", ClassDependencyRefused, ""},
		{5, "fastcgi://127.0.0.1:39041", ClassDependencyRefused, "127.0.0.1:39042"},
	} {
		g := groups[i]
		if n := bytes.Count(g, []byte{'\n'}) + 1; n != want.lines {
			t.Errorf("group %d: %d lines, want %d", i, n, want.lines)
		}
		var ev Event
		p.Parse(g, &ev)
		if ev.Kind != KindProxyError || ev.Upstream != want.upstream || ev.CID == 0 {
			t.Errorf("group %d: kind %s upstream %q cid %d, want proxy_error %q with its cid", i, ev.Kind, ev.Upstream, ev.CID, want.upstream)
		}
		text, ok := UpstreamStderr(ev.Message)
		if !ok {
			t.Fatalf("group %d: no relayed text in %q", i, ev.Message)
		}
		if class, dep := ClassifyUpstreamText(text); class != want.class || dep != want.dep {
			t.Errorf("group %d: relayed text is %s (%q), want %s (%q)", i, class, dep, want.class, want.dep)
		}
	}
}

// A relayed entry cut short (no closing quote before nginx's next entry)
// ends at that entry: the next line is never swallowed.
func TestGrouper_NginxRelayCutShort(t *testing.T) {
	g := NewGrouper(0, 0)
	var out [][]byte
	for _, l := range []string{
		`2026/11/25 20:34:55 [error] 1#1: *2 FastCGI sent in stderr: "PHP message: PHP Warning:  oops`,
		`more text`,
		`2026/11/25 20:34:56 [error] 1#1: *4 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1`,
	} {
		for _, grp := range g.Add([]byte(l)) {
			out = append(out, bytes.Clone(grp))
		}
	}
	out = append(out, g.Flush()...)
	if len(out) != 2 || !strings.HasSuffix(string(out[0]), "\nmore text") || !strings.Contains(string(out[1]), "connect() failed") {
		t.Fatalf("groups %q, want the cut entry with its continuation, then the next entry", out)
	}
}
