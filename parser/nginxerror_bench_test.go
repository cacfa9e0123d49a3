package parser

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nginxErrorBenchSink keeps results alive so the compiler cannot drop the work.
var nginxErrorBenchSink struct {
	n  int
	ev Event
}

// nginxErrorBenchLines returns the error log real nginx wrote under load
// ($CULPRIT_CORPUS/error.log, from scripts/corpus/gen.sh) or, without a
// corpus, the captured lines of testdata/nginx_error, which hold every class
// rather than the corpus's mix.
func nginxErrorBenchLines(b *testing.B) [][]byte {
	b.Helper()
	if dir := os.Getenv("CULPRIT_CORPUS"); dir != "" {
		data, err := os.ReadFile(filepath.Join(dir, "error.log"))
		if err == nil && len(data) > 0 {
			return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
		}
		b.Logf("no corpus error.log (%v): using testdata lines", err)
	}
	var lines [][]byte
	for _, r := range readNginxTSV(b, "real.tsv") {
		lines = append(lines, []byte(r.line))
	}
	return lines
}

func nginxErrorBench(b *testing.B, parse func(p *Parser, line []byte, ev *Event) bool) {
	lines := nginxErrorBenchLines(b)
	p, err := New(Options{Source: SourceNginxError, Location: time.Local})
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	bad := 0
	for _, l := range lines {
		total += int64(len(l)) + 1
		var ev Event
		if !parse(p, l, &ev) {
			if bad++; bad <= 3 {
				b.Errorf("line does not parse: %s", l)
			}
		}
	}
	if bad > 0 {
		b.Fatalf("%d of %d lines do not parse", bad, len(lines))
	}
	b.SetBytes(total / int64(len(lines)))
	b.ReportAllocs()
	cpu0 := nginxErrorBenchCPU()
	b.ResetTimer()
	var ev Event
	n := 0
	for i := 0; i < b.N; i++ {
		if parse(p, lines[i%len(lines)], &ev) {
			n += len(ev.Class)
		}
	}
	b.StopTimer()
	cpu := nginxErrorBenchCPU() - cpu0
	nginxErrorBenchSink.n, nginxErrorBenchSink.ev = n, ev
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "lines/s")
	}
	// On a shared machine wall time includes waiting for a core; the
	// target (lines per CPU-second) is measured on the process's CPU time.
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "lines/cpu-s")
	}
}

// nginxErrorBenchCPU is the process's user+system CPU time so far.
func nginxErrorBenchCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkNginxError is the public path: Parser.Parse with the source fixed
// to nginx_error (size and UTF-8 checks, envelope, parse, classify).
func BenchmarkNginxError(b *testing.B) {
	nginxErrorBench(b, func(p *Parser, line []byte, ev *Event) bool {
		p.Parse(line, ev)
		return ev.Kind == KindProxyError
	})
}

// BenchmarkNginxErrorOnly is the nginx error parser and classifier alone.
func BenchmarkNginxErrorOnly(b *testing.B) {
	nginxErrorBench(b, func(p *Parser, line []byte, ev *Event) bool {
		ev.Reset()
		return p.parseNginxError(line, ev) == nil && !strings.Contains(string(ev.Class), " ")
	})
}
