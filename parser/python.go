package parser

// Python: tracebacks (one event per trace, chained exceptions included),
// the final exception line deciding the class, and single lines Python
// servers print (flask's "Running on", "Address already in use").

import "bytes"

const pyTraceback = "Traceback (most recent call last):"

func (p *Parser) parsePython(line []byte, ev *Event) error {
	first := firstLine(line)
	t, rest := leadingStamp(first, p.opts.Location)
	ev.Kind = KindUpstreamEvent
	ev.Time = t
	ev.Process = "python"
	if len(trimSpace(line)) == 0 {
		return errEmptyLine
	}
	if p.parseJSONApp(line, ev) {
		ev.Process = "python"
		return nil
	}
	tb := indexStr(line, pyTraceback)
	if tb < 0 {
		msg := trimSpace(rest)
		ev.Message = aliasStr(msg)
		ev.Level = levelWord(msg)
		classifyText(msg, ev)
		if ev.Class == ClassOther && pyExceptionLine(msg) {
			ev.Class = ClassCrash
		}
		return nil
	}
	last, class, dep := pyTrace(line, tb)
	if last == nil {
		// Only the header (lines were not grouped): the exception line
		// that follows says what happened.
		ev.Message = aliasStr(trimSpace(firstLine(line[tb:])))
		ev.Class = ClassOther
		return nil
	}
	ev.Message = aliasStr(trimSpace(last))
	ev.Class = ClassCrash
	if class != ClassOther {
		ev.Class, ev.Dependency = class, dep
	}
	return nil
}

// pyTrace reads the traceback that starts at line[tb:]: the last exception
// line (nil when the group holds only the header) and the class and
// dependency its exception lines say (ClassOther when none says more than
// "an exception"). Exception lines are the unindented lines of the trace
// that are not its headers; each may continue on indented lines (libpq's
// messages).
func pyTrace(line []byte, tb int) (last []byte, class Class, dep string) {
	class = ClassOther
	for off := tb; off < len(line); {
		l := firstLine(line[off:])
		lineStart := off
		off += len(l) + 1
		if len(l) == 0 || l[0] == ' ' || l[0] == '\t' || hasPrefix(l, pyTraceback) ||
			hasPrefix(l, "During handling of the above exception") || hasPrefix(l, "The above exception was") {
			continue
		}
		last = l
		// The exception line and its indented continuation.
		blockEnd := lineStart + len(l)
		for blockEnd+1 < len(line) {
			next := firstLine(line[blockEnd+1:])
			if len(next) == 0 || (next[0] != ' ' && next[0] != '\t') {
				break
			}
			blockEnd += 1 + len(next)
		}
		block := line[lineStart:blockEnd]
		var probe Event
		probe.Reset()
		classifyText(block, &probe)
		// A later exception in a chain is the one that ended the program,
		// but the cause named earlier (ConnectionRefusedError under a
		// URLError) is kept when the later one is generic. An exception is
		// never a planned start or stop, whatever its message says
		// (asyncpg's "the database system is shutting down").
		if probe.Class != ClassOther && probe.Class != ClassStart && probe.Class != ClassStop {
			class, dep = probe.Class, probe.Dependency
		}
	}
	return last, class, dep
}

// pyExceptionLine: "module.Name: message" or a bare "NameError" where the
// name ends in Error or Exception.
func pyExceptionLine(s []byte) bool {
	name := s
	if i := bytes.IndexByte(s, ':'); i >= 0 {
		name = s[:i]
	}
	if len(name) == 0 || bytes.IndexByte(name, ' ') >= 0 {
		return false
	}
	return hasSuffix(name, "Error") || hasSuffix(name, "Exception") || hasSuffix(name, "Interrupt") ||
		hasSuffix(name, "Exit")
}
