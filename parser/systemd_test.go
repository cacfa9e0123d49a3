package parser

import "testing"

// FuzzSystemd: any input gives an event or an unparsed record with a reason,
// never a panic.
func FuzzSystemd(f *testing.F) {
	fuzzSource(f, SourceSystemd,
		"systemd[1]: app.service: Main process exited, code=killed, status=9/KILL",
		"x.service: Consumed 1.5G memory peak",
		"Killed /a/b.service due to memory ",
		"Started ",
		"Unit x entered failed state.")
}
