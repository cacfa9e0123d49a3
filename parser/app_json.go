package parser

// Structured application logs: one JSON object per line, as pino, bunyan,
// winston's json format, zap, logrus, structlog and python-json-logger
// write them. The failure is in the message and the error object
// ({"err":{"code":"ECONNREFUSED","address":"10.0.0.5","port":5432}}), the
// time in "time"/"ts"/"timestamp" (epoch milliseconds, epoch seconds or an
// ISO string).

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// parseJSONApp fills ev from a JSON object line and reports whether line
// was one. encoding/json allocates; structured app logs are not the access
// log's hot path.
func (p *Parser) parseJSONApp(line []byte, ev *Event) bool {
	s := trimSpace(line)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(s, &m); err != nil {
		return false
	}
	msg := jsonFirstString(m, "msg", "message", "@message", "event", "MESSAGE")
	ev.Kind = KindUpstreamEvent
	ev.Message = msg
	ev.Level = jsonLevel(m)
	ev.Time = jsonTime(m, p.opts.Location)
	if v, ok := jsonInt(m["pid"]); ok {
		ev.PID = int(v)
	}
	ev.Hostname = jsonFirstString(m, "hostname", "host")
	ev.App = jsonFirstString(m, "name", "service", "app")

	// The text to classify: the message and every error field, raw (the
	// error object's "code" and "syscall" are what Node libraries set).
	text := []byte(msg)
	var errObj map[string]json.RawMessage
	for _, k := range [...]string{"err", "error", "exc_info", "exception", "stack", "stacktrace", "error.message"} {
		raw, ok := m[k]
		if !ok {
			continue
		}
		text = append(text, '\n')
		var str string
		if json.Unmarshal(raw, &str) == nil {
			text = append(text, str...)
		} else {
			text = append(text, raw...)
			if errObj == nil {
				_ = json.Unmarshal(raw, &errObj)
			}
		}
	}
	classifyText(text, ev)
	if ev.Dependency == "" && (ev.Class == ClassDependencyRefused || ev.Class == ClassDependencyTimeout) && errObj != nil {
		addr := jsonFirstString(errObj, "address", "host")
		if port, ok := jsonInt(errObj["port"]); ok && addr != "" {
			ev.Dependency = joinHostPort(addr, port)
		}
	}
	if ev.Class == ClassOther && (hasPrefix(text, "listening") || hasPrefix(text, "Listening") || hasPrefix(text, "server started")) {
		// slog/zap style: the address is a field, not in the message.
		ev.Class = ClassStart
		ev.Upstream = jsonFirstString(m, "addr", "address", "listen", "url")
		if port, ok := jsonInt(m["port"]); ok && ev.Upstream == "" {
			ev.Upstream = ":" + itoa(port)
		}
	}
	if ev.Class == ClassOther {
		switch ev.Level {
		case "fatal", "FATAL", "panic", "PANIC", "CRITICAL", "critical":
			// A fatal record is a process's last words.
			ev.Class = ClassCrash
		}
	}
	return true
}

func jsonFirstString(m map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		raw, ok := m[k]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

func jsonInt(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || math.Abs(f) > 1<<53 {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	}
	return int64(f), true
}

// pinoLevels are pino's and bunyan's numeric levels.
var pinoLevels = map[int64]string{10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}

func jsonLevel(m map[string]json.RawMessage) string {
	for _, k := range [...]string{"level", "severity", "lvl", "levelname", "log.level"} {
		raw, ok := m[k]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		if v, ok := jsonInt(raw); ok {
			return pinoLevels[v]
		}
	}
	return ""
}

// jsonTime reads epoch milliseconds (pino), epoch seconds with a fraction
// (zap), or an ISO string (bunyan, logrus, structlog).
func jsonTime(m map[string]json.RawMessage, loc *time.Location) time.Time {
	for _, k := range [...]string{"time", "ts", "timestamp", "@timestamp", "asctime"} {
		raw, ok := m[k]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if t, _, ok := appISOTime([]byte(s), loc); ok {
				return t
			}
			continue
		}
		var f float64
		if json.Unmarshal(raw, &f) != nil || f <= 0 || math.IsInf(f, 0) {
			continue
		}
		switch {
		case f > 1e17: // nanoseconds
			return time.Unix(0, int64(f)).UTC()
		case f > 1e11: // milliseconds
			return time.UnixMilli(int64(f)).UTC()
		case f < 1e11 && f > 1e8: // seconds
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(frac*1e9)).UTC()
		}
	}
	return time.Time{}
}
