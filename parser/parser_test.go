package parser

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// What the envelope knew (a compose service, a journal unit) survives the
// source parser, which starts from a clean event.
func TestParse_EnvelopeFieldsSurvive(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	line := `web-1  | 2024/01/02 03:04:05 [error] 12#12: *5 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: x, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:1/", host: "h"`
	p.Parse([]byte(line), &ev)
	if ev.Kind != KindProxyError || ev.Class != ClassUpstreamRefused {
		t.Fatalf("kind %s class %s (%s)", ev.Kind, ev.Class, ev.Reason)
	}
	if ev.Container != "web-1" {
		t.Errorf("container %q, want web-1 from the compose prefix", ev.Container)
	}
	if want := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %v, want %v", ev.Time, want)
	}
}

func TestNew_RejectsBadOptions(t *testing.T) {
	if _, err := New(Options{Source: "nonsense"}); err == nil {
		t.Error("unknown source accepted")
	}
	if _, err := New(Options{LogFormat: `$remote_addr ${request`}); err == nil {
		t.Error("log_format with an unclosed ${ accepted (nginx rejects it too)")
	}
}

// nginx's escape=json writes non-ASCII bytes raw: a real line that is not
// valid UTF-8 is still a request, detected per line; junk that is not UTF-8
// stays unparsed with the reason.
func TestParse_RawBytesFromEscapeJSON(t *testing.T) {
	lines, err := os.ReadFile("testdata/nginx_access/json.log")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	invalid := 0
	for i, line := range bytes.Split(bytes.TrimSuffix(lines, []byte("\n")), []byte("\n")) {
		if utf8.Valid(line) {
			continue
		}
		invalid++
		p.Parse(line, &ev)
		if ev.Kind != KindRequest || ev.Status == 0 {
			t.Errorf("json.log line %d: kind %s status %d reason %q", i+1, ev.Kind, ev.Status, ev.Reason)
		}
	}
	if invalid == 0 {
		t.Fatal("json.log has no line with raw non-UTF-8 bytes any more: the test proves nothing")
	}
	p.Parse([]byte("\x00\xff\xfe\x01 junk"), &ev)
	if ev.Kind != KindUnparsed || ev.Reason != "invalid UTF-8" {
		t.Errorf("junk: kind %s reason %q", ev.Kind, ev.Reason)
	}
}

// A log_format that starts with $time_iso8601 reads like a timestamped
// envelope; the format the user gave must still parse every line
// (parser/testdata/access-formats/iso_first.*, written by nginx 1.22 here).
func TestParse_FormatStartingWithISOTime(t *testing.T) {
	format, err := os.ReadFile("testdata/access-formats/iso_first.format")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/access-formats/iso_first.log")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Source: SourceNginxAccess, LogFormat: strings.TrimSpace(string(format))})
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	n := 0
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		p.Parse(line, &ev)
		if ev.Kind != KindRequest {
			t.Fatalf("unparsed: %s\n%s", ev.Reason, line)
		}
		if want, _ := time.Parse(time.RFC3339, string(line[:25])); !ev.Time.Equal(want) {
			t.Errorf("time %s, want %s", ev.Time, want)
		}
		if ev.Status < 100 || ev.Status > 599 {
			t.Errorf("status %d in %s", ev.Status, line)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d lines", n)
	}
}
