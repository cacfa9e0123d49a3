package analyzer

import (
	"time"

	"github.com/culprit-dev/culprit/parser"
)

// Origin says where an evidence line came from.
type Origin struct {
	Path string // file path or stream name ("/var/log/nginx/error.log", "kmsg")
	Host string // machine that wrote it, "" when unknown
	// FileID and Offset identify the line (the shipper's file identity and
	// the byte offset of the line in it, as in internal/record): a 5xx's
	// Link names its request by them. Zero when unknown.
	FileID string
	Offset int64
}

// Link says where the engine placed one 5xx request: the error class it got
// (from the error-log line joined to it, else from its access fields alone:
// ClassAppError, ClassNoResponse, ClassUnlinked) and the incident it belongs
// to. DrainLinks reports it with the first evaluation of its incident (for a
// burst too small to be one, when the burst closes) and again whenever it
// changes: a late error line gives it its class, a merge moves it to
// another incident id, a burst grows into an incident.
type Link struct {
	// Host, FileID and Offset are the request's Origin: its line identity.
	Host   string
	FileID string
	Offset int64
	Time   time.Time // the request's time
	Class  parser.Class
	// Incident is the incident's id, "" when the 5xx belong to a burst
	// smaller than MinRequests (noise, no incident).
	Incident string
	// Version is the incident's version this link was reported with (0
	// without an incident). A link is not reported again when only the
	// incident's version changes.
	Version int
}

// Evidence is one input of the engine: a parsed event, where it came from and
// the raw line. Add copies what it keeps, so the caller may reuse the Event's
// buffers and Line after Add returns.
type Evidence struct {
	Event  parser.Event
	Origin Origin
	Line   string
}

// Cause is the root-cause vocabulary of DESIGN.md (a documented contract).
type Cause string

const (
	CauseOOMKill           Cause = "oom_kill"
	CauseRuntimeOOM        Cause = "runtime_oom"
	CauseCrash             Cause = "crash"
	CauseRestart           Cause = "restart"
	CauseWorkerTimeout     Cause = "worker_timeout"
	CausePoolSaturation    Cause = "pool_saturation"
	CauseSlowUpstream      Cause = "slow_upstream"
	CauseDependencyFailure Cause = "dependency_failure"
	CauseDNSFailure        Cause = "dns_failure"
	CauseNetworkUnreach    Cause = "network_unreachable"
	CauseTLSFailure        Cause = "tls_failure"
	CauseInvalidResponse   Cause = "invalid_response"
	CauseRateLimit         Cause = "rate_limit"
	CauseProxyExhaustion   Cause = "proxy_exhaustion"
	CauseBackendDown       Cause = "backend_down"
	CauseUnknown           Cause = "unknown"
)

// Pseudo error classes counted for 5xx that no error-log line explains; they
// complete DESIGN.md's proxy_error classes in Incident.ClassCounts.
const (
	// ClassAppError: $upstream_header_time has a value, so the application
	// itself answered the 5xx.
	ClassAppError parser.Class = "app_error"
	// ClassNoResponse: nginx tried the upstream and got no response header,
	// but no error-log line says why.
	ClassNoResponse parser.Class = "no_response"
	// ClassUnlinked: neither an error-log line nor upstream fields explain it.
	ClassUnlinked parser.Class = "unlinked"
)

// Incident is a burst of 5xx on one upstream (or one virtual server when the
// proxy answered by itself) with its root cause. Its JSON form is the
// contract documented in docs/incidents.md.
type Incident struct {
	// ID is stable across re-runs over the same input and across revisions.
	ID       string `json:"id"`
	Service  string `json:"service"`
	Upstream string `json:"upstream"`
	// Server is the virtual server when the incident has no upstream
	// (rate limiting, DNS failure before any address was known).
	Server       string         `json:"server,omitempty"`
	Start        time.Time      `json:"start"`
	End          time.Time      `json:"end"`
	Requests     int            `json:"requests"`
	StatusCounts map[string]int `json:"status_counts"`
	ClassCounts  map[string]int `json:"class_counts"`
	Cause        Cause          `json:"cause"`
	Confidence   float64        `json:"confidence"`
	// Dependency names the failing dependency for dependency_failure.
	Dependency   string         `json:"dependency,omitempty"`
	Summary      string         `json:"summary"`
	Evidence     []EvidenceLine `json:"evidence"`
	Contributing []Contributing `json:"contributing"`
	Fix          string         `json:"fix"`
	Version      int            `json:"version"`
	// Open is true while more 5xx may still extend the incident.
	Open bool `json:"open"`
	// MergedInto is set on the final snapshot of an id that stopped existing:
	// a late 5xx bridged two incidents of one upstream, and this one was
	// folded into the incident named here (its requests, counts and links
	// now belong to that one). Only an id that Drain had already returned
	// gets such a snapshot; readers skip it (see Merged).
	MergedInto string `json:"merged_into,omitempty"`

	// Timeline is the 5xx count per second from Start (for charts).
	Timeline []int `json:"-"`
	// Marks are the upstream-side events around the window (for charts).
	Marks []EvidenceLine `json:"-"`
}

// Merged reports whether in is the final snapshot of an absorbed id.
func (in *Incident) Merged() bool { return in.MergedInto != "" }

// MergedSnapshot is the final snapshot of an incident id absorbed by a merge:
// last (the id's last snapshot a caller received) with a higher version,
// closed, naming the survivor, and holding no request any more. Its requests
// moved to the survivor, so its counts are zero: stored rows that are not
// filtered still add up (requests, and request links per incident), and the
// survivor carries the totals. Where it was and what it was thought to be
// (service, upstream, window, cause) stay, for history.
func MergedSnapshot(last Incident, survivor string) Incident {
	last.Version++
	last.Open = false
	last.MergedInto = survivor
	last.Requests = 0
	last.StatusCounts = map[string]int{}
	last.ClassCounts = map[string]int{}
	last.Evidence = []EvidenceLine{}
	last.Contributing = []Contributing{}
	last.Timeline, last.Marks = nil, nil
	last.Summary = "Merged into incident " + survivor + ": a later 5xx joined the two bursts of errors on " +
		firstNonEmpty(last.Upstream, "server "+last.Server) + ", and that incident now holds these requests."
	return last
}

// EvidenceLine is one log line that supports a verdict.
type EvidenceLine struct {
	TS     time.Time    `json:"ts"`
	Source string       `json:"source"`
	Host   string       `json:"host"`
	Line   string       `json:"line"`
	Class  parser.Class `json:"class,omitempty"`
}

// Contributing is a secondary cause found in the same window.
type Contributing struct {
	Cause      Cause   `json:"cause"`
	Confidence float64 `json:"confidence"`
	Dependency string  `json:"dependency,omitempty"`
	Fix        string  `json:"fix"`
}

// Fix returns the one-line suggested fix for a cause.
func Fix(c Cause, dependency string) string {
	switch c {
	case CauseOOMKill:
		return "Raise the memory limit of the service (cgroup/container/PM2 max_memory_restart) or fix the leak; keep more than one instance behind the upstream so a kill does not refuse every request."
	case CauseRuntimeOOM:
		return "The runtime ran out of heap: raise its heap limit (node --max-old-space-size, java -Xmx, PHP memory_limit) or fix the leak."
	case CauseCrash:
		return "Fix the crash shown in the evidence (uncaught exception/panic) and run more than one instance so a crash does not take the upstream down."
	case CauseRestart:
		return "Deploy with a graceful reload (drain, then stop; start the new instance before stopping the old) or add a second upstream server."
	case CauseWorkerTimeout:
		return "Find the slow request that hit the worker timeout; raise the worker timeout (gunicorn --timeout, uWSGI harakiri) only if it is legitimate, or add workers."
	case CausePoolSaturation:
		return "A pool was full: raise it if memory and the backend allow (php-fpm pm.max_children and listen.backlog, gunicorn/uWSGI workers, the app's database pool size, ulimit -n for descriptors), or make the slow requests faster."
	case CauseSlowUpstream:
		return "Raise proxy_read_timeout only if the slowness is expected; otherwise find the slow query or call in the upstream."
	case CauseDependencyFailure:
		if dependency != "" {
			return "The application failed to reach its dependency " + dependency + ": bring it back and add retries/timeouts or a circuit breaker."
		}
		return "The application failed to reach one of its dependencies: bring it back and add retries/timeouts or a circuit breaker."
	case CauseDNSFailure:
		return "Check the resolver nginx uses (resolver directive) and the upstream's DNS name; use a static address or a longer valid= for the cache."
	case CauseNetworkUnreach:
		return "Check routing and firewalls between the proxy and the upstream host."
	case CauseTLSFailure:
		return "Check the upstream's certificate and protocols against proxy_ssl_* settings (proxy_ssl_server_name, proxy_ssl_protocols)."
	case CauseInvalidResponse:
		return "The upstream sent an invalid or too big response header: fix the application or raise proxy_buffer_size."
	case CauseRateLimit:
		return "Requests were rejected by limit_req/limit_conn: raise the rate or burst if this traffic is legitimate."
	case CauseProxyExhaustion:
		return "The proxy ran out of connections or file descriptors: raise worker_connections and worker_rlimit_nofile."
	case CauseBackendDown:
		return "Nothing was listening on the upstream: check that the service is running and supervised (systemd/PM2 restart policy)."
	}
	return "No upstream-side evidence explains these errors: add the upstream's logs (app, supervisor, kernel) to the input."
}
