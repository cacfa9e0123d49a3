package consume

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The analyze.yaml shown in docs/clickhouse.md is valid and says the
// defaults it claims to.
func TestConfig_DocumentedDefaults(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "clickhouse.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(# analyze.yaml.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("no analyze.yaml block in docs/clickhouse.md")
	}
	path := filepath.Join(t.TempDir(), "analyze.yaml")
	if err := os.WriteFile(path, m[1], 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	if !equalConfig(got, want) {
		t.Errorf("documented config\n%+v\ndiffers from the defaults\n%+v", got, want)
	}
}

func equalConfig(a, b Config) bool {
	return strings.Join(a.Kafka.Brokers, ",") == strings.Join(b.Kafka.Brokers, ",") && a.Kafka.Topic == b.Kafka.Topic &&
		a.Kafka.Group == b.Kafka.Group && a.Kafka.FetchMaxBytes == b.Kafka.FetchMaxBytes &&
		a.Kafka.QueueCapacity == b.Kafka.QueueCapacity && a.Kafka.SessionTimeout == b.Kafka.SessionTimeout &&
		a.ClickHouse == b.ClickHouse && a.Batch == b.Batch && a.Retry == b.Retry && a.Correlate == b.Correlate &&
		a.Listen == b.Listen
}

func TestConfig_Rejects(t *testing.T) {
	for name, body := range map[string]string{
		"unknown key":      "kafka:\n  brokerz: [x]\n",
		"bad duration":     "batch:\n  max_wait: soon\n",
		"zero rows":        "batch:\n  max_rows: 0\n",
		"same groups":      "correlate:\n  enabled: true\n  group: culprit-analyzer\n",
		"short session":    "kafka:\n  session_timeout: 10ms\n",
		"retry max < init": "retry:\n  initial: 2s\n  max: 1s\n",
		"missing topology": "correlate:\n  enabled: true\n  topology: /nonexistent/services.yaml\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.yaml")
			os.WriteFile(path, []byte(body), 0o644)
			if _, err := LoadConfig(path); err == nil {
				t.Errorf("accepted %q", body)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "empty.yaml")
	os.WriteFile(path, nil, 0o644)
	cfg, err := LoadConfig(path)
	if err != nil || cfg.Batch.MaxWait.D() != time.Second {
		t.Errorf("empty file: %v %+v", err, cfg.Batch)
	}
}
