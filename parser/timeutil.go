package parser

// Time helpers shared by every source parser. They read bytes in place, never
// allocate and never use time.Parse: layouts are fixed, and time.Parse costs
// more than the rest of a line's parsing together.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"
)

// digitsN reads exactly n ASCII digits at b[i:], or reports false.
func digitsN(b []byte, i, n int) (int, bool) {
	if i < 0 || i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// leadingInt reads the decimal digits at the start of b (at most 18, so it
// cannot overflow) and returns the value and how many bytes it used.
func leadingInt(b []byte) (int64, int) {
	var v int64
	i := 0
	for i < len(b) && i < 18 && b[i] >= '0' && b[i] <= '9' {
		v = v*10 + int64(b[i]-'0')
		i++
	}
	return v, i
}

// parseISOTime reads an ISO 8601 / RFC 3339 stamp at the start of b:
// YYYY-MM-DD, 'T' or ' ', hh:mm:ss, an optional fraction after '.' or ','
// (dmesg --time-format iso uses a comma), and an optional zone: Z, ±hh:mm,
// ±hhmm or ±hh. A stamp without zone is read in loc. It returns the time and
// the number of bytes consumed.
func parseISOTime(b []byte, loc *time.Location) (time.Time, int, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, 0, false
	}
	year, ok1 := digitsN(b, 0, 4)
	month, ok2 := digitsN(b, 5, 2)
	day, ok3 := digitsN(b, 8, 2)
	hour, ok4 := digitsN(b, 11, 2)
	minute, ok5 := digitsN(b, 14, 2)
	sec, ok6 := digitsN(b, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 ||
		hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, 0, false
	}
	i := 19
	nsec := 0
	if i < len(b) && (b[i] == '.' || b[i] == ',') && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9' {
		i++
		scale := 100000000
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			nsec += int(b[i]-'0') * scale
			scale /= 10
			i++
		}
	}
	zone := loc
	offset, zoned := 0, false
	if i < len(b) {
		switch c := b[i]; {
		case c == 'Z' || c == 'z':
			zoned = true
			i++
		case c == '+' || c == '-':
			hh, ok := digitsN(b, i+1, 2)
			if !ok {
				break
			}
			j := i + 3
			mm := 0
			if j < len(b) && b[j] == ':' {
				if m, ok := digitsN(b, j+1, 2); ok {
					mm, j = m, j+3
				}
			} else if m, ok := digitsN(b, j, 2); ok {
				mm, j = m, j+2
			}
			if hh > 14 || mm > 59 {
				break
			}
			offset = hh*3600 + mm*60
			if c == '-' {
				offset = -offset
			}
			zoned = true
			i = j
		}
	}
	if zoned {
		t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
		return t.Add(-time.Duration(offset) * time.Second), i, true
	}
	if zone == nil {
		zone = time.UTC
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, zone), i, true
}

// monthIndex maps a three-letter English month abbreviation to 1..12.
func monthIndex(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	// syslog writes English abbreviations with a capital first letter.
	switch string(b[:3]) {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

// localMonth maps the month abbreviations journalctl prints under common
// non-English locales (glibc's %b: fr, de, es, it, pt, ru) to 1..12. Syslog
// daemons write English; journalctl follows LC_TIME, and users paste that.
func localMonth(b []byte) int {
	// glibc writes these in lower case except German; no case folding, so
	// that this allocates nothing.
	switch string(bytes.TrimSuffix(b, []byte("."))) {
	case "janv", "Jän", "ene", "gen", "jan", "янв":
		return 1
	case "févr", "fév", "fev", "feb", "фев":
		return 2
	case "mars", "Mär", "mar", "мар":
		return 3
	case "avril", "avr", "abr", "apr", "апр":
		return 4
	case "mai", "Mai", "may", "mag", "мая", "май":
		return 5
	case "juin", "jun", "giu", "июн":
		return 6
	case "juil", "jul", "lug", "июл":
		return 7
	case "août", "ago", "aug", "авг":
		return 8
	case "sept", "sep", "set", "сен":
		return 9
	case "oct", "Okt", "ott", "out", "окт":
		return 10
	case "nov", "ноя":
		return 11
	case "déc", "Dez", "dic", "dez", "дек":
		return 12
	}
	return 0
}

// parseLocalSyslogTime reads a journalctl stamp with a localized month
// ("avril 16 21:08:50", "апр 28 01:23:30"): the month is a word of its own
// width, then the day and the time as in English.
func parseLocalSyslogTime(b []byte, now time.Time, loc *time.Location) (time.Time, int, bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp < 2 || sp > 12 {
		return time.Time{}, 0, false
	}
	month := localMonth(b[:sp])
	if month == 0 {
		return time.Time{}, 0, false
	}
	i := sp + 1
	if i < len(b) && b[i] == ' ' {
		i++
	}
	day, n := leadingInt(b[i:])
	if n == 0 || n > 2 || day < 1 || day > 31 || i+n+9 > len(b) || b[i+n] != ' ' {
		return time.Time{}, 0, false
	}
	i += n + 1
	hour, ok1 := digitsN(b, i, 2)
	minute, ok2 := digitsN(b, i+3, 2)
	sec, ok3 := digitsN(b, i+6, 2)
	if !(ok1 && ok2 && ok3) || b[i+2] != ':' || b[i+5] != ':' || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, 0, false
	}
	i += 8
	nsec := 0
	if i+1 < len(b) && b[i] == '.' && b[i+1] >= '0' && b[i+1] <= '9' {
		i++
		scale := 100000000
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			nsec += int(b[i]-'0') * scale
			scale /= 10
			i++
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	if now.IsZero() {
		now = time.Now()
	}
	t, _ := inferYearBack(now, loc, time.Month(month), int(day), hour, minute, sec, nsec)
	return t, i, true
}

// parseSyslogTime reads an RFC 3164 stamp "Mmm dd hh:mm:ss" (day padded with
// a space or a zero, an optional fraction as journalctl -o short-precise
// writes) at the start of b. The stamp has no year: it is the year of now,
// unless that puts it more than a day in the future, in which case the line
// was written last year (a December line read in January).
func parseSyslogTime(b []byte, now time.Time, loc *time.Location) (time.Time, int, bool) {
	if len(b) < 15 || b[3] != ' ' || b[9] != ':' || b[12] != ':' {
		return time.Time{}, 0, false
	}
	month := monthIndex(b)
	if month == 0 {
		return time.Time{}, 0, false
	}
	var day int
	switch {
	case b[4] == ' ':
		d, ok := digitsN(b, 5, 1)
		if !ok {
			return time.Time{}, 0, false
		}
		day = d
	default:
		d, ok := digitsN(b, 4, 2)
		if !ok {
			return time.Time{}, 0, false
		}
		day = d
	}
	if b[6] != ' ' || day < 1 || day > 31 {
		return time.Time{}, 0, false
	}
	hour, ok1 := digitsN(b, 7, 2)
	minute, ok2 := digitsN(b, 10, 2)
	sec, ok3 := digitsN(b, 13, 2)
	if !(ok1 && ok2 && ok3) || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, 0, false
	}
	i := 15
	nsec := 0
	if i+1 < len(b) && b[i] == '.' && b[i+1] >= '0' && b[i+1] <= '9' {
		i++
		scale := 100000000
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			nsec += int(b[i]-'0') * scale
			scale /= 10
			i++
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	if now.IsZero() {
		now = time.Now()
	}
	t, _ := inferYearBack(now, loc, time.Month(month), day, hour, minute, sec, nsec)
	return t, i, true
}

// inferYear places a year-less stamp in the year of now, or the year before
// when that would put it more than a day in the future (clock skew between
// hosts is allowed a day).
func inferYear(now time.Time, loc *time.Location, month time.Month, day, hour, minute, sec, nsec int) time.Time {
	t, _ := inferYearBack(now, loc, month, day, hour, minute, sec, nsec)
	return t
}

// inferYearBack is inferYear that also reports whether the stamp was moved
// to the year before now's.
func inferYearBack(now time.Time, loc *time.Location, month time.Month, day, hour, minute, sec, nsec int) (time.Time, bool) {
	year := now.In(loc).Year()
	t := time.Date(year, month, day, hour, minute, sec, nsec, loc)
	if t.Sub(now) > 24*time.Hour {
		return time.Date(year-1, month, day, hour, minute, sec, nsec, loc), true
	}
	return t, false
}

// syslogTime is parseSyslogTime against the Parser's clock. The clock is read
// once per Parser; when a stamp had to be pushed into last year, the clock may
// just be stale (a Parser that has run for days), so it is read again before
// the year is trusted. That costs a clock read only for such stamps.
func (p *Parser) syslogTime(b []byte) (time.Time, int, bool) {
	t, n, ok := parseSyslogTime(b, p.now, p.opts.Location)
	if ok && p.opts.Now != nil && t.Sub(p.now) < -300*24*time.Hour {
		// Far in the past: maybe pushed back a year by a stale clock.
		p.now = p.opts.Now()
		t, n, ok = parseSyslogTime(b, p.now, p.opts.Location)
	}
	return t, n, ok
}

// inferYear is the package inferYear against the Parser's clock, refreshed
// as syslogTime does.
func (p *Parser) inferYear(month time.Month, day, hour, minute, sec, nsec int) time.Time {
	t, back := inferYearBack(p.now, p.opts.Location, month, day, hour, minute, sec, nsec)
	if back && p.opts.Now != nil {
		p.now = p.opts.Now()
		t, _ = inferYearBack(p.now, p.opts.Location, month, day, hour, minute, sec, nsec)
	}
	return t
}

// parseBootSeconds reads "seconds.micros" as dmesg and kern.log print them
// inside brackets and returns the duration since boot.
func parseBootSeconds(b []byte) (time.Duration, bool) {
	secs, n := leadingInt(b)
	if n == 0 {
		return 0, false
	}
	d := time.Duration(secs) * time.Second
	if n == len(b) {
		return d, true
	}
	if b[n] != '.' {
		return 0, false
	}
	frac := b[n+1:]
	if len(frac) == 0 || len(frac) > 9 {
		return 0, false
	}
	scale := int64(100000000)
	var ns int64
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		ns += int64(c-'0') * scale
		scale /= 10
	}
	return d + time.Duration(ns), true
}

// sinceBoot turns a boot-relative offset into wall time. Without a known boot
// time the offset is kept relative to the Unix epoch, as Options documents, so
// the order of events survives.
func (p *Parser) sinceBoot(d time.Duration) time.Time {
	if p.opts.BootTime.IsZero() {
		return time.Unix(0, 0).Add(d).UTC()
	}
	return p.opts.BootTime.Add(d).UTC()
}

// BootTimeFromProc returns the machine's boot time from the btime line of
// /proc/stat, which anchors /dev/kmsg and raw dmesg timestamps.
func BootTimeFromProc() (time.Time, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return time.Time{}, fmt.Errorf("boot time: %w", err)
	}
	defer f.Close()
	t, err := bootTimeFromStat(f)
	if err != nil {
		return time.Time{}, fmt.Errorf("boot time from /proc/stat: %w", err)
	}
	return t, nil
}

func bootTimeFromStat(r io.Reader) (time.Time, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) > 6 && string(line[:6]) == "btime " {
			v, n := leadingInt(line[6:])
			if n == 0 || n != len(line[6:]) {
				return time.Time{}, fmt.Errorf("malformed btime line %q", line)
			}
			return time.Unix(v, 0).UTC(), nil
		}
	}
	if err := sc.Err(); err != nil {
		return time.Time{}, err
	}
	return time.Time{}, fmt.Errorf("no btime line")
}
