package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/culprit-dev/culprit/internal/record"
)

// Sink is where records go: Kafka in production (ingest/kafka), a
// recording sink in tests. Write returns nil only when every line was
// acknowledged; it is called from one goroutine per in-flight batch.
type Sink interface {
	Write(ctx context.Context, lines []record.Line) error
}

// Preparer is a Sink that can do the expensive part of a write (encoding,
// compression) ahead: the shipper prepares the next batch while the
// previous one awaits its ack, keeping one write in flight.
type Preparer interface {
	Prepare(ctx context.Context, lines []record.Line) (send func(context.Context) error, err error)
}

// chunkQueue bounds what was read but not yet handed to a batch: when Kafka
// is down, readers block here and the files themselves are the buffer.
const chunkQueue = 4

// Shipper runs the sources of one Config into a Sink.
type Shipper struct {
	cfg   *Config
	log   *slog.Logger
	sink  Sink
	reg   *Registry
	m     *Metrics
	host  string
	stdin io.Reader
	in    chan *chunk

	mu      sync.Mutex
	active  map[[2]uint64]bool // dev/inode of every followed file
	cursors map[*cursor]bool   // for the lag metric
}

// Options are the process-level dependencies of a Shipper.
type Options struct {
	Logger  *slog.Logger
	Metrics *Metrics  // shared across reloads; nil makes a private one
	Stdin   io.Reader // for a stdin source; nil means os.Stdin
}

// New checks the config and opens the registry; nothing runs until Run.
func New(cfg *Config, sink Sink, o Options) (*Shipper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	host := cfg.Host
	if host == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("ship: host name: %w (set host: in the config)", err)
		}
		host = h
	}
	reg, err := OpenRegistry(cfg.Registry, 7*24*time.Hour)
	if err != nil {
		return nil, err
	}
	return &Shipper{cfg: cfg, log: o.Logger, sink: sink, reg: reg, m: o.Metrics, host: host, stdin: o.Stdin,
		in: make(chan *chunk, chunkQueue), active: map[[2]uint64]bool{}, cursors: map[*cursor]bool{}}, nil
}

// Run ships until ctx ends (or every source ended, e.g. stdin at EOF), then
// waits up to shutdown_timeout for Kafka to acknowledge what was read and
// writes the final checkpoint.
func (sh *Shipper) Run(ctx context.Context) error {
	sh.m.current.Store(sh)
	defer sh.m.current.CompareAndSwap(sh, nil)
	var wg sync.WaitGroup
	for i := range sh.cfg.Sources {
		src := sh.newSourceState(&sh.cfg.Sources[i])
		wg.Add(1)
		switch src.cfg.Type {
		case TypeFile:
			go sh.scanLoop(ctx, src, &wg)
		case TypeStdin:
			go sh.readStdin(ctx, src, &wg)
		case TypeKmsg:
			go sh.readKmsg(ctx, src, &wg)
		}
	}
	go func() { wg.Wait(); close(sh.in) }()

	// Writes outlive ctx by shutdown_timeout so that what was read is
	// acknowledged and checkpointed; past it, it is simply read again.
	writeCtx, cancelWrite := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWrite()
	sent := make(chan struct{})
	go func() {
		select {
		case <-sent:
		case <-ctx.Done():
			select {
			case <-sent:
			case <-time.After(sh.cfg.ShutdownTimeout):
				sh.log.Warn("shutdown timeout: lines read but not acknowledged will be shipped again next start")
				cancelWrite()
			}
		}
	}()
	saves := make(chan struct{}, 1)
	saved := make(chan struct{})
	go sh.checkpointer(saves, saved)
	sh.sendLoop(writeCtx, saves)
	close(sent)
	close(saves)
	<-saved
	if err := sh.reg.Save(time.Now()); err != nil {
		return fmt.Errorf("ship: final checkpoint: %w", err)
	}
	sh.log.Info("shipper stopped; checkpoint written", "registry", sh.cfg.Registry)
	return nil
}

// send hands a chunk to the sender, blocking while the queue is full.
func (sh *Shipper) send(ctx context.Context, ck *chunk) bool {
	ck.cur.src.linesRead.Add(float64(len(ck.lines)))
	ck.cur.src.bytesRead.Add(float64(ck.bytes))
	select {
	case sh.in <- ck:
		return true
	case <-ctx.Done():
		return false
	}
}

type batch struct {
	chunks []*chunk
	lines  []record.Line
	bytes  int
	send   func(context.Context) error // prepared first attempt, if the sink prepares
	err    error
	done   chan struct{}
}

// sendLoop groups chunks into batches, writes up to max_in_flight of them
// concurrently and acknowledges them in order.
func (sh *Shipper) sendLoop(ctx context.Context, saves chan<- struct{}) {
	k := sh.cfg.Kafka
	inflight := make(chan *batch, k.MaxInFlight-1)
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		for b := range inflight {
			<-b.done
			if b.err != nil {
				continue // shutdown timeout: not acknowledged, not checkpointed
			}
			sh.ack(b)
			select {
			case saves <- struct{}{}:
			default:
			}
		}
	}()
	prep, _ := sh.sink.(Preparer)
	dispatch := func(b *batch) {
		if prep != nil {
			// Encode now, while the previous batch is on the wire; a
			// failure here is retried by write through Sink.Write.
			if send, err := prep.Prepare(ctx, b.lines); err == nil {
				b.send = send
			}
		}
		inflight <- b
		go func() {
			b.err = sh.write(ctx, b)
			close(b.done)
		}()
	}
	var cur *batch
	var linger <-chan time.Time
	for {
		select {
		case ck, ok := <-sh.in:
			if !ok {
				if cur != nil {
					dispatch(cur)
				}
				close(inflight)
				<-acked
				return
			}
			if cur == nil {
				// Sized once: growing it line by line was 7 % of the
				// shipper's CPU (records hold pointers, so every copy
				// runs write barriers).
				cur = &batch{done: make(chan struct{}), lines: make([]record.Line, 0, k.BatchLines+len(ck.lines))}
				linger = time.After(k.BatchTimeout)
			}
			cur.chunks = append(cur.chunks, ck)
			cur.lines = append(cur.lines, ck.lines...)
			cur.bytes += ck.bytes
			if len(cur.lines) >= k.BatchLines || cur.bytes >= 4*k.BatchBytes {
				dispatch(cur)
				cur, linger = nil, nil
			}
		case <-linger:
			dispatch(cur)
			cur, linger = nil, nil
		}
	}
}

// write retries a batch until the sink acknowledges it: a Kafka outage
// stops the readers (the queue fills) and never skips a line.
func (sh *Shipper) write(ctx context.Context, b *batch) error {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		var err error
		if attempt == 1 && b.send != nil {
			err = b.send(ctx)
		} else {
			err = sh.sink.Write(ctx, b.lines)
		}
		if err == nil {
			sh.m.kafkaOK()
			if attempt > 1 {
				sh.log.Info("kafka write recovered", "attempts", attempt, "lines", len(b.lines))
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sh.m.kafkaFailed()
		if attempt == 1 && strings.Contains(err.Error(), "Unknown Topic Or Partition") {
			// The first write to a new topic: the broker is creating it.
			sh.log.Warn("kafka topic not there yet (auto-creation); retrying", "err", err)
		} else if attempt == 1 || attempt%20 == 0 {
			sh.log.Error("kafka write failed; retrying (files are the buffer, nothing is skipped)",
				"err", err, "attempt", attempt, "lines", len(b.lines))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// ack moves the cursors and the registry past an acknowledged batch.
func (sh *Shipper) ack(b *batch) {
	now := time.Now()
	for _, ck := range b.chunks {
		c := ck.cur
		c.acked.Store(ck.end)
		c.src.linesAcked.Add(float64(len(ck.lines)))
		c.src.bytesAcked.Add(float64(ck.bytes))
		if c.noSave {
			continue
		}
		sh.reg.Ack(c.id, c.path, ck.end, now)
		if f := c.final.Load(); f >= 0 && ck.end >= f {
			sh.reg.MarkDone(c.idStr, now)
		}
	}
}

// checkpointer saves the registry after acks, coalescing while a save runs.
func (sh *Shipper) checkpointer(saves <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for range saves {
		if err := sh.reg.Save(time.Now()); err != nil {
			sh.m.checkpointErrors.Inc()
			sh.log.Error("checkpoint failed", "err", err)
		}
	}
}

// finished is called when a reader finished a cursor: the registry marks it
// done once everything up to its end is acknowledged.
func (sh *Shipper) finished(c *cursor) {
	if c.noSave {
		return
	}
	if f := c.final.Load(); f >= 0 && c.acked.Load() >= f {
		sh.reg.Ack(c.id, c.path, f, time.Now())
		sh.reg.MarkDone(c.idStr, time.Now())
	}
}

func (sh *Shipper) track(c *cursor) {
	sh.mu.Lock()
	sh.cursors[c] = true
	sh.mu.Unlock()
}

func (sh *Shipper) untrackCursor(c *cursor) {
	sh.mu.Lock()
	delete(sh.cursors, c)
	sh.mu.Unlock()
}

func (sh *Shipper) untrack(fw *follower) {
	sh.mu.Lock()
	delete(sh.active, [2]uint64{fw.dev, fw.ino})
	if fw.cur != nil {
		delete(sh.cursors, fw.cur)
	}
	sh.mu.Unlock()
}

// claim marks a file as followed; false if another follower has it.
func (sh *Shipper) claim(dev, ino uint64) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	k := [2]uint64{dev, ino}
	if sh.active[k] {
		return false
	}
	sh.active[k] = true
	return true
}

func (sh *Shipper) isActive(dev, ino uint64) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.active[[2]uint64{dev, ino}]
}

// scanLoop expands the source's globs and starts a follower per new file.
func (sh *Shipper) scanLoop(ctx context.Context, src *sourceState, wg *sync.WaitGroup) {
	defer wg.Done()
	problems := map[string]string{} // path -> last reported problem, to log each once
	sh.recoverRotated(ctx, src, wg)
	for initial := true; ; initial = false {
		sh.scan(ctx, src, wg, initial, problems)
		select {
		case <-ctx.Done():
			return
		case <-time.After(sh.cfg.Tail.ScanInterval):
		}
	}
}

func (sh *Shipper) scan(ctx context.Context, src *sourceState, wg *sync.WaitGroup, initial bool, problems map[string]string) {
	seen := map[string]bool{}
	for _, pattern := range src.cfg.Paths {
		matches, _ := filepath.Glob(pattern) // patterns were validated
		for _, path := range matches {
			seen[path] = true
			fi, err := os.Stat(path)
			if err != nil {
				src.problem(problems, path, "stat", err.Error())
				continue
			}
			if fi.IsDir() {
				src.problem(problems, path, "not_regular", path+" is a directory, not a log file")
				continue
			}
			dev, ino := devIno(fi)
			if sh.isActive(dev, ino) {
				delete(problems, path)
				continue
			}
			fw, ok, err := sh.openFollower(src, path, initial)
			if err != nil {
				reason := "open"
				if errors.Is(err, os.ErrPermission) {
					reason = "permission"
				}
				src.problem(problems, path, reason, err.Error())
				continue
			}
			delete(problems, path)
			if !ok {
				continue
			}
			if !sh.claim(fw.dev, fw.ino) {
				fw.f.Close()
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); fw.run(ctx) }()
		}
	}
	for p := range problems {
		if !seen[p] {
			delete(problems, p) // gone: report again if it comes back broken
		}
	}
}

// recoverRotated finishes files that were rotated while the shipper was
// stopped: a registry entry whose file is no longer at its path but still in
// the same directory under another name (access.log.1) is read to its end.
func (sh *Shipper) recoverRotated(ctx context.Context, src *sourceState, wg *sync.WaitGroup) {
	for _, e := range sh.reg.Entries() {
		if e.Done || e.FPLen == 0 || !src.matches(e.Path) {
			continue
		}
		if fi, err := os.Stat(e.Path); err == nil && sameInode(fi, e.Dev, e.Ino) {
			continue // still there; the scan resumes it
		}
		ents, err := os.ReadDir(filepath.Dir(e.Path))
		if err != nil {
			continue
		}
		for _, de := range ents {
			if !de.Type().IsRegular() {
				continue
			}
			p := filepath.Join(filepath.Dir(e.Path), de.Name())
			fi, err := os.Stat(p)
			if err != nil || !sameInode(fi, e.Dev, e.Ino) || fi.Size() <= e.Offset {
				continue
			}
			fw, ok, err := sh.openFollower(src, p, false)
			if err != nil || !ok || fw.cur == nil || fw.cur.idStr != e.ID {
				if fw != nil {
					fw.f.Close()
				}
				continue
			}
			if !sh.claim(fw.dev, fw.ino) {
				fw.f.Close()
				continue
			}
			// Keep the original path: same key, same partition, same order.
			fw.cur.path = e.Path
			fw.rotatedAt = time.Now()
			fw.log.Info("finishing a file rotated while stopped", "was", e.Path, "offset", e.Offset)
			wg.Add(1)
			go func() { defer wg.Done(); fw.run(ctx) }()
		}
	}
}

// readStdin ships standard input until EOF; nothing is checkpointed.
func (sh *Shipper) readStdin(ctx context.Context, src *sourceState, wg *sync.WaitGroup) {
	defer wg.Done()
	start := time.Now()
	id := fileID{FP: fmt.Sprintf("stdin.%d", start.UnixNano())}
	fw := &follower{sh: sh, src: src, path: "-", log: src.log}
	fw.cur = newCursor(id, "-", src, 0)
	fw.cur.noSave = true
	if src.cfg.Multiline != nil {
		fw.grp = newGrouper(src.cfg.Multiline)
	}
	sh.track(fw.cur)
	defer sh.untrackCursor(fw.cur)
	for ctx.Err() == nil {
		buf := make([]byte, readBufBytes)
		n, err := sh.stdin.Read(buf)
		if n > 0 && !fw.consume(ctx, buf[:n], fw.cur) {
			return
		}
		if err != nil {
			if err != io.EOF {
				src.errorf(src.log, "read", "read stdin: %v", err)
			}
			fw.emitPartial(ctx)
			fw.flushGroup(ctx)
			return
		}
	}
}

// checkLine counts lines that are not text: they are shipped raw (the
// parser turns them into unparsed events) but the operator should know.
func (fw *follower) checkLine(line []byte) {
	if utf8.Valid(line) {
		return
	}
	reason := "invalid_utf8"
	for _, c := range line {
		if c == 0 {
			reason = "binary"
			break
		}
	}
	fw.src.invalid.WithLabelValues(fw.src.name, reason).Inc()
	if !fw.warnedInvalid {
		fw.warnedInvalid = true
		fw.log.Warn("file has lines that are not UTF-8 text; shipped as raw bytes (the parser marks them unparsed)",
			"reason", reason)
	}
}
