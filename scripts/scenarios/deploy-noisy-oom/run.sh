#!/usr/bin/env bash
# deploy-noisy-oom: the deploy of scenario "deploy" (SIGTERM, 4 s, start), while on
# the same host, one second before, the kernel OOM-kills an unrelated batch job
# (a python3 report script in its own memory cgroup). The 502s are the deploy's:
# the kill is a noisy neighbour and must not be blamed. cause restart.
NAME=deploy-noisy-oom
source "$(dirname "$0")/../common/lib.sh"
NGX=18454 APP=18455

port_free $NGX $APP
prepare
cp "$(dirname "$0")/../deploy/app.js" "$WORK/app.js"
memcg culprit-scn-noisy 64

nginx_proxy orders.local "http://127.0.0.1:$APP"

start_app() { PORT=$APP APP_VERSION=$1 spawn app.log node "$WORK/app.js"; APP_PID=$SPAWNED; wait_port $APP; }
start_app v41
on_stop 'kill -TERM "$APP_PID"; wait "$APP_PID"'
mark "orders-api v41 started (pid $APP_PID) on 127.0.0.1:$APP"
nginx_up
DMESG_FROM=$(date -u +%s)
mark "nginx started on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/orders=6,/orders/42=3,/robots.txt=1'
sleep 14
mark "unrelated batch job (python3 report script) starts in memory cgroup culprit-scn-noisy (64 MiB) and allocates"
in_memcg $PY -c 'b=[]
while True: b.append(bytearray(8<<20))' >>"$WORK/batch.out" 2>&1 || true
mark "batch job ended (killed)"
sleep 1
mark "deploy: SIGTERM to orders-api v41 (pid $APP_PID)"
kill -TERM "$APP_PID"
wait "$APP_PID" || true
mark "orders-api v41 exited; installing v42 (4 s)"
sleep 4
start_app v42
mark "orders-api v42 started (pid $APP_PID) and listening"
wind_down

dmesg --time-format iso | $PY "$COMMON/oomblocks.py" --since "$DMESG_FROM" --cgroup /culprit-scn-noisy >"$WORK/kern.log"
[ -s "$WORK/kern.log" ] || { log "no OOM kill in dmesg"; exit 1; }

cat >"$WORK/README.in" <<MD
# deploy-noisy-oom

The deploy of scenario \`deploy\` (orders-api, Node, \`127.0.0.1:$APP\` behind nginx \`127.0.0.1:$NGX\`:
SIGTERM, graceful shutdown, 4 s, v42 started and "listening on 127.0.0.1:$APP"), with a noisy
neighbour: about a second before the SIGTERM, an unrelated batch job on the same host (a \`python3\`
script in its own memory cgroup \`/culprit-scn-noisy\`, 64 MiB) is OOM-killed by the real kernel. The
batch job serves no traffic. The 502s ("connect() failed (111)") are the deploy's: the cause is
\`restart\`; the OOM kill is evidence about another process (\`python3\`, not the \`node\` app) and must not
be blamed.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (both app instances, ISO UTC), \`kern.log\`
(\`dmesg --time-format iso\`, the blocks of the batch job's kill).

Regenerate: \`sudo scripts/scenarios/deploy-noisy-oom/run.sh\` (root: cgroup and dmesg).
MD
finish --copy access.log --copy error.log --copy app.log --copy kern.log \
  --expect 'kern.log:Killed process [0-9]+ \(python3\)' --expect 'app.log:received SIGTERM' \
  --incident "upstream=127.0.0.1:$APP;cause=restart;match=ua=127.0.0.1:$APP" \
  --description "Deploy (SIGTERM + restart) with an unrelated python3 batch job OOM-killed a second before: the cause is the restart" \
  --notes "The OOM-killed process is python3 (a batch job in cgroup /culprit-scn-noisy), not the node app behind 127.0.0.1:$APP; it was killed about 1 s before the SIGTERM, inside the correlator's look-back window." \
  --readme "$WORK/README.in"
