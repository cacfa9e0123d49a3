package parser

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// JSON access logs. People configure them as
//
//	log_format json escape=json '{"time":"$time_iso8601","status":"$status",...}';
//
// with keys of their own choosing, so a JSON line is read by key rather than
// by position. accessJSONKey decides what a key means. The same key may
// carry a string or a number; null, "" and "-" are absent. Upstream fields
// may be nginx's string ("10.0.0.1:80, 10.0.0.2:80") or a JSON array.
// Nested objects and unknown keys are skipped. A line must carry a status or
// a request (line, method or URI) to count as an access log entry.

// accessJSONKey maps a JSON key to a variable. Keys are compared in lower
// case, without a leading '$' or '@', and are:
//
//	time: time, time_local, time_iso8601, timestamp (@timestamp), ts, msec, datetime, date
//	      (any of $time_local, ISO 8601/RFC 3339 with or without offset, Unix seconds or ms)
//	client: remote_addr, client, client_ip, clientip, remote_ip, source.ip, client.ip
//	request line: request, request_line
//	method: request_method, method, http.request.method
//	URI: request_uri, url.original (raw, with arguments); uri, document_uri, url, path (used if no other)
//	protocol: server_protocol, protocol, http_version
//	status: status, status_code, response_code, http_status, response, http.response.status_code
//	body bytes: body_bytes_sent, body_bytes, bytes, size; bytes_sent (used if no other)
//	referer: http_referer, referer, referrer
//	user agent: http_user_agent, user_agent, useragent, agent, user_agent.original
//	request time (seconds): request_time, request_duration
//	upstream lists: upstream_addr (upstream, upstream_address), upstream_status,
//	      upstream_connect_time, upstream_header_time, upstream_response_time
//	request id: request_id, req_id, requestid, x_request_id
//	connection serial: connection, connection_id
//	server: server_name, vhost, virtual_host; host (also fills Host); http_host
//	hostname, pid
func accessJSONKey(key string) accessVar {
	// The aliases; nginx's own variable names (and document_uri) mean what
	// they mean in a log_format.
	switch key {
	case "time", "time_local", "time_iso8601", "timestamp", "ts", "msec", "datetime", "date":
		return avTimeAny
	case "client", "client_ip", "clientip", "remote_ip", "source.ip", "client.ip":
		return avRemoteAddr
	case "request_line":
		return avRequest
	case "method", "http.request.method":
		return avMethod
	case "url.original":
		return avRequestURI
	case "url", "path":
		return avURI
	case "protocol", "http_version":
		return avProtocol
	case "status_code", "response_code", "http_status", "response", "http.response.status_code":
		return avStatus
	case "body_bytes", "bytes", "size":
		return avBodyBytes
	case "referer", "referrer":
		return avReferer
	case "user_agent", "useragent", "agent", "user_agent.original":
		return avUserAgent
	case "request_duration":
		return avRequestTime
	case "upstream", "upstream_address":
		return avUpstreamAddr
	case "req_id", "requestid", "x_request_id":
		return avRequestID
	case "connection_id":
		return avConnection
	case "vhost", "virtual_host":
		return avServerName
	}
	return accessFormatVar(key)
}

func accessJSONSpace(b []byte, p int) int {
	for p < len(b) && (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r') {
		p++
	}
	return p
}

// accessJSONString returns the end (index after the closing quote) of the
// string starting at b[p] == '"', and whether it contains escapes.
func accessJSONString(b []byte, p int) (end int, esc bool, err error) {
	for i := p + 1; i < len(b); {
		j := bytes.IndexAny(b[i:], "\"\\")
		if j < 0 {
			break
		}
		i += j
		if b[i] == '"' {
			return i + 1, esc, nil
		}
		esc = true
		i += 2
	}
	return 0, false, fmt.Errorf("JSON string starting at byte %d is not closed (truncated line?)", p)
}

// accessJSONSkip returns the end of the object or array starting at b[p].
func accessJSONSkip(b []byte, p int) (int, error) {
	depth := 0
	for i := p; i < len(b); i++ {
		switch b[i] {
		case '"':
			end, _, err := accessJSONString(b, i)
			if err != nil {
				return 0, err
			}
			i = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, fmt.Errorf("JSON value starting at byte %d is not closed (truncated line?)", p)
}

// accessJSONBareList extends a bare upstream value over ", item" and
// " : item" continuations (an item never starts with a quote, so the next
// key is not taken for one).
func accessJSONBareList(b []byte, end int) int {
	for {
		n := 0
		switch {
		case end+2 < len(b) && b[end] == ',' && b[end+1] == ' ':
			n = 2
		case end+3 < len(b) && b[end] == ' ' && b[end+1] == ':' && b[end+2] == ' ':
			n = 3
		default:
			return end
		}
		if c := b[end+n]; c == '"' || c == ' ' {
			return end
		}
		next, err := accessJSONScalar(b, end+n)
		if err != nil {
			return end
		}
		end = next
	}
}

// accessJSONScalar returns the end of a number, true, false or null.
func accessJSONScalar(b []byte, p int) (int, error) {
	i := p
	for i < len(b) {
		c := b[i]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		i++
	}
	if i == p {
		return 0, fmt.Errorf("JSON value expected at byte %d", p)
	}
	return i, nil
}

func (f *AccessFormat) parseJSON(line []byte, loc *time.Location, ev *Event) error {
	p := accessJSONSpace(line, 0)
	if p >= len(line) || line[p] != '{' {
		return errors.New("not a JSON object")
	}
	p++
	found := false
	for first := true; ; first = false {
		p = accessJSONSpace(line, p)
		if p >= len(line) {
			return errors.New("JSON object is not closed (truncated line?)")
		}
		if line[p] == '}' && first {
			p++
			break
		}
		if line[p] != '"' {
			return fmt.Errorf("JSON key expected at byte %d, found %q", p, line[p])
		}
		kstart := p + 1
		kend, kesc, err := accessJSONString(line, p)
		if err != nil {
			return err
		}
		var v accessVar
		if !kesc {
			v = accessJSONKeyOf(line[p+1 : kend-1])
		}
		p = accessJSONSpace(line, kend)
		if p >= len(line) || line[p] != ':' {
			return fmt.Errorf("JSON ':' expected after the key at byte %d", p)
		}
		p = accessJSONSpace(line, p+1)
		if p >= len(line) {
			return errors.New("JSON value missing at the end of the line (truncated line?)")
		}
		key := line[kstart : kend-1]
		switch line[p] {
		case '"':
			end, esc, err := accessJSONString(line, p)
			if err != nil {
				return err
			}
			if v != avUnknown {
				mode := escapeNone
				if esc {
					mode = escapeJSON
				}
				if err := f.assignJSON(v, line[p+1:end-1], mode, loc, ev); err != nil {
					return fmt.Errorf("JSON key %q: %w", key, err)
				}
				found = found || v == avStatus || v == avRequest || v == avMethod || v == avRequestURI || v == avURI
			}
			p = end
		case '[':
			end, err := accessJSONSkip(line, p)
			if err != nil {
				return err
			}
			if isAccessList(v) {
				if err := f.jsonList(v, line[p+1:end-1], ev); err != nil {
					return fmt.Errorf("JSON key %q: %w", key, err)
				}
			}
			p = end
		case '{':
			end, err := accessJSONSkip(line, p)
			if err != nil {
				return err
			}
			p = end
		case ',', '}':
			// nginx's escape=json writes an absent variable as nothing:
			// a template with "$upstream_status" unquoted gives
			// "upstream_status":, which is not JSON but is what it means.
		default:
			end, err := accessJSONScalar(line, p)
			if err != nil {
				return err
			}
			if isAccessList(v) {
				// The same template with two upstreams: 502, 200 bare.
				end = accessJSONBareList(line, end)
			}
			val := line[p:end]
			if v != avUnknown && !bytes.Equal(val, []byte("null")) {
				if err := f.assignJSON(v, val, escapeNone, loc, ev); err != nil {
					return fmt.Errorf("JSON key %q: %w", key, err)
				}
				found = found || v == avStatus
			}
			p = end
		}
		p = accessJSONSpace(line, p)
		if p >= len(line) {
			return errors.New("JSON object is not closed (truncated line?)")
		}
		if line[p] == ',' {
			p++
			continue
		}
		if line[p] == '}' {
			p++
			break
		}
		return fmt.Errorf("JSON ',' or '}' expected at byte %d, found %q", p, line[p])
	}
	if p = accessJSONSpace(line, p); p != len(line) {
		return fmt.Errorf("text after the JSON object at byte %d", p)
	}
	if !found {
		return errors.New("JSON object has no access log keys (status, request, request_uri, ...)")
	}
	return nil
}

// accessJSONKeyOf normalises a raw key and maps it.
func accessJSONKeyOf(k []byte) accessVar {
	if len(k) > 0 && (k[0] == '$' || k[0] == '@') {
		k = k[1:]
	}
	var low [40]byte
	if len(k) > len(low) {
		return avUnknown
	}
	for i, c := range k {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	return accessJSONKey(string(low[:len(k)]))
}

// assignJSON is assign for JSON values: a string value holds nginx's own
// text (e.g. "502, 200"), a number its digits.
func (f *AccessFormat) assignJSON(v accessVar, val []byte, esc accessEscape, loc *time.Location, ev *Event) error {
	if esc == escapeJSON && v != avUnknown {
		// Unescape once up front so numbers and lists see plain text.
		start := len(f.buf)
		f.buf = accessUnescapeJSON(f.buf, val)
		val = f.buf[start:]
		esc = escapeNone
	}
	return f.assign(v, val, esc, loc, ev)
}

// jsonList reads a JSON array of scalars into an upstream list.
func (f *AccessFormat) jsonList(v accessVar, b []byte, ev *Event) error {
	p := 0
	for {
		p = accessJSONSpace(b, p)
		if p >= len(b) {
			return nil
		}
		var item []byte
		esc := escapeNone
		if b[p] == '"' {
			end, e, err := accessJSONString(b, p)
			if err != nil {
				return err
			}
			item = b[p+1 : end-1]
			if e {
				esc = escapeJSON
			}
			p = end
		} else {
			end, err := accessJSONScalar(b, p)
			if err != nil {
				return err
			}
			item = b[p:end]
			if bytes.Equal(item, []byte("null")) {
				item = nil
			}
			p = end
		}
		if esc == escapeJSON {
			start := len(f.buf)
			f.buf = accessUnescapeJSON(f.buf, item)
			item = f.buf[start:]
		}
		if err := f.list(v, item, escapeNone, ev); err != nil {
			return err
		}
		p = accessJSONSpace(b, p)
		if p < len(b) {
			if b[p] != ',' {
				return fmt.Errorf("JSON ',' expected in array at byte %d", p)
			}
			p++
		}
	}
}
