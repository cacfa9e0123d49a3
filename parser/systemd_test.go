package parser

import "testing"

// FuzzSystemd: any input gives an event or an unparsed record with a reason,
// never a panic.
func FuzzSystemd(f *testing.F) {
	for _, s := range []string{"systemd[1]: app.service: Main process exited, code=killed, status=9/KILL", "x.service: Consumed 1.5G memory peak", "Killed /a/b.service due to memory ", "Started ", "Unit x entered failed state."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := New(Options{Source: SourceSystemd})
		if err != nil {
			t.Fatal(err)
		}
		var ev Event
		p.Parse([]byte(s), &ev)
		switch ev.Kind {
		case KindUpstreamEvent:
			if ev.Class == "" {
				t.Fatal("event without a class")
			}
		case KindUnparsed:
			if ev.Reason == "" {
				t.Fatal("unparsed without a reason")
			}
		default:
			t.Fatalf("kind %q", ev.Kind)
		}
	})
}
