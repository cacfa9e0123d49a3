package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/culprit-dev/culprit/parser"
)

// inferRewriteFormats are log_formats none of explain's fixed candidates
// read: a scenario's access log rewritten into them, without its nginx.conf,
// leaves only inference to find the requests.
var inferRewriteFormats = map[string]string{
	// ingress-nginx's upstreaminfo (with an empty alternative upstream).
	"ingress": `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $request_id`,
	// ISO time first, key=value with keys of the team's own choosing.
	"kv": `$time_iso8601 client=$remote_addr "$request" code=$status size=$body_bytes_sent took=$request_time backend=$upstream_addr backend_code=$upstream_status uct=$upstream_connect_time uht=$upstream_header_time urt=$upstream_response_time id=$request_id`,
}

// renderAccess writes ev in format, as nginx would have (the multi-value
// lists joined by ", ": the group boundary is not in the Event).
func renderAccess(t *testing.T, format string, ev *parser.Event) string {
	t.Helper()
	secs := func(x float64) string {
		if x == parser.Absent {
			return "-"
		}
		return strconv.FormatFloat(x, 'f', 3, 64)
	}
	list := func(n int, item func(int) string) string {
		if n == 0 {
			return "-"
		}
		parts := make([]string, n)
		for i := range parts {
			parts[i] = item(i)
		}
		return strings.Join(parts, ", ")
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	vals := map[string]string{
		"remote_addr": ev.Client, "remote_user": "-",
		"time_local":   ev.Time.Format("02/Jan/2006:15:04:05 -0700"),
		"time_iso8601": ev.Time.Format("2006-01-02T15:04:05-07:00"),
		"request":      ev.Request, "status": strconv.Itoa(ev.Status),
		"body_bytes_sent": strconv.FormatInt(max(ev.BodyBytes, 0), 10),
		"http_referer":    dash(ev.Referer), "http_user_agent": dash(ev.UserAgent),
		"request_length": "87", "request_time": secs(max(ev.RequestTime, 0)),
		"proxy_upstream_name": "default-app-80", "request_id": dash(ev.RequestID),
		"upstream_addr": list(len(ev.UpstreamAddr), func(i int) string { return dash(ev.UpstreamAddr[i]) }),
		"upstream_status": list(len(ev.UpstreamStatus), func(i int) string {
			if ev.UpstreamStatus[i] == 0 {
				return "-"
			}
			return strconv.Itoa(ev.UpstreamStatus[i])
		}),
		"upstream_response_length": list(len(ev.UpstreamAddr), func(int) string { return "0" }),
		"upstream_connect_time":    list(len(ev.UpstreamConnectTime), func(i int) string { return secs(ev.UpstreamConnectTime[i]) }),
		"upstream_header_time":     list(len(ev.UpstreamHeaderTime), func(i int) string { return secs(ev.UpstreamHeaderTime[i]) }),
		"upstream_response_time":   list(len(ev.UpstreamResponseTime), func(i int) string { return secs(ev.UpstreamResponseTime[i]) }),
	}
	var b strings.Builder
	for i := 0; i < len(format); {
		if format[i] != '$' {
			b.WriteByte(format[i])
			i++
			continue
		}
		j := i + 1
		for j < len(format) && (format[j] == '_' || format[j] >= 'a' && format[j] <= 'z' || format[j] >= '0' && format[j] <= '9') {
			j++
		}
		v, ok := vals[format[i+1:j]]
		if !ok {
			t.Fatalf("renderAccess: no value for $%s", format[i+1:j])
		}
		b.WriteString(v)
		i = j
	}
	return b.String()
}

// rewriteScenario copies a scenario without its nginx.conf, its access log
// rewritten in format. It returns the directory.
func rewriteScenario(t *testing.T, src, format string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(src, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		LogFormat string `json:"log_format"`
	}
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.LogFormat == "" {
		t.Skipf("%s: truth.json has no log_format", src)
	}
	p, err := parser.New(parser.Options{Source: parser.SourceNginxAccess, LogFormat: tr.LogFormat})
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, ".conf") || name == "truth.json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "access.log" {
			var out bytes.Buffer
			sc := bufio.NewScanner(bytes.NewReader(b))
			sc.Buffer(nil, 1<<20)
			var ev parser.Event
			for sc.Scan() {
				p.Parse(sc.Bytes(), &ev)
				if ev.Kind != parser.KindRequest {
					t.Fatalf("%s: the scenario's own format does not read %q", src, sc.Text())
				}
				out.WriteString(renderAccess(t, format, &ev))
				out.WriteByte('\n')
			}
			b = out.Bytes()
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestExplain_InferredFormat: scenarios whose access log is in a format no
// conf names and no common format reads still get their cause, through
// parser.InferAccessFormat, and the note says which format was used.
func TestExplain_InferredFormat(t *testing.T) {
	for _, scn := range []string{"node-heap-oom", "gunicorn-timeout", "backend-down"} {
		for name, format := range inferRewriteFormats {
			t.Run(scn+"/"+name, func(t *testing.T) {
				src := filepath.Join("../../testdata/scenarios", scn)
				dir := rewriteScenario(t, src, format)
				var want truth
				data, _ := os.ReadFile(filepath.Join(src, "truth.json"))
				if err := json.Unmarshal(data, &want); err != nil {
					t.Fatal(err)
				}
				got := explainJSON(t, dir)
				note := fmt.Sprintf("%s read as nginx access log with log_format", filepath.Join(dir, "access.log"))
				found := false
				for _, n := range got.Notes {
					found = found || strings.HasPrefix(n, note) && strings.Contains(n, "(inferred from its lines")
				}
				if !found {
					t.Errorf("no note %q in %q", note, got.Notes)
				}
				for _, w := range want.Incidents {
					ok := false
					for _, g := range got.Incidents {
						ok = ok || g.Upstream == w.Upstream && g.Cause == w.Cause && g.Requests == w.Requests
					}
					if !ok {
						t.Errorf("no %s incident on %s with %d requests; got %+v", w.Cause, w.Upstream, w.Requests, got.Incidents)
					}
				}
			})
		}
	}
}

// TestExplain_InferredFormatLooksPastAQuietHead: an access log whose first
// 200 lines reached no upstream ("-" in every upstream field) gets its
// upstream fields named from the end of the file (real tab-separated
// lines of scripts/reallogs/access-formats, the static ones first).
func TestExplain_InferredFormatLooksPastAQuietHead(t *testing.T) {
	data, err := os.ReadFile("../../parser/testdata/access-formats/tsv.log")
	if err != nil {
		t.Fatal(err)
	}
	var static, proxied []byte
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if bytes.Split(l, []byte("\t"))[6][0] == '-' {
			static = append(append(static, l...), '\n')
		} else {
			proxied = append(append(proxied, l...), '\n')
		}
	}
	var log []byte
	for bytes.Count(log, []byte("\n")) < sniffLines {
		log = append(log, static...)
	}
	log = append(log, proxied...)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	if err := os.WriteFile(path, log, 0o644); err != nil {
		t.Fatal(err)
	}
	files, formats, _, err := collectInputs([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := sniffAll(files, formats, false); err != nil {
		t.Fatal(err)
	}
	f := files[0]
	if f.kind != parser.SourceNginxAccess || !f.inferred || !strings.Contains(f.format, "\t$upstream_addr\t") {
		t.Fatalf("kind %q inferred %v format %q", f.kind, f.inferred, f.format)
	}
	head, _ := headLines(path, sniffLines)
	if fm, _, err := parser.InferAccessFormat(head); err != nil || strings.Contains(fm, "$upstream_addr") {
		t.Errorf("the head alone names the upstream address (%q, %v): the test cannot tell", fm, err)
	}
}
