package parser

import "testing"

// FuzzDocker: any input gives an event or an unparsed record with a reason,
// never a panic.
func FuzzDocker(f *testing.F) {
	fuzzSource(f, SourceDocker,
		"container die abc (exitCode=137, name=web)",
		"{\"status\":\"oom\",\"id\":\"a\",\"timeNano\":99999999999999999999}",
		"{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"Attributes\":{\"exitCode\":\"x\"}}}",
		"time=\"x\" level=info msg=\"a\\\\\"",
		"container  ()")
}
