package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/culprit-dev/culprit/parser"
)

func runCmd(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, logger: discardLogger()}
	err := run(context.Background(), e, args)
	return out.String(), errb.String(), err
}

func TestParse_EveryLineGivesOneJSONObject(t *testing.T) {
	long := strings.Repeat("x", parser.MaxLineBytes+10)
	in := "first\n\xff\xfe binary\n" + long + "\nlast without newline"
	out, _, err := runCmd(t, in, "parse")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d output lines, want 4", len(lines))
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", i, err)
		}
		if m["kind"] == nil {
			t.Errorf("line %d has no kind", i)
		}
	}
	var bin, huge map[string]any
	json.Unmarshal([]byte(lines[1]), &bin)
	json.Unmarshal([]byte(lines[2]), &huge)
	if bin["kind"] != "unparsed" || !strings.Contains(bin["reason"].(string), "UTF-8") {
		t.Errorf("binary line: %v", bin)
	}
	if huge["kind"] != "unparsed" || !strings.Contains(huge["reason"].(string), "exceeds") {
		t.Errorf("huge line: kind %v reason %v", huge["kind"], huge["reason"])
	}
}

func TestParse_BadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"parse", "--source", "nope"},
		{"parse", "--tz", "Mars/Olympus"},
		{"parse", "--boot-time", "yesterday"},
		{"parse", "extra-arg"},
	} {
		if _, _, err := runCmd(t, "", args...); err == nil {
			t.Errorf("%v: want a usage error", args)
		}
	}
}

// A stack trace comes out as one event, and blank lines are not events.
func TestParse_GroupsStackTraces(t *testing.T) {
	trace := "Traceback (most recent call last):\n" +
		"  File \"/srv/app.py\", line 3, in <module>\n" +
		"    main()\n" +
		"  File \"/srv/app.py\", line 2, in main\n" +
		"    raise MemoryError()\n" +
		"MemoryError\n\n"
	out, _, err := runCmd(t, "before\n"+trace+"after\n", "parse")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d events, want 3 (before, the trace, after):\n%s", len(lines), out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &m); err != nil {
		t.Fatal(err)
	}
	if m["class"] != "runtime_oom" {
		t.Errorf("trace event class %v, want runtime_oom: %s", m["class"], lines[1])
	}
}

// TestParse_InfersLogFormat: without --log-format, a log in a format auto
// detection does not know (logfmt-style key=value, real nginx output) is
// read through the format inferred from its first lines, and stderr says
// which; the 5xx keep their status and upstream.
func TestParse_InfersLogFormat(t *testing.T) {
	data, err := os.ReadFile("../../parser/testdata/access-formats/logfmt.log")
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runCmd(t, string(data), "parse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "log_format inferred") || !strings.Contains(stderr, "status=$status") {
		t.Errorf("stderr does not say what was inferred: %q", stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := strings.Count(string(data), "\n")
	if len(lines) != want {
		t.Fatalf("%d events for %d lines", len(lines), want)
	}
	requests, refused := 0, 0
	for _, l := range lines {
		var ev struct {
			Kind           string   `json:"kind"`
			Status         int      `json:"status"`
			URI            string   `json:"uri"`
			UpstreamAddr   []string `json:"upstream_addr"`
			UpstreamStatus []int    `json:"upstream_status"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Kind == "request" {
			requests++
		}
		if ev.URI == "/refused" {
			refused++
			if ev.Status != 502 || len(ev.UpstreamAddr) != 1 || ev.UpstreamAddr[0] != "127.0.0.1:31009" ||
				len(ev.UpstreamStatus) != 1 || ev.UpstreamStatus[0] != 502 {
				t.Errorf("refused request read as %s", l)
			}
		}
	}
	if requests != want || refused != 3 {
		t.Errorf("%d requests of %d lines, %d /refused of 3", requests, want, refused)
	}

	// A format given is used as is: nothing inferred.
	_, stderr, err = runCmd(t, string(data), "parse", "--log-format", parser.DefaultLogFormat)
	if err != nil || stderr != "" {
		t.Errorf("with --log-format: err %v, stderr %q", err, stderr)
	}
}
