package parser

// A minimal JSON object reader for the envelopes and events that arrive as
// one JSON object per line (journalctl -o json, docker json-file, docker
// events --format '{{json .}}'). It finds one member without decoding the
// whole object: encoding/json would allocate a map per line and fail on the
// whole object for one odd value.

import (
	"unicode/utf16"
	"unicode/utf8"
)

func jsonSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// jsonStringEnd returns the index just past the closing quote of the string
// whose opening quote is at b[i], or -1.
func jsonStringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// jsonValueEnd returns the index just past the value that starts at b[i], or -1.
func jsonValueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return jsonStringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := jsonStringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && !jsonSpace(b[j]) {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// objField finds key among the top-level members of the JSON object obj.
// For a string it returns the bytes between the quotes, still escaped, and
// str=true; for anything else the raw value (number, object, array, literal).
func objField(obj []byte, key string) (val []byte, str, ok bool) {
	i := 0
	for i < len(obj) && jsonSpace(obj[i]) {
		i++
	}
	if i >= len(obj) || obj[i] != '{' {
		return nil, false, false
	}
	i++
	for {
		for i < len(obj) && (jsonSpace(obj[i]) || obj[i] == ',') {
			i++
		}
		if i >= len(obj) || obj[i] != '"' {
			return nil, false, false
		}
		ke := jsonStringEnd(obj, i)
		if ke < 0 {
			return nil, false, false
		}
		k := obj[i+1 : ke-1]
		i = ke
		for i < len(obj) && jsonSpace(obj[i]) {
			i++
		}
		if i >= len(obj) || obj[i] != ':' {
			return nil, false, false
		}
		i++
		for i < len(obj) && jsonSpace(obj[i]) {
			i++
		}
		ve := jsonValueEnd(obj, i)
		if ve < 0 {
			return nil, false, false
		}
		if string(k) == key {
			if obj[i] == '"' {
				return obj[i+1 : ve-1], true, true
			}
			return obj[i:ve], false, true
		}
		i = ve
	}
}

// objString returns the string member key of obj, unescaped. It aliases obj
// when the value has no escapes and allocates only when it has.
func objString(obj []byte, key string) ([]byte, bool) {
	v, str, ok := objField(obj, key)
	if !ok || !str {
		return nil, false
	}
	for _, c := range v {
		if c == '\\' {
			return unescapeJSON(make([]byte, 0, len(v)), v), true
		}
	}
	return v, true
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}

func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		h := hexVal(c)
		if h < 0 {
			return -1
		}
		r = r<<4 | h
	}
	return r
}

// unescapeJSON appends the decoded JSON string body raw to dst. Malformed
// escapes are kept as written rather than rejected: the text is evidence.
func unescapeJSON(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			dst = append(dst, c)
			continue
		}
		i++
		switch raw[i] {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case '"', '\\', '/':
			dst = append(dst, raw[i])
		case 'u':
			r := hex4(raw[i+1:])
			if r < 0 {
				dst = append(dst, '\\', 'u')
				continue
			}
			i += 4
			if utf16.IsSurrogate(r) && i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if r2 := hex4(raw[i+3:]); r2 >= 0 {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					}
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = append(dst, '\\', raw[i])
		}
	}
	return dst
}
