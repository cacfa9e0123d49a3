package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestMigrate_DryRunOffline(t *testing.T) {
	for _, tc := range []struct {
		args          []string
		want, wantNot []string
	}{
		{[]string{"--dry-run", "--server-version", "24.8"},
			[]string{"CREATE TABLE IF NOT EXISTS culprit.requests\n", "MODIFY TTL time + INTERVAL 30 DAY", "CODEC(DoubleDelta, LZ4)"},
			[]string{"skipped", "ON CLUSTER"}},
		{[]string{"--dry-run", "--server-version", "18.16", "--database", "logs", "--ttl-days", "7"},
			[]string{"CREATE TABLE IF NOT EXISTS logs.requests\n", "-- 0002_ttl.sql: skipped, needs ClickHouse 19.6"},
			[]string{"MODIFY TTL", "CODEC("}},
		{[]string{"--dry-run", "--server-version", "24.8", "--cluster", "prod"},
			[]string{"culprit.requests_local ON CLUSTER prod", "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/culprit/requests', '{replica}')",
				"ENGINE = Distributed(prod, culprit, requests_local, cityHash64(file_id, line_offset))"},
			[]string{"ENGINE = ReplacingMergeTree"}},
	} {
		var out bytes.Buffer
		e := &env{stdout: &out, stderr: &bytes.Buffer{}, logger: discardLogger()}
		if err := run(context.Background(), e, append([]string{"migrate"}, tc.args...)); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: output lacks %q", tc.args, w)
			}
		}
		for _, w := range tc.wantNot {
			if strings.Contains(out.String(), w) {
				t.Errorf("%v: output has %q", tc.args, w)
			}
		}
	}
}

func TestMigrate_Usage(t *testing.T) {
	for _, args := range [][]string{{"--server-version", "24.8"}, {"--dry-run", "--server-version", "x"}, {"extra"}} {
		e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, logger: discardLogger()}
		if err := run(context.Background(), e, append([]string{"migrate"}, args...)); !errors.Is(err, errUsage) {
			t.Errorf("migrate %v: %v, want a usage error", args, err)
		}
	}
}
