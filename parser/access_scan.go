package parser

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Hand-written conversions for the access log hot path: time.Parse and
// strconv allocate on some paths and are several times slower on the fixed
// shapes nginx writes.

// accessParseTime reads a time of the kind v names. Times with an offset are
// exact; only an ISO time without one (a JSON log's own field) uses loc.
func accessParseTime(v accessVar, b []byte, loc *time.Location) (time.Time, bool) {
	switch v {
	case avTimeLocal:
		return accessTimeLocal(b)
	case avTimeISO:
		return accessTimeISO(b, loc)
	case avMsec:
		return accessEpoch(b, false)
	}
	switch {
	case len(b) > 2 && b[2] == '/':
		return accessTimeLocal(b)
	case len(b) > 4 && b[4] == '-':
		return accessTimeISO(b, loc)
	}
	return accessEpoch(b, true)
}

func accessTimeWant(v accessVar) string {
	switch v {
	case avTimeLocal:
		return `$time_local like "25/Nov/2026:16:35:01 +0000"`
	case avTimeISO:
		return `$time_iso8601 like "2026-11-25T16:35:01+00:00"`
	case avMsec:
		return `$msec like "1764088501.123"`
	}
	return "a time ($time_local, $time_iso8601, RFC 3339 or Unix seconds)"
}

// accessTimeLocal reads $time_local, "25/Nov/2026:16:35:01 +0000".
func accessTimeLocal(b []byte) (time.Time, bool) {
	if len(b) != 26 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' || b[20] != ' ' {
		return time.Time{}, false
	}
	mon := accessMonth(b[3], b[4], b[5])
	d, ok1 := accessD2(b, 0)
	c, ok2 := accessD2(b, 7)
	yy, ok3 := accessD2(b, 9)
	h, ok4 := accessD2(b, 12)
	mi, ok5 := accessD2(b, 15)
	s, ok6 := accessD2(b, 18)
	oh, ok7 := accessD2(b, 22)
	om, ok8 := accessD2(b, 24)
	if mon == 0 || !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) || oh > 23 || om > 59 {
		return time.Time{}, false
	}
	off := oh*3600 + om*60
	switch b[21] {
	case '-':
		off = -off
	case '+':
	default:
		return time.Time{}, false
	}
	return accessUnix(c*100+yy, mon, d, h, mi, s, 0, off)
}

// accessTimeISO reads $time_iso8601 ("2026-11-25T16:35:01+00:00") and the
// RFC 3339 variants JSON logs carry: a space for T, fractional seconds, Z,
// +hhmm, or no offset at all (then the time is in loc).
func accessTimeISO(b []byte, loc *time.Location) (time.Time, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	y, ok1 := accessDigits(b[0:4])
	mon, ok2 := accessDigits(b[5:7])
	d, ok3 := accessDigits(b[8:10])
	h, ok4 := accessDigits(b[11:13])
	mi, ok5 := accessDigits(b[14:16])
	s, ok6 := accessDigits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		scale := 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	switch {
	case len(rest) == 0:
		if mon < 1 || mon > 12 || !accessValid(y, mon, d, h, mi, s) {
			return time.Time{}, false
		}
		return time.Date(y, time.Month(mon), d, h, mi, s, nsec, loc).UTC(), true
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
		return accessUnix(y, mon, d, h, mi, s, nsec, 0)
	}
	off, ok := accessOffset(rest)
	if !ok {
		return time.Time{}, false
	}
	return accessUnix(y, mon, d, h, mi, s, nsec, off)
}

// accessEpoch reads $msec ("1764088501.123"); loose also accepts integer
// milliseconds, which JSON loggers often write.
func accessEpoch(b []byte, loose bool) (time.Time, bool) {
	i := 0
	var sec int64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i >= 16 {
			return time.Time{}, false
		}
		sec = sec*10 + int64(b[i]-'0')
		i++
	}
	if i == 0 {
		return time.Time{}, false
	}
	nsec := int64(0)
	if i < len(b) {
		if b[i] != '.' {
			return time.Time{}, false
		}
		scale := int64(100000000)
		j := i + 1
		for ; j < len(b); j++ {
			c := b[j]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			nsec += int64(c-'0') * scale
			scale /= 10
		}
		if j == i+1 {
			return time.Time{}, false
		}
	} else if loose && sec > 1e11 {
		return time.UnixMilli(sec).UTC(), true
	}
	return time.Unix(sec, nsec).UTC(), true
}

// accessOffset reads +hhmm, +hh:mm or +hh as seconds east of UTC.
func accessOffset(b []byte) (int, bool) {
	if len(b) < 3 || (b[0] != '+' && b[0] != '-') {
		return 0, false
	}
	h, ok := accessDigits(b[1:3])
	if !ok || h > 23 {
		return 0, false
	}
	m := 0
	switch r := b[3:]; {
	case len(r) == 0:
	case len(r) == 2:
		m, ok = accessDigits(r)
	case len(r) == 3 && r[0] == ':':
		m, ok = accessDigits(r[1:])
	default:
		return 0, false
	}
	if !ok || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if b[0] == '-' {
		off = -off
	}
	return off, true
}

func accessDigits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

func accessMonth(a, b, c byte) int {
	// One integer compare per month instead of string compares.
	switch uint32(a)<<16 | uint32(b)<<8 | uint32(c) {
	case 'J'<<16 | 'a'<<8 | 'n':
		return 1
	case 'F'<<16 | 'e'<<8 | 'b':
		return 2
	case 'M'<<16 | 'a'<<8 | 'r':
		return 3
	case 'A'<<16 | 'p'<<8 | 'r':
		return 4
	case 'M'<<16 | 'a'<<8 | 'y':
		return 5
	case 'J'<<16 | 'u'<<8 | 'n':
		return 6
	case 'J'<<16 | 'u'<<8 | 'l':
		return 7
	case 'A'<<16 | 'u'<<8 | 'g':
		return 8
	case 'S'<<16 | 'e'<<8 | 'p':
		return 9
	case 'O'<<16 | 'c'<<8 | 't':
		return 10
	case 'N'<<16 | 'o'<<8 | 'v':
		return 11
	case 'D'<<16 | 'e'<<8 | 'c':
		return 12
	}
	return 0
}

// accessD2 reads two digits.
func accessD2(b []byte, i int) (int, bool) {
	x, y := b[i]-'0', b[i+1]-'0'
	return int(x)*10 + int(y), x <= 9 && y <= 9
}

func accessValid(y, mon, d, h, mi, s int) bool {
	if y < 1970 || y > 9999 || mon < 1 || mon > 12 || d < 1 || h > 23 || mi > 59 || s > 60 {
		return false
	}
	dim := 31
	switch mon {
	case 4, 6, 9, 11:
		dim = 30
	case 2:
		dim = 28
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			dim = 29
		}
	}
	return d <= dim
}

// accessUnix builds a UTC time from civil fields and an offset east of UTC
// without time.Date's zone lookup; the day count is Howard Hinnant's
// days_from_civil.
func accessUnix(y, mon, d, h, mi, s, nsec, off int) (time.Time, bool) {
	if !accessValid(y, mon, d, h, mi, s) {
		return time.Time{}, false
	}
	yy := y
	if mon <= 2 {
		yy--
	}
	era := yy / 400
	yoe := yy - era*400
	mp := (mon + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := int64(era*146097 + doe - 719468)
	sec := days*86400 + int64(h*3600+mi*60+s) - int64(off)
	return time.Unix(sec, int64(nsec)).UTC(), true
}

// accessUint reads a non-negative decimal integer of at most 18 digits.
func accessUint(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// accessFloat reads nginx's fixed-point seconds ("0.001"). Dividing the
// exact integer mantissa by an exact power of ten rounds once, so the result
// equals strconv.ParseFloat's; other shapes (exponents, from JSON) go to it.
func accessFloat(b []byte) (float64, bool) {
	// nginx writes times as d.ddd: the common case without a loop.
	if len(b) == 5 && b[1] == '.' {
		d0, d2, d3, d4 := b[0]-'0', b[2]-'0', b[3]-'0', b[4]-'0'
		if d0 <= 9 && d2 <= 9 && d3 <= 9 && d4 <= 9 {
			return float64(int(d0)*1000+int(d2)*100+int(d3)*10+int(d4)) / 1000, true
		}
	}
	var mant uint64
	digits, exp := 0, 0
	dot := false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits >= 15 {
				return accessFloatSlow(b)
			}
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				exp++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return accessFloatSlow(b)
		}
	}
	if digits == 0 {
		return 0, false
	}
	p := 1.0
	for i := 0; i < exp; i++ {
		p *= 10
	}
	return float64(mant) / p, true
}

func accessFloatSlow(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	x, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil || x < 0 || x != x {
		return 0, false
	}
	return x, true
}

func accessHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// accessUnescapeDefault undoes nginx's escape=default: \xHH becomes the
// byte it stands for (so a UTF-8 URI reads as UTF-8 again); any other
// backslash is kept as written.
func accessUnescapeDefault(dst, src []byte) []byte {
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\\' && i+3 < len(src) && src[i+1] == 'x' {
			hi, ok1 := accessHex(src[i+2])
			lo, ok2 := accessHex(src[i+3])
			if ok1 && ok2 {
				dst = append(dst, hi<<4|lo)
				i += 3
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// accessUnescapeJSON undoes JSON string escapes (nginx's escape=json writes
// \" \\ \n \r \t \b \f and \u00XX); a malformed escape is kept as written.
func accessUnescapeJSON(dst, src []byte) []byte {
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '\\' || i+1 >= len(src) {
			dst = append(dst, c)
			continue
		}
		switch e := src[i+1]; e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			r, ok := accessHex4(src[i+2:])
			if !ok {
				dst = append(dst, c)
				continue
			}
			n := 6
			if r >= 0xD800 && r < 0xDC00 && len(src) >= i+12 && src[i+6] == '\\' && src[i+7] == 'u' {
				if r2, ok := accessHex4(src[i+8:]); ok && r2 >= 0xDC00 && r2 < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					n = 12
				}
			}
			dst = utf8.AppendRune(dst, r)
			i += n - 1
			continue
		default:
			dst = append(dst, c)
			continue
		}
		i++
	}
	return dst
}

func accessHex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		h, ok := accessHex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(h)
	}
	return r, true
}

// SWAR ("SIMD within a register") scanning for the hot path: eight bytes
// per load and bit tricks instead of a byte loop. What a byte loop costs on
// these lines is less its instructions than the mispredicted branch where a
// field of varying length ends; one load, a mask and a count of trailing
// zeros have no such branch.
const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// accessLoad8 returns the eight bytes at line[i:] as a little-endian word,
// zero-padded past the end of the line (a zero byte is neither a digit nor
// anything a log_format literal starts with).
func accessLoad8(line []byte, i int) uint64 {
	if i >= 0 && i <= len(line)-8 {
		return binary.LittleEndian.Uint64(line[i:])
	}
	var b [8]byte
	if i >= 0 && i < len(line) {
		copy(b[:], line[i:])
	}
	return binary.LittleEndian.Uint64(b[:])
}

// accessDigitRun returns how many of the bytes of x, from the lowest, are
// ASCII digits (0 to 8). A byte is a digit when its high nibble is 3 and
// adding 6 keeps it so; carries from adding 6 run only upwards from a
// non-digit byte, so they cannot spoil the bytes below the first one.
func accessDigitRun(x uint64) int {
	const n3, f0, six = 0x3030303030303030, 0xF0F0F0F0F0F0F0F0, 0x0606060606060606
	nd := (x&f0 ^ n3) | ((x+six)&f0 ^ n3)
	return bits.TrailingZeros64(nd) >> 3
}

// accessSWARUint returns the value of the n (1 to 8) decimal digits that are
// the lowest bytes of x: the digits are moved to the top of the word (the
// bytes shifted in are zeros, i.e. leading zero digits) and combined
// pairwise, by fours, then by eights, with three multiplications.
func accessSWARUint(x uint64, n int) uint64 {
	x = (x & 0x0F0F0F0F0F0F0F0F) << (64 - 8*uint(n))
	x = (x * 2561) >> 8 & 0x00FF00FF00FF00FF
	x = (x * 6553601) >> 16 & 0x0000FFFF0000FFFF
	return (x * 42949672960001) >> 32
}

// accessSWARIndex is bytes.IndexByte(line[from:], c) + from (or -1) for a
// value expected to be short: a word at a time without the call and set-up
// of the vectorised search, which only pay off over longer distances. The
// lowest byte flagged by the zero-byte test is exact (false positives of
// that test sit only above a true zero byte).
func accessSWARIndex(line []byte, from int, c byte) int {
	pat := swarLo * uint64(c)
	i := from
	for ; i >= 0 && i <= len(line)-8; i += 8 {
		x := binary.LittleEndian.Uint64(line[i:]) ^ pat
		if m := (x - swarLo) &^ x & swarHi; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i >= 0 && i < len(line); i++ {
		if line[i] == c {
			return i
		}
	}
	return -1
}

// accessScanUint reads the decimal digits at line[pos:] (at most 18) and
// returns their value and where they end; end == pos when there are none.
func accessScanUint(line []byte, pos int) (int64, int) {
	x := accessLoad8(line, pos)
	if n := accessDigitRun(x); n < 8 {
		if n == 0 {
			return 0, pos
		}
		return int64(accessSWARUint(x, n)), pos + n
	}
	n, i := accessDigitsAt(line, pos, 18, 0)
	return int64(n), i
}

// accessDigitsAt reads at most max decimal digits from line[i:], appending
// them to mant, and returns the new mantissa and where the digits end.
func accessDigitsAt(line []byte, i, max int, mant uint64) (uint64, int) {
	for end := i + max; i < len(line) && i < end; i++ {
		c := line[i] - '0'
		if c > 9 {
			break
		}
		mant = mant*10 + uint64(c)
	}
	return mant, i
}

// accessZeroBytes flags (bit 7 of the byte) the zero bytes of v; the lowest
// flag is exact, the ones above a zero byte may be false.
func accessZeroBytes(v uint64) uint64 {
	return (v - swarLo) &^ v & swarHi
}

// accessIndexStop returns the index of the first byte from i on that ends
// an $upstream_addr item: ' ', ',', '\\' or c (the literal after the
// variable), or len(line). The lowest flag of an OR of exact lowest flags is
// exact.
func accessIndexStop(line []byte, i int, c byte) int {
	pc := swarLo * uint64(c)
	for ; i >= 0 && i < len(line)-7; i += 8 {
		x := binary.LittleEndian.Uint64(line[i:])
		m := accessZeroBytes(x^(swarLo*' ')) | accessZeroBytes(x^(swarLo*',')) |
			accessZeroBytes(x^(swarLo*'\\')) | accessZeroBytes(x^pc)
		if m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i >= 0 && i < len(line); i++ {
		if b := line[i]; b == ' ' || b == ',' || b == '\\' || b == c {
			return i
		}
	}
	return len(line)
}
