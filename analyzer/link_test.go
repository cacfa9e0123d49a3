package analyzer

import (
	"testing"

	"github.com/culprit-dev/culprit/parser"
)

// nginx logs "[info] client closed keepalive connection" with the serial of
// a kept-alive connection that served many requests: the notice must not
// stand in for the error line that explains a 5xx on that connection.
// (Seen live: 392 of 437 failed requests were counted as class other.)
func TestEngine_KeepaliveNoticeDoesNotTakeTheLink(t *testing.T) {
	// Arrival order as the streaming path can have it (access and error
	// logs on different partitions): the 5xx first, then the notice, then
	// the line that explains it.
	var evs []Evidence
	var pendingErr []Evidence
	for _, ev := range oomScenario() {
		if ev.Event.Kind == parser.KindProxyError {
			pendingErr = append(pendingErr, ev)
			continue
		}
		evs = append(evs, ev)
		if ev.Event.Kind != parser.KindRequest || ev.Event.Status < 500 {
			continue
		}
		for _, class := range []parser.Class{parser.ClassOther, parser.ClassClientClosed} {
			notice := proxyErr(ev.Event.Time.Sub(base).Seconds(), ev.Event.CID, class, "127.0.0.1:4000")
			notice.Event.Level = "info"
			notice.Event.Message = "client 127.0.0.1 closed keepalive connection"
			notice.Event.Request, notice.Event.Upstream = "", ""
			evs = append(evs, notice)
		}
		evs = append(evs, pendingErr...)
		pendingErr = pendingErr[:0]
	}
	in := one(t, run(t, Config{}, evs))
	if in.ClassCounts["upstream_refused"] != 38 {
		t.Errorf("classes %v, want all 38 requests linked to their refused line", in.ClassCounts)
	}
}
