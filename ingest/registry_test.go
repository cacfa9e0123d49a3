package ingest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRegistry_SaveLoadAndExpire(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "registry.json")
	r, err := OpenRegistry(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r.Ack(fileID{Dev: 1, Ino: 2, FP: "aa", FPLen: 10}, "/var/log/a.log", 100, now)
	r.Ack(fileID{Dev: 1, Ino: 2, FP: "aa", FPLen: 10}, "/var/log/a.log", 50, now) // never backwards
	r.Ack(fileID{Dev: 1, Ino: 3, FP: "bb", FPLen: 10}, "/var/log/b.log", 7, now.Add(-2*time.Hour))
	r.MarkDone("1:3:bb", now.Add(-2*time.Hour))
	if err := r.Save(now); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "sub", "*.tmp*")); len(left) != 0 {
		t.Errorf("temp files left behind: %v", left)
	}
	r2, err := OpenRegistry(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := r2.Lookup("1:2:aa")
	if !ok || e.Offset != 100 || e.Path != "/var/log/a.log" || e.FPLen != 10 {
		t.Errorf("reloaded entry %+v, %v", e, ok)
	}
	if _, ok := r2.Lookup("1:3:bb"); ok {
		t.Error("an entry older than the ttl survived the save")
	}
	os.WriteFile(path, []byte(`{"version": 99}`), 0o644)
	if _, err := OpenRegistry(path, 0); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("unknown registry version: %v", err)
	}
}

func TestMetrics_HealthzReportsKafkaFailing(t *testing.T) {
	m := NewMetrics(nil)
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := get(); code != http.StatusOK {
		t.Errorf("fresh shipper: %d", code)
	}
	m.started = time.Now().Add(-time.Minute)
	m.kafkaFailed()
	if code, body := get(); code != http.StatusServiceUnavailable || !strings.Contains(body, "kafka failing") {
		t.Errorf("kafka failing for a minute: %d %s", code, body)
	}
	m.kafkaOK()
	if code, _ := get(); code != http.StatusOK {
		t.Errorf("after a success: %d", code)
	}
}
