package parser

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseISOTime(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	cases := []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339 in UTC, "" for not a stamp
		n    int
	}{
		{"2024-01-01T12:00:00Z rest", time.UTC, "2024-01-01T12:00:00Z", 20},
		{"2019-05-04T18:05:45.011072877-05:00 x", time.UTC, "2019-05-04T23:05:45.011072877Z", 35},
		{"2026-11-25T16:36:03,907753+00:00 msg", time.UTC, "2026-11-25T16:36:03.907753Z", 32}, // dmesg iso
		{"2026-11-25T14:03:01+0000 host", time.UTC, "2026-11-25T14:03:01Z", 24},               // journalctl short-iso
		{"2026-07-01T14:03:01 x", paris, "2026-07-01T12:03:01Z", 19},                          // no zone: configured zone (CEST)
		{"2026-01-01 14:03:01.5 x", paris, "2026-01-01T13:03:01.5Z", 21},                      // space separator, CET
		{"2026-11-25T14:03:01+05 x", time.UTC, "2026-11-25T09:03:01Z", 22},
		{"2026/11/25 14:03:01", time.UTC, "", 0},
		{"2026-13-25T14:03:01Z", time.UTC, "", 0},
		{"2026-11-25T14:03", time.UTC, "", 0},
	}
	for _, c := range cases {
		got, n, ok := parseISOTime([]byte(c.in), c.loc)
		if c.want == "" {
			if ok {
				t.Errorf("%q: parsed as %s", c.in, got)
			}
			continue
		}
		if !ok || got.UTC().Format(time.RFC3339Nano) != c.want || n != c.n {
			t.Errorf("%q: got %s n=%d ok=%v, want %s n=%d", c.in, got.UTC().Format(time.RFC3339Nano), n, ok, c.want, c.n)
		}
	}
}

func TestParseSyslogTime_YearInference(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 5, 0, 0, time.UTC)
	cases := []struct{ in, want string }{
		{"Dec 31 23:59:59 h", "2026-12-31T23:59:59Z"}, // read just after new year: last year
		{"Jan  1 00:04:00 h", "2027-01-01T00:04:00Z"},
		{"Jan  1 20:00:00 h", "2027-01-01T20:00:00Z"}, // ahead by less than a day: clock skew, same year
		{"Jan  3 00:00:00 h", "2026-01-03T00:00:00Z"}, // more than a day ahead: last year
		{"Nov 25 14:03:01.123456 h", "2026-11-25T14:03:01.123456Z"},
		{"Feb 29 12:00:00 h", "2026-03-01T12:00:00Z"}, // not a leap year: time.Date normalises
	}
	for _, c := range cases {
		got, _, ok := parseSyslogTime([]byte(c.in), now, time.UTC)
		if !ok || got.UTC().Format(time.RFC3339Nano) != c.want {
			t.Errorf("%q: got %s ok=%v, want %s", c.in, got.UTC().Format(time.RFC3339Nano), ok, c.want)
		}
	}
	for _, bad := range []string{"Foo 25 14:03:01 h", "Nov 25 14:03 h", "Nov 32 14:03:01 h", "Nov 25 25:03:01 h"} {
		if _, _, ok := parseSyslogTime([]byte(bad), now, time.UTC); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// A Parser that lives for days must not push fresh lines into last year
// because its clock reference went stale.
func TestUnwrap_StaleClockRefreshes(t *testing.T) {
	clock := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p, err := New(Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(72 * time.Hour) // the parser ran for three days
	var ev Event
	p.Parse([]byte("Nov 28 11:00:00 h kernel: oom-kill:constraint=CONSTRAINT_NONE,task=x,pid=1,uid=0"), &ev)
	if want := time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %s, want %s", ev.Time, want)
	}
}

func TestBootTime(t *testing.T) {
	got, err := bootTimeFromStat(strings.NewReader("cpu  1 2 3\nbtime 1795623778\nprocesses 5\n"))
	if err != nil || !got.Equal(time.Unix(1795623778, 0)) {
		t.Errorf("got %s, %v", got, err)
	}
	for _, bad := range []string{"cpu 1\n", "btime x\n", "btime 12a\n"} {
		if _, err := bootTimeFromStat(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	live, err := BootTimeFromProc()
	if err != nil {
		t.Fatal(err)
	}
	if live.After(time.Now()) || time.Since(live) > 10*365*24*time.Hour {
		t.Errorf("implausible boot time %s", live)
	}
}
