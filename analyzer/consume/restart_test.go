package consume

import (
	"fmt"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/internal/testenv"
)

// privateClickHouse runs scripts/clickhouse.sh on ports of its own so the
// test can stop and restart a real server without disturbing the shared one.
type privateClickHouse struct {
	t   *testing.T
	dir string
}

const privateCHPort = 18790

func (p *privateClickHouse) script(cmd string) {
	p.t.Helper()
	privateService(p.t, "clickhouse.sh", cmd, "CULPRIT_CLICKHOUSE_DIR="+p.dir, fmt.Sprintf("CLICKHOUSE_TCP_PORT=%d", privateCHPort),
		fmt.Sprintf("CLICKHOUSE_HTTP_PORT=%d", privateCHPort+1), fmt.Sprintf("CLICKHOUSE_INTERSERVER_PORT=%d", privateCHPort+2))
}

// ClickHouse itself stops (SIGTERM, the process exits) mid-stream and
// starts again on the same data: nothing lost, nothing doubled, and no
// offset moved while it was down.
func TestConsumer_ClickHouseStopStart(t *testing.T) {
	testenv.ClickHouseAddr(t) // the shared server's presence means the binaries are installed
	testenv.Binary(t, "clickhouse-client")
	ch := &privateClickHouse{t: t, dir: t.TempDir()}
	ch.script("up")
	t.Cleanup(func() { ch.script("down") })
	addr := fmt.Sprintf("127.0.0.1:%d", privateCHPort)
	conn, db := migrated(t, addr)

	k := newTopic(t, 3)
	msgs := scenarioCopies(t, "pm2-oom", 4)
	k.produce(t, msgs)
	cfg := testConfig(k, addr, db, "culprit-test-"+k.topic)
	cfg.Batch.MaxRows = 200
	m, stop := runConsumer(t, cfg, slowStore(t, clickhouse.ConnConfig{Addr: addr, ReadTimeout: 3 * time.Second}, db, 50*time.Millisecond))

	waitFor(t, "a few batches", 20*time.Second, func() bool { return m.Batches.Load() >= 2 })
	ch.script("down")
	before := k.committed(t, cfg.Kafka.Group, 3)
	time.Sleep(time.Second)
	if after := k.committed(t, cfg.Kafka.Group, 3); after != before {
		t.Errorf("offsets moved from %d to %d while ClickHouse was stopped", before, after)
	}
	if before >= int64(len(msgs)) {
		t.Fatalf("everything was committed before the stop: the test proves nothing")
	}
	ch.script("up")
	waitFor(t, "every line stored and committed", 40*time.Second, func() bool {
		return k.committed(t, cfg.Kafka.Group, 3) == int64(len(msgs))
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	final, raw := rows(t, conn, db)
	if final != uint64(len(msgs)) {
		t.Errorf("%d distinct rows, want %d", final, len(msgs))
	}
	t.Logf("%d lines; committed %d before the stop; %d raw rows, %d after dedup; %d write retries",
		len(msgs), before, raw, final, m.WriteRetries.Load())
}
