package parser

// Envelopes: what wraps a log line on its way to the user. Lines arrive with
// a syslog header, a container runtime's timestamp, a compose tool's
// "name-1  | " prefix, a journal JSON object or a grep file name in front;
// unwrap strips them (several may be stacked) so that the source parsers
// see the line the software wrote, and keeps what they told us.
//
// unwrap runs on every line of the access-log hot path, so a line without an
// envelope is rejected on its first bytes and never allocates.

import (
	"bytes"
	"time"
)

// envelope is what a wrapper around the real line told us.
type envelope struct {
	inner    []byte
	time     time.Time
	hostname string
	program  string // syslog tag / journal identifier: "kernel", "systemd", "nginx", ...
	pid      int    // pid in the syslog tag (prog[pid]) or journal _PID
	unit     string // systemd unit (journal _SYSTEMD_UNIT / UNIT)
	// container is a container or compose service name ("web-1"), from a
	// compose prefix, a kubectl --prefix or the journal's CONTAINER_NAME.
	container string
}

// maxEnvelopes bounds how many stacked wrappers are peeled (grep prefix over
// a syslog header over a kernel boot stamp is three).
const maxEnvelopes = 4

// unwrap strips the envelopes around line. It fills ev's Unit and Container
// from the envelope (they identify the service for correlation); source
// parsers overwrite them when the line itself names them.
func (p *Parser) unwrap(line []byte, ev *Event) envelope {
	env := envelope{inner: line}
	for range maxEnvelopes {
		if !p.unwrapOnce(&env) {
			break
		}
	}
	if ev != nil {
		if env.unit != "" {
			ev.Unit = env.unit
		}
		if env.container != "" {
			ev.Container = env.container
		}
	}
	return env
}

// unwrapOnce peels one wrapper off env.inner and reports whether it did.
func (p *Parser) unwrapOnce(env *envelope) bool {
	b := env.inner
	if len(b) < 4 {
		return false
	}
	switch c := b[0]; {
	case c >= '0' && c <= '9':
		// The access log's hot path: an IPv4 or IPv6 client address, or
		// nginx's error-log date, is rejected here on two bytes. Only an
		// RFC 3339 stamp with a 'T' starts an envelope with a digit.
		if len(b) > 20 && b[4] == '-' && b[10] == 'T' {
			return p.unwrapISO(env)
		}
		return false
	case c == '{':
		return p.unwrapJSON(env)
	case c == '<':
		return p.unwrapPRI(env)
	case c == '[':
		return unwrapKubectlPrefix(env)
	case c >= 'A' && c <= 'S' && b[3] == ' ':
		if p.unwrapRFC3164(env) {
			return true
		}
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0xC0:
		// journalctl under a non-English LC_TIME: "avril 16 21:08:50 ...".
		if p.unwrapLocalSyslog(env) {
			return true
		}
	}
	return unwrapNamePrefix(env)
}

// setTime keeps the outermost stamp: an inner wrapper's time (a kubectl stamp
// inside a grep prefix) is only used when nothing outside had one.
func (env *envelope) setTime(t time.Time) {
	if env.time.IsZero() {
		env.time = t
	}
}

// unwrapRFC3164 reads "Mmm dd hh:mm:ss[.frac] host tag[pid]: msg", the
// classic syslog file format and journalctl's short and short-precise.
func (p *Parser) unwrapRFC3164(env *envelope) bool {
	t, n, ok := p.syslogTime(env.inner)
	if !ok {
		// German months ("Mai", "Okt") fit the English layout.
		return p.unwrapLocalSyslog(env)
	}
	if n >= len(env.inner) || env.inner[n] != ' ' {
		return false
	}
	env.setTime(t)
	p.hostAndTag(env, env.inner[n+1:], true)
	return true
}

// unwrapLocalSyslog is unwrapRFC3164 for a localized month name.
func (p *Parser) unwrapLocalSyslog(env *envelope) bool {
	t, n, ok := parseLocalSyslogTime(env.inner, p.now, p.opts.Location)
	if !ok || n >= len(env.inner) || env.inner[n] != ' ' {
		return false
	}
	env.setTime(t)
	p.hostAndTag(env, env.inner[n+1:], true)
	return true
}

// unwrapISO reads lines that open with an RFC 3339 stamp with a zone: CRI
// container logs ("ts stdout F msg"), kubectl logs --timestamps ("ts msg"),
// journalctl -o short-iso / rsyslog's RFC 3339 file format ("ts host
// tag: msg"), dmesg --time-format iso ("ts msg", comma before the fraction)
// and docker events. Stamps without a zone or with a space instead of 'T'
// are part of the application's own line and are left to its parser.
func (p *Parser) unwrapISO(env *envelope) bool {
	b := env.inner
	t, n, ok := parseISOTime(b, p.opts.Location)
	if !ok || n >= len(b) || b[n] != ' ' {
		return false
	}
	rest := b[n+1:]
	if b[19] == ',' && n >= 26 && (n == 26 || b[26] == '+' || b[26] == '-') {
		// dmesg writes six fraction digits after a comma (log4j's ISO8601
		// writes three); a stamp cut of its offset is read in the
		// configured zone.
		env.setTime(t)
		env.inner = rest
		if env.program == "" {
			env.program = "kernel"
		}
		return true
	}
	if !hasZone(b[19:n]) {
		return false
	}
	env.setTime(t)
	// CRI: "stdout F " / "stderr P " (F full line, P partial); the record
	// that closes a partial line may be empty.
	if len(rest) == 8 && (string(rest) == "stdout F" || string(rest) == "stderr F" ||
		string(rest) == "stdout P" || string(rest) == "stderr P") {
		env.inner = rest[8:]
		return true
	}
	if len(rest) >= 9 && (bytes.HasPrefix(rest, []byte("stdout ")) || bytes.HasPrefix(rest, []byte("stderr "))) &&
		(rest[7] == 'F' || rest[7] == 'P') && rest[8] == ' ' {
		env.inner = rest[9:]
		return true
	}
	if !p.hostAndTag(env, rest, false) {
		env.inner = rest
	}
	return true
}

// hasZone reports whether the bytes after an ISO stamp's seconds hold a zone.
func hasZone(b []byte) bool {
	for _, c := range b {
		if c == 'Z' || c == 'z' || c == '+' || c == '-' {
			return true
		}
	}
	return false
}

// hostAndTag reads "host tag[pid]: msg" after a syslog stamp. With loose
// set (an RFC 3164 stamp, which is always followed by a host) a line
// without a tag still loses its host; otherwise the tag must be there, so
// that "ts some message" is not mistaken for a host and a program.
func (p *Parser) hostAndTag(env *envelope, b []byte, loose bool) bool {
	if loose && len(b) > 0 && b[0] == ' ' {
		// An empty host field: nginx's syslog writer sends
		// "<189>Nov 25 17:03:32  nginx: ..." when it has no hostname.
		b = bytes.TrimLeft(b, " ")
	}
	if loose {
		// BSD syslogd and macOS write no host: "Nov 25 14:03:01 kernel[0]: msg".
		if prog, pid, n, ok := syslogTag(b); ok {
			env.program, env.pid, env.inner = prog, pid, b[n:]
			return true
		}
	}
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 {
		if loose {
			env.inner = b
		}
		return loose
	}
	host := b[:sp]
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':') {
			if loose {
				env.inner = b
			}
			return loose
		}
	}
	rest := b[sp+1:]
	prog, pid, n, ok := syslogTag(rest)
	if !ok {
		if !loose {
			return false
		}
		env.hostname = aliasStr(host)
		env.inner = rest
		return true
	}
	env.hostname = aliasStr(host)
	env.program = prog
	env.pid = pid
	env.inner = rest[n:]
	if isUnitName([]byte(prog)) {
		// journalctl -o with-unit writes the unit where the tag goes.
		env.unit = prog
	}
	if prog == "kernel" {
		// kern.log repeats the boot-relative stamp after the tag; the
		// syslog wall time is the better one, so drop it.
		if d := kernelBracketLen(env.inner); d > 0 {
			env.inner = env.inner[d:]
		}
	}
	return true
}

// syslogTag reads "prog[pid]: " or "prog: " and returns the program, the pid
// (0 if none) and the length consumed. Tags hold no spaces; Docker's syslog
// driver writes "docker/<id>[pid]".
func syslogTag(b []byte) (prog string, pid, n int, ok bool) {
	i := 0
	for i < len(b) && i < 64 {
		c := b[i]
		if c == ':' || c == '[' {
			break
		}
		if c == ' ' || c < 0x21 || c > 0x7e {
			return "", 0, 0, false
		}
		i++
	}
	if i == 0 || i >= len(b) || i == 64 {
		return "", 0, 0, false
	}
	prog = aliasStr(b[:i])
	if b[i] == '[' {
		v, d := leadingInt(b[i+1:])
		if d == 0 || i+1+d >= len(b) || b[i+1+d] != ']' {
			return "", 0, 0, false
		}
		pid = int(v)
		i += d + 2
	}
	if i >= len(b) || b[i] != ':' {
		return "", 0, 0, false
	}
	i++
	if i < len(b) {
		if b[i] != ' ' {
			return "", 0, 0, false
		}
		i++
	}
	return prog, pid, i, true
}

// kernelBracketLen returns the length of a leading "[ 123.456789] " boot
// stamp, or 0.
func kernelBracketLen(b []byte) int {
	if len(b) < 4 || b[0] != '[' {
		return 0
	}
	end := bytes.IndexByte(b, ']')
	if end < 2 || end > 24 {
		return 0
	}
	inner := bytes.TrimLeft(b[1:end], " ")
	if _, ok := parseBootSeconds(inner); !ok {
		return 0
	}
	n := end + 1
	if n < len(b) && b[n] == ' ' {
		n++
	}
	return n
}

// unwrapPRI reads a syslog priority "<N>" and what follows: RFC 5424
// ("<N>1 ts host app procid msgid sd msg"), RFC 3164 with its priority, or a
// bare priority as `dmesg -r` prints it before a kernel line.
func (p *Parser) unwrapPRI(env *envelope) bool {
	b := env.inner
	v, n := leadingInt(b[1:])
	if n == 0 || n > 3 || v > 191 || 1+n >= len(b) || b[1+n] != '>' {
		return false
	}
	rest := b[n+2:]
	if len(rest) > 2 && rest[0] == '1' && rest[1] == ' ' {
		if p.unwrapRFC5424(env, rest[2:]) {
			return true
		}
	}
	env.inner = rest
	if v < 8 && env.program == "" && len(rest) > 0 && rest[0] == '[' {
		env.program = "kernel" // facility 0 is the kernel
	}
	return true
}

// nextField splits off the next space-separated field.
func nextField(b []byte) (field, rest []byte, ok bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 {
		return nil, nil, false
	}
	return b[:sp], b[sp+1:], true
}

func (p *Parser) unwrapRFC5424(env *envelope, b []byte) bool {
	ts, b, ok := nextField(b)
	if !ok {
		return false
	}
	host, b, ok1 := nextField(b)
	app, b, ok2 := nextField(b)
	procid, b, ok3 := nextField(b)
	_, b, ok4 := nextField(b) // msgid
	if !(ok1 && ok2 && ok3 && ok4) {
		return false
	}
	// Structured data: "-" or one or more [id k="v" ...] elements, in which
	// ']' and '"' may be escaped with a backslash.
	switch {
	case len(b) > 0 && b[0] == '-':
		b = b[1:]
	case len(b) > 0 && b[0] == '[':
		i, inQuote := 0, false
		for i < len(b) {
			c := b[i]
			switch {
			case c == '\\':
				i++
			case c == '"':
				inQuote = !inQuote
			case c == ']' && !inQuote:
				if i+1 >= len(b) || b[i+1] != '[' {
					i++
					goto sdDone
				}
			}
			i++
		}
	sdDone:
		if i > len(b) {
			i = len(b)
		}
		b = b[i:]
	default:
		return false
	}
	if len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // RFC 5424 allows a BOM before the message
	if string(ts) != "-" {
		if t, _, ok := parseISOTime(ts, p.opts.Location); ok {
			env.setTime(t)
		}
	}
	if string(host) != "-" {
		env.hostname = aliasStr(host)
	}
	if string(app) != "-" {
		env.program = aliasStr(app)
	}
	if v, n := leadingInt(procid); n > 0 && n == len(procid) {
		env.pid = int(v)
	}
	env.inner = b
	if env.program == "kernel" {
		if d := kernelBracketLen(b); d > 0 {
			env.inner = b[d:]
		}
	}
	return true
}

// unwrapJSON reads docker's json-file lines ({"log":"...\n","stream":...,
// "time":...}) and journalctl -o json records (MESSAGE, _HOSTNAME,
// SYSLOG_IDENTIFIER, __REALTIME_TIMESTAMP, _SYSTEMD_UNIT, ...). Other JSON
// (an escape=json access log, docker events) is not an envelope.
func (p *Parser) unwrapJSON(env *envelope) bool {
	b := env.inner
	if bytes.HasPrefix(b, []byte(`{"log":`)) {
		msg, ok := objString(b, "log")
		if !ok {
			return false
		}
		if ts, ok := objString(b, "time"); ok {
			if t, _, ok := parseISOTime(ts, p.opts.Location); ok {
				env.setTime(t)
			}
		}
		env.inner = bytes.TrimRight(msg, "\r\n")
		return true
	}
	if !bytes.Contains(b, []byte(`"MESSAGE"`)) || !(bytes.Contains(b, []byte(`"__REALTIME_TIMESTAMP"`)) ||
		bytes.Contains(b, []byte(`"SYSLOG_IDENTIFIER"`)) || bytes.Contains(b, []byte(`"_HOSTNAME"`))) {
		return false
	}
	msg, ok := objString(b, "MESSAGE")
	if !ok {
		// journalctl writes a message that is not valid UTF-8 as an array
		// of byte values; such a record has no text to parse.
		return false
	}
	// _SOURCE_REALTIME_TIMESTAMP is when the program logged the line;
	// __REALTIME_TIMESTAMP when journald received it.
	for _, k := range [...]string{"_SOURCE_REALTIME_TIMESTAMP", "__REALTIME_TIMESTAMP"} {
		if v, ok := objString(b, k); ok {
			if us, n := leadingInt(v); n > 0 && n == len(v) {
				env.setTime(time.UnixMicro(us).UTC())
				break
			}
		}
	}
	if v, ok := objString(b, "_HOSTNAME"); ok {
		env.hostname = aliasStr(v)
	}
	if v, ok := objString(b, "SYSLOG_IDENTIFIER"); ok {
		env.program = aliasStr(v)
	} else if v, ok := objString(b, "_COMM"); ok {
		env.program = aliasStr(v)
	}
	if v, ok := objString(b, "_PID"); ok {
		if n, d := leadingInt(v); d > 0 {
			env.pid = int(n)
		}
	}
	// PID 1's messages about a unit carry it in UNIT (and USER_UNIT for the
	// user manager); _SYSTEMD_UNIT is the unit that wrote the line.
	for _, k := range [...]string{"UNIT", "USER_UNIT", "_SYSTEMD_UNIT"} {
		if v, ok := objString(b, k); ok && len(v) > 0 {
			env.unit = aliasStr(v)
			break
		}
	}
	if v, ok := objString(b, "CONTAINER_NAME"); ok {
		env.container = aliasStr(v)
	}
	env.inner = bytes.TrimRight(msg, "\r\n")
	if env.program == "kernel" {
		if d := kernelBracketLen(env.inner); d > 0 {
			env.inner = env.inner[d:]
		}
	}
	return true
}

// unwrapKubectlPrefix reads kubectl logs --prefix: "[pod/NAME/CONTAINER] ".
func unwrapKubectlPrefix(env *envelope) bool {
	b := env.inner
	if !bytes.HasPrefix(b, []byte("[pod/")) {
		return false
	}
	end := bytes.IndexByte(b, ']')
	if end < 0 || end+1 >= len(b) || b[end+1] != ' ' {
		return false
	}
	parts := b[5:end]
	slash := bytes.LastIndexByte(parts, '/')
	if slash <= 0 {
		return false
	}
	env.container = aliasStr(parts[slash+1:])
	env.inner = b[end+2:]
	return true
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '/'
}

// unwrapNamePrefix reads the two prefixes that start with a bare name:
// a compose/foreman/honcho replica prefix ("web-1  | ", "web_1  | ",
// "app.1 | ") and a grep file name ("/var/log/nginx/error.log:..." or
// "file.log:123:..."). Names that start with a digit are not looked at
// (see unwrapOnce); it scans only the first token.
func unwrapNamePrefix(env *envelope) bool {
	b := env.inner
	i := 0
	for i < len(b) && i < 256 && nameByte(b[i]) {
		i++
	}
	if i == 0 || i >= len(b) {
		return false
	}
	name := b[:i]
	switch b[i] {
	case ' ':
		if !replicaName(name) {
			return false
		}
		j := i
		for j < len(b) && b[j] == ' ' {
			j++
		}
		if j+1 >= len(b) || b[j] != '|' || b[j+1] != ' ' {
			if j+1 == len(b) && b[j] == '|' { // an empty line from the service
				env.container = aliasStr(name)
				env.inner = b[len(b):]
				return true
			}
			return false
		}
		env.container = aliasStr(name)
		env.inner = b[j+2:]
		return true
	case ':':
		if !logFileName(name) {
			return false
		}
		rest := b[i+1:]
		// grep -n adds the line number: "file:123:".
		if _, n := leadingInt(rest); n > 0 && n < len(rest) && rest[n] == ':' {
			rest = rest[n+1:]
		}
		env.inner = rest
		return true
	}
	return false
}

// replicaName reports whether name ends in a replica number the way compose
// (web-1, web_1) and foreman/honcho (web.1) number their processes.
func replicaName(name []byte) bool {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	if i == len(name) || i < 2 {
		return false
	}
	sep := name[i-1]
	if sep != '-' && sep != '_' && sep != '.' {
		return false
	}
	// An IPv4 address ("10.0.0.1") also ends in ".digits": a service
	// name has a letter.
	for _, c := range name[:i-1] {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// logFileName reports whether name looks like a log file grep would print:
// under /var/log or with a log-ish extension (rotated ones included), so
// "2001:db8::1", "host:port" or a source file in a warning ("/srv/x.py:42:")
// is not one.
func logFileName(name []byte) bool {
	if bytes.HasPrefix(name, []byte("/var/log/")) || bytes.Contains(name, []byte(".log")) {
		return true
	}
	// syslog's own files, rotated or not: "syslog", "syslog.1", "messages-20261125".
	base := name[bytes.LastIndexByte(name, '/')+1:]
	for _, f := range [...]string{"syslog", "messages"} {
		if bytes.HasPrefix(base, []byte(f)) && (len(base) == len(f) || base[len(f)] == '.' || base[len(f)] == '-') {
			return true
		}
	}
	for _, ext := range [...]string{".txt", ".out", ".err"} {
		if bytes.HasSuffix(name, []byte(ext)) {
			return true
		}
	}
	return false
}
