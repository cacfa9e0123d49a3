package parser

// systemd: what PID 1 (and systemd-oomd) says about units, as text from
// journalctl / syslog or as journalctl -o json (unwrap reads the JSON and
// fills the unit from UNIT / _SYSTEMD_UNIT). The wording is stable across
// versions for the lines that matter; older ones differ in details noted
// below.

import (
	"bytes"
	"errors"
)

var errNotSystemd = errors.New("not a systemd line")

// linuxSignals maps Linux signal numbers to names; systemd writes
// "status=9/KILL" and container runtimes report exit code 128+n.
var linuxSignals = [...]string{1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
	7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
	14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP",
	21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF",
	28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS"}

func linuxSignal(n int) string {
	if n > 0 && n < len(linuxSignals) {
		return linuxSignals[n]
	}
	return ""
}

// linuxSignalByShortName turns systemd's "KILL" into "SIGKILL" without allocating.
func linuxSignalByShortName(b []byte) string {
	for _, s := range linuxSignals[1:] {
		if string(b) == s[3:] {
			return s
		}
	}
	return ""
}

var unitSuffixes = [...]string{".service", ".scope", ".socket", ".slice", ".mount", ".timer", ".target", ".path",
	".swap", ".automount", ".device"}

func isUnitName(b []byte) bool {
	if len(b) < 3 || bytes.IndexByte(b, ' ') >= 0 {
		return false
	}
	for _, s := range unitSuffixes {
		if bytes.HasSuffix(b, []byte(s)) {
			return true
		}
	}
	return false
}

// stripSystemdTag removes a bare "systemd[1]: " left on a pasted line that
// had no syslog header for unwrap to read.
func stripSystemdTag(b []byte) []byte {
	for _, tag := range [...]string{"systemd[", "systemd-oomd["} {
		if bytes.HasPrefix(b, []byte(tag)) {
			if i := bytes.Index(b, []byte("]: ")); i > 0 && i < 24 {
				return b[i+3:]
			}
		}
	}
	if bytes.HasPrefix(b, []byte("systemd: ")) {
		return b[len("systemd: "):]
	}
	return b
}

func (p *Parser) parseSystemd(line []byte, ev *Event) error {
	// PID 1 writes to /dev/kmsg until journald runs, so its lines also
	// come with a kernel stamp.
	t, _, line := p.kernelStamp(line)
	if !t.IsZero() {
		ev.Time = t
	}
	msg := bytes.TrimRight(stripSystemdTag(line), " \r\n")
	if len(msg) == 0 {
		return errNotSystemd
	}
	ev.Kind = KindUpstreamEvent
	ev.Class = ClassOther
	ev.Message = aliasStr(msg)
	body := msg
	// "app.service: message" (systemd >= 236 prefixes unit messages).
	if c := bytes.Index(msg, []byte(": ")); c > 0 && isUnitName(msg[:c]) {
		ev.Unit = aliasStr(msg[:c])
		body = msg[c+2:]
	}
	classifySystemd(body, ev)
	return nil
}

func classifySystemd(b []byte, ev *Event) {
	switch {
	case bytes.HasPrefix(b, []byte("Main process exited, ")) || bytes.HasPrefix(b, []byte("Control process exited, ")) ||
		bytes.HasPrefix(b, []byte("main process exited, ")) || bytes.HasPrefix(b, []byte("control process exited, ")):
		// systemd < 230 writes the lower-case form.
		ev.Class = ClassProcessExit
		exitStatus(b, ev)
	case bytes.HasPrefix(b, []byte("Failed with result '")):
		result := b[len("Failed with result '"):]
		if q := bytes.IndexByte(result, '\''); q >= 0 {
			result = result[:q]
		}
		switch string(result) {
		case "oom-kill":
			ev.Class = ClassOOMKill
		case "exit-code", "signal", "core-dump":
			ev.Class = ClassProcessExit
		}
	case bytes.HasPrefix(b, []byte("A process of this unit has been killed by the OOM killer")) ||
		(bytes.HasPrefix(b, []byte("systemd-oomd killed ")) && bytes.HasSuffix(b, []byte("in this unit."))):
		ev.Class = ClassOOMKill
	case bytes.HasPrefix(b, []byte("Scheduled restart job")) || bytes.HasSuffix(b, []byte("scheduling restart.")):
		// "Service has no hold-off time (RestartSec=0), scheduling restart."
		// Old systemd (< 236): "app.service holdoff time over, scheduling restart."
		ev.Class = ClassRestart
		unitBefore(b, " holdoff time over", ev)
	case bytes.HasPrefix(b, []byte("Started ")) || bytes.HasPrefix(b, []byte("Starting ")):
		ev.Class = ClassStart
		unitAfterVerb(b, ev)
	case bytes.HasPrefix(b, []byte("Stopped ")) || bytes.HasPrefix(b, []byte("Stopping ")):
		ev.Class = ClassStop
		unitAfterVerb(b, ev)
	case bytes.HasPrefix(b, []byte("Deactivated successfully")) || bytes.HasPrefix(b, []byte("Succeeded.")):
		// "Succeeded." is the wording of systemd < 249.
		ev.Class = ClassStop
	case bytes.HasPrefix(b, []byte("Killing process ")):
		// "Killing process 1234 (python3) with signal SIGKILL." while
		// stopping a unit whose processes outlived the stop timeout.
		ev.Class = ClassStop
		rest := b[len("Killing process "):]
		victim(rest, ev)
		if i := bytes.Index(rest, []byte("with signal ")); i >= 0 {
			sig := bytes.TrimRight(rest[i+len("with signal "):], ".")
			ev.Signal = linuxSignalByShortName(bytes.TrimPrefix(sig, []byte("SIG")))
		}
	case bytes.HasPrefix(b, []byte("Killed /")):
		// systemd-oomd: "Killed /system.slice/app.service due to memory
		// pressure for ..." / "... due to memory used (...) / total ...";
		// pasted lines are often cut after the cgroup path.
		ev.Class = ClassOOMKill
		path := b[len("Killed "):]
		if sp := bytes.IndexByte(path, ' '); sp > 0 {
			path = path[:sp]
		}
		if i := bytes.LastIndexByte(path, '/'); i >= 0 && isUnitName(path[i+1:]) {
			ev.Unit = aliasStr(path[i+1:])
		}
	case bytes.HasPrefix(b, []byte("Unit ")) && bytes.HasSuffix(b, []byte(" entered failed state.")):
		// systemd < 230: "Unit app.service entered failed state."
		unitBefore(b[len("Unit "):], " entered failed state.", ev)
	case bytes.HasPrefix(b, []byte("Consumed ")):
		// "Consumed 2.1s CPU time, 120.5M memory peak." (systemd >= 254).
		if i := bytes.Index(b, []byte(" memory peak")); i > 0 {
			ev.MemoryKB = sizeKB(b[bytes.LastIndexByte(b[:i], ' ')+1 : i])
		}
	}
}

// exitStatus reads "code=killed, status=9/KILL" / "code=exited,
// status=1/FAILURE" / "code=dumped, status=11/SEGV".
func exitStatus(b []byte, ev *Event) {
	i := bytes.Index(b, []byte("status="))
	if i < 0 {
		return
	}
	v, n := leadingInt(b[i+len("status="):])
	if n == 0 {
		return
	}
	name := b[i+len("status=")+n:]
	if len(name) > 0 && name[0] == '/' {
		name = name[1:]
		if e := bytes.IndexAny(name, ".,; "); e >= 0 {
			name = name[:e]
		}
	} else {
		name = nil
	}
	if bytes.Contains(b, []byte("code=killed")) || bytes.Contains(b, []byte("code=dumped")) {
		if s := linuxSignal(int(v)); s != "" {
			ev.Signal = s
		} else {
			ev.Signal = linuxSignalByShortName(name)
		}
		return
	}
	ev.ExitCode = int(v)
}

// unitAfterVerb fills Unit from "Started app.service - Description." (systemd
// >= 250 names the unit; older versions write only the description, which
// unwrap's journal UNIT field makes up for).
func unitAfterVerb(b []byte, ev *Event) {
	sp := bytes.IndexByte(b, ' ')
	rest := b[sp+1:]
	end := len(rest)
	if i := bytes.IndexByte(rest, ' '); i >= 0 {
		end = i
	}
	name := bytes.TrimRight(rest[:end], ".")
	if isUnitName(name) {
		ev.Unit = aliasStr(name)
	}
}

func unitBefore(b []byte, marker string, ev *Event) {
	if i := bytes.Index(b, []byte(marker)); i > 0 && isUnitName(b[:i]) {
		ev.Unit = aliasStr(b[:i])
	}
}

// sizeKB reads systemd's human sizes ("120.5M", "1.2G", "512K", "300B").
func sizeKB(b []byte) int64 {
	whole, n := leadingInt(b)
	if n == 0 {
		return Absent
	}
	var frac, scale int64 = 0, 1
	rest := b[n:]
	if len(rest) > 0 && rest[0] == '.' {
		f, m := leadingInt(rest[1:])
		for range m {
			scale *= 10
		}
		frac, rest = f, rest[1+m:]
	}
	if len(rest) != 1 {
		return Absent
	}
	var mult int64
	switch rest[0] {
	case 'B':
		return (whole*scale + frac) / scale / 1024
	case 'K':
		mult = 1
	case 'M':
		mult = 1024
	case 'G':
		mult = 1024 * 1024
	case 'T':
		mult = 1024 * 1024 * 1024
	default:
		return Absent
	}
	return (whole*scale + frac) * mult / scale
}

// hasSystemdTag reports whether b starts with PID 1's or systemd-oomd's tag.
func hasSystemdTag(b []byte) bool {
	return bytes.HasPrefix(b, []byte("systemd[")) || bytes.HasPrefix(b, []byte("systemd-oomd["))
}

// looksLikeSystemd sniffs systemd's unit messages for auto detection when no
// tag said "systemd".
func looksLikeSystemd(b []byte) bool {
	if hasSystemdTag(b) {
		return true
	}
	c := bytes.Index(b, []byte(": "))
	if c <= 0 || !isUnitName(b[:c]) {
		return false
	}
	rest := b[c+2:]
	for _, p := range [...]string{"Main process exited", "Control process exited", "Failed with result",
		"Scheduled restart job", "A process of this unit", "Consumed ", "Deactivated successfully",
		"Killing process ", "Succeeded.", "Unit entered failed state", "main process exited"} {
		if bytes.HasPrefix(rest, []byte(p)) {
			return true
		}
	}
	return false
}
