package analyzer

import "github.com/culprit-dev/culprit/parser"

// ServiceKey names the topology service an event belongs to, "" when the
// topology does not name it. host is the machine that wrote the line. The
// streaming analyzer keys its events topic by it so that all evidence of one
// service (the proxy's 5xx and error lines for its upstreams, the kernel's
// OOM kills and the supervisor's restarts on its hosts) meets in one
// partition, hence in one correlator.
//
// It only reads the topology (no learning, no allocation): every parse stage
// must give the same answer for the same event, whatever else it has seen,
// or one service's evidence would be spread over partitions.
func (t *Topology) ServiceKey(ev *parser.Event, host string) string {
	if t == nil || ev == nil {
		return ""
	}
	if ev.Kind == parser.KindRequest {
		// The engine groups a request by the last server nginx tried (the
		// one whose failure the client got); an earlier try of the same
		// upstream{} group names the same service when the topology lists
		// the group's servers.
		for i := len(ev.UpstreamAddr) - 1; i >= 0; i-- {
			up := NormalizeUpstream(ev.UpstreamAddr[i])
			if up == "" {
				continue
			}
			for _, s := range t.Services {
				if containsUpstream(s.Upstreams, up) {
					return s.Name
				}
			}
		}
		return ""
	}
	if ev.Kind == parser.KindProxyError {
		// A proxy error belongs to the service of the upstream it names; the
		// proxy's host says nothing about which service failed.
		up := NormalizeUpstream(ev.Upstream)
		if up == "" {
			return ""
		}
		for _, s := range t.Services {
			if containsUpstream(s.Upstreams, up) {
				return s.Name
			}
		}
		return ""
	}
	inv := inventory{topo: t}
	return inv.topologyService(ev, host)
}
