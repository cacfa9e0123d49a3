package parser

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// accessFuzzSeeds are the real sample lines plus the damaged shapes users
// paste: invalid UTF-8, binary, truncated, doubled.
func accessFuzzSeeds(f *testing.F) (formats []string, seeds [][]byte) {
	files, _ := filepath.Glob("testdata/nginx_access/*.format")
	for _, fp := range files {
		fb, err := os.ReadFile(fp)
		if err != nil {
			f.Fatal(err)
		}
		formats = append(formats, strings.TrimRight(string(fb), "\n"))
		lb, err := os.ReadFile(strings.TrimSuffix(fp, ".format") + ".log")
		if err != nil {
			f.Fatal(err)
		}
		for i, l := range bytes.Split(bytes.TrimRight(lb, "\n"), []byte("\n")) {
			if i%4 == 0 {
				seeds = append(seeds, l, l[:len(l)/2], append(append([]byte{}, l...), l...))
			}
		}
	}
	seeds = append(seeds, []byte("\xff\xfe\x00[\"\\x"), []byte(`{"status":`), []byte(`{"status":[1,{"a":[`),
		[]byte(`{"time":"2026-13-45T99:99:99+99:99","status":"200","request":"\u12"}`), []byte("-"), nil)
	return formats, seeds
}

func FuzzAccess(f *testing.F) {
	formats, seeds := accessFuzzSeeds(f)
	for _, s := range seeds {
		f.Add(s)
	}
	compiled := make([]*AccessFormat, len(formats))
	slow := make([]*AccessFormat, len(formats))
	for i, s := range formats {
		compiled[i] = mustCompile(f, s)
		slow[i] = accessWithoutFastPaths(mustCompile(f, s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		accessCheckRequestLine(t, line)
		for i, af := range compiled {
			var ev, ref Event
			err := af.Parse(line, time.UTC, &ev)
			if err == nil {
				accessCheckEvent(t, &ev, line)
			} else if err.Error() == "" {
				t.Fatalf("empty reason for %q", line)
			}
			// The one-pass readers agree with the generic path.
			rerr := slow[i].Parse(line, time.UTC, &ref)
			if (err == nil) != (rerr == nil) || err == nil && !reflect.DeepEqual(ev.Clone(), ref.Clone()) {
				t.Fatalf("fast and generic paths differ on %q:\n%v %+v\n%v %+v", line, err, ev, rerr, ref)
			}
		}
	})
}

// FuzzAccessFormat compiles arbitrary log_format strings and parses a line
// with them: a bad format is an error, never a panic.
func FuzzAccessFormat(f *testing.F) {
	formats, seeds := accessFuzzSeeds(f)
	for i, s := range formats {
		f.Add(s, seeds[i%len(seeds)])
	}
	f.Add(`$a${b}$`, []byte("x"))
	f.Add(`escape=json {"a":"$upstream_addr"}`, []byte(`{"a":"1, 2 : 3"}`))
	f.Fuzz(func(t *testing.T, format string, line []byte) {
		af, err := CompileAccessFormat(format)
		if err != nil {
			return
		}
		var ev Event
		if af.Parse(line, time.UTC, &ev) == nil {
			accessCheckEvent(t, &ev, line)
		}
	})
}

// accessWithoutFastPaths turns off the one-pass readers of f, leaving the
// generic search-then-convert path, for differential tests.
func accessWithoutFastPaths(f *AccessFormat) *AccessFormat {
	for i := range f.steps {
		f.steps[i].num, f.steps[i].fast = false, false
		f.steps[i].dash, f.steps[i].str, f.steps[i].one = false, false, false
		f.steps[i].setOp(f.escape)
	}
	return f
}

func accessCheckEvent(t *testing.T, ev *Event, line []byte) {
	t.Helper()
	if ev.Kind != KindRequest || ev.Status < 0 || ev.Status > 999 {
		t.Fatalf("bad event from %q: kind %q status %d", line, ev.Kind, ev.Status)
	}
	if !ev.Time.IsZero() && ev.Time.Location() != time.UTC {
		t.Fatalf("time not UTC from %q: %v", line, ev.Time)
	}
	for _, x := range ev.UpstreamStatus {
		if x < 0 || x > 999 {
			t.Fatalf("upstream status %d from %q", x, line)
		}
	}
}

// A 1 MiB line (what Parser lets through) is an error or an event, quickly.
func TestAccess_HugeLine(t *testing.T) {
	f := mustCompile(t, DefaultLogFormat)
	ua := bytes.Repeat([]byte("A"), MaxLineBytes-200)
	line := []byte(`127.0.0.1 - - [25/Nov/2026:16:42:20 +0000] "GET / HTTP/1.1" 200 3 "-" "` + string(ua) + `"`)
	var ev Event
	if err := f.Parse(line, time.UTC, &ev); err != nil || len(ev.UserAgent) != len(ua) {
		t.Fatalf("huge line: %v (user agent %d bytes)", err, len(ev.UserAgent))
	}
	junk := bytes.Repeat([]byte{'"', ' ', '\\', 'x', '{'}, MaxLineBytes/5)
	if err := f.Parse(junk, time.UTC, &ev); err == nil {
		t.Fatal("junk parsed")
	}
	if err := f.Parse(append([]byte{'{'}, junk...), time.UTC, &ev); err == nil {
		t.Fatal("junk JSON parsed")
	}
}

// accessCheckRequestLine: the one-pass reader of $request agrees with the
// general one (request), which the differential fuzzing above cannot see
// (both paths read a quoted $request with it when nothing is escaped).
func accessCheckRequestLine(t *testing.T, val []byte) {
	t.Helper()
	var a, b Event
	accessRequestLine(val, &a)
	var f AccessFormat
	f.request(f.str(val, escapeNone), &b)
	if a.Request != b.Request || a.Method != b.Method || a.URI != b.URI || a.Protocol != b.Protocol {
		t.Fatalf("request line %q:\none-pass %q %q %q %q\ngeneral  %q %q %q %q", val,
			a.Request, a.Method, a.URI, a.Protocol, b.Request, b.Method, b.URI, b.Protocol)
	}
}
