package analyzer

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/parser"
)

// FuzzEngine: whatever lines arrive, in whatever order, the engine counts
// them and never panics; incidents it emits are well formed.
func FuzzEngine(f *testing.F) {
	f.Add([]byte("2026/11/25 16:38:46 [error] 1#1: *302 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: s, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:4000/\", host: \"h\"\n" +
		"127.0.0.1 - - [25/Nov/2026:16:38:46 +0000] \"GET / HTTP/1.1\" 502 157 \"-\" \"ua\"\n" +
		"2026-11-25T16:38:46,158832+00:00 Memory cgroup out of memory: Killed process 20352 (node) total-vm:1kB, anon-rss:1kB\n"))
	f.Add([]byte("\x00\xff\n\n[25-Nov-2026 11:51:04] WARNING: [pool shop] server reached pm.max_children setting (2), consider raising it\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parser.New(parser.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(Config{EmitOpen: true})
		if err != nil {
			t.Fatal(err)
		}
		var ev parser.Event
		for i, l := range bytes.Split(data, []byte("\n")) {
			p.Parse(l, &ev)
			if ev.Kind == parser.KindRequest && ev.Time.IsZero() {
				ev.Time = time.Unix(int64(i), 0)
			}
			in := Evidence{Event: ev, Origin: Origin{Path: "fuzz.log"}, Line: string(l)}
			e.Add(&in)
			if i%7 == 0 {
				e.Drain()
			}
		}
		e.Flush()
		for _, in := range e.Drain() {
			if in.Requests < 1 || in.End.Before(in.Start) || in.Version < 1 || in.Fix == "" || len(in.Evidence) > 5 {
				t.Errorf("malformed incident %+v", in)
			}
		}
	})
}

// FuzzParseTopology: bad YAML is an error, never a panic.
func FuzzParseTopology(f *testing.F) {
	f.Add("services:\n  - name: a\n    upstreams: [\"127.0.0.1:1\"]\n")
	f.Add("services: [")
	f.Fuzz(func(t *testing.T, s string) {
		topo, err := ParseTopology(strings.NewReader(s))
		if err == nil && topo.Validate() != nil {
			t.Errorf("accepted an invalid topology")
		}
	})
}
