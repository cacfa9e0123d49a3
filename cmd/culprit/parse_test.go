package main

import (
	"bytes"
	"context"
	"encoding/json"
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
