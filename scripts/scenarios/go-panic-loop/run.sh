#!/usr/bin/env bash
# go-panic-loop: a Go service panics in a goroutine (nil map write) and dies with
# exit code 2; a restart loop brings it back 3 s later; nginx 502 meanwhile.
NAME=go-panic-loop
source "$(dirname "$0")/../common/lib.sh"
NGX=18590 APP=18591
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $APP
prepare
mkdir -p "$WORK/src"
cp "$HERE/main.go.in" "$WORK/src/main.go"
(cd "$WORK/src" && printf 'module billingsync\n\ngo 1.21\n' >go.mod && CGO_ENABLED=0 go build -o "$WORK/billing-sync" .)
nginx_proxy billing.local "http://127.0.0.1:$APP"

supervise app $APP app.log "$WORK/billing-sync"
nginx_up
mark "billing-sync (Go) under restart loop on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/invoices=6,/api/invoices/5=3,/nope=1'
sleep 15
trigger "/api/sync?tenant=acme" "panic in a goroutine"
wind_down

cat >"$WORK/README.in" <<MD
# go-panic-loop

A Go service (\`main.go.in\`, built with $(go version | awk '{print $3}')) runs under the restart loop of crash-loop
(\`supervise.sh\`, 3 s), behind nginx (\`127.0.0.1:$NGX\` -> \`127.0.0.1:$APP\`). Under a steady 10
requests/s, one request to \`/api/sync\` starts a goroutine that writes to a nil map: "panic: assignment
to entry in nil map", a goroutine dump, exit code 2 (net/http recovers handler panics, not panics in
goroutines they start). The trigger request itself got its answer (200) before the panic. The loop logs
the exit and restarts the service 3 s later. nginx answers 502 (refused) in between.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (the service's stdout/stderr, Go's \`log\` timestamps
\`2026/11/25 17:05:01\` local time without zone (the machine is UTC), the panic without timestamps, the
loop's ISO UTC lines).

Regenerate: \`scripts/scenarios/go-panic-loop/run.sh\`.
MD
finish --copy access.log --copy error.log --copy app.log \
  --expect 'app.log:^panic: ' \
  --incident "upstream=127.0.0.1:$APP;cause=crash;match=ua=127.0.0.1:$APP" \
  --description "Go service panics in a goroutine (nil map), restarted 3 s later by a loop; nginx 502 while it is down" \
  --notes "Go's log timestamps have no zone (machine is UTC); the panic block has none at all." \
  --readme "$WORK/README.in"
