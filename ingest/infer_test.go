package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/internal/record"
	"github.com/culprit-dev/culprit/parser"
)

// realAccessLines reads a real nginx access log of the parser's
// access-formats corpus (scripts/reallogs/access-formats/run.sh).
func realAccessLines(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "parser", "testdata", "access-formats", name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// requestsRead parses the records as the analyzer does (kind and
// log_format from the headers) and counts the requests.
func requestsRead(t *testing.T, lines []record.Line) int {
	t.Helper()
	n := 0
	var ev parser.Event
	for _, l := range lines {
		p, err := parser.New(parser.Options{Source: parser.Source(l.Kind), LogFormat: l.LogFormat})
		if err != nil {
			t.Fatalf("record kind %q log_format %q: %v", l.Kind, l.LogFormat, err)
		}
		if p.Parse(l.Value, &ev); ev.Kind == parser.KindRequest {
			n++
		}
	}
	return n
}

func countLines(b []byte) int { return bytes.Count(b, []byte("\n")) }

// TestShip_InfersLogFormat: an nginx_access source without log_format
// ships the format inferred from the file in every record, so the analyzer
// reads the requests; an auto source whose lines are all access lines in
// that format is shipped as nginx_access; infer_log_format: false ships
// none (combined then reads nothing of this format).
func TestShip_InfersLogFormat(t *testing.T) {
	data := realAccessLines(t, "upstream_time") // not combined: rt=, uct=, uht=, urt=
	for _, tc := range []struct {
		name, kind string
		infer      bool
		wantKind   string
	}{
		{"nginx_access", "nginx_access", true, "nginx_access"},
		{"auto", "auto", true, "nginx_access"},
		{"off", "nginx_access", false, "nginx_access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "access.log")
			appendFile(t, path, data)
			cfg := testConfig(dir, path)
			cfg.Sources[0].Kind = tc.kind
			cfg.Sources[0].InferLogFormat = &tc.infer
			sink := &memSink{}
			startShipper(t, cfg, sink)
			want := countLines(data)
			waitFor(t, 5*time.Second, "all lines", func() bool { return len(sink.snapshot()) == want })
			lines := sink.snapshot()
			for _, l := range lines {
				if l.Kind != tc.wantKind {
					t.Fatalf("record kind %q, want %q", l.Kind, tc.wantKind)
				}
				if tc.infer && l.LogFormat == "" || !tc.infer && l.LogFormat != "" {
					t.Fatalf("record log_format %q (infer %v)", l.LogFormat, tc.infer)
				}
			}
			got := requestsRead(t, lines)
			if tc.infer && got != want {
				t.Errorf("%d of %d lines read as requests with log_format %q", got, want, lines[0].LogFormat)
			}
			if !tc.infer && got == want {
				t.Errorf("without inference combined read all %d lines: the test cannot tell", got)
			}
		})
	}
}

// TestShip_ReinfersWhenTheFormatChanges: nginx reloaded with another
// log_format appends lines the first format does not read; the shipper
// notices on the next read and ships them with a format that does.
func TestShip_ReinfersWhenTheFormatChanges(t *testing.T) {
	first := realAccessLines(t, "upstream_time")
	second := realAccessLines(t, "ingress")
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	appendFile(t, path, first)
	cfg := testConfig(dir, path)
	cfg.Sources[0].Kind = "nginx_access"
	sink := &memSink{}
	startShipper(t, cfg, sink)
	n1 := countLines(first)
	waitFor(t, 5*time.Second, "first format's lines", func() bool { return len(sink.snapshot()) == n1 })
	appendFile(t, path, second)
	n2 := countLines(second)
	waitFor(t, 5*time.Second, "second format's lines", func() bool { return len(sink.snapshot()) == n1+n2 })
	lines := sink.snapshot()
	f1, f2 := lines[0].LogFormat, lines[len(lines)-1].LogFormat
	if f1 == f2 {
		t.Fatalf("one log_format for both: %q", f1)
	}
	// What the true ingress format reads of the second part, the inferred
	// one must read too (ingress-nginx's $upstream_response_length lists
	// are read by neither).
	truth, err := os.ReadFile(filepath.Join("..", "parser", "testdata", "access-formats", "ingress.format"))
	if err != nil {
		t.Fatal(err)
	}
	tp, err := parser.New(parser.Options{Source: parser.SourceNginxAccess, LogFormat: string(bytes.TrimSpace(truth))})
	if err != nil {
		t.Fatal(err)
	}
	var ev parser.Event
	want := 0
	for _, l := range bytes.Split(bytes.TrimSpace(second), []byte("\n")) {
		if tp.Parse(l, &ev); ev.Kind == parser.KindRequest {
			want++
		}
	}
	if got := requestsRead(t, lines[n1:]); got != want {
		t.Errorf("after the change %d requests read, the true format reads %d (format %q)", got, want, f2)
	}
	if got := requestsRead(t, lines[:n1]); got != n1 {
		t.Errorf("before the change %d of %d requests read", got, n1)
	}
}

// TestShip_RefinesAFormatTheHeadLeftUnnamed: a log that starts with
// requests no upstream served ("-" in every upstream field) cannot show
// which fields are upstream ones; once proxied requests follow, the
// shipper names them (real tab-separated lines, the static ones first).
func TestShip_RefinesAFormatTheHeadLeftUnnamed(t *testing.T) {
	var static, proxied [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(realAccessLines(t, "tsv")), []byte("\n")) {
		if bytes.Split(l, []byte("\t"))[6][0] == '-' {
			static = append(static, l)
		} else {
			proxied = append(proxied, l)
		}
	}
	var head []byte
	for len(bytes.Split(head, []byte("\n"))) <= inferSample {
		for _, l := range static {
			head = append(append(head, l...), '\n')
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	appendFile(t, path, head)
	cfg := testConfig(dir, path)
	cfg.Sources[0].Kind = "nginx_access"
	sink := &memSink{}
	startShipper(t, cfg, sink)
	n := countLines(head)
	waitFor(t, 5*time.Second, "the head", func() bool { return len(sink.snapshot()) == n })
	if f := sink.snapshot()[0].LogFormat; parser.UnnamedFields(f) == 0 {
		t.Fatalf("the head named every field, the test cannot tell: %q", f)
	}
	// One read per append: refinement looks every 64 reads.
	for i := 0; i < 80; i++ {
		appendFile(t, path, append(bytes.Clone(proxied[i%len(proxied)]), '\n'))
		n++
		waitFor(t, 5*time.Second, "a proxied line", func() bool { return len(sink.snapshot()) == n })
	}
	lines := sink.snapshot()
	last := lines[len(lines)-1]
	p, err := parser.New(parser.Options{Source: parser.Source(last.Kind), LogFormat: last.LogFormat})
	if err != nil {
		t.Fatal(err)
	}
	var ev parser.Event
	if p.Parse(last.Value, &ev); ev.Kind != parser.KindRequest || len(ev.UpstreamAddr) == 0 || len(ev.UpstreamStatus) == 0 {
		t.Errorf("after refinement (format %q) the last proxied line reads as %+v", last.LogFormat, ev)
	}
}
