package parser

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends ev as one JSON object (no trailing newline) to dst, with
// the field names of the `culprit parse` contract (docs/taxonomy.md). Fields
// the line did not carry are omitted; inside lists an absent value is null so
// positions keep matching $upstream_addr.
func AppendJSON(dst []byte, ev *Event) []byte {
	dst = append(dst, '{')
	dst = appendStr(dst, "kind", string(ev.Kind), true)
	dst = appendStr(dst, "source", string(ev.Source), false)
	dst = appendStr(dst, "class", string(ev.Class), false)
	if !ev.Time.IsZero() {
		dst = append(dst, `,"ts":"`...)
		dst = ev.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, '"')
	}
	dst = appendStr(dst, "hostname", ev.Hostname, false)
	if ev.Kind == KindRequest || ev.Status != 0 {
		dst = appendInt(dst, "status", int64(ev.Status))
	}
	dst = appendStr(dst, "client", ev.Client, false)
	dst = appendStr(dst, "method", ev.Method, false)
	dst = appendStr(dst, "uri", ev.URI, false)
	dst = appendStr(dst, "protocol", ev.Protocol, false)
	if ev.BodyBytes != Absent {
		dst = appendInt(dst, "body_bytes_sent", ev.BodyBytes)
	}
	dst = appendStr(dst, "referer", ev.Referer, false)
	dst = appendStr(dst, "user_agent", ev.UserAgent, false)
	if ev.RequestTime != Absent {
		dst = append(dst, `,"request_time":`...)
		dst = strconv.AppendFloat(dst, ev.RequestTime, 'f', -1, 64)
	}
	if len(ev.UpstreamAddr) > 0 {
		dst = append(dst, `,"upstream_addr":[`...)
		for i, a := range ev.UpstreamAddr {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendQuoted(dst, a)
		}
		dst = append(dst, ']')
	}
	if len(ev.UpstreamStatus) > 0 {
		dst = append(dst, `,"upstream_status":[`...)
		for i, s := range ev.UpstreamStatus {
			if i > 0 {
				dst = append(dst, ',')
			}
			if s == 0 {
				dst = append(dst, "null"...)
			} else {
				dst = strconv.AppendInt(dst, int64(s), 10)
			}
		}
		dst = append(dst, ']')
	}
	dst = appendTimes(dst, "upstream_connect_time", ev.UpstreamConnectTime)
	dst = appendTimes(dst, "upstream_header_time", ev.UpstreamHeaderTime)
	dst = appendTimes(dst, "upstream_response_time", ev.UpstreamResponseTime)
	dst = appendStr(dst, "request_id", ev.RequestID, false)
	dst = appendStr(dst, "server_name", ev.ServerName, false)
	dst = appendStr(dst, "level", ev.Level, false)
	if ev.PID != 0 {
		dst = appendInt(dst, "pid", int64(ev.PID))
	}
	if ev.TID != 0 {
		dst = appendInt(dst, "tid", int64(ev.TID))
	}
	if ev.CID != 0 {
		dst = appendInt(dst, "cid", ev.CID)
	}
	if ev.Errno != 0 {
		dst = appendInt(dst, "errno", int64(ev.Errno))
	}
	dst = appendStr(dst, "errno_text", ev.ErrnoText, false)
	dst = appendStr(dst, "upstream", ev.Upstream, false)
	dst = appendStr(dst, "server", ev.Server, false)
	dst = appendStr(dst, "request", ev.Request, false)
	dst = appendStr(dst, "host", ev.Host, false)
	dst = appendStr(dst, "referrer", ev.Referrer, false)
	dst = appendStr(dst, "zone", ev.Zone, false)
	dst = appendStr(dst, "process", ev.Process, false)
	dst = appendStr(dst, "signal", ev.Signal, false)
	if ev.ExitCode != Absent {
		dst = appendInt(dst, "exit_code", int64(ev.ExitCode))
	}
	dst = appendStr(dst, "unit", ev.Unit, false)
	dst = appendStr(dst, "container", ev.Container, false)
	dst = appendStr(dst, "app", ev.App, false)
	dst = appendStr(dst, "dependency", ev.Dependency, false)
	if ev.MemoryKB != Absent {
		dst = appendInt(dst, "memory_kb", ev.MemoryKB)
	}
	dst = appendStr(dst, "message", ev.Message, false)
	dst = appendStr(dst, "reason", ev.Reason, false)
	dst = appendStr(dst, "line", ev.Line, false)
	return append(dst, '}')
}

func appendStr(dst []byte, name, v string, first bool) []byte {
	if v == "" && !first {
		return dst
	}
	if !first {
		dst = append(dst, ',')
	}
	dst = appendQuoted(dst, name)
	dst = append(dst, ':')
	return appendQuoted(dst, v)
}

func appendInt(dst []byte, name string, v int64) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendInt(dst, v, 10)
}

func appendTimes(dst []byte, name string, ts []float64) []byte {
	if len(ts) == 0 {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, `":[`...)
	for i, t := range ts {
		if i > 0 {
			dst = append(dst, ',')
		}
		if t == Absent {
			dst = append(dst, "null"...)
		} else {
			dst = strconv.AppendFloat(dst, t, 'f', -1, 64)
		}
	}
	return append(dst, ']')
}

const hexDigits = "0123456789abcdef"

// appendQuoted writes s as a JSON string. Invalid UTF-8 becomes U+FFFD so the
// output stays valid JSON whatever the input held.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
