package consume

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/culprit-dev/culprit/analyzer/clickhouse"
)

// fetcher hands out queued messages and records commits.
type fetcher struct {
	msgs chan kafka.Message

	mu       sync.Mutex
	commits  []int64 // highest committed offset of each commit
	onCommit func()
}

func (f *fetcher) FetchMessage(ctx context.Context) (kafka.Message, error) {
	select {
	case m := <-f.msgs:
		return m, nil
	case <-ctx.Done():
		return kafka.Message{}, ctx.Err()
	}
}

func (f *fetcher) CommitMessages(ctx context.Context, msgs ...kafka.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range msgs {
		f.commits = append(f.commits, m.Offset)
	}
	if f.onCommit != nil {
		f.onCommit()
	}
	return nil
}

// Batches are written concurrently, but a batch's offsets are committed
// only once it and every batch before it are stored: a slow first batch
// holds back the commit of a faster second one.
func TestConsumer_CommitsInOrder(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Batch.MaxRows, cfg.Batch.MaxWait = 10, Duration(100*time.Millisecond)
	f := &fetcher{msgs: make(chan kafka.Message, 100)}
	line := func(off int64) kafka.Message {
		return kafka.Message{Topic: "t", Partition: 0, Offset: off,
			Value: fmt.Appendf(nil, "127.0.0.1 - - [25/Nov/2026:16:00:%02d +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"curl\"", off%60)}
	}
	var mu sync.Mutex
	var events []string
	logEvent := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	f.onCommit = func() { logEvent(fmt.Sprintf("commit %d", f.commits[len(f.commits)-1])) }
	w := writerFunc(func(ctx context.Context, b *clickhouse.Batch) error {
		if b.Len() == 5 { // the first batch, cut short by max_wait
			time.Sleep(300 * time.Millisecond)
		}
		logEvent(fmt.Sprintf("stored %d", b.Len()))
		return nil
	})
	// 5 lines, a pause longer than max_wait, then 20: batches of 5, 10, 10.
	for off := range int64(5) {
		f.msgs <- line(off)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	c := New(f, w, cfg, testLogger(t), &Metrics{})
	go func() { done <- c.Run(ctx) }()
	time.Sleep(200 * time.Millisecond)
	for off := int64(5); off < 25; off++ {
		f.msgs <- line(off)
	}
	waitFor(t, "every offset committed", 10*time.Second, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.commits) > 0 && f.commits[len(f.commits)-1] == 24
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"stored 10", "stored 5", "commit 4", "commit 14"}
	if len(events) < len(want) || fmt.Sprint(events[:len(want)]) != fmt.Sprint(want) {
		t.Errorf("events %v, want them to start %v (the second batch stored first, the commits in order)", events, want)
	}
	last := int64(-1)
	for _, off := range f.commits {
		if off < last {
			t.Errorf("commits %v go backwards", f.commits)
		}
		last = off
	}
}
