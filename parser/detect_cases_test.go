package parser

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A case file holds real lines, each followed by the fields the parser must
// extract from it:
//
//	# https://github.com/org/repo/issues/1   (where the following lines came from)
//	May 07 21:43:54 doom kernel: Out of memory: Kill process 27438 (R) score 31 or sacrifice child
//	=> source=kernel class=oom_kill pid=27438 process=R ts=2026-05-07T21:43:54Z
//
// Values with spaces are Go-quoted. Only the named fields are checked; every
// line is parsed with source auto, so detection is checked too.

type lineCase struct {
	file   string
	lineNo int
	line   string
	want   map[string]string
}

// Reference clock and boot time of every case file: "now" is when the real
// captures were made, the boot time is testdata/kernel/real/btime.txt.
var (
	casesNow  = time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	casesBoot = time.Unix(1795623778, 0).UTC()
)

func casesParser(t testing.TB) *Parser {
	t.Helper()
	p, err := New(Options{BootTime: casesBoot, Now: func() time.Time { return casesNow }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadCases(t *testing.T, path string) []lineCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []lineCase
	var pending *lineCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		text := sc.Text()
		switch {
		case strings.HasPrefix(text, "=> "):
			if pending == nil {
				t.Fatalf("%s:%d: expectation without a line", path, n)
			}
			want, err := parseExpect(text[3:])
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			pending.want = want
			cases = append(cases, *pending)
			pending = nil
		case strings.HasPrefix(text, "#") || strings.TrimSpace(text) == "":
		default:
			if pending != nil {
				t.Fatalf("%s:%d: line without expectation", path, pending.lineNo)
			}
			pending = &lineCase{file: filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path), lineNo: n, line: text}
		}
	}
	if pending != nil {
		t.Fatalf("%s:%d: line without expectation", path, pending.lineNo)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", path)
	}
	return cases
}

// parseExpect reads `key=value key="quoted value"`.
func parseExpect(s string) (map[string]string, error) {
	m := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("bad expectation %q", s)
		}
		k, rest := s[:eq], s[eq+1:]
		var v string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("bad quoted value for %s: %v", k, err)
			}
			v, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			v, rest = rest[:end], rest[end:]
		}
		m[k] = v
		s = rest
	}
	return m, nil
}

// eventField renders the named field of ev as the case files write it.
func eventField(ev *Event, k string) (string, bool) {
	switch k {
	case "source":
		return string(ev.Source), true
	case "kind":
		return string(ev.Kind), true
	case "class":
		return string(ev.Class), true
	case "ts":
		if ev.Time.IsZero() {
			return "", true
		}
		return ev.Time.Format(time.RFC3339Nano), true
	case "host":
		return ev.Hostname, true
	case "level":
		return ev.Level, true
	case "pid":
		return strconv.Itoa(ev.PID), true
	case "process":
		return ev.Process, true
	case "signal":
		return ev.Signal, true
	case "exit_code":
		return strconv.Itoa(ev.ExitCode), true
	case "unit":
		return ev.Unit, true
	case "container":
		return ev.Container, true
	case "app":
		return ev.App, true
	case "memory_kb":
		return strconv.FormatInt(ev.MemoryKB, 10), true
	case "message":
		return ev.Message, true
	case "reason":
		return ev.Reason, true
	}
	return "", false
}

func runCaseFile(t *testing.T, path string) {
	p := casesParser(t)
	for _, c := range loadCases(t, path) {
		t.Run(fmt.Sprintf("%s:%d", c.file, c.lineNo), func(t *testing.T) {
			var ev Event
			p.Parse([]byte(c.line), &ev)
			for k, want := range c.want {
				got, ok := eventField(&ev, k)
				if !ok {
					t.Fatalf("unknown field %q in expectation", k)
				}
				if got != want {
					t.Errorf("%s = %q, want %q\nline: %s\nreason: %s", k, got, want, c.line, ev.Reason)
				}
			}
		})
	}
}

func TestKernel_Cases(t *testing.T)     { runCaseFile(t, "testdata/kernel/cases.txt") }
func TestSystemd_Cases(t *testing.T)    { runCaseFile(t, "testdata/systemd/cases.txt") }
func TestDocker_Cases(t *testing.T)     { runCaseFile(t, "testdata/docker/cases.txt") }
func TestKubernetes_Cases(t *testing.T) { runCaseFile(t, "testdata/kubernetes/cases.txt") }
func TestDetect_Mixed(t *testing.T)     { runCaseFile(t, "testdata/envelope/mixed.txt") }
