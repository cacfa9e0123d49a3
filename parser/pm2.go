package parser

// PM2: the daemon's own log (~/.pm2/pm2.log, "2024-01-01T12:00:00: PM2 log:
// App [api:0] exited with code [1] via signal [SIGINT]") and the apps'
// out/err logs when the ecosystem sets `time: true` (PM2 then prefixes every
// line with its local, zone-less "YYYY-MM-DDTHH:mm:ss: "), and lines pasted
// from `pm2 logs` ("0|api      | message").

import (
	"bytes"
	"errors"
)

var errPM2Format = errors.New("pm2: bad timestamp prefix")

// looksLikePM2 recognises PM2's zone-less "YYYY-MM-DDTHH:mm:ss: " prefix
// (no other common software writes a stamp followed directly by ": ") and
// the "id|name | " prefix of `pm2 logs`.
func looksLikePM2(b []byte) bool {
	if len(b) >= 21 && b[4] == '-' && b[10] == 'T' && b[19] == ':' && b[20] == ' ' {
		return true
	}
	_, _, ok := pm2LogsPrefix(b)
	return ok
}

// pm2LogsPrefix reads "0|api      | " and returns the app name and the rest.
func pm2LogsPrefix(b []byte) (app, rest []byte, ok bool) {
	_, n := atoiPrefix(b)
	if n == 0 || n >= len(b) || b[n] != '|' {
		return nil, b, false
	}
	end := indexStr(b[n+1:], " | ")
	if end <= 0 || end > 64 {
		// An empty app line: "0|api      |".
		if end = indexStr(b[n+1:], " |"); end <= 0 || end > 64 || n+1+end+2 != len(b) {
			return nil, b, false
		}
		return trimSpace(b[n+1 : n+1+end]), nil, true
	}
	return trimSpace(b[n+1 : n+1+end]), b[n+1+end+3:], true
}

func (p *Parser) parsePM2(line []byte, ev *Event) error {
	ev.Kind = KindUpstreamEvent
	if len(trimSpace(line)) == 0 {
		return errEmptyLine
	}
	// `pm2 logs` output: "0|api      | " before what the log file holds.
	skip := 0
	app, rest, logsPrefix := pm2LogsPrefix(firstLine(line))
	if logsPrefix {
		skip = len(firstLine(line)) - len(rest)
	}
	err := p.pm2Body(line, skip, ev)
	if err == nil && logsPrefix && ev.App == "" {
		ev.App = aliasStr(app)
	}
	return err
}

func (p *Parser) pm2Body(line []byte, skip int, ev *Event) error {
	first := firstLine(line)[skip:]
	if len(first) >= 8 && isDigit(first[0]) && first[4] == '-' && first[7] == '-' {
		t, n, ok := appISOTime(first, p.opts.Location)
		// A custom log_date_format with a zone ("YYYY-MM-DD HH:mm:ss Z")
		// is read by appISOTime too; the ": " after it is PM2's.
		if !ok || n+1 >= len(first) || first[n] != ':' || first[n+1] != ' ' {
			return errPM2Format
		}
		ev.Time = t
		rest := first[n+2:]
		for _, kind := range [...]string{"PM2 log: ", "PM2 error: ", "PM2 warn: ", "PM2 info: "} {
			if hasPrefix(rest, kind) {
				ev.Level = aliasStr(rest[len("PM2 ") : len(kind)-2])
				pm2Daemon(trimSpace(rest[len(kind):]), ev)
				return nil
			}
		}
		return p.pm2AppLine(line, skip+n+2, ev)
	}
	if hasPrefix(first, "[PM2]") {
		ev.Process = "PM2"
		pm2Daemon(trimSpace(first), ev)
		return nil
	}
	return p.pm2AppLine(line, skip, ev)
}

// pm2AppLine reads an app's own output after PM2's prefix (skip bytes into
// the first line): the runtime parsers recognise crashes and traces, and
// Node's reading serves for the rest (PM2 mostly runs Node apps).
func (p *Parser) pm2AppLine(line []byte, skip int, ev *Event) error {
	t := ev.Time
	inner := line[skip:]
	src := detectTrace(inner)
	if src == "" {
		src = SourceNode
	}
	if err := p.parseAs(src, inner, ev); err != nil {
		ev.Reset()
		ev.Kind = KindUpstreamEvent
		ev.Message = aliasStr(trimSpace(firstLine(inner)))
		classifyText(inner, ev)
	}
	if !t.IsZero() {
		ev.Time = t
	}
	return nil
}

// pm2AppRef reads "[name:id]" after key in msg.
func pm2AppRef(msg []byte, key string) (name []byte, ok bool) {
	i := indexStr(msg, key)
	if i < 0 {
		return nil, false
	}
	ref := msg[i+len(key):]
	end := bytes.IndexByte(ref, ']')
	if end < 0 {
		return nil, false
	}
	ref = ref[:end]
	if c := bytes.LastIndexByte(ref, ':'); c >= 0 {
		ref = ref[:c]
	}
	return ref, true
}

// bracketAfter returns the text in the brackets following key.
func bracketAfter(msg []byte, key string) ([]byte, bool) {
	i := indexStr(msg, key)
	if i < 0 {
		return nil, false
	}
	rest := msg[i+len(key):]
	if len(rest) == 0 || rest[0] != '[' {
		return nil, false
	}
	end := bytes.IndexByte(rest, ']')
	if end < 0 {
		return nil, false
	}
	return rest[1:end], true
}

func pm2Daemon(msg []byte, ev *Event) {
	ev.Message = aliasStr(msg)
	if name, ok := pm2AppRef(msg, "App ["); ok && hasPrefix(msg, "App [") {
		ev.App = aliasStr(name)
	}
	switch {
	case hasPrefix(msg, "App [") && contains(msg, "] exited with code ["):
		ev.Class = ClassProcessExit
		code, _ := bracketAfter(msg, "exited with code ")
		sig, _ := bracketAfter(msg, "via signal ")
		// PM2 prints "via signal [SIGINT]" when there was no signal at all
		// and code 0 when a signal ended the process (God.js handleExit).
		v, n := atoiPrefix(code)
		switch {
		case n > 0 && n == len(code) && v != 0:
			ev.ExitCode = int(v)
			if string(sig) != "SIGINT" {
				ev.Signal = aliasStr(sig)
			}
		case string(sig) != "SIGINT" && len(sig) > 0:
			ev.Signal = aliasStr(sig)
		default:
			ev.ExitCode = 0
			ev.Signal = aliasStr(sig)
		}
	case hasPrefix(msg, "App [") && contains(msg, "] starting in "):
		ev.Class = ClassStart
	case hasPrefix(msg, "App [") && contains(msg, "] will restart in "):
		ev.Class = ClassRestart
	case contains(msg, "exceeds --max-memory-restart"):
		ev.Class = ClassMemoryLimitRestart
		if v, ok := intAfter(msg, "current_memory="); ok {
			ev.MemoryKB = v / 1024
		}
	case contains(msg, "too many unstable restarts"):
		// PM2 gave up: the app stays down ("errored") until someone acts.
		ev.Class = ClassStop
		if i := indexStr(msg, "Script "); i >= 0 {
			script := msg[i+len("Script "):]
			if j := indexStr(script, " had "); j > 0 {
				ev.Process = aliasStr(script[:j])
			}
		}
	case hasPrefix(msg, "Stopping app:"):
		ev.Class = ClassStop
		name := msg[len("Stopping app:"):]
		if j := indexStr(name, " id:"); j >= 0 {
			name = name[:j]
		}
		ev.App = aliasStr(name)
	case contains(msg, "in a stopped status, starting it"):
		ev.Class = ClassRestart
	case hasPrefix(msg, "Process with pid ") && contains(msg, "SIGKILL"):
		// Stop escalated: the app ignored SIGINT for kill_timeout.
		ev.Class = ClassStop
		ev.Signal = "SIGKILL"
		if v, ok := intAfter(msg, "pid"); ok {
			ev.PID = int(v)
		}
	case hasPrefix(msg, "pid=") || hasPrefix(msg, "app="):
		ev.Class = ClassOther
		if v, ok := intAfter(msg, "pid="); ok {
			ev.PID = int(v)
		}
		if hasPrefix(msg, "app=") {
			name := msg[len("app="):]
			if j := bytes.IndexByte(name, ' '); j >= 0 {
				name = name[:j]
			}
			ev.App = aliasStr(name)
		}
	case contains(msg, "New PM2 Daemon started") || hasPrefix(msg, "PM2 successfully forked"):
		ev.Class = ClassStart
		ev.Process = "PM2"
	case hasPrefix(msg, "PM2 successfully stopped") || contains(msg, "PM2 is being killed"):
		ev.Class = ClassStop
		ev.Process = "PM2"
	default:
		ev.Class = ClassOther
	}
}
