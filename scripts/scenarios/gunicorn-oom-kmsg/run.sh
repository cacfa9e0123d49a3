#!/usr/bin/env bash
# gunicorn-oom-kmsg: Debian gunicorn (2 sync workers) inside a 128 MiB memory
# cgroup; a nightly import job calls /import three times; each call makes a
# worker allocate until the kernel OOM-kills it; the arbiter logs "Worker with pid N was
# terminated due to signal 9" (gunicorn 20.1) and boots a new one. nginx: 502 premature
# close for each killed request. The kernel lines are raw /dev/kmsg records.
NAME=gunicorn-oom-kmsg
source "$(dirname "$0")/../common/lib.sh"
NGX=18520 APP=18521
LIMIT_MB=${LIMIT_MB:-128}

port_free $NGX $APP
prepare
cp "$(dirname "$0")/app.py" "$WORK/app.py"
memcg culprit-scn-gunioom "$LIMIT_MB"
echo "server 127.0.0.1:$APP;" | nginx_group billing billing.local

WRAP=in_memcg gunicorn_start $APP --workers 2 --timeout 30
nginx_up
SINCE=$($PY "$COMMON/kmsg.py" --now-usec)
mark "gunicorn (2 sync workers) in memory cgroup culprit-scn-gunioom (limit $LIMIT_MB MiB) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/api/items=7,/=2,/favicon.ico=1'
sleep 15
for i in 1 2 3; do
  mark "import job: GET /import (attempt $i)"
  code=$(http_get "/import?batch=2026-11" culprit-scenario-import/1.0)
  mark "import attempt $i ended: $code"
  sleep 0.3
done
wind_down

$PY "$COMMON/kmsg.py" --since-usec "$SINCE" --cgroup /culprit-scn-gunioom >"$WORK/kmsg.log"
[ -s "$WORK/kmsg.log" ] || { log "no OOM kill in /dev/kmsg"; exit 1; }
BOOT=$($PY "$COMMON/kmsg.py" --boot-time)

cat >"$WORK/README.in" <<MD
# gunicorn-oom-kmsg

Debian's gunicorn $(gunicorn_version) (2 sync workers, \`--timeout 30\`) serves a Flask app (\`app.py\`) inside the
cgroup v1 memory cgroup \`/culprit-scn-gunioom\` limited to $LIMIT_MB MiB, behind nginx (\`127.0.0.1:$NGX\` ->
upstream block \`billing\` = \`127.0.0.1:$APP\`). Under a steady 8 requests/s, an import job calls
\`/import\` three times in a row; each call makes a worker allocate 16 MiB chunks until the real kernel
OOM-kills it. gunicorn 20.1's arbiter logs "[WARNING] Worker with pid N was terminated due to signal 9" (newer
gunicorn versions say "Worker (pid:N) was sent SIGKILL! Perhaps out of memory?") and boots
a new worker; the other worker keeps serving, so only the import requests fail: 502 "upstream prematurely
closed connection". One 502 per kill, a second or a few apart.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\` (gunicorn's error log), \`kmsg.log\` (the raw
\`/dev/kmsg\` records of the kills: \`prio,seq,usec_since_boot,flags;message\`; \`boot_time\` in
truth.json is the wall-clock time of usec 0, computed as realtime minus CLOCK_MONOTONIC at capture).

Regenerate: \`sudo scripts/scenarios/gunicorn-oom-kmsg/run.sh\` (root: cgroup and /dev/kmsg).
MD
finish --copy access.log --copy error.log --copy gunicorn.log --copy kmsg.log \
  --expect 'gunicorn.log:terminated due to signal 9' --expect 'kmsg.log:Killed process' \
  --incident "upstream=127.0.0.1:$APP;cause=oom_kill;match=ua=127.0.0.1:$APP" \
  --boot-time "$BOOT" \
  --description "gunicorn workers OOM-killed by the kernel (memory cgroup) on each /import call; nginx 502 premature close for the killed requests" \
  --notes "kmsg.log holds raw /dev/kmsg records (usec since boot); boot_time places them. The three kills are a few seconds apart: one incident of 3 requests (max_gap_seconds shows the gaps). The kernel names the worker by its comm (see kmsg.log)." \
  --readme "$WORK/README.in"
