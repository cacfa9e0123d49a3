package parser

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// inferSampleLines is how many first lines of a log inference sees, as
// culprit explain and parse give it.
const inferSampleLines = 200

// inferCase is a captured log with the log_format nginx really used.
type inferCase struct {
	name, format string
	lines        [][]byte
}

func loadInferCases(t testing.TB, dir string) []inferCase {
	t.Helper()
	fmts, err := filepath.Glob(filepath.Join(dir, "*.format"))
	if err != nil || len(fmts) == 0 {
		t.Fatalf("no *.format in %s: %v", dir, err)
	}
	var out []inferCase
	for _, fp := range fmts {
		name := strings.TrimSuffix(filepath.Base(fp), ".format")
		f, err := os.ReadFile(fp)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(strings.TrimSuffix(fp, ".format") + ".log")
		if err != nil {
			t.Fatal(err)
		}
		var lines [][]byte
		for _, l := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines = append(lines, l)
			}
		}
		out = append(out, inferCase{name: name, format: strings.TrimRight(string(f), "\n"), lines: lines})
	}
	return out
}

// inferFields is what the comparison holds inference to: the fields
// culprit's verdicts rest on.
func inferFields(ev *Event) string {
	return fmt.Sprintf("status=%d time=%s method=%q uri=%q proto=%q bytes=%d rt=%v ua=%q us=%v uct=%v uht=%v urt=%v",
		ev.Status, ev.Time.UTC().Format("2006-01-02T15:04:05.000Z"), ev.Method, ev.URI, ev.Protocol, ev.BodyBytes, ev.RequestTime,
		ev.UpstreamAddr, ev.UpstreamStatus, ev.UpstreamConnectTime, ev.UpstreamHeaderTime, ev.UpstreamResponseTime)
}

// checkInferred infers from the first lines of c and compares the parse of
// every line with the true format's. It returns the lines the true format
// parses and how many of them the inferred one reads the same.
func checkInferred(t *testing.T, c inferCase) (format string, truth, agree int, diffs []string) {
	t.Helper()
	sample := c.lines
	if len(sample) > inferSampleLines {
		sample = sample[:inferSampleLines]
	}
	format, _, err := InferAccessFormat(sample)
	if err != nil {
		return "", 0, 0, []string{err.Error()}
	}
	want, err := CompileAccessFormat(c.format)
	if err != nil {
		t.Fatalf("%s: true format: %v", c.name, err)
	}
	// What culprit makes of the line with the inferred format (through a
	// Parser, as every command does), against what nginx wrote (the true
	// format, applied to the line as it is).
	got, err := New(Options{Source: SourceNginxAccess, LogFormat: format})
	if err != nil {
		t.Fatalf("%s: inferred %q does not compile: %v", c.name, format, err)
	}
	var we, ge Event
	for _, l := range c.lines {
		if want.Parse(l, nil, &we) != nil {
			continue // the true format refuses it too (junk, a value nginx would not write)
		}
		truth++
		if got.Parse(l, &ge); ge.Kind != KindRequest {
			diffs = append(diffs, fmt.Sprintf("unparsed: %v\n  line %s", ge.Reason, l))
			continue
		}
		if w, g := inferFields(&we), inferFields(&ge); w != g {
			diffs = append(diffs, fmt.Sprintf("want %s\n  got  %s\n  line %s", w, g, l))
			continue
		}
		agree++
	}
	return format, truth, agree, diffs
}

func runInferCases(t *testing.T, cases []inferCase) {
	right := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			format, truth, agree, diffs := checkInferred(t, c)
			if truth == 0 && len(diffs) == 0 {
				t.Fatalf("the true format parses no line of %s", c.name)
			}
			t.Logf("inferred %q: %d/%d lines agree", format, agree, truth)
			if len(diffs) > 0 {
				for _, d := range diffs[:min(len(diffs), 3)] {
					t.Errorf("%s", d)
				}
				t.Errorf("%d of %d lines differ from the true format %q", len(diffs), truth, c.format)
				return
			}
			right++
		})
	}
	t.Logf("%d/%d formats inferred right", right, len(cases))
}

// TestInferAccessFormat_Corpus: the six formats of the parser's own samples.
func TestInferAccessFormat_Corpus(t *testing.T) {
	runInferCases(t, loadInferCases(t, "testdata/nginx_access"))
}

func TestInferAccessFormat_RefusesWithoutStatus(t *testing.T) {
	for name, lines := range map[string][]string{
		// The status column holds "-" on one line: no field is a status
		// on every line, so inference must not pick one.
		"status-dash": {
			`127.0.0.1 - - [25/Nov/2026:16:35:01 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/7.88.1"`,
			`127.0.0.1 - - [25/Nov/2026:16:35:02 +0000] "GET /x HTTP/1.1" - 0 "-" "curl/7.88.1"`,
		},
		// No 3-digit number at all.
		"no-status": {
			`127.0.0.1 - - [25/Nov/2026:16:35:01 +0000] "GET / HTTP/1.1" 6120 "-" "curl/7.88.1"`,
			`127.0.0.1 - - [25/Nov/2026:16:35:02 +0000] "GET /x HTTP/1.1" 10 "-" "curl/7.88.1"`,
		},
		// An application log with a request-ish message.
		"app": {
			`2026-11-25 16:35:01,123 INFO served GET / in 12ms`,
			`2026-11-25 16:35:02,456 INFO served GET /x in 3ms`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			var b [][]byte
			for _, l := range lines {
				b = append(b, []byte(l))
			}
			f, n, err := InferAccessFormat(b)
			if err == nil {
				t.Fatalf("inferred %q (%d lines) from lines without a status", f, n)
			}
			if name != "app" && !errors.Is(err, ErrNoStatus) {
				t.Errorf("err = %v, want ErrNoStatus", err)
			}
		})
	}
}

var inferSink string

func BenchmarkInferAccessFormat(b *testing.B) {
	cases := loadInferCases(b, "testdata/nginx_access")
	var c inferCase
	for _, x := range cases {
		if x.name == "ext" {
			c = x
		}
	}
	lines := c.lines
	for len(lines) < inferSampleLines {
		lines = append(lines, c.lines...)
	}
	lines = lines[:inferSampleLines]
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f, _, err := InferAccessFormat(lines)
		if err != nil {
			b.Fatal(err)
		}
		inferSink = f
	}
}

// TestInferAccessFormat_Wild: formats seen in the wild, logged by a real
// nginx (scripts/reallogs/access-formats/run.sh; SOURCES.tsv says where
// each comes from).
func TestInferAccessFormat_Wild(t *testing.T) {
	runInferCases(t, loadInferCases(t, "testdata/access-formats"))
}

// FuzzInferAccessFormat: any input either fails or gives a format that
// compiles and parses at least one of its lines.
func FuzzInferAccessFormat(f *testing.F) {
	for _, dir := range []string{"testdata/nginx_access", "testdata/access-formats"} {
		for _, c := range loadInferCases(f, dir) {
			n := min(len(c.lines), 4)
			f.Add(string(bytes.Join(c.lines[:n], []byte("\n"))))
		}
	}
	f.Add("a=1 b=\"2\"\n[x] 200 -\n")
	f.Fuzz(func(t *testing.T, in string) {
		lines := bytes.Split([]byte(in), []byte("\n"))
		format, n, err := InferAccessFormat(lines)
		if err != nil {
			return
		}
		if _, err := CompileAccessFormat(format); err != nil {
			t.Fatalf("inferred %q does not compile: %v", format, err)
		}
		if n < 1 {
			t.Fatalf("inferred %q parsing %d lines without an error", format, n)
		}
	})
}
