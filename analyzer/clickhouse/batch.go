package clickhouse

import (
	"math"
	"strings"
	"time"

	"github.com/ClickHouse/ch-go/proto"

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

// Batch accumulates rows column by column, in ClickHouse's native format,
// for one insert per table. Values are copied into byte buffers that hold
// no pointers: the record a row came from can be freed as soon as it is
// added, and the garbage collector never scans a batch. (Rows appended
// through the driver's generic Append cost reflection and an allocation
// per value, most of the analyzer's CPU at 100 k lines/s.)
type Batch struct {
	req  requestCols
	perr proxyErrorCols
	up   upstreamCols
	unp  unparsedCols
}

// Len is the number of rows in all tables.
func (b *Batch) Len() int {
	return b.req.time.Rows() + b.perr.time.Rows() + b.up.time.Rows() + b.unp.time.Rows()
}

// Reset empties b, keeping its buffers' capacity: the consumer reuses a few
// batches rather than growing new columns for every insert.
func (b *Batch) Reset() {
	for _, cols := range [][]col{b.req.cols(), b.perr.cols(), b.up.cols(), b.unp.cols()} {
		for _, c := range cols {
			c.data.Reset()
		}
	}
}

// Add appends ev, read from the line at o, to the table of its kind.
func (b *Batch) Add(ev *parser.Event, o *Origin) {
	switch ev.Kind {
	case parser.KindRequest:
		c := &b.req
		if c.upstreamAddr.Data == nil {
			c.init()
		}
		c.head.add(ev, o)
		c.serverName.Append(ev.ServerName)
		upstream := ""
		if n := len(ev.UpstreamAddr); n > 0 {
			// The last server tried is the one whose answer (or failure)
			// became the response status.
			upstream = ev.UpstreamAddr[n-1]
		}
		c.upstream.Append(upstream)
		c.status.Append(clampU16(ev.Status))
		c.client.Append(ev.Client)
		c.method.Append(ev.Method)
		c.uri.Append(ev.URI)
		c.protocol.Append(ev.Protocol)
		c.bodyBytes.Append(ev.BodyBytes)
		c.referer.Append(ev.Referer)
		c.userAgent.Append(ev.UserAgent)
		c.requestTime.Append(ev.RequestTime)
		c.upstreamAddr.Append(ev.UpstreamAddr)
		for _, s := range ev.UpstreamStatus {
			c.upstreamStatus.Data.Append(clampU16(s))
		}
		c.upstreamStatus.Offsets.Append(uint64(c.upstreamStatus.Data.Rows()))
		c.connectTime.Append(ev.UpstreamConnectTime)
		c.headerTime.Append(ev.UpstreamHeaderTime)
		c.responseTime.Append(ev.UpstreamResponseTime)
		c.requestID.Append(ev.RequestID)
		c.cid.Append(ev.CID)
		c.tail.add(o)
	case parser.KindProxyError:
		c := &b.perr
		c.head.add(ev, o)
		c.level.Append(ev.Level)
		c.upstream.Append(upstreamAddr(ev.Upstream))
		c.upstreamURL.Append(ev.Upstream)
		c.pid.Append(clampI32(ev.PID))
		c.tid.Append(clampI32(ev.TID))
		c.cid.Append(ev.CID)
		c.errno.Append(clampI32(ev.Errno))
		c.client.Append(ev.Client)
		c.server.Append(ev.Server)
		c.request.Append(ev.Request)
		c.host.Append(ev.Host)
		c.referrer.Append(ev.Referrer)
		c.zone.Append(ev.Zone)
		c.message.Append(ev.Message)
		c.tail.add(o)
	case parser.KindUpstreamEvent:
		c := &b.up
		c.head.add(ev, o)
		c.level.Append(ev.Level)
		c.process.Append(ev.Process)
		c.pid.Append(clampI32(ev.PID))
		c.signal.Append(ev.Signal)
		c.exitCode.Append(clampI32(ev.ExitCode))
		c.unit.Append(ev.Unit)
		c.container.Append(ev.Container)
		c.app.Append(ev.App)
		c.dependency.Append(ev.Dependency)
		c.memoryKB.Append(ev.MemoryKB)
		c.message.Append(ev.Message)
		c.tail.add(o)
	default: // KindUnparsed, and any kind this build does not know
		c := &b.unp
		reason, line := ev.Reason, ev.Line
		if ev.Kind != parser.KindUnparsed {
			reason = "unknown event kind " + string(ev.Kind)
		}
		c.time.Append(dateTime(o.ReadTime))
		c.hostname.Append(hostname(ev, o))
		c.source.Append(string(ev.Source))
		c.service.Append(o.Service)
		c.path.Append(o.Path)
		c.fileID.Append(o.FileID)
		c.lineOffset.Append(uint64(o.Offset))
		var tr uint8
		if o.Truncated {
			tr = 1
		}
		c.truncated.Append(tr)
		c.reason.Append(reason)
		c.line.Append(line)
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

func hostname(ev *parser.Event, o *Origin) string {
	if ev.Hostname != "" {
		return ev.Hostname
	}
	return o.Host
}

// dateTime is t as a DateTime column stores it: whole seconds since the
// epoch in a UInt32. Times the type cannot hold are clamped, not refused: a
// garbled year must not stop the pipeline.
func dateTime(t time.Time) uint32 {
	return uint32(min(max(t.Unix(), 0), math.MaxUint32))
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

// column is one column under construction: ch-go's proto columns and lcStr.
type column interface {
	Rows() int
	EncodeColumn(b *proto.Buffer)
	Reset()
}

// col names a column of a table with the ClickHouse type its encoding is.
type col struct {
	name string
	typ  string
	data column
}

const (
	tDateTime = "DateTime"
	tLC       = "LowCardinality(String)"
	tString   = "String"
)

// values returns c's rows as Go values, for the driver's generic Append.
func (c col) values() any {
	switch d := c.data.(type) {
	case *proto.ColStr:
		out := make([]string, d.Rows())
		for i := range out {
			out[i] = d.Row(i)
		}
		return out
	case *lcStr:
		out := make([]string, len(d.keys))
		for i, k := range d.keys {
			out[i] = d.dict.Row(int(k))
		}
		return out
	case *proto.ColUInt32:
		if c.typ != tDateTime {
			return []uint32(*d)
		}
		out := make([]time.Time, len(*d))
		for i, v := range *d {
			out[i] = time.Unix(int64(v), 0).UTC()
		}
		return out
	case *proto.ColUInt8:
		return []uint8(*d)
	case *proto.ColUInt16:
		return []uint16(*d)
	case *proto.ColInt32:
		return []int32(*d)
	case *proto.ColInt64:
		return []int64(*d)
	case *proto.ColUInt64:
		return []uint64(*d)
	case *proto.ColFloat64:
		return []float64(*d)
	case *proto.ColArr[string]:
		return arrValues(d)
	case *proto.ColArr[uint16]:
		return arrValues(d)
	case *proto.ColArr[float64]:
		return arrValues(d)
	}
	// A column type added without a case here: the driver refuses nil
	// with an error that names the column.
	return nil
}

func arrValues[T any](c *proto.ColArr[T]) [][]T {
	out := make([][]T, c.Rows())
	for i := range out {
		out[i] = c.Row(i)
	}
	return out
}

func names(cols []col) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// head holds the columns the three event tables start with.
type head struct {
	time                           proto.ColUInt32 // DateTime
	timeMS                         proto.ColUInt16
	service, hostname, source, cls lcStr
}

func (h *head) add(ev *parser.Event, o *Origin) {
	t := ev.Time
	if t.IsZero() {
		// The line carried no time the parser could read: the shipper's
		// read time is the best place in time we have.
		t = o.ReadTime
	}
	h.time.Append(dateTime(t))
	h.timeMS.Append(uint16(t.Nanosecond() / int(time.Millisecond)))
	h.service.Append(o.Service)
	h.hostname.Append(hostname(ev, o))
	h.source.Append(string(ev.Source))
	h.cls.Append(string(ev.Class))
}

func (h *head) cols() []col {
	return []col{{"time", tDateTime, &h.time}, {"time_ms", "UInt16", &h.timeMS}, {"service", tLC, &h.service},
		{"hostname", tLC, &h.hostname}, {"source", tLC, &h.source}, {"class", tLC, &h.cls}}
}

// tail holds the columns the three event tables end with: the incident
// (filled in later, by request_links) and the line's identity.
type tail struct {
	incidentID, path, fileID proto.ColStr
	lineOffset               proto.ColUInt64
	readTime                 proto.ColUInt32 // DateTime
}

func (t *tail) add(o *Origin) {
	t.incidentID.Append("")
	t.path.Append(o.Path)
	t.fileID.Append(o.FileID)
	t.lineOffset.Append(uint64(o.Offset))
	t.readTime.Append(dateTime(o.ReadTime))
}

func (t *tail) cols() []col {
	return []col{{"incident_id", tString, &t.incidentID}, {"path", tString, &t.path}, {"file_id", tString, &t.fileID},
		{"line_offset", "UInt64", &t.lineOffset}, {"read_time", tDateTime, &t.readTime}}
}

type requestCols struct {
	head
	serverName, upstream, method, protocol lcStr
	status                                 proto.ColUInt16
	client, uri, referer, userAgent        proto.ColStr
	bodyBytes                              proto.ColInt64
	requestTime                            proto.ColFloat64
	upstreamAddr                           proto.ColArr[string]
	upstreamStatus                         proto.ColArr[uint16]
	connectTime, headerTime, responseTime  proto.ColArr[float64]
	requestID                              proto.ColStr
	cid                                    proto.ColInt64
	tail
}

// init gives the array columns their element columns.
func (c *requestCols) init() {
	c.upstreamAddr.Data = &proto.ColStr{}
	c.upstreamStatus.Data = &proto.ColUInt16{}
	c.connectTime.Data = &proto.ColFloat64{}
	c.headerTime.Data = &proto.ColFloat64{}
	c.responseTime.Data = &proto.ColFloat64{}
}

func (c *requestCols) cols() []col {
	if c.upstreamAddr.Data == nil {
		c.init()
	}
	cols := append(c.head.cols(), []col{{"server_name", tLC, &c.serverName}, {"upstream", tLC, &c.upstream},
		{"status", "UInt16", &c.status}, {"client", tString, &c.client}, {"method", tLC, &c.method},
		{"uri", tString, &c.uri}, {"protocol", tLC, &c.protocol}, {"body_bytes", "Int64", &c.bodyBytes},
		{"referer", tString, &c.referer}, {"user_agent", tString, &c.userAgent},
		{"request_time", "Float64", &c.requestTime}, {"upstream_addr", "Array(String)", &c.upstreamAddr},
		{"upstream_status", "Array(UInt16)", &c.upstreamStatus},
		{"upstream_connect_time", "Array(Float64)", &c.connectTime},
		{"upstream_header_time", "Array(Float64)", &c.headerTime},
		{"upstream_response_time", "Array(Float64)", &c.responseTime},
		{"request_id", tString, &c.requestID}, {"cid", "Int64", &c.cid}}...)
	return append(cols, c.tail.cols()...)
}

type proxyErrorCols struct {
	head
	level, upstream                               lcStr
	upstreamURL                                   proto.ColStr
	pid, tid, errno                               proto.ColInt32
	cid                                           proto.ColInt64
	client, server, request, host, referrer, zone proto.ColStr
	message                                       proto.ColStr
	tail
}

func (c *proxyErrorCols) cols() []col {
	cols := append(c.head.cols(), []col{{"level", tLC, &c.level}, {"upstream", tLC, &c.upstream},
		{"upstream_url", tString, &c.upstreamURL}, {"pid", "Int32", &c.pid}, {"tid", "Int32", &c.tid},
		{"cid", "Int64", &c.cid}, {"errno", "Int32", &c.errno}, {"client", tString, &c.client},
		{"server", tString, &c.server}, {"request", tString, &c.request}, {"host", tString, &c.host},
		{"referrer", tString, &c.referrer}, {"zone", tString, &c.zone}, {"message", tString, &c.message}}...)
	return append(cols, c.tail.cols()...)
}

type upstreamCols struct {
	head
	level, signal                             lcStr
	process, unit, container, app, dependency proto.ColStr
	pid, exitCode                             proto.ColInt32
	memoryKB                                  proto.ColInt64
	message                                   proto.ColStr
	tail
}

func (c *upstreamCols) cols() []col {
	cols := append(c.head.cols(), []col{{"level", tLC, &c.level}, {"process", tString, &c.process},
		{"pid", "Int32", &c.pid}, {"signal", tLC, &c.signal}, {"exit_code", "Int32", &c.exitCode},
		{"unit", tString, &c.unit}, {"container", tString, &c.container}, {"app", tString, &c.app},
		{"dependency", tString, &c.dependency}, {"memory_kb", "Int64", &c.memoryKB},
		{"message", tString, &c.message}}...)
	return append(cols, c.tail.cols()...)
}

type unparsedCols struct {
	time                      proto.ColUInt32 // DateTime
	hostname, source, service lcStr
	path, fileID              proto.ColStr
	lineOffset                proto.ColUInt64
	truncated                 proto.ColUInt8
	reason, line              proto.ColStr
}

func (c *unparsedCols) cols() []col {
	return []col{{"time", tDateTime, &c.time}, {"hostname", tLC, &c.hostname}, {"source", tLC, &c.source},
		{"service", tLC, &c.service}, {"path", tString, &c.path}, {"file_id", tString, &c.fileID},
		{"line_offset", "UInt64", &c.lineOffset}, {"truncated", "UInt8", &c.truncated},
		{"reason", tString, &c.reason}, {"line", tString, &c.line}}
}

// Column lists, in the order Write sends them; tests check them against
// the live schema.
var (
	requestColumns    = names((&requestCols{}).cols())
	proxyErrorColumns = names((&proxyErrorCols{}).cols())
	upstreamColumns   = names((&upstreamCols{}).cols())
	unparsedColumns   = names((&unparsedCols{}).cols())
)

// lcStr is a LowCardinality(String) column: a dictionary of the distinct
// values and one key per row.
type lcStr struct {
	ids  map[string]uint32 // value -> position in dict
	dict proto.ColStr
	keys []uint32
	// last is the key of the previous row: consecutive rows mostly repeat
	// a value (one service, one host), which skips the map.
	last uint32
}

// Append adds a row of value v; v is copied.
func (c *lcStr) Append(v string) {
	if len(c.keys) > 0 {
		if p := c.dict.Pos[c.last]; string(c.dict.Buf[p.Start:p.End]) == v {
			c.keys = append(c.keys, c.last)
			return
		}
	}
	if c.ids == nil {
		c.ids = map[string]uint32{}
	}
	if c.dict.Rows() == 0 {
		// Position 0 is the type's default, as the driver writes it.
		c.dict.Append("")
		c.ids[""] = 0
	}
	k, ok := c.ids[v]
	if !ok {
		k = uint32(c.dict.Rows())
		c.dict.Append(v)
		// A copy: v may alias the record, which must not outlive the row.
		c.ids[strings.Clone(v)] = k
	}
	c.keys = append(c.keys, k)
	c.last = k
}

// Rows is the number of rows.
func (c *lcStr) Rows() int { return len(c.keys) }

// Reset empties the column, keeping its buffers.
func (c *lcStr) Reset() {
	clear(c.ids)
	c.dict.Reset()
	c.keys = c.keys[:0]
	c.last = 0
}

// LowCardinality's native encoding (without the state prefix): flags and
// key width, the dictionary as additional keys, then the keys.
const (
	lcHasAdditionalKeys    = 1 << 9
	lcNeedUpdateDictionary = 1 << 10
)

// EncodeColumn writes the rows in the native format.
func (c *lcStr) EncodeColumn(b *proto.Buffer) {
	if len(c.keys) == 0 {
		return
	}
	var width uint64 // 0: UInt8, 1: UInt16, 2: UInt32
	switch n := c.dict.Rows(); {
	case n <= math.MaxUint8+1:
	case n <= math.MaxUint16+1:
		width = 1
	default:
		width = 2
	}
	b.PutUInt64(lcHasAdditionalKeys | lcNeedUpdateDictionary | width)
	b.PutInt64(int64(c.dict.Rows()))
	c.dict.EncodeColumn(b)
	b.PutInt64(int64(len(c.keys)))
	for _, k := range c.keys {
		switch width {
		case 0:
			b.PutUInt8(uint8(k))
		case 1:
			b.PutUInt16(uint16(k))
		default:
			b.PutUInt32(k)
		}
	}
}
