package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// writerLoop appends numbered lines to path like a server would: through
// one open descriptor (O_APPEND), reopening the path only when told to
// (nginx reopens its logs on USR1, some time after logrotate renamed them).
type writerLoop struct {
	mu     sync.Mutex // held by a rotator that must not interleave (copytruncate)
	path   string
	f      *os.File
	w      numbered
	reopen chan struct{}
}

func newWriterLoop(t *testing.T, path, stream string) *writerLoop {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return &writerLoop{path: path, f: f, w: numbered{stream: stream, pad: strings.Repeat("x", 60)}, reopen: make(chan struct{}, 1)}
}

// run writes n lines, burst at a time with a pause in between.
func (w *writerLoop) run(t *testing.T, n, burst int, pause time.Duration) {
	for w.w.n < n {
		select {
		case <-w.reopen:
			w.f.Close()
			f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				t.Error(err)
				return
			}
			w.f = f
		default:
		}
		w.mu.Lock()
		var b []byte
		for i := 0; i < burst && w.w.n < n; i++ {
			b = append(b, w.w.line()...)
		}
		if _, err := w.f.Write(b); err != nil {
			t.Error(err)
		}
		w.mu.Unlock()
		time.Sleep(pause)
	}
	w.f.Close()
}

func TestTail_RenameCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	sink := &memSink{}
	startShipper(t, testConfig(dir, path), sink)
	w := newWriterLoop(t, path, "A")
	const total = 20000
	done := make(chan struct{})
	go func() { w.run(t, total, 10, 2*time.Millisecond); close(done) }()
	rotations := 0
	for i := 1; ; i++ {
		select {
		case <-done:
		case <-time.After(100 * time.Millisecond):
			// logrotate: rename, create; the server goes on writing into
			// the renamed file until it reopens (USR1) a little later.
			if err := os.Rename(path, filepath.Join(dir, "access.log."+itoa(i))); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(path, nil, 0o644)
			rotations++
			time.AfterFunc(30*time.Millisecond, func() { w.reopen <- struct{}{} })
			continue
		}
		break
	}
	waitSoft(t, 20*time.Second, "all lines acknowledged", func() bool { return len(sink.snapshot()) >= total })
	dups := checkNumbered(t, sink.snapshot(), map[string]int{"A": total})
	t.Logf("%d rotations, %d lines, %d duplicates", rotations, total, dups)
	if dups != 0 {
		t.Errorf("%d duplicates without any crash", dups)
	}
}

func TestTail_CopyTruncate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	sink := &memSink{}
	startShipper(t, testConfig(dir, path), sink)
	w := newWriterLoop(t, path, "B")
	const total = 20000
	done := make(chan struct{})
	go func() { w.run(t, total, 10, 2*time.Millisecond); close(done) }()
	rotations := 0
	since := 0 // first line number written after the previous copytruncate
	for i := 1; ; i++ {
		select {
		case <-done:
		case <-time.After(200 * time.Millisecond):
			// Two copytruncates before the shipper read anything written
			// between them are a documented limit (docs/shipper.md): on a
			// loaded machine a 200 ms cadence can outrun its poll. So each
			// rotation first waits until the shipper has read past the
			// previous one; how far behind it is otherwise stays free.
			waitSoft(t, 10*time.Second, "the shipper to read past the previous copytruncate", func() bool {
				return maxNumber(sink.snapshot(), "B") >= since
			})
			// logrotate copytruncate. The writer is held during copy and
			// truncate: logrotate itself loses what is written in between,
			// which no shipper can recover; this test is about ours.
			w.mu.Lock()
			since = w.w.n
			b, err := os.ReadFile(path)
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, "app.log."+itoa(i)), b, 0o644)
			}
			if err == nil {
				err = os.Truncate(path, 0)
			}
			w.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			rotations++
			continue
		}
		break
	}
	waitSoft(t, 20*time.Second, "all lines acknowledged", func() bool { return countStream(sink.snapshot(), "B") >= total })
	dups := checkNumbered(t, sink.snapshot(), map[string]int{"B": total})
	t.Logf("%d copytruncates, %d lines, %d duplicates", rotations, total, dups)
}

// maxNumber is the highest line number of stream that arrived (-1: none).
func maxNumber(lines []recordLine, stream string) int {
	best := -1
	for _, l := range lines {
		if f := strings.Fields(string(l.Value)); len(f) > 1 && f[0] == stream {
			if n, err := strconv.Atoi(f[1]); err == nil && n > best {
				best = n
			}
		}
	}
	return best
}

func countStream(lines []recordLine, stream string) int {
	seen := map[string]bool{}
	for _, l := range lines {
		if f := strings.Fields(string(l.Value)); len(f) > 1 && f[0] == stream {
			seen[f[1]] = true
		}
	}
	return len(seen)
}

func TestTail_TruncateWithoutCopy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.log")
	appendFile(t, path, []byte("C 0000000 before\nC 0000001 before\n"))
	sink := &memSink{}
	sh := testConfig(dir, path)
	startShipper(t, sh, sink)
	waitFor(t, 5*time.Second, "first lines", func() bool { return len(sink.snapshot()) == 2 })
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, []byte("C 0000002 after\n"))
	waitFor(t, 5*time.Second, "line after truncation", func() bool { return len(sink.snapshot()) == 3 })
	got := sink.snapshot()
	if got[2].Offset != 0 || got[2].FileID == got[0].FileID {
		t.Errorf("after truncation: offset %d file_id %s (before: %s); want offset 0 and a new identity",
			got[2].Offset, got[2].FileID, got[0].FileID)
	}
}

func TestTail_DeletedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("D 0000000 a\n")
	sink := &memSink{}
	startShipper(t, testConfig(dir, path), sink)
	waitFor(t, 5*time.Second, "first line", func() bool { return len(sink.snapshot()) == 1 })
	os.Remove(path)
	// Still written through the open descriptor after the unlink.
	f.WriteString("D 0000001 b\nD 0000002 c\n")
	waitFor(t, 5*time.Second, "lines written after deletion", func() bool { return len(sink.snapshot()) == 3 })
	checkNumbered(t, sink.snapshot(), map[string]int{"D": 3})
}

func TestTail_NewFilesMatchingGlob(t *testing.T) {
	dir := t.TempDir()
	sink := &memSink{}
	startShipper(t, testConfig(dir), sink)
	for i, s := range []string{"E", "F", "G"} {
		appendFile(t, filepath.Join(dir, s+".log"), []byte(s+" 0000000 x\n"+s+" 0000001 y\n"))
		appendFile(t, filepath.Join(dir, s+".txt"), []byte("ignored 1\n")) // not matching *.log
		waitFor(t, 5*time.Second, "lines of "+s, func() bool { return len(sink.snapshot()) == 2*(i+1) })
	}
	checkNumbered(t, sink.snapshot(), map[string]int{"E": 2, "F": 2, "G": 2})
}

func TestTail_LastLineWithoutNewline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.log")
	appendFile(t, path, []byte("H 0000000 complete\nH 0000001 no newline yet"))
	sink := &memSink{}
	cfg := testConfig(dir, path)
	cfg.Tail.PartialTimeout = 500 * time.Millisecond
	startShipper(t, cfg, sink)
	waitFor(t, 5*time.Second, "complete line", func() bool { return len(sink.snapshot()) == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := len(sink.snapshot()); n != 1 {
		t.Fatalf("partial line shipped before the timeout (%d lines)", n)
	}
	waitFor(t, 5*time.Second, "partial line after timeout", func() bool { return len(sink.snapshot()) == 2 })
	if got := string(sink.snapshot()[1].Value); got != "H 0000001 no newline yet" {
		t.Errorf("partial line = %q", got)
	}
}

func TestTail_LongLineIsCutAndFlagged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "long.log")
	var b bytes.Buffer
	b.WriteString("I 0000000 short\n")
	b.WriteString("I 0000001 ")
	b.Write(bytes.Repeat([]byte("y"), 10<<20)) // 10 MiB
	b.WriteString("\nI 0000002 short again\n")
	appendFile(t, path, b.Bytes())
	sink := &memSink{}
	cfg := testConfig(dir, path)
	startShipper(t, cfg, sink)
	waitFor(t, 5*time.Second, "three lines", func() bool { return len(sink.snapshot()) == 3 })
	got := sink.snapshot()
	if !got[1].Truncated || len(got[1].Value) != cfg.Tail.MaxLineBytes || got[0].Truncated || got[2].Truncated {
		t.Errorf("long line: truncated=%v len=%d (limit %d); neighbours truncated %v %v",
			got[1].Truncated, len(got[1].Value), cfg.Tail.MaxLineBytes, got[0].Truncated, got[2].Truncated)
	}
	if want := int64(16 + 10 + 10<<20 + 1); got[2].Offset != want {
		t.Errorf("line after the long one at offset %d, want %d", got[2].Offset, want)
	}
	checkNumbered(t, got, map[string]int{"I": 3})
}

// A clean stop checkpoints; the next start resumes exactly there.
func TestShip_RestartResumesWithoutDuplicates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.log")
	w := numbered{stream: "J"}
	var b []byte
	for i := 0; i < 1000; i++ {
		b = append(b, w.line()...)
	}
	appendFile(t, path, b)
	sink := &memSink{}
	cfg := testConfig(dir, path)
	stop := startShipper(t, cfg, sink)
	waitFor(t, 5*time.Second, "first 1000", func() bool { return len(sink.snapshot()) == 1000 })
	stop()
	b = nil
	for i := 0; i < 1000; i++ {
		b = append(b, w.line()...)
	}
	appendFile(t, path, b)
	startShipper(t, cfg, sink)
	waitFor(t, 5*time.Second, "next 1000", func() bool { return len(sink.snapshot()) >= 2000 })
	time.Sleep(100 * time.Millisecond)
	if dups := checkNumbered(t, sink.snapshot(), map[string]int{"J": 2000}); dups != 0 {
		t.Errorf("%d duplicates after a clean restart", dups)
	}
}

// A file rotated while the shipper was stopped is finished from its new name.
func TestShip_RotatedWhileStopped(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	appendFile(t, path, []byte("K 0000000 a\n"))
	sink := &memSink{}
	cfg := testConfig(dir, path)
	stop := startShipper(t, cfg, sink)
	waitFor(t, 5*time.Second, "first line", func() bool { return len(sink.snapshot()) == 1 })
	stop()
	appendFile(t, path, []byte("K 0000001 b\n"))
	os.Rename(path, path+".1")
	appendFile(t, path, []byte("K 0000002 c\n"))
	startShipper(t, cfg, sink)
	waitFor(t, 5*time.Second, "all three", func() bool { return len(sink.snapshot()) >= 3 })
	got := sink.snapshot()
	checkNumbered(t, got, map[string]int{"K": 3})
	for _, l := range got {
		if l.Path != path {
			t.Errorf("line %q has path %s, want the original %s", l.Value, l.Path, path)
		}
	}
}

// Kafka down: readers stop (bounded), nothing is skipped, all arrives after.
func TestShip_OutageStopsReadingAndResumes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "o.log")
	sink := &memSink{}
	sink.down.Store(true)
	cfg := testConfig(dir, path)
	sh, err := New(cfg, sink, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	w := numbered{stream: "L", pad: strings.Repeat("z", 100)}
	var b []byte
	const total = 100000 // ~11 MB, far more than the in-memory queue
	for i := 0; i < total; i++ {
		b = append(b, w.line()...)
	}
	appendFile(t, path, b)
	ctx, cancel := contextWithCancel()
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 5*time.Second, "write attempts", func() bool { return sink.calls.Load() > 2 })
	time.Sleep(300 * time.Millisecond)
	read := counterValue(t, sh.m, "culprit_ship_bytes_read_total")
	if read >= float64(len(b))/2 {
		t.Errorf("read %.0f of %d bytes while Kafka was down: reading must stop", read, len(b))
	}
	t.Logf("read while down: %.0f bytes (bounded by the queue)", read)
	sink.down.Store(false)
	waitFor(t, 10*time.Second, "all lines after recovery", func() bool { return len(sink.snapshot()) >= total })
	checkNumbered(t, sink.snapshot(), map[string]int{"L": total})
}

func TestShip_BadInputOtherSourcesFlow(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.log")
	bin := filepath.Join(dir, "binary.log")
	dirPath := filepath.Join(dir, "dir.log")
	os.WriteFile(bin, []byte("M 0000000 \x00\x01\x02\xff\xfe binary\nM 0000001 caf\xe9 latin-1\n"), 0o644)
	os.Mkdir(dirPath, 0o755)
	sink := &memSink{}
	cfg := testConfig(dir)
	sh, err := New(cfg, sink, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithCancel()
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	defer func() { cancel(); <-done }()
	appendFile(t, good, []byte("N 0000000 fine\n"))
	waitFor(t, 5*time.Second, "good and binary lines", func() bool { return len(sink.snapshot()) == 3 })
	checkNumbered(t, sink.snapshot(), map[string]int{"M": 2, "N": 1})
	if v := counterValue(t, sh.m, `culprit_ship_source_errors_total{reason="not_regular",source="files"}`); v != 1 {
		t.Errorf("directory reported %v times, want once", v)
	}
	if v := counterValue(t, sh.m, `culprit_ship_lines_invalid_total{reason="binary",source="files"}`); v != 1 {
		t.Errorf("binary lines counted %v, want 1", v)
	}
	if v := counterValue(t, sh.m, `culprit_ship_lines_invalid_total{reason="invalid_utf8",source="files"}`); v != 1 {
		t.Errorf("invalid UTF-8 lines counted %v, want 1", v)
	}
}
