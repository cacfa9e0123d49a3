package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The explain benchmark replays a real scenario (testdata/scenarios/pm2-oom:
// nginx access and error logs, the kernel's OOM-kill block, PM2's and the
// app's logs) over and over with shifted times and connection serials, until
// the access log has the wanted number of lines. Every copy is a real OOM
// incident, so the engine is exercised at its busiest, not on idle traffic.

var (
	corpusDir   = flag.String("explain.corpus", "", "write the explain benchmark corpus to this directory and exit (scripts/bench/explain.sh)")
	corpusLines = flag.Int("explain.lines", 1000000, "access lines of the explain benchmark corpus")
	corpusQuiet = flag.Int("explain.quiet", 0, "quiet minutes between two incidents in the explain benchmark corpus")
)

const (
	benchScenario = "../../testdata/scenarios/pm2-oom"
	benchQuiet    = "../../testdata/scenarios/quiet-baseline"
)

var timeShapes = []struct {
	re     *regexp.Regexp
	layout string
}{
	{regexp.MustCompile(`\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}`), "02/Jan/2006:15:04:05"},
	{regexp.MustCompile(`\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}`), "2006/01/02 15:04:05"},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}`), "2006-01-02T15:04:05"},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`), "2006-01-02 15:04:05"},
}

var (
	reCIDAccess = regexp.MustCompile(`cid=(\d+)`)
	reCIDError  = regexp.MustCompile(`\*(\d+) `)
)

// shiftLine moves the first timestamp of line by d (its zone suffix, if
// any, is left alone, so the shift is exact) and the connection serial by
// cidOff.
func shiftLine(line string, d time.Duration, cidOff int64) string {
	for _, s := range timeShapes {
		loc := s.re.FindStringIndex(line)
		if loc == nil {
			continue
		}
		t, err := time.Parse(s.layout, line[loc[0]:loc[1]])
		if err != nil {
			continue
		}
		line = line[:loc[0]] + t.Add(d).Format(s.layout) + line[loc[1]:]
		break
	}
	if cidOff > 0 {
		for _, re := range []*regexp.Regexp{reCIDAccess, reCIDError} {
			if m := re.FindStringSubmatchIndex(line); m != nil {
				n, _ := strconv.ParseInt(line[m[2]:m[3]], 10, 64)
				line = line[:m[2]] + strconv.FormatInt(n+cidOff, 10) + line[m[3]:]
				break
			}
		}
	}
	return line
}

type benchSource struct {
	files map[string][]string
	base  time.Time // first access time, zone-naive
}

func loadBenchSource(dir string) (*benchSource, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no scenario logs in %s", dir)
	}
	src := &benchSource{files: map[string][]string{}}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) == 1 && lines[0] == "" {
			continue
		}
		src.files[filepath.Base(p)] = lines
	}
	acc := src.files["access.log"]
	if len(acc) == 0 {
		return nil, fmt.Errorf("%s has no access.log", dir)
	}
	m := timeShapes[0].re.FindString(acc[0])
	if src.base, err = time.Parse(timeShapes[0].layout, m); err != nil {
		return nil, fmt.Errorf("%s: first access time: %w", dir, err)
	}
	return src, nil
}

// writeExplainCorpus writes the corpus and returns its total line count.
// Each cycle is one copy of the incident scenario followed by quiet copies
// of the quiet baseline (404s and a 499, no 5xx): quiet=0 makes every minute
// an incident, the engine at its busiest; a few quiet copies per incident is
// closer to a real day.
func writeExplainCorpus(dir string, accessLines, quiet int) (int64, error) {
	incident, err := loadBenchSource(benchScenario)
	if err != nil {
		return 0, err
	}
	cycle := []*benchSource{incident}
	if quiet > 0 {
		q, err := loadBenchSource(benchQuiet)
		if err != nil {
			return 0, err
		}
		for i := 0; i < quiet; i++ {
			cycle = append(cycle, q)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	conf, err := os.ReadFile(filepath.Join(benchScenario, "nginx.conf"))
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), conf, 0o644); err != nil {
		return 0, err
	}
	type out struct {
		f *os.File
		w *bufio.Writer
	}
	outs := map[string]*out{}
	defer func() {
		for _, o := range outs {
			o.f.Close()
		}
	}()
	// Each scenario spans under a minute; copies are a minute apart so
	// their incidents stay separate.
	const period = 60 * time.Second
	start := incident.base
	var total int64
	access := 0
	for k := 0; access < accessLines; k++ {
		src := cycle[k%len(cycle)]
		shift := start.Add(time.Duration(k) * period).Sub(src.base)
		for name, lines := range src.files {
			o := outs[name]
			if o == nil {
				f, err := os.Create(filepath.Join(dir, name))
				if err != nil {
					return 0, err
				}
				o = &out{f, bufio.NewWriterSize(f, 1<<20)}
				outs[name] = o
			}
			for _, l := range lines {
				if name == "access.log" {
					if access >= accessLines {
						break
					}
					access++
				}
				io.WriteString(o.w, shiftLine(l, shift, int64(k+1)*1_000_000))
				o.w.WriteByte('\n')
				total++
			}
		}
	}
	for _, o := range outs {
		if err := o.w.Flush(); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// TestWriteExplainCorpus is how scripts/bench/explain.sh builds its corpus;
// without -explain.corpus it checks the time shifting the corpus rests on.
func TestWriteExplainCorpus(t *testing.T) {
	if *corpusDir == "" {
		got := shiftLine(`1.2.3.4 - - [25/Nov/2026:23:59:30 +0100] "GET / HTTP/1.1" 502 1 cid=7 x`, time.Minute, 1000)
		if want := `1.2.3.4 - - [26/Nov/2026:00:00:30 +0100] "GET / HTTP/1.1" 502 1 cid=1007 x`; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		got = shiftLine(`2026/11/25 16:38:46 [error] 1#1: *302 connect() failed`, 2*time.Second, 1000)
		if want := `2026/11/25 16:38:48 [error] 1#1: *1302 connect() failed`; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		return
	}
	n, err := writeExplainCorpus(*corpusDir, *corpusLines, *corpusQuiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d lines in %s", n, *corpusDir)
}

// BenchmarkExplain runs explain in-process over a 200 k-line access log and
// its companions; lines/s is the end-to-end figure (read, parse, correlate).
func BenchmarkExplain(b *testing.B) {
	dir := b.TempDir()
	n, err := writeExplainCorpus(dir, 200_000, 0)
	if err != nil {
		b.Skip(err)
	}
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		rep, err := explain(b.Context(), e, explainOptions{inputs: []string{dir}, progress: "never"})
		if err != nil {
			b.Fatal(err)
		}
		benchSink = len(rep.Incidents)
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "lines/s")
}

var benchSink int
