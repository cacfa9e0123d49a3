package parser

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"
)

// The nginx access log parser is compiled from the user's own log_format
// string into a sequence of (variable, literal) steps, in the spirit of Loki's
// pattern matcher: matching a line is a series of searches for the literal
// that ends each variable, then a typed conversion of the bytes in between.
// Numbers, $request_time and the upstream lists are converted while they are
// scanned and the literal after them is checked in place; $time_local is
// parsed by hand and reused while consecutive lines share the second (the
// result is UTC computed from the written offset, so no time.Location is
// looked up or cached). No regexp, and no allocation per line once the
// Event's slices and the unescape scratch buffer have grown.
//
// Which bytes end a variable: the first occurrence of the literal text that
// follows it in the format. nginx's escape=default turns '"' and '\' inside
// values into \x22 and \x5C (escape=json into \" and \\), so a quoted
// variable can never contain its closing quote and the first occurrence is
// the right one. Three cases need more than that and get their own scanner:
//   - the format's last literal must end the line (a line with more fields
//     than the format is refused, not read with a wrong last field);
//   - $time_local contains a space: it is 26 bytes wide;
//   - $upstream_* values contain ", " and " : " (one value per upstream tried,
//     groups separated by " : "): when such a variable is followed by a space
//     or a comma, its value runs over items joined by those separators.
//
// Multi-value upstream variables are flattened into one list per field in the
// order nginx wrote them: "10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80" becomes
// three addresses, and the i-th status/time belongs to the i-th address. The
// group boundary (an internal redirect such as error_page to a named
// location) is not kept. "-" in a list is kept as a placeholder (status 0,
// time Absent) so the lists stay aligned; a request that reached no upstream
// at all has empty lists.

// AccessFormat is a compiled nginx log_format. It keeps a scratch buffer for
// unescaped values, so it is not safe for concurrent use: each Parser compiles
// its own. Strings that Parse puts into an Event alias the line or that
// buffer and are valid until the next call to Parse.
type AccessFormat struct {
	format string
	escape accessEscape
	prefix []byte // literal text before the first variable
	steps  []accessStep
	// json is set when the format itself is a JSON object template; lines
	// that fail the template but are JSON objects are then read as JSON.
	json bool
	buf  []byte         // unescaped values of the current line
	loc  *time.Location // the zone of the current line, for parseSteps
	// The last time field read and its value: consecutive lines mostly
	// share the second, and a 26-byte compare is cheaper than a parse.
	lastRaw  [32]byte
	lastLen  int
	lastVar  accessVar
	lastTime time.Time
}

type accessEscape uint8

const (
	escapeDefault accessEscape = iota // \xHH for '"', '\', control and non-ASCII bytes
	escapeJSON                        // JSON string escapes
	escapeNone                        // nothing escaped
)

// accessVar is what a variable means to the Event.
type accessVar uint8

const (
	avUnknown accessVar = iota // matched and skipped
	avRemoteAddr
	avTimeLocal
	avTimeISO
	avMsec
	avTimeAny // JSON logs: any of the time forms above, or RFC 3339, or epoch milliseconds
	avRequest
	avMethod
	avRequestURI
	avURI // $uri: used only when $request/$request_uri did not give the URI
	avProtocol
	avStatus
	avBodyBytes
	avBytesSent // $bytes_sent: used only when $body_bytes_sent is not logged
	avReferer
	avUserAgent
	avRequestTime
	avUpstreamAddr
	avUpstreamStatus
	avUpstreamConnectTime
	avUpstreamHeaderTime
	avUpstreamResponseTime
	avRequestID
	avConnection
	avServerName
	avHost     // $host: the Host header or server name; fills ServerName when $server_name is absent
	avHTTPHost // $http_host
	avHostname
	avPID
	// avUnknownList: another per-upstream variable ($upstream_bytes_received,
	// $upstream_response_length, $upstream_http_NAME, ...): nginx writes one
	// value per upstream tried, joined like $upstream_addr ("0, 3"), so it
	// is read as a list to find its end, then skipped.
	avUnknownList
)

type accessScan uint8

const (
	scanToLiteral accessScan = iota // up to the first occurrence of lit
	scanRest                        // last variable, nothing after it: the rest of the line
	scanSuffix                      // last variable: lit must end the line
	scanList                        // upstream list followed by ' ' or ','
)

// accessOp is the one-pass reader compile chose for a step (see setOp).
type accessOp uint8

const (
	opGeneric   accessOp = iota // search by scan, then assign
	opNum                       // $status, $body_bytes_sent, $connection
	opSeconds                   // $request_time
	opAddrs                     // $upstream_addr
	opStatuses                  // $upstream_status
	opTimes                     // $upstream_*_time
	opTimeLocal                 // $time_local: fixed width, cached second
	opQuoted                    // a long value ending at a literal that starts with '"'
	opShortStr                  // a short string value (an address, an id): SWAR search for the literal
)

type accessStep struct {
	v    accessVar
	op   accessOp
	name string // "$status", for error messages
	lit  []byte // literal text after the variable
	scan accessScan
	// short: the value is usually a few bytes (a number, an address), so
	// a plain loop finds the literal sooner than a vectorised search,
	// whose setup costs more than it saves on short distances.
	short bool
	num   bool // an integer variable with a fast path in parseSteps
	// fast: a list or a time in seconds, read and checked in one pass
	// (accessFastAddrs and the like, accessFastSeconds) before the generic path.
	fast bool
	// A literal of at most 8 bytes is checked with one word compare.
	litWord, litMask uint64
	litLong          bool // longer than 8 bytes (or empty): compared byte by byte
	// litFirst: the literal cannot start a list separator (", ", " : "),
	// so a list reader may look for it first.
	litFirst bool
	// dash: nginx's "-" (absent) needs no work for this variable, so "-"
	// followed by the literal is skipped before anything else. Not for
	// $status (an error) or the upstream lists (a placeholder item), nor
	// when the literal starts with '-' (the generic search would end the
	// value before the dash).
	dash bool
	// str: a short string value, read by opShortStr.
	str bool
	// one: the literal starts with a byte that cannot be part of a
	// number, a list separator or "-" (a quote, a letter), so a single
	// "-", "d.ddd" or status followed by the literal is the whole value:
	// the upstream readers take that usual shape without their loops.
	one bool
}

// litAt reports whether the step's literal is at line[i:].
func (st *accessStep) litAt(line []byte, i int) bool {
	if i >= 0 && i < len(line)-7 && !st.litLong { // (this form lets the compiler drop the bounds checks)
		return binary.LittleEndian.Uint64(line[i:i+8])&st.litMask == st.litWord
	}
	return accessLitAt(line, i, st.lit)
}

// CompileAccessFormat compiles an nginx log_format string (without
// "log_format name"), optionally starting with escape=default|json|none.
// Variables are $name or ${name}; everything else is literal text.
//
// The directive as written in nginx.conf is accepted too, since that is what
// people copy: `log_format main escape=json '...' '...';` (with or without
// "log_format name" and the semicolon), the quoted pieces concatenated.
func CompileAccessFormat(format string) (*AccessFormat, error) {
	f := &AccessFormat{format: format}
	s := strings.TrimSpace(format)
	if conf, ok := accessConfigForm(s); ok {
		s = conf
	} else if strings.HasPrefix(s, "log_format ") {
		return nil, errors.New("log_format directive not understood: want log_format NAME [escape=MODE] 'format' ...;")
	}
	if rest, ok := strings.CutPrefix(s, "escape="); ok {
		mode, after, _ := strings.Cut(rest, " ")
		switch mode {
		case "default":
			f.escape = escapeDefault
		case "json":
			f.escape = escapeJSON
		case "none":
			f.escape = escapeNone
		default:
			return nil, fmt.Errorf("unknown escape=%s (want default, json or none)", mode)
		}
		s = strings.TrimLeft(after, " \t")
	}
	if s == "" {
		return nil, errors.New("empty log_format")
	}
	f.json = s[0] == '{'

	var lit []byte
	var cur *accessStep
	flush := func() {
		if cur == nil {
			f.prefix = append([]byte(nil), lit...)
		} else {
			cur.lit = append([]byte(nil), lit...)
		}
		lit = lit[:0]
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' {
			lit = append(lit, c)
			i++
			continue
		}
		var name string
		switch {
		case i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed ${ at byte %d", i)
			}
			name = s[i+2 : i+2+end]
			i += end + 3
		default:
			j := i + 1
			for j < len(s) && isVarNameByte(s[j]) {
				j++
			}
			name = s[i+1 : j]
			if name == "" {
				// A lone '$' is literal text in nginx too.
				lit = append(lit, '$')
				i++
				continue
			}
			i = j
		}
		if name == "" || strings.IndexFunc(name, func(r rune) bool { return r > 0x7f || !isVarNameByte(byte(r)) }) >= 0 {
			return nil, fmt.Errorf("bad variable name %q", name)
		}
		if cur != nil && len(lit) == 0 {
			return nil, fmt.Errorf("variables %s and $%s have no text between them: cannot tell where one ends", cur.name, name)
		}
		flush()
		name = strings.ToLower(name)
		f.steps = append(f.steps, accessStep{v: accessFormatVar(name), name: "$" + name})
		cur = &f.steps[len(f.steps)-1]
	}
	flush()
	if len(f.steps) == 0 {
		return nil, errors.New("log_format has no variables")
	}
	for i := range f.steps {
		st := &f.steps[i]
		switch {
		case i == len(f.steps)-1 && len(st.lit) == 0:
			st.scan = scanRest
		case i == len(f.steps)-1:
			st.scan = scanSuffix
		case (isAccessList(st.v) || st.v == avUnknownList) && (st.lit[0] == ' ' || st.lit[0] == ','):
			st.scan = scanList
		}
		switch st.v {
		case avRemoteAddr, avStatus, avBodyBytes, avBytesSent, avRequestTime, avConnection, avMsec, avPID,
			avUpstreamAddr, avUpstreamStatus, avUpstreamConnectTime, avUpstreamHeaderTime, avUpstreamResponseTime,
			avRequestID, avTimeLocal, avTimeISO:
			st.short = true
		}
		if st.name == "$remote_user" {
			st.short = true
		}
		if n := len(st.lit); n > 0 && n <= 8 {
			var b [8]byte
			copy(b[:], st.lit)
			st.litWord = binary.LittleEndian.Uint64(b[:])
			st.litMask = ^uint64(0) >> (64 - 8*n)
		} else {
			st.litLong = true
		}
		st.num = st.scan == scanToLiteral && (st.v == avStatus || st.v == avBodyBytes || st.v == avConnection)
		st.fast = (st.scan == scanToLiteral || st.scan == scanList) && (isAccessList(st.v) || st.v == avRequestTime)
		st.litFirst = len(st.lit) > 0 && st.lit[0] != ' ' && st.lit[0] != ','
		st.dash = st.scan == scanToLiteral && st.lit[0] != '-' && st.v != avStatus && !isAccessList(st.v)
		st.str = st.scan == scanToLiteral && st.short && st.lit[0] != 0 && accessStringVar(st.v)
		if len(st.lit) > 0 {
			c := st.lit[0]
			st.one = (st.fast && (st.litFirst || !isAccessList(st.v)) || st.num) && !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':')
		}
		st.setOp(f.escape)
	}
	return f, nil
}

// setOp picks the step's reader from what compile found out about it.
// opTimeLocal and opQuoted are the generic path specialised (no value
// conversion of their own), so they stay when num and fast are off.
func (st *accessStep) setOp(esc accessEscape) {
	switch {
	case st.num:
		st.op = opNum
	case st.fast && st.v == avRequestTime:
		st.op = opSeconds
	case st.fast && st.v == avUpstreamAddr && len(st.lit) > 0:
		st.op = opAddrs
	case st.fast && st.v == avUpstreamStatus:
		st.op = opStatuses
	case st.fast && isAccessList(st.v):
		st.op = opTimes
	case st.str:
		st.op = opShortStr
	case st.scan == scanToLiteral && st.v == avTimeLocal:
		st.op = opTimeLocal
	case st.scan == scanToLiteral && !st.short && st.lit[0] == '"' && esc != escapeJSON:
		st.op = opQuoted
	default:
		st.op = opGeneric
	}
}

// accessConfigForm reads the log_format directive as nginx.conf spells it:
// [log_format NAME] [escape=MODE] 'piece' 'piece' ... [;]. It returns the
// format as CompileAccessFormat takes it ("escape=MODE " + the pieces
// concatenated), or false when s is not in that form. A format that is
// itself quoted text is recognised only with single quotes or after
// "log_format", the forms configurations use.
func accessConfigForm(s string) (string, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), ";"))
	directive := false
	if rest, ok := strings.CutPrefix(s, "log_format"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n') {
		rest = strings.TrimLeft(rest, " \t\n")
		i := strings.IndexAny(rest, " \t\n")
		if i < 0 {
			return "", false
		}
		s, directive = strings.TrimLeft(rest[i:], " \t\n"), true
	}
	esc := ""
	if strings.HasPrefix(s, "escape=") {
		i := strings.IndexAny(s, " \t\n")
		if i < 0 {
			return "", false
		}
		esc, s = s[:i]+" ", strings.TrimLeft(s[i:], " \t\n")
	}
	if s == "" || !(s[0] == '\'' || directive && s[0] == '"') {
		return "", false
	}
	var out strings.Builder
	out.WriteString(esc)
	for s != "" {
		q := s[0]
		if q != '\'' && q != '"' {
			return "", false
		}
		i := 1
		for ; i < len(s) && s[i] != q; i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				// nginx's config parser: \t \r \n, and a backslash
				// before a quote or a backslash keeps that character.
				i++
				switch s[i] {
				case 't':
					c = '\t'
				case 'r':
					c = '\r'
				case 'n':
					c = '\n'
				case '"', '\'', '\\':
					c = s[i]
				default:
					out.WriteByte('\\')
					c = s[i]
				}
			}
			out.WriteByte(c)
		}
		if i >= len(s) {
			return "", false // unclosed quote
		}
		s = strings.TrimLeft(s[i+1:], " \t\n")
	}
	return out.String(), true
}

func isVarNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// accessStringVar: the variable is kept as a string (or not kept at all),
// with no conversion that could fail.
func accessStringVar(v accessVar) bool {
	switch v {
	case avUnknown, avUnknownList, avRemoteAddr, avMethod, avRequestURI, avProtocol, avReferer, avUserAgent,
		avRequestID, avServerName, avHost, avHTTPHost, avHostname:
		return true
	}
	return false
}

func isAccessList(v accessVar) bool {
	return v >= avUpstreamAddr && v <= avUpstreamResponseTime
}

// accessFormatVar maps an nginx variable name (lower case, without '$') to
// its meaning; anything else is matched and skipped.
func accessFormatVar(name string) accessVar {
	switch name {
	case "remote_addr":
		return avRemoteAddr
	case "time_local":
		return avTimeLocal
	case "time_iso8601":
		return avTimeISO
	case "msec":
		return avMsec
	case "request":
		return avRequest
	case "request_method":
		return avMethod
	case "request_uri":
		return avRequestURI
	case "uri", "document_uri":
		return avURI
	case "server_protocol":
		return avProtocol
	case "status":
		return avStatus
	case "body_bytes_sent":
		return avBodyBytes
	case "bytes_sent":
		return avBytesSent
	case "http_referer":
		return avReferer
	case "http_user_agent":
		return avUserAgent
	case "request_time":
		return avRequestTime
	case "upstream_addr":
		return avUpstreamAddr
	case "upstream_status":
		return avUpstreamStatus
	case "upstream_connect_time":
		return avUpstreamConnectTime
	case "upstream_header_time":
		return avUpstreamHeaderTime
	case "upstream_response_time":
		return avUpstreamResponseTime
	case "request_id":
		return avRequestID
	case "connection":
		return avConnection
	case "server_name":
		return avServerName
	case "host":
		return avHost
	case "http_host":
		return avHTTPHost
	case "hostname":
		return avHostname
	case "pid":
		return avPID
	case "upstream_cache_status", "upstream_cookie":
		return avUnknown
	}
	if strings.HasPrefix(name, "upstream_") && !strings.HasPrefix(name, "upstream_cookie_") {
		return avUnknownList
	}
	return avUnknown
}

// Format returns the log_format string f was compiled from.
func (f *AccessFormat) Format() string { return f.format }

// Parse fills ev from one access log line (without its newline). A line
// that does not match the format returns an error naming the field and what
// was expected; the caller turns it into an unparsed event. A line that is a
// JSON object is read by key names (see accessJSONKey) unless the format
// itself is a JSON template that matches it.
func (f *AccessFormat) Parse(line []byte, loc *time.Location, ev *Event) error {
	ev.Reset()
	return f.parseReset(line, loc, ev)
}

// parseReset is Parse for an event the caller has just reset (Parser.Parse
// does, and an Event is large enough that a second reset shows per line).
func (f *AccessFormat) parseReset(line []byte, loc *time.Location, ev *Event) error {
	f.buf = f.buf[:0]
	if loc == nil {
		loc = time.UTC
	}
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	// Pasted lines often come indented; nginx never indents them itself.
	if len(f.prefix) == 0 || f.prefix[0] != ' ' && f.prefix[0] != '\t' {
		for len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			line = line[1:]
		}
	}
	if len(line) == 0 {
		return errors.New("empty line")
	}
	var err error
	switch {
	case !f.json && accessIsJSONObject(line):
		err = f.parseJSON(line, loc, ev)
	default:
		f.loc = loc
		err = f.parseSteps(line, ev)
		if err != nil && f.json && accessIsJSONObject(line) {
			// The template did not match (keys reordered, a value nginx
			// left empty where the template had a bare number): read
			// the object by its keys instead.
			ev.Reset()
			f.buf = f.buf[:0]
			if jerr := f.parseJSON(line, loc, ev); jerr == nil {
				err = nil
			}
		}
	}
	if err != nil {
		return err
	}
	ev.Kind = KindRequest
	ev.Source = SourceNginxAccess
	accessDropEmptyUpstream(ev)
	return nil
}

// accessIsJSONObject: no log_format but a JSON template starts with '{', so
// a line that does is read as JSON (and a truncated one reported as such).
func accessIsJSONObject(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return c == '{'
		}
	}
	return false
}

// accessDropEmptyUpstream empties the upstream lists of a request that
// reached no upstream: nginx writes a single "-" in each of them.
func accessDropEmptyUpstream(ev *Event) {
	if len(ev.UpstreamAddr) > 1 || len(ev.UpstreamStatus) > 1 || len(ev.UpstreamConnectTime) > 1 ||
		len(ev.UpstreamHeaderTime) > 1 || len(ev.UpstreamResponseTime) > 1 {
		return
	}
	if len(ev.UpstreamAddr) == 1 && ev.UpstreamAddr[0] != "" ||
		len(ev.UpstreamStatus) == 1 && ev.UpstreamStatus[0] != 0 ||
		len(ev.UpstreamConnectTime) == 1 && ev.UpstreamConnectTime[0] != Absent ||
		len(ev.UpstreamHeaderTime) == 1 && ev.UpstreamHeaderTime[0] != Absent ||
		len(ev.UpstreamResponseTime) == 1 && ev.UpstreamResponseTime[0] != Absent {
		return
	}
	ev.UpstreamAddr = ev.UpstreamAddr[:0]
	ev.UpstreamStatus = ev.UpstreamStatus[:0]
	ev.UpstreamConnectTime = ev.UpstreamConnectTime[:0]
	ev.UpstreamHeaderTime = ev.UpstreamHeaderTime[:0]
	ev.UpstreamResponseTime = ev.UpstreamResponseTime[:0]
}

// parseSteps reads line by the compiled steps; the zone is f.loc. Fewer
// values live across its loop means fewer reloads after every call in it.
func (f *AccessFormat) parseSteps(line []byte, ev *Event) error {
	line = line[:len(line):len(line)]
	if len(f.prefix) > 0 && !bytes.HasPrefix(line, f.prefix) {
		return fmt.Errorf("line does not start with %q as the log_format does", f.prefix)
	}
	pos := len(f.prefix)
	// Escapes are rare: one vectorised look for a backslash in the whole
	// line spares every field its own.
	esc := f.escape
	if esc != escapeNone && bytes.IndexByte(line, '\\') < 0 {
		esc = escapeNone
	}
	steps := f.steps
	for k := range steps {
		st := &steps[k]
		// The one-pass readers first (one switch on what compile chose);
		// a value they do not take ("-", junk) goes on to the generic
		// search-then-convert path below, which also words the error.
		switch st.op {
		case opNum:
			if st.v == avStatus && st.one {
				// Always three digits.
				if x, n := accessStatusItem(line, pos); n == 3 && st.litAt(line, pos+3) {
					ev.Status = x
					pos += 3 + len(st.lit)
					continue
				}
			}
			n, i := accessScanUint(line, pos)
			if i > pos && st.litAt(line, i) {
				switch st.v {
				case avStatus:
					if n <= 999 {
						ev.Status = int(n)
						pos = i + len(st.lit)
						continue
					}
				case avBodyBytes:
					ev.BodyBytes = n
					pos = i + len(st.lit)
					continue
				case avConnection:
					ev.CID = n
					pos = i + len(st.lit)
					continue
				}
			}
		// The usual single value of $request_time and of the upstream
		// lists ("0.123", "-", an address, "502") before the loops.
		case opSeconds:
			if st.one {
				if x, n := accessTimeItem(line, pos); n > 0 && st.litAt(line, pos+n) {
					ev.RequestTime = x // Absent for "-"
					pos += n + len(st.lit)
					continue
				}
			}
			if next := accessFastSeconds(st, line, pos, &ev.RequestTime); next >= 0 {
				pos = next
				continue
			}
		case opAddrs:
			if st.litFirst {
				if end := accessIndexStop(line, pos, st.lit[0]); end > pos && st.litAt(line, end) {
					ev.UpstreamAddr = append(ev.UpstreamAddr, accessAlias(line[pos:end]))
					pos = end + len(st.lit)
					continue
				}
			}
			if next := accessFastList(st, line, pos, ev); next >= 0 {
				pos = next
				continue
			}
		case opStatuses:
			if st.one {
				if x, n := accessStatusItem(line, pos); n > 0 && st.litAt(line, pos+n) {
					ev.UpstreamStatus = append(ev.UpstreamStatus, x)
					pos += n + len(st.lit)
					continue
				}
			}
			if next := accessFastList(st, line, pos, ev); next >= 0 {
				pos = next
				continue
			}
		case opTimes:
			if st.one {
				if x, n := accessTimeItem(line, pos); n > 0 && st.litAt(line, pos+n) {
					dst := accessTimes(st.v, ev)
					*dst = append(*dst, x)
					pos += n + len(st.lit)
					continue
				}
			}
			if next := accessFastList(st, line, pos, ev); next >= 0 {
				pos = next
				continue
			}
		case opShortStr:
			if esc != escapeNone {
				break // the generic path unescapes
			}
			if st.dash && pos < len(line) && line[pos] == '-' && st.litAt(line, pos+1) {
				pos += 1 + len(st.lit)
				continue
			}
			end := -1
			for from := pos; ; {
				k := accessSWARIndex(line, from, st.lit[0])
				if k < 0 || st.litAt(line, k) {
					end = k
					break
				}
				from = k + 1
			}
			if end < 0 {
				break // the generic path words the error
			}
			switch st.v {
			case avUnknown:
			case avRemoteAddr:
				ev.Client = accessAlias(line[pos:end])
			default:
				if err := f.assign(st.v, line[pos:end], escapeNone, f.loc, ev); err != nil {
					return fmt.Errorf("%s: %w", st.name, err)
				}
			}
			pos = end + len(st.lit)
			continue
		case opTimeLocal:
			// It contains a space: it is 26 bytes wide.
			if end := pos + 26; end <= len(line) && st.litAt(line, end) {
				if err := f.timeLocal(line[pos:end], f.loc, ev); err != nil {
					return fmt.Errorf("%s: %w", st.name, err)
				}
				pos = end + len(st.lit)
				continue
			}
		case opQuoted:
			// A long quoted value: find the quote, then the rest of the
			// literal with one word compare. An escaped value cannot
			// hold the quote, so the first match ends it.
			if st.dash && pos < len(line) && line[pos] == '-' && st.litAt(line, pos+1) {
				pos += 1 + len(st.lit)
				continue
			}
			end := -1
			for from := pos; from < len(line); {
				j := bytes.IndexByte(line[from:], '"')
				if j < 0 {
					break
				}
				if k := from + j; st.litAt(line, k) {
					end = k
					break
				}
				from += j + 1
			}
			if end < 0 {
				return fmt.Errorf("%s: expected %q after it, not found in the rest of the line %q", st.name, st.lit, accessQuoteMax(line[pos:]))
			}
			val := line[pos:end]
			pos = end + len(st.lit)
			switch st.v {
			case avRequest:
				if esc == escapeNone {
					accessRequestLine(val, ev)
				} else {
					f.request(f.str(val, esc), ev)
				}
			case avReferer:
				if esc == escapeNone {
					ev.Referer = accessAlias(val)
				} else {
					ev.Referer = f.str(val, esc)
				}
			case avUserAgent:
				if esc == escapeNone {
					ev.UserAgent = accessAlias(val)
				} else {
					ev.UserAgent = f.str(val, esc)
				}
			default:
				if err := f.assign(st.v, val, esc, f.loc, ev); err != nil {
					return fmt.Errorf("%s: %w", st.name, err)
				}
			}
			continue
		}
		if st.dash && pos < len(line) && line[pos] == '-' && st.litAt(line, pos+1) {
			pos += 1 + len(st.lit)
			continue
		}
		end := -1
		switch st.scan {
		case scanRest:
			if st.v == avRequestID && esc == escapeNone {
				ev.RequestID = accessAlias(line[pos:]) // the usual last field
				return nil
			}
			end = len(line)
		case scanSuffix:
			if f.escape != escapeNone && st.lit[0] == '"' {
				// An escaped value cannot hold the closing quote, so the
				// first one ends it, and text after it means the line has
				// more fields than the format (combined given for
				// nginx.org's "main", which adds "$http_x_forwarded_for").
				// Say so rather than read `curl" "-` as the user agent;
				// callers that try several formats rely on the refusal.
				end = f.indexLit(line, pos, st)
				if end < 0 {
					return fmt.Errorf("%s: expected %q after it, not found in the rest of the line %q (truncated?)", st.name, st.lit, accessQuoteMax(line[pos:]))
				}
				if after := end + len(st.lit); after < len(line) {
					return fmt.Errorf("%s: the line goes on after the format's last field: %q (log_format with fewer fields than the log?)", st.name, accessQuoteMax(line[after:]))
				}
				break
			}
			if len(line)-pos < len(st.lit) || !bytes.HasSuffix(line, st.lit) {
				return fmt.Errorf("%s: the line should end with %q after it but does not (truncated?)", st.name, st.lit)
			}
			end = len(line) - len(st.lit)
		case scanList:
			end = accessScanList(line, pos)
			if !bytes.HasPrefix(line[end:], st.lit) {
				return fmt.Errorf("%s: expected %q after the list %q", st.name, st.lit, accessQuoteMax(line[pos:end]))
			}
		default:
			end = f.indexLit(line, pos, st)
			if end < 0 {
				return fmt.Errorf("%s: expected %q after it, not found in the rest of the line %q", st.name, st.lit, accessQuoteMax(line[pos:]))
			}
		}
		if err := f.assign(st.v, line[pos:end], esc, f.loc, ev); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		pos = end + len(st.lit)
	}
	return nil
}

// timeLocal is assign for a 26-byte $time_local: the compare with the
// previous line's value is three word compares and a half-word one.
func (f *AccessFormat) timeLocal(val []byte, loc *time.Location, ev *Event) error {
	if !ev.Time.IsZero() {
		return nil // $msec came first
	}
	if f.lastVar == avTimeLocal && f.lastLen == 26 && len(val) == 26 {
		le := binary.LittleEndian
		if le.Uint64(val) == le.Uint64(f.lastRaw[:]) && le.Uint64(val[8:]) == le.Uint64(f.lastRaw[8:]) &&
			le.Uint64(val[16:]) == le.Uint64(f.lastRaw[16:]) && le.Uint16(val[24:]) == le.Uint16(f.lastRaw[24:]) {
			ev.Time = f.lastTime
			return nil
		}
	}
	return f.assign(avTimeLocal, val, escapeNone, loc, ev)
}

// accessTimes is the Event list an upstream time variable fills.
func accessTimes(v accessVar, ev *Event) *[]float64 {
	switch v {
	case avUpstreamConnectTime:
		return &ev.UpstreamConnectTime
	case avUpstreamHeaderTime:
		return &ev.UpstreamHeaderTime
	}
	return &ev.UpstreamResponseTime
}

// indexLit finds lit in line from byte from on; with escape=json a quote
// preceded by an odd number of backslashes is part of a value, not the end.
func (f *AccessFormat) indexLit(line []byte, from int, st *accessStep) int {
	lit := st.lit
	for from <= len(line) {
		var i int
		if st.short {
			i = accessIndexShort(line, from, lit)
		} else {
			// Find the literal's first byte, then the rest with one word
			// compare: cheaper than bytes.Index for these short literals.
			for {
				j := bytes.IndexByte(line[from:], lit[0])
				if j < 0 {
					return -1
				}
				i = from + j
				if st.litAt(line, i) {
					break
				}
				from = i + 1
			}
		}
		if i < 0 {
			return -1
		}
		if f.escape == escapeJSON && lit[0] == '"' {
			n := 0
			for j := i - 1; j >= from && line[j] == '\\'; j-- {
				n++
			}
			if n%2 == 1 {
				from = i + 1
				continue
			}
		}
		return i
	}
	return -1
}

// accessTimeItem reads the two shapes nginx writes for nearly every time:
// "-" (Absent) and seconds with milliseconds under 10 s ("0.123"), and
// returns how many bytes they took (0: neither, take the general path).
// One word load checks the shape: XOR with "0.000" leaves the digits as
// their values and the dot as zero, and a digit is a value whose high
// nibble stays clear after adding 6.
func accessTimeItem(line []byte, i int) (float64, int) {
	if i < 0 || i >= len(line)-7 {
		return 0, 0 // near the end of the line: the general path
	}
	w := binary.LittleEndian.Uint64(line[i:])
	if byte(w) == '-' {
		return Absent, 1
	}
	n, ok := accessMilliWord(w)
	if !ok {
		return 0, 0
	}
	return float64(n) / 1e3, 5
}

// accessMilliWord reads "d.ddd" from the low five bytes of w as a number of
// milliseconds: XOR with "0.000" leaves the digits as their values and the
// dot as zero, and a digit is a value whose high nibble stays clear after
// adding 6.
func accessMilliWord(w uint64) (int, bool) {
	const mask, six = 0x000000F0F0F0FFF0, 0x0000000606060006
	x := w ^ 0x0000003030302E30
	if x&mask != 0 || (x+six)&mask != 0 {
		return 0, false
	}
	return int(x&0xF)*1000 + int(x>>16&0xF)*100 + int(x>>24&0xF)*10 + int(x>>32&0xF), true
}

// accessStatusItem reads "-" (0) or a 3-digit status and returns how many
// bytes it took (0: neither), like accessTimeItem.
func accessStatusItem(line []byte, i int) (int, int) {
	if i < 0 || i >= len(line)-7 {
		return 0, 0
	}
	w := binary.LittleEndian.Uint64(line[i:])
	if byte(w) == '-' {
		return 0, 1
	}
	const mask, six = 0x0000000000F0F0F0, 0x0000000000060606
	x := w ^ 0x0000000000303030
	if x&mask != 0 || (x+six)&mask != 0 {
		return 0, 0
	}
	return int(x&0xF)*100 + int(x>>8&0xF)*10 + int(x>>16&0xF), 3
}

// accessFastSeconds reads nginx's "0.123" (or "-") at pos followed by lit
// into *dst and returns the position after lit, or -1 to take the generic path.
func accessFastSeconds(st *accessStep, line []byte, pos int, dst *float64) int {
	if pos < len(line) && line[pos] == '-' && st.litAt(line, pos+1) {
		return pos + 1 + len(st.lit) // absent: *dst stays Absent
	}
	x, i := accessScanSeconds(line, pos)
	if i < 0 || !st.litAt(line, i) {
		return -1
	}
	*dst = x
	return i + len(st.lit)
}

// accessScanSeconds reads digits[.digits] at pos; i is -1 if there are none.
// Like accessFloat, the exact integer mantissa is divided once by an exact
// power of ten, so the result is what strconv.ParseFloat gives.
func accessScanSeconds(line []byte, pos int) (x float64, i int) {
	// nginx writes every time as seconds.milliseconds, nearly always
	// under 10 s: that shape without the loops (same value: the same
	// mantissa divided by the same power of ten).
	if pos >= 0 && pos+5 <= len(line) && line[pos+1] == '.' {
		d0, d2, d3, d4 := line[pos]-'0', line[pos+2]-'0', line[pos+3]-'0', line[pos+4]-'0'
		if d0 <= 9 && d2 <= 9 && d3 <= 9 && d4 <= 9 && (pos+5 == len(line) || line[pos+5]-'0' > 9) {
			return float64(int(d0)*1000+int(d2)*100+int(d3)*10+int(d4)) / 1e3, pos + 5
		}
	}
	mant, i := accessDigitsAt(line, pos, 12, 0)
	if i == pos {
		return 0, -1
	}
	if i == len(line) || line[i] != '.' {
		if i-pos > 15 {
			return 0, -1
		}
		return float64(mant), i
	}
	start := i + 1
	mant, i = accessDigitsAt(line, start, 9, mant)
	if i-pos > 16 {
		// More than 15 digits: the mantissa may not be exact in a
		// float64; the generic path's strconv handles it.
		return 0, -1
	}
	switch i - start {
	case 3:
		return float64(mant) / 1e3, i
	case 0:
		return 0, -1
	case 1:
		return float64(mant) / 1e1, i
	case 2:
		return float64(mant) / 1e2, i
	case 4:
		return float64(mant) / 1e4, i
	case 5:
		return float64(mant) / 1e5, i
	case 6:
		return float64(mant) / 1e6, i
	case 7:
		return float64(mant) / 1e7, i
	case 8:
		return float64(mant) / 1e8, i
	}
	return float64(mant) / 1e9, i
}

// accessListNext moves past a list separator at i: 1 more item follows
// (next is where), 0 the list ended with the step's literal (next is after
// it), -1 neither.
func accessListNext(st *accessStep, line []byte, i int) (int, int) {
	if st.litFirst && st.litAt(line, i) {
		return 0, i + len(st.lit) // the usual single value
	}
	switch {
	case i+1 < len(line) && line[i] == ',' && line[i+1] == ' ':
		return 1, i + 2
	case i+2 < len(line) && line[i] == ' ' && line[i+1] == ':' && line[i+2] == ' ':
		return 1, i + 3
	case st.litAt(line, i):
		return 0, i + len(st.lit)
	}
	return -1, 0
}

// accessFastList reads the upstream list of st at line[i:] (items joined by
// ", " and " : ", then the literal) in one pass onto the Event's list, and
// returns the position after the literal, or -1, the list left as it was,
// for the generic path.
func accessFastList(st *accessStep, line []byte, i int, ev *Event) int {
	n0 := accessListLen(st.v, ev)
	for {
		if i = accessListItem(st, line, i, ev); i < 0 {
			break
		}
		more, next := accessListNext(st, line, i)
		if more < 0 {
			break
		}
		if more == 0 {
			return next
		}
		i = next
	}
	accessListCut(st.v, ev, n0)
	return -1
}

// accessListItem appends the list item at line[i:] and returns where it
// ends, or -1 if there is none of st's kind. "-" is kept as a placeholder
// (address "", status 0, time Absent) so the lists stay aligned.
func accessListItem(st *accessStep, line []byte, i int, ev *Event) int {
	switch st.v {
	case avUpstreamAddr:
		start := i
		if i = accessIndexStop(line, i, st.lit[0]); i == start {
			return -1
		}
		ev.UpstreamAddr = append(ev.UpstreamAddr, accessAlias(line[start:i]))
		return i
	case avUpstreamStatus:
		start, x := i, 0
		if i < len(line) && line[i] == '-' {
			i++
		} else {
			for i < len(line) && i-start < 3 && line[i]-'0' <= 9 {
				x = x*10 + int(line[i]-'0')
				i++
			}
			if i == start {
				return -1
			}
		}
		ev.UpstreamStatus = append(ev.UpstreamStatus, x)
		return i
	}
	x := float64(Absent)
	if i < len(line) && line[i] == '-' {
		i++
	} else if x, i = accessScanSeconds(line, i); i < 0 {
		return -1
	}
	dst := accessTimes(st.v, ev)
	*dst = append(*dst, x)
	return i
}

func accessListLen(v accessVar, ev *Event) int {
	switch v {
	case avUpstreamAddr:
		return len(ev.UpstreamAddr)
	case avUpstreamStatus:
		return len(ev.UpstreamStatus)
	}
	return len(*accessTimes(v, ev))
}

// accessListCut shortens the list of v back to n items.
func accessListCut(v accessVar, ev *Event, n int) {
	switch v {
	case avUpstreamAddr:
		ev.UpstreamAddr = ev.UpstreamAddr[:n]
	case avUpstreamStatus:
		ev.UpstreamStatus = ev.UpstreamStatus[:n]
	default:
		t := accessTimes(v, ev)
		*t = (*t)[:n]
	}
}

// accessLitAt reports whether lit is at line[i:].
func accessLitAt(line []byte, i int, lit []byte) bool {
	if len(line)-i < len(lit) {
		return false
	}
	for k, c := range lit {
		if line[i+k] != c {
			return false
		}
	}
	return true
}

// accessIndexShort is bytes.Index from from on, looking at the first bytes
// one by one before handing over to the vectorised search.
func accessIndexShort(line []byte, from int, lit []byte) int {
	const near = 48
	end := from + near
	if end > len(line) {
		end = len(line)
	}
	c := lit[0]
	for i := from; i < end; i++ {
		if line[i] != c {
			continue
		}
		if len(line)-i < len(lit) {
			return -1
		}
		k := 1
		for k < len(lit) && line[i+k] == lit[k] {
			k++
		}
		if k == len(lit) {
			return i
		}
	}
	if end == len(line) {
		return -1
	}
	j := bytes.Index(line[end:], lit)
	if j < 0 {
		return -1
	}
	return end + j
}

// accessScanList returns the end of an upstream list starting at pos: items
// without spaces or commas, joined by ", " or " : ".
func accessScanList(line []byte, pos int) int {
	i := pos
	for {
		for i < len(line) && line[i] != ' ' && line[i] != ',' {
			i++
		}
		switch {
		case i+1 < len(line) && line[i] == ',' && line[i+1] == ' ':
			i += 2
		case i+2 < len(line) && line[i] == ' ' && line[i+1] == ':' && line[i+2] == ' ':
			i += 3
		default:
			return i
		}
	}
}

// accessQuoteMax shortens a value for an error message.
func accessQuoteMax(b []byte) string {
	const max = 64
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

func accessAbsent(val []byte) bool {
	return len(val) == 0 || len(val) == 1 && val[0] == '-'
}

// str returns val as a string that aliases the line, or the scratch buffer
// when it had to be unescaped. "-" and "" (nginx's absent value) give "".
func (f *AccessFormat) str(val []byte, esc accessEscape) string {
	if esc == escapeNone {
		return accessAlias(val)
	}
	if accessAbsent(val) {
		return ""
	}
	if accessHasBackslash(val) {
		start := len(f.buf)
		if esc == escapeJSON {
			f.buf = accessUnescapeJSON(f.buf, val)
		} else {
			f.buf = accessUnescapeDefault(f.buf, val)
		}
		b := f.buf[start:]
		if len(b) == 0 {
			return ""
		}
		return unsafe.String(&b[0], len(b))
	}
	return unsafe.String(&val[0], len(val))
}

// accessAlias is str for a value with nothing to unescape.
func accessAlias(val []byte) string {
	if len(val) == 0 || len(val) == 1 && val[0] == '-' {
		return ""
	}
	return unsafe.String(&val[0], len(val))
}

// accessHasOffset reports whether an ISO time ends in Z or an offset, so
// that its value does not depend on the configured zone.
func accessHasOffset(b []byte) bool {
	if len(b) < 20 {
		return false
	}
	if b[len(b)-1] == 'Z' || b[len(b)-1] == 'z' {
		return true
	}
	tail := b[19:]
	return bytes.IndexByte(tail, '+') >= 0 || bytes.IndexByte(tail, '-') >= 0
}

func accessHasBackslash(val []byte) bool {
	if len(val) >= 32 {
		return bytes.IndexByte(val, '\\') >= 0
	}
	for _, c := range val {
		if c == '\\' {
			return true
		}
	}
	return false
}

// assign converts one value into the Event field its variable names.
func (f *AccessFormat) assign(v accessVar, val []byte, esc accessEscape, loc *time.Location, ev *Event) error {
	switch v {
	case avUnknown, avUnknownList:
	case avRemoteAddr:
		// An address: nothing nginx would escape.
		ev.Client = f.str(val, escapeNone)
	case avTimeLocal, avTimeISO, avMsec, avTimeAny:
		// $msec has milliseconds: it wins over a second-precision time
		// logged in the same line, wherever it stands.
		if accessAbsent(val) || v != avMsec && !ev.Time.IsZero() {
			return nil
		}
		if v == f.lastVar && len(val) == f.lastLen && string(val) == string(f.lastRaw[:f.lastLen]) {
			ev.Time = f.lastTime
			return nil
		}
		t, ok := accessParseTime(v, val, loc)
		if !ok {
			return fmt.Errorf("expected %s, got %q", accessTimeWant(v), accessQuoteMax(val))
		}
		ev.Time = t
		// A zone-less time depends on loc, which the caller may change.
		if len(val) <= len(f.lastRaw) && (v == avTimeLocal || v == avMsec || v == avTimeISO && accessHasOffset(val)) {
			f.lastLen = copy(f.lastRaw[:], val)
			f.lastVar, f.lastTime = v, t
		}
	case avRequest:
		f.request(f.str(val, esc), ev)
	case avMethod:
		ev.Method = f.str(val, esc)
	case avRequestURI:
		ev.URI = f.str(val, esc)
	case avURI:
		if ev.URI == "" {
			ev.URI = f.str(val, esc)
		}
	case avProtocol:
		ev.Protocol = f.str(val, esc)
	case avStatus:
		n, ok := accessUint(val)
		if !ok || n > 999 {
			return fmt.Errorf("expected a 3-digit status, got %q", accessQuoteMax(val))
		}
		ev.Status = int(n)
	case avBodyBytes, avBytesSent:
		if accessAbsent(val) {
			return nil
		}
		n, ok := accessUint(val)
		if !ok {
			return fmt.Errorf("expected a byte count, got %q", accessQuoteMax(val))
		}
		if v == avBodyBytes || ev.BodyBytes == Absent {
			ev.BodyBytes = n
		}
	case avReferer:
		ev.Referer = f.str(val, esc)
	case avUserAgent:
		ev.UserAgent = f.str(val, esc)
	case avRequestTime:
		if accessAbsent(val) {
			return nil
		}
		x, ok := accessFloat(val)
		if !ok {
			return fmt.Errorf("expected seconds, got %q", accessQuoteMax(val))
		}
		ev.RequestTime = x
	case avUpstreamAddr, avUpstreamStatus, avUpstreamConnectTime, avUpstreamHeaderTime, avUpstreamResponseTime:
		return f.list(v, val, esc, ev)
	case avRequestID:
		ev.RequestID = f.str(val, escapeNone) // hex
	case avConnection:
		if accessAbsent(val) {
			return nil
		}
		n, ok := accessUint(val)
		if !ok {
			return fmt.Errorf("expected a connection serial number, got %q", accessQuoteMax(val))
		}
		ev.CID = n
	case avServerName:
		ev.ServerName = f.str(val, esc)
	case avHost:
		ev.Host = f.str(val, esc)
		if ev.ServerName == "" {
			ev.ServerName = ev.Host
		}
	case avHTTPHost:
		ev.Host = f.str(val, esc)
	case avHostname:
		ev.Hostname = f.str(val, esc)
	case avPID:
		if accessAbsent(val) {
			return nil
		}
		n, ok := accessUint(val)
		if !ok || n > 1<<31 {
			return fmt.Errorf("expected a pid, got %q", accessQuoteMax(val))
		}
		ev.PID = int(n)
	}
	return nil
}

// request splits "GET /x HTTP/1.1". A request line nginx could not parse
// (a TLS handshake on a plain port, binary junk) is kept whole in Request
// with no method.
func (f *AccessFormat) request(s string, ev *Event) {
	ev.Request = s
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 || sp > 24 {
		return
	}
	for i := 0; i < sp; i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return
		}
	}
	ev.Method = s[:sp]
	rest := s[sp+1:]
	if last := strings.LastIndexByte(rest, ' '); last >= 0 && strings.HasPrefix(rest[last+1:], "HTTP/") {
		ev.URI = rest[:last]
		ev.Protocol = rest[last+1:]
		return
	}
	ev.URI = rest // HTTP/0.9 has no protocol
}

// accessRequestLine is request for a value with nothing to unescape, in one
// pass: the method is read up to its space and the protocol is found where
// nginx puts it, " HTTP/x.y" at the end, before falling back to a search
// for the last space.
func accessRequestLine(val []byte, ev *Event) {
	ev.Request = accessAlias(val)
	if ev.Request == "" {
		return
	}
	sp := -1
	for i := 0; i < len(val) && i <= 24; i++ {
		c := val[i]
		if c == ' ' {
			sp = i
			break
		}
		if !(c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return
		}
	}
	if sp <= 0 {
		return
	}
	s := ev.Request
	ev.Method = s[:sp]
	rest := s[sp+1:]
	if n := len(rest); n >= 9 && rest[n-9] == ' ' && rest[n-8:n-3] == "HTTP/" && rest[n-3] != ' ' && rest[n-2] != ' ' && rest[n-1] != ' ' {
		ev.URI, ev.Protocol = rest[:n-9], rest[n-8:]
		return
	}
	if last := strings.LastIndexByte(rest, ' '); last >= 0 && strings.HasPrefix(rest[last+1:], "HTTP/") {
		ev.URI = rest[:last]
		ev.Protocol = rest[last+1:]
		return
	}
	ev.URI = rest // HTTP/0.9 has no protocol
}

// list appends the items of a multi-value upstream variable.
func (f *AccessFormat) list(v accessVar, val []byte, esc accessEscape, ev *Event) error {
	for {
		i, n := accessListSep(val)
		item := val
		if i >= 0 {
			item = val[:i]
		}
		for len(item) > 0 && item[0] == ' ' {
			item = item[1:]
		}
		for len(item) > 0 && item[len(item)-1] == ' ' {
			item = item[:len(item)-1]
		}
		switch v {
		case avUpstreamAddr:
			ev.UpstreamAddr = append(ev.UpstreamAddr, f.str(item, esc))
		case avUpstreamStatus:
			st := 0
			if !accessAbsent(item) {
				x, ok := accessUint(item)
				if !ok || x > 999 {
					return fmt.Errorf("expected statuses like \"502, 200\", got %q", accessQuoteMax(val))
				}
				st = int(x)
			}
			ev.UpstreamStatus = append(ev.UpstreamStatus, st)
		default:
			x := float64(Absent)
			if !accessAbsent(item) {
				var ok bool
				if x, ok = accessFloat(item); !ok {
					return fmt.Errorf("expected times like \"0.001, 0.120\", got %q", accessQuoteMax(val))
				}
			}
			switch v {
			case avUpstreamConnectTime:
				ev.UpstreamConnectTime = append(ev.UpstreamConnectTime, x)
			case avUpstreamHeaderTime:
				ev.UpstreamHeaderTime = append(ev.UpstreamHeaderTime, x)
			default:
				ev.UpstreamResponseTime = append(ev.UpstreamResponseTime, x)
			}
		}
		if i < 0 {
			return nil
		}
		val = val[i+n:]
	}
}

// accessListSep finds the next separator of a multi-value upstream variable:
// ',' between upstreams of a group, " : " between groups.
func accessListSep(b []byte) (int, int) {
	for i, c := range b {
		switch {
		case c == ',':
			return i, 1
		case c == ' ' && i+2 < len(b) && b[i+1] == ':' && b[i+2] == ' ':
			return i, 3
		}
	}
	return -1, 0
}
