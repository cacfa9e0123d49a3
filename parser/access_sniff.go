package parser

import "bytes"

// looksLikeAccess is the cheap test auto detection runs on every line: an
// nginx (or nginx-compatible) access log line in the common shapes, or a
// JSON object with access log keys. It does not know the user's log_format:
// it recognises the parts almost every format keeps, a bracketed
// $time_local/$time_iso8601 followed by a quoted field, or a quoted request
// line followed by a status.
func looksLikeAccess(line []byte) bool {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	line = line[i:]
	if len(line) < 16 {
		return false
	}
	if line[0] == '{' {
		return accessSniffJSON(line)
	}
	return accessSniffBracketTime(line) || accessSniffRequestStatus(line)
}

// accessSniffJSON wants a status key and a request-ish key, so that Docker
// events ("status":"die") and journal records are not taken for requests.
func accessSniffJSON(line []byte) bool {
	status := bytes.Contains(line, []byte(`status"`)) || bytes.Contains(line, []byte(`"response_code"`))
	if !status {
		return false
	}
	for _, k := range [...]string{`"request"`, `"request_uri"`, `"uri"`, `"remote_addr"`, `"$request"`, `"$remote_addr"`, `"http_user_agent"`, `"request_method"`} {
		if bytes.Contains(line, []byte(k)) {
			return true
		}
	}
	return false
}

// accessSniffBracketTime looks for "[25/Nov/2026:16:35:01 +0000] \"" or
// "[2026-11-25T16:35:01+00:00] \"" after at least one leading field.
func accessSniffBracketTime(line []byte) bool {
	lim := line
	if len(lim) > 160 {
		lim = lim[:160]
	}
	b := bytes.IndexByte(lim, '[')
	if b <= 0 {
		return false
	}
	t := line[b+1:]
	e := bytes.IndexByte(t, ']')
	if e < 0 || e+2 >= len(t) || t[e+1] != ' ' {
		return false
	}
	ts := t[:e]
	if _, ok := accessTimeLocal(ts); ok {
		return true
	}
	if len(ts) >= 19 && ts[4] == '-' && ts[10] == 'T' {
		_, ok := accessTimeISO(ts, nil)
		return ok
	}
	return false
}

// accessSniffRequestStatus looks for `HTTP/1.1" 200 ` (a quoted request
// line and the status after it) in lines without a bracketed stamp; the
// nginx error log quotes requests too, but follows them with a comma.
func accessSniffRequestStatus(line []byte) bool {
	for off := 0; ; {
		i := bytes.Index(line[off:], []byte(" HTTP/"))
		if i < 0 {
			return false
		}
		i += off + 6
		off = i
		j := i
		for j < len(line) && (line[j] >= '0' && line[j] <= '9' || line[j] == '.') {
			j++
		}
		if j == i || j+5 > len(line) || line[j] != '"' || line[j+1] != ' ' {
			continue
		}
		// A bracket before the request that was not an nginx time (the
		// first test) is another server's stamp, e.g. werkzeug's
		// "[25/Nov/2026 16:38:41]": an application's log, not nginx's.
		if bytes.IndexByte(line[:i], '[') >= 0 {
			return false
		}
		s := line[j+2:]
		if len(s) >= 3 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
			(len(s) == 3 || s[3] == ' ' || s[3] == '"' || s[3] == ',') {
			return true
		}
	}
}
