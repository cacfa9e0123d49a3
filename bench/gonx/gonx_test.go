//go:build linux

// Package gonx benchmarks github.com/satyrius/gonx, a popular Go nginx log
// parser, on the corpus culprit's own parser benchmark uses, so that
// scripts/bench/parser.sh can compare them in one run. It is a module of its
// own so that culprit never depends on gonx. Linux only, like the script.
package gonx

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/satyrius/gonx"
)

var sink int

func corpus(b *testing.B) (format string, lines []string, avg int64) {
	b.Helper()
	dir := os.Getenv("CULPRIT_CORPUS")
	if dir == "" {
		b.Skip("CULPRIT_CORPUS unset: generate a corpus with scripts/corpus/gen.sh DIR")
	}
	data, err := os.ReadFile(filepath.Join(dir, "access.log"))
	if err != nil {
		b.Skipf("corpus: %v", err)
	}
	f, err := os.ReadFile(filepath.Join(dir, "access.format"))
	if err != nil {
		b.Skipf("corpus format: %v", err)
	}
	for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		lines = append(lines, string(l))
	}
	return strings.TrimRight(string(f), "\n"), lines, int64(len(data) / len(lines))
}

// BenchmarkGonx parses one line per op and reads the fields a 5xx report
// needs (status, request_time, upstream_status), as a gonx user would.
// Lines are strings already, so gonx is not charged for the conversion.
func BenchmarkGonx(b *testing.B) {
	format, lines, avg := corpus(b)
	p := gonx.NewParser(format)
	bad := 0
	for _, l := range lines {
		if _, err := p.ParseString(l); err != nil {
			bad++
		}
	}
	if bad > 0 {
		b.Fatalf("gonx cannot parse %d of %d corpus lines", bad, len(lines))
	}
	b.SetBytes(avg)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	n := 0
	for i := 0; i < b.N; i++ {
		e, err := p.ParseString(lines[i%len(lines)])
		if err != nil {
			continue
		}
		st, _ := e.Field("status")
		rt, _ := e.FloatField("request_time")
		us, _ := e.Field("upstream_status")
		n += len(st) + int(rt) + len(us)
	}
	b.StopTimer()
	sink = n
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "lines/s")
	}
	if c := (processCPU() - cpu0).Seconds(); c > 0 {
		b.ReportMetric(float64(b.N)/c, "lines/cpu-s")
	}
}

// processCPU is the process's CPU time, as in culprit's parser benchmarks:
// gonx's garbage collection counts, other processes on the machine do not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
