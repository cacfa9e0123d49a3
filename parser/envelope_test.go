package parser

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestUnwrap_Table(t *testing.T) {
	cases := []struct {
		name, line                       string
		inner, ts, host, program, contnr string
		unit                             string
	}{
		// Not envelopes: the proxy's own lines must come through untouched.
		{name: "combined access line", line: `203.0.113.7 - - [25/Nov/2026:14:03:01 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/8.0"`},
		{name: "IPv6 access line", line: `2001:db8::1 - - [25/Nov/2026:14:03:01 +0000] "GET / HTTP/1.1" 200 5 "-" "-"`},
		{name: "host-first access line", line: `example.com 203.0.113.7 - - [25/Nov/2026:14:03:01 +0000] "GET / HTTP/1.1" 200 5 "-" "-"`},
		{name: "nginx error line", line: `2026/11/25 14:03:01 [error] 1234#1234: *5 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: _, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:18299/", host: "localhost"`},
		{name: "JSON access line", line: `{"time":"2026-11-25T14:03:01+00:00","remote_addr":"203.0.113.7","status":"502"}`},
		{name: "python logging stamp without zone", line: `2026-11-25 14:03:01,123 ERROR app: boom`},
		{name: "docker events text", line: `2017-01-05T00:36:09.840186338+08:00 container die 0fdb...ff37 (exitCode=143, image=alpine:latest, name=test)`,
			inner: `container die 0fdb...ff37 (exitCode=143, image=alpine:latest, name=test)`, ts: "2017-01-04T16:36:09.840186338Z"},

		// https://github.com/cri-o/cri-o/issues/3181 (CRI-O, offset zone)
		{name: "CRI-O", line: `2020-01-26T03:17:29.346494690+00:00 stderr F 2020/01/26 03:17:29 provider.go:117: Defaulting client-id to system:serviceaccount:openshift-monitoring:alertmanager-main`,
			inner: `2020/01/26 03:17:29 provider.go:117: Defaulting client-id to system:serviceaccount:openshift-monitoring:alertmanager-main`, ts: "2020-01-26T03:17:29.34649469Z"},
		// https://github.com/grafana/loki/issues/358 (containerd, Z)
		{name: "containerd CRI", line: `2019-02-23T05:30:45.598142519Z stdout F INFO  2019-02-23 05:30:45,596 [main] c.f.e.w.i.InventoryApplication: No active profile set`,
			inner: `INFO  2019-02-23 05:30:45,596 [main] c.f.e.w.i.InventoryApplication: No active profile set`, ts: "2019-02-23T05:30:45.598142519Z"},
		// https://github.com/log2timeline/plaso/issues/4616 (a partial line)
		{name: "CRI partial", line: `2016-10-06T00:17:09.669794202Z stdout P log content 1`, inner: "log content 1", ts: "2016-10-06T00:17:09.669794202Z"},
		// https://github.com/containers/conmon/issues/252 (the closing F record may be empty)
		{name: "CRI empty", line: `2021-03-29T21:16:20.753110059-04:00 stdout F`, inner: "", ts: "2021-03-30T01:16:20.753110059Z"},
		// Docker's json-file driver (https://docs.docker.com/engine/logging/drivers/json-file/).
		{name: "docker json-file", line: `{"log":"Log line is here\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}`,
			inner: "Log line is here", ts: "2019-01-01T11:11:11.111111111Z"},
		{name: "docker json-file escapes", line: `{"log":"10.0.0.1 - - [01/Jan/2019:11:11:11 +0000] \"GET /x HTTP/1.1\" 502 157 \"-\" \"curl\/8\"\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}`,
			inner: `10.0.0.1 - - [01/Jan/2019:11:11:11 +0000] "GET /x HTTP/1.1" 502 157 "-" "curl/8"`, ts: "2019-01-01T11:11:11.111111111Z"},
		// docker compose's log prefix ("name | ", padded; cmd/formatter/logs.go in docker/compose),
		// compose v1's underscore, and foreman/honcho's "web.1 | ".
		{name: "compose v2", line: `web-1  | 10.0.0.1 - - [01/Jan/2019:11:11:11 +0000] "GET / HTTP/1.1" 502 157 "-" "-"`,
			inner: `10.0.0.1 - - [01/Jan/2019:11:11:11 +0000] "GET / HTTP/1.1" 502 157 "-" "-"`, contnr: "web-1"},
		{name: "compose v1", line: `web_1    | [2019-01-01 11:11:11 +0000] [7] [CRITICAL] WORKER TIMEOUT (pid:9)`,
			inner: `[2019-01-01 11:11:11 +0000] [7] [CRITICAL] WORKER TIMEOUT (pid:9)`, contnr: "web_1"},
		{name: "honcho", line: `app.1 | listening on 8080`, inner: "listening on 8080", contnr: "app.1"},
		{name: "compose --timestamps", line: `api-1  | 2019-01-01T11:11:11.000000000Z Error: connect ECONNREFUSED 127.0.0.1:5432`,
			inner: "Error: connect ECONNREFUSED 127.0.0.1:5432", contnr: "api-1", ts: "2019-01-01T11:11:11Z"},
		{name: "kubectl --prefix", line: `[pod/web-7c9d-abcde/app] listening on 8080`, inner: "listening on 8080", contnr: "app"},
		// grep over several files prefixes the name, -n adds the line number.
		{name: "grep -H", line: `/var/log/nginx/error.log:2026/11/25 14:03:01 [error] 1#1: *5 no live upstreams while connecting to upstream`,
			inner: `2026/11/25 14:03:01 [error] 1#1: *5 no live upstreams while connecting to upstream`},
		{name: "grep -Hn", line: `access.log.1:42:203.0.113.7 - - [25/Nov/2026:14:03:01 +0000] "GET / HTTP/1.1" 502 157 "-" "-"`,
			inner: `203.0.113.7 - - [25/Nov/2026:14:03:01 +0000] "GET / HTTP/1.1" 502 157 "-" "-"`},
		// parser/testdata/nginx_error/syslog.log: nginx 1.22.1's own syslog writer, empty host field.
		{name: "nginx syslog empty host", line: `<189>Nov 25 17:03:32  nginx: 2026/11/25 17:03:32 [notice] 30022#30022: nginx/1.22.1`,
			inner: "2026/11/25 17:03:32 [notice] 30022#30022: nginx/1.22.1", ts: "2026-11-25T17:03:32Z", program: "nginx"},
		// journalctl under non-English locales (LC_TIME), as pasted in public reports:
		// https://github.com/systemd/systemd/issues/32304 (fr, no host: journalctl of a
		// single-host journal printed without it), https://github.com/rfjakob/earlyoom/issues/269 (fr),
		// https://github.com/rfjakob/earlyoom/issues/121 (ru).
		{name: "journalctl fr avril", line: `avril 16 21:08:50 systemd-oomd[93234]: Killed /user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/tmux`,
			inner: "Killed /user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/tmux", ts: "2026-04-16T21:08:50Z", program: "systemd-oomd"},
		{name: "journalctl fr mars", line: `mars 27 18:46:05 user-G3-3779-pro systemd[1]: Started Early OOM Daemon.`,
			inner: "Started Early OOM Daemon.", ts: "2026-03-27T18:46:05Z", host: "user-G3-3779-pro", program: "systemd"},
		{name: "journalctl ru", line: `апр 28 01:23:30 PC kernel: Out of memory: Kill process 27541 (bash) score 572 or sacrifice child`,
			inner: "Out of memory: Kill process 27541 (bash) score 572 or sacrifice child", ts: "2026-04-28T01:23:30Z", host: "PC", program: "kernel"},
		{name: "rfc3164 without host", line: `Nov 25 14:03:01 kernel[0]: x`, inner: "x", ts: "2026-11-25T14:03:01Z", program: "kernel"},
		{name: "grep over syslog files", line: `syslog.1:Nov 25 14:03:01 web-1 kernel: x`, inner: "x", ts: "2026-11-25T14:03:01Z", host: "web-1", program: "kernel"},
		{name: "go log with file:line is not grep", line: `main.go:42: dial tcp 127.0.0.1:5432: connect: connection refused`},
		// https://github.com/openshift/installer/pull/7371 (journalctl -o with-unit puts the unit in the tag)
		{name: "journalctl with-unit", line: `Jul 26 21:15:00 cvrzlbtm-bbcf1-t58lf-bootstrap release-image.service[1995]: 2c5e0f38687f7acf45adf9de5e841a46bbbda574d121d71d92bfb929826dfa27`,
			inner: "2c5e0f38687f7acf45adf9de5e841a46bbbda574d121d71d92bfb929826dfa27", ts: "2026-07-26T21:15:00Z", host: "cvrzlbtm-bbcf1-t58lf-bootstrap",
			program: "release-image.service", unit: "release-image.service"},
		{name: "dmesg iso without offset", line: `2026-11-25T16:36:03,908314 Memory cgroup out of memory: Killed process 16233 (py worker (api))`,
			inner: "Memory cgroup out of memory: Killed process 16233 (py worker (api))", ts: "2026-11-25T16:36:03.908314Z", program: "kernel"},
		{name: "log4j ISO8601 is not dmesg", line: `2026-11-25T16:36:03,908 ERROR [main] c.e.App - boom`},
		{name: "python warning is not grep", line: `/srv/app/views.py:42: DeprecationWarning: x`},
		// Syslog: RFC 3164 with a year from the clock, RFC 5424 with structured data.
		{name: "rfc3164 last year", line: `Dec 31 23:59:59 web-1 gunicorn[4242]: [CRITICAL] WORKER TIMEOUT (pid:9)`,
			inner: `[CRITICAL] WORKER TIMEOUT (pid:9)`, ts: "2025-12-31T23:59:59Z", host: "web-1", program: "gunicorn"},
		{name: "rfc3164 no pid", line: `Nov 25 14:03:01 web-1 nginx: 2026/11/25 14:03:01 [error] 1#1: *5 x`,
			inner: `2026/11/25 14:03:01 [error] 1#1: *5 x`, ts: "2026-11-25T14:03:01Z", host: "web-1", program: "nginx"},
		// RFC 5424 section 6.5, example 3 (without its BOM).
		{name: "rfc5424 structured data", line: `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...`,
			inner: "An application event log entry...", ts: "2003-10-11T22:14:15.003Z", host: "mymachine.example.com", program: "evntslog"},
		{name: "rfc5424 escaped bracket in SD", line: `<165>1 2003-10-11T22:14:15.003Z h app - - [a@1 x="v\]w"][b@2 y="z"] msg`,
			inner: "msg", ts: "2003-10-11T22:14:15.003Z", host: "h", program: "app"},
		{name: "journal json unit", line: `{"MESSAGE":"Started My App.","SYSLOG_IDENTIFIER":"systemd","_HOSTNAME":"web-1","UNIT":"app.service","__REALTIME_TIMESTAMP":"1764079381123456","_SYSTEMD_UNIT":"init.scope"}`,
			inner: "Started My App.", ts: "2025-11-25T14:03:01.123456Z", host: "web-1", program: "systemd", unit: "app.service"},
		{name: "journal json-pretty spacing, docker journald driver", line: `{ "__REALTIME_TIMESTAMP" : "1764079381000000", "MESSAGE" : "boom \u00e9", "CONTAINER_NAME" : "web", "_COMM" : "dockerd" }`,
			inner: "boom é", ts: "2025-11-25T14:03:01Z", program: "dockerd", contnr: "web"},
		{name: "journal binary message", line: `{"MESSAGE":[104,105],"_HOSTNAME":"h","__REALTIME_TIMESTAMP":"1"}`},
	}
	p := casesParser(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ev Event
			ev.Reset()
			env := p.unwrap([]byte(c.line), &ev)
			inner := c.inner
			if inner == "" && c.ts == "" && c.program == "" && c.contnr == "" && c.host == "" {
				inner = c.line // no envelope expected
			}
			ts := ""
			if !env.time.IsZero() {
				ts = env.time.UTC().Format(time.RFC3339Nano)
			}
			got := []string{string(env.inner), ts, env.hostname, env.program, env.container, env.unit}
			want := []string{inner, c.ts, c.host, c.program, c.contnr, c.unit}
			names := []string{"inner", "time", "host", "program", "container", "unit"}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s = %q, want %q", names[i], got[i], want[i])
				}
			}
			if ev.Container != c.contnr || ev.Unit != c.unit {
				t.Errorf("event container %q unit %q, want %q %q", ev.Container, ev.Unit, c.contnr, c.unit)
			}
		})
	}
}

// TestUnwrap_RealWrappers reads the real kernel OOM lines as real tools wrap
// them (scripts/reallogs/oom/journal.sh and wrappers.sh): every OOM line must
// come out as the same kernel event as the bare capture.
var sourceRealtime = regexp.MustCompile(`"_SOURCE_REALTIME_TIMESTAMP":"(\d+)"`)

func TestUnwrap_RealWrappers(t *testing.T) {
	truth := map[int]string{16233: "py worker (api)", 16293: "node /srv/app.j", 16302: "gw) 1 (x) [y]"}
	files, _ := filepath.Glob("testdata/envelope/journal/kernel.*")
	more, _ := filepath.Glob("testdata/envelope/wrappers/*.log")
	files = append(files, more...)
	if len(files) != 7 {
		t.Fatalf("found %d wrapper captures, want 7: %v", len(files), files)
	}
	p := casesParser(t)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
			counts := map[Class]int{}
			for sc.Scan() {
				line := sc.Text()
				if strings.Contains(line, "systemd-journald") {
					continue // journald's own "Journal started" records
				}
				var ev Event
				p.Parse([]byte(line), &ev)
				if ev.Source != SourceKernel || ev.Kind != KindUpstreamEvent {
					t.Errorf("source %s kind %s (%s): %s", ev.Source, ev.Kind, ev.Reason, line)
					continue
				}
				if ev.Time.IsZero() {
					t.Errorf("no time: %s", line)
				}
				counts[ev.Class]++
				switch ev.Class {
				case ClassOOMKill:
					if truth[ev.PID] != ev.Process {
						t.Errorf("pid %d process %q, truth %q: %s", ev.PID, ev.Process, truth[ev.PID], line)
					}
				case ClassOOMInvoked:
					found := false
					for _, comm := range truth {
						found = found || comm == ev.Process
					}
					if !found {
						t.Errorf("invoking process %q is none of the victims: %s", ev.Process, line)
					}
				}
				if strings.HasSuffix(path, ".json") {
					m := sourceRealtime.FindStringSubmatch(line)
					if m == nil {
						t.Fatalf("no _SOURCE_REALTIME_TIMESTAMP: %s", line)
					}
					us, _ := strconv.ParseInt(m[1], 10, 64)
					if !ev.Time.Equal(time.UnixMicro(us)) {
						t.Errorf("time %s, the record says %s", ev.Time, time.UnixMicro(us).UTC())
					}
				}
				if strings.Contains(path, "syslog-") || strings.Contains(path, "journal") {
					if ev.Hostname != "vm" {
						t.Errorf("host %q: %s", ev.Hostname, line)
					}
				}
			}
			if counts[ClassOOMKill] < 3 || counts[ClassOOMKill]+counts[ClassOOMInvoked]+counts[ClassOther] < 9 {
				t.Errorf("classes %v: the capture holds 3 kills", counts)
			}
		})
	}
}

// A line without an envelope must cost a few comparisons and no allocation:
// unwrap runs on every access line.
func TestUnwrap_PlainLinesDoNotAllocate(t *testing.T) {
	p := casesParser(t)
	for _, line := range []string{
		`203.0.113.7 - - [25/Nov/2026:14:03:01 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/8.0"`,
		`2001:db8::1 - - [25/Nov/2026:14:03:01 +0000] "GET / HTTP/1.1" 200 5 "-" "-"`,
		`2026/11/25 14:03:01 [error] 1234#1234: *5 connect() failed (111: Connection refused) while connecting to upstream`,
		`{"time":"2026-11-25T14:03:01+00:00","remote_addr":"203.0.113.7","status":"502"}`,
	} {
		b := []byte(line)
		var ev Event
		allocs := testing.AllocsPerRun(200, func() {
			env := p.unwrap(b, &ev)
			if len(env.inner) != len(b) {
				t.Fatalf("plain line was unwrapped: %q", env.inner)
			}
		})
		if allocs != 0 {
			t.Errorf("%d allocs unwrapping %q", int(allocs), line)
		}
	}
}

var benchEnv envelope

func BenchmarkUnwrap(b *testing.B) {
	p := casesParser(b)
	for _, c := range []struct{ name, line string }{
		{"access", `203.0.113.7 - - [25/Nov/2026:14:03:01 +0000] "GET /api/v1/items?id=42 HTTP/1.1" 502 157 "-" "Mozilla/5.0 (X11; Linux x86_64)"`},
		{"syslog", `Nov 25 14:03:01 web-1 kernel: [  785.908314] Memory cgroup out of memory: Killed process 16233 (py worker (api)) total-vm:82316kB`},
		{"cri", `2019-02-23T05:30:45.598142519Z stdout F INFO  2019-02-23 05:30:45,596 [main] c.f.e.w.i.InventoryApplication: No active profile set`},
	} {
		line := []byte(c.line)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			var ev Event
			for range b.N {
				benchEnv = p.unwrap(line, &ev)
			}
		})
	}
}

func FuzzUnwrap(f *testing.F) {
	for _, s := range []string{
		`Nov 25 14:03:01 web-1 kernel: [  785.908314] oom-kill:constraint=CONSTRAINT_MEMCG,task=a,pid=1,uid=0`,
		`<11>1 2026-11-25T16:49:24.742597+00:00 vm kernel - - [timeQuality tzKnown="1" isSynced="0"] x`,
		`<4>[  1.2] x`,
		`2019-02-23T05:30:45.598142519Z stdout F x`,
		`{"log":"x\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}`,
		`{"MESSAGE":"x\ud83d\ude00","_HOSTNAME":"h","__REALTIME_TIMESTAMP":"1"}`,
		`web-1  | x`,
		`[pod/a/b] x`,
		`/var/log/x.log:1:y`,
		"<1",
		`{"log":"\u`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := New(Options{BootTime: casesBoot})
		if err != nil {
			t.Fatal(err)
		}
		var ev Event
		env := p.unwrap([]byte(s), &ev)
		if len(env.inner) > len(s)*2+16 {
			t.Fatalf("inner grew: %d > %d", len(env.inner), len(s))
		}
		p.Parse([]byte(s), &ev)
		if ev.Kind == "" {
			t.Fatal("no kind")
		}
	})
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		"Warning OOMKilling  Memory cgroup out of memory: Kill process 1 (x) score 1 or sacrifice child",
		"  Warning  BackOff  1s  kubelet  Back-off restarting failed container",
		"x.service: Main process exited, code=killed, status=9/KILL",
		"container oom abc (name=x)",
		"I0101 00:00:00.000000       1 prober.go:1] x pod=\"a/b\"",
		"[Mon Dec  8 17:51:31 2025] x",
		"a  0/1  OOMKilled  1  1s",
	} {
		f.Add(s, "")
		f.Add(s, "kernel")
	}
	f.Fuzz(func(t *testing.T, s, program string) {
		src := detect([]byte(s), program)
		if !validSource(src) || src == SourceAuto {
			t.Fatalf("detect gave %q", src)
		}
	})
}
