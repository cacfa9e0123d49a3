package main

import (
	"bufio"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/parser"
)

// The explain pipeline: one goroutine per file reads and parses it and sends
// batches of the events the engine keeps (the rest of the lines only move
// the clock: a batch ends with a tick at its last time). A k-way merge by
// event time feeds a single engine, so files can be given in any order and
// read concurrently, and memory stays bounded: each file is internally in
// time order, and the engine absorbs the small disorder that remains.

// mergeItem is an event for the engine, or a clock tick when ev is nil.
type mergeItem struct {
	t  time.Time
	ev *analyzer.Evidence
}

// A batch ends after batchLines lines, batchItems kept events or batchSpan of
// event time, whichever comes first: the item bound keeps a file whose every
// line is evidence (a PM2 log) from holding thousands of events while the
// merge waits for the others; the time bound keeps sparse files from running
// far ahead.
const (
	batchLines = 8192
	batchItems = 512
	batchSpan  = time.Minute
	batchAhead = 4 // batches a reader may have waiting
)

type corrResult struct {
	incidents []analyzer.Incident
	stats     analyzer.Stats
	inferred  []string
	sampler   *analyzer.OffsetSampler
	lines     int64
}

func correlate(ctx context.Context, e *env, files []*inputFile, cfg analyzer.Config, loc *time.Location,
	boot time.Time, progressMode string, charts bool) (*corrResult, error) {
	eng, err := analyzer.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var total int64
	var active []*inputFile
	for _, f := range files {
		if f.kind != "" {
			active = append(active, f)
			total += f.size
		}
	}
	prog := newProgress(e.stderr, progressMode, total)
	defer prog.stop()

	type result struct {
		sampler *analyzer.OffsetSampler
		err     error
	}
	streams := make([]*stream, len(active))
	results := make([]result, len(active))
	var wg sync.WaitGroup
	for i, f := range active {
		ch := make(chan []mergeItem, batchAhead)
		streams[i] = &stream{ch: ch, idx: i}
		opts := parser.Options{Source: parser.SourceAuto, Location: loc, BootTime: boot}
		switch f.kind {
		case parser.SourceNginxAccess:
			opts.Source, opts.LogFormat = parser.SourceNginxAccess, f.format
		case parser.SourceNginxError:
			opts.Source = parser.SourceNginxError
		}
		if f.forced {
			opts.Source = f.kind
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(ch)
			s, err := readLog(ctx, f, opts, ch, prog)
			results[i] = result{s, err}
		}()
	}

	// The k-way merge.
	h := &streamHeap{}
	for _, s := range streams {
		if s.next() {
			*h = append(*h, s)
		}
	}
	heap.Init(h)
	// Closed incidents are drained as we go so the engine only holds the
	// open ones; a later revision replaces the earlier snapshot.
	found := map[string]analyzer.Incident{}
	collect := func() {
		for _, in := range eng.Drain() {
			if in.MergedInto != "" {
				// An id a late 5xx folded into another incident: the
				// survivor carries its requests, the report shows it once.
				delete(found, in.ID)
				continue
			}
			if !charts { // only the HTML report draws them
				in.Timeline, in.Marks = nil, nil
			}
			found[in.ID] = in
		}
	}
	merged := 0
	for h.Len() > 0 {
		s := (*h)[0]
		it := s.cur[s.i]
		if it.ev == nil {
			eng.Advance(it.t)
		} else {
			eng.AddOwned(it.ev)
		}
		merged++
		if merged%65536 == 0 {
			collect()
		}
		s.i++
		if s.i < len(s.cur) || s.next() {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	wg.Wait()
	prog.stop()
	sampler := analyzer.NewOffsetSampler()
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
		}
		if r.sampler != nil {
			sampler.Merge(r.sampler)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	eng.Flush()
	collect()
	res := &corrResult{stats: eng.Stats(), inferred: eng.Inferred(), sampler: sampler}
	for _, in := range found {
		res.incidents = append(res.incidents, in)
	}
	sort.Slice(res.incidents, func(i, j int) bool {
		a, b := res.incidents[i], res.incidents[j]
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.Upstream+a.Server < b.Upstream+b.Server
	})
	for _, f := range active {
		res.lines += f.lines
	}
	return res, nil
}

type stream struct {
	ch  <-chan []mergeItem
	cur []mergeItem
	i   int
	idx int
}

// next receives the stream's next non-empty batch.
func (s *stream) next() bool {
	for b := range s.ch {
		if len(b) > 0 {
			s.cur, s.i = b, 0
			return true
		}
	}
	return false
}

type streamHeap []*stream

func (h streamHeap) Len() int { return len(h) }
func (h streamHeap) Less(i, j int) bool {
	a, b := h[i].cur[h[i].i].t, h[j].cur[h[j].i].t
	if !a.Equal(b) {
		return a.Before(b)
	}
	return h[i].idx < h[j].idx
}
func (h streamHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *streamHeap) Push(x any)   { *h = append(*h, x.(*stream)) }
func (h *streamHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// countingReader reports bytes read to the progress bar.
type countingReader struct {
	r io.Reader
	p *progress
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.add(int64(n))
	return n, err
}

// readLog parses one file into batches for the merge. Lines without a time
// of their own (a stack trace's frames) take the time of the line before.
func readLog(ctx context.Context, f *inputFile, opts parser.Options, out chan<- []mergeItem, prog *progress) (*analyzer.OffsetSampler, error) {
	rc, err := openLog(f.path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	p, err := parser.New(opts)
	if err != nil {
		return nil, fmt.Errorf("explain: %s: %w", f.path, err)
	}
	sampler := analyzer.NewOffsetSampler()
	br := bufio.NewReaderSize(countingReader{rc, prog}, 256<<10)
	origin := analyzer.Origin{Path: f.path}
	var (
		ev      parser.Event
		lastT   time.Time
		pending []*analyzer.Evidence // kept events before the file's first time
		batch   = make([]mergeItem, 0, 256)
		batchT  time.Time // time of the batch's first event
		n       int
		lines   int64
		long    []byte
	)
	flush := func() bool {
		if !lastT.IsZero() {
			batch = append(batch, mergeItem{t: lastT})
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return false
		}
		batch = make([]mergeItem, 0, 256)
		batchT = time.Time{}
		n = 0
		return true
	}
	// Stack traces are one event. The access log has none (no grouping keeps
	// its hot path lean); the error log has them when nginx relays what a
	// FastCGI application wrote to stderr, newlines included.
	var g *parser.Grouper
	if opts.Source != parser.SourceNginxAccess {
		g = parser.NewGrouper(0, 0)
	}
	// handle parses one line or group. A kept event without a time of its
	// own (a crash trace printed without a stamp) takes the time of the next
	// line that has one: runtimes print the trace as they die, and the next
	// stamped line is the supervisor noticing.
	handle := func(l []byte) bool {
		p.Parse(l, &ev)
		if ev.Kind == parser.KindProxyError || ev.Kind == parser.KindRequest && ev.Status >= 400 {
			sampler.Observe(&ev)
		}
		if !ev.Time.IsZero() {
			if ev.Time.After(lastT) {
				lastT = ev.Time
			}
			for _, pe := range pending {
				pe.Event.Time = ev.Time
				batch = append(batch, mergeItem{t: ev.Time, ev: pe})
			}
			pending = pending[:0]
		}
		if analyzer.Wants(&ev) && !(f.upstreamView && ev.Kind == parser.KindRequest) {
			x := &analyzer.Evidence{Event: ev.Clone(), Origin: origin, Line: string(l)}
			if x.Event.Time.IsZero() {
				if len(pending) < 1000 {
					pending = append(pending, x)
				}
			} else {
				batch = append(batch, mergeItem{t: x.Event.Time, ev: x})
			}
		}
		if batchT.IsZero() {
			batchT = lastT
		}
		n++
		if len(pending) == 0 && (n >= batchLines || len(batch) >= batchItems || lastT.Sub(batchT) >= batchSpan) {
			return flush()
		}
		return true
	}
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it (up to the parser's
			// limit, which reports it as unparsed).
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				if len(long) <= parser.MaxLineBytes {
					long = append(long, line...)
				}
			}
			line = long
		}
		if len(line) > 0 {
			lines++
			l := trimLineEnd(line)
			if g == nil {
				if len(l) > 0 && !handle(l) {
					return nil, ctx.Err()
				}
			} else {
				for _, grp := range g.Add(l) {
					if len(grp) > 0 && !handle(grp) {
						return nil, ctx.Err()
					}
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("explain: read %s: %w", f.path, err)
		}
	}
	if g != nil {
		for _, grp := range g.Flush() {
			if len(grp) > 0 && !handle(grp) {
				return nil, ctx.Err()
			}
		}
	}
	for _, pe := range pending {
		if !lastT.IsZero() {
			pe.Event.Time = lastT
			batch = append(batch, mergeItem{t: lastT, ev: pe})
		}
	}
	if n > 0 || len(batch) > 0 {
		if !flush() {
			return nil, ctx.Err()
		}
	}
	atomic.StoreInt64(&f.lines, lines)
	return sampler, nil
}

func trimLineEnd(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// progress draws a bar on stderr for large inputs when it is a terminal.
type progress struct {
	w     io.Writer
	total int64
	done  atomic.Int64
	quit  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	start time.Time
}

func newProgress(w io.Writer, mode string, total int64) *progress {
	p := &progress{w: w, total: total, quit: make(chan struct{}), start: time.Now()}
	show := false
	switch mode {
	case "always":
		show = true
	case "never":
	default:
		if f, ok := w.(*os.File); ok && total > 32<<20 {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				show = true
			}
		}
	}
	if !show {
		p.once.Do(func() {})
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.quit:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-tick.C:
				p.draw()
			}
		}
	}()
	return p
}

func (p *progress) add(n int64) { p.done.Add(n) }

func (p *progress) draw() {
	done := p.done.Load()
	frac := 0.0
	if p.total > 0 {
		frac = min(float64(done)/float64(p.total), 1)
	}
	const width = 30
	bar := strings.Repeat("#", int(frac*width)) + strings.Repeat(".", width-int(frac*width))
	rate := float64(done) / time.Since(p.start).Seconds() / (1 << 20)
	fmt.Fprintf(p.w, "\r[%s] %3.0f%% %d/%d MB %.0f MB/s", bar, frac*100, done>>20, p.total>>20, rate)
}

func (p *progress) stop() {
	p.once.Do(func() { close(p.quit) })
	p.wg.Wait()
}
