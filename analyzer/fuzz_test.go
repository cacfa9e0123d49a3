package analyzer

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/parser"
)

// FuzzEngine: whatever lines arrive, in whatever order, the engine counts
// them and never panics; incidents it emits are well formed, and an id a
// merge ended names a survivor that is still live. Links are on, as in the
// streaming path.
func FuzzEngine(f *testing.F) {
	f.Add([]byte("2026/11/25 16:38:46 [error] 1#1: *302 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: s, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:4000/\", host: \"h\"\n" +
		"127.0.0.1 - - [25/Nov/2026:16:38:46 +0000] \"GET / HTTP/1.1\" 502 157 \"-\" \"ua\"\n" +
		"2026-11-25T16:38:46,158832+00:00 Memory cgroup out of memory: Killed process 20352 (node) total-vm:1kB, anon-rss:1kB\n"))
	f.Add(mergeSeed())
	f.Add([]byte("\x00\xff\n\n[25-Nov-2026 11:51:04] WARNING: [pool shop] server reached pm.max_children setting (2), consider raising it\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parser.New(parser.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(Config{EmitOpen: true, Links: true})
		if err != nil {
			t.Fatal(err)
		}
		latest := map[string]Incident{}
		check := func(incs []Incident) {
			for _, in := range incs {
				if in.MergedInto != "" {
					if in.Requests != 0 || in.Open || in.MergedInto == in.ID || in.Version <= latest[in.ID].Version {
						t.Errorf("malformed end of a merged id %+v (last %+v)", in, latest[in.ID])
					}
				} else if in.Requests < 1 || in.End.Before(in.Start) || in.Version < 1 || in.Fix == "" || len(in.Evidence) > 5 {
					t.Errorf("malformed incident %+v", in)
				}
				if last, ok := latest[in.ID]; ok && last.MergedInto != "" {
					t.Errorf("%s reported again after it was merged into %s", in.ID, last.MergedInto)
				}
				latest[in.ID] = in
			}
			e.DrainLinks()
		}
		var ev parser.Event
		for i, l := range bytes.Split(data, []byte("\n")) {
			p.Parse(l, &ev)
			if ev.Kind == parser.KindRequest && ev.Time.IsZero() {
				ev.Time = time.Unix(int64(i), 0)
			}
			in := Evidence{Event: ev, Origin: Origin{Path: "fuzz.log", FileID: "fuzz", Offset: int64(i)}, Line: string(l)}
			e.Add(&in)
			if i%7 == 0 {
				check(e.Drain())
			}
		}
		e.Flush()
		check(e.Drain())
		for id, in := range latest {
			if in.MergedInto != "" && latest[in.MergedInto].MergedInto != "" {
				t.Errorf("%s merged into %s, which is not live: %+v", id, in.MergedInto, latest[in.MergedInto])
			}
		}
	})
}

// mergeSeed is nginx's combined log with two bursts of 5xx drained apart,
// traffic that moves the clock, then a late 5xx that merges them (line 15,
// after the drain of line 14).
func mergeSeed() []byte {
	var b strings.Builder
	for _, l := range []string{"38:00 502", "38:01 502", "38:02 502", "38:50 502", "38:51 502", "38:52 502",
		"39:04 200", "39:05 200", "39:06 200", "39:07 200", "39:08 200", "39:09 200", "39:10 200", "39:11 200", "39:12 200",
		"38:26 504", "39:13 200"} {
		ts, status, _ := strings.Cut(l, " ")
		b.WriteString("127.0.0.1 - - [25/Nov/2026:16:" + ts + " +0000] \"GET / HTTP/1.1\" " + status + " 157 \"-\" \"ua\"\n")
	}
	return []byte(b.String())
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
