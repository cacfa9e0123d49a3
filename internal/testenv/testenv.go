// Package testenv owns how tests find the real services they run against
// (Kafka, ClickHouse, nginx). scripts/stack starts them and exports their
// addresses; a test that needs one and cannot find it skips on a developer's
// machine but fails under CI, so CI never passes by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// KafkaBrokers returns the bootstrap address of the test broker.
func KafkaBrokers(t testing.TB) string {
	t.Helper()
	return need(t, "CULPRIT_TEST_KAFKA", "Kafka (run scripts/stack up)")
}

// ClickHouseAddr returns the native-protocol address of the test ClickHouse.
func ClickHouseAddr(t testing.TB) string {
	t.Helper()
	return need(t, "CULPRIT_TEST_CLICKHOUSE", "ClickHouse (run scripts/stack up)")
}

// Binary returns the path of an executable the test needs (nginx, kcat, ...).
func Binary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed: scripts/deps.sh must install it", name)
		}
		t.Skipf("%s not installed (run scripts/deps.sh)", name)
	}
	return p
}

func need(t testing.TB, variable, what string) string {
	t.Helper()
	v := os.Getenv(variable)
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is unset under CI: %s must be running", variable, what)
		}
		t.Skipf("%s unset: needs %s", variable, what)
	}
	return v
}
