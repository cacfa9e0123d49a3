package parser

// Kubernetes as users paste it: `kubectl get events` rows, `kubectl
// describe pod` lines (container state and the Events table), `kubectl get
// pods` rows, and kubelet's own klog lines. kubectl pads its columns with
// at least two spaces (tabwriter), which is what separates them here: a
// message may hold single spaces, a column boundary never does.

import (
	"bytes"
	"errors"
	"time"
)

var errNotKubernetes = errors.New("not a kubernetes line")

// maxColumns bounds the columns read from one table row.
const maxColumns = 12

// columns splits a kubectl table row at runs of two or more spaces (or
// tabs) and returns the start offsets of the columns.
func columns(b []byte, starts *[maxColumns]int, ends *[maxColumns]int) int {
	n := 0
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	for i < len(b) && n < maxColumns {
		start := i
		for i < len(b) {
			if b[i] == '\t' || (b[i] == ' ' && i+1 < len(b) && (b[i+1] == ' ' || b[i+1] == '\t')) {
				break
			}
			i++
		}
		starts[n], ends[n] = start, i
		n++
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
	}
	return n
}

func (p *Parser) parseKubernetes(line []byte, ev *Event) error {
	line = bytes.TrimRight(line, " \r\n")
	if len(line) == 0 {
		return errNotKubernetes
	}
	if sev, ok := klogHeader(line); ok {
		return p.parseKubelet(line, sev, ev)
	}
	trimmed := bytes.TrimLeft(line, " \t")
	if key, val, ok := describeField(trimmed); ok {
		ev.Kind = KindUpstreamEvent
		ev.Class = ClassOther
		ev.Message = aliasStr(trimmed)
		describeClass(key, val, ev)
		return nil
	}
	var starts, ends [maxColumns]int
	n := columns(line, &starts, &ends)
	col := func(i int) []byte { return line[starts[i]:ends[i]] }
	for i := 0; i < n-1; i++ {
		typ := col(i)
		var reason []byte
		switch {
		case string(typ) == "Normal" || string(typ) == "Warning":
			reason = col(i + 1)
		case bytes.HasPrefix(typ, []byte("Normal ")) || bytes.HasPrefix(typ, []byte("Warning ")):
			// "Warning OOMKilling  message": one space where kubectl
			// usually pads with two (seen in the Kubernetes docs).
			sp := bytes.IndexByte(typ, ' ')
			reason = typ[sp+1:]
			typ = typ[:sp]
			if bytes.IndexByte(reason, ' ') >= 0 {
				continue
			}
			i-- // the message column follows this one directly
		default:
			continue
		}
		ev.Kind = KindUpstreamEvent
		ev.Level = aliasStr(typ)
		msgCol := -1
		switch {
		case i+2 < n && bytes.IndexByte(col(i+2), '/') > 0 && i+3 < n:
			// get events: TYPE REASON OBJECT MESSAGE
			obj := col(i + 2)
			if slash := bytes.IndexByte(obj, '/'); string(obj[:slash]) == "pod" {
				ev.App = aliasStr(obj[slash+1:])
			}
			msgCol = i + 3
		case i+4 < n:
			// describe: TYPE REASON AGE FROM MESSAGE
			msgCol = i + 4
		case i+2 < n:
			msgCol = n - 1
		}
		if msgCol >= 0 {
			ev.Message = aliasStr(line[starts[msgCol]:])
		}
		eventReasonClass(reason, []byte(ev.Message), ev)
		return nil
	}
	// get pods: NAME READY STATUS RESTARTS AGE
	if n >= 4 && readyColumn(col(1)) {
		ev.Kind = KindUpstreamEvent
		ev.Class = ClassOther
		ev.App = aliasStr(col(0))
		ev.Message = aliasStr(trimmed)
		podStatusClass(col(2), ev)
		return nil
	}
	return errNotKubernetes
}

// eventReasonClass classifies an event by its reason (and message where the
// reason is too broad).
func eventReasonClass(reason, msg []byte, ev *Event) {
	ev.Class = ClassOther
	switch string(reason) {
	case "OOMKilling", "OOMKilled":
		// node-problem-detector copies the kernel line into the message.
		ev.Class = ClassContainerOOM
		if i := bytes.Index(msg, []byte("Killed process ")); i >= 0 {
			victim(msg[i+len("Killed process "):], ev)
		} else if i := bytes.Index(msg, []byte("Kill process ")); i >= 0 {
			victim(msg[i+len("Kill process "):], ev)
		}
	case "SystemOOM":
		// "System OOM encountered, victim process: java, pid: 1234"
		ev.Class = ClassOOMKill
		if i := bytes.Index(msg, []byte("victim process: ")); i >= 0 {
			proc := msg[i+len("victim process: "):]
			if c := bytes.Index(proc, []byte(", pid: ")); c >= 0 {
				ev.Process = aliasStr(proc[:c])
				if v, n := leadingInt(proc[c+len(", pid: "):]); n > 0 {
					ev.PID = int(v)
				}
			}
		}
	case "BackOff":
		if bytes.Contains(msg, []byte("restarting failed container")) {
			ev.Class = ClassRestart
		}
	case "Unhealthy":
		ev.Class = ClassProbeFailed
	case "Killing":
		ev.Class = ClassStop
		if bytes.Contains(msg, []byte("will be restarted")) {
			ev.Class = ClassRestart // "Container web failed liveness probe, will be restarted"
		}
	case "Started":
		ev.Class = ClassStart
	case "Evicted", "Preempting":
		ev.Class = ClassStop
	default:
		// "FailedSync ... with CrashLoopBackOff: Back-off 10s restarting
		// failed container=..." (kubelet < 1.10) is a back-off too.
		if bytes.Contains(msg, []byte("restarting failed container")) {
			ev.Class = ClassRestart
		}
	}
}

// describeField reads "Key:   value" lines of kubectl describe that carry a
// container's fate.
func describeField(b []byte) (key, val []byte, ok bool) {
	for _, k := range [...]string{"Reason:", "Exit Code:", "Last State:", "State:", "Restart Count:", "Signal:"} {
		if bytes.HasPrefix(b, []byte(k)) {
			v := bytes.TrimLeft(b[len(k):], " \t")
			if len(v) == 0 || (len(v) == len(b)-len(k) && len(v) > 0) {
				return nil, nil, false // "Reason:x": not kubectl's padding
			}
			return b[:len(k)-1], v, true
		}
	}
	return nil, nil, false
}

func describeClass(key, val []byte, ev *Event) {
	switch string(key) {
	case "Reason":
		podStatusClass(val, ev)
	case "Exit Code":
		if v, n := leadingInt(val); n > 0 && n == len(val) {
			ev.Class = ClassProcessExit
			ev.ExitCode = int(v)
			if v > 128 {
				ev.Signal = linuxSignal(int(v) - 128)
			}
		}
	case "Signal":
		if v, n := leadingInt(val); n > 0 && n == len(val) {
			ev.Class = ClassProcessExit
			ev.Signal = linuxSignal(int(v))
		}
	}
}

// podStatusClass classifies a container/pod status word (describe's
// Reason:, get pods' STATUS).
func podStatusClass(status []byte, ev *Event) {
	switch string(status) {
	case "OOMKilled":
		ev.Class = ClassContainerOOM
	case "CrashLoopBackOff":
		ev.Class = ClassRestart
	case "Error", "Completed", "ContainerCannotRun", "StartError":
		ev.Class = ClassProcessExit
	case "Terminating":
		ev.Class = ClassStop
	}
}

func readyColumn(b []byte) bool {
	slash := bytes.IndexByte(b, '/')
	if slash <= 0 {
		return false
	}
	_, n1 := leadingInt(b)
	_, n2 := leadingInt(b[slash+1:])
	return n1 == slash && n2 > 0 && slash+1+n2 == len(b)
}

// klogHeader reads klog's "Lmmdd hh:mm:ss.uuuuuu" prefix (L is I, W, E or F).
func klogHeader(b []byte) (byte, bool) {
	if len(b) < 22 || (b[0] != 'I' && b[0] != 'W' && b[0] != 'E' && b[0] != 'F') || b[5] != ' ' ||
		b[8] != ':' || b[11] != ':' || b[14] != '.' {
		return 0, false
	}
	if _, ok := digitsN(b, 1, 4); !ok {
		return 0, false
	}
	return b[0], true
}

func klogLevel(sev byte) string {
	switch sev {
	case 'I':
		return "info"
	case 'W':
		return "warning"
	case 'E':
		return "error"
	}
	return "fatal"
}

// parseKubelet reads a klog line: "E1125 14:03:01.123456    1234
// file.go:123] message". Since 1.21 kubelet writes structured messages
// ("Probe failed" probeType="Liveness" pod="ns/name" containerName="web"),
// older ones free text.
func (p *Parser) parseKubelet(line []byte, sev byte, ev *Event) error {
	month, _ := digitsN(line, 1, 2)
	day, _ := digitsN(line, 3, 2)
	hour, ok1 := digitsN(line, 6, 2)
	minute, ok2 := digitsN(line, 9, 2)
	sec, ok3 := digitsN(line, 12, 2)
	if !(ok1 && ok2 && ok3) || month < 1 || month > 12 || day < 1 || day > 31 {
		return errNotKubernetes
	}
	us, _ := leadingInt(line[15:])
	ev.Time = p.inferYear(time.Month(month), day, hour, minute, sec, int(us)*1000)
	ev.Level = klogLevel(sev)
	ev.Kind = KindUpstreamEvent
	ev.Class = ClassOther
	msg := line
	if i := bytes.Index(line, []byte("] ")); i > 21 {
		msg = line[i+2:]
		if v, n := leadingInt(bytes.TrimLeft(line[21:i], " ")); n > 0 {
			ev.PID = int(v)
		}
	}
	ev.Message = aliasStr(msg)
	if v := klogValue(msg, "pod"); v != nil {
		if slash := bytes.IndexByte(v, '/'); slash >= 0 {
			v = v[slash+1:]
		}
		ev.App = aliasStr(v)
	}
	if v := klogValue(msg, "containerName"); v != nil {
		ev.Container = aliasStr(v)
	}
	switch {
	case bytes.HasPrefix(msg, []byte(`"Probe failed"`)) || bytes.Contains(msg, []byte(" probe failed")) ||
		(bytes.Contains(msg, []byte("probe for ")) && bytes.Contains(msg, []byte(" failed"))) ||
		(bytes.HasPrefix(msg, []byte(`"SyncLoop (probe)"`)) && (bytes.Contains(msg, []byte(`status="unhealthy"`)) ||
			bytes.Contains(msg, []byte(`status="not ready"`)))):
		ev.Class = ClassProbeFailed
	case bytes.Contains(msg, []byte("restarting failed container")):
		ev.Class = ClassRestart
	case bytes.Contains(msg, []byte("Killing container")) || bytes.Contains(msg, []byte("Killing unwanted pod")):
		ev.Class = ClassStop
	case bytes.Contains(msg, []byte("Event(v1.ObjectReference{")):
		// The kubelet logs each event it records: "...): type: 'Normal'
		// reason: 'Killing' Stopping container web".
		if i := bytes.Index(msg, []byte(" reason: '")); i >= 0 {
			r := msg[i+len(" reason: '"):]
			if q := bytes.IndexByte(r, '\''); q > 0 {
				eventReasonClass(r[:q], r[q+1:], ev)
			}
		}
	case bytes.Contains(msg, []byte("OOMKilled")) || bytes.Contains(msg, []byte("System OOM encountered")):
		ev.Class = ClassContainerOOM
	}
	return nil
}

// klogValue finds key="value" (or key=value) in a structured klog message.
func klogValue(msg []byte, key string) []byte {
	i := 0
	for {
		k := bytes.Index(msg[i:], []byte(key))
		if k < 0 {
			return nil
		}
		k += i
		end := k + len(key)
		if (k == 0 || msg[k-1] == ' ') && end < len(msg) && msg[end] == '=' {
			v := msg[end+1:]
			if len(v) > 0 && v[0] == '"' {
				if q := bytes.IndexByte(v[1:], '"'); q >= 0 {
					return v[1 : q+1]
				}
				return nil
			}
			if sp := bytes.IndexByte(v, ' '); sp >= 0 {
				v = v[:sp]
			}
			return v
		}
		i = end
	}
}

// looksLikeKubernetes sniffs kubectl output and kubelet lines for auto
// detection.
func looksLikeKubernetes(b []byte) bool {
	if bytes.Contains(b, []byte("restarting failed container")) {
		return true
	}
	if _, ok := klogHeader(b); ok {
		return bytes.Contains(b, []byte(" pod=")) || bytes.Contains(b, []byte("probeType=")) ||
			bytes.Contains(b, []byte("kubelet.go")) ||
			bytes.Contains(b, []byte("kuberuntime_")) || bytes.Contains(b, []byte("prober.go")) ||
			bytes.Contains(b, []byte("pod_workers.go"))
	}
	t := bytes.TrimLeft(b, " \t")
	if key, val, ok := describeField(t); ok {
		switch string(key) {
		case "Exit Code", "Last State", "Restart Count":
			return true
		case "Reason", "State":
			switch string(val) {
			case "OOMKilled", "CrashLoopBackOff", "Error", "Completed", "ContainerCannotRun", "StartError",
				"Terminated", "Waiting", "Running", "ImagePullBackOff", "ErrImagePull", "ContainerCreating":
				return true
			}
		}
		return false
	}
	var starts, ends [maxColumns]int
	n := columns(b, &starts, &ends)
	for i := 0; i+1 < n; i++ {
		c := b[starts[i]:ends[i]]
		r := b[starts[i+1]:ends[i+1]]
		if string(c) != "Normal" && string(c) != "Warning" {
			sp := bytes.IndexByte(c, ' ')
			if sp < 0 || (string(c[:sp]) != "Normal" && string(c[:sp]) != "Warning") {
				continue
			}
			r = c[sp+1:] // "Warning OOMKilling": one space only
		}
		return len(r) > 0 && r[0] >= 'A' && r[0] <= 'Z' && bytes.IndexByte(r, ' ') < 0
	}
	if n >= 4 && readyColumn(b[starts[1]:ends[1]]) {
		switch string(b[starts[2]:ends[2]]) {
		case "OOMKilled", "CrashLoopBackOff", "Error", "Completed", "Running", "Terminating", "Pending":
			return true
		}
	}
	return false
}
