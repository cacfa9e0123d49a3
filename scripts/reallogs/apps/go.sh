#!/usr/bin/env bash
# Builds and runs small Go programs (the machine's Go toolchain) to produce
# real output into parser/testdata/go/: a nil-map panic, a panic with a custom
# value, a nil pointer dereference (SIGSEGV), "fatal error: runtime: out of
# memory" under ulimit -v, a log.Fatal after a refused dial (18371), a dial
# timeout to a listener whose backlog is full (18372), "bind: address already
# in use" (18373 taken), a log/slog JSON logger, and a SIGQUIT goroutine dump. Ports 18370-18374.
source "$(dirname "$0")/lib.sh"
apps_init go
mkdir -p "$work/src"
cat > "$work/src/main.go" <<'G'
package main

import (
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"
)

type config struct{ limits map[string]int }

func (c *config) set(k string, v int) { c.limits[k] = v }

func main() {
	switch os.Args[1] {
	case "nilmap":
		var c config
		c.set("rps", 10)
	case "panic":
		panic("unexpected state: queue closed")
	case "segv":
		var c *config
		_ = c.limits["x"]
	case "oom":
		var keep [][]byte
		for {
			keep = append(keep, make([]byte, 64<<20))
		}
	case "refused":
		if _, err := net.Dial("tcp", "127.0.0.1:18371"); err != nil {
			log.Fatalf("connect to database: %v", err)
		}
	case "http-refused":
		if _, err := http.Get("http://127.0.0.1:18371/health"); err != nil {
			log.Printf("health check failed: %v", err)
		}
		panic("dependency unavailable")
	case "timeout":
		if _, err := net.DialTimeout("tcp", "127.0.0.1:18372", time.Second); err != nil {
			log.Fatalf("redis: %v", err)
		}
	case "slog":
		l := slog.New(slog.NewJSONHandler(os.Stderr, nil))
		l.Info("listening", "addr", "127.0.0.1:18373")
		if _, err := net.Dial("tcp", "127.0.0.1:18371"); err != nil {
			l.Error("cache unavailable", "err", err)
		}
	case "httppanic":
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			var m map[string]int
			m["hits"]++
		})
		log.Printf("listening on 127.0.0.1:18374")
		log.Fatal(http.ListenAndServe("127.0.0.1:18374", nil))
	case "listen":
		log.Printf("listening on 127.0.0.1:18373")
		log.Fatal(http.ListenAndServe("127.0.0.1:18373", nil))
	}
}
G
(cd "$work/src" && { [ -f go.mod ] || go mod init example.com/goapp >/dev/null 2>&1; } && go build -o "$work/app" .)
run() { local name=$1; shift; "$@" > "$out/$name.log" 2>&1 || true; }
run nilmap "$work/app" nilmap
run panic "$work/app" panic
run segv "$work/app" segv
run oom bash -c "ulimit -v 1000000; exec $work/app oom"
# Too little address space for the runtime's own reservations at start.
run oom-reserve bash -c "ulimit -v 600000; exec $work/app oom"
run refused "$work/app" refused
run http-refused "$work/app" http-refused
python3 "$here/blackhole.py" 18372 5 > "$work/bh.out" &
bh=$!
for i in $(seq 50); do grep -q ready "$work/bh.out" 2>/dev/null && break; sleep 0.1; done
run timeout "$work/app" timeout
kill $bh 2>/dev/null || true
"$work/app" listen > "$out/listening.log" 2>&1 &
first=$!
sleep 0.5
run addrinuse "$work/app" listen
kill $first; wait $first 2>/dev/null || true
run slog "$work/app" slog
# net/http recovers a handler's panic and logs it with the goroutine's stack.
"$work/app" httppanic > "$out/http-panic.log" 2>&1 &
hp=$!
sleep 0.5
curl -s -o /dev/null http://127.0.0.1:18374/ || true
sleep 0.3
kill $hp; wait $hp 2>/dev/null || true
# A goroutine dump on SIGQUIT (what `kill -QUIT` or a stuck-process
# investigation leaves in the log; the process exits with status 2).
"$work/app" listen > "$out/sigquit.log" 2>&1 &
q=$!
sleep 0.5
kill -QUIT $q; wait $q 2>/dev/null || true
echo "$(go version)" > "$out/VERSION"
