package parser

import (
	"bytes"
	"errors"
	"strings"
	"time"
)

// The nginx error log line, as ngx_log_error_core writes it:
//
//	2026/11/25 16:39:12 [error] 23056#23056: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: proxy.test, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:18199/", host: "example.test"
//
// The time is local and carries no zone. "*cid" is present only when the
// line concerns a connection. The trailing fields are appended by the http
// module's log handler in a fixed order (client, server, request, subrequest,
// upstream, host, referrer); the stream module writes client, server,
// upstream and byte counters instead; the resolver writes only "resolver:".
// Quoted values are written raw: a request line or referrer may itself
// contain quotes, commas and text that looks like another field.

var (
	errNginxShort = errors.New("nginx error: line too short for a timestamp and level")
	errNginxTime  = errors.New("nginx error: no YYYY/MM/DD HH:MM:SS timestamp")
	errNginxLevel = errors.New("nginx error: no [level] after the timestamp")
	errNginxPID   = errors.New("nginx error: no pid#tid: after the level")
)

// nginxTimeLen is len("2006/01/02 15:04:05").
const nginxTimeLen = 19

// looksLikeNginxError reports whether line starts like an nginx error-log
// entry: a slash-separated timestamp, a bracketed level and "pid#". It is
// cheap enough to run on every line during auto detection; the pid# keeps
// apps that print a Go-style stamp and a lower-case level out.
func looksLikeNginxError(line []byte) bool {
	if len(line) < nginxTimeLen+4 || !nginxStamp(line) || line[19] != ' ' || line[20] != '[' {
		return false
	}
	end := bytes.IndexByte(line[21:min(len(line), 29)], ']')
	if end <= 0 || nginxLevel(line[21:21+end]) == "" {
		return false
	}
	rest := line[21+end+1:]
	if len(rest) < 3 || rest[0] != ' ' {
		return false
	}
	_, n := nxAtoi(rest[1:])
	return n > 0 && 1+n < len(rest) && rest[1+n] == '#'
}

// nginxStamp checks the shape of "YYYY/MM/DD HH:MM:SS" at the start of b.
func nginxStamp(b []byte) bool {
	for i := 0; i < nginxTimeLen; i++ {
		c := b[i]
		switch i {
		case 4, 7:
			if c != '/' {
				return false
			}
		case 10:
			if c != ' ' {
				return false
			}
		case 13, 16:
			if c != ':' {
				return false
			}
		default:
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// nginxLevel returns the canonical level string for b, or "" if b is not an
// nginx level. Returning constants keeps Level from aliasing the line.
func nginxLevel(b []byte) string {
	switch string(b) {
	case "debug":
		return "debug"
	case "info":
		return "info"
	case "notice":
		return "notice"
	case "warn":
		return "warn"
	case "error":
		return "error"
	case "crit":
		return "crit"
	case "alert":
		return "alert"
	case "emerg":
		return "emerg"
	}
	return ""
}

// parseNginxError fills ev from one nginx error-log line. String fields alias
// line.
func (p *Parser) parseNginxError(line []byte, ev *Event) error {
	for len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		line = line[1:]
	}
	for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t' || line[len(line)-1] == '\r' || line[len(line)-1] == '\n') {
		line = line[:len(line)-1]
	}
	if len(line) < nginxTimeLen+4 {
		return errNginxShort
	}
	if !nginxStamp(line) {
		return errNginxTime
	}
	loc := p.opts.Location
	if loc == nil {
		loc = time.UTC
	}
	t, ok := nginxTime(line[:nginxTimeLen], loc)
	if !ok {
		return errNginxTime
	}
	rest := line[nginxTimeLen:]
	if len(rest) < 3 || rest[0] != ' ' || rest[1] != '[' {
		return errNginxLevel
	}
	end := bytes.IndexByte(rest[2:min(len(rest), 10)], ']')
	if end <= 0 {
		return errNginxLevel
	}
	level := nginxLevel(rest[2 : 2+end])
	if level == "" {
		return errNginxLevel
	}
	rest = rest[2+end+1:]
	if len(rest) < 1 || rest[0] != ' ' {
		return errNginxLevel
	}
	rest = rest[1:]
	pid, n := nxAtoi(rest)
	if n == 0 || n >= len(rest) || rest[n] != '#' {
		return errNginxPID
	}
	rest = rest[n+1:]
	tid, n := nxAtoi(rest)
	if n == 0 || n+1 >= len(rest) || rest[n] != ':' || rest[n+1] != ' ' {
		return errNginxPID
	}
	rest = rest[n+2:]

	ev.Kind = KindProxyError
	ev.Source = SourceNginxError
	ev.Time = t
	ev.Level = level
	ev.PID = pid
	ev.TID = tid
	if len(rest) > 1 && rest[0] == '*' {
		cid, n := nxAtoi(rest[1:])
		if n > 0 && (n+1 == len(rest) || rest[n+1] == ' ') {
			ev.CID = int64(cid)
			rest = rest[min(n+2, len(rest)):]
		}
	}

	msg := aliasStr(rest)
	if i := nginxTail(msg, ev); i >= 0 {
		msg = msg[:i]
	} else if i := strings.LastIndex(msg, ", resolver: "); i >= 0 && !strings.Contains(msg[i+12:], ", ") {
		// ngx_resolver's own failures name the resolver instead of a client.
		ev.Upstream = msg[i+12:]
		msg = msg[:i]
	}
	ev.Message = msg
	ev.Errno = nginxErrno(msg)
	ev.ErrnoText = nginxErrnoText(msg, ev.Errno)
	if i := strings.Index(msg, `by zone "`); i >= 0 {
		z := msg[i+9:]
		if j := strings.IndexByte(z, '"'); j >= 0 {
			ev.Zone = z[:j]
		}
	}
	ev.Class = classifyNginxError(ev)
	if ev.Class == ClassUpstreamDNS {
		nginxDNSName(ev)
	}
	return nil
}

// nginxTime parses "YYYY/MM/DD HH:MM:SS" (shape already checked) in loc and
// returns it in UTC.
func nginxTime(b []byte, loc *time.Location) (time.Time, bool) {
	d := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, da, h, mi, s := d(0, 4), d(5, 2), d(8, 2), d(11, 2), d(14, 2), d(17, 2)
	// nginx did not exist before 1970; an earlier year is not a log stamp
	// (and year 1 would be Go's zero time, "no time").
	if y < 1970 || mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), da, h, mi, s, 0, loc).UTC(), true
}

// nxAtoi reads the decimal number at the start of b and returns it with
// the count of digits consumed (0 if none). It stops before overflowing.
func nxAtoi(b []byte) (int, int) {
	v, n := 0, 0
	for n < len(b) && n < 18 && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int(b[n]-'0')
		n++
	}
	return v, n
}

func nxAtoiString(s string) (int, int) {
	v, n := 0, 0
	for n < len(s) && n < 18 && s[n] >= '0' && s[n] <= '9' {
		v = v*10 + int(s[n]-'0')
		n++
	}
	return v, n
}

// nginxField is one of the trailing "key: value" fields in the order nginx
// writes them.
type nginxField struct {
	key    string // including ", " and ": " and, when quoted, the opening quote
	quoted bool
	dst    func(ev *Event) *string
}

// The http log handler's fields after "server:", in order; then the stream
// module's byte counters. A field may be missing, never reordered.
var nginxFields = [...]nginxField{
	{`, request: "`, true, func(ev *Event) *string { return &ev.Request }},
	{`, subrequest: "`, true, nil},
	{`, upstream: "`, true, func(ev *Event) *string { return &ev.Upstream }},
	{`, host: "`, true, func(ev *Event) *string { return &ev.Host }},
	{`, referrer: "`, true, func(ev *Event) *string { return &ev.Referrer }},
	{`, bytes from/to client:`, false, nil},
	{`, bytes from/to upstream:`, false, nil},
}

// nginxTail finds where the trailing fields start in msg, fills them into
// ev and returns the offset, or -1 when msg has no well-formed tail. The
// message itself can contain ", client: " (it quotes paths and names taken
// from the request), so each occurrence is tried from the left until one
// parses as a complete tail.
func nginxTail(msg string, ev *Event) int {
	off := 0
	// Each try scans the rest of the line; a handful covers every real line
	// and keeps hostile ones (thousands of fake fields) linear.
	for tries := 0; tries < 8; tries++ {
		i := strings.Index(msg[off:], "client: ")
		if i < 0 {
			return -1
		}
		i += off
		off = i + 1
		start := -1
		switch {
		case i >= 2 && msg[i-2:i] == ", ":
			start = i - 2
		case i >= 6 && msg[i-6:i] == ", udp ":
			start = i - 6 // stream module, UDP sessions
		default:
			continue
		}
		var client, server string
		var vals [len(nginxFields)]string
		if nginxParseTail(msg[i+8:], &client, &server, &vals) {
			ev.Client, ev.Server = client, server
			for k, f := range nginxFields {
				if f.dst != nil && vals[k] != "" {
					*f.dst(ev) = vals[k]
				}
			}
			return start
		}
	}
	return -1
}

// nginxParseTail parses "C, server: S[, field...]" (after "client: ").
func nginxParseTail(s string, client, server *string, vals *[len(nginxFields)]string) bool {
	i := strings.Index(s, ", server: ")
	if i < 0 || !nginxToken(s[:i]) {
		return false
	}
	*client = s[:i]
	s = s[i+10:]
	// The server name (or listen address) never contains ", "; an empty
	// server_name gives "server: , request: ...".
	j := strings.Index(s, ", ")
	if j < 0 {
		j = len(s)
	}
	if !nginxToken(s[:j]) {
		return false
	}
	*server = s[:j]
	s = s[j:]
	next := 0
	for s != "" {
		k := next
		for k < len(nginxFields) && !strings.HasPrefix(s, nginxFields[k].key) {
			k++
		}
		if k == len(nginxFields) {
			return false
		}
		f := nginxFields[k]
		s = s[len(f.key):]
		next = k + 1
		if !f.quoted {
			e := strings.Index(s, ", ")
			if e < 0 {
				e = len(s)
			}
			vals[k], s = s[:e], s[e:]
			continue
		}
		e := nginxQuoteEnd(s, next, k == 0)
		if e < 0 {
			// nginx cuts error lines at 2048 bytes, often inside the
			// request line: keep what is there.
			vals[k] = s
			return true
		}
		vals[k], s = s[:e], s[e+1:]
	}
	return true
}

// nginxToken reports whether s can be an address or server name: no
// spaces, no quotes.
func nginxToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '"' {
			return false
		}
	}
	return true
}

// nginxQuoteEnd returns the index of the quote closing a value that starts
// at s[0]: a quote at the end of the line or followed by one of the fields
// that may come next. For a request line, an end right after " HTTP/x.y" is
// preferred, since a request can carry text that imitates the later fields.
func nginxQuoteEnd(s string, next int, request bool) int {
	first := -1
	for i := 0; i < len(s); i++ {
		j := strings.IndexByte(s[i:], '"')
		if j < 0 {
			break
		}
		i += j
		if !nginxEndsValue(s[i+1:], next) {
			continue
		}
		if !request || nginxHTTPVersionBefore(s[:i]) {
			return i
		}
		if first < 0 {
			first = i
		}
	}
	return first
}

func nginxEndsValue(after string, next int) bool {
	if after == "" {
		return true
	}
	if after[0] != ',' {
		return false
	}
	for _, f := range nginxFields[next:] {
		if strings.HasPrefix(after, f.key) {
			return true
		}
	}
	return false
}

// nginxHTTPVersionBefore reports whether s ends in " HTTP/1.1", " HTTP/2.0"
// or similar.
func nginxHTTPVersionBefore(s string) bool {
	i := len(s)
	for i > 0 && i > len(s)-8 && (s[i-1] >= '0' && s[i-1] <= '9' || s[i-1] == '.') {
		i--
	}
	return i < len(s) && strings.HasSuffix(s[:i], " HTTP/")
}

// nginxErrno returns the system error number nginx printed as "(N: text)":
// the last such group, because earlier parentheses may come from a quoted
// path or name.
func nginxErrno(msg string) int {
	for end := len(msg); end > 0; {
		i := strings.LastIndexByte(msg[:end], '(')
		if i < 0 {
			return 0
		}
		end = i
		v, n := nxAtoiString(msg[i+1 : min(len(msg), i+20)])
		if n > 0 && i+1+n+1 < len(msg) && msg[i+1+n] == ':' && msg[i+2+n] == ' ' {
			return v
		}
	}
	return 0
}

// nginxErrnoText returns the text of the errno group, "" if none.
func nginxErrnoText(msg string, errno int) string {
	if errno == 0 {
		return ""
	}
	for end := len(msg); end > 0; {
		i := strings.LastIndexByte(msg[:end], '(')
		if i < 0 {
			return ""
		}
		end = i
		_, n := nxAtoiString(msg[i+1 : min(len(msg), i+20)])
		if n > 0 && i+3+n < len(msg) && msg[i+1+n] == ':' && msg[i+2+n] == ' ' {
			t := msg[i+3+n:]
			if j := strings.IndexByte(t, ')'); j >= 0 {
				return t[:j]
			}
			return t
		}
	}
	return ""
}

// errnoKind is what a system error means for a proxy, whatever number one
// operating system gives it.
type errnoKind uint8

const (
	errnoOther errnoKind = iota
	errnoRefused
	errnoNoEnt
	errnoAgain
	errnoTimedOut
	errnoReset
	errnoPipe
	errnoUnreach
	errnoFiles
)

// nginxErrnoKind maps error numbers of Linux (first), the BSDs and macOS,
// and Windows (WSA*) to their meaning. Numbers are what to trust: the text
// after them differs between C libraries ("Connection timed out" in glibc,
// "Operation timed out" in musl and the BSDs).
func nginxErrnoKind(n int) errnoKind {
	switch n {
	case 111, 61, 10061:
		return errnoRefused
	case 2:
		return errnoNoEnt
	case 11, 35, 10035:
		return errnoAgain
	case 110, 60, 10060:
		return errnoTimedOut
	case 104, 54, 10054:
		return errnoReset
	case 32:
		return errnoPipe
	case 113, 101, 112, 65, 51, 64, 10065, 10051, 10064:
		return errnoUnreach
	case 24, 23, 10024:
		return errnoFiles
	}
	return errnoOther
}

// nginxErrnoTextKind is the fallback for numbers the table does not know
// (another OS): the common wordings.
func nginxErrnoTextKind(text string) errnoKind {
	switch {
	case text == "":
		return errnoOther
	case strings.Contains(text, "refused"):
		return errnoRefused
	case strings.Contains(text, "timed out"):
		return errnoTimedOut
	case strings.Contains(text, "reset by peer"):
		return errnoReset
	case strings.Contains(text, "Broken pipe"):
		return errnoPipe
	case strings.Contains(text, "unreachable"), strings.Contains(text, "No route to host"):
		return errnoUnreach
	case strings.Contains(text, "Too many open files"):
		return errnoFiles
	case strings.Contains(text, "temporarily unavailable"), strings.Contains(text, "would block"):
		return errnoAgain
	case strings.Contains(text, "No such file"):
		return errnoNoEnt
	}
	return errnoOther
}

// side says which peer a message is about.
type side uint8

const (
	sideUnknown side = iota
	sideUpstream
	sideClient
)

// nginxSide reads the side from the action ("while reading response header
// from upstream", "while sending to client"), then from the message head,
// then from whether nginx had an upstream at all.
func nginxSide(head, action string, ev *Event) side {
	switch {
	case strings.Contains(action, "upstream"):
		return sideUpstream
	case strings.Contains(action, "client"), strings.HasPrefix(action, "waiting for request"):
		return sideClient
	case strings.HasPrefix(head, "upstream "), strings.HasPrefix(head, "connect() "):
		return sideUpstream
	case strings.HasPrefix(head, "client "):
		return sideClient
	case action == "" && ev.Upstream != "":
		return sideUpstream
	}
	return sideUnknown
}

// classifyNginxError names the proxy_error class of ev from its message.
// Messages that say which operation failed (resolving, SSL handshaking,
// rate limiting) decide first, because their parenthesised code is not
// always a system errno (the resolver prints DNS rcodes the same way) and
// because a timeout or reset during the TLS handshake is a TLS problem to
// fix (plain HTTP behind https://, SNI), not a slow upstream; then the errno
// number, interpreted by which side and phase the action names (a reset
// "while sending to client" is the client leaving, not the upstream); then
// nginx's own wordings.
func classifyNginxError(ev *Event) Class {
	msg := ev.Message
	head, action := msg, ""
	// The action is appended last; a forward search (vectorised) for the
	// last occurrence beats LastIndex's byte-by-byte scan.
	for i, off := 0, 0; ; off = i + 7 {
		j := strings.Index(msg[off:], " while ")
		if j < 0 {
			break
		}
		i = off + j
		head, action = msg[:i], msg[i+7:]
	}
	// Each wording below contains one of a few words; looking for those
	// first spares most lines a dozen scans.
	resolv := strings.Contains(head, "resol") || strings.Contains(head, "host not found")
	closed := strings.Contains(head, "closed")
	switch {
	case resolv && (strings.Contains(head, "could not be resolved") ||
		strings.HasPrefix(head, "no resolver defined") ||
		strings.Contains(head, "host not found in upstream") ||
		strings.Contains(head, "host not found in resolver")),
		strings.HasPrefix(action, "resolving"):
		return ClassUpstreamDNS
	case strings.HasPrefix(head, "limiting requests"), strings.HasPrefix(head, "delaying request"):
		return ClassRateLimited
	case strings.HasPrefix(head, "limiting connections"):
		return ClassConnLimited
	case strings.HasPrefix(head, "no live upstreams"):
		return ClassNoLiveUpstreams
	case strings.HasPrefix(action, "SSL handshaking to upstream"),
		strings.HasPrefix(head, "upstream SSL certificate"):
		return ClassUpstreamTLS
	case closed && strings.Contains(head, "closed keepalive connection"):
		// Routine: an idle keep-alive connection ended, nothing failed.
		return ClassOther
	case closed && (strings.Contains(head, "client prematurely closed") ||
		strings.Contains(head, "client closed connection") ||
		strings.Contains(head, "client closed prematurely")):
		// Whatever the errno and the phase, the client left first (499).
		return ClassClientClosed
	case strings.Contains(head, "worker_connections are not enough"):
		return ClassProxyWorkerConnections
	}

	sd := nginxSide(head, action, ev)
	kind := nginxErrnoKind(ev.Errno)
	if kind == errnoOther && ev.Errno != 0 {
		kind = nginxErrnoTextKind(nginxErrnoText(msg, ev.Errno))
	}
	switch kind {
	case errnoRefused:
		return ClassUpstreamRefused
	case errnoUnreach:
		return ClassUpstreamUnreachable
	case errnoFiles:
		return ClassProxyFDExhausted
	case errnoNoEnt:
		if sd == sideUpstream && (strings.Contains(head, "unix:") || strings.Contains(ev.Upstream, "unix:")) {
			return ClassUpstreamSocketMissing
		}
		return ClassOther
	case errnoAgain:
		if sd == sideUpstream && strings.Contains(action, "connecting") || strings.HasPrefix(head, "connect() ") {
			return ClassUpstreamOverloaded
		}
		return ClassOther
	case errnoTimedOut:
		if sd == sideUpstream {
			return nginxTimeoutClass(action)
		}
		return ClassOther
	case errnoReset:
		switch sd {
		case sideUpstream:
			return ClassUpstreamReset
		case sideClient:
			return ClassClientClosed
		}
		return ClassOther
	case errnoPipe:
		switch sd {
		case sideUpstream:
			return ClassUpstreamBrokenPipe
		case sideClient:
			return ClassClientClosed
		}
		return ClassOther
	}

	switch {
	case strings.HasPrefix(head, "upstream timed out"):
		return nginxTimeoutClass(action)
	case strings.HasPrefix(head, "upstream prematurely closed"):
		return ClassUpstreamPrematureClose
	case strings.HasPrefix(head, "upstream sent too big header"):
		return ClassUpstreamHeaderTooBig
	case strings.HasPrefix(head, "upstream sent "):
		return ClassUpstreamInvalid
	}
	return ClassOther
}

// nginxTimeoutClass tells the phase of an upstream timeout from the action.
func nginxTimeoutClass(action string) Class {
	switch {
	case strings.HasPrefix(action, "connecting"):
		return ClassUpstreamConnectTimeout
	case strings.HasPrefix(action, "sending"):
		return ClassUpstreamSendTimeout
	}
	// reading response header from upstream, reading upstream, proxying
	// and reading from upstream (stream)
	return ClassUpstreamReadTimeout
}

// nginxDNSName fills Upstream with the name that failed to resolve when the
// line names it but has no upstream field (variable proxy_pass, config test).
func nginxDNSName(ev *Event) {
	msg := ev.Message
	i := strings.Index(msg, " could not be resolved")
	if i > 0 {
		ev.Errno = 0 // the "(3: Host not found)" is a DNS rcode, not an errno
		ev.ErrnoText = ""
	}
	if ev.Upstream != "" {
		return
	}
	if i > 0 {
		ev.Upstream = msg[strings.LastIndexByte(msg[:i], ' ')+1 : i]
		return
	}
	if rest, ok := strings.CutPrefix(msg, "no resolver defined to resolve "); ok {
		ev.Upstream = rest
		return
	}
	if _, rest, ok := strings.Cut(msg, `host not found in upstream "`); ok {
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			ev.Upstream = rest[:j]
		}
	}
}
