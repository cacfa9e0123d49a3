package consume

import (
	"fmt"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/internal/testenv"
)

const privateKafkaPort = 18793

func privateKafka(t *testing.T, dir, cmd string) {
	t.Helper()
	privateService(t, "kafka.sh", cmd, "KAFKA_DIR="+dir, fmt.Sprintf("KAFKA_PORT=%d", privateKafkaPort),
		fmt.Sprintf("KAFKA_CONTROLLER_PORT=%d", privateKafkaPort+1))
}

// The broker stops mid-stream and starts again: the analyzer waits it out,
// resumes from its committed offsets and stores every line once.
func TestConsumer_BrokerStopStart(t *testing.T) {
	testenv.KafkaBrokers(t) // the shared broker's presence means its jars are fetched
	chAddr := testenv.ClickHouseAddr(t)
	dir := t.TempDir()
	privateKafka(t, dir, "up")
	t.Cleanup(func() { privateKafka(t, dir, "down") })
	t.Setenv("CULPRIT_TEST_KAFKA", fmt.Sprintf("127.0.0.1:%d", privateKafkaPort))
	k := newTopic(t, 3)
	conn, db := migrated(t, chAddr)
	msgs := scenarioCopies(t, "pm2-oom", 4)
	k.produce(t, msgs)
	cfg := testConfig(k, chAddr, db, "culprit-test-"+k.topic)
	cfg.Batch.MaxRows = 200
	m, stop := runConsumer(t, cfg, slowStore(t, clickhouse.ConnConfig{Addr: chAddr}, db, 100*time.Millisecond))

	waitFor(t, "a few batches", 30*time.Second, func() bool { return m.Batches.Load() >= 2 })
	t0 := time.Now()
	privateKafka(t, dir, "down")
	stoppedAt := m.StoredLines.Load()
	time.Sleep(time.Second)
	privateKafka(t, dir, "up")
	t.Logf("broker down and up again in %v", time.Since(t0).Round(100*time.Millisecond))
	t0 = time.Now()
	defer func() { t.Logf("caught up %v after the broker came back", time.Since(t0).Round(100*time.Millisecond)) }()
	waitFor(t, "every line stored and committed after the broker came back", 60*time.Second, func() bool {
		n, err := k.tryCommitted(cfg.Kafka.Group, 3) // the admin client reconnects too
		return err == nil && n == int64(len(msgs))
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if stoppedAt >= uint64(len(msgs)) {
		t.Fatal("everything was stored before the broker stopped: the test proves nothing")
	}
	final, raw := rows(t, conn, db)
	if final != uint64(len(msgs)) {
		t.Errorf("%d distinct rows, want %d", final, len(msgs))
	}
	t.Logf("%d lines; %d stored when the broker stopped; %d raw rows, %d after dedup; %d commit errors, %d fetch errors",
		len(msgs), stoppedAt, raw, final, m.CommitErrors.Load(), m.FetchErrors.Load())
}
