package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/parser"
)

// A real gunicorn/Flask log with Python tracebacks (captured by
// scripts/scenarios for testdata/scenarios/flask-dependency-500): with
// multiline on, each traceback is one record, its offset is where its first
// line starts in the file, and the checkpoint ends at the end of the file.
func TestShip_MultilineKeepsOffsets(t *testing.T) {
	src, err := os.ReadFile("../testdata/scenarios/flask-dependency-500/gunicorn.log")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "gunicorn.log")
	os.WriteFile(path, src, 0o644)

	// What the parser's Grouper makes of the file on its own.
	g := parser.NewGrouper(500, 512<<10)
	want := 0
	for _, l := range bytes.Split(bytes.TrimSuffix(src, []byte("\n")), []byte("\n")) {
		want += len(g.Add(l))
	}
	want += len(g.Flush())

	cfg := testConfig(dir, path)
	cfg.Sources[0].Kind = "gunicorn"
	cfg.Sources[0].Multiline = &MultilineConfig{}
	cfg.SetDefaults()
	cfg.Sources[0].Multiline.Timeout = 200 * time.Millisecond
	sink := &memSink{}
	stop := startShipper(t, cfg, sink)
	waitFor(t, 10*time.Second, "every group", func() bool { return len(sink.snapshot()) >= want })
	stop()
	got := sink.snapshot()
	if len(got) != want {
		t.Errorf("%d records, the parser's Grouper makes %d groups", len(got), want)
	}
	traces := 0
	for _, l := range got {
		first, _, _ := bytes.Cut(l.Value, []byte("\n"))
		if !bytes.HasPrefix(src[l.Offset:], first) || (l.Offset > 0 && src[l.Offset-1] != '\n') {
			t.Errorf("record at offset %d does not start a line there: %q", l.Offset, first)
		}
		if bytes.Contains(l.Value, []byte("\nTraceback (most recent call last):")) || bytes.HasPrefix(l.Value, []byte("Traceback")) {
			traces++
		}
	}
	if traces == 0 {
		t.Error("no traceback was grouped")
	}
	reg, err := OpenRegistry(cfg.Registry, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range reg.Entries() {
		if e.Offset != int64(len(src)) {
			t.Errorf("checkpoint %d, want the file size %d", e.Offset, len(src))
		}
	}
	t.Logf("%d lines -> %d records, %d with a traceback", bytes.Count(src, []byte("\n")), len(got), traces)
}

// /dev/kmsg records read from a file of a real capture (the device itself
// needs root and a kernel event; scripts/reallogs/oom reproduces one): the
// sequence number is the offset, dictionary lines are dropped, boot time
// and the kernel kind are attached, and a restart resumes after the last
// acknowledged sequence number.
func TestShip_Kmsg(t *testing.T) {
	src, err := os.ReadFile("../testdata/scenarios/gunicorn-oom-kmsg/kmsg.log")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dev := filepath.Join(dir, "kmsg")
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	half := len(lines) / 2
	os.WriteFile(dev, []byte(strings.Join(lines[:half], "\n")+"\n SUBSYSTEM=test\n"), 0o644)
	cfg := testConfig(dir)
	cfg.Sources = []Source{{Name: "kernel", Type: TypeKmsg, Device: dev}}
	cfg.SetDefaults()
	sink := &memSink{}
	stop := startShipper(t, cfg, sink)
	waitFor(t, 5*time.Second, "first half", func() bool { return len(sink.snapshot()) == half })
	stop()
	// The ring buffer shows everything again after a restart; the shipper
	// must skip what was acknowledged.
	os.WriteFile(dev, src, 0o644)
	startShipper(t, cfg, sink)
	waitFor(t, 5*time.Second, "second half", func() bool { return len(sink.snapshot()) >= len(lines) })
	time.Sleep(100 * time.Millisecond)
	got := sink.snapshot()
	if len(got) != len(lines) {
		t.Fatalf("%d records for %d kmsg records (duplicates after restart?)", len(got), len(lines))
	}
	for i, l := range got {
		if string(l.Value) != lines[i] || l.Kind != "kernel" || l.BootTime.IsZero() || !strings.HasPrefix(l.FileID, "0:0:kmsg.") {
			t.Errorf("record %d: %q kind %s boot %v id %s", i, l.Value, l.Kind, l.BootTime, l.FileID)
			break
		}
		if seq, _ := kmsgSeq([]byte(lines[i])); l.Offset != seq {
			t.Errorf("record %d offset %d, want sequence %d", i, l.Offset, seq)
		}
	}
}

func TestShip_StdinEndsAtEOF(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Sources = []Source{{Name: "in", Type: TypeStdin, Kind: "nginx_error", TZ: "Europe/Berlin"}}
	cfg.SetDefaults()
	sink := &memSink{}
	in := "S 0000000 a\nS 0000001 b\nS 0000002 no newline"
	sh, err := New(cfg, sink, Options{Logger: testLogger(t), Stdin: strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithCancel()
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("shipper did not end at the end of stdin")
	}
	got := sink.snapshot()
	checkNumbered(t, got, map[string]int{"S": 3})
	if len(got) == 3 && (got[2].Path != "-" || got[2].Offset != 24 || got[2].TZ != "Europe/Berlin") {
		t.Errorf("stdin record: %+v", got[2])
	}
}
