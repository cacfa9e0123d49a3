package parser

// uWSGI's log has no fixed line format: the master writes bare messages at
// start and on worker deaths, a ctime stamp ("Wed Nov 25 16:36:58 2026 - ")
// before harakiri and listen-queue warnings, and "[pid: N|app: ..." request
// lines. The messages themselves are stable across 2.0.x.

import "bytes"

func looksLikeUWSGI(b []byte) bool {
	return contains(b, "uWSGI") || contains(b, "HARAKIRI") || hasPrefix(b, "DAMN ! worker") ||
		contains(b, "RELOAD ON WORKER") || hasPrefix(b, "{address space usage:") ||
		hasPrefix(b, "SIGINT/SIGTERM received") || hasPrefix(b, "bind(): ") || (hasPrefix(b, "worker ") && contains(b, " buried after "))
}

func (p *Parser) parseUWSGI(line []byte, ev *Event) error {
	first := firstLine(line)
	if len(trimSpace(first)) == 0 {
		return errEmptyLine
	}
	t, msg := leadingStamp(first, p.opts.Location)
	msg = trimSpace(msg)
	ev.Kind = KindUpstreamEvent
	ev.Time = t
	ev.Process = "uwsgi"
	if hasPrefix(msg, "{address space usage:") || hasPrefix(msg, "{rss usage:") {
		// --memory-report puts the worker's memory before its request line.
		if v, ok := intAfter(msg, "{rss usage:"); ok {
			ev.MemoryKB = v / 1024
		}
		if i := indexStr(msg, "[pid: "); i >= 0 {
			msg = msg[i:]
		}
	}
	ev.Message = aliasStr(msg)
	switch {
	case hasPrefix(msg, "[pid: "):
		// Request log: "[pid: 17623|app: 0|req: 1/1] 127.0.0.1 () {..} [ctime] GET / => ...".
		if v, ok := intAfter(msg, "[pid:"); ok {
			ev.PID = int(v)
		}
		if i := indexStr(msg, "} ["); i >= 0 && ev.Time.IsZero() {
			if t, _, ok := appCTime(msg[i+3:], p.opts.Location); ok {
				ev.Time = t
			}
		}
		ev.Class = ClassOther
	case contains(msg, "HARAKIRI ON WORKER"):
		ev.Class = ClassWorkerTimeout
		if v, ok := intAfter(msg, "pid:"); ok {
			ev.PID = int(v)
		}
	case hasPrefix(msg, "DAMN ! worker"):
		// "DAMN ! worker 1 (pid: 123) died, killed by signal 9 :( trying respawn ..."
		// "DAMN ! worker 1 (pid: 123) died :( trying respawn ..."
		if v, ok := intAfter(msg, "pid:"); ok {
			ev.PID = int(v)
		}
		if v, ok := intAfter(msg, "killed by signal"); ok {
			ev.Signal = linuxSignal(int(v))
			ev.Class = signalClass(ev.Signal)
		} else {
			if v, ok := intAfter(msg, "exit code"); ok {
				ev.ExitCode = int(v)
			}
			ev.Class = ClassProcessExit
		}
	case hasPrefix(msg, "Respawned uWSGI worker"):
		if v, ok := intAfter(msg, "new pid:"); ok {
			ev.PID = int(v)
		}
		ev.Class = ClassRestart
	case hasPrefix(msg, "spawned uWSGI"):
		if v, ok := intAfter(msg, "pid:"); ok {
			ev.PID = int(v)
		}
		ev.Class = ClassStart
	case hasPrefix(msg, "*** Starting uWSGI"):
		if i := indexStr(msg, " on ["); i >= 0 && ev.Time.IsZero() {
			if t, _, ok := appCTime(msg[i+5:], p.opts.Location); ok {
				ev.Time = t
			}
		}
		ev.Class = ClassStart
	case contains(msg, "listen queue of socket"):
		ev.Class = ClassPoolSaturated
		if a, ok := quotedAfter(msg, "socket \""); ok {
			ev.Upstream = a
		}
	case contains(msg, "bound to TCP address") || contains(msg, "bound to UNIX address"):
		ev.Class = ClassOther
		for _, key := range [...]string{"TCP address ", "UNIX address "} {
			if i := indexStr(msg, key); i >= 0 {
				a := msg[i+len(key):]
				if j := bytes.IndexByte(a, ' '); j >= 0 {
					a = a[:j]
				}
				ev.Upstream = aliasStr(a)
			}
		}
	case hasPrefix(msg, "bind(): ") || hasPrefix(msg, "probably another instance of uWSGI"):
		ev.Class = ClassListenError
		ev.Upstream = findHostPort(msg)
	case contains(msg, "got Segmentation Fault"):
		ev.Class = ClassCrash
		if v, ok := intAfter(msg, "process"); ok {
			ev.PID = int(v)
		}
	case contains(msg, "RELOAD ON WORKER") || contains(msg, "reload-on-rss") || contains(msg, "reload-on-as"):
		// "*** EVIL RELOAD ON WORKER 1 RSS: 105750528 (pid: 5167) ***"
		ev.Class = ClassMemoryLimitRestart
		if v, ok := intAfter(msg, "pid:"); ok {
			ev.PID = int(v)
		}
		if v, ok := intAfter(msg, "RSS:"); ok {
			ev.MemoryKB = v / 1024
		}
	case hasPrefix(msg, "SIGINT/SIGTERM received") || hasPrefix(msg, "goodbye to uWSGI") ||
		contains(msg, "gracefully killing workers") || hasPrefix(msg, "Gracefully killing worker"):
		ev.Class = ClassStop
	case contains(msg, "received SIGHUP") || hasPrefix(msg, "...gracefully killing workers") || contains(msg, "reloading uWSGI") ||
		hasPrefix(msg, "binary reloading uWSGI"):
		ev.Class = ClassRestart
	default:
		classifyText(line, ev)
	}
	return nil
}
