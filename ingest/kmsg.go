package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// readKmsg ships kernel messages from /dev/kmsg as they happen (OOM kills
// the moment the kernel logs them). Each record is "prio,seq,usec,flags;msg";
// the identity is the boot (boot_id), the offset the sequence number, so a
// restart resumes after the last acknowledged message of this boot.
func (sh *Shipper) readKmsg(ctx context.Context, src *sourceState, wg *sync.WaitGroup) {
	defer wg.Done()
	if src.bootTime.IsZero() {
		if bt, err := bootTimeFromProcStat(); err == nil {
			src.bootTime = bt
		}
	}
	bootID := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		bootID = strings.TrimSpace(string(b))
	}
	id := fileID{FP: "kmsg." + bootID}
	var next int64 // first sequence number not yet acknowledged
	if e, ok := sh.reg.Lookup(id.String()); ok {
		next = e.Offset
	}
	cur := newCursor(id, src.cfg.Device, src, next)
	sh.track(cur)
	defer sh.untrackCursor(cur)
	log := src.log.With("path", src.cfg.Device)
	var f *os.File
	for ctx.Err() == nil {
		var err error
		f, err = os.OpenFile(src.cfg.Device, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			break
		}
		src.errorf(log, "open", "open %s: %v (needs root or CAP_SYSLOG); retrying", src.cfg.Device, err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
	if f == nil {
		return
	}
	defer f.Close()
	log.Info("following kernel messages", "resume_seq", next, "boot_time", src.bootTime)
	deadlines := f.SetReadDeadline(time.Time{}) == nil // the device: yes; a regular file (tests): no
	buf := make([]byte, 16<<10)                        // a kmsg record is at most about 8 KiB
	var carry []byte                                   // a regular file (tests) may cut a record between reads
	for ctx.Err() == nil {
		ck := &chunk{cur: cur}
		now := time.Now()
		for len(ck.lines) < 1024 {
			if deadlines {
				// Go polls the device: a read blocks until a record comes
				// (no EAGAIN), so a deadline bounds how long a chunk waits
				// and lets a stop interrupt the read.
				f.SetReadDeadline(time.Now().Add(sh.cfg.Tail.PollInterval))
			}
			n, err := f.Read(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if errors.Is(err, syscall.EPIPE) {
				// The ring buffer overwrote records we had not read yet.
				src.errorf(log, "overrun", "kernel ring buffer overrun: some kernel messages were overwritten before they were read")
				continue
			}
			if n == 0 || err != nil {
				break // EAGAIN: nothing new (or EOF on a regular file in tests)
			}
			// One read is one record on the device; a file holds many.
			data := append(carry, buf[:n]...)
			end := bytes.LastIndexByte(data, '\n')
			carry = append([]byte(nil), data[end+1:]...)
			if end < 0 {
				continue
			}
			for _, rec := range bytes.Split(data[:end], []byte("\n")) {
				if len(rec) == 0 || rec[0] == ' ' {
					continue // " SUBSYSTEM=..." dictionary lines
				}
				seq, ok := kmsgSeq(rec)
				if !ok || seq < next {
					continue
				}
				next = seq + 1
				src.appendLine(ck, append([]byte(nil), rec...), seq, seq+1, false, now)
			}
		}
		if len(ck.lines) > 0 {
			if !sh.send(ctx, ck) {
				return
			}
			continue
		}
		if deadlines {
			continue // the read already waited
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(sh.cfg.Tail.PollInterval):
		}
	}
}

// kmsgSeq returns the sequence number of a /dev/kmsg record.
func kmsgSeq(rec []byte) (int64, bool) {
	i := bytes.IndexByte(rec, ',')
	if i < 0 {
		return 0, false
	}
	rest := rec[i+1:]
	j := bytes.IndexByte(rest, ',')
	if j < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	return n, err == nil
}

// bootTimeFromProcStat reads btime from /proc/stat (the fallback while
// parser.BootTimeFromProc is unavailable to this package's build).
func bootTimeFromProcStat() (time.Time, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return time.Time{}, fmt.Errorf("boot time: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("boot time: %q: %w", v, err)
			}
			return time.Unix(n, 0).UTC(), nil
		}
	}
	return time.Time{}, errors.New("boot time: no btime in /proc/stat")
}
