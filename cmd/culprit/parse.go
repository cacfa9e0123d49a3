package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/culprit-dev/culprit/parser"
)

// runParse is the parser from the shell: lines on stdin, one JSON event per
// line on stdout (a stable contract, docs/taxonomy.md), or counts with --stats.
func runParse(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "parse")
	source := fs.String("source", "auto", "source kind of every line, or auto to detect per line ("+sourceNames()+")")
	logFormat := fs.String("log-format", "", "nginx log_format string of the access log (default: inferred from the first lines, else combined)")
	tz := fs.String("tz", "UTC", "IANA zone of timestamps that carry none (nginx error log, syslog, ...)")
	bootTime := fs.String("boot-time", "", "boot time for /dev/kmsg and raw dmesg timestamps: RFC 3339, or \"host\" for this machine's (/proc/stat btime)")
	stats := fs.Bool("stats", false, "print counts per source, kind and class instead of events")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: parse reads stdin; unexpected argument %q", errUsage, fs.Arg(0))
	}
	opts, err := parserOptions(*source, *logFormat, *tz, *bootTime)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	stdin := e.stdin
	if *logFormat == "" && (opts.Source == parser.SourceAuto || opts.Source == parser.SourceNginxAccess) {
		var head [][]byte
		head, stdin = readHead(e.stdin, sniffLines, headWait)
		opts = inferParseFormat(e, opts, head)
	}
	p, err := parser.New(opts)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}

	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer out.Flush()
	counts := map[string]int{}
	var ev parser.Event
	var buf []byte
	lines := 0
	start := time.Now()
	emit := func(group []byte) error {
		p.Parse(group, &ev)
		if *stats {
			counts[string(ev.Source)+"\t"+string(ev.Kind)+"\t"+string(ev.Class)]++
			return nil
		}
		buf = parser.AppendJSON(buf[:0], &ev)
		buf = append(buf, '\n')
		_, err := out.Write(buf)
		return err
	}
	// A stack trace is one event. The access log has none, so it skips the
	// grouper and keeps the parser's hot path as measured; the error log
	// has them when nginx relays a FastCGI application's stderr.
	var g *parser.Grouper
	if opts.Source != parser.SourceNginxAccess {
		g = parser.NewGrouper(0, 0)
	}
	err = eachLine(stdin, func(line []byte) error {
		lines++
		if lines%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if g == nil {
			if len(bytes.TrimSpace(line)) == 0 {
				return nil // a blank line carries nothing to report
			}
			return emit(line)
		}
		for _, group := range g.Add(line) {
			if len(bytes.TrimSpace(group)) == 0 {
				continue
			}
			if err := emit(group); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && g != nil {
		for _, group := range g.Flush() {
			if len(bytes.TrimSpace(group)) > 0 {
				if err = emit(group); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	if *stats {
		writeStats(out, counts, lines, time.Since(start))
	}
	return out.Flush()
}

// headWait bounds how long parse waits for the first lines to infer the
// log_format from: `tail -f access.log | culprit parse` must not sit
// silent until 200 requests arrived.
const headWait = 500 * time.Millisecond

// readHead reads up to n lines (at most 1 MiB, for at most wait) of r for
// inference and returns them and a reader that still yields all of r, head
// included. The reads happen in a goroutine so the wait can end; it keeps
// feeding the returned reader.
func readHead(r io.Reader, n int, wait time.Duration) ([][]byte, io.Reader) {
	cr := &chanReader{ch: make(chan []byte, 4)}
	go func() {
		defer close(cr.ch)
		for {
			buf := make([]byte, 64<<10)
			k, err := r.Read(buf)
			if k > 0 {
				cr.ch <- buf[:k]
			}
			if err != nil {
				if err != io.EOF {
					cr.err = err // read by the consumer after the close
				}
				return
			}
		}
	}()
	var raw []byte
	timer := time.NewTimer(wait)
	defer timer.Stop()
collect:
	for bytes.Count(raw, []byte("\n")) < n && len(raw) < 1<<20 {
		select {
		case b, ok := <-cr.ch:
			if !ok {
				cr.done = true
				break collect
			}
			raw = append(raw, b...)
		case <-timer.C:
			break collect
		}
	}
	var lines [][]byte
	body := raw
	if i := bytes.LastIndexByte(body, '\n'); i >= 0 && !cr.done {
		body = body[:i] // a line still being written is not a sample
	}
	for _, l := range bytes.Split(body, []byte("\n")) {
		if l = trimEOL(l); len(bytes.TrimSpace(l)) > 0 && len(l) <= parser.MaxLineBytes && len(lines) < n {
			lines = append(lines, l)
		}
	}
	return lines, io.MultiReader(bytes.NewReader(raw), cr)
}

// chanReader reads what readHead's goroutine goes on reading.
type chanReader struct {
	ch   chan []byte
	cur  []byte
	done bool
	err  error
}

func (c *chanReader) Read(p []byte) (int, error) {
	for len(c.cur) == 0 {
		b, ok := <-c.ch
		if !ok {
			c.done = true
			if c.err != nil {
				return 0, c.err
			}
			return 0, io.EOF
		}
		c.cur = b
	}
	k := copy(p, c.cur)
	c.cur = c.cur[k:]
	return k, nil
}

// inferParseFormat gives opts the log_format inferred from the first lines
// when it reads more of them than combined does, and says so on stderr.
// A stream that is (nearly) all access lines in that format, with a time,
// is read as nginx_access: auto detection recognises the common
// access shapes only, not every format a team wrote (and request lines
// without a time are more often an application server's).
func inferParseFormat(e *env, opts parser.Options, head [][]byte) parser.Options {
	format, n, err := parser.InferAccessFormat(head)
	if err != nil || format == parser.DefaultLogFormat {
		return opts
	}
	if n <= accessReads(parser.DefaultLogFormat, head) {
		return opts
	}
	opts.LogFormat = format
	how := ""
	if opts.Source == parser.SourceAuto && n*10 >= len(head)*9 && accessTimed(format, head) {
		opts.Source = parser.SourceNginxAccess
		how = ", so every line is read as nginx_access"
	}
	fmt.Fprintf(e.stderr, "parse: log_format inferred from the first %d lines (it reads %d of them%s; give --log-format to override): %s\n",
		len(head), n, how, format)
	return opts
}

func sourceNames() string {
	names := make([]string, len(parser.Sources))
	for i, s := range parser.Sources {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// parserOptions turns the flags shared by parse and explain into Options.
func parserOptions(source, logFormat, tz, bootTime string) (parser.Options, error) {
	opts := parser.Options{Source: parser.Source(source), LogFormat: logFormat}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return opts, fmt.Errorf("--tz %q: %v", tz, err)
	}
	opts.Location = loc
	if bootTime == "host" {
		bt, err := parser.BootTimeFromProc()
		if err != nil {
			return opts, fmt.Errorf("--boot-time host: %v", err)
		}
		opts.BootTime = bt
	} else if bootTime != "" {
		bt, err := time.Parse(time.RFC3339Nano, bootTime)
		if err != nil {
			return opts, fmt.Errorf("--boot-time %q: want RFC 3339: %v", bootTime, err)
		}
		opts.BootTime = bt
	}
	return opts, nil
}

// eachLine calls fn for every line of r without its line ending. A line longer
// than parser.MaxLineBytes is passed on cut to MaxLineBytes+1 bytes (so the
// parser reports it as too long) while the rest is skipped, keeping memory
// bounded whatever the input holds. The slice is only valid during fn.
func eachLine(r io.Reader, fn func([]byte) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long) <= parser.MaxLineBytes {
				long = append(long, chunk[:min(len(chunk), parser.MaxLineBytes+1-len(long))]...)
			}
			continue
		}
		line := chunk
		if len(long) > 0 {
			if len(long) <= parser.MaxLineBytes {
				long = append(long, chunk[:min(len(chunk), parser.MaxLineBytes+1-len(long))]...)
			}
			line = long
		}
		line = trimEOL(line)
		if len(line) > 0 || err == nil {
			if ferr := fn(line); ferr != nil {
				return ferr
			}
		}
		long = long[:0]
		if cap(long) > 4<<20 {
			long = nil // one huge line must not pin its buffer for good
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func writeStats(w io.Writer, counts map[string]int, lines int, took time.Duration) {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintf(w, "%-14s %-15s %-26s %10s\n", "SOURCE", "KIND", "CLASS", "EVENTS")
	for _, k := range keys {
		f := strings.SplitN(k, "\t", 3)
		class := f[2]
		if class == "" {
			class = "-"
		}
		fmt.Fprintf(w, "%-14s %-15s %-26s %10d\n", f[0], f[1], class, counts[k])
	}
	rate := 0.0
	if s := took.Seconds(); s > 0 {
		rate = float64(lines) / s
	}
	fmt.Fprintf(w, "%d lines in %s (%.0f lines/s)\n", lines, took.Round(time.Millisecond), rate)
}
