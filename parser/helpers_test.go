package parser

import "testing"

// fuzzSource is the fuzz contract every source parser keeps: from the seeds
// on, any input gives an upstream event with a class or an unparsed record
// with a reason, never a panic and never another kind.
func fuzzSource(f *testing.F, src Source, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := New(Options{Source: src})
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
