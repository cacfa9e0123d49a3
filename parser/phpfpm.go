package parser

// php-fpm's error log ("[01-Jan-2024 12:00:00] LEVEL: [pool www] message",
// zone-less local time, optional microseconds with log_level debug) and
// PHP's own error log ("[01-Jan-2024 12:00:00 UTC] PHP Fatal error:  ...",
// the zone name php's date.timezone gives).

import (
	"bytes"
	"errors"
)

var errPHPFPMFormat = errors.New("php-fpm: expected \"[dd-Mmm-yyyy hh:mm:ss] LEVEL: message\"")

func looksLikePHPFPM(b []byte) bool {
	return len(b) > 22 && b[0] == '[' && b[3] == '-' && b[7] == '-' && b[12] == ' ' && monthOf(b[4:7]) != 0
}

// phpfpmLevels are zlog's level names.
var phpfpmLevels = [...]string{"DEBUG", "NOTICE", "WARNING", "ERROR", "ALERT"}

// phpfpmDateless recognises the form without a date some container setups
// write ("WARNING: [pool www] server reached ...").
func phpfpmDateless(b []byte) bool {
	for _, lv := range phpfpmLevels {
		if hasPrefix(b, lv) && hasPrefix(b[len(lv):], ": ") {
			rest := b[len(lv)+2:]
			return hasPrefix(rest, "[pool ") || hasPrefix(rest, "fpm is running") || hasPrefix(rest, "ready to handle") ||
				hasPrefix(rest, "Finishing ...") || hasPrefix(rest, "Terminating ...") || hasPrefix(rest, "exiting, bye-bye")
		}
	}
	return false
}

func (p *Parser) parsePHPFPM(line []byte, ev *Event) error {
	first := firstLine(line)
	if phpfpmDateless(first) {
		ev.Kind = KindUpstreamEvent
		ev.Process = "php-fpm"
		phpfpmMessage(trimSpace(first), ev)
		return nil
	}
	if len(trimSpace(first)) == 0 {
		return errEmptyLine
	}
	if first[0] != '[' || len(first) > 1 && !isDigit(first[1]) {
		// Not the file format: a syslog/journal line from php-fpm or php
		// (tagged by the envelope), e.g. "PHP Fatal error:  ..." or
		// "[WARNING] [pool www] ...". Read what it says.
		ev.Kind = KindUpstreamEvent
		ev.Process = "php-fpm"
		msg := trimSpace(first)
		if hasPrefix(msg, "PHP ") {
			ev.Process = "php"
			return phpError(msg, ev)
		}
		if lv, rest, ok := bracketField(msg); ok && len(lv) > 0 && len(lv) < 10 && lv[0] >= 'A' && lv[0] <= 'Z' {
			ev.Level = aliasStr(lv)
			msg = trimSpace(rest)
			if hasPrefix(msg, "[pool ") {
				if end := bytes.IndexByte(msg, ']'); end > 0 {
					ev.App = aliasStr(msg[len("[pool "):end])
					msg = trimSpace(msg[end+1:])
				}
			}
		}
		ev.Message = aliasStr(msg)
		phpfpmClass(msg, ev)
		return nil
	}
	// From here the line claims the file format "[dd-Mmm-yyyy ...".
	t, n, ok := appDMYTime(first[1:], p.opts.Location)
	if !ok {
		return errPHPFPMFormat
	}
	rest := first[1+n:]
	end := bytes.IndexByte(rest, ']')
	if end < 0 || end > 40 {
		return errPHPFPMFormat
	}
	zone := trimSpace(rest[:end])
	if len(zone) > 0 {
		if !zoneName(zone) {
			return errPHPFPMFormat
		}
		t = inZone(t, zone, p.opts.Location)
	}
	msg := trimSpace(rest[end+1:])
	ev.Kind = KindUpstreamEvent
	ev.Time = t
	ev.Process = "php-fpm"
	if hasPrefix(msg, "PHP ") {
		// PHP's error log: "PHP Fatal error:  Allowed memory size ...".
		ev.Process = "php"
		return phpError(msg, ev)
	}
	if len(zone) > 0 {
		// PHP's error log also holds the app's own error_log() text.
		ev.Process = "php"
		ev.Message = aliasStr(msg)
		classifyText(msg, ev)
		return nil
	}
	colon := indexStr(msg, ": ")
	if colon <= 0 || colon > 12 {
		return errPHPFPMFormat
	}
	phpfpmMessage(msg, ev)
	return nil
}

// phpfpmMessage reads "LEVEL: [pool name] message" (the part after the date).
func phpfpmMessage(msg []byte, ev *Event) {
	colon := indexStr(msg, ": ")
	ev.Level = aliasStr(msg[:colon])
	msg = msg[colon+2:]
	if hasPrefix(msg, "pid ") {
		// log_level = debug: "pid 1, fpm_children_make(), line 421: [pool www] ..."
		if i := indexStr(msg, "), line "); i > 0 {
			if j := indexStr(msg[i:], ": "); j > 0 {
				msg = msg[i+j+2:]
			}
		}
	}
	if hasPrefix(msg, "[pool ") {
		if end := bytes.IndexByte(msg, ']'); end > 0 {
			ev.App = aliasStr(msg[len("[pool "):end])
			msg = trimSpace(msg[end+1:])
		}
	}
	ev.Message = aliasStr(msg)
	phpfpmClass(msg, ev)
}

func phpfpmClass(msg []byte, ev *Event) {
	childPID := func() {
		if v, ok := intAfter(msg, "child"); ok {
			ev.PID = int(v)
		}
	}
	switch {
	case contains(msg, "max_children setting"):
		ev.Class = ClassPoolSaturated
	case hasPrefix(msg, "seems busy"):
		ev.Class = ClassPoolSaturated
	case contains(msg, "execution timed out"):
		childPID()
		ev.Class = ClassWorkerTimeout
		if r, ok := quotedAfter(msg, "(request: \""); ok {
			ev.Request = r
		}
	case hasPrefix(msg, "child ") && contains(msg, " exited on signal "):
		// "child 123 exited on signal 9 (SIGKILL) after 31.0 seconds from start"
		childPID()
		if i := indexStr(msg, "(SIG"); i >= 0 {
			if j := bytes.IndexByte(msg[i:], ')'); j > 0 {
				ev.Signal = aliasStr(msg[i+1 : i+j])
			}
		}
		if ev.Signal == "" {
			if v, ok := intAfter(msg, "on signal"); ok {
				ev.Signal = linuxSignal(int(v))
			}
		}
		ev.Class = ClassWorkerKilled
		if s := signalClass(ev.Signal); s == ClassCrash {
			ev.Class = s
		}
	case hasPrefix(msg, "child ") && contains(msg, " exited with code "):
		childPID()
		if v, ok := intAfter(msg, "exited with code"); ok {
			ev.ExitCode = int(v)
		}
		ev.Class = ClassProcessExit
	case hasPrefix(msg, "child ") && contains(msg, " said into std"):
		// catch_workers_output: the child's own words, often PHP's errors.
		childPID()
		if i := indexStr(msg, "\""); i >= 0 {
			inner := bytes.TrimSuffix(msg[i+1:], []byte("\""))
			if k := indexStr(inner, "PHP message: "); k >= 0 {
				inner = inner[k+len("PHP message: "):]
			}
			if j := indexStr(inner, "PHP "); j >= 0 {
				_ = phpError(inner[j:], ev)
				ev.Message = aliasStr(msg)
				return
			}
			classifyText(inner, ev)
			return
		}
		ev.Class = ClassOther
	case hasPrefix(msg, "child ") && hasSuffix(msg, " started"):
		childPID()
		ev.Class = ClassStart
	case hasPrefix(msg, "fpm is running"):
		if v, ok := intAfter(msg, "pid"); ok {
			ev.PID = int(v)
		}
		ev.Class = ClassStart
	case hasPrefix(msg, "ready to handle connections"):
		ev.Class = ClassStart
	case contains(msg, "unable to bind listening socket"):
		ev.Class = ClassListenError
		if a, ok := quotedAfter(msg, "address '"); ok {
			ev.Upstream = a
		}
	case hasPrefix(msg, "FPM initialization failed"):
		ev.Class = ClassProcessExit
	case hasPrefix(msg, "Terminating") || hasPrefix(msg, "Finishing") || hasPrefix(msg, "exiting, bye-bye"):
		ev.Class = ClassStop
	case hasPrefix(msg, "Reloading in progress"):
		ev.Class = ClassRestart
	case contains(msg, "executing too slow"):
		// Slowlog notice: the request is still running, nothing failed yet.
		childPID()
		ev.Class = ClassOther
	default:
		classifyText(msg, ev)
	}
}

// zoneName: what PHP writes after its error log's time ("UTC",
// "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+3").
func zoneName(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) || c == '/' || c == '_' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

// phpError reads "PHP <Level>:  <message>" from PHP's error log.
func phpError(msg []byte, ev *Event) error {
	body := msg[len("PHP "):]
	colon := bytes.IndexByte(body, ':')
	if colon <= 0 || colon > 30 {
		ev.Message = aliasStr(msg)
		classifyText(msg, ev)
		return nil
	}
	ev.Level = aliasStr(body[:colon])
	text := trimSpace(body[colon+1:])
	ev.Message = aliasStr(text)
	switch {
	case contains(text, "Maximum execution time of"):
		ev.Class = ClassWorkerTimeout
	default:
		classifyText(text, ev)
		if ev.Class == ClassOther && hasPrefix(text, "Uncaught ") {
			ev.Class = ClassCrash
		}
	}
	return nil
}
