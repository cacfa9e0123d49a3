package ingest

import (
	"strings"
	"testing"
	"time"
)

func TestConfig_SampleDeployConfigIsValid(t *testing.T) {
	c, err := LoadConfig("../deploy/ship.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sources) != 3 || c.Sources[2].Type != TypeKmsg || c.Sources[2].Kind != "kernel" ||
		c.Sources[0].Labels["service"] != "edge" || c.Kafka.Acks != "all" || c.Tail.RotateWait != 5*time.Second {
		t.Errorf("sample config decoded as %+v", c)
	}
}

func TestConfig_Errors(t *testing.T) {
	base := "kafka: {brokers: [127.0.0.1:19092]}\nsources: [{paths: [/var/log/x.log]}]\n"
	if _, err := ParseConfig([]byte(base)); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", base + "tial: {}\n", "field tial not found"},
		{"no brokers", "sources: [{paths: [/x.log]}]\n", "kafka.brokers is empty"},
		{"compression", "kafka: {brokers: [b:1], compression: brotli}\nsources: [{paths: [/x.log]}]\n", "kafka.compression"},
		{"relative path", "kafka: {brokers: [b:1]}\nsources: [{paths: [x.log]}]\n", "not absolute"},
		{"kind", "kafka: {brokers: [b:1]}\nsources: [{paths: [/x.log], kind: nginx}]\n", "unknown source"},
		{"tz", "kafka: {brokers: [b:1]}\nsources: [{paths: [/x.log], tz: Mars/Olympus}]\n", "tz"},
		{"sasl", "kafka: {brokers: [b:1], sasl: {mechanism: GSSAPI}}\nsources: [{paths: [/x.log]}]\n", "sasl"},
		{"line limit", "kafka: {brokers: [b:1], batch_bytes: 65536}\nsources: [{paths: [/x.log]}]\n", "max_line_bytes"},
		{"two stdin", "kafka: {brokers: [b:1]}\nsources: [{type: stdin, name: a}, {type: stdin, name: b}]\n", "more than one stdin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
