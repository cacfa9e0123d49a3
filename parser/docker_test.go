package parser

import "testing"

// FuzzDocker: any input gives an event or an unparsed record with a reason,
// never a panic.
func FuzzDocker(f *testing.F) {
	for _, s := range []string{"container die abc (exitCode=137, name=web)", "{\"status\":\"oom\",\"id\":\"a\",\"timeNano\":99999999999999999999}", "{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"Attributes\":{\"exitCode\":\"x\"}}}", "time=\"x\" level=info msg=\"a\\\\\"", "container  ()"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := New(Options{Source: SourceDocker})
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
