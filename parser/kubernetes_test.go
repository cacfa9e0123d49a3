package parser

import "testing"

// FuzzKubernetes: any input gives an event or an unparsed record with a reason,
// never a panic.
func FuzzKubernetes(f *testing.F) {
	fuzzSource(f, SourceKubernetes,
		"  Warning  BackOff  1s  kubelet  Back-off restarting failed container",
		"Warning OOMKilling  x",
		"      Exit Code:    999999999999999999999",
		"I0101 00:00:00.000000 1 a.go:1] pod=\"",
		"a  0/1  OOMKilled  1  1s",
		"Normal",
		"I0101 00:00:00.000000 a] b")
}
