#!/usr/bin/env bash
# go-fd-exhaustion: a Go net/http service with `ulimit -n 32` runs out of file
# descriptors under a burst of slow requests: net/http logs "http: Accept error:
# accept tcp ...: accept4: too many open files; retrying in ...", new connections
# wait in the kernel's backlog and nginx times out reading (504).
# cause pool_saturation: the service's own capacity (descriptors) is the limit.
NAME=go-fd-exhaustion
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32060 APP=32061
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $APP
prepare
mkdir -p "$WORK/src"
cp "$HERE/main.go.txt" "$WORK/src/main.go"
(cd "$WORK/src" && printf 'module pricing\n\ngo 1.22\n' >go.mod && GOFLAGS=-mod=mod go build -o "$WORK/pricing" .)

nginx_proxy pricing.local "http://127.0.0.1:$APP" "proxy_read_timeout 5s"

# A service with LimitNOFILE=32.
(ulimit -n 32; PORT=$APP exec "$WORK/pricing") >>"$WORK/app.log" 2>&1 &
track $!
wait_port $APP
nginx_up
mark "Go net/http service (ulimit -n 32) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX (proxy_read_timeout 5s); steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 45 --paths '/api/price=6,/api/currency=2,/nope=1'
sleep 14
burst "burst: 20 requests/s on /slow (2.5 s each) for 8 s" \
  --rate 20 --duration 8 --paths '/slow=1' --ua burst --seed 2
wind_down

cat >"$WORK/README.in" <<MD
# go-fd-exhaustion

A Go $(go env GOVERSION) net/http service (\`main.go.txt\` in the script's directory) runs with \`ulimit -n 32\` (what a low
\`LimitNOFILE\` does) on \`127.0.0.1:$APP\` behind nginx (\`127.0.0.1:$NGX\`, \`proxy_read_timeout 5s\`). A steady 8
requests/s is fine; an 8 s burst of 20 requests/s on /slow (2.5 s each) needs about 50 connections at once. With
every descriptor taken, net/http's accept loop logs \`http: Accept error: accept tcp 127.0.0.1:$APP: accept4: too
many open files; retrying in ...\` (the standard logger: local time without zone, second resolution) and backs off;
the kernel keeps completing handshakes into the listen backlog, so nginx's connects succeed and its requests wait:
**504** \`upstream timed out (110: Connection timed out) while reading response header from upstream\`, for the
slow requests and the quick ones queued behind them.

Cause \`pool_saturation\`: the service ran out of its own capacity (descriptors, i.e. connections it can hold), and
requests queued behind it; nothing crashed and no dependency failed.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (the service's standard log).

Regenerate: \`scripts/scenarios/go-fd-exhaustion/run.sh\` (go).
MD
finish --copy access.log --copy error.log --copy app.log \
  --expect "app.log:too many open files" \
  --incident "upstream=127.0.0.1:$APP;cause=pool_saturation;match=ua=127.0.0.1:$APP" \
  --description "Go net/http service out of file descriptors (ulimit -n 32) under a burst of slow requests; nginx times out reading (504)" \
  --notes "The service's accept loop logs 'too many open files' while connections wait in the kernel backlog." \
  --readme "$WORK/README.in"
