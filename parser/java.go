package parser

// Java: uncaught exceptions ("Exception in thread "main" cls: msg", "\tat"
// frames, "Caused by:" chains, "... N more"), OutOfMemoryError, and the
// two-line records of java.util.logging.

import (
	"bytes"
	"time"
)

// looksLikeJavaThrowable: "java.net.ConnectException: ...",
// "org.postgresql.util.PSQLException: ...": a dotted class name whose last
// part names an exception or error.
func looksLikeJavaThrowable(s []byte) bool {
	name := s
	if i := bytes.IndexByte(s, ':'); i >= 0 {
		name = s[:i]
	}
	if len(name) < 5 || bytes.IndexByte(name, '.') < 0 || bytes.IndexByte(name, ' ') >= 0 {
		return false
	}
	return hasSuffix(name, "Exception") || hasSuffix(name, "Error") || hasSuffix(name, "Throwable")
}

func (p *Parser) parseJava(line []byte, ev *Event) error {
	first := firstLine(line)
	ev.Kind = KindUpstreamEvent
	if len(trimSpace(line)) == 0 {
		return errEmptyLine
	}
	if p.parseJSONApp(line, ev) {
		return nil
	}
	t, rest := leadingStamp(first, p.opts.Location)
	if t.IsZero() {
		if jt, n, ok := julTime(first, p.opts.Location); ok {
			t, rest = jt, first[n:]
		}
	}
	ev.Time = t
	msg := trimSpace(rest)
	var throwables [][]byte
	var buf [8][]byte
	throwables = buf[:0]
	for b := line; len(b) > 0 && len(throwables) < cap(buf); {
		l := firstLine(b)
		b = b[len(l):]
		if len(b) > 0 {
			b = b[1:]
		}
		s := trimSpace(l)
		switch {
		case hasPrefix(s, "Exception in thread "):
			throwables = append(throwables, s)
		case hasPrefix(s, "Caused by: "):
			throwables = append(throwables, s[len("Caused by: "):])
		case len(l) > 0 && l[0] != '\t' && l[0] != ' ' && looksLikeJavaThrowable(s):
			throwables = append(throwables, s)
		}
	}
	if len(throwables) == 0 {
		ev.Message = aliasStr(msg)
		ev.Level = levelWord(msg)
		classifyText(msg, ev)
		return nil
	}
	ev.Message = aliasStr(throwables[0])
	ev.Class = ClassCrash
	// OutOfMemoryError anywhere in the chain is the story; otherwise the
	// deepest cause that names a failure class decides.
	for i := len(throwables) - 1; i >= 0; i-- {
		var probe Event
		probe.Reset()
		classifyText(throwables[i], &probe)
		if probe.Class == ClassRuntimeOOM {
			ev.Class, ev.Dependency = probe.Class, ""
			break
		}
		if probe.Class != ClassOther && probe.Class != ClassStart && ev.Class == ClassCrash {
			ev.Class, ev.Dependency, ev.Upstream = probe.Class, probe.Dependency, probe.Upstream
		}
	}
	return nil
}

// julTime reads java.util.logging's SimpleFormatter stamp
// "Nov 25, 2026 4:39:28 PM" at the start of b.
func julTime(b []byte, loc *time.Location) (time.Time, int, bool) {
	if len(b) < 22 || b[3] != ' ' {
		return time.Time{}, 0, false
	}
	mo := monthOf(b)
	d, n := atoiPrefix(b[4:])
	i := 4 + n
	if mo == 0 || n == 0 || d > 31 || !hasPrefix(b[i:], ", ") {
		return time.Time{}, 0, false
	}
	i += 2
	y, ok := fixedDigits(b, i, 4)
	if !ok || i+4 >= len(b) || b[i+4] != ' ' {
		return time.Time{}, 0, false
	}
	i += 5
	h, n := atoiPrefix(b[i:])
	i += n
	if n == 0 || h > 12 || i >= len(b) || b[i] != ':' {
		return time.Time{}, 0, false
	}
	mi, ok1 := fixedDigits(b, i+1, 2)
	s, ok2 := fixedDigits(b, i+4, 2)
	if !ok1 || !ok2 || b[i+3] != ':' || i+9 > len(b) || b[i+6] != ' ' {
		return time.Time{}, 0, false
	}
	ampm := b[i+7 : i+9]
	switch string(ampm) {
	case "AM":
		if h == 12 {
			h = 0
		}
	case "PM":
		if h != 12 {
			h += 12
		}
	default:
		return time.Time{}, 0, false
	}
	return mkTime(loc, 0, false, y, mo, int(d), int(h), mi, s, 0), i + 9, true
}
