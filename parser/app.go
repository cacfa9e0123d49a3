package parser

// Application servers and language runtimes: PM2, gunicorn, uWSGI, php-fpm,
// Node.js, Python, Java, Go, and apps that log in their own words. Their
// lines are what an upstream says about itself when nginx reports a 502/504:
// a worker killed, a pool full, a dependency refusing connections, a heap
// exhausted. Every such line becomes an upstream_event; ordinary chatter is
// class "other" (still an event: it places the process in time), and only a
// line that claims a format and breaks it is unparsed.
//
// Field conventions shared by these parsers:
//   - Dependency is the host:port the app failed to reach (its database,
//     cache, another service), never the app's own address.
//   - Upstream is, for upstream_events, the address this process serves
//     ("listening on 127.0.0.1:3000", gunicorn's "Listening at:", a bind
//     that failed). It is the address nginx's proxy_pass points at, so the
//     correlator can map proxy errors for that upstream to this process.
//   - Message is the line (or the deciding line of a multi-line trace, e.g.
//     the exception) without the software's own prefix.

import (
	"bytes"
	"strings"
	"time"
)

// firstLine returns b up to its first '\n' (multi-line groups carry the
// trace's continuation lines after it).
func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

func trimSpace(b []byte) []byte { return bytes.TrimSpace(b) }

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

// The byte-slice helpers below take string needles through aliasStr: a
// []byte(literal) conversion per call showed up as a copy in profiles.
func contains(b []byte, s string) bool { return strings.Contains(aliasStr(b), s) }

func indexStr(b []byte, s string) int { return strings.Index(aliasStr(b), s) }

func lastIndexStr(b []byte, s string) int { return strings.LastIndex(aliasStr(b), s) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoiPrefix reads the decimal digits at the start of b (at most 18).
func atoiPrefix(b []byte) (int64, int) {
	var v int64
	i := 0
	for i < len(b) && i < 18 && isDigit(b[i]) {
		v = v*10 + int64(b[i]-'0')
		i++
	}
	return v, i
}

// intAfter reads the integer that follows the first occurrence of key in b.
// pidInText reads "pid 123", "pid=123", "pid: 123" or "(pid:123)" from an
// app's own words; 0 when there is none.
func pidInText(b []byte) int {
	for _, key := range [...]string{"pid ", "pid=", "pid: ", "pid:", "PID "} {
		i := indexStr(b, key)
		if i < 0 || i > 0 && isWordByte(b[i-1]) {
			continue
		}
		if v, n := atoiPrefix(b[i+len(key):]); n > 0 && v > 0 && v < 1<<22 {
			return int(v)
		}
	}
	return 0
}

func intAfter(b []byte, key string) (int64, bool) {
	i := indexStr(b, key)
	if i < 0 {
		return 0, false
	}
	rest := b[i+len(key):]
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	neg := len(rest) > 0 && rest[0] == '-'
	if neg {
		rest = rest[1:]
	}
	v, n := atoiPrefix(rest)
	if n == 0 {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// fixedDigits reads exactly n digits at b[i:].
func fixedDigits(b []byte, i, n int) (int, bool) {
	if i < 0 || i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

var monthAbbr = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func monthOf(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	for i, m := range monthAbbr {
		if string(b[:3]) == m {
			return i + 1
		}
	}
	return 0
}

// readFraction reads ".123456" or ",123" at b[i:] into nanoseconds.
func readFraction(b []byte, i int) (nsec, next int) {
	if i+1 >= len(b) || (b[i] != '.' && b[i] != ',') || !isDigit(b[i+1]) {
		return 0, i
	}
	i++
	scale := 100000000
	for i < len(b) && isDigit(b[i]) {
		nsec += int(b[i]-'0') * scale
		scale /= 10
		i++
	}
	return nsec, i
}

// readZone reads "Z", "+hh:mm", "+hhmm" or " +hhmm" at b[i:] and returns the
// offset in seconds. A space before the sign is accepted because gunicorn and
// PM2's "YYYY-MM-DD HH:mm:ss Z" formats write one.
func readZone(b []byte, i int) (offset, next int, ok bool) {
	j := i
	if j < len(b) && b[j] == ' ' {
		j++
	}
	if j < len(b) && (b[j] == 'Z' || b[j] == 'z') && j == i {
		return 0, j + 1, true
	}
	if j >= len(b) || (b[j] != '+' && b[j] != '-') {
		return 0, i, false
	}
	hh, ok := fixedDigits(b, j+1, 2)
	if !ok {
		return 0, i, false
	}
	k := j + 3
	mm := 0
	if k < len(b) && b[k] == ':' {
		if m, ok := fixedDigits(b, k+1, 2); ok {
			mm, k = m, k+3
		}
	} else if m, ok := fixedDigits(b, k, 2); ok {
		mm, k = m, k+2
	}
	if hh > 14 || mm > 59 {
		return 0, i, false
	}
	off := hh*3600 + mm*60
	if b[j] == '-' {
		off = -off
	}
	return off, k, true
}

func mkTime(loc *time.Location, offset int, zoned bool, y, mo, d, h, mi, s, ns int) time.Time {
	if zoned {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC).Add(-time.Duration(offset) * time.Second)
	}
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, loc)
}

// appISOTime reads "YYYY-MM-DD[T ]hh:mm:ss[.frac][zone]" (also with '/'
// between date parts, as Go's log package writes) at the start of b.
func appISOTime(b []byte, loc *time.Location) (time.Time, int, bool) {
	if len(b) < 19 || (b[4] != '-' && b[4] != '/') || b[7] != b[4] || (b[10] != 'T' && b[10] != ' ') ||
		b[13] != ':' || b[16] != ':' {
		return time.Time{}, 0, false
	}
	y, ok1 := fixedDigits(b, 0, 4)
	mo, ok2 := fixedDigits(b, 5, 2)
	d, ok3 := fixedDigits(b, 8, 2)
	h, ok4 := fixedDigits(b, 11, 2)
	mi, ok5 := fixedDigits(b, 14, 2)
	s, ok6 := fixedDigits(b, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, 0, false
	}
	ns, i := readFraction(b, 19)
	off, j, zoned := readZone(b, i)
	if zoned {
		i = j
	}
	return mkTime(loc, off, zoned, y, mo, d, h, mi, s, ns), i, true
}

// appDMYTime reads php's "dd-Mmm-yyyy hh:mm:ss[.frac]" at the start of b.
func appDMYTime(b []byte, loc *time.Location) (time.Time, int, bool) {
	if len(b) < 20 || b[2] != '-' || b[6] != '-' || b[11] != ' ' || b[14] != ':' || b[17] != ':' {
		return time.Time{}, 0, false
	}
	d, ok1 := fixedDigits(b, 0, 2)
	mo := monthOf(b[3:6])
	y, ok2 := fixedDigits(b, 7, 4)
	h, ok3 := fixedDigits(b, 12, 2)
	mi, ok4 := fixedDigits(b, 15, 2)
	s, ok5 := fixedDigits(b, 18, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || mo == 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, 0, false
	}
	ns, i := readFraction(b, 20)
	return mkTime(loc, 0, false, y, mo, d, h, mi, s, ns), i, true
}

// appCTime reads C's ctime "Www Mmm dd hh:mm:ss yyyy" (uWSGI, flask's
// werkzeug access lines use "dd/Mmm/yyyy hh:mm:ss", see appSlashTime).
func appCTime(b []byte, loc *time.Location) (time.Time, int, bool) {
	if len(b) < 24 || b[3] != ' ' || b[7] != ' ' || b[10] != ' ' || b[13] != ':' || b[16] != ':' || b[19] != ' ' {
		return time.Time{}, 0, false
	}
	mo := monthOf(b[4:7])
	dd := b[8:10]
	if dd[0] == ' ' {
		dd = dd[1:]
	}
	d, n := atoiPrefix(dd)
	h, ok1 := fixedDigits(b, 11, 2)
	mi, ok2 := fixedDigits(b, 14, 2)
	s, ok3 := fixedDigits(b, 17, 2)
	y, ok4 := fixedDigits(b, 20, 4)
	if mo == 0 || n == 0 || n != len(dd) || !(ok1 && ok2 && ok3 && ok4) || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, 0, false
	}
	return mkTime(loc, 0, false, y, mo, int(d), h, mi, s, 0), 24, true
}

// appSlashTime reads "dd/Mmm/yyyy[: ]hh:mm:ss" (werkzeug and common-log
// style stamps).
func appSlashTime(b []byte, loc *time.Location) (time.Time, int, bool) {
	if len(b) < 20 || b[2] != '/' || b[6] != '/' || (b[11] != ' ' && b[11] != ':') || b[14] != ':' || b[17] != ':' {
		return time.Time{}, 0, false
	}
	d, ok1 := fixedDigits(b, 0, 2)
	mo := monthOf(b[3:6])
	y, ok2 := fixedDigits(b, 7, 4)
	h, ok3 := fixedDigits(b, 12, 2)
	mi, ok4 := fixedDigits(b, 15, 2)
	s, ok5 := fixedDigits(b, 18, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || mo == 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, 0, false
	}
	off, i, zoned := readZone(b, 20)
	if !zoned {
		i = 20
	}
	return mkTime(loc, off, zoned, y, mo, d, h, mi, s, 0), i, true
}

// leadingStamp strips a timestamp an application wrote at the start of its
// line, bracketed or not, and the separator after it (" ", " - ", ": ",
// " | "). It returns the time (zero when there was none) and the rest.
func leadingStamp(b []byte, loc *time.Location) (time.Time, []byte) {
	s := b
	bracket := byte(0)
	if len(s) > 0 && s[0] == '[' {
		bracket, s = ']', s[1:]
	}
	var (
		t  time.Time
		n  int
		ok bool
	)
	if len(s) > 0 && isDigit(s[0]) {
		if t, n, ok = appISOTime(s, loc); !ok {
			if t, n, ok = appDMYTime(s, loc); !ok {
				t, n, ok = appSlashTime(s, loc)
			}
		}
	} else if len(s) > 0 && s[0] >= 'A' && s[0] <= 'Z' {
		t, n, ok = appCTime(s, loc)
	}
	if !ok {
		return time.Time{}, b
	}
	s = s[n:]
	if bracket != 0 {
		// A zone name after the stamp inside the brackets: php's error log
		// writes "[25-Nov-2026 16:37:42 UTC]".
		end := bytes.IndexByte(s, ']')
		if end < 0 || end > 40 {
			return time.Time{}, b
		}
		if name := trimSpace(s[:end]); len(name) > 0 {
			t = inZone(t, name, loc)
		}
		s = s[end+1:]
	}
	return t, skipSeparator(s)
}

// inZone re-reads the wall time t (taken in loc) in the named zone, when Go
// knows the name; otherwise t stays in loc.
func inZone(t time.Time, name []byte, loc *time.Location) time.Time {
	var z *time.Location
	switch string(name) {
	case "UTC", "GMT", "Z":
		z = time.UTC
	default:
		if bytes.IndexByte(name, '/') < 0 {
			return t // an abbreviation (CET, EST) is ambiguous: keep loc
		}
		l, err := time.LoadLocation(string(name))
		if err != nil {
			return t
		}
		z = l
	}
	if loc == z {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), z)
}

func skipSeparator(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for _, sep := range [...]string{"- ", ": ", "| "} {
		if hasPrefix(s, sep) {
			return s[len(sep):]
		}
	}
	return s
}

// parseApp reads lines of applications that log in their own format: any
// language, any framework. It extracts what matters for a 5xx (a refused or
// timed-out dependency, a failed bind, a runtime out of memory, a listen
// address) and calls the rest "other".
func (p *Parser) parseApp(line []byte, ev *Event) error {
	if p.parseJSONApp(line, ev) {
		return nil
	}
	first := firstLine(line)
	t, rest := leadingStamp(first, p.opts.Location)
	ev.Kind = KindUpstreamEvent
	ev.Time = t
	if len(trimSpace(line)) == 0 {
		return errEmptyLine
	}
	if len(first) != len(line) {
		// A multi-line group in a format none of the runtime parsers claimed
		// (detect sends those here): let the trace readers try first.
		if src := detectTrace(line); src != "" {
			if err := p.parseAs(src, line, ev); err == nil {
				return nil
			}
			ev.Reset()
			ev.Kind = KindUpstreamEvent
			ev.Time = t
		}
	}
	msg := trimSpace(rest)
	if hasPrefix(msg, "thread '") && hasSuffix(msg, ":") && len(first) < len(line) {
		// Rust >= 1.73 prints the panic's message on the line after
		// "thread 'main' panicked at src/main.rs:2:5:".
		msg = trimSpace(firstLine(line[len(first)+1:]))
	}
	ev.Level = levelWord(msg)
	ev.Message = aliasStr(msg)
	classifyText(line, ev)
	if ev.PID == 0 {
		// Apps that say who they are ("starting api v41 pid 24880") let the
		// analyzer tell their own exit from a kill of another process.
		ev.PID = pidInText(first)
	}
	if ev.Class == ClassOther && (pyExceptionLine(msg) || looksLikeJavaThrowable(msg)) {
		// The last line of a trace that reached us ungrouped ("KeyError:
		// 'x'", "TypeError: ...", "java.lang.IllegalStateException: ...").
		ev.Class = ClassCrash
	}
	return nil
}

// levelWord returns a leading log level ("ERROR", "WARN", "INFO", ...) of
// msg, or "".
func levelWord(msg []byte) string {
	s := msg
	if len(s) > 0 && s[0] == '[' {
		s = s[1:]
	}
	for _, lv := range [...]string{"CRITICAL", "FATAL", "ERROR", "WARNING", "WARN", "NOTICE", "INFO", "DEBUG",
		"SEVERE", "error", "warning", "warn", "info", "debug", "fatal"} {
		if hasPrefix(s, lv) && (len(s) == len(lv) || !isWordByte(s[len(lv)])) {
			return lv
		}
	}
	return ""
}

func isWordByte(c byte) bool {
	return c == '_' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// detectApp names the application source of line ("" when it is none of
// them); program is the syslog/journal tag when the envelope had one.
func detectApp(line []byte, program string) Source {
	switch program {
	case "pm2", "PM2":
		return SourcePM2
	case "gunicorn":
		return SourceGunicorn
	case "uwsgi", "uWSGI":
		return SourceUWSGI
	case "node", "nodejs":
		return SourceNode
	case "java":
		return SourceJava
	}
	if strings.HasPrefix(program, "php") {
		return SourcePHPFPM
	}
	if strings.HasPrefix(program, "python") {
		return SourcePython
	}
	first := firstLine(line)
	if len(first) > 0 {
		switch first[0] {
		case '[':
			if looksLikeGunicorn(first) {
				return SourceGunicorn
			}
			if looksLikePHPFPM(first) {
				return SourcePHPFPM
			}
			if hasPrefix(first, "[PM2]") {
				return SourcePM2
			}
			if hasPrefix(first, "[pid: ") {
				return SourceUWSGI
			}
		default:
			if isDigit(first[0]) && looksLikePM2(first) {
				return SourcePM2
			}
		}
	}
	if src := detectTrace(line); src != "" {
		return src
	}
	if phpfpmDateless(first) {
		return SourcePHPFPM
	}
	if looksLikeUWSGI(first) {
		return SourceUWSGI
	}
	if looksLikeNodeLine(first) {
		return SourceNode
	}
	return ""
}

var javaRoots = [...]string{"java.", "javax.", "jakarta.", "org.", "com.", "io.", "net.", "kotlin.", "scala.",
	"akka.", "android.", "reactor.", "feign."}

func javaPackage(s []byte) bool {
	for _, r := range javaRoots {
		if hasPrefix(s, r) {
			return true
		}
	}
	return false
}

// detectTrace recognises the start of a runtime's crash output (the first
// line of a group the Grouper built, or a lone line).
func detectTrace(line []byte) Source {
	first := firstLine(line)
	s := trimSpace(first)
	switch {
	case hasPrefix(s, "Traceback (most recent call last):"):
		return SourcePython
	case hasPrefix(s, "panic: ") || hasPrefix(s, "fatal error: ") || hasPrefix(s, "runtime: out of memory"):
		return SourceGo
	case goSignalLine(s) && contains(line, "\ngoroutine "):
		return SourceGo
	case hasPrefix(s, "Exception in thread ") || looksLikeJavaThrowable(s) && contains(line, "\n\tat "):
		return SourceJava
	case looksLikeJavaThrowable(s) && len(first) == len(line) && javaPackage(s):
		// A lone throwable line: only a Java package root says it is Java
		// ("urllib.error.URLError" is Python's).
		return SourceJava
	case hasPrefix(s, "<--- Last few GCs --->") || hasPrefix(s, "FATAL ERROR: ") || hasPrefix(s, "<--- JS stacktrace --->"):
		return SourceNode
	case nodeThrowHeader(s) && len(first) != len(line):
		return SourceNode
	}
	if len(first) != len(line) {
		rest := line[len(first):]
		switch {
		case contains(rest, "\n    at "):
			return SourceNode
		case contains(rest, "\n\tat "):
			return SourceJava
		case contains(rest, "\nTraceback (most recent call last):"):
			return SourcePython
		case contains(rest, "\ngoroutine "):
			return SourceGo
		}
	}
	return ""
}
