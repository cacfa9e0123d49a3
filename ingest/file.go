package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/culprit-dev/culprit/internal/record"
	"github.com/culprit-dev/culprit/parser"
)

// readBufBytes is one read from a file. Each read gets a fresh buffer that
// the records of that read point into (no per-line copy); the buffer is
// garbage once the chunk is acknowledged.
const readBufBytes = 128 << 10

// follower reads one file identity from its open descriptor. It never
// reopens by path: a renamed or deleted file is read from the descriptor
// until it stopped growing for tail.rotate_wait, so lines nginx writes
// between the rename and its reopen are not lost (the defect of path-based
// tailers; see docs/shipper.md). The scanner starts a new follower for
// whatever file appears at the path.
type follower struct {
	sh   *Shipper
	src  *sourceState
	log  *slog.Logger
	path string
	f    *os.File
	dev  uint64
	ino  uint64
	cur  *cursor // nil until the identity is known (an empty new file)
	off  int64   // next byte to read

	lineStart int64  // offset of the first byte of the unfinished line
	partial   []byte // unfinished line (no newline yet), at most MaxLineBytes
	skipping  bool   // inside an over-long line: partial holds its head, the rest is dropped
	grp       *grouper

	lastGrowth    time.Time
	rotatedAt     time.Time // zero while the path still names this file
	warnedInvalid bool

	// The access log_format inferred from this file's lines when the source
	// names none (see inferFormat); "" until one is found.
	infer    bool
	headSeen int  // lines of the file's head inference last saw
	headDone bool // the head was complete (inferSample lines or 256 KiB)
	format   string
	asAccess bool           // an auto source whose lines the format reads: ship them as nginx_access
	check    *parser.Parser // format compiled, to notice when it stops reading the lines
	reads    int            // reads since the head, to look for a better format now and then
}

// openFollower opens path and positions it from the registry; ok is false
// when the file is a finished, fully shipped identity (a rotated file that
// the glob still matches).
func (sh *Shipper) openFollower(src *sourceState, path string, initial bool) (*follower, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, false, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, false, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	dev, ino := devIno(fi)
	fw := &follower{sh: sh, src: src, path: path, f: f, dev: dev, ino: ino, lastGrowth: time.Now(),
		log: src.log.With("path", path)}
	c := src.cfg
	fw.infer = c.Type == TypeFile && c.LogFormat == "" && (c.InferLogFormat == nil || *c.InferLogFormat) &&
		(c.Kind == string(parser.SourceNginxAccess) || c.Kind == string(parser.SourceAuto))
	if src.cfg.Multiline != nil {
		fw.grp = newGrouper(src.cfg.Multiline)
	}
	for _, e := range sh.reg.ByInode(dev, ino) {
		fp, ok, err := headFingerprint(f, e.FPLen)
		if err != nil {
			f.Close()
			return nil, false, err
		}
		if !ok || fp != e.FP {
			continue // the inode was reused by another file
		}
		if e.Done && fi.Size() <= e.Offset {
			f.Close()
			return nil, false, nil
		}
		id := fileID{Dev: dev, Ino: ino, FP: e.FP, FPLen: e.FPLen}
		fw.cur = newCursor(id, path, src, e.Offset)
		fw.off, fw.lineStart = e.Offset, e.Offset
		fw.log.Info("resuming file", "file_id", id.String(), "offset", e.Offset)
		return fw, true, nil
	}
	if initial && sh.cfg.Tail.StartAt == "end" {
		// Skip what was there before the first start; align to a line start.
		fw.off = fi.Size()
		fw.lineStart = fw.off
		if err := fw.identify(); err != nil {
			f.Close()
			return nil, false, err
		}
	}
	fw.log.Info("following new file", "offset", fw.off)
	return fw, true, nil
}

// identify fixes the file identity from its first bytes; the file is empty
// while FPLen would be 0, and then identification waits for data.
func (fw *follower) identify() error {
	if fw.cur != nil {
		return nil
	}
	fi, err := fw.f.Stat()
	if err != nil {
		return err
	}
	n := int(min(fi.Size(), fpMaxBytes))
	if n == 0 {
		return nil
	}
	fp, ok, err := headFingerprint(fw.f, n)
	if err != nil {
		return err
	}
	if !ok {
		return nil // truncated meanwhile; next round
	}
	id := fileID{Dev: fw.dev, Ino: fw.ino, FP: fp, FPLen: n}
	fw.cur = newCursor(id, fw.path, fw.src, fw.off)
	fw.sh.track(fw.cur)
	return nil
}

// run follows the file until it is rotated away and drained, or ctx ends.
func (fw *follower) run(ctx context.Context) {
	defer fw.f.Close()
	defer fw.sh.untrack(fw)
	if fw.cur != nil {
		fw.sh.track(fw.cur)
	}
	cfg := fw.sh.cfg.Tail
	for ctx.Err() == nil {
		n, err := fw.readOnce(ctx)
		if err != nil {
			if ctx.Err() == nil {
				fw.src.errorf(fw.log, "read", "read %s: %v", fw.path, err)
			}
			return
		}
		if n > 0 {
			fw.lastGrowth = time.Now()
			continue
		}
		idle := time.Since(fw.lastGrowth)
		if (len(fw.partial) > 0 || fw.skipping) && idle >= cfg.PartialTimeout {
			// A last line without newline: the writer is done with it.
			if !fw.emitPartial(ctx) {
				return
			}
		}
		if fw.grp != nil && idle >= fw.src.cfg.Multiline.Timeout {
			if !fw.flushGroup(ctx) {
				return
			}
		}
		if fw.rotatedAt.IsZero() {
			st, err := os.Stat(fw.path)
			if err != nil || !sameInode(st, fw.dev, fw.ino) {
				fw.rotatedAt = time.Now()
				fw.log.Info("file renamed or deleted; reading it to its end", "offset", fw.off)
			}
		} else if idle >= cfg.RotateWait && time.Since(fw.rotatedAt) >= cfg.RotateWait {
			fw.finish(ctx)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(cfg.PollInterval):
		}
	}
}

func sameInode(fi os.FileInfo, dev, ino uint64) bool {
	d, i := devIno(fi)
	return d == dev && i == ino
}

// finish ships what is left of a rotated file and marks its cursor final.
func (fw *follower) finish(ctx context.Context) {
	if !fw.emitPartial(ctx) || !fw.flushGroup(ctx) {
		return
	}
	if fw.cur != nil {
		fw.cur.final.Store(fw.off)
		fw.sh.finished(fw.cur)
	}
	fw.log.Info("finished rotated file", "offset", fw.off)
}

// readOnce checks the file is still the same content, then reads what was
// appended and sends it as one chunk. It returns the bytes read.
func (fw *follower) readOnce(ctx context.Context) (int, error) {
	if fw.cur == nil {
		if err := fw.identify(); err != nil {
			return 0, err
		}
		if fw.cur == nil {
			return 0, nil
		}
	}
	fi, err := fw.f.Stat()
	if err != nil {
		return 0, err
	}
	fw.cur.size.Store(fi.Size())
	replaced := fi.Size() < fw.off
	if !replaced && fw.cur.id.FPLen > 0 {
		// copytruncate followed by fast writes can grow the file past our
		// offset before we look: the head tells the content was replaced.
		fp, ok, err := headFingerprint(fw.f, fw.cur.id.FPLen)
		if err != nil {
			return 0, err
		}
		replaced = !ok || fp != fw.cur.id.FP
	}
	if replaced {
		return 1, fw.truncated(ctx, fi.Size())
	}
	if fi.Size() == fw.off {
		return 0, nil
	}
	buf := make([]byte, min(readBufBytes, fi.Size()-fw.off))
	n, err := fw.f.ReadAt(buf, fw.off)
	if err != nil && err != io.EOF {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	if fw.cur.id.FPLen > 0 {
		// Replaced between the check and the read: what was read may be
		// the new content. Drop it; the copy (if any) has the old bytes.
		fp, ok, err := headFingerprint(fw.f, fw.cur.id.FPLen)
		if err != nil {
			return 0, err
		}
		if !ok || fp != fw.cur.id.FP {
			fi, err := fw.f.Stat()
			if err != nil {
				return 0, err
			}
			return 1, fw.truncated(ctx, fi.Size())
		}
	}
	if !fw.consume(ctx, buf[:n], fw.cur) {
		return 0, ctx.Err()
	}
	return n, nil
}

// consume splits data (the bytes at fw.off) into lines and sends them.
func (fw *follower) consume(ctx context.Context, data []byte, cur *cursor) bool {
	if fw.infer {
		fw.inferFormat(data, len(fw.partial) > 0 || fw.skipping)
	}
	max := fw.sh.cfg.Tail.MaxLineBytes
	now := time.Now()
	// Size the records once: growing the slice by doubling is most of
	// the garbage a busy file makes.
	ck := &chunk{cur: cur, lines: make([]record.Line, 0, bytes.Count(data, []byte{'\n'})+1)}
	pos := fw.off
	fw.off += int64(len(data))
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			fw.appendPartial(data, max)
			break
		}
		line := data[:i]
		next := pos + int64(i) + 1
		truncated := false
		if len(fw.partial) > 0 || fw.skipping {
			truncated = fw.skipping
			fw.appendPartial(line, max)
			truncated = truncated || fw.skipping
			line = fw.partial
			fw.partial, fw.skipping = nil, false
		} else if len(line) > max {
			line, truncated = line[:max], true
		}
		fw.add(ck, line, fw.lineStart, next, truncated, now)
		fw.lineStart = next
		pos = next
		data = data[i+1:]
	}
	return fw.send(ctx, ck)
}

// appendPartial keeps at most max bytes of an unfinished line.
func (fw *follower) appendPartial(b []byte, max int) {
	room := max - len(fw.partial)
	if len(b) > room {
		b = b[:room]
		if !fw.skipping {
			fw.skipping = true
		}
	}
	if len(b) > 0 {
		// Copy: the read buffer's tail must not be aliased by a line that
		// grows across reads.
		fw.partial = append(fw.partial[:len(fw.partial):len(fw.partial)], b...)
	}
}

// add appends a line (through the multi-line grouper when configured).
func (fw *follower) add(ck *chunk, line []byte, start, end int64, truncated bool, now time.Time) {
	if truncated {
		fw.src.truncatedLines.Inc()
		fw.log.Warn("line longer than tail.max_line_bytes; shipped cut, with the truncated header",
			"offset", start, "kept_bytes", len(line), "end", end)
	}
	fw.checkLine(line)
	if fw.grp != nil {
		for _, g := range fw.grp.add(line, start, end, truncated) {
			fw.appendLine(ck, g.value, g.start, g.end, g.truncated, now)
		}
		return
	}
	fw.appendLine(ck, line, start, end, truncated, now)
}

func (fw *follower) send(ctx context.Context, ck *chunk) bool {
	if len(ck.lines) == 0 {
		return true
	}
	return fw.sh.send(ctx, ck)
}

// emitPartial ships an unfinished line as it is.
func (fw *follower) emitPartial(ctx context.Context) bool {
	if fw.cur == nil || (len(fw.partial) == 0 && !fw.skipping) {
		return true
	}
	ck := &chunk{cur: fw.cur}
	fw.add(ck, fw.partial, fw.lineStart, fw.off, fw.skipping, time.Now())
	fw.partial, fw.skipping = nil, false
	fw.lineStart = fw.off
	return fw.send(ctx, ck)
}

// flushGroup ships a pending multi-line group after its timeout.
func (fw *follower) flushGroup(ctx context.Context) bool {
	if fw.grp == nil || fw.cur == nil {
		return true
	}
	ck := &chunk{cur: fw.cur}
	for _, g := range fw.grp.flush() {
		fw.appendLine(ck, g.value, g.start, g.end, g.truncated, time.Now())
	}
	return fw.send(ctx, ck)
}

// truncated handles content replaced under the same inode (truncate,
// copytruncate). The bytes written after our offset and before the
// truncation are in logrotate's copy if there is one: a file in the same
// directory whose head has our fingerprint. Read it from our offset as the
// old identity, then start the new content as a new identity at 0.
func (fw *follower) truncated(ctx context.Context, size int64) error {
	old := fw.cur
	fw.src.truncations.Inc()
	copyPath := findCopy(fw.path, old.id, fw.off)
	if copyPath != "" {
		fw.log.Info("file truncated (copytruncate); finishing from the copy", "copy", copyPath, "offset", fw.off)
		if err := fw.drainCopy(ctx, copyPath, old); err != nil {
			fw.src.errorf(fw.log, "copy", "read copy %s of %s: %v", copyPath, fw.path, err)
		}
	} else {
		fw.src.errorf(fw.log, "truncated",
			"%s truncated at offset %d (size now %d) and no copy found: lines written between the last read and the truncation are lost",
			fw.path, fw.off, size)
	}
	if !fw.emitPartial(ctx) || !fw.flushGroup(ctx) {
		return ctx.Err()
	}
	old.final.Store(fw.off)
	fw.sh.finished(old)
	fw.sh.untrackCursor(old)
	fw.cur = nil
	fw.off, fw.lineStart = 0, 0
	fw.partial, fw.skipping = nil, false
	// New content may be another format (a reconfigured nginx): infer anew.
	fw.format, fw.asAccess, fw.check = "", false, nil
	fw.headSeen, fw.headDone = 0, false
	return fw.identify()
}

// findCopy looks next to path for logrotate's copy of the content that had
// identity id: same head fingerprint, another inode, at least off bytes.
func findCopy(path string, id fileID, off int64) string {
	if id.FPLen == 0 {
		return ""
	}
	dir := filepath.Dir(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	type cand struct {
		path string
		mod  time.Time
	}
	var cands []cand
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if p == path {
			continue
		}
		fi, err := e.Info()
		if err != nil || fi.Size() < off {
			continue
		}
		cands = append(cands, cand{p, fi.ModTime()})
	}
	// The newest copy first: older generations have other fingerprints
	// anyway, this only saves reads.
	sort.Slice(cands, func(i, j int) bool { return cands[i].mod.After(cands[j].mod) })
	for _, c := range cands {
		f, err := os.Open(c.path)
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		if err == nil && !sameInode(fi, id.Dev, id.Ino) {
			fp, ok, _ := headFingerprint(f, id.FPLen)
			if ok && fp == id.FP {
				f.Close()
				return c.path
			}
		}
		f.Close()
	}
	return ""
}

// drainCopy reads the copy from fw.off to its end as identity old.
func (fw *follower) drainCopy(ctx context.Context, path string, old *cursor) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		buf := make([]byte, readBufBytes)
		n, err := f.ReadAt(buf, fw.off)
		if n > 0 && !fw.consume(ctx, buf[:n], old) {
			return ctx.Err()
		}
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// appendLine turns one line into a record of ck.
func (s *sourceState) appendLine(ck *chunk, value []byte, start, end int64, truncated bool, now time.Time) {
	ck.lines = append(ck.lines, record.Line{
		Value:     value,
		Host:      s.host,
		Kind:      s.cfg.Kind,
		Path:      ck.cur.path,
		FileID:    ck.cur.idStr,
		Offset:    start,
		ReadTime:  now,
		TZ:        s.cfg.TZ,
		LogFormat: s.cfg.LogFormat,
		Truncated: truncated,
		BootTime:  s.bootTime,
		Labels:    s.cfg.Labels,
	})
	ck.end = end
	ck.bytes += int(end - start)
}

// appendLine is sourceState.appendLine with the format this file's lines
// were found to have.
func (fw *follower) appendLine(ck *chunk, value []byte, start, end int64, truncated bool, now time.Time) {
	fw.src.appendLine(ck, value, start, end, truncated, now)
	if fw.format == "" {
		return
	}
	l := &ck.lines[len(ck.lines)-1]
	l.LogFormat = fw.format
	if fw.asAccess {
		l.Kind = string(parser.SourceNginxAccess)
	}
}

// inferSample is how many lines inference looks at, as culprit explain does.
const inferSample = 200

// inferFormat finds the nginx log_format of an access log shipped without
// one, so that the analyzer reads the team's own format rather than
// combined. The shipper infers rather than the analyzer because it has the
// file: the format comes from the file's first lines (read again after a
// restart, so a resumed file keeps its format) and travels in every
// record's log_format header, where any consumer (the analyzer, kcat,
// ClickHouse's Kafka engine) finds it, and no analyzer instance has to
// hold lines back to learn it. The format is inferred again when the first
// or last line of a read no longer parses with it (nginx reloaded with
// another log_format) and the new one reads more of the read's lines. It
// costs two parses per read, and an inference (about a millisecond for
// 200 lines) on the rare read that fails them.
func (fw *follower) inferFormat(data []byte, midLine bool) {
	if !fw.headDone {
		// From the file's head, again as it grows until it is complete.
		lines, complete := fw.headLines()
		if len(lines) > fw.headSeen {
			fw.headSeen = len(lines)
			fw.adopt(lines, "inferred log_format from the file's first lines")
		}
		fw.headDone = complete
	}
	if fw.format == "" {
		return // no access format reads the head: not an access log
	}
	first, last := firstLastLine(data, midLine)
	var ev parser.Event
	failed := false
	for _, l := range [][]byte{first, last} {
		if len(l) > 0 {
			fw.check.Parse(l, &ev)
			failed = failed || ev.Kind != parser.KindRequest
		}
	}
	if failed {
		// The head is history now: growing it would bring the old
		// format back.
		fw.headDone = true
		fw.adopt(splitLines(data, inferSample), "log_format changed: inferred again from the lines just read")
		return
	}
	// Fields the head could not name (upstream fields that were "-" on
	// every request it held) may be named by later lines: look again now
	// and then, while some are unnamed.
	fw.reads++
	if fw.reads%64 == 0 && parser.UnnamedFields(fw.format) > 0 {
		// With the head: a read may hold one line, too little to name
		// fields by, and the head's lines say what the others look like.
		lines, _ := fw.headLines()
		fw.adopt(append(lines, splitLines(data, inferSample)...), "log_format refined: inferred again from the head and the lines just read")
	}
}

// adopt infers a format from lines and keeps it if it reads more of them
// than the current one.
func (fw *follower) adopt(lines [][]byte, why string) {
	if len(lines) == 0 {
		return
	}
	format, n, err := parser.InferAccessFormat(lines)
	if err != nil {
		return
	}
	cur := 0
	if fw.check != nil {
		var ev parser.Event
		for _, l := range lines {
			if fw.check.Parse(l, &ev); ev.Kind == parser.KindRequest {
				cur++
			}
		}
	}
	if n < cur || n == cur && (fw.check == nil || parser.UnnamedFields(format) >= parser.UnnamedFields(fw.format)) {
		return // no better: it reads fewer lines, or as many with no more fields named
	}
	p, err := parser.New(parser.Options{Source: parser.SourceNginxAccess, LogFormat: format})
	if err != nil {
		return
	}
	auto := fw.src.cfg.Kind == string(parser.SourceAuto)
	if auto {
		// Requests without a time (theirs or a wrapper's) in a source
		// nobody said is nginx are an application server's (werkzeug's
		// "[25/Nov/2026 16:48:40]" is no nginx time).
		timed := 0
		var ev parser.Event
		for _, l := range lines {
			if p.Parse(l, &ev); ev.Kind == parser.KindRequest && !ev.Time.IsZero() {
				timed++
			}
		}
		if timed*2 <= n {
			return
		}
	}
	fw.format, fw.check = format, p
	// An auto source is shipped as nginx_access only when the format reads
	// nearly all of its lines: auto detection knows the common access log
	// shapes, not every format a team wrote.
	fw.asAccess = auto && n*10 >= len(lines)*9
	fw.log.Info(why, "log_format", format, "lines", len(lines), "parsed", n, "as_nginx_access", fw.asAccess)
}

// headLines reads the file's first whole lines (up to inferSample, 256
// KiB); complete when there will be no more of them.
func (fw *follower) headLines() ([][]byte, bool) {
	buf := make([]byte, 256<<10)
	n, err := fw.f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return nil, false
	}
	full := n == len(buf)
	buf = buf[:n]
	i := bytes.LastIndexByte(buf, '\n')
	if i < 0 {
		return nil, full // not one whole line yet (or one over 256 KiB)
	}
	lines := splitLines(buf[:i+1], inferSample)
	return lines, full || len(lines) >= inferSample
}

// splitLines returns up to n non-blank whole lines of data.
func splitLines(data []byte, n int) [][]byte {
	var out [][]byte
	for len(data) > 0 && len(out) < n {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if l := bytes.TrimRight(data[:i], "\r"); len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
		data = data[i+1:]
	}
	return out
}

// firstLastLine returns the first and the last whole line of data; when
// data starts inside a line (the rest of one begun in the previous read),
// the first whole line is the one after it.
func firstLastLine(data []byte, midLine bool) (first, last []byte) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return nil, nil
	}
	first = data[:i]
	if midLine {
		rest := data[i+1:]
		j := bytes.IndexByte(rest, '\n')
		if j < 0 {
			return nil, nil
		}
		first = rest[:j]
	}
	j := bytes.LastIndexByte(data, '\n')
	k := bytes.LastIndexByte(data[:j], '\n')
	if midLine && k < i {
		k = i
	}
	last = data[k+1 : j]
	return bytes.TrimRight(first, "\r"), bytes.TrimRight(last, "\r")
}
