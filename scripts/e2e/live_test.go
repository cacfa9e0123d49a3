// Package e2e is culprit's live end-to-end run: real nginx in front of a
// real upstream that fails while the test watches, culprit ship tailing the
// logs into Kafka, culprit analyze writing to ClickHouse, and the test
// waiting for the incident row. It measures the latency from the first 5xx
// a client saw to the incident row (p50/p95 over the runs).
//
//	scripts/stack up && eval "$(scripts/stack env)" && go test -v ./scripts/e2e/
package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/culprit-dev/culprit/dashboards/fixture"
	"github.com/culprit-dev/culprit/internal/testenv"
)

// Ports (this test's range): nginx on basePort, run i's upstream on
// basePort+1+i.
const (
	basePort = 18860
	runs     = 4
	// The last run's upstream is killed by the kernel's OOM killer in a
	// memory cgroup (cause oom_kill, evidence from /dev/kmsg); the others
	// die of their own MemoryError (runtime_oom).
	kernelRun = runs - 1
	// The kernel run's cgroup limit: python3 and its HTTP server take
	// about 10 MiB, so the allocation loop reaches it within a second.
	cgroupLimit = 64 << 20
	// The target of issue 6: an incident row within 10 s of the first 5xx
	// at p95, with default settings. It is reported, not enforced yet: the
	// streaming correlator writes incidents only when its input pauses for
	// correlate.idle or every 1024 records, so under steady load the first
	// row takes 12-17 s here (see the report in docs/dashboards.md).
	target = 10 * time.Second
	// What is enforced: a row must come, and not later than this.
	limit = 45 * time.Second
	// How long a run's verdict may take to name its cause after the
	// first row.
	settle = 10 * time.Second
)

// start runs a command in its own process group, its output in a file;
// cleanup ends the group.
func start(t *testing.T, dir, name string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	out, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("%s output (last 3000 bytes):\n%s", name, tail(b, 3000))
		}
	})
	return cmd
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func waitListen(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

const logFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time ua="$upstream_addr" us="$upstream_status" uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time" cid=$connection rid=$request_id`

func TestLive_OOMToIncidentRow(t *testing.T) {
	nginxBin := testenv.Binary(t, "nginx")
	python := testenv.Binary(t, "python3")
	brokers := testenv.KafkaBrokers(t)
	chAddr := testenv.ClickHouseAddr(t)
	bin := fixture.BuildCulprit(t)
	conn, db := fixture.NewDatabase(t)
	dir := t.TempDir()
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// nginx: one location per run, each in front of its own upstream, so
	// every run is an incident of its own.
	var locs strings.Builder
	for i := 0; i < runs; i++ {
		fmt.Fprintf(&locs, "        location /run%d/ { proxy_pass http://127.0.0.1:%d; proxy_connect_timeout 1s; }\n", i, basePort+1+i)
	}
	conf := fmt.Sprintf(`worker_processes 1;
error_log %[1]s/logs/error.log info;
pid %[1]s/nginx.pid;
events { worker_connections 256; }
http {
    client_body_temp_path %[1]s/tmp; proxy_temp_path %[1]s/tmp; fastcgi_temp_path %[1]s/tmp;
    uwsgi_temp_path %[1]s/tmp; scgi_temp_path %[1]s/tmp;
    log_format culprit '%[2]s';
    access_log %[1]s/logs/access.log culprit;
    server {
        listen 127.0.0.1:%[3]d;
        server_name shop.local;
%[4]s    }
}
`, dir, logFormat, basePort, locs.String())
	must(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644))

	id := rand.Uint32()
	lines, events := fmt.Sprintf("culprit-e2e-live-lines-%d", id), fmt.Sprintf("culprit-e2e-live-events-%d", id)
	client := &kafka.Client{Addr: kafka.TCP(brokers), Timeout: 10 * time.Second}
	if _, err := client.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: lines, NumPartitions: 6, ReplicationFactor: 1}, {Topic: events, NumPartitions: 3, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{lines, events}})
	})
	// Default settings everywhere but the names: ship's batching, analyze's
	// batch (1 s) and the correlator's idle advance (2 s) and lateness.
	ship := fmt.Sprintf(`host: proxy-1
registry: %[1]s/registry.json
kafka:
  brokers: [%[2]q]
  topic: %[3]s
sources:
  - paths: [%[1]s/logs/access.log]
    kind: nginx_access
    log_format: %[4]q
  - paths: [%[1]s/logs/error.log]
    kind: nginx_error
    tz: UTC
  - paths: ["%[1]s/logs/app-*.log"]
    kind: auto
    tz: UTC
    multiline: {}
  - type: kmsg
    kind: kernel
`, dir, brokers, lines, logFormat)
	analyze := fmt.Sprintf(`kafka:
  brokers: [%q]
  topic: %s
  group: e2e-live-%d
clickhouse:
  addr: %q
  database: %s
correlate:
  enabled: true
  topic: %s
  group: e2e-live-corr-%d
`, brokers, lines, id, chAddr, db, events, id)
	must(t, os.WriteFile(filepath.Join(dir, "ship.yaml"), []byte(ship), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "analyze.yaml"), []byte(analyze), 0o644))

	start(t, dir, "nginx", nil, nginxBin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-g", "daemon off;")
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", basePort))
	start(t, dir, "analyze", nil, bin, "analyze", "--config", filepath.Join(dir, "analyze.yaml"))
	start(t, dir, "ship", nil, bin, "ship", "--config", filepath.Join(dir, "ship.yaml"))
	app, err := filepath.Abs("../../deploy/compose/flaky/app.py")
	if err != nil {
		t.Fatal(err)
	}
	oomApp, err := filepath.Abs("oomapp.py")
	if err != nil {
		t.Fatal(err)
	}

	var latencies []time.Duration
	wants := map[string]string{} // upstream -> the cause we caused
	hc := &http.Client{Timeout: 2 * time.Second}
	for i := 0; i < runs; i++ {
		port := basePort + 1 + i
		// The upstream serves for 3 s, then dies of a MemoryError and
		// stays down: every request after that is a 502.
		logPath := filepath.Join(dir, "logs", fmt.Sprintf("app-run%d.log", i))
		want := "runtime_oom"
		var killed string // the kernel run: the line the kernel writes when it kills the app
		if i == kernelRun {
			// The upstream serves for 3 s, then allocates until the
			// kernel kills it in its memory cgroup: the shell joins the
			// cgroup, then execs python, so the pid the app logs is the
			// one the kernel names in "Killed process N (python3)".
			want = "oom_kill"
			cg := memoryCgroup(t)
			cmd := start(t, dir, fmt.Sprintf("app-%d", i), []string{"E2E_OOM_AFTER=3", fmt.Sprintf("E2E_PORT=%d", port)},
				"/bin/sh", "-c", fmt.Sprintf("echo $$ >%s/cgroup.procs && exec %s -u %s >>%s 2>&1", cg, python, oomApp, logPath))
			killed = fmt.Sprintf("Killed process %d (", cmd.Process.Pid)
		} else {
			start(t, dir, fmt.Sprintf("app-%d", i), []string{"FLAKY_UP=3", fmt.Sprintf("FLAKY_PORT=%d", port)},
				"/bin/sh", "-c", fmt.Sprintf("exec %s -u %s >>%s 2>&1", python, app, logPath))
		}
		waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))

		var first atomic.Int64 // unix nanos of the first 5xx a client saw
		ctx, stop := context.WithCancel(context.Background())
		go func() {
			url := fmt.Sprintf("http://127.0.0.1:%d/run%d/api/orders", basePort, i)
			for ctx.Err() == nil {
				if resp, err := hc.Get(url); err == nil {
					resp.Body.Close()
					if resp.StatusCode >= 500 {
						first.CompareAndSwap(0, time.Now().UnixNano())
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		upstream := fmt.Sprintf("127.0.0.1:%d", port)
		var seen time.Time
		var cause string
		deadline := time.Now().Add(2 * limit)
		for time.Now().Before(deadline) {
			if first.Load() != 0 {
				var n uint64
				row := conn.QueryRow(context.Background(),
					fmt.Sprintf("SELECT count(), any(cause) FROM %s.incidents FINAL WHERE upstream = ?", db), upstream)
				if err := row.Scan(&n, &cause); err != nil {
					t.Fatal(err)
				}
				if n > 0 {
					seen = time.Now()
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if seen.IsZero() {
			stop()
			t.Fatalf("run %d: no incident row for %s within %v (first 5xx seen: %v)", i, upstream, 2*limit, first.Load() != 0)
		}
		lat := seen.Sub(time.Unix(0, first.Load()))
		latencies = append(latencies, lat)
		// Let the incident settle, then check the cause we caused. An
		// open incident's verdict is revised as evidence arrives: the
		// first row may come before the app's own lines arrived (seen:
		// a provisional "restart"), so the verdict gets at least 3 s and
		// at most settle to name the cause.
		first3, settled := time.Now().Add(3*time.Second), time.Now().Add(settle)
		for {
			time.Sleep(500 * time.Millisecond)
			if err := conn.QueryRow(context.Background(),
				fmt.Sprintf("SELECT argMax(cause, version) FROM %s.incidents WHERE upstream = ?", db), upstream).Scan(&cause); err != nil {
				t.Fatal(err)
			}
			if (cause == want && time.Now().After(first3)) || time.Now().After(settled) {
				break
			}
		}
		stop()
		t.Logf("run %d: %s: incident row %v after the first 5xx; cause %s", i, upstream, lat.Round(time.Millisecond), cause)
		wants[upstream] = want
		if cause != want {
			t.Errorf("run %d: cause %s, want %s", i, cause, want)
		}
		if killed != "" {
			// The verdict must rest on the kernel's own line, shipped from
			// /dev/kmsg, not on the 502s alone.
			var lines []string
			if err := conn.QueryRow(context.Background(), fmt.Sprintf(`SELECT groupUniqArray(concat(role, ' ', source, ': ', line))
				FROM %[1]s.incident_evidence
				WHERE incident_id IN (SELECT incident_id FROM %[1]s.incidents WHERE upstream = ?)`, db), upstream).Scan(&lines); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, l := range lines {
				if strings.Contains(l, killed) {
					found = true
					t.Logf("run %d: evidence: %s", i, l)
				}
			}
			if !found {
				t.Errorf("run %d: no evidence line contains %q; evidence:\n%s", i, killed, strings.Join(lines, "\n"))
			}
		}
	}
	// Every upstream is a service of its own (its log file app-runN.log):
	// a later run's kernel kill must not be pinned on an earlier incident.
	for up, want := range wants {
		var cause, svc string
		if err := conn.QueryRow(context.Background(),
			fmt.Sprintf("SELECT argMax(cause, version), argMax(service, version) FROM %s.incidents WHERE upstream = ?", db), up).Scan(&cause, &svc); err != nil {
			t.Fatal(err)
		}
		if cause != want {
			t.Errorf("%s (service %q) at the end: cause %s, want %s", up, svc, cause, want)
		}
	}
	sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
	p50 := latencies[len(latencies)/2]
	p95 := latencies[min(len(latencies)-1, int(float64(len(latencies))*0.95))]
	t.Logf("first 5xx -> incident row over %d runs: p50 %v, p95 %v, max %v", len(latencies),
		p50.Round(time.Millisecond), p95.Round(time.Millisecond), latencies[len(latencies)-1].Round(time.Millisecond))
	if p95 > target {
		t.Logf("p95 %v misses the %v target", p95.Round(time.Millisecond), target)
	}
	if p95 > limit {
		t.Errorf("p95 %v: an incident row must come within %v of the first 5xx", p95, limit)
	}
}

// memoryCgroup creates a cgroup v1 memory cgroup of cgroupLimit bytes for
// this test process and removes it at cleanup. It must be called before the
// process that joins it is started: cleanups run last-in first-out, so the
// process is gone (and the cgroup empty) when the rmdir runs.
func memoryCgroup(t *testing.T) string {
	t.Helper()
	const root = "/sys/fs/cgroup/memory"
	if _, err := os.Stat(filepath.Join(root, "memory.limit_in_bytes")); err != nil {
		msg := fmt.Sprintf("no cgroup v1 memory hierarchy at %s (the kernel OOM run needs one, and root): %v", root, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cg := filepath.Join(root, fmt.Sprintf("culprit-e2e-%d", os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatalf("memory cgroup: %v", err)
	}
	t.Cleanup(func() {
		// The kernel may take a moment to release the killed task.
		var err error
		for i := 0; i < 50; i++ {
			if err = os.Remove(cg); err == nil || os.IsNotExist(err) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("rmdir %s: %v", cg, err)
	})
	must(t, os.WriteFile(filepath.Join(cg, "memory.limit_in_bytes"), []byte(fmt.Sprint(cgroupLimit)), 0o644))
	return cg
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
