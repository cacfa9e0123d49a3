package parser

// Multi-line grouping: a stack trace is one event, not forty. The Grouper
// sits between the line reader (the shipper's tailer, `culprit parse`) and
// Parse. It recognises how runtimes print a crash:
//
//   - Java: an exception line, "\tat " frames, "Caused by:", "\t... N more";
//     PHP's uncaught exception with "Stack trace:", "#N" frames, "thrown in";
//   - Python: "Traceback (most recent call last):", indented frames, the
//     exception line, and chained tracebacks ("During handling of the above
//     exception ...", "The above exception was the direct cause ..."); a
//     log line naming an exception right before it is kept with it;
//   - a log record's line (ERROR, SEVERE) followed by an exception or a
//     traceback: the record and its trace are one event;
//   - Node.js: an error line with "    at " frames and its "{ code: ... }"
//     block; an uncaught throw ("file:line", source, caret, error, stack,
//     "Node.js vX"); the V8 heap-OOM block ("<--- Last few GCs --->" ...
//     "FATAL ERROR: ..." and native frames);
//   - Rust: "thread 'main' panicked at ...", the message, "stack backtrace:"
//     and frames, the closing "note:"; "memory allocation of N bytes failed";
//   - Go: "panic:" / "fatal error:" / "runtime: out of memory" / a fatal
//     signal report ("SIGQUIT: quit", "PC=...", registers), then
//     "goroutine N [...]:" blocks of function lines and tab-indented files;
//   - nginx's error-log entry relaying what a FastCGI application wrote to
//     stderr ("FastCGI sent in stderr: \"..."): ngx_http_fastcgi_module
//     logs the stream's bytes as they came, newlines included, so PHP's
//     uncaught exception with its "Stack trace:" spans several physical
//     lines and nginx's own context (" while ...", "upstream: ...") comes
//     on the last one.
//
// Lines often carry a wrapper that repeats on every line: PM2's `time: true`
// stamp, a compose "app-1  | " prefix, a CRI or kubectl timestamp, a syslog
// header. The Grouper compares continuation lines after that wrapper and
// requires the same wrapper shape (the same compose name, the same syslog
// host and tag, the same CRI stream). A group keeps the first line whole, so
// its envelope (time, container) is still read, and the continuation lines
// without their wrappers.
//
// Memory is bounded: a group that would pass maxLines or maxBytes is cut
// there and the rest of the trace passes through line by line. A line that
// cannot start a trace is returned as it came, without a copy: only lines
// that may open a group (an exception, a panic, a "Traceback", an ERROR
// record) are copied while the Grouper waits for the next line to see
// whether a trace follows. That wait is why the caller flushes after an idle
// timeout (Pending) and why Spans exists: a shipper maps each group back to
// the byte range of the lines it covers.

import (
	"bytes"
	"strings"
)

type traceMode uint8

const (
	modeNone      traceMode = iota
	modeStack               // Java / Node error line, then frames
	modePython              // Traceback
	modeGo                  // panic / fatal error
	modeNodeOOM             // V8 heap exhaustion block
	modeNodeThrow           // "file:line" header of an uncaught throw
	modeLogged              // an ERROR/SEVERE log line that a trace may follow
	modeRust                // "thread 'x' panicked at", "memory allocation of N bytes failed"
	modeRelay               // nginx relaying an application's multi-line stderr
)

type wrapKind uint8

const (
	wrapNone    wrapKind = iota
	wrapStamp            // PM2 "stamp: ", kubectl/docker "RFC3339 " (stamps differ per line)
	wrapCRI              // CRI "RFC3339 stdout F " (key: the stream)
	wrapCompose          // "name  | " (key: the whole prefix)
	wrapSyslog           // "Mmm dd hh:mm:ss host tag[pid]: " (key: host and tag)
)

// Grouper joins the lines of one stack trace or crash report into one group.
// It is not safe for concurrent use: one Grouper per input stream.
type Grouper struct {
	maxLines, maxBytes int

	buf   []byte // open group: first line whole, continuations unwrapped
	lines int
	mode  traceMode
	state uint8 // mode-specific progress, see continues
	frame bool  // a frame line was seen (modeStack)
	brace bool  // inside a Node "{ code: ... }" block

	wkind wrapKind
	wkey  []byte // copy of the wrapper key of the first line

	held  int // blank lines inside a group, kept until the next line tells whether the group goes on
	out   [][]byte
	spans []int // input lines behind each group in out
}

// NewGrouper returns a Grouper whose groups hold at most maxLines lines and
// maxBytes bytes (values below 1 mean 200 lines and 64 KiB).
func NewGrouper(maxLines, maxBytes int) *Grouper {
	if maxLines < 1 {
		maxLines = 200
	}
	if maxBytes < 1 {
		maxBytes = 64 << 10
	}
	return &Grouper{maxLines: maxLines, maxBytes: maxBytes}
}

// Pending reports whether lines are held back waiting for their group to end
// (the caller flushes them after an idle timeout).
func (g *Grouper) Pending() bool { return g.mode != modeNone }

// Add feeds one line (without its newline) and returns the groups this line
// completed, each the lines joined by '\n'. A group that is a single line
// may alias line; the returned slice itself is reused by the next call.
func (g *Grouper) Add(line []byte) [][]byte {
	g.out, g.spans = g.out[:0], g.spans[:0]
	kind, key, inner := wrapperOf(line)
	if g.mode != modeNone {
		if g.sameWrapper(kind, key) && g.continues(inner) {
			g.extend(line, inner)
			return g.out
		}
		g.emit()
	}
	g.start(line, kind, key, inner)
	return g.out
}

// Flush ends the open group (at EOF, or when no line came for a while).
func (g *Grouper) Flush() [][]byte {
	g.out, g.spans = g.out[:0], g.spans[:0]
	g.emit()
	return g.out
}

// Spans returns, for each group the last Add or Flush returned, how many
// input lines it covers (blank lines dropped with a trace included). Groups
// come out in input order, so a caller that knows each line's byte range
// (a shipper keeping checkpoints) can give every group its range.
func (g *Grouper) Spans() []int { return g.spans }

func (g *Grouper) pass(line []byte) {
	g.out = append(g.out, line)
	g.spans = append(g.spans, 1)
}

func (g *Grouper) start(line []byte, kind wrapKind, key, inner []byte) {
	mode := startMode(inner)
	if mode == modeNone || len(line) >= g.maxBytes || g.maxLines < 2 {
		g.pass(line)
		return
	}
	g.mode, g.state, g.frame, g.brace = mode, 0, false, false
	g.wkind = kind
	g.wkey = append(g.wkey[:0], key...)
	g.buf = append(make([]byte, 0, max(256, 2*len(line))), line...)
	g.lines = 1
}

// extend adds a continuation line (blank lines are held until a non-blank
// continuation shows they belong to the trace).
func (g *Grouper) extend(line, inner []byte) {
	if isBlank(inner) {
		if g.lines+g.held >= g.maxLines {
			g.held++
			g.emit()
			return
		}
		g.held++
		return
	}
	need := len(inner) + 1
	need += g.held
	if g.lines+g.held+1 > g.maxLines || len(g.buf)+need > g.maxBytes {
		// Cut a runaway trace: what is grouped so far is one event, the
		// rest of it passes through line by line.
		g.emit()
		g.pass(line)
		return
	}
	for range g.held {
		g.buf = append(g.buf, '\n')
		g.lines++
	}
	g.held = 0
	g.buf = append(g.buf, '\n')
	g.buf = append(g.buf, inner...)
	g.lines++
	if g.mode == modeRelay && g.state == 1 ||
		(g.mode == modeNodeThrow || g.mode == modeStack) && hasPrefix(inner, "Node.js v") ||
		g.mode == modeRust && hasPrefix(inner, "note: ") {
		g.emit() // the runtime's last words: nothing of this crash follows
	}
}

// emit hands out the open group. Blank lines held after it were the
// trace's own formatting (Node and Go end their reports with them) and go
// with it: an empty line is no event.
func (g *Grouper) emit() {
	if g.mode == modeNone {
		return
	}
	g.out = append(g.out, g.buf)
	g.spans = append(g.spans, g.lines+g.held)
	g.buf, g.held = nil, 0
	g.mode, g.lines = modeNone, 0
}

func (g *Grouper) sameWrapper(kind wrapKind, key []byte) bool {
	if kind == wrapNone && g.wkind == wrapStamp {
		// An app that stamps its own records writes the stamp on the first
		// line only ("2026-...Z ERROR failed: Error: ..." then "    at ...").
		return true
	}
	if kind != g.wkind {
		return false
	}
	switch kind {
	case wrapCRI, wrapCompose, wrapSyslog:
		return bytes.Equal(key, g.wkey)
	}
	return true
}

// isBlank agrees with trimSpace (which also drops \v, \f and Unicode
// spaces): a line that trims to nothing must never reach the code that
// reads its first byte (FuzzGrouper found "\f").
func isBlank(b []byte) bool { return len(trimSpace(b)) == 0 }

// startMode says whether inner may open a trace, and which kind. It runs on
// every line, so the common case (no trace) is decided with a few
// comparisons and at most three substring scans.
func startMode(inner []byte) traceMode {
	s := trimSpace(inner)
	if len(s) < 5 {
		return modeNone
	}
	switch s[0] {
	case '2', '1':
		// "2026/11/25 20:34:55 [error] N#N: *C FastCGI sent in stderr: \"..."
		// without the closing quote and nginx's context: the relayed text
		// goes on on the next lines.
		if len(s) > 20 && s[4] == '/' && s[7] == '/' && relayOpen(s) {
			return modeRelay
		}
	case 'T':
		if hasPrefix(s, pyTraceback) {
			return modePython
		}
	case 'p', 'f', 'r':
		if hasPrefix(s, "panic: ") || hasPrefix(s, "fatal error: ") || hasPrefix(s, "runtime: out of memory") {
			return modeGo
		}
	case 'S':
		if goSignalLine(s) {
			return modeGo
		}
	case 't', 'm':
		if hasPrefix(s, "thread '") && contains(s, " panicked at ") ||
			hasPrefix(s, "memory allocation of ") && hasSuffix(s, " failed") {
			return modeRust
		}
	case '<', 'F':
		if hasPrefix(s, "<--- Last few GCs --->") || hasPrefix(s, "<--- JS stacktrace --->") || hasPrefix(s, "FATAL ERROR: ") {
			return modeNodeOOM
		}
	}
	if isDigit(s[len(s)-1]) && inner[0] != ' ' && inner[0] != '\t' && nodeThrowHeader(s) {
		return modeNodeThrow
	}
	if contains(s, "http: panic serving") {
		// net/http recovered a handler's panic: its stack follows.
		return modeGo
	}
	if contains(s, "Exception") {
		return modeStack
	}
	if contains(s, "Error") && (jsErrorStart(s) >= 0 || looksLikeJavaThrowable(s)) ||
		contains(s, "Throwable") && looksLikeJavaThrowable(s) {
		return modeStack
	}
	if contains(s, "ERROR") || contains(s, "SEVERE") {
		// logback/log4j/logging/JUL print the record's line, then the
		// exception: kept together, the trace gets the line's time.
		return modeLogged
	}
	return modeNone
}

// relayOpen reports whether an nginx error line relays a FastCGI stderr
// text whose closing quote and nginx's context are not on this line.
func relayOpen(s []byte) bool {
	i := indexStr(s, fastcgiStderr)
	return i >= 0 && !relayClosed(s[i+len(fastcgiStderr):])
}

// relayClosed: the relayed text ends and nginx's context follows (the
// request's action, " while reading response header from upstream", then
// the "client: ..., upstream: ..." fields ngx_http_log_error appends).
func relayClosed(s []byte) bool {
	return contains(s, "\" while ") || contains(s, "\", client: ")
}

// frameLine: "\tat x", "    at x", "\t... 2 more".
func frameLine(inner []byte) bool {
	if len(inner) == 0 || (inner[0] != ' ' && inner[0] != '\t') {
		return false
	}
	s := trimSpace(inner)
	return hasPrefix(s, "at ") || (hasPrefix(s, "... ") && hasSuffix(s, " more"))
}

// continues reports whether inner belongs to the open group and advances
// the mode's state.
func (g *Grouper) continues(inner []byte) bool {
	if isBlank(inner) {
		// Blank lines separate parts of Python chains, Go goroutine blocks
		// and Node's crash report; elsewhere they end the group.
		switch g.mode {
		case modePython, modeGo, modeNodeOOM, modeNodeThrow:
			return true
		case modeStack:
			return g.frame
		}
		return false
	}
	indented := inner[0] == ' ' || inner[0] == '\t'
	s := trimSpace(inner)
	switch g.mode {
	case modeRelay:
		if len(inner) > 20 && isDigit(inner[0]) && inner[4] == '/' && inner[7] == '/' && inner[10] == ' ' && inner[13] == ':' {
			return false // nginx's next entry: the relayed text was cut short
		}
		if relayClosed(inner) {
			g.state = 1 // nginx's context closes the entry: emitted by extend
		}
		return true
	case modePython:
		switch g.state {
		case 0: // frames
			if !indented {
				g.state = 1 // the exception line
			}
			return true
		case 1: // after the exception
			if indented && g.held == 0 {
				return true // a message continued on indented lines (libpq)
			}
			if hasPrefix(s, "During handling of the above exception") || hasPrefix(s, "The above exception was") {
				g.state = 2
				return true
			}
			return false
		default: // between chained tracebacks
			if hasPrefix(s, pyTraceback) {
				g.state = 0
				return true
			}
			return false
		}
	case modeGo:
		switch {
		case indented, hasPrefix(s, "goroutine "), hasPrefix(s, "runtime stack:"), hasPrefix(s, "[signal "),
			hasPrefix(s, "created by "), hasPrefix(s, "panic: "), hasPrefix(s, "fatal error: "),
			hasPrefix(s, "runtime: "), hasPrefix(s, "exit status "), hasPrefix(s, "...additional frames elided..."),
			hasPrefix(s, "[recovered]"), hasPrefix(s, "PC="):
			return true
		}
		return goFuncLine(s) || registerLine(s)
	case modeNodeOOM:
		if indented || s[0] == '[' || hasPrefix(s, "<---") || hasPrefix(s, "FATAL ERROR:") || hasPrefix(s, "-----") ||
			hasPrefix(s, "Security context:") || nativeFrame(s) {
			return true
		}
		return false
	case modeNodeThrow:
		switch g.state {
		case 0: // the source line the throw came from
			g.state = 1
			return true
		case 1, 2: // caret, blank, then the error line
			if len(s) > 0 && s[0] == '^' && g.state == 1 {
				g.state = 2
				return true
			}
			if !indented {
				g.state = 3
				return true
			}
			return false
		default: // after the error line
			return nodeTail(g, inner, s, indented)
		}
	case modeRust:
		// The panic message (one or more lines), then "stack backtrace:"
		// and indented frames, or Rust's closing "note: ..." line.
		switch {
		case hasPrefix(s, "stack backtrace:"):
			g.state = 1
			return true
		case hasPrefix(s, "note: "):
			return true
		case g.state == 1:
			return indented
		}
		return !indented && g.lines < 16
	case modeLogged:
		if g.lines > 1 || indented {
			return false
		}
		switch {
		case hasPrefix(s, pyTraceback):
			g.mode, g.state = modePython, 0
			return true
		case hasPrefix(s, "Exception in thread ") || looksLikeJavaThrowable(s) || jsErrorStart(s) == 0:
			g.mode = modeStack
			return true
		}
		return false
	case modeStack:
		if !g.frame && g.lines == 1 && hasPrefix(s, pyTraceback) {
			// Python's logging.exception: the message line, then the
			// traceback ("ERROR in app: Exception on / [GET]", gunicorn's
			// "Exception in worker process"). One event, with the line's time.
			g.mode, g.state = modePython, 0
			return true
		}
		if frameLine(inner) {
			g.frame = true
			g.brace = hasSuffix(s, "{")
			return true
		}
		if hasPrefix(s, "Caused by: ") || hasPrefix(s, "Suppressed: ") {
			return true
		}
		if hasPrefix(s, "Stack trace:") || g.frame && len(s) > 1 && s[0] == '#' && isDigit(s[1]) {
			// PHP: "PHP Fatal error:  Uncaught ...", "Stack trace:", "#0 ...",
			// "  thrown in ... on line N".
			g.frame = true
			return true
		}
		if !g.frame {
			return false
		}
		return nodeTail(g, inner, s, indented)
	}
	return false
}

// nodeTail accepts what follows a Node error's stack: more frames, the
// error's "{ code: ... }" properties, "Emitted 'error' event on ...", and
// the "Node.js vX" trailer.
func nodeTail(g *Grouper, inner, s []byte, indented bool) bool {
	switch {
	case frameLine(inner):
		g.brace = hasSuffix(s, "{")
		return true
	case hasPrefix(s, "Emitted 'error' event"), hasPrefix(s, "Node.js v"):
		return true
	case g.brace && (s[0] == '}' || indented):
		if s[0] == '}' {
			g.brace = false
		}
		return true
	case indented && g.held == 0:
		return true
	}
	return false
}

// goFuncLine: "main.main()", "runtime.throw({0x75e895?, 0x20000000?})",
// "main.(*config).set(...)", "panic({0x6a1be0?, 0x8d2130?})".
func goFuncLine(s []byte) bool {
	if !hasSuffix(s, ")") {
		return false
	}
	i := bytes.IndexByte(s, '(')
	if i <= 0 {
		return false
	}
	name := s[:i]
	if bytes.IndexByte(name, ' ') >= 0 {
		return false
	}
	return bytes.IndexByte(name, '.') >= 0 || string(name) == "panic"
}

// goSignalLine: the first line of the Go runtime's report of a fatal signal
// outside Go code or a SIGQUIT dump ("SIGQUIT: quit", "SIGSEGV: segmentation
// violation").
func goSignalLine(s []byte) bool {
	if !hasPrefix(s, "SIG") {
		return false
	}
	i := 3
	for i < len(s) && s[i] >= 'A' && s[i] <= 'Z' {
		i++
	}
	return i > 4 && i+2 < len(s) && s[i] == ':' && s[i+1] == ' ' && s[i+2] >= 'a' && s[i+2] <= 'z'
}

// registerLine: the register dump at the end of a Go signal report
// ("rax    0x0", "rflags 0x246").
func registerLine(s []byte) bool {
	i := 0
	for i < len(s) && i < 7 && (s[i] >= 'a' && s[i] <= 'z' || isDigit(s[i])) {
		i++
	}
	if i < 2 || i >= len(s) || s[i] != ' ' {
		return false
	}
	rest := trimSpace(s[i:])
	if !hasPrefix(rest, "0x") || len(rest) < 3 {
		return false
	}
	for _, c := range rest[2:] {
		if !isDigit(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// nativeFrame: " 1: 0xb78db3 node::OOMErrorHandler(...)".
func nativeFrame(s []byte) bool {
	_, n := atoiPrefix(s)
	return n > 0 && n+1 < len(s) && s[n] == ':' && s[n+1] == ' '
}

// wrapperOf splits a line into the wrapper repeated on every line of a
// stream and the line the software wrote.
func wrapperOf(line []byte) (wrapKind, []byte, []byte) {
	if len(line) == 0 {
		return wrapNone, nil, line
	}
	c := line[0]
	switch {
	case isDigit(c):
		_, n, ok := appISOTime(line, nil)
		if !ok || n >= len(line) {
			break
		}
		rest := line[n:]
		if hasPrefix(rest, ": ") || string(rest) == ":" {
			return wrapStamp, nil, line[min(n+2, len(line)):]
		}
		if rest[0] != ' ' {
			break
		}
		rest = rest[1:]
		for _, stream := range [...]string{"stdout ", "stderr "} {
			if hasPrefix(rest, stream) && len(rest) >= 9 && (rest[7] == 'F' || rest[7] == 'P') && rest[8] == ' ' {
				return wrapCRI, rest[:6], rest[9:]
			}
		}
		if line[10] == 'T' && n > 19 {
			return wrapStamp, nil, rest
		}
	case c >= 'A' && c <= 'S' && len(line) > 16 && line[3] == ' ' && monthOf(line) != 0 && line[9] == ':':
		// "Nov 25 16:35:32 host tag[pid]: msg"
		if sep := indexStr(line[16:], ": "); sep > 0 && sep < 120 {
			key := line[16 : 16+sep+2]
			if strings.Count(aliasStr(key), " ") <= 2 {
				return wrapSyslog, key, line[16+sep+2:]
			}
		}
	}
	// Compose / `pm2 logs`: "web-1  | msg", "0|api  | msg".
	if i := indexStr(line[:min(len(line), 67)], " | "); i > 0 && i < 64 {
		name := trimSpace(line[:i])
		ok := len(name) > 0
		for _, b := range name {
			if !(hostByte(b) || b == '|') {
				ok = false
				break
			}
		}
		if ok {
			return wrapCompose, line[:i+3], line[i+3:]
		}
	}
	return wrapNone, nil, line
}
