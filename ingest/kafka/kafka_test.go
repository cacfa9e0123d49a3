package kafka_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/ingest"
	"github.com/culprit-dev/culprit/ingest/kafka"
	"github.com/culprit-dev/culprit/internal/record"
	"github.com/culprit-dev/culprit/internal/testenv"
)

// consumed is one record read back by kcat, the independent client.
type consumed struct {
	key       string
	partition int
	line      record.Line
}

// readTopic reads the whole topic with kcat and decodes the headers.
func readTopic(t testing.TB, brokers, topic string) []consumed {
	t.Helper()
	kcat := testenv.Binary(t, "kcat")
	// \x1f and \x1e separate fields and records: values may hold tabs.
	cmd := exec.Command(kcat, "-C", "-b", brokers, "-t", topic, "-e", "-q",
		"-f", "%k\x1f%p\x1f%h\x1f%s\x1e")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "Unknown topic") {
			return nil // not created yet: nothing shipped so far
		}
		t.Fatalf("kcat: %v: %s", err, stderr.String())
	}
	var recs []consumed
	for _, r := range bytes.Split(out, []byte{0x1e}) {
		if len(r) == 0 {
			continue
		}
		f := bytes.SplitN(r, []byte{0x1f}, 4)
		if len(f) != 4 {
			t.Fatalf("kcat record %q", r)
		}
		var hs []record.Header
		for _, kv := range strings.Split(string(f[2]), ",") {
			k, v, _ := strings.Cut(kv, "=")
			hs = append(hs, record.Header{Key: k, Value: []byte(v)})
		}
		l, err := record.FromHeaders(f[3], hs)
		if err != nil {
			t.Fatalf("decode headers %q: %v", f[2], err)
		}
		p, _ := strconv.Atoi(string(f[1]))
		recs = append(recs, consumed{key: string(f[0]), partition: p, line: l})
	}
	return recs
}

func topicName(t testing.TB) string {
	return fmt.Sprintf("test.ship.%s.%d", strings.ReplaceAll(t.Name(), "/", "."), time.Now().UnixNano())
}

func logger(t testing.TB) *slog.Logger {
	if os.Getenv("SHIP_TEST_VERBOSE") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

func config(t testing.TB, brokers, topic, dir string, paths ...string) *ingest.Config {
	c := &ingest.Config{
		Host:     "test-host",
		Registry: filepath.Join(dir, "state", "registry.json"),
		Kafka:    ingest.KafkaConfig{Brokers: []string{brokers}, Topic: topic, WriteTimeout: 3 * time.Second},
		Tail: ingest.TailConfig{PollInterval: 10 * time.Millisecond, ScanInterval: 50 * time.Millisecond,
			RotateWait: 300 * time.Millisecond, PartialTimeout: 300 * time.Millisecond},
		Sources: []ingest.Source{{Name: "files", Paths: paths, Kind: "nginx_access", TZ: "Europe/Berlin",
			Labels: map[string]string{"service": "web", "env": "test"}}},
	}
	c.SetDefaults()
	return c
}

// run starts a shipper with the real producer; stop flushes and checkpoints.
func run(t testing.TB, cfg *ingest.Config) (*ingest.Metrics, func()) {
	t.Helper()
	prod, err := kafka.NewProducer(cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	m := ingest.NewMetrics(nil)
	sh, err := ingest.New(cfg, prod, ingest.Options{Logger: logger(t), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("shipper: %v", err)
			}
			prod.Close()
		})
	}
	t.Cleanup(stop)
	return m, stop
}

// check asserts every stream's numbers 0..want-1 are present and in order
// within each file identity; it returns the duplicate count.
func check(t testing.TB, recs []consumed, want map[string]int) int {
	t.Helper()
	seen := map[string]map[int]int{}
	last := map[string]int{}
	dups := 0
	for _, r := range recs {
		f := strings.Fields(string(r.line.Value))
		if len(f) < 2 {
			t.Errorf("unexpected value %q", r.line.Value)
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			t.Errorf("unexpected value %q", r.line.Value)
			continue
		}
		if seen[f[0]] == nil {
			seen[f[0]] = map[int]int{}
		}
		seen[f[0]][n]++
		if seen[f[0]][n] > 1 {
			dups++
			continue
		}
		k := r.line.FileID + "/" + f[0]
		if p, ok := last[k]; ok && n < p {
			t.Errorf("stream %s, file %s: %d after %d", f[0], r.line.FileID, n, p)
		}
		last[k] = n
	}
	for s, w := range want {
		missing := 0
		first := -1
		for i := 0; i < w; i++ {
			if seen[s][i] == 0 {
				if first < 0 {
					first = i
				}
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("stream %s: %d of %d lines missing in Kafka (first %d)", s, missing, w, first)
		}
	}
	return dups
}

func waitCount(t testing.TB, d time.Duration, brokers, topic string, n int) []consumed {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		recs := readTopic(t, brokers, topic)
		if len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitAcked waits until the shipper counted n acknowledged lines; the
// topic is then read once (kcat re-reading a growing topic is slow).
func waitAcked(t testing.TB, m *ingest.Metrics, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for metric(t, m, "culprit_ship_lines_acked_total") < float64(n) {
		if time.Now().After(deadline) {
			t.Errorf("after %v only %.0f of %d lines acknowledged", d, metric(t, m, "culprit_ship_lines_acked_total"), n)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func line(stream string, n int) string {
	// A real nginx combined line with the stream and number as the client
	// and user fields, so the record also parses as nginx_access.
	return fmt.Sprintf("%s %07d - [25/Nov/2026:16:00:00 +0100] \"GET /item/%d HTTP/1.1\" 200 512 \"-\" \"load\"\n", stream, n, n)
}

func TestKafka_RecordFormat(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := topicName(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	body := line("A", 0) + line("A", 1)
	os.WriteFile(path, []byte(body), 0o644)
	_, stop := run(t, config(t, brokers, topic, dir, path))
	recs := waitCount(t, 20*time.Second, brokers, topic, 2)
	stop()
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	for i, r := range recs {
		l := r.line
		if r.key != "test-host:"+path || l.Host != "test-host" || l.Path != path || l.Kind != "nginx_access" ||
			l.TZ != "Europe/Berlin" || l.Labels["service"] != "web" || l.Labels["env"] != "test" || l.Truncated {
			t.Errorf("record %d: key %q line %+v", i, r.key, l)
		}
		if want := strings.TrimSuffix(line("A", i), "\n"); string(l.Value) != want {
			t.Errorf("record %d value %q, want %q", i, l.Value, want)
		}
		if time.Since(l.ReadTime) > time.Minute || !strings.HasPrefix(l.FileID, "") || strings.Count(l.FileID, ":") != 2 {
			t.Errorf("record %d: read_time %v file_id %q", i, l.ReadTime, l.FileID)
		}
	}
	if recs[0].line.Offset != 0 || recs[1].line.Offset != int64(len(line("A", 0))) {
		t.Errorf("offsets %d, %d", recs[0].line.Offset, recs[1].line.Offset)
	}
	if recs[0].partition != recs[1].partition {
		t.Errorf("one file's lines went to partitions %d and %d", recs[0].partition, recs[1].partition)
	}
}

// TestKafka_RotationUnderLoad: a writer appends numbered lines at a steady
// rate while the file is rotated by rename (server reopens a little later)
// and by copytruncate, alternately; every line must be in Kafka, in order
// within each file. SHIP_TEST_LINES raises the volume (default 30000).
func TestKafka_RotationUnderLoad(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := topicName(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	total := 30000
	if v, err := strconv.Atoi(os.Getenv("SHIP_TEST_LINES")); err == nil {
		total = v
	}
	m, stop := run(t, config(t, brokers, topic, dir, path))

	var mu sync.Mutex // copytruncate holds the writer (see ingest's TestTail_CopyTruncate)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	reopen := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; n < total; {
			select {
			case <-reopen:
				f.Close()
				f, _ = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			default:
			}
			mu.Lock()
			var b []byte
			for i := 0; i < 20 && n < total; i++ {
				b = append(b, line("W", n)...)
				n++
			}
			f.Write(b)
			mu.Unlock()
			time.Sleep(time.Millisecond)
		}
		f.Close()
	}()
	renames, copies := 0, 0
	for i := 1; ; i++ {
		select {
		case <-done:
		case <-time.After(150 * time.Millisecond):
			if i%2 == 0 {
				if err := os.Rename(path, fmt.Sprintf("%s.%d", path, i)); err != nil {
					t.Fatal(err)
				}
				os.WriteFile(path, nil, 0o644)
				time.AfterFunc(20*time.Millisecond, func() { reopen <- struct{}{} })
				renames++
			} else {
				mu.Lock()
				b, _ := os.ReadFile(path)
				os.WriteFile(fmt.Sprintf("%s.%d", path, i), b, 0o644)
				os.Truncate(path, 0)
				mu.Unlock()
				copies++
			}
			continue
		}
		break
	}
	waitAcked(t, m, total, 60*time.Second)
	stop()
	recs := readTopic(t, brokers, topic)
	dups := check(t, recs, map[string]int{"W": total})
	t.Logf("%d lines, %d renames, %d copytruncates: %d records in Kafka, %d duplicates", total, renames, copies, len(recs), dups)
}

// privateBroker starts a second broker (127.0.0.1:19094, controller 19095)
// that this test may stop without disturbing other tests' broker.
func privateBroker(t *testing.T) (addr, dir string, ctl func(cmd string)) {
	t.Helper()
	testenv.KafkaBrokers(t) // same prerequisites as the shared broker
	script, err := filepath.Abs("../../scripts/kafka.sh")
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	ctl = func(cmd string) {
		t.Helper()
		t0 := time.Now()
		defer func() { t.Logf("kafka.sh %s (private broker): %v", cmd, time.Since(t0).Round(time.Millisecond)) }()
		c := exec.Command(script, cmd)
		c.Env = append(os.Environ(), "KAFKA_PORT=19094", "KAFKA_CONTROLLER_PORT=19095", "KAFKA_SASL_PORT=19096",
			"KAFKA_SSL_PORT=19097", "KAFKA_DIR="+dir, "KAFKA_HEAP=256m")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("kafka.sh %s: %v\n%s", cmd, err, out)
		}
	}
	ctl("up")
	t.Cleanup(func() { ctl("down") })
	return "127.0.0.1:19094", dir, ctl
}

func metric(t testing.TB, m *ingest.Metrics, name string) float64 {
	t.Helper()
	rec := newRecorder()
	m.Handler().ServeHTTP(rec, newRequest("/metrics"))
	var sum float64
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		n, v, ok := strings.Cut(l, " ")
		if ok && (n == name || strings.HasPrefix(n, name+"{")) {
			x, _ := strconv.ParseFloat(v, 64)
			sum += x
		}
	}
	return sum
}

// TestKafka_PrivateBroker runs the tests that need a broker of their own
// (127.0.0.1:19094, SASL on 19096, TLS on 19097), started once: SASL,
// TLS, then an outage.
func TestKafka_PrivateBroker(t *testing.T) {
	brokers, dir, ctl := privateBroker(t)
	t.Run("SASL", func(t *testing.T) { testSASL(t, brokers) })
	t.Run("TLS", func(t *testing.T) { testTLS(t, brokers, filepath.Join(dir, "tls", "ca.pem")) })
	t.Run("Outage", func(t *testing.T) { testOutage(t, brokers, ctl) })
}

// testSASL ships through the SASL listener with each mechanism (user
// culprit, from scripts/kafka.sh) and is refused with a wrong password.
func testSASL(t *testing.T, plainBrokers string) {
	topic := topicName(t)
	for i, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "access.log")
		os.WriteFile(path, []byte(line("S", i)), 0o644)
		cfg := config(t, "127.0.0.1:19096", topic, dir, path)
		cfg.Kafka.SASL = ingest.SASLConfig{Mechanism: mech, Username: "culprit", Password: "culprit-secret"}
		m, stop := run(t, cfg)
		waitAcked(t, m, 1, 8*time.Second)
		stop()
	}
	check(t, readTopic(t, plainBrokers, topic), map[string]int{"S": 3})

	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	os.WriteFile(path, []byte(line("X", 0)), 0o644)
	cfg := config(t, "127.0.0.1:19096", topic, dir, path)
	cfg.Kafka.SASL = ingest.SASLConfig{Mechanism: "SCRAM-SHA-256", Username: "culprit", Password: "wrong"}
	cfg.ShutdownTimeout = time.Second
	m, stop := run(t, cfg)
	deadline := time.Now().Add(20 * time.Second)
	for metric(t, m, "culprit_ship_kafka_errors_total") == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if metric(t, m, "culprit_ship_kafka_errors_total") == 0 || metric(t, m, "culprit_ship_lines_acked_total") != 0 {
		t.Errorf("wrong password: %v errors, %v acked", metric(t, m, "culprit_ship_kafka_errors_total"),
			metric(t, m, "culprit_ship_lines_acked_total"))
	}
	stop()
}

// testTLS ships through the TLS listener trusting the test CA, and is
// refused when the CA is not trusted (the system roots do not know it).
func testTLS(t *testing.T, plainBrokers, caFile string) {
	topic := topicName(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	os.WriteFile(path, []byte(line("T", 0)), 0o644)
	cfg := config(t, "127.0.0.1:19097", topic, dir, path)
	cfg.Kafka.TLS = ingest.TLSConfig{Enabled: true, CAFile: caFile}
	m, stop := run(t, cfg)
	waitAcked(t, m, 1, 30*time.Second)
	stop()
	check(t, readTopic(t, plainBrokers, topic), map[string]int{"T": 1})

	dir = t.TempDir()
	path = filepath.Join(dir, "access.log")
	os.WriteFile(path, []byte(line("U", 0)), 0o644)
	cfg = config(t, "127.0.0.1:19097", topic, dir, path)
	cfg.Kafka.TLS = ingest.TLSConfig{Enabled: true}
	cfg.ShutdownTimeout = time.Second
	m, stop = run(t, cfg)
	deadline := time.Now().Add(20 * time.Second)
	for metric(t, m, "culprit_ship_kafka_errors_total") == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if metric(t, m, "culprit_ship_kafka_errors_total") == 0 || metric(t, m, "culprit_ship_lines_acked_total") != 0 {
		t.Errorf("untrusted CA: %v errors, %v acked", metric(t, m, "culprit_ship_kafka_errors_total"),
			metric(t, m, "culprit_ship_lines_acked_total"))
	}
	stop()
}

// testOutage stops the broker mid-stream: the shipper stops reading
// (what is read but unacknowledged stays bounded), reports the errors, and
// after the broker is back every line is in Kafka.
func testOutage(t *testing.T, brokers string, ctl func(string)) {
	topic := topicName(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	m, stop := run(t, config(t, brokers, topic, dir, path))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	write := func(lines int) {
		var b []byte
		for i := 0; i < lines; i++ {
			b = append(b, line("O", n)...)
			n++
		}
		f.Write(b)
	}
	write(5000)
	deadline := time.Now().Add(20 * time.Second)
	for metric(t, m, "culprit_ship_lines_acked_total") < 5000 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	ctl("down")
	// About 10 MB while Kafka is down: more than the shipper may hold.
	for i := 0; i < 20; i++ {
		write(4000)
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	read, acked := metric(t, m, "culprit_ship_bytes_read_total"), metric(t, m, "culprit_ship_bytes_acked_total")
	fi, _ := f.Stat()
	t.Logf("broker down: file %d bytes, read %.0f, acked %.0f, kafka errors %.0f", fi.Size(), read, acked,
		metric(t, m, "culprit_ship_kafka_errors_total"))
	if read-acked > 16<<20 {
		t.Errorf("%.0f bytes read but unacknowledged during the outage: memory is not bounded", read-acked)
	}
	if read > float64(fi.Size())*0.6 {
		t.Errorf("read %.0f of %d bytes while Kafka was down: reading did not stop", read, fi.Size())
	}
	if metric(t, m, "culprit_ship_kafka_errors_total") == 0 {
		t.Error("no Kafka error counted during the outage")
	}
	t0 := time.Now()
	ctl("up")
	t.Logf("broker restarted in %v", time.Since(t0))
	write(5000)
	waitAcked(t, m, n, 60*time.Second)
	stop()
	recs := readTopic(t, brokers, topic)
	parts := map[int]int{}
	for _, r := range recs {
		parts[r.partition]++
	}
	t.Logf("partitions used: %v", parts)
	dups := check(t, recs, map[string]int{"O": n})
	t.Logf("%d lines, %d records after the outage, %d duplicates", n, len(recs), dups)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func newRequest(path string) *http.Request { return httptest.NewRequest("GET", path, nil) }

// BenchmarkProducer_Write measures encoding and producing one batch of
// nginx-sized lines against the real broker.
func BenchmarkProducer_Write(b *testing.B) {
	brokers := testenv.KafkaBrokers(b)
	c := ingest.KafkaConfig{Brokers: []string{brokers}, Topic: "bench.ship.producer", Compression: os.Getenv("SHIP_BENCH_COMPRESSION")}
	cfg := &ingest.Config{Kafka: c}
	cfg.SetDefaults()
	p, err := kafka.NewProducer(cfg.Kafka)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	lines := make([]record.Line, 8192)
	now := time.Now()
	labels := map[string]string{"service": "web", "env": "prod"} // one map per source, as the shipper does
	for i := range lines {
		lines[i] = record.Line{Value: []byte(line("B", i)), Host: "proxy-1", Kind: "nginx_access", Path: "/var/log/nginx/access.log",
			FileID: "65024:123456:0123456789abcdef", Offset: int64(i * 160), ReadTime: now, TZ: "Europe/Berlin",
			Labels: labels}
	}
	ctx := context.Background()
	p.Write(ctx, lines[:1]) // create the topic
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Write(ctx, lines); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(lines))/b.Elapsed().Seconds(), "lines/s")
}
