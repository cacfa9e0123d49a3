package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/internal/record"
)

// memSink records what a shipper acknowledged; down simulates an outage.
type memSink struct {
	mu    sync.Mutex
	lines []record.Line
	down  atomic.Bool
	calls atomic.Int64
}

func (s *memSink) Write(ctx context.Context, lines []record.Line) error {
	s.calls.Add(1)
	if s.down.Load() {
		return errors.New("broker down")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range lines {
		l.Value = bytes.Clone(l.Value)
		s.lines = append(s.lines, l)
	}
	return nil
}

func (s *memSink) snapshot() []record.Line {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]record.Line(nil), s.lines...)
}

// testLogger writes the shipper's log into the test log (shown on failure).
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// testConfig is a config with fast timings for dir/*.log.
func testConfig(dir string, paths ...string) *Config {
	if len(paths) == 0 {
		paths = []string{filepath.Join(dir, "*.log")}
	}
	c := &Config{
		Host:     "test-host",
		Registry: filepath.Join(dir, "state", "registry.json"),
		Kafka:    KafkaConfig{Brokers: []string{"unused:9092"}, BatchTimeout: 5 * time.Millisecond},
		Tail: TailConfig{PollInterval: 10 * time.Millisecond, ScanInterval: 50 * time.Millisecond,
			RotateWait: 300 * time.Millisecond, PartialTimeout: 300 * time.Millisecond},
		Sources:         []Source{{Name: "files", Paths: paths, Kind: "app", Labels: map[string]string{"service": "test"}}},
		ShutdownTimeout: 5 * time.Second,
	}
	c.SetDefaults()
	return c
}

// startShipper runs a shipper until the returned stop is called.
func startShipper(t testing.TB, cfg *Config, sink Sink) (stop func()) {
	t.Helper()
	sh, err := New(cfg, sink, Options{Logger: testLogger(t), Stdin: strings.NewReader("")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("shipper: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// numbered is a writer of numbered lines "<stream> <n> <pad>".
type numbered struct {
	stream string
	n      int
	pad    string
}

func (w *numbered) line() []byte {
	s := fmt.Sprintf("%s %07d %s\n", w.stream, w.n, w.pad)
	w.n++
	return []byte(s)
}

// checkNumbered asserts every stream's lines 0..want-1 arrived, and that
// within one file identity they arrived in order. It returns duplicates.
func checkNumbered(t testing.TB, lines []record.Line, want map[string]int) int {
	t.Helper()
	seen := map[string]map[int]int{}
	last := map[string]int{} // file_id/stream -> last number
	dups := 0
	for _, l := range lines {
		f := strings.Fields(string(l.Value))
		if len(f) < 2 {
			t.Errorf("unexpected line %q (file %s offset %d)", l.Value, l.FileID, l.Offset)
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			t.Errorf("unexpected line %q", l.Value)
			continue
		}
		if seen[f[0]] == nil {
			seen[f[0]] = map[int]int{}
		}
		seen[f[0]][n]++
		if seen[f[0]][n] > 1 {
			dups++
			continue
		}
		k := l.FileID + "/" + f[0]
		if p, ok := last[k]; ok && n < p {
			t.Errorf("stream %s file %s: line %d after %d (out of order)", f[0], l.FileID, n, p)
		}
		last[k] = n
	}
	for s, w := range want {
		var missing []int
		for i := 0; i < w; i++ {
			if seen[s][i] == 0 {
				missing = append(missing, i)
			}
		}
		if len(missing) > 0 {
			t.Errorf("stream %s: %d of %d lines missing, first %v", s, len(missing), w, missing[:min(10, len(missing))])
		}
	}
	return dups
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func appendFile(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

var _ = io.EOF

type recordLine = record.Line

func itoa(i int) string { return strconv.Itoa(i) }

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// counterValue scrapes /metrics and returns the sample named exactly
// series (name{labels} as Prometheus prints it); 0 when absent.
func counterValue(t testing.TB, m *Metrics, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var sum float64
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if name == series || (!strings.Contains(series, "{") && strings.HasPrefix(name, series+"{")) {
			v, err := strconv.ParseFloat(val, 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum
}

// waitSoft is waitFor that only reports, so the caller can still show
// what is missing.
func waitSoft(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out after %v waiting for %s", d, what)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
