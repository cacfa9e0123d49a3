package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/internal/testenv"
)

// buildCulprit builds the real binary: crash tests need a process to kill.
func buildCulprit(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// Reachable by the unprivileged user of TestShip_BadInput.
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "culprit")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// readNumbers reads the topic with kcat and counts each "<stream> <n>".
func readNumbers(t *testing.T, brokers, topic string) (map[string]map[int]int, int) {
	t.Helper()
	kcat := testenv.Binary(t, "kcat")
	var stderr bytes.Buffer
	cmd := exec.Command(kcat, "-C", "-b", brokers, "-t", topic, "-e", "-q", "-f", "%s\n")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && !strings.Contains(stderr.String(), "Unknown topic") {
		t.Fatalf("kcat: %v: %s", err, stderr.String())
	}
	seen := map[string]map[int]int{}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		if seen[f[0]] == nil {
			seen[f[0]] = map[int]int{}
		}
		seen[f[0]][v]++
		n++
	}
	return seen, n
}

func writeShipConfig(t *testing.T, dir, brokers, topic, metrics string, paths ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "host: crash-test\nregistry: %s\n", filepath.Join(dir, "state", "registry.json"))
	if metrics != "" {
		fmt.Fprintf(&b, "metrics: %s\n", metrics)
	}
	fmt.Fprintf(&b, "kafka:\n  brokers: [%s]\n  topic: %s\n  batch_lines: 1000\n  write_timeout: 5s\n", brokers, topic)
	b.WriteString("tail:\n  poll_interval: 20ms\n  scan_interval: 100ms\n  rotate_wait: 300ms\n  partial_timeout: 300ms\n")
	b.WriteString("sources:\n  - name: files\n    kind: app\n    labels: {service: crash}\n    paths:\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "      - %s\n", p)
	}
	path := filepath.Join(dir, "ship.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestShip_KillNine kills the shipper with SIGKILL at random moments while
// lines are written (and the file is rotated); after a final clean run every
// line must be in Kafka at least once. Duplicates are reported and bounded
// by what can be acknowledged but not yet checkpointed per crash.
// SHIP_TEST_KILLS raises the number of kills (default 20).
func TestShip_KillNine(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	kills := 20
	if v, err := strconv.Atoi(os.Getenv("SHIP_TEST_KILLS")); err == nil {
		kills = v
	}
	bin := buildCulprit(t)
	dir := t.TempDir()
	logDir := filepath.Join(dir, "logs")
	os.Mkdir(logDir, 0o755)
	path := filepath.Join(logDir, "access.log")
	topic := fmt.Sprintf("test.ship.kill9.%d", time.Now().UnixNano())
	cfg := writeShipConfig(t, dir, brokers, topic, "", path)

	stopWriter := make(chan struct{})
	var wg sync.WaitGroup
	var written int
	wg.Add(1)
	go func() {
		defer wg.Done()
		f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		rot := time.NewTicker(700 * time.Millisecond)
		defer rot.Stop()
		for r := 0; ; {
			select {
			case <-stopWriter:
				f.Close()
				return
			case <-rot.C:
				r++
				os.Rename(path, fmt.Sprintf("%s.%d", path, r))
				f.Close()
				f, _ = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			default:
			}
			var b []byte
			for i := 0; i < 10; i++ {
				b = append(b, fmt.Sprintf("K %07d %s\n", written, strings.Repeat("p", 80))...)
				written++
			}
			f.Write(b)
			time.Sleep(2 * time.Millisecond)
		}
	}()

	var logs bytes.Buffer
	for i := 0; i < kills; i++ {
		cmd := exec.Command(bin, "ship", "--config", cfg)
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(100+rand.IntN(600)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	close(stopWriter)
	wg.Wait()

	// The final clean run ships the rest, then stops gracefully.
	cmd := exec.Command(bin, "ship", "--config", cfg)
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	var seen map[string]map[int]int
	var records int
	for {
		seen, records = readNumbers(t, brokers, topic)
		if len(seen["K"]) >= written || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("clean stop: %v", err)
	}
	missing := 0
	for i := 0; i < written; i++ {
		if seen["K"][i] == 0 {
			if missing < 5 {
				t.Errorf("line %d missing from Kafka", i)
			}
			missing++
		}
	}
	dups := records - len(seen["K"])
	t.Logf("%d kills, %d lines written, %d records in Kafka: %d missing, %d duplicates (%.2f%%)",
		kills, written, records, missing, dups, 100*float64(dups)/float64(max(written, 1)))
	// Per crash at most the batch in flight plus the batches acknowledged
	// while the checkpoint was being written: 1000-line batches, one
	// 128 KiB read (about 1400 of these lines) over a batch.
	if bound := kills * 3 * (1000 + 1400); dups > bound {
		t.Errorf("%d duplicates, more than %d for %d crashes", dups, bound, kills)
	}
	if t.Failed() {
		t.Logf("shipper logs:\n%s", tail(logs.String(), 4000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestShip_BadInput runs the binary as an unprivileged user next to a file
// it may not read, a directory where a file should be, a binary file and a
// 10 MiB line: each is a clear error in the log and in /metrics, and the
// good file keeps flowing.
func TestShip_BadInput(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	if os.Getuid() != 0 {
		t.Skip("needs root to run the shipper as nobody (permission denied for a root-only file)")
	}
	bin := buildCulprit(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	logDir := filepath.Join(dir, "logs")
	os.Mkdir(logDir, 0o755)
	os.MkdirAll(filepath.Join(dir, "state"), 0o777)
	os.Chmod(filepath.Join(dir, "state"), 0o777)
	good := filepath.Join(logDir, "good.log")
	os.WriteFile(good, []byte("G 0000000 fine\n"), 0o644)
	os.WriteFile(filepath.Join(logDir, "secret.log"), []byte("S 0000000 root only\n"), 0o600)
	os.Mkdir(filepath.Join(logDir, "dir.log"), 0o755)
	os.WriteFile(filepath.Join(logDir, "binary.log"), []byte("B 0000000 \x00\x01\x02\xff\xfe\x7fELF\n"), 0o644)
	big := append([]byte("L 0000000 "), bytes.Repeat([]byte("z"), 10<<20)...)
	big = append(big, "\nL 0000001 after the long one\n"...)
	os.WriteFile(filepath.Join(logDir, "big.log"), big, 0o644)

	topic := fmt.Sprintf("test.ship.badinput.%d", time.Now().UnixNano())
	metricsAddr := "127.0.0.1:18601"
	cfg := writeShipConfig(t, dir, brokers, topic, metricsAddr, filepath.Join(logDir, "*.log"))
	cmd := exec.Command(bin, "ship", "--config", cfg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("shipper logs:\n%s", tail(logs.String(), 4000))
		}
	}()
	scrape := func() string {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	// Then the good file keeps flowing while the bad ones stay bad.
	deadline := time.Now().Add(30 * time.Second)
	appended := false
	for {
		seen, _ := readNumbers(t, brokers, topic)
		if !appended && len(seen["G"]) == 1 {
			f, _ := os.OpenFile(good, os.O_WRONLY|os.O_APPEND, 0)
			f.WriteString("G 0000001 still flowing\n")
			f.Close()
			appended = true
		}
		if len(seen["G"]) == 2 && len(seen["L"]) == 2 && len(seen["B"]) == 1 {
			if len(seen["S"]) != 0 {
				t.Error("the root-only file was shipped by nobody")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("good lines did not flow: %v", seen)
		}
		time.Sleep(300 * time.Millisecond)
	}
	m := scrape()
	for _, want := range []string{
		`culprit_ship_source_errors_total{reason="permission",source="files"} 1`,
		`culprit_ship_source_errors_total{reason="not_regular",source="files"} 1`,
		`culprit_ship_lines_truncated_total{source="files"} 1`,
		`culprit_ship_lines_invalid_total{reason="binary",source="files"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	l := logs.String()
	for _, want := range []string{"permission denied", "is a directory", "longer than tail.max_line_bytes", "not UTF-8"} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestShip_Reload: SIGHUP re-reads the config (a new source starts), the
// running files resume from the checkpoint without duplicates, and an
// invalid config is refused while the old one keeps running.
func TestShip_Reload(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bin := buildCulprit(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	os.WriteFile(a, []byte("A 0000000 x\nA 0000001 x\n"), 0o644)
	os.WriteFile(b, []byte("B 0000000 y\n"), 0o644)
	topic := fmt.Sprintf("test.ship.reload.%d", time.Now().UnixNano())
	cfg := writeShipConfig(t, dir, brokers, topic, "", a)
	cmd := exec.Command(bin, "ship", "--config", cfg)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("shipper logs:\n%s", tail(logs.String(), 4000))
		}
	}()
	waitTopic := func(what string, ok func(map[string]map[int]int) bool) map[string]map[int]int {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			seen, _ := readNumbers(t, brokers, topic)
			if ok(seen) {
				return seen
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %v", what, seen)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitTopic("a.log", func(s map[string]map[int]int) bool { return len(s["A"]) == 2 })

	os.WriteFile(cfg, []byte("not: [valid"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(500 * time.Millisecond)
	if !strings.Contains(logs.String(), "reload failed; keeping the running config") {
		t.Error("an invalid config was not refused on SIGHUP")
	}
	writeShipConfig(t, dir, brokers, topic, "", a, b)
	cmd.Process.Signal(syscall.SIGHUP)
	f, _ := os.OpenFile(a, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("A 0000002 x\n")
	f.Close()
	seen := waitTopic("b.log and the rest of a.log", func(s map[string]map[int]int) bool {
		return len(s["B"]) == 1 && len(s["A"]) == 3
	})
	for n, c := range seen["A"] {
		if c != 1 {
			t.Errorf("A %d shipped %d times across the reload", n, c)
		}
	}
}
