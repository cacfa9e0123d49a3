package parser

// The kernel: the OOM killer above all (the most common reason an upstream
// vanishes mid-request), segfaults, and everything else as "other" so the
// evidence is kept. Lines arrive as /dev/kmsg records, raw dmesg, dmesg -T,
// dmesg --time-format iso and kern.log / journal (the last three have their
// stamp stripped by unwrap).
//
// One OOM kill writes about 80 lines (measured here on 6.18, see
// testdata/kernel/real/README.md); three of them matter: "<comm> invoked
// oom-killer" (oom_invoked), the "oom-kill:constraint=..." summary that
// names the memory cgroup (oom_kill, or container_oom when the cgroup is a
// container's), and "[Memory cgroup ]Out of memory: Killed process N (comm)
// ... anon-rss:NkB" (oom_kill).

import (
	"bytes"
	"errors"
	"time"
)

var errEmptyKernel = errors.New("empty kernel line")

var syslogLevels = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

func (p *Parser) parseKernel(line []byte, ev *Event) error {
	t, level, msg := p.kernelStamp(line)
	if !t.IsZero() {
		ev.Time = t
	}
	ev.Level = level
	msg = bytes.TrimRight(msg, " \r\n")
	if len(msg) == 0 {
		return errEmptyKernel
	}
	ev.Kind = KindUpstreamEvent
	ev.Message = aliasStr(msg)
	classifyKernel(msg, ev)
	return nil
}

// kernelStamp strips what the kernel's ring buffer puts before a message: a
// /dev/kmsg header (with its priority, returned as a level) or a dmesg
// stamp. The time is zero when the line had neither.
func (p *Parser) kernelStamp(line []byte) (time.Time, string, []byte) {
	if level, n := dmesgDecoded(line); n > 0 {
		t, _, rest := p.kernelStamp(line[n:])
		return t, level, rest
	}
	if prio, usec, rest, ok := kmsgHeader(line); ok {
		// "\n KEY=value" dictionary lines may follow the message.
		if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
			rest = rest[:nl]
		}
		return p.sinceBoot(time.Duration(usec) * time.Microsecond), syslogLevels[prio&7], rest
	}
	if t, n, ok := p.dmesgStamp(line); ok {
		return t, "", line[n:]
	}
	return time.Time{}, "", line
}

// dmesgDecoded reads the "kern  :err   : " prefix of dmesg -x (--decode):
// facility and level names, each padded to six columns. It returns the
// level and the prefix length, or 0.
func dmesgDecoded(b []byte) (string, int) {
	c := bytes.IndexByte(b, ':')
	if c < 4 || c > 8 || b[0] < 'a' || b[0] > 'z' {
		return "", 0
	}
	for _, ch := range bytes.TrimRight(b[:c], " ") {
		if ch < 'a' || ch > 'z' {
			return "", 0
		}
	}
	rest := b[c+1:]
	c2 := bytes.IndexByte(rest, ':')
	if c2 < 4 || c2 > 8 || c2+1 >= len(rest) || rest[c2+1] != ' ' {
		return "", 0
	}
	lvl := bytes.TrimRight(rest[:c2], " ")
	if string(lvl) == "warn" { // dmesg's short name
		return "warning", c + 1 + c2 + 2
	}
	for _, l := range syslogLevels {
		if string(lvl) == l {
			return l, c + 1 + c2 + 2
		}
	}
	return "", 0
}

// kernelMessage is kernelStamp without the time, for detection.
func kernelMessage(line []byte) []byte {
	if _, n := dmesgDecoded(line); n > 0 {
		line = line[n:]
	}
	if _, _, rest, ok := kmsgHeader(line); ok {
		return rest
	}
	if n := kernelBracketLen(line); n > 0 {
		return line[n:]
	}
	if len(line) >= 27 && line[0] == '[' && line[4] == ' ' && line[25] == ']' && monthIndex(line[5:]) > 0 {
		return line[27:]
	}
	return line
}

// kmsgHeader splits a /dev/kmsg record header.
func kmsgHeader(b []byte) (prio int, usec int64, msg []byte, ok bool) {
	v, n := leadingInt(b)
	if n == 0 || n >= len(b) || b[n] != ',' {
		return 0, 0, nil, false
	}
	prio = int(v)
	b = b[n+1:]
	if _, n = leadingInt(b); n == 0 || n >= len(b) || b[n] != ',' {
		return 0, 0, nil, false
	}
	b = b[n+1:]
	usec, n = leadingInt(b)
	if n == 0 || n >= len(b) || b[n] != ',' {
		return 0, 0, nil, false
	}
	b = b[n+1:]
	semi := bytes.IndexByte(b, ';')
	if semi < 0 || semi > 32 {
		return 0, 0, nil, false
	}
	return prio, usec, b[semi+1:], true
}

// dmesgStamp reads the stamps dmesg puts before a message: raw "[ 123.456789] "
// (boot-relative), with an optional printk caller id "[T123] ", and dmesg -T's
// "[Wed Nov 25 16:35:48 2026] " in the local zone.
func (p *Parser) dmesgStamp(b []byte) (time.Time, int, bool) {
	if len(b) < 3 || b[0] != '[' {
		return time.Time{}, 0, false
	}
	if n := kernelBracketLen(b); n > 0 {
		end := bytes.IndexByte(b, ']')
		d, _ := parseBootSeconds(bytes.TrimLeft(b[1:end], " "))
		// CONFIG_PRINTK_CALLER: "[  1.2][   T1] msg" or "[  1.2] [   T1] msg".
		n += callerIDLen(b[n:])
		return p.sinceBoot(d), n, true
	}
	// dmesg -T: "[Www Mmm dd hh:mm:ss yyyy] ", day space-padded.
	if len(b) >= 26 && b[4] == ' ' && b[25] == ']' {
		t, _, ok := parseSyslogTime(b[5:20], p.now, p.opts.Location) // the year follows
		year, ok2 := digitsN(b, 21, 4)
		if ok && ok2 && b[20] == ' ' {
			t = time.Date(year, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, t.Location())
			n := 26
			if n < len(b) && b[n] == ' ' {
				n++
			}
			return t, n, true
		}
	}
	return time.Time{}, 0, false
}

// callerIDLen returns the length of a printk caller id "[   T123] " or "[C1] ".
func callerIDLen(b []byte) int {
	if len(b) < 4 || b[0] != '[' {
		return 0
	}
	i := 1
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i >= len(b) || (b[i] != 'T' && b[i] != 'C') {
		return 0
	}
	_, n := leadingInt(b[i+1:])
	i += 1 + n
	if n == 0 || i >= len(b) || b[i] != ']' {
		return 0
	}
	i++
	if i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

func classifyKernel(msg []byte, ev *Event) {
	ev.Class = ClassOther
	switch {
	case bytes.HasPrefix(msg, []byte("oom-kill:")):
		oomKillSummary(msg, ev)
	case bytes.Contains(msg, []byte(" invoked oom-killer")):
		i := bytes.Index(msg, []byte(" invoked oom-killer"))
		ev.Class = ClassOOMInvoked
		ev.Process = aliasStr(msg[:i])
	case bytes.Contains(msg, []byte("Killed process ")):
		// "Out of memory: Killed process", "Memory cgroup out of memory:
		// Killed process" and the bare "Killed process" of kernels < 4.x.
		ev.Class = ClassOOMKill
		victim(msg[bytes.Index(msg, []byte("Killed process "))+len("Killed process "):], ev)
	case bytes.Contains(msg, []byte("out of memory: Kill process ")) || bytes.Contains(msg, []byte("Out of memory: Kill process ")):
		// Kernels before 5.x first name the victim ("Kill process N (comm)
		// score S or sacrifice child"), then log "Killed process".
		ev.Class = ClassOOMKill
		victim(msg[bytes.Index(msg, []byte("Kill process "))+len("Kill process "):], ev)
	case bytes.HasPrefix(msg, []byte("Task in ")) && bytes.Contains(msg[len("Task in "):], []byte(" killed as a result of limit of ")):
		// Kernels before 4.19: "Task in /docker/<id> killed as a result of
		// limit of /docker/<id>" names the cgroup of the victim.
		path := msg[len("Task in "):]
		memcgOwner(path[:bytes.Index(path, []byte(" killed as a result of limit of "))], ev)
		ev.Class = ClassOOMKill
		if ev.Container != "" {
			ev.Class = ClassContainerOOM
		}
	case bytes.HasPrefix(msg, []byte("oom_reaper: reaped process ")):
		victim(msg[len("oom_reaper: reaped process "):], ev)
	case bytes.Contains(msg, []byte(": segfault at ")) || bytes.HasPrefix(msg, []byte("traps: ")) ||
		bytes.Contains(msg, []byte("] general protection fault")) || bytes.Contains(msg, []byte("]: trap ")):
		crashLine(msg, ev)
	case bytes.HasPrefix(msg, []byte("CPU: ")) && bytes.Contains(msg, []byte(" PID: ")):
		// "CPU: 0 UID: 0 PID: 16233 Comm: py worker (api) Not tainted ...",
		// right after "invoked oom-killer": the only line with the
		// invoking task's pid. Older kernels: "CPU: 2 PID: 25671 Comm: ...".
		i := bytes.Index(msg, []byte(" PID: "))
		if v, n := leadingInt(msg[i+len(" PID: "):]); n > 0 {
			ev.PID = int(v)
			rest := msg[i+len(" PID: ")+n:]
			if bytes.HasPrefix(rest, []byte(" Comm: ")) {
				comm := rest[len(" Comm: "):]
				for _, tail := range [...]string{" Not tainted", " Tainted:"} {
					if e := bytes.Index(comm, []byte(tail)); e >= 0 {
						ev.Process = aliasStr(comm[:e])
						break
					}
				}
			}
		}
	case bytes.HasPrefix(msg, []byte("memory: usage ")):
		// "memory: usage 65536kB, limit 65536kB, failcnt 310": the limit hit.
		if i := bytes.Index(msg, []byte("limit ")); i > 0 {
			if v, n := leadingInt(msg[i+len("limit "):]); n > 0 {
				ev.MemoryKB = v
			}
		}
	}
}

// victim reads "N (comm) ..." where comm is the task name, at most 15 bytes,
// and may itself hold spaces, brackets and ") ". The end of the name is
// found from what the kernel writes after it, not from the first ')'.
func victim(b []byte, ev *Event) {
	pid, n := leadingInt(b)
	if n == 0 {
		return
	}
	rest := b[n:]
	// 2.6.32 kernels write "Killed process N, UID U, (comm) ...".
	if bytes.HasPrefix(rest, []byte(", UID ")) {
		if _, m := leadingInt(rest[len(", UID "):]); m > 0 {
			rest = bytes.TrimPrefix(rest[len(", UID ")+m:], []byte(","))
		}
	}
	if len(rest) < 2 || rest[0] != ' ' || rest[1] != '(' {
		return
	}
	ev.PID = int(pid)
	rest = rest[2:]
	end := -1
	for _, tail := range [...]string{") total-vm:", ") score ", "), ", ") UID ", ") with signal "} {
		if i := bytes.Index(rest, []byte(tail)); i >= 0 && (end < 0 || i < end) {
			end = i
		}
	}
	if end < 0 {
		end = bytes.LastIndexByte(rest, ')')
	}
	if end < 0 {
		return
	}
	ev.Process = aliasStr(rest[:end])
	if i := bytes.Index(rest[end:], []byte("anon-rss:")); i >= 0 {
		if v, n := leadingInt(rest[end+i+len("anon-rss:"):]); n > 0 {
			ev.MemoryKB = v
		}
	}
}

// oomKillSummary reads "oom-kill:constraint=C,nodemask=...,cpuset=...,
// mems_allowed=...,oom_memcg=/x,task_memcg=/x,task=comm,pid=N,uid=U"
// (kernel 4.19+). The task name sits between ",task=" and the last ",pid=".
func oomKillSummary(msg []byte, ev *Event) {
	ev.Class = ClassOOMKill
	pidAt := bytes.LastIndex(msg, []byte(",pid="))
	if pidAt < 0 {
		return
	}
	if v, n := leadingInt(msg[pidAt+len(",pid="):]); n > 0 {
		ev.PID = int(v)
	}
	taskAt := bytes.Index(msg, []byte(",task="))
	if taskAt < 0 || taskAt > pidAt {
		return
	}
	ev.Process = aliasStr(msg[taskAt+len(",task=") : pidAt])
	if i := bytes.Index(msg[:taskAt], []byte("task_memcg=")); i >= 0 {
		memcgOwner(msg[i+len("task_memcg="):taskAt], ev)
	}
	if ev.Container != "" {
		ev.Class = ClassContainerOOM
	}
}

// memcgOwner names the container or systemd unit a memory cgroup path
// belongs to. Paths seen in the wild:
//
//	/docker/<id>                                   (cgroupfs driver)
//	/system.slice/docker-<id>.scope                (systemd driver)
//	/kubepods/burstable/pod<uid>/<id>              (cgroupfs)
//	/kubepods.slice/.../cri-containerd-<id>.scope  (also crio-, docker-)
//	/machine.slice/libpod-<id>.scope               (podman)
//	/lxc/<name>, /lxc.payload.<name>
//	/system.slice/nginx.service                    (a plain unit)
func memcgOwner(path []byte, ev *Event) {
	path = bytes.TrimRight(path, "/")
	last := path
	if i := bytes.LastIndexByte(path, '/'); i >= 0 {
		last = path[i+1:]
	}
	container := func(id []byte) {
		if len(id) > 0 {
			ev.Container = aliasStr(id)
		}
	}
	switch {
	case bytes.HasSuffix(last, []byte(".scope")):
		name := last[:len(last)-len(".scope")]
		for _, pre := range [...]string{"docker-", "cri-containerd-", "crio-", "libpod-", "containerd-"} {
			if bytes.HasPrefix(name, []byte(pre)) {
				container(name[len(pre):])
				return
			}
		}
		if bytes.Contains(path, []byte("kubepods")) {
			container(name)
		}
	case bytes.HasSuffix(last, []byte(".service")):
		ev.Unit = aliasStr(last)
	case bytes.HasPrefix(path, []byte("/docker/")) || bytes.HasPrefix(path, []byte("/lxc/")) ||
		bytes.HasPrefix(path, []byte("/ecs/")):
		container(last)
	case bytes.HasPrefix(last, []byte("lxc.payload.")):
		container(last[len("lxc.payload."):])
	case bytes.Contains(path, []byte("kubepods")) && !bytes.HasPrefix(last, []byte("pod")) &&
		!bytes.HasPrefix(last, []byte("kubepods")) && string(last) != "burstable" && string(last) != "besteffort":
		container(last)
	}
}

// crashLine reads "comm[pid]: segfault at ...", "traps: comm[pid] general
// protection fault ..." and "comm[pid]: trap invalid opcode ...".
func crashLine(msg []byte, ev *Event) {
	ev.Class = ClassCrash
	b := bytes.TrimPrefix(msg, []byte("traps: "))
	// The pid bracket is the last "[digits]" before the fault text.
	end := bytes.Index(b, []byte(": segfault at "))
	if end < 0 {
		end = bytes.Index(b, []byte(" general protection fault"))
	}
	if end < 0 {
		end = bytes.Index(b, []byte(": trap "))
	}
	if end <= 0 || b[end-1] != ']' {
		return
	}
	open := bytes.LastIndexByte(b[:end], '[')
	if open <= 0 {
		return
	}
	if v, n := leadingInt(b[open+1 : end-1]); n > 0 && n == end-1-open-1 {
		ev.PID = int(v)
		ev.Process = aliasStr(b[:open])
	}
	ev.Signal = "SIGSEGV"
	if !bytes.Contains(b[end:], []byte("segfault")) && bytes.Contains(b[end:], []byte("invalid opcode")) {
		ev.Signal = "SIGILL"
	}
}

// looksLikeKernel sniffs a line for auto detection when no syslog tag said
// "kernel": a /dev/kmsg record, a dmesg stamp, or OOM-killer wording.
func looksLikeKernel(b []byte) bool {
	if _, _, _, ok := kmsgHeader(b); ok {
		return true
	}
	if _, n := dmesgDecoded(b); n > 0 {
		return true
	}
	if len(b) > 0 && b[0] == '[' {
		if kernelBracketLen(b) > 0 {
			return true
		}
		// dmesg -T
		if len(b) >= 26 && b[4] == ' ' && b[25] == ']' && monthIndex(b[5:]) > 0 {
			return true
		}
	}
	// Kernel wording at the start of the line: the same text quoted inside
	// a Kubernetes event ("Warning OOMKilling ... Memory cgroup out of
	// memory: ...") belongs to that event's source.
	for _, p := range [...]string{"Out of memory: Kill", "Memory cgroup out of memory: Kill", "oom-kill:constraint=",
		"oom_reaper: reaped process ", "Task in /"} {
		if bytes.HasPrefix(b, []byte(p)) {
			return true
		}
	}
	if bytes.HasPrefix(b, []byte("Killed process ")) {
		return bytes.Contains(b, []byte("total-vm:"))
	}
	// "<comm> invoked oom-killer:" and "<comm>[pid]: segfault at": the task
	// name (at most 15 bytes) comes first.
	if i := bytes.Index(b, []byte(" invoked oom-killer")); i > 0 && i <= 15 {
		return true
	}
	if i := bytes.Index(b, []byte("]: segfault at ")); i > 0 && i <= 24 {
		return true
	}
	return false
}
