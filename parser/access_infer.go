package parser

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Inferring an nginx log_format from the lines it wrote.
//
// Most production nginx servers extend "combined" with timing and upstream
// fields, each team its own way, and the configuration is rarely shipped with
// the logs. The lines themselves say a lot: nginx writes each variable in a
// fixed shape ($time_local is "25/Nov/2026:16:35:01 +0000", $request is a
// quoted "GET /x HTTP/1.1", $upstream_status is "502, 200" with one value per
// upstream tried, in step with $upstream_addr), and people surround variables
// with the same few kinds of delimiters (quotes, brackets, key=value, tabs).
//
// So a line is cut into fields (quoted, bracketed, key=value, bare tokens,
// nginx's multi-value lists kept whole), the sample's lines are grouped by
// their skeleton (the literal text between fields), and each column of the
// most common skeleton is named from the shapes of its values across all
// lines, their position (the status follows the request, the body size the
// status) and, for key=value fields, the key. Columns nothing names get a
// throw-away variable, so a line still parses and the fields that matter are
// right. The result is compiled and checked by parsing the sample.
//
// The one field inference must never get wrong is $status: culprit counts
// 5xx by it. A column is taken for the status only when it holds a 3-digit
// code 100-599 on every line; when no column does, inference fails rather
// than guess.

// ErrNoStatus is returned by InferAccessFormat when no field holds an HTTP
// status on every sample line.
var ErrNoStatus = errors.New("no field holds an HTTP status (3 digits, 100-599) on every line")

// ErrNoRequest is returned by InferAccessFormat when no field holds an
// HTTP request line ("GET /x HTTP/1.1", or method and URI as fields).
var ErrNoRequest = errors.New("no field holds an HTTP request line")

// ErrNoTime is returned by InferAccessFormat for JSON lines whose time it
// cannot name: the JSON reader, by keys, knows more time forms.
var ErrNoTime = errors.New("no field holds a time ($time_local, $time_iso8601, $msec)")

// ErrAppLog is returned by InferAccessFormat for request lines after a log
// level: an application server's log, not nginx's.
var ErrAppLog = errors.New("a log level before the request: an application's log, not an nginx access log")

// inferIsLevel: a log level word as applications write it.
func inferIsLevel(s string) bool {
	switch strings.ToUpper(s) {
	case "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "CRITICAL", "FATAL", "TRACE":
		return true
	}
	return false
}

// inferMaxLines bounds the sample: inference is quadratic in nothing, but a
// caller handing a whole file should not pay for it.
const inferMaxLines = 1000

// inferField is one field of a line: the literal text before it (separators,
// an opening quote or bracket, "key="), its value, and its key if any.
type inferField struct {
	pre    string
	val    string
	key    string // lower-case key of key=value / key:value, "" for positional fields
	quoted bool   // between double quotes
	brack  bool   // between [ and ]
	post   string // literal text right after the value (a closing quote, a ';')
}

type inferLine struct {
	fields []inferField
	suffix string // literal text after the last field (a closing quote)
	skel   string
}

// InferAccessFormat builds an nginx log_format string from sample access log
// lines, one that CompileAccessFormat accepts and that parses them, and
// returns how many of the sample lines it parses. It fails when the lines
// have no common shape or when no field holds the status on every line
// (ErrNoStatus): a wrong $status would be worse than no format.
func InferAccessFormat(lines [][]byte) (format string, matched int, err error) {
	var sample [][]byte
	for _, l := range lines {
		l = bytes.TrimRight(l, "\r\n")
		l = bytes.TrimLeft(l, " \t")
		if len(l) == 0 || len(l) > MaxLineBytes {
			continue
		}
		sample = append(sample, l)
		if len(sample) == inferMaxLines {
			break
		}
	}
	if len(sample) == 0 {
		return "", 0, errors.New("infer log_format: no lines")
	}
	// Infer from what the access parser will see: a Parser first peels
	// envelopes (a syslog or RFC 3339 stamp with host and tag, a container
	// prefix) and keeps their time, so "2026-11-25T16:35:01+00:00 nginx:
	// <line>" is read as <line> at that time.
	pp, err := New(Options{Source: SourceNginxAccess})
	if err != nil {
		return "", 0, fmt.Errorf("infer log_format: %w", err)
	}
	inner := make([][]byte, len(sample))
	json := 0
	for i, l := range sample {
		inner[i] = pp.unwrap(l, nil).inner
		if len(inner[i]) > 0 && inner[i][0] == '{' {
			json++
		}
	}
	if json*2 > len(sample) {
		format, err = inferJSON(inner)
	} else {
		format, err = inferText(inner)
	}
	if err != nil {
		return "", 0, fmt.Errorf("infer log_format: %w", err)
	}
	p, err := New(Options{Source: SourceNginxAccess, LogFormat: format})
	if err != nil {
		// A bug here, not in the input: say which format was built.
		return "", 0, fmt.Errorf("infer log_format: built %q: %w", format, err)
	}
	var ev Event
	for _, l := range sample {
		if p.Parse(l, &ev); ev.Kind == KindRequest {
			matched++
		}
	}
	if matched == 0 {
		return "", 0, fmt.Errorf("infer log_format: built %q but it parses none of the %d lines", format, len(sample))
	}
	return format, matched, nil
}

// UnnamedFields counts the fields of a format InferAccessFormat built that
// it could not name ($field_N, $upstream_list_N): more lines may name them.
func UnnamedFields(format string) int {
	return strings.Count(format, "$field_") + strings.Count(format, "$upstream_list_")
}

// inferCommonest tokenises the non-empty sample lines and returns those
// of the most common skeleton (the first seen wins a tie), nil if none.
func inferCommonest(sample [][]byte, tokenize func(string) (*inferLine, bool)) []*inferLine {
	groups := map[string][]*inferLine{}
	var order []string
	for _, l := range sample {
		if len(l) == 0 {
			continue
		}
		il, ok := tokenize(string(l))
		if !ok {
			continue
		}
		if _, seen := groups[il.skel]; !seen {
			order = append(order, il.skel)
		}
		groups[il.skel] = append(groups[il.skel], il)
	}
	var best []*inferLine
	for _, k := range order {
		if len(groups[k]) > len(best) {
			best = groups[k]
		}
	}
	return best
}

// inferText infers a text (non-JSON) format.
func inferText(sample [][]byte) (string, error) {
	// The most common skeleton is the format; lines of other skeletons
	// (a garbage request line, a value with an unexpected space) still
	// parse with it when the difference sits inside one field.
	rows := inferCommonest(sample, func(l string) (*inferLine, bool) {
		il := inferTokenize(l)
		return il, len(il.fields) > 0
	})
	if rows == nil {
		return "", errors.New("no fields found in the lines")
	}
	cols := make([]inferCol, len(rows[0].fields))
	for i := range cols {
		c := &cols[i]
		c.idx = i
		c.first = rows[0].fields[i]
		for _, r := range rows {
			c.vals = append(c.vals, r.fields[i].val)
		}
		c.unlabel()
		c.shape()
	}
	if err := inferAssign(cols); err != nil {
		return "", err
	}
	var b strings.Builder
	if inferJSONEscaped(rows) {
		b.WriteString("escape=json ")
	}
	for i := range cols {
		b.WriteString(cols[i].first.pre)
		b.WriteString(cols[i].name)
	}
	b.WriteString(rows[0].suffix)
	if strings.Contains(rows[0].skel, "$") {
		// nginx has no escape for a literal '$': it would read as a variable.
		return "", errors.New("the lines' literal text holds a '$'")
	}
	return b.String(), nil
}

// inferJSONEscaped: escape=json writes \" and \u00XX where escape=default
// writes \x22; either parses unescaped values correctly only when told.
func inferJSONEscaped(rows []*inferLine) bool {
	for _, r := range rows {
		for _, f := range r.fields {
			if !f.quoted {
				continue
			}
			if strings.Contains(f.val, `\x`) {
				return false
			}
			if strings.Contains(f.val, `\"`) || strings.Contains(f.val, `\u00`) {
				return true
			}
		}
	}
	return false
}

// inferDefaultEscaped: a quoted value holds escape=default's \xHH.
func inferDefaultEscaped(rows []*inferLine) bool {
	for _, r := range rows {
		for _, f := range r.fields {
			if f.quoted && strings.Contains(f.val, `\x`) {
				return true
			}
		}
	}
	return false
}

func inferIsSep(c byte) bool { return c == ' ' || c == '\t' || c == '|' }

// inferTokenize cuts a line into fields. In a line with tabs outside quotes,
// tabs alone separate fields (values may hold spaces: a bare $request or
// $time_local, LTSV's "req:GET / HTTP/1.1").
func inferTokenize(line string) *inferLine {
	tabs := inferHasTabOutsideQuotes(line)
	isSep := inferIsSep
	if tabs {
		isSep = func(c byte) bool { return c == '\t' }
	}
	il := &inferLine{}
	var skel strings.Builder
	i := 0
	for i < len(line) {
		start := i
		for i < len(line) && isSep(line[i]) {
			i++
		}
		if i >= len(line) {
			il.suffix += line[start:]
			break
		}
		f := inferField{}
		// key=value and key="value"; LTSV's key:value in tab mode.
		if k, n := inferKey(line[i:], tabs); n > 0 {
			f.key = strings.ToLower(strings.TrimPrefix(k, "$"))
			i += n
		}
		switch {
		case i >= len(line):
			f.pre = line[start:]
		case line[i] == '"':
			end := inferQuoteEnd(line, i+1, isSep)
			f.pre = line[start : i+1]
			f.val = line[i+1 : end]
			f.quoted = end < len(line)
			i = min(end+1, len(line))
		case line[i] == '[' && f.key == "":
			end := strings.IndexByte(line[i+1:], ']')
			if end < 0 {
				f.pre = line[start:i]
				f.val = line[i:]
				i = len(line)
				break
			}
			f.pre = line[start : i+1]
			f.val = line[i+1 : i+1+end]
			f.brack = true
			i += end + 2
		default:
			f.pre = line[start:i]
			end := inferBareEnd(line, i, isSep)
			f.val = line[i:end]
			// Punctuation people write after a variable ("$status;",
			// "$remote_addr:") is literal text, not part of the value.
			if n := len(f.val); n > 1 && strings.IndexByte(";:,", f.val[n-1]) >= 0 && f.val[n-2] != f.val[n-1] {
				f.post = f.val[n-1:]
				f.val = f.val[:n-1]
			}
			i = end
		}
		// The closing delimiter of this field belongs to the literal that
		// follows it: move it into the next pre (or the suffix).
		il.fields = append(il.fields, f)
	}
	// Fix up literals: a quoted or bracketed field's closing byte starts
	// the next literal.
	for k := range il.fields {
		f := &il.fields[k]
		closing := f.post
		switch {
		case f.quoted:
			closing = `"`
		case f.brack:
			closing = "]"
		}
		if closing == "" {
			continue
		}
		if k+1 < len(il.fields) {
			il.fields[k+1].pre = closing + il.fields[k+1].pre
		} else {
			il.suffix = closing + il.suffix
		}
	}
	for _, f := range il.fields {
		skel.WriteString(f.pre)
		skel.WriteByte(0)
	}
	skel.WriteString(il.suffix)
	il.skel = skel.String()
	return il
}

func inferHasTabOutsideQuotes(line string) bool {
	in := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			in = !in
		case '\t':
			if !in {
				return true
			}
		}
	}
	return false
}

// inferKey reads "key=" (or "key:" in tab mode, LTSV) at the start of s and
// returns the key and the bytes consumed. Addresses ("unix:/x", "10.0.0.1:80")
// and times are not keys.
func inferKey(s string, tabs bool) (string, int) {
	i := 0
	if i < len(s) && s[i] == '$' {
		i++
	}
	st := i
	for i < len(s) && (isVarNameByte(s[i]) || s[i] == '.' || s[i] == '-' && i > st) {
		i++
	}
	if i == st || i >= len(s) || !(s[st] >= 'a' && s[st] <= 'z' || s[st] >= 'A' && s[st] <= 'Z' || s[st] == '_') {
		return "", 0
	}
	switch s[i] {
	case '=':
	case ':':
		if !tabs || s[st:i] == "unix" || i+1 < len(s) && s[i+1] == '/' && i+2 < len(s) && s[i+2] == '/' {
			return "", 0
		}
	default:
		return "", 0
	}
	return s[:i], i + 1
}

// inferQuoteEnd finds the closing quote of a value starting at from: the
// first '"' not escaped by a backslash (escape=json) that is followed by a
// separator, the end of the line or another delimiter; failing that, the
// first unescaped '"'.
func inferQuoteEnd(line string, from int, isSep func(byte) bool) int {
	first := -1
	for i := from; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '"':
			if first < 0 {
				first = i
			}
			if i+1 == len(line) || isSep(line[i+1]) || line[i+1] == ']' || line[i+1] == ',' || line[i+1] == ';' {
				return i
			}
		}
	}
	if first >= 0 {
		return first
	}
	return len(line)
}

// inferBareEnd finds the end of a bare value at i: the next separator,
// except inside nginx's multi-value lists ("a, b : c") and a bare
// $time_local's space before the zone.
func inferBareEnd(line string, i int, isSep func(byte) bool) int {
	for {
		st := i
		// A quote ends a bare value: escape=default writes a quote in a
		// value as \x22, so a raw one is the format's text, as in
		// `$body_bytes_sent"$http_referer"` (pieces joined without a space).
		for i < len(line) && !isSep(line[i]) && (line[i] != '"' || i == st) {
			i++
		}
		item := line[st:i]
		rest := line[i:]
		switch {
		case strings.HasSuffix(item, ",") && len(item) > 1 && strings.HasPrefix(rest, " ") && inferListItem(item[:len(item)-1]) &&
			inferListItem(inferNextWord(rest[1:])):
			i++
			continue
		case strings.HasPrefix(rest, " : ") && inferListItem(strings.TrimSuffix(item, ",")) && inferListItem(inferNextWord(rest[3:])):
			i += 3
			continue
		case len(rest) >= 6 && rest[0] == ' ' && (rest[1] == '+' || rest[1] == '-') && inferDigits(rest[2:6]) &&
			inferLooksTimeLocal(line[max(0, i-20):i]):
			i += 6
			if i < len(line) && !isSep(line[i]) {
				continue
			}
		}
		return i
	}
}

func inferNextWord(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' || s[i] == ',' {
			return s[:i]
		}
	}
	return s
}

func inferDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// inferListItem: what nginx puts in an upstream list: "-", an address, a
// status, a time, or an upstream group name ("no live upstreams").
func inferListItem(s string) bool {
	if s == "" {
		return false
	}
	if s == "-" || inferIsSeconds(s) || inferDigits(s) || inferIsAddr(s) {
		return true
	}
	return inferIsName(s)
}

func inferIsName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isVarNameByte(c) || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func inferLooksTimeLocal(s string) bool {
	// ends with dd/Mon/yyyy:hh:mm:ss
	if len(s) < 20 {
		return false
	}
	s = s[len(s)-20:]
	return s[2] == '/' && s[6] == '/' && s[11] == ':' && s[14] == ':' && s[17] == ':'
}

// Shapes of single values.

// inferIsSeconds: nginx writes every time in seconds with exactly three
// decimals; other decimals ($gzip_ratio's "49.95") are something else.
func inferIsSeconds(s string) bool {
	dot := len(s) - 4
	return dot > 0 && s[dot] == '.' && inferDigits(s[:dot]) && inferDigits(s[dot+1:])
}

func inferIsStatus(s string) bool {
	return len(s) == 3 && s[0] >= '1' && s[0] <= '5' && inferDigits(s)
}

// inferKnownStatus: a status code of the HTTP registry (RFC 9110 and
// extensions) or one nginx logs of its own (444, 494-499).
func inferKnownStatus(s string) bool {
	n, _ := strconv.Atoi(s)
	switch {
	case n >= 100 && n <= 103, n >= 200 && n <= 208, n == 226, n >= 300 && n <= 308,
		n >= 400 && n <= 418, n >= 421 && n <= 426, n == 428, n == 429, n == 431, n == 444, n == 451,
		n >= 494 && n <= 499, n >= 500 && n <= 508, n == 510, n == 511:
		return true
	}
	return false
}

func inferIsIP(s string) bool {
	if s == "" {
		return false
	}
	dots, colons := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			dots++
		case c == ':':
			colons++
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	if dots == 3 && colons == 0 {
		for _, p := range strings.Split(s, ".") {
			if n, err := strconv.Atoi(p); err != nil || n > 255 {
				return false
			}
		}
		return true
	}
	return colons >= 2 // IPv6
}

// inferIsAddr: an upstream address as nginx writes it: ip:port,
// [ipv6]:port, unix:/path, or host:port.
func inferIsAddr(s string) bool {
	if strings.HasPrefix(s, "unix:") && len(s) > 5 {
		return true
	}
	c := strings.LastIndexByte(s, ':')
	if c <= 0 || c == len(s)-1 || !inferDigits(s[c+1:]) {
		return false
	}
	host := s[:c]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		return inferIsIP(host[1 : len(host)-1])
	}
	return inferIsIP(host) || inferIsName(host)
}

func inferIsTimeLocal(s string) bool {
	_, ok := accessTimeLocal([]byte(s))
	return ok
}

func inferIsISO(s string) bool {
	if len(s) < 19 || s[4] != '-' || s[10] != 'T' {
		return false
	}
	_, ok := accessTimeISO([]byte(s), time.UTC)
	return ok
}

func inferIsMsec(s string) bool {
	dot := strings.IndexByte(s, '.')
	return dot == 10 && len(s) == 14 && inferDigits(s[:10]) && inferDigits(s[11:])
}

func inferIsMethod(s string) bool {
	if len(s) < 3 || len(s) > 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func inferIsProtocol(s string) bool {
	return strings.HasPrefix(s, "HTTP/") && len(s) <= 8
}

// inferIsRequest: "METHOD target HTTP/x.y" (or HTTP/0.9's "GET /").
func inferIsRequest(s string) bool {
	sp := strings.IndexByte(s, ' ')
	if sp < 0 || !inferIsMethod(s[:sp]) {
		return false
	}
	rest := s[sp+1:]
	if rest == "" {
		return false
	}
	if last := strings.LastIndexByte(rest, ' '); last >= 0 {
		return inferIsProtocol(rest[last+1:])
	}
	return rest[0] == '/'
}

func inferIsHexID(s string) bool {
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == '-') {
			return false
		}
	}
	return true
}

// inferItems splits an nginx multi-value list.
func inferItems(s string) []string {
	s = strings.ReplaceAll(s, " : ", ", ")
	return strings.Split(s, ", ")
}

// inferCol is one column of the chosen skeleton with what its values look like.
type inferCol struct {
	idx   int
	first inferField
	vals  []string
	name  string // the variable given, with '$'

	n, dash                          int // values, of which "-" or ""
	ip, status, intg, sec, msec      int // single values of that shape
	known                            int // statuses HTTP (or nginx) defines
	timeLocal, iso, request, hexID   int
	method, uri, proto               int
	list                             int // values with more than one item
	addrItems, statusItems, secItems int // values whose every item is of that shape or "-"
	addrReal                         int // values holding at least one real address (not a group name)
	str                              int // anything else
}

func (c *inferCol) shape() {
	for _, v := range c.vals {
		c.n++
		if v == "-" || v == "" {
			c.dash++
			continue
		}
		items := inferItems(v)
		if len(items) > 1 {
			listy := true
			for _, it := range items {
				listy = listy && inferListItem(it)
			}
			if listy {
				c.list++
			}
		}
		addr, st, sec, real := true, true, true, false
		for _, it := range items {
			if it == "-" {
				continue
			}
			if inferIsAddr(it) {
				real = true
			} else if !inferIsName(it) || inferDigits(it) || inferIsSeconds(it) {
				addr = false
			}
			st = st && inferIsStatus(it)
			sec = sec && inferIsSeconds(it)
		}
		if addr {
			c.addrItems++
		}
		if real {
			c.addrReal++
		}
		if st {
			c.statusItems++
		}
		if sec {
			c.secItems++
		}
		known := true
		switch {
		case inferIsIP(v):
			c.ip++
		case inferIsStatus(v):
			c.status++
			c.intg++
			if inferKnownStatus(v) {
				c.known++
			}
		case inferDigits(v):
			c.intg++
		case inferIsMsec(v):
			c.msec++
		case inferIsSeconds(v):
			c.sec++
		case inferIsTimeLocal(v):
			c.timeLocal++
		case inferIsISO(v):
			c.iso++
		case inferIsRequest(v):
			c.request++
		case inferIsMethod(v):
			c.method++
		case inferIsProtocol(v):
			c.proto++
		case inferIsHexID(v):
			c.hexID++
		case v[0] == '/' || v[0] == '*':
			c.uri++
		default:
			known = false
		}
		if !known && len(items) == 1 {
			c.str++
		}
	}
}

// unlabel moves a label written inside a bracketed or quoted field
// ("[Client 127.0.0.1]", "[Length 612]") into the literal text, and makes
// it the field's key: the same word and a space start the value on every
// line.
func (c *inferCol) unlabel() {
	if !c.first.brack && !c.first.quoted || c.first.key != "" || len(c.vals) == 0 {
		return
	}
	sp := strings.IndexByte(c.vals[0], ' ')
	if sp <= 0 || sp > 24 {
		return
	}
	word := c.vals[0][:sp]
	for i := 0; i < len(word); i++ {
		if b := word[i]; !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '-' && i > 0 || b == '_') {
			return
		}
	}
	for _, v := range c.vals {
		if !strings.HasPrefix(v, word+" ") || len(v) == sp+1 || strings.IndexByte(v[sp+1:], ' ') >= 0 {
			return // not on every line, or the rest has spaces too (a request, a user agent)
		}
	}
	c.first.pre += word + " "
	c.first.key = strings.ToLower(word)
	for i := range c.vals {
		c.vals[i] = c.vals[i][sp+1:]
	}
}

// constWord: a bare lower-case word, the same on every line, that is not a
// key's value: label text such as "upstream status" before a value.
func (c *inferCol) constWord() bool {
	if c.first.key != "" || c.first.quoted || c.first.brack || c.n < 2 {
		return false
	}
	w := c.vals[0]
	if w == "" || len(w) > 32 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !(w[i] >= 'a' && w[i] <= 'z' || w[i] == '_') {
			return false
		}
	}
	for _, v := range c.vals {
		if v != w {
			return false
		}
	}
	return true
}

func (c *inferCol) constant() bool {
	for _, v := range c.vals {
		if v != c.vals[0] {
			return false
		}
	}
	return true
}

// Column tests over every line. The dash is allowed where nginx writes it.
func (c *inferCol) all(k int) bool       { return c.n > 0 && k == c.n }
func (c *inferCol) allOrDash(k int) bool { return k > 0 && k+c.dash == c.n }

// isStatus: a status on every line, and codes HTTP defines on (nearly)
// all: a 3-digit $request_length or $server_port is not taken for one.
func (c *inferCol) isStatus() bool    { return c.all(c.status) && c.known*20 >= c.n*19 }
func (c *inferCol) isInt() bool       { return c.all(c.intg) }
func (c *inferCol) isIP() bool        { return c.allOrDash(c.ip) && c.ip*2 >= c.n }
func (c *inferCol) isTimeLocal() bool { return c.allOrDash(c.timeLocal) }
func (c *inferCol) isISO() bool       { return c.allOrDash(c.iso) }
func (c *inferCol) isMsec() bool      { return c.allOrDash(c.msec) }

// isRequest: most values are request lines; nginx logs what the client
// sent, so junk (a TLS handshake, a bare "-") is allowed in a minority.
func (c *inferCol) isRequest() bool { return c.request > 0 && c.request*2 > c.n }

// isAddrs: every value a list of addresses (a group name allowed, as "no
// live upstreams" writes it) and at least one real address.
func (c *inferCol) isAddrs() bool { return c.allOrDash(c.addrItems) && c.addrReal > 0 }

// isStatuses: status lists; a column of statuses that is never "-" and
// never a list could be $status itself, which the caller decides first.
func (c *inferCol) isStatuses() bool { return c.allOrDash(c.statusItems) }

// isSeconds: times in nginx's seconds.milliseconds, maybe lists.
func (c *inferCol) isSeconds() bool { return c.allOrDash(c.secItems) && c.msec == 0 }

// inferKeyVar maps the key of a key=value field to the variable real
// configurations mean by it (nginx.com's "ua"/"us"/"rt"/"uct"/"uht"/"urt",
// LTSV's "reqtime"/"apptime"/"size", ingress's "req_id", ...). The caller
// checks the values have the variable's shape before believing it.
func inferKeyVar(key string) string {
	key = strings.TrimPrefix(key, "$")
	key = strings.TrimPrefix(key, "http_")
	switch key {
	case "remote_addr", "client", "client_ip", "clientip", "remote_ip", "ip", "addr", "remote", "src":
		return "$remote_addr"
	case "time", "time_local", "timestamp", "ts", "date", "datetime", "time_iso8601", "msec", "@timestamp":
		return "time"
	case "request", "req", "request_line", "r":
		return "$request"
	case "method", "request_method", "verb":
		return "$request_method"
	case "uri", "request_uri", "url", "path":
		return "$request_uri"
	case "protocol", "server_protocol", "proto":
		return "$server_protocol"
	case "status", "s", "st", "code", "status_code", "response_code", "http_status", "response":
		return "$status"
	case "bytes", "body_bytes_sent", "body_bytes", "size", "bbs", "body", "length", "len":
		return "$body_bytes_sent"
	case "bytes_sent", "bs":
		return "$bytes_sent"
	case "referer", "referrer", "ref":
		return "$http_referer"
	case "user_agent", "agent", "useragent", "ua", "http_user_agent", "browser":
		return "$http_user_agent" // "ua" is also nginx.com's upstream addr: shape decides
	case "request_time", "rt", "reqtime", "req_time", "rtime", "request_duration", "duration", "took", "time_taken":
		return "$request_time"
	case "upstream_response_time", "urt", "apptime", "upstream_time", "ups_time", "upstream_rt", "ut", "upt", "uptime_resp":
		return "$upstream_response_time"
	case "upstream_connect_time", "uct", "upstream_ct", "connect_time":
		return "$upstream_connect_time"
	case "upstream_header_time", "uht", "upstream_ht", "header_time":
		return "$upstream_header_time"
	case "upstream_addr", "upstream", "upstream_address", "ups", "ups_addr", "backend", "upa", "upstream_server":
		return "$upstream_addr"
	case "upstream_status", "us", "ups_status", "upstream_code", "ustatus":
		return "$upstream_status"
	case "request_id", "rid", "req_id", "reqid", "requestid", "x_request_id", "id", "trace_id":
		return "$request_id"
	case "connection", "cid", "conn":
		return "$connection"
	case "host", "vhost", "server_name", "server", "domain", "virtual_host":
		return "$host"
	case "forwardedfor", "forwarded_for", "x_forwarded_for", "xff":
		return "$http_x_forwarded_for"
	}
	return inferKeyWords(key)
}

// inferKeyWords reads a longer key by the words in it ("res_body_bytes",
// "upstream_taken_time", "request_duration_seconds").
func inferKeyWords(key string) string {
	has := func(w ...string) bool {
		for _, x := range w {
			if strings.Contains(key, x) {
				return true
			}
		}
		return false
	}
	up := has("upstream", "ups_", "backend")
	switch {
	case has("cache"):
		// $upstream_cache_status (HIT, MISS) is no upstream status.
	case has("status", "code"):
		if up {
			return "$upstream_status"
		}
		return "$status"
	case has("addr", "server") && up:
		return "$upstream_addr"
	case has("time", "taken", "duration", "latency"):
		switch {
		case up && has("connect"):
			return "$upstream_connect_time"
		case up && has("header"):
			return "$upstream_header_time"
		case up:
			return "$upstream_response_time"
		case has("req"):
			return "$request_time"
		}
	case has("req", "request"):
		// request_length and the like: not the body size.
	case has("body") && has("bytes", "size"):
		return "$body_bytes_sent"
	case has("bytes", "size"):
		return "$bytes_sent"
	case has("agent"):
		return "$http_user_agent"
	case has("refer"):
		return "$http_referer"
	case has("forwarded"):
		return "$http_x_forwarded_for"
	case has("method"):
		return "$request_method"
	}
	return ""
}

// inferNamer names the columns of the chosen skeleton, from the surest
// evidence (keys, the anchors every access log has) to the least (the
// position of what is left).
type inferNamer struct {
	cols                    []inferCol
	used                    map[string]bool
	reqAt, statusAt, addrAt int // the request, $status, $upstream_addr columns; -1 until found
}

func (nm *inferNamer) give(c *inferCol, name string) {
	c.name = name
	nm.used[name] = true
}

func (nm *inferNamer) free(name string) bool { return !nm.used[name] }

// inferAssign names every column.
func inferAssign(cols []inferCol) error {
	nm := &inferNamer{cols: cols, used: map[string]bool{}, reqAt: -1, statusAt: -1, addrAt: -1}
	nm.byKey()
	nm.anchors()
	nm.request()
	// Without a request line there is no telling an access log from any
	// other log with a 3-digit number in it.
	if nm.reqAt < 0 && !nm.used["$request_uri"] {
		return ErrNoRequest
	}
	if !nm.status() {
		return ErrNoStatus
	}
	// nginx writes no log level in an access log; request lines after
	// one are an application server's ('INFO:     127.0.0.1:5000 - "GET /
	// HTTP/1.1" 200 OK', '... INFO aiohttp.access 127.0.0.1 "GET ..." 200'),
	// which its own parser should have.
	for i := 0; i < nm.reqAt; i++ {
		if c := &nm.cols[i]; c.first.key == "" && !c.first.quoted && inferIsLevel(c.vals[0]) && c.constant() {
			return ErrAppLog
		}
	}
	nm.bodyBytes()
	nm.upstreamAddr()
	nm.upstreamStatus()
	nm.times()
	nm.headers()
	nm.rest()
	return nil
}

// byKey names key=value fields, and values after label words, by the key
// when the values have the key's shape.
func (nm *inferNamer) byKey() {
	// Labels: constant words written before a value name it, as a key
	// does ("upstream connect time=$upstream_connect_time", "upstream
	// status $upstream_status").
	labels := make([]string, len(nm.cols))
	wordsFrom := -1
	for i := range nm.cols {
		c := &nm.cols[i]
		if c.constWord() {
			if wordsFrom < 0 {
				wordsFrom = i
			}
			continue
		}
		var parts []string
		if wordsFrom >= 0 {
			for _, w := range nm.cols[wordsFrom:i] {
				parts = append(parts, strings.ToLower(w.vals[0]))
			}
		}
		if c.first.key != "" {
			parts = append(parts, c.first.key)
		}
		if len(parts) > 1 || len(parts) == 1 && c.first.key != "" {
			labels[i] = strings.Join(parts, "_")
		}
		if c.first.key != "" && wordsFrom >= 0 && inferKeyVar(labels[i]) == "" {
			labels[i] = c.first.key // the words say nothing the key does not
		}
		wordsFrom = -1
	}
	// Keys first, when the values have the key's shape. The time keys
	// take the time variable the value's shape says.
	for i := range nm.cols {
		c := &nm.cols[i]
		key := labels[i]
		if key == "" {
			continue
		}
		v := inferKeyVar(key)
		if v != "" && c.dash == c.n && inferKeyWords(key) == v {
			v = "" // a name guessed from words, and no value to confirm it
		}
		if v == "time" {
			v = inferTimeVar(c)
		}
		if v == "$http_user_agent" && c.isAddrs() {
			v = "$upstream_addr"
		}
		if v == "$host" && c.isIP() {
			v = "$remote_addr" // LTSV's "host" is the client
		}
		if v == "" || !nm.free(v) || !inferShapeFits(v, c) {
			continue
		}
		nm.give(c, v)
		// The words of the label are the format's text.
		for j := i - 1; j >= 0 && nm.cols[j].constWord(); j-- {
			nm.cols[j].name = nm.cols[j].vals[0]
		}
	}
}

// anchors names the client address (with combined's "- $remote_user")
// and the time.
func (nm *inferNamer) anchors() {
	for i := range nm.cols {
		c := &nm.cols[i]
		if c.name != "" || i > 3 || !nm.free("$remote_addr") {
			continue
		}
		if c.isIP() {
			nm.give(c, "$remote_addr")
			// combined's "- $remote_user": a literal '-' and the user.
			if i+2 < len(nm.cols) && nm.cols[i+1].name == "" && nm.cols[i+2].name == "" && !nm.cols[i+1].first.quoted &&
				!nm.cols[i+2].first.quoted && nm.cols[i+1].dash == nm.cols[i+1].n && nm.cols[i+2].first.key == "" &&
				nm.cols[i+2].str+nm.cols[i+2].dash == nm.cols[i+2].n {
				nm.cols[i+1].name = "-"
				nm.cols[i+1].first.val = ""
				nm.give(&nm.cols[i+2], "$remote_user")
			}
		}
	}
	for i := range nm.cols {
		c := &nm.cols[i]
		if c.name != "" {
			continue
		}
		// $msec wins over a second-precision time wherever it stands.
		if v := inferTimeVar(c); v == "$msec" && nm.free(v) || v != "" && nm.free("time") {
			nm.give(c, v)
			nm.used["time"] = true
		}
	}
	for _, name := range []string{"$time_local", "$time_iso8601", "$msec"} {
		if nm.used[name] {
			nm.used["time"] = true
		}
	}
}

// request finds the request line: quoted, or method, target and protocol
// as bare fields.
func (nm *inferNamer) request() {
	for i := range nm.cols {
		c := &nm.cols[i]
		if c.name == "$request" || c.name == "$request_method" {
			nm.reqAt = i
		}
	}
	for i := range nm.cols {
		c := &nm.cols[i]
		if nm.reqAt >= 0 || c.name != "" {
			continue
		}
		if c.isRequest() && nm.free("$request") {
			nm.give(c, "$request")
			if inferSplitRequest(c) {
				// GitLab's "$request_method $uri $server_protocol": a
				// request nginx could not read is "-  -", not the line.
				c.name = "$request_method $request_uri $server_protocol"
			}
			nm.reqAt = i
			break
		}
		// The request as fields: METHOD, the target (maybe after the
		// scheme and host: "GET http example.com \"/x\""), the protocol.
		if c.allOrDash(c.method) && nm.free("$request_method") {
			u := -1
			for j := i + 1; j < len(nm.cols) && j <= i+3; j++ {
				if nm.cols[j].name == "" && nm.cols[j].allOrDash(nm.cols[j].uri) {
					u = j
					break
				}
			}
			if u < 0 {
				continue
			}
			nm.give(c, "$request_method")
			nm.give(&nm.cols[u], "$request_uri")
			if u+1 < len(nm.cols) && nm.cols[u+1].name == "" && nm.cols[u+1].allOrDash(nm.cols[u+1].proto) {
				nm.give(&nm.cols[u+1], "$server_protocol")
			}
			nm.reqAt = i
			break
		}
	}
}

// status finds $status: the first column after the request (or, without
// one, after the time) that holds a status on every line.
func (nm *inferNamer) status() bool {
	for i := range nm.cols {
		if nm.cols[i].name == "$status" {
			nm.statusAt = i
		}
	}
	if nm.statusAt < 0 {
		from := nm.reqAt
		if from < 0 {
			for i := range nm.cols {
				if n := nm.cols[i].name; n == "$time_local" || n == "$time_iso8601" || n == "$msec" {
					from = i
					break
				}
			}
		}
		for i := from + 1; i < len(nm.cols); i++ {
			c := &nm.cols[i]
			if c.name == "" && c.isStatus() && c.first.key == "" {
				nm.give(c, "$status")
				nm.statusAt = i
				break
			}
		}
	}
	if nm.statusAt < 0 && nm.reqAt >= 0 {
		// Before the request ("[$time_local] $status \"$request\""): only
		// a column that is the one status-shaped column of the line and
		// not the same on every line (a constant 3-digit number is more
		// likely a port or a length than 200 on every request).
		cand := -1
		for i := range nm.cols {
			c := &nm.cols[i]
			if i == nm.reqAt || c.name != "" || c.first.key != "" || !c.isStatus() {
				continue
			}
			if cand >= 0 {
				cand = -2
				break
			}
			cand = i
		}
		if cand >= 0 && cand < nm.reqAt && !nm.cols[cand].constant() {
			nm.give(&nm.cols[cand], "$status")
			nm.statusAt = cand
		}
	}
	return nm.statusAt >= 0
}

// bodyBytes: the body size follows the status (the request between them
// when the status came first).
func (nm *inferNamer) bodyBytes() {
	b := nm.statusAt + 1
	for b < len(nm.cols) && nm.cols[b].name != "" {
		b++
	}
	if b < len(nm.cols) && nm.cols[b].first.key == "" && nm.cols[b].isInt() && nm.free("$body_bytes_sent") {
		nm.give(&nm.cols[b], "$body_bytes_sent")
	}
}

// upstreamAddr finds $upstream_addr by shape.
func (nm *inferNamer) upstreamAddr() {
	for i := range nm.cols {
		if nm.cols[i].name == "$upstream_addr" {
			nm.addrAt = i
		}
	}
	// After the status first. Before it, only a bare column that shows
	// it is an upstream's ("-" for a request that reached none, or a
	// list): a constant address there is the server's own
	// ("$host:$server_port").
	for i := nm.statusAt + 1; i < len(nm.cols) && nm.addrAt < 0; i++ {
		c := &nm.cols[i]
		if c.name == "" && !c.first.brack && c.isAddrs() {
			nm.give(c, "$upstream_addr")
			nm.addrAt = i
		}
	}
	for i := 0; i < nm.statusAt && nm.addrAt < 0; i++ {
		c := &nm.cols[i]
		if c.name == "" && !c.first.brack && !c.first.quoted && c.isAddrs() && c.dash+c.list > 0 {
			nm.give(c, "$upstream_addr")
			nm.addrAt = i
		}
	}
}

// aligned: c's values go with $upstream_addr's, as every upstream field
// does: one item per upstream tried, "-" in all of them when there was none.
func (nm *inferNamer) aligned(c *inferCol) bool {
	if nm.addrAt < 0 {
		return true
	}
	a := &nm.cols[nm.addrAt]
	for k := range c.vals {
		av, cv := a.vals[k], c.vals[k]
		adash, cdash := av == "-" || av == "", cv == "-" || cv == ""
		switch {
		case adash && !cdash:
			return false // no upstream, yet a value
		case cdash:
			if !adash && len(inferItems(av)) != 1 {
				return false
			}
		case len(inferItems(av)) != len(inferItems(cv)):
			return false
		}
	}
	return true
}

// upstreamStatus finds $upstream_status: status lists aligned with the
// addresses, the one that most often ends with the request's status.
func (nm *inferNamer) upstreamStatus() {
	if nm.free("$upstream_status") {
		best, bestEq := -1, -1
		for i := range nm.cols {
			c := &nm.cols[i]
			if c.name != "" || i == nm.statusAt || c.first.brack || !c.isStatuses() || !nm.aligned(c) {
				continue
			}
			if nm.addrAt < 0 && c.dash == 0 && c.list == 0 {
				continue // no sign this is a list rather than some other 3-digit number
			}
			eq := 0
			for k, v := range c.vals {
				if items := inferItems(v); items[len(items)-1] == nm.cols[nm.statusAt].vals[k] {
					eq++
				}
			}
			if eq > bestEq {
				best, bestEq = i, eq
			}
		}
		if best >= 0 {
			nm.give(&nm.cols[best], "$upstream_status")
		}
	}
}

// times names the times: $request_time is never "-" nor a list and is the
// largest (it spans the whole request); the upstream times are aligned with
// the addresses and ordered connect <= header <= response.
func (nm *inferNamer) times() {
	var secs []int
	for i := range nm.cols {
		c := &nm.cols[i]
		if c.name == "" && !c.first.brack && c.isSeconds() && c.sec+c.list+c.dash > 0 {
			secs = append(secs, i)
		}
	}
	if nm.free("$request_time") {
		best := -1
		for _, i := range secs {
			c := &nm.cols[i]
			if c.dash > 0 || c.list > 0 {
				continue
			}
			if best < 0 || inferLess(&nm.cols[best], c) > 0 {
				best = i
			}
		}
		if best >= 0 {
			nm.give(&nm.cols[best], "$request_time")
		}
	}
	var ups []int
	for _, i := range secs {
		if nm.cols[i].name == "" && nm.aligned(&nm.cols[i]) {
			ups = append(ups, i)
		}
	}
	sort.SliceStable(ups, func(a, b int) bool { return inferLess(&nm.cols[ups[a]], &nm.cols[ups[b]]) < 0 })
	var names []string
	for _, n := range []string{"$upstream_connect_time", "$upstream_header_time", "$upstream_response_time"} {
		if nm.free(n) {
			names = append(names, n)
		}
	}
	// The largest is the response time; with two, the other is the header
	// time when it mostly equals the response time, else the connect time.
	if len(ups) > len(names) {
		ups = ups[len(ups)-len(names):]
	}
	switch {
	case len(ups) == 1 && nm.free("$upstream_response_time"):
		nm.give(&nm.cols[ups[0]], "$upstream_response_time")
	case len(ups) == 2 && nm.free("$upstream_response_time"):
		nm.give(&nm.cols[ups[1]], "$upstream_response_time")
		other := "$upstream_connect_time"
		if inferMostlyEqual(&nm.cols[ups[0]], &nm.cols[ups[1]]) {
			other = "$upstream_header_time"
		}
		if nm.free(other) {
			nm.give(&nm.cols[ups[0]], other)
		}
	default:
		for k, i := range ups {
			if k < len(names) {
				nm.give(&nm.cols[i], names[len(names)-len(ups)+k])
			}
		}
	}
}

// headers names quoted strings: a host name, then after the status the
// referer, the user agent, X-Forwarded-For; and a request id.
func (nm *inferNamer) headers() {
	// A quoted host name: $host (before the referer, which it would be taken for).
	for i := range nm.cols {
		c := &nm.cols[i]
		if c.name == "" && c.first.quoted && c.first.key == "" && c.dash == 0 && inferAllHostNames(c) && nm.free("$host") {
			nm.give(c, "$host")
		}
	}
	// Strings after the status, by what they hold: the referer is "-" or
	// a URL, the user agent other text, X-Forwarded-For addresses;
	// combined's order ("$http_referer" "$http_user_agent") when they look
	// alike.
	text := func(c *inferCol) bool {
		// Quoted, or between tabs (a bare value may hold spaces there);
		// a column of numbers or addresses is not a header.
		return c.name == "" && c.first.key == "" && (c.first.quoted || strings.HasSuffix(c.first.pre, "\t")) &&
			!(c.str+c.dash+c.uri+c.ip+c.method == 0 && c.n > 0)
	}
	for i := nm.statusAt + 1; i < len(nm.cols); i++ {
		c := &nm.cols[i]
		if !text(c) {
			continue
		}
		switch {
		case nm.free("$http_referer") && inferAllDashOrURL(c):
			nm.give(c, "$http_referer")
		case nm.free("$http_user_agent") && c.str > 0:
			nm.give(c, "$http_user_agent")
		case nm.free("$http_x_forwarded_for") && inferAllIPLists(c):
			nm.give(c, "$http_x_forwarded_for")
		}
	}
	// A user agent between the request and the status (Discourse's
	// "$request" "$http_user_agent" ... $status): text, not just "-".
	for i := nm.reqAt + 1; i < nm.statusAt && nm.free("$http_user_agent"); i++ {
		if c := &nm.cols[i]; text(c) && c.str > 0 && !inferAllDashOrURL(c) {
			nm.give(c, "$http_user_agent")
		}
	}
	for i := range nm.cols {
		c := &nm.cols[i]
		if c.name == "" && c.allOrDash(c.hexID) && nm.free("$request_id") {
			nm.give(c, "$request_id")
		}
	}
}

// rest gives what is left a throw-away variable: matched and skipped. A
// list column nothing named (ingress-nginx's $upstream_response_length)
// gets a name that says so.
func (nm *inferNamer) rest() {
	// With the request line logged, a separate path field may be $uri
	// (no arguments) whatever its key says: the request's target wins.
	for i := range nm.cols {
		if nm.used["$request"] && nm.cols[i].name == "$request_uri" {
			nm.cols[i].name = "$uri"
		}
	}
	for i := range nm.cols {
		c := &nm.cols[i]
		switch {
		case c.name == "-":
			c.name = "-"
		case c.name != "":
		case c.list > 0 && c.first.key == "":
			// An upstream_ name: the access parser reads it as a list
			// ("0, 3", "0 : 3") to find where it ends.
			c.name = fmt.Sprintf("$upstream_list_%d", i+1)
		case c.first.key != "" && inferIsVarName(c.first.key):
			c.name = "$" + c.first.key
			if v := accessFormatVar(c.first.key); v != avUnknown && v != avUnknownList {
				c.name = fmt.Sprintf("$field_%d", i+1) // a known name the values do not fit
			}
		default:
			c.name = fmt.Sprintf("$field_%d", i+1)
		}
	}
}

func inferIsVarName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isVarNameByte(s[i]) {
			return false
		}
	}
	return true
}

func inferTimeVar(c *inferCol) string {
	switch {
	case c.isTimeLocal():
		return "$time_local"
	case c.isISO():
		return "$time_iso8601"
	case c.isMsec():
		return "$msec"
	}
	return ""
}

// inferShapeFits checks a key's variable against its values.
func inferShapeFits(v string, c *inferCol) bool {
	switch v {
	case "$remote_addr":
		return c.isIP()
	case "$request":
		return c.isRequest()
	case "$status":
		return c.isStatus()
	case "$body_bytes_sent", "$bytes_sent", "$connection":
		return c.allOrDash(c.intg)
	case "$request_time":
		return c.isSeconds() && c.list == 0
	case "$upstream_response_time", "$upstream_connect_time", "$upstream_header_time":
		return c.isSeconds() || c.dash == c.n
	case "$upstream_addr":
		return c.isAddrs() || c.dash == c.n
	case "$upstream_status":
		return c.isStatuses() || c.dash == c.n
	case "$request_id":
		return c.allOrDash(c.hexID)
	case "$request_method":
		return c.allOrDash(c.method)
	case "$server_protocol":
		return c.allOrDash(c.proto)
	case "$http_user_agent", "$http_referer", "$http_x_forwarded_for", "$request_uri", "$host":
		return true
	}
	return false
}

// inferLess compares two time columns over the lines where both have a
// value: -1 when a is mostly smaller, 1 when larger, 0 when they tie.
func inferLess(a, b *inferCol) int {
	lt, gt := 0, 0
	for k := range a.vals {
		x, okx := inferSum(a.vals[k])
		y, oky := inferSum(b.vals[k])
		if !okx || !oky {
			continue
		}
		switch {
		case x < y:
			lt++
		case x > y:
			gt++
		}
	}
	switch {
	case lt > gt:
		return -1
	case gt > lt:
		return 1
	}
	return 0
}

func inferMostlyEqual(a, b *inferCol) bool {
	eq, n := 0, 0
	for k := range a.vals {
		x, okx := inferSum(a.vals[k])
		y, oky := inferSum(b.vals[k])
		if !okx || !oky {
			continue
		}
		n++
		if y-x <= 0.002 {
			eq++
		}
	}
	return n > 0 && eq*2 > n
}

func inferSum(v string) (float64, bool) {
	s, ok := 0.0, false
	for _, it := range inferItems(v) {
		if x, err := strconv.ParseFloat(it, 64); err == nil {
			s += x
			ok = true
		}
	}
	return s, ok
}

func inferAllDashOrURL(c *inferCol) bool {
	for _, v := range c.vals {
		if v != "-" && v != "" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			return false
		}
	}
	return true
}

func inferAllIPLists(c *inferCol) bool {
	for _, v := range c.vals {
		if v == "-" || v == "" {
			continue
		}
		for _, it := range strings.Split(v, ",") {
			if !inferIsIP(strings.TrimSpace(it)) {
				return false
			}
		}
	}
	return true
}

func inferAllHostNames(c *inferCol) bool {
	for _, v := range c.vals {
		if !inferIsName(v) || inferDigits(strings.ReplaceAll(v, ".", "")) || !strings.ContainsAny(v, ".") && v != "localhost" {
			return false
		}
	}
	return len(c.vals) > 0
}

// inferJSON infers a JSON template (escape=json) from JSON access lines:
// keys name the variables as the JSON reader understands them
// (accessJSONKey), and the template keeps the lines' own quoting, so that
// the invalid JSON nginx writes for unquoted upstream variables ("us":502, 200)
// is read too.
func inferJSON(sample [][]byte) (string, error) {
	rows := inferCommonest(sample, inferJSONTokenize)
	if rows == nil {
		return "", errors.New("no JSON object with plain values found")
	}
	cols := make([]inferCol, len(rows[0].fields))
	used := map[string]bool{}
	for i := range cols {
		c := &cols[i]
		c.idx, c.first = i, rows[0].fields[i]
		for _, r := range rows {
			c.vals = append(c.vals, r.fields[i].val)
		}
		c.shape()
		k := strings.ToLower(strings.TrimLeft(c.first.key, "$@"))
		name := inferJSONVarName(accessJSONKey(k))
		if name == "time" {
			name = inferTimeVar(c)
		}
		if name == "" {
			if v := inferKeyVar(k); v != "" && v != "time" && inferShapeFits(v, c) {
				name = v
			}
		}
		if name == "$status" && !c.isStatus() {
			name = ""
		}
		if name == "" && c.isRequest() && c.first.quoted {
			name = "$request" // a request line under a key of its own ("short_message")
		}
		if name == "" || used[name] {
			name = fmt.Sprintf("$field_%d", i+1)
		}
		used[name] = true
		c.name = name
	}
	// With the request line logged, a separate path field may be $uri
	// (no arguments) whatever its key says: the request's target wins.
	for i := range cols {
		if used["$request"] && cols[i].name == "$request_uri" {
			cols[i].name = "$uri"
		}
	}
	if !used["$status"] {
		return "", ErrNoStatus
	}
	if !used["$request"] && !used["$request_method"] && !used["$request_uri"] && !used["$uri"] {
		return "", ErrNoRequest
	}
	if !used["$time_local"] && !used["$time_iso8601"] && !used["$msec"] {
		// Epoch milliseconds or another stamp the template cannot name:
		// the JSON reader, by keys, knows more time forms than a template.
		return "", ErrNoTime
	}
	var b strings.Builder
	// A JSON template is usually escape=json, but not always: nginx's
	// default escaping writes \x22 where escape=json writes \".
	if !inferDefaultEscaped(rows) {
		b.WriteString("escape=json ")
	}
	for i := range cols {
		b.WriteString(cols[i].first.pre)
		b.WriteString(cols[i].name)
	}
	b.WriteString(rows[0].suffix)
	if strings.Contains(rows[0].skel, "$") {
		return "", errors.New("the lines' literal text holds a '$'")
	}
	return b.String(), nil
}

func inferJSONVarName(v accessVar) string {
	switch v {
	case avTimeAny:
		return "time"
	case avRemoteAddr:
		return "$remote_addr"
	case avRequest:
		return "$request"
	case avMethod:
		return "$request_method"
	case avRequestURI:
		return "$request_uri"
	case avURI:
		return "$uri"
	case avProtocol:
		return "$server_protocol"
	case avStatus:
		return "$status"
	case avBodyBytes:
		return "$body_bytes_sent"
	case avBytesSent:
		return "$bytes_sent"
	case avReferer:
		return "$http_referer"
	case avUserAgent:
		return "$http_user_agent"
	case avRequestTime:
		return "$request_time"
	case avUpstreamAddr:
		return "$upstream_addr"
	case avUpstreamStatus:
		return "$upstream_status"
	case avUpstreamConnectTime:
		return "$upstream_connect_time"
	case avUpstreamHeaderTime:
		return "$upstream_header_time"
	case avUpstreamResponseTime:
		return "$upstream_response_time"
	case avRequestID:
		return "$request_id"
	case avConnection:
		return "$connection"
	case avServerName:
		return "$server_name"
	case avHost:
		return "$host"
	case avHTTPHost:
		return "$http_host"
	case avHostname:
		return "$hostname"
	case avPID:
		return "$pid"
	}
	return ""
}

// inferJSONTokenize cuts a flat JSON object into key/value fields. A bare
// value runs to the next `,"` or the closing brace, so nginx's unquoted
// lists ("us":502, 200,) and empty values ("us":,) stay one value. Nested
// objects and arrays are not templates: ok is false.
func inferJSONTokenize(line string) (*inferLine, bool) {
	il := &inferLine{}
	i, start := 0, 0
	if !strings.HasPrefix(line, "{") {
		return nil, false
	}
	i = 1
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == ',') {
			i++
		}
		if i >= len(line) || line[i] == '}' {
			break
		}
		if line[i] != '"' {
			return nil, false
		}
		ke := strings.IndexByte(line[i+1:], '"')
		if ke < 0 {
			return nil, false
		}
		key := line[i+1 : i+1+ke]
		i += ke + 2
		for i < len(line) && (line[i] == ' ' || line[i] == ':') {
			i++
		}
		if i >= len(line) {
			return nil, false
		}
		f := inferField{key: key}
		switch line[i] {
		case '{', '[':
			return nil, false
		case '"':
			e := i + 1
			for e < len(line) && line[e] != '"' {
				if line[e] == '\\' {
					e++
				}
				e++
			}
			if e >= len(line) {
				return nil, false
			}
			f.pre, f.val, f.quoted = line[start:i+1], line[i+1:e], true
			start, i = e, e+1
		default:
			e := i
			for e < len(line) && !(line[e] == ',' && inferNextIsQuote(line[e+1:])) && line[e] != '}' {
				e++
			}
			f.pre, f.val = line[start:i], strings.TrimRight(line[i:e], " ")
			start, i = i+len(f.val), e
		}
		if f.val == "" {
			// An empty value would put two variables' texts side by side
			// in the template only if it were bare; keep it, as "-".
			f.val = "-"
		}
		il.fields = append(il.fields, f)
	}
	if len(il.fields) == 0 {
		return nil, false
	}
	il.suffix = line[start:]
	var skel strings.Builder
	for _, f := range il.fields {
		skel.WriteString(f.pre)
		skel.WriteByte(0)
	}
	skel.WriteString(il.suffix)
	il.skel = skel.String()
	return il, true
}

// inferNextIsQuote: s starts with a quote after optional spaces (the next
// key of a JSON template written with ", " between pairs).
func inferNextIsQuote(s string) bool {
	s = strings.TrimLeft(s, " ")
	return s != "" && s[0] == '"'
}

func inferSplitRequest(c *inferCol) bool {
	for _, v := range c.vals {
		if strings.HasPrefix(v, "- ") && strings.HasSuffix(v, " -") && strings.Count(v, " ") == 2 {
			return true
		}
	}
	return false
}
