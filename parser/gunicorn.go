package parser

// gunicorn's error log: "[2024-01-01 12:00:00 +0000] [123] [LEVEL] message".
// The bracketed pid is the process that wrote the line (the master for
// timeouts and reaped workers, the worker for "Worker exiting").

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

var errGunicornFormat = errors.New("gunicorn: expected \"[time] [pid] [LEVEL] message\"")

func looksLikeGunicorn(b []byte) bool {
	// "[YYYY-MM-DD HH:MM:SS +ZZZZ] [" : the zone with a space is gunicorn's.
	return len(b) > 30 && b[0] == '[' && b[5] == '-' && b[11] == ' ' && b[20] == ' ' &&
		(b[21] == '+' || b[21] == '-') && b[26] == ']' && b[27] == ' ' && b[28] == '['
}

func (p *Parser) parseGunicorn(line []byte, ev *Event) error {
	first := firstLine(line)
	if len(first) == 0 || first[0] != '[' {
		return errGunicornFormat
	}
	var t time.Time
	rest := first
	if len(first) > 1 && isDigit(first[1]) && !gunicornSyslog(first) {
		tt, n, ok := appISOTime(first[1:], p.opts.Location)
		if !ok || 1+n >= len(first) || first[1+n] != ']' {
			return fmt.Errorf("gunicorn: bad timestamp: %w", errGunicornFormat)
		}
		t, rest = tt, first[n+2:]
	}
	pid, rest, ok := bracketField(rest)
	if !ok {
		return errGunicornFormat
	}
	level, rest, ok := bracketField(rest)
	if !ok {
		return errGunicornFormat
	}
	ev.Kind = KindUpstreamEvent
	ev.Time = t
	ev.Process = "gunicorn"
	ev.Level = aliasStr(level)
	if v, n := atoiPrefix(pid); n == len(pid) && n > 0 {
		ev.PID = int(v)
	}
	msg := trimSpace(rest)
	ev.Message = aliasStr(msg)
	gunicornClass(msg, line, ev)
	return nil
}

// gunicornSyslog recognises --log-syslog's format, which has no time (the
// syslog header carries it): "[123] [INFO] Booting worker with pid: 124".
func gunicornSyslog(b []byte) bool {
	_, n := atoiPrefix(b[1:])
	return n > 0 && hasPrefix(b[1+n:], "] [")
}

// bracketField reads " [value]" (leading spaces allowed) from b.
func bracketField(b []byte) (val, rest []byte, ok bool) {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	if len(b) == 0 || b[0] != '[' {
		return nil, b, false
	}
	end := bytes.IndexByte(b, ']')
	if end < 0 {
		return nil, b, false
	}
	return b[1:end], b[end+1:], true
}

func gunicornClass(msg, whole []byte, ev *Event) {
	switch {
	case hasPrefix(msg, "WORKER TIMEOUT"):
		ev.Class = ClassWorkerTimeout
		if v, ok := intAfter(msg, "pid:"); ok {
			ev.PID = int(v)
		}
	case hasPrefix(msg, "Worker with pid ") && contains(msg, "terminated due to signal"):
		// gunicorn 20.1: "Worker with pid N was terminated due to signal 9".
		if v, ok := intAfter(msg, "Worker with pid"); ok {
			ev.PID = int(v)
		}
		if v, ok := intAfter(msg, "signal"); ok {
			ev.Signal = linuxSignal(int(v))
		}
		ev.Class = signalClass(ev.Signal)
	case hasPrefix(msg, "Worker (pid:") && contains(msg, "was sent "):
		// gunicorn >= 20.1: "Worker (pid:N) was sent SIGKILL! Perhaps out of memory?"
		if v, ok := intAfter(msg, "pid:"); ok {
			ev.PID = int(v)
		}
		if i := indexStr(msg, "was sent "); i >= 0 {
			sig := msg[i+len("was sent "):]
			if j := bytes.IndexAny(sig, "! "); j >= 0 {
				sig = sig[:j]
			}
			ev.Signal = aliasStr(sig)
		}
		ev.Class = signalClass(ev.Signal)
		if len(ev.Signal) >= 4 && ev.Signal[:4] == "code" {
			// gunicorn writes "was sent code N!" for a status it cannot name.
			ev.Signal = ""
			ev.Class = ClassProcessExit
		}
	case hasPrefix(msg, "Worker (pid:") && contains(msg, "exited with code"):
		if v, ok := intAfter(msg, "pid:"); ok {
			ev.PID = int(v)
		}
		if v, ok := intAfter(msg, "exited with code"); ok {
			ev.ExitCode = int(v)
		}
		ev.Class = ClassProcessExit
	case hasPrefix(msg, "Worker exiting"):
		if v, ok := intAfter(msg, "pid:"); ok {
			ev.PID = int(v)
		}
		ev.Class = ClassStop
	case hasPrefix(msg, "Booting worker with pid"):
		if v, ok := intAfter(msg, "pid:"); ok {
			ev.PID = int(v)
		}
		ev.Class = ClassStart
	case hasPrefix(msg, "Starting gunicorn"):
		ev.Class = ClassStart
	case hasPrefix(msg, "Control socket listening at"):
		// gunicorn >= 23: the master's control socket (gunicornc), logged
		// after every worker boot; not the address the service serves.
		ev.Class = ClassOther
	case hasPrefix(msg, "Listening at: "):
		addr := msg[len("Listening at: "):]
		if i := lastIndexStr(addr, " ("); i >= 0 {
			addr = addr[:i]
		}
		for _, scheme := range [...]string{"http://", "https://"} {
			if hasPrefix(addr, scheme) {
				addr = addr[len(scheme):]
			}
		}
		ev.Upstream = aliasStr(addr)
		ev.Class = ClassStart
	case hasPrefix(msg, "Connection in use: ") || hasPrefix(msg, "Can't connect to "):
		ev.Class = ClassListenError
		ev.Upstream = pythonAddrTuple(msg)
	case hasPrefix(msg, "Handling signal: "):
		switch sig := string(bytes.ToUpper(msg[len("Handling signal: "):])); sig {
		case "TERM", "INT", "QUIT":
			ev.Class = ClassStop
			ev.Signal = linuxSignal(termSignal(sig))
		case "HUP":
			ev.Class = ClassRestart
			ev.Signal = "SIGHUP"
		default:
			ev.Class = ClassOther
		}
	case hasPrefix(msg, "Shutting down: Master"):
		ev.Class = ClassStop
	case hasPrefix(msg, "Hang up: "):
		// SIGHUP: configuration reloaded, workers replaced.
		ev.Class = ClassRestart
	case hasPrefix(msg, "Unhandled exception in main loop"):
		ev.Class = ClassCrash
	case contains(msg, "failed to boot") || hasPrefix(msg, "App failed to load") ||
		hasPrefix(msg, "Exception in worker process"):
		ev.Class = ClassCrash
		if len(whole) != len(firstLine(whole)) {
			// A grouped traceback after the line may name the real cause.
			var inner Event
			inner.Reset()
			classifyText(whole[len(firstLine(whole)):], &inner)
			if inner.Class != ClassOther && inner.Class != ClassStart {
				ev.Class, ev.Dependency = inner.Class, inner.Dependency
			}
		}
	default:
		if tb := indexStr(whole, pyTraceback); tb > 0 && len(whole) != len(firstLine(whole)) {
			// "Error handling request /x" (sync/gthread workers), uvicorn's
			// "Exception in ASGI application", or any logger that routes
			// through gunicorn's error log, with the grouped traceback: the
			// application raised while serving a request (it answered 500).
			// The exception lines say why, as in a bare Python trace.
			if last, class, dep := pyTrace(whole, tb); last != nil {
				ev.Message = aliasStr(trimSpace(last))
				ev.Class, ev.Dependency = ClassCrash, ""
				if class != ClassOther {
					ev.Class, ev.Dependency = class, dep
				}
				return
			}
		}
		classifyText(msg, ev)
	}
}

// signalClass: a worker ended by a termination request was stopped; by
// anything else (SIGKILL from the OOM killer or an operator, SIGSEGV) it was
// killed.
func signalClass(sig string) Class {
	switch sig {
	case "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP":
		return ClassStop
	case "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE":
		return ClassCrash
	}
	return ClassWorkerKilled
}

// termSignal maps the stop signals gunicorn names ("term") to numbers.
func termSignal(word string) int {
	switch word {
	case "INT":
		return 2
	case "QUIT":
		return 3
	case "TERM":
		return 15
	}
	return 0
}

// pythonAddrTuple reads "('127.0.0.1', 8000)" as "127.0.0.1:8000" (gunicorn
// prints its bind addresses as Python tuples).
func pythonAddrTuple(b []byte) string {
	i := indexStr(b, "('")
	if i < 0 {
		if j := indexStr(b, "unix:"); j >= 0 {
			return aliasStr(trimSpace(b[j:]))
		}
		return findHostPort(b)
	}
	rest := b[i+2:]
	j := bytes.IndexByte(rest, '\'')
	if j < 0 {
		return ""
	}
	host := aliasStr(rest[:j])
	port, ok := intAfter(rest[j:], ",")
	if !ok {
		return ""
	}
	return joinHostPort(host, port)
}
