package parser

import (
	"testing"
	"time"
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
