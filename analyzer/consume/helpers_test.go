package consume

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/culprit-dev/culprit/analyzer/clickhouse"
)

// privateService runs scripts/<script> up|down with settings of its own (a
// directory, ports), so that a test can stop and restart a real server
// without disturbing the shared one.
func privateService(t *testing.T, script, cmd string, env ...string) {
	t.Helper()
	c := exec.Command(filepath.Join("..", "..", "scripts", script), cmd)
	c.Env = append(os.Environ(), env...)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", script, cmd, err, out)
	}
}

// scenarioCopies: a scenario's records n times over, each copy from other
// files (file_id), so that every line is a distinct row and there are
// enough of them for an outage to come mid-stream.
func scenarioCopies(t *testing.T, name string, n int) []kafka.Message {
	t.Helper()
	var msgs []kafka.Message
	for copyN := 0; copyN < n; copyN++ {
		for _, m := range scenarioRecords(t, name) {
			for i, h := range m.Headers {
				if h.Key == "file_id" {
					m.Headers[i].Value = fmt.Appendf(nil, "%s-copy%d", h.Value, copyN)
				}
			}
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// slowStore: the ClickHouse store of db, taking delay more per batch so that
// the test can stop a server while the consumer is still busy.
func slowStore(t *testing.T, cc clickhouse.ConnConfig, db string, delay time.Duration) Writer {
	t.Helper()
	conn, err := clickhouse.Open(context.Background(), cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	store := clickhouse.NewStore(conn, db)
	return writerFunc(func(ctx context.Context, b *clickhouse.Batch) error {
		time.Sleep(delay)
		return store.Write(ctx, b)
	})
}

// runConsumer runs a consumer of cfg writing to w until stop, which returns
// what Run returned.
func runConsumer(t *testing.T, cfg Config, w Writer) (m *Metrics, stop func() error) {
	t.Helper()
	r := newReader(cfg)
	t.Cleanup(func() { r.Close() })
	m = &Metrics{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(r, w, cfg, testLogger(t), m).Run(ctx) }()
	return m, func() error {
		cancel()
		return <-done
	}
}
