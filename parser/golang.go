package parser

// Go: panics and fatal runtime errors (one event per crash output, the
// "panic:"/"fatal error:" line deciding), and log lines of Go services
// ("2024/01/01 12:00:00 dial tcp 10.0.0.5:5432: connect: connection refused").

import "bytes"

func (p *Parser) parseGo(line []byte, ev *Event) error {
	first := firstLine(line)
	t, rest := leadingStamp(first, p.opts.Location)
	ev.Kind = KindUpstreamEvent
	ev.Time = t
	if len(trimSpace(line)) == 0 {
		return errEmptyLine
	}
	if p.parseJSONApp(line, ev) {
		return nil
	}
	var key []byte
	oom := false
	for b, n := line, 0; len(b) > 0 && n < 8; n++ {
		l := firstLine(b)
		b = b[len(l):]
		if len(b) > 0 {
			b = b[1:]
		}
		s := trimSpace(l)
		if n == 0 {
			s = trimSpace(rest)
		}
		switch {
		case hasPrefix(s, "runtime: out of memory"):
			oom = true
			ev.MemoryKB = memoryFigureKB(s)
		case hasPrefix(s, "panic: ") || hasPrefix(s, "fatal error: ") || goSignalLine(s) ||
			n == 0 && contains(s, "http: panic serving"):
			if key == nil {
				key = s
			}
		}
	}
	if key == nil {
		msg := trimSpace(rest)
		ev.Message = aliasStr(msg)
		classifyText(msg, ev)
		if oom {
			ev.Class = ClassRuntimeOOM
		}
		return nil
	}
	ev.Message = aliasStr(key)
	switch {
	case oom || contains(key, "out of memory") || contains(key, "failed to reserve") ||
		contains(key, "cannot allocate memory"):
		ev.Class = ClassRuntimeOOM
	case goSignalLine(key):
		// "SIGQUIT: quit": the runtime dumps every goroutine and exits 2.
		// A quit was asked for; the other signals are crashes.
		ev.Signal = aliasStr(key[:indexStr(key, ":")])
		ev.Class = ClassCrash
		if ev.Signal == "SIGQUIT" {
			ev.Class = ClassProcessExit
			ev.ExitCode = 2
		}
		return nil
	default:
		classifyText(key, ev)
		if ev.Class == ClassOther || ev.Class == ClassStart {
			ev.Class = ClassCrash
		}
	}
	if i := indexStr(line, "[signal "); i >= 0 {
		// "[signal SIGSEGV: segmentation violation ...]"
		sig := line[i+len("[signal "):]
		if j := bytes.IndexAny(sig, ": ]"); j > 0 {
			ev.Signal = aliasStr(sig[:j])
		}
	}
	return nil
}
