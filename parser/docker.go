package parser

// Docker: `docker events` as text ("<time> container <action> <id>
// (k=v, ...)"; unwrap has taken the time off) and as JSON (`docker events
// --format '{{json .}}'`), plus dockerd's own logrus lines when the syslog
// tag says dockerd.

import (
	"bytes"
	"errors"
	"strconv"
	"time"
)

var errNotDocker = errors.New("not a docker event")

func (p *Parser) parseDocker(line []byte, ev *Event) error {
	line = bytes.TrimRight(line, " \r\n")
	switch {
	case len(line) > 0 && line[0] == '{':
		return p.parseDockerJSON(line, ev)
	case bytes.HasPrefix(line, []byte("time=\"")):
		return p.parseLogrus(line, ev)
	}
	// Text events; the stamp is normally gone, but keep one that unwrap
	// could not read (no zone) rather than fail.
	if t, n, ok := parseISOTime(line, p.opts.Location); ok && n < len(line) && line[n] == ' ' {
		ev.Time = t
		line = line[n+1:]
	}
	typ, rest, ok := nextField(line)
	if !ok || !dockerObjectType(typ) {
		return errNotDocker
	}
	// The action may hold ": " ("health_status: unhealthy", "exec_start: sh").
	open := bytes.LastIndex(rest, []byte(" ("))
	head, attrs := rest, []byte(nil)
	if open >= 0 && rest[len(rest)-1] == ')' {
		head, attrs = rest[:open], rest[open+2:len(rest)-1]
	}
	sp := bytes.LastIndexByte(head, ' ')
	if sp <= 0 {
		return errNotDocker
	}
	action, id := head[:sp], head[sp+1:]
	ev.Kind = KindUpstreamEvent
	ev.Message = aliasStr(line)
	if string(typ) == "container" {
		ev.Container = aliasStr(id)
	}
	for len(attrs) > 0 {
		var kv []byte
		if i := bytes.Index(attrs, []byte(", ")); i >= 0 {
			kv, attrs = attrs[:i], attrs[i+2:]
		} else {
			kv, attrs = attrs, nil
		}
		if eq := bytes.IndexByte(kv, '='); eq > 0 {
			dockerAttr(kv[:eq], kv[eq+1:], string(typ) == "container", ev)
		}
	}
	dockerClass(typ, action, ev)
	return nil
}

func dockerObjectType(b []byte) bool {
	switch string(b) {
	case "container", "image", "network", "volume", "daemon", "plugin", "service", "node", "secret", "config":
		return true
	}
	return false
}

// dockerAttr keeps the attributes that identify the container and its exit.
func dockerAttr(k, v []byte, isContainer bool, ev *Event) {
	switch string(k) {
	case "name":
		// A network's or volume's name is not a container.
		if isContainer {
			ev.Container = aliasStr(v)
		}
	case "exitCode", "containerExitCode": // podman names it containerExitCode
		if n, d := leadingInt(v); d > 0 && d == len(v) {
			ev.ExitCode = int(n)
		}
	case "signal":
		if n, d := leadingInt(v); d > 0 && d == len(v) {
			ev.Signal = linuxSignal(int(n))
		} else {
			ev.Signal = linuxSignalByShortName(bytes.TrimPrefix(v, []byte("SIG")))
		}
	case "com.docker.compose.service", "io.kubernetes.pod.name":
		ev.App = aliasStr(v)
	}
}

func dockerClass(typ, action []byte, ev *Event) {
	ev.Class = ClassOther
	if string(typ) != "container" {
		return
	}
	switch string(action) {
	case "oom":
		ev.Class = ClassContainerOOM
	case "die", "died": // podman's Docker-compatible API says "died"
		ev.Class = ClassProcessExit
		if ev.ExitCode > 128 && ev.Signal == "" {
			// Docker reports a signal death as 128+n.
			ev.Signal = linuxSignal(ev.ExitCode - 128)
		}
	case "start", "unpause":
		ev.Class = ClassStart
	case "stop", "kill", "pause":
		ev.Class = ClassStop
	case "restart":
		ev.Class = ClassRestart
	case "health_status: unhealthy":
		ev.Class = ClassProbeFailed
	}
}

// parseDockerJSON reads {"status":"oom","id":"…","Type":"container",
// "Action":"oom","Actor":{"ID":"…","Attributes":{"name":"web",…}},
// "time":1700000000,"timeNano":1700000000123456789}. Docker 25 dropped the
// legacy status/id/from members; Type, Action and Actor are always there.
func (p *Parser) parseDockerJSON(line []byte, ev *Event) error {
	action, ok := objString(line, "Action")
	if !ok {
		if action, ok = objString(line, "status"); !ok {
			return errNotDocker
		}
	}
	typ, ok := objString(line, "Type")
	if !ok {
		// Docker < 1.10 wrote only status, id and from, all about containers.
		id, ok := objString(line, "id")
		if !ok {
			return errNotDocker
		}
		typ = []byte("container")
		ev.Container = aliasStr(id)
	}
	ev.Kind = KindUpstreamEvent
	ev.Message = aliasStr(line)
	if v, _, ok := objField(line, "timeNano"); ok {
		// 19 digits: more than leadingInt reads.
		if n, err := strconv.ParseInt(aliasStr(v), 10, 64); err == nil {
			ev.Time = time.Unix(0, n).UTC()
		}
	} else if v, _, ok := objField(line, "time"); ok {
		if n, d := leadingInt(v); d > 0 && d == len(v) {
			ev.Time = time.Unix(n, 0).UTC()
		}
	}
	actor, _, _ := objField(line, "Actor")
	if id, ok := objString(actor, "ID"); ok && string(typ) == "container" {
		ev.Container = aliasStr(id)
	}
	if attrs, _, ok := objField(actor, "Attributes"); ok {
		for _, k := range [...]string{"name", "exitCode", "containerExitCode", "signal", "com.docker.compose.service", "io.kubernetes.pod.name"} {
			if v, ok := objString(attrs, k); ok {
				dockerAttr([]byte(k), v, string(typ) == "container", ev)
			}
		}
	}
	dockerClass(typ, action, ev)
	return nil
}

// parseLogrus reads dockerd's/containerd's own lines: time="..." level=...
// msg="..." followed by more key=value pairs. They are kept as "other"
// evidence with their level and message.
func (p *Parser) parseLogrus(line []byte, ev *Event) error {
	ev.Kind = KindUpstreamEvent
	ev.Class = ClassOther
	ev.Message = aliasStr(line)
	if t, _, ok := parseISOTime(line[len("time=\""):], p.opts.Location); ok {
		ev.Time = t
	}
	if i := bytes.Index(line, []byte(" level=")); i > 0 {
		lv := line[i+len(" level="):]
		if sp := bytes.IndexByte(lv, ' '); sp >= 0 {
			lv = lv[:sp]
		}
		ev.Level = aliasStr(lv)
	}
	if i := bytes.Index(line, []byte(" msg=\"")); i > 0 {
		m := line[i+len(" msg=\""):]
		for j := 0; j < len(m); j++ {
			if m[j] == '\\' {
				j++
				continue
			}
			if m[j] == '"' {
				ev.Message = aliasStr(m[:j])
				break
			}
		}
	}
	if i := bytes.Index(line, []byte(" container=")); i > 0 {
		c := line[i+len(" container="):]
		if sp := bytes.IndexByte(c, ' '); sp >= 0 {
			c = c[:sp]
		}
		ev.Container = aliasStr(c)
	}
	return nil
}

// looksLikeDocker sniffs docker events (text and JSON) for auto detection.
func looksLikeDocker(b []byte) bool {
	if len(b) > 0 && b[0] == '{' {
		return bytes.Contains(b, []byte(`"Action"`)) && bytes.Contains(b, []byte(`"Actor"`)) &&
			bytes.Contains(b, []byte(`"Type"`)) ||
			// Docker < 1.10
			bytes.HasPrefix(b, []byte(`{"status":`)) && bytes.Contains(b, []byte(`"id":`)) && bytes.Contains(b, []byte(`"timeNano":`))
	}
	if _, n, ok := parseISOTime(b, nil); ok && n < len(b) && b[n] == ' ' {
		b = b[n+1:]
	}
	typ, rest, ok := nextField(b)
	return ok && dockerObjectType(typ) && len(rest) > 0 && rest[len(rest)-1] == ')' && bytes.Contains(rest, []byte(" ("))
}
