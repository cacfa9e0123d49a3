package consume

import (
	"testing"

	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/internal/record"
	"github.com/culprit-dev/culprit/parser"
)

// BenchmarkConsumer_Add is the analyzer's per-record CPU cost without
// Kafka or ClickHouse: headers, parser lookup, parse, columnar append.
func BenchmarkConsumer_Add(b *testing.B) {
	msgs := scenarioRecords(b, "pm2-oom")
	c := New(nil, nil, DefaultConfig(), testLogger(b), &Metrics{})
	var ev parser.Event
	hdrs := make([]record.Header, 0, 16)
	p := &pending{batch: &clickhouse.Batch{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &msgs[i%len(msgs)]
		hdrs = hdrs[:0]
		for _, h := range m.Headers {
			hdrs = append(hdrs, record.Header{Key: h.Key, Value: h.Value})
		}
		c.add(p, m, hdrs, &ev)
		if p.batch.Len() >= 50000 {
			p.batch.Reset()
		}
	}
}
