package parser

// Node.js: what the runtime prints when a process dies (the V8 heap-OOM
// block, an uncaught exception with its "file:line" header, caret and
// stack, an unhandled 'error' event with the error's properties, the
// "Node.js vX" trailer) and what apps commonly log (errors with stacks,
// "listening on port N"). Input is one line or one group from the Grouper.

import "bytes"

// looksLikeNodeLine recognises single Node lines worth claiming for
// detection: errno codes only libuv/Node print this way.
func looksLikeNodeLine(b []byte) bool {
	if hasPrefix(b, "(node:") {
		return true
	}
	_, m := indexAny(new(bigrams).of(b), b, nodeLineMarkers[:])
	return m != ""
}

var nodeLineMarkers = [...]string{" ECONNREFUSED ", "EADDRINUSE", " ETIMEDOUT ", "node:internal", "Node.js v",
	"UnhandledPromiseRejection", "    at "}

// nodeThrowHeader recognises the first line Node prints for an uncaught
// throw: the location "file:line" ("/app/server.js:12", "node:events:502",
// "<anonymous_script>:1", "file:///app/x.mjs:3").
func nodeThrowHeader(s []byte) bool {
	i := bytes.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return false
	}
	for _, c := range s[i+1:] {
		if !isDigit(c) {
			return false
		}
	}
	loc := s[:i]
	if bytes.IndexByte(loc, ' ') >= 0 {
		return false
	}
	return hasPrefix(loc, "node:") || hasPrefix(loc, "/") || hasPrefix(loc, "file://") || hasPrefix(loc, "<anonymous") ||
		hasSuffix(loc, ".js") || hasSuffix(loc, ".mjs") || hasSuffix(loc, ".cjs") || hasSuffix(loc, ".ts") ||
		(len(loc) > 2 && loc[1] == ':' && loc[2] == '\\')
}

// jsErrorStart returns where a JavaScript error name ("TypeError",
// "Error [ERR_X]") begins in l, followed by ": ", or -1.
func jsErrorStart(l []byte) int {
	for off := 0; off < len(l); {
		i := indexStr(l[off:], "Error")
		if i < 0 {
			return -1
		}
		i += off
		end := i + len("Error")
		if end < len(l) && l[end] == ' ' && end+1 < len(l) && l[end+1] == '[' {
			// "Error [ERR_HTTP_HEADERS_SENT]": codes are short; a bounded
			// search keeps a line of repeated "Error [" linear.
			if j := bytes.IndexByte(l[end:min(len(l), end+64)], ']'); j > 0 {
				end += j + 1
			}
		}
		if end+1 < len(l) && l[end] == ':' && l[end+1] == ' ' || end == len(l) {
			j := i
			for j > 0 && (isWordByte(l[j-1]) || l[j-1] == '$') {
				j--
			}
			if j == 0 || l[j-1] == ' ' || l[j-1] == '[' || l[j-1] == '{' || l[j-1] == '(' {
				return j
			}
		}
		off = end
	}
	return -1
}

func (p *Parser) parseNode(line []byte, ev *Event) error {
	first := firstLine(line)
	t, rest := leadingStamp(first, p.opts.Location)
	ev.Kind = KindUpstreamEvent
	ev.Time = t
	ev.Process = "node"
	if len(trimSpace(line)) == 0 {
		return errEmptyLine
	}
	if p.parseJSONApp(line, ev) {
		ev.Process = "node"
		return nil
	}
	if i := indexStr(line, "FATAL ERROR: "); i >= 0 || contains(line, "<--- Last few GCs --->") {
		// V8 heap exhaustion: "FATAL ERROR: Reached heap limit Allocation
		// failed - JavaScript heap out of memory" and the GC trace before it.
		ev.Class = ClassRuntimeOOM
		if i >= 0 {
			ev.Message = aliasStr(trimSpace(firstLine(line[i:])))
		} else {
			ev.Message = aliasStr(trimSpace(rest))
		}
		if !contains(line, "heap out of memory") && !contains(line, "<--- Last few GCs --->") {
			ev.Class = ClassCrash // another V8 fatal error (e.g. a failed CHECK)
		}
		ev.MemoryKB = v8HeapKB(line)
		if j := indexStr(line, "\n["); j >= 0 {
			if v, n := atoiPrefix(line[j+2:]); n > 0 && j+2+n < len(line) && line[j+2+n] == ':' {
				ev.PID = int(v)
			}
		}
		return nil
	}
	if hasPrefix(rest, "(node:") {
		// Process warnings: "(node:11132) MaxListenersExceededWarning: ...",
		// and Node < 15's "(node:PID) UnhandledPromiseRejectionWarning: ...".
		if v, n := atoiPrefix(rest[len("(node:"):]); n > 0 && hasPrefix(rest[len("(node:")+n:], ") ") {
			ev.PID = int(v)
		}
	}
	errLine, atStart := nodeErrorLine(line)
	if errLine == nil {
		ev.Message = aliasStr(trimSpace(rest))
		classifyText(rest, ev)
		if ev.Class == ClassOther && (contains(rest, "uncaughtException") || contains(rest, "Uncaught ")) {
			ev.Class = ClassCrash
		}
		return nil
	}
	ev.Message = aliasStr(errLine)
	classifyText(errLine, ev)
	if ev.Class == ClassOther && len(first) != len(line) {
		// The error's own properties ("code: 'ECONNREFUSED'") follow the stack.
		classifyText(nodeProps(line), ev)
	}
	if (ev.Class == ClassDependencyRefused || ev.Class == ClassDependencyTimeout) && ev.Dependency == "" {
		ev.Dependency = dependencyAddr(line, 0)
	}
	if ev.Class == ClassOther {
		uncaught := nodeThrowHeader(trimSpace(first)) || contains(line, "\nNode.js v") ||
			contains(line, "uncaughtException") || contains(line, "Uncaught ")
		if atStart || uncaught {
			ev.Class = ClassCrash
		}
	}
	return nil
}

// nodeErrorLine finds the error line of a group (or line): the first line
// naming a JS error. atStart reports that the error name opens the line (an
// error printed by the runtime, not one an app logged after its own words).
func nodeErrorLine(b []byte) (errLine []byte, atStart bool) {
	for n := 0; len(b) > 0 && n < 64; n++ {
		l := firstLine(b)
		b = b[len(l):]
		if len(b) > 0 {
			b = b[1:]
		}
		s := trimSpace(l)
		if hasPrefix(s, "at ") || len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
			continue
		}
		if i := jsErrorStart(s); i >= 0 {
			return s, i == 0 || s[0] == '['
		}
	}
	return nil, false
}

// nodeProps returns the "{ code: ..., port: N }" block after a stack, or nil.
func nodeProps(b []byte) []byte {
	if i := indexStr(b, "  code: "); i >= 0 {
		start := bytes.LastIndexByte(b[:i], '{')
		if start < 0 {
			start = i
		}
		end := bytes.IndexByte(b[i:], '}')
		if end < 0 {
			return b[start:]
		}
		return b[start : i+end+1]
	}
	return nil
}

// v8HeapKB reads the heap size after the last collection of V8's "Last few
// GCs" block ("Mark-Compact 20.1 (36.7) -> 20.1 (36.7) MB"): what the heap
// held when it gave up.
func v8HeapKB(b []byte) int64 {
	i := lastIndexStr(b, " -> ")
	if i < 0 {
		return Absent
	}
	rest := b[i+4:]
	end := 0
	for end < len(rest) && (isDigit(rest[end]) || rest[end] == '.') {
		end++
	}
	if end == 0 || !contains(rest[end:min(len(rest), end+16)], " MB") {
		return Absent
	}
	whole, n := atoiPrefix(rest[:end])
	kb := whole * 1024
	if n < end && rest[n] == '.' && n+1 < end {
		kb += int64(rest[n+1]-'0') * 1024 / 10
	}
	return kb
}
