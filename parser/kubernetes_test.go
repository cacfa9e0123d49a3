package parser

import "testing"

// FuzzKubernetes: any input gives an event or an unparsed record with a reason,
// never a panic.
func FuzzKubernetes(f *testing.F) {
	for _, s := range []string{"  Warning  BackOff  1s  kubelet  Back-off restarting failed container", "Warning OOMKilling  x", "      Exit Code:    999999999999999999999", "I0101 00:00:00.000000 1 a.go:1] pod=\"", "a  0/1  OOMKilled  1  1s", "Normal", "I0101 00:00:00.000000 a] b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := New(Options{Source: SourceKubernetes})
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
