package parser

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The parser benchmarks run on a corpus real nginx wrote under load
// (scripts/corpus/gen.sh DIR, then CULPRIT_CORPUS=DIR); scripts/bench/parser.sh
// does both and prints the medians. Every benchmark op is one line, so ns/op
// is ns/line; lines/s is reported too, and MB/s counts the line bytes.

// benchSink keeps results alive so the compiler cannot drop the work.
var benchSink struct {
	n  int
	ev Event
}

// corpusData returns the bytes of CULPRIT_CORPUS/name, skipping the
// benchmark when the corpus is not there.
func corpusData(b *testing.B, name string) []byte {
	b.Helper()
	dir := os.Getenv("CULPRIT_CORPUS")
	if dir == "" {
		b.Skip("CULPRIT_CORPUS unset: generate a corpus with scripts/corpus/gen.sh DIR (scripts/bench/parser.sh does)")
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		b.Skipf("corpus file: %v", err)
	}
	if len(data) == 0 {
		b.Skipf("corpus file %s is empty", name)
	}
	return data
}

// corpusLines loads CULPRIT_CORPUS/name split into lines (without '\n'),
// for the benchmarks of every parser.
func corpusLines(b *testing.B, name string) [][]byte {
	b.Helper()
	data := corpusData(b, name)
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	return lines
}

// reportLines reports lines/s (wall clock) and lines/cpu-s (lines per
// CPU-second of the process since cpu0 = processCPU() at the start of the
// timed loop, which is what the targets are about and what stays meaningful
// on a machine shared with other work). Call it after the timed loop.
func reportLines(b *testing.B, cpu0 time.Duration) {
	b.Helper()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "lines/s")
	}
	if c := (processCPU() - cpu0).Seconds(); cpu0 > 0 && c > 0 {
		b.ReportMetric(float64(b.N)/c, "lines/cpu-s")
	}
}

func avgLine(data []byte) int64 {
	n := bytes.Count(data, []byte("\n"))
	if n == 0 {
		n = 1
	}
	return int64(len(data) / n)
}

// BenchmarkSplitLines is the floor: merely finding the lines of the file,
// with bytes.IndexByte over the bytes in memory (what BenchmarkAccess does
// before parsing) and with bufio.Scanner (what a program reading a file or
// stdin line by line does, e.g. culprit parse).
func BenchmarkSplitLines(b *testing.B) {
	data := corpusData(b, "access.log")
	b.Run("indexbyte", func(b *testing.B) {
		b.SetBytes(avgLine(data))
		b.ReportAllocs()
		cpu0 := processCPU()
		pos, n := 0, 0
		for i := 0; i < b.N; i++ {
			j := bytes.IndexByte(data[pos:], '\n')
			if j < 0 {
				j = len(data) - pos
			}
			n += len(data[pos : pos+j])
			pos += j + 1
			if pos >= len(data) {
				pos = 0
			}
		}
		b.StopTimer()
		benchSink.n = n
		reportLines(b, cpu0)
	})
	b.Run("bufio", func(b *testing.B) {
		b.SetBytes(avgLine(data))
		b.ReportAllocs()
		r := bytes.NewReader(data)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
		n := 0
		cpu0 := processCPU()
		for i := 0; i < b.N; i++ {
			if !sc.Scan() {
				r.Reset(data)
				sc = bufio.NewScanner(r)
				sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
				sc.Scan()
			}
			n += len(sc.Bytes())
		}
		b.StopTimer()
		benchSink.n = n
		reportLines(b, cpu0)
	})
}

// corpusFormat is the log_format the corpus was written with: gen.sh saves
// it next to the log; the ext sample format is the same string.
func corpusFormat(b *testing.B) string {
	b.Helper()
	for _, p := range []string{filepath.Join(os.Getenv("CULPRIT_CORPUS"), "access.format"), "testdata/nginx_access/ext.format"} {
		if f, err := os.ReadFile(p); err == nil {
			return strings.TrimRight(string(f), "\n")
		}
	}
	b.Fatal("no access.format in the corpus and no testdata/nginx_access/ext.format")
	return ""
}

// BenchmarkAccess reads the same file with bufio.Scanner, as the floor's
// bufio case does, and parses every line with the compiled format.
func BenchmarkAccess(b *testing.B) {
	data := corpusData(b, "access.log")
	f, err := CompileAccessFormat(corpusFormat(b))
	if err != nil {
		b.Fatal(err)
	}
	var ev Event
	bad := 0
	for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if err := f.Parse(l, time.UTC, &ev); err != nil {
			if bad++; bad <= 3 {
				b.Errorf("corpus line does not parse: %v\n%s", err, l)
			}
		}
	}
	if bad > 0 {
		b.Fatalf("%d corpus lines do not parse", bad)
	}
	b.SetBytes(avgLine(data))
	b.ReportAllocs()
	b.ResetTimer()
	r := bytes.NewReader(data)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	n := 0
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if !sc.Scan() {
			r.Reset(data)
			sc = bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
			sc.Scan()
		}
		if f.Parse(sc.Bytes(), time.UTC, &ev) == nil {
			n += ev.Status
		}
	}
	b.StopTimer()
	benchSink.n, benchSink.ev = n, ev
	reportLines(b, cpu0)
}

// BenchmarkAccessParser is the public path: Parser.Parse with the source
// fixed to nginx_access (size and UTF-8 checks, envelope, then the format).
func BenchmarkAccessParser(b *testing.B) {
	lines := corpusLines(b, "access.log")
	p, err := New(Options{Source: SourceNginxAccess, LogFormat: corpusFormat(b)})
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, l := range lines {
		total += int64(len(l)) + 1
	}
	b.SetBytes(total / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	var ev Event
	n := 0
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		p.Parse(lines[i%len(lines)], &ev)
		n += ev.Status
	}
	b.StopTimer()
	benchSink.n, benchSink.ev = n, ev
	reportLines(b, cpu0)
}

// BenchmarkAccessSteps shows what each variable of the corpus format costs:
// the format cut after each variable's literal, the rest of the line read by
// a variable the Event does not keep (no work), so the difference between
// consecutive sub-benchmarks is one step. Lines cycle through a [][]byte,
// not bufio, so compare them with each other, not with BenchmarkAccess.
// Under cachegrind (instructions per line, deterministic on a shared
// machine) it is what guided the access parser's hot path.
func BenchmarkAccessSteps(b *testing.B) {
	lines := corpusLines(b, "access.log")
	format := corpusFormat(b)
	var cuts []string
	for i := 0; i < len(format); i++ {
		if format[i] == '$' {
			cuts = append(cuts, format[:i]+"$culprit_rest")
		}
	}
	cuts = append(cuts, format)
	for k, cut := range cuts {
		f, err := CompileAccessFormat(cut)
		if err != nil {
			b.Fatal(err)
		}
		name := "none"
		if k > 0 {
			prev := strings.TrimSuffix(cut, "$culprit_rest")
			name = prev[strings.LastIndexByte(prev, '$')+1:]
			if end := strings.IndexFunc(name, func(r rune) bool { return r > 0x7f || !isVarNameByte(byte(r)) }); end >= 0 {
				name = name[:end]
			}
		}
		b.Run(fmt.Sprintf("%02d_%s", k, name), func(b *testing.B) {
			var ev Event
			b.ReportAllocs()
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				if err := f.Parse(lines[i%len(lines)], time.UTC, &ev); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			benchSink.ev = ev
			reportLines(b, cpu0)
		})
	}
}
