package clickhouse

import (
	"strings"
	"time"

	"github.com/culprit-dev/culprit/parser"
)

// Origin is where a line came from: the shipper's record headers plus the
// service the analyzer mapped it to. FileID and Offset are the line's
// identity, the dedup key of every event table.
type Origin struct {
	Host      string // shipper's host header
	Service   string
	Path      string
	FileID    string
	Offset    int64
	ReadTime  time.Time
	Truncated bool
}

// Batch accumulates rows column by column for one insert per table: the
// driver's columnar Append is several times cheaper than row-wise Append.
// Strings are kept as given (they may alias the record's value, which the
// caller must not reuse until the batch is written); slices are copied.
type Batch struct {
	req  requestCols
	perr proxyErrorCols
	up   upstreamCols
	unp  unparsedCols
}

// Len is the number of rows in all tables.
func (b *Batch) Len() int {
	return len(b.req.time) + len(b.perr.time) + len(b.up.time) + len(b.unp.time)
}

// Reset empties b, keeping its capacity: the consumer reuses a few batches
// rather than growing new columns for every insert. The old rows' strings
// stay referenced until overwritten, which bounds them to one batch.
func (b *Batch) Reset() {
	b.req.reset()
	b.perr.reset()
	b.up.reset()
	b.unp.reset()
}

// Add appends ev, read from the line at o, to the table of its kind.
func (b *Batch) Add(ev *parser.Event, o *Origin) {
	t := ev.Time
	if t.IsZero() {
		// The line carried no time the parser could read: the shipper's
		// read time is the best place in time we have.
		t = o.ReadTime
	}
	t = t.UTC()
	sec, ms := t.Truncate(time.Second), uint16(t.Nanosecond()/int(time.Millisecond))
	host := ev.Hostname
	if host == "" {
		host = o.Host
	}
	switch ev.Kind {
	case parser.KindRequest:
		c := &b.req
		c.time = append(c.time, sec)
		c.timeMS = append(c.timeMS, ms)
		c.service = append(c.service, o.Service)
		c.hostname = append(c.hostname, host)
		c.source = append(c.source, string(ev.Source))
		c.serverName = append(c.serverName, ev.ServerName)
		upstream := ""
		if n := len(ev.UpstreamAddr); n > 0 {
			// The last server tried is the one whose answer (or failure)
			// became the response status.
			upstream = ev.UpstreamAddr[n-1]
		}
		c.upstream = append(c.upstream, upstream)
		c.status = append(c.status, clampU16(ev.Status))
		c.client = append(c.client, ev.Client)
		c.method = append(c.method, ev.Method)
		c.uri = append(c.uri, ev.URI)
		c.protocol = append(c.protocol, ev.Protocol)
		c.bodyBytes = append(c.bodyBytes, ev.BodyBytes)
		c.referer = append(c.referer, ev.Referer)
		c.userAgent = append(c.userAgent, ev.UserAgent)
		c.requestTime = append(c.requestTime, ev.RequestTime)
		c.upstreamAddr = appendReuse(c.upstreamAddr, ev.UpstreamAddr)
		c.upstreamStatus = appendReuse(c.upstreamStatus, nil)
		st := &c.upstreamStatus[len(c.upstreamStatus)-1]
		for _, s := range ev.UpstreamStatus {
			*st = append(*st, clampU16(s))
		}
		c.connectTime = appendReuse(c.connectTime, ev.UpstreamConnectTime)
		c.headerTime = appendReuse(c.headerTime, ev.UpstreamHeaderTime)
		c.responseTime = appendReuse(c.responseTime, ev.UpstreamResponseTime)
		c.requestID = append(c.requestID, ev.RequestID)
		c.cid = append(c.cid, ev.CID)
		c.class = append(c.class, string(ev.Class))
		c.incidentID = append(c.incidentID, "")
		c.path = append(c.path, o.Path)
		c.fileID = append(c.fileID, o.FileID)
		c.lineOffset = append(c.lineOffset, uint64(o.Offset))
		c.readTime = append(c.readTime, o.ReadTime.UTC())
	case parser.KindProxyError:
		c := &b.perr
		c.time = append(c.time, sec)
		c.timeMS = append(c.timeMS, ms)
		c.service = append(c.service, o.Service)
		c.hostname = append(c.hostname, host)
		c.source = append(c.source, string(ev.Source))
		c.class = append(c.class, string(ev.Class))
		c.level = append(c.level, ev.Level)
		c.upstream = append(c.upstream, upstreamAddr(ev.Upstream))
		c.upstreamURL = append(c.upstreamURL, ev.Upstream)
		c.pid = append(c.pid, clampI32(ev.PID))
		c.tid = append(c.tid, clampI32(ev.TID))
		c.cid = append(c.cid, ev.CID)
		c.errno = append(c.errno, clampI32(ev.Errno))
		c.client = append(c.client, ev.Client)
		c.server = append(c.server, ev.Server)
		c.request = append(c.request, ev.Request)
		c.host = append(c.host, ev.Host)
		c.referrer = append(c.referrer, ev.Referrer)
		c.zone = append(c.zone, ev.Zone)
		c.message = append(c.message, ev.Message)
		c.incidentID = append(c.incidentID, "")
		c.path = append(c.path, o.Path)
		c.fileID = append(c.fileID, o.FileID)
		c.lineOffset = append(c.lineOffset, uint64(o.Offset))
		c.readTime = append(c.readTime, o.ReadTime.UTC())
	case parser.KindUpstreamEvent:
		c := &b.up
		c.time = append(c.time, sec)
		c.timeMS = append(c.timeMS, ms)
		c.service = append(c.service, o.Service)
		c.hostname = append(c.hostname, host)
		c.source = append(c.source, string(ev.Source))
		c.class = append(c.class, string(ev.Class))
		c.level = append(c.level, ev.Level)
		c.process = append(c.process, ev.Process)
		c.pid = append(c.pid, clampI32(ev.PID))
		c.signal = append(c.signal, ev.Signal)
		c.exitCode = append(c.exitCode, clampI32(ev.ExitCode))
		c.unit = append(c.unit, ev.Unit)
		c.container = append(c.container, ev.Container)
		c.app = append(c.app, ev.App)
		c.dependency = append(c.dependency, ev.Dependency)
		c.memoryKB = append(c.memoryKB, ev.MemoryKB)
		c.message = append(c.message, ev.Message)
		c.incidentID = append(c.incidentID, "")
		c.path = append(c.path, o.Path)
		c.fileID = append(c.fileID, o.FileID)
		c.lineOffset = append(c.lineOffset, uint64(o.Offset))
		c.readTime = append(c.readTime, o.ReadTime.UTC())
	default: // KindUnparsed, and any kind this build does not know
		c := &b.unp
		reason, line := ev.Reason, ev.Line
		if ev.Kind != parser.KindUnparsed {
			reason = "unknown event kind " + string(ev.Kind)
		}
		c.time = append(c.time, o.ReadTime.UTC().Truncate(time.Second))
		c.hostname = append(c.hostname, host)
		c.source = append(c.source, string(ev.Source))
		c.service = append(c.service, o.Service)
		c.path = append(c.path, o.Path)
		c.fileID = append(c.fileID, o.FileID)
		c.lineOffset = append(c.lineOffset, uint64(o.Offset))
		var tr uint8
		if o.Truncated {
			tr = 1
		}
		c.truncated = append(c.truncated, tr)
		c.reason = append(c.reason, reason)
		c.line = append(c.line, line)
	}
}

// AddUnparsed records a line that never reached the parser (bad headers),
// so that it is kept rather than dropped.
func (b *Batch) AddUnparsed(line []byte, reason string, o *Origin) {
	var ev parser.Event
	ev.Unparsed("", line, reason)
	b.Add(&ev, o)
}

// upstreamAddr reduces nginx's error-log upstream ("http://10.0.0.1:8080/x",
// "fastcgi://unix:/run/php.sock:", "10.0.0.1:80") to the address form of the
// access log's $upstream_addr, so errors and requests group by one key.
func upstreamAddr(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if strings.HasPrefix(u, "unix:") {
		// unix:/path/to.sock:/uri: the socket path ends at the next colon.
		if j := strings.IndexByte(u[5:], ':'); j >= 0 {
			return u[:5+j]
		}
		return u
	}
	if j := strings.IndexByte(u, '/'); j >= 0 {
		u = u[:j]
	}
	return u
}

// appendReuse appends a copy of v to an array column, reusing the inner
// slice a previous use of the batch left beyond len(col).
func appendReuse[T any](col [][]T, v []T) [][]T {
	if n := len(col); n < cap(col) {
		col = col[:n+1]
		col[n] = append(col[n][:0], v...)
		return col
	}
	return append(col, append([]T(nil), v...))
}

func clampU16(v int) uint16 {
	if v < 0 {
		return 0
	}
	if v > 65535 {
		return 65535
	}
	return uint16(v)
}

func clampI32(v int) int32 {
	if v < -1<<31 {
		return -1 << 31
	}
	if v > 1<<31-1 {
		return 1<<31 - 1
	}
	return int32(v)
}

// Column lists name the columns in the order of the values each
// columns() method returns; tests check them against the live schema.

type requestCols struct {
	time                                  []time.Time
	timeMS                                []uint16
	service, hostname, source, serverName []string
	upstream                              []string
	status                                []uint16
	client, method, uri, protocol         []string
	bodyBytes                             []int64
	referer, userAgent                    []string
	requestTime                           []float64
	upstreamAddr                          [][]string
	upstreamStatus                        [][]uint16
	connectTime, headerTime, responseTime [][]float64
	requestID                             []string
	cid                                   []int64
	class, incidentID, path, fileID       []string
	lineOffset                            []uint64
	readTime                              []time.Time
}

var requestColumns = []string{"time", "time_ms", "service", "hostname", "source", "server_name", "upstream", "status",
	"client", "method", "uri", "protocol", "body_bytes", "referer", "user_agent", "request_time", "upstream_addr",
	"upstream_status", "upstream_connect_time", "upstream_header_time", "upstream_response_time", "request_id", "cid",
	"class", "incident_id", "path", "file_id", "line_offset", "read_time"}

func (c *requestCols) columns() []any {
	return []any{c.time, c.timeMS, c.service, c.hostname, c.source, c.serverName, c.upstream, c.status,
		c.client, c.method, c.uri, c.protocol, c.bodyBytes, c.referer, c.userAgent, c.requestTime, c.upstreamAddr,
		c.upstreamStatus, c.connectTime, c.headerTime, c.responseTime, c.requestID, c.cid,
		c.class, c.incidentID, c.path, c.fileID, c.lineOffset, c.readTime}
}

func (c *requestCols) reset() {
	c.time = c.time[:0]
	c.timeMS = c.timeMS[:0]
	c.service = c.service[:0]
	c.hostname = c.hostname[:0]
	c.source = c.source[:0]
	c.serverName = c.serverName[:0]
	c.upstream = c.upstream[:0]
	c.status = c.status[:0]
	c.client = c.client[:0]
	c.method = c.method[:0]
	c.uri = c.uri[:0]
	c.protocol = c.protocol[:0]
	c.bodyBytes = c.bodyBytes[:0]
	c.referer = c.referer[:0]
	c.userAgent = c.userAgent[:0]
	c.requestTime = c.requestTime[:0]
	c.upstreamAddr = c.upstreamAddr[:0]
	c.upstreamStatus = c.upstreamStatus[:0]
	c.connectTime = c.connectTime[:0]
	c.headerTime = c.headerTime[:0]
	c.responseTime = c.responseTime[:0]
	c.requestID = c.requestID[:0]
	c.cid = c.cid[:0]
	c.class = c.class[:0]
	c.incidentID = c.incidentID[:0]
	c.path = c.path[:0]
	c.fileID = c.fileID[:0]
	c.lineOffset = c.lineOffset[:0]
	c.readTime = c.readTime[:0]
}

type proxyErrorCols struct {
	time                                    []time.Time
	timeMS                                  []uint16
	service, hostname, source, class, level []string
	upstream, upstreamURL                   []string
	pid, tid                                []int32
	cid                                     []int64
	errno                                   []int32
	client, server, request, host, referrer []string
	zone, message, incidentID, path, fileID []string
	lineOffset                              []uint64
	readTime                                []time.Time
}

var proxyErrorColumns = []string{"time", "time_ms", "service", "hostname", "source", "class", "level", "upstream",
	"upstream_url", "pid", "tid", "cid", "errno", "client", "server", "request", "host", "referrer", "zone", "message", "incident_id",
	"path", "file_id", "line_offset", "read_time"}

func (c *proxyErrorCols) columns() []any {
	return []any{c.time, c.timeMS, c.service, c.hostname, c.source, c.class, c.level, c.upstream,
		c.upstreamURL, c.pid, c.tid, c.cid, c.errno, c.client, c.server, c.request, c.host, c.referrer, c.zone, c.message, c.incidentID,
		c.path, c.fileID, c.lineOffset, c.readTime}
}

func (c *proxyErrorCols) reset() {
	c.time = c.time[:0]
	c.timeMS = c.timeMS[:0]
	c.service = c.service[:0]
	c.hostname = c.hostname[:0]
	c.source = c.source[:0]
	c.class = c.class[:0]
	c.level = c.level[:0]
	c.upstream = c.upstream[:0]
	c.upstreamURL = c.upstreamURL[:0]
	c.pid = c.pid[:0]
	c.tid = c.tid[:0]
	c.cid = c.cid[:0]
	c.errno = c.errno[:0]
	c.client = c.client[:0]
	c.server = c.server[:0]
	c.request = c.request[:0]
	c.host = c.host[:0]
	c.referrer = c.referrer[:0]
	c.zone = c.zone[:0]
	c.message = c.message[:0]
	c.incidentID = c.incidentID[:0]
	c.path = c.path[:0]
	c.fileID = c.fileID[:0]
	c.lineOffset = c.lineOffset[:0]
	c.readTime = c.readTime[:0]
}

type upstreamCols struct {
	time                                    []time.Time
	timeMS                                  []uint16
	service, hostname, source, class, level []string
	process                                 []string
	pid                                     []int32
	signal                                  []string
	exitCode                                []int32
	unit, container, app, dependency        []string
	memoryKB                                []int64
	message, incidentID, path, fileID       []string
	lineOffset                              []uint64
	readTime                                []time.Time
}

var upstreamColumns = []string{"time", "time_ms", "service", "hostname", "source", "class", "level", "process", "pid",
	"signal", "exit_code", "unit", "container", "app", "dependency", "memory_kb", "message", "incident_id", "path",
	"file_id", "line_offset", "read_time"}

func (c *upstreamCols) columns() []any {
	return []any{c.time, c.timeMS, c.service, c.hostname, c.source, c.class, c.level, c.process, c.pid,
		c.signal, c.exitCode, c.unit, c.container, c.app, c.dependency, c.memoryKB, c.message, c.incidentID, c.path,
		c.fileID, c.lineOffset, c.readTime}
}

func (c *upstreamCols) reset() {
	c.time = c.time[:0]
	c.timeMS = c.timeMS[:0]
	c.service = c.service[:0]
	c.hostname = c.hostname[:0]
	c.source = c.source[:0]
	c.class = c.class[:0]
	c.level = c.level[:0]
	c.process = c.process[:0]
	c.pid = c.pid[:0]
	c.signal = c.signal[:0]
	c.exitCode = c.exitCode[:0]
	c.unit = c.unit[:0]
	c.container = c.container[:0]
	c.app = c.app[:0]
	c.dependency = c.dependency[:0]
	c.memoryKB = c.memoryKB[:0]
	c.message = c.message[:0]
	c.incidentID = c.incidentID[:0]
	c.path = c.path[:0]
	c.fileID = c.fileID[:0]
	c.lineOffset = c.lineOffset[:0]
	c.readTime = c.readTime[:0]
}

type unparsedCols struct {
	time                                    []time.Time
	hostname, source, service, path, fileID []string
	lineOffset                              []uint64
	truncated                               []uint8
	reason, line                            []string
}

var unparsedColumns = []string{"time", "hostname", "source", "service", "path", "file_id", "line_offset", "truncated",
	"reason", "line"}

func (c *unparsedCols) columns() []any {
	return []any{c.time, c.hostname, c.source, c.service, c.path, c.fileID, c.lineOffset, c.truncated, c.reason, c.line}
}

func (c *unparsedCols) reset() {
	c.time = c.time[:0]
	c.hostname = c.hostname[:0]
	c.source = c.source[:0]
	c.service = c.service[:0]
	c.path = c.path[:0]
	c.fileID = c.fileID[:0]
	c.lineOffset = c.lineOffset[:0]
	c.truncated = c.truncated[:0]
	c.reason = c.reason[:0]
	c.line = c.line[:0]
}
