#!/usr/bin/env bash
# gunicorn-oom-kmsg: Debian gunicorn (2 sync workers) inside a 128 MiB memory
# cgroup; a nightly import job calls /import three times; each call makes a
# worker allocate until the kernel OOM-kills it; the arbiter logs "Worker with pid N was
# terminated due to signal 9" (gunicorn 20.1) and boots a new one. nginx: 502 premature
# close for each killed request. The kernel lines are raw /dev/kmsg records.
NAME=gunicorn-oom-kmsg
source "$(dirname "$0")/../common/lib.sh"
NGX=18520 APP=18521
CG=/sys/fs/cgroup/memory/culprit-scn-gunioom
LIMIT_MB=${LIMIT_MB:-128}

port_free $NGX; port_free $APP
prepare
cp "$(dirname "$0")/app.py" "$WORK/app.py"
[ -d "$CG" ] && rmdir "$CG" 2>/dev/null || true
mkdir -p "$CG"
echo $((LIMIT_MB << 20)) >"$CG/memory.limit_in_bytes"
on_exit "sleep 0.5; rmdir $CG"

{ nginx_head; cat <<CONF
    upstream billing { server 127.0.0.1:$APP; }
    server {
        listen 127.0.0.1:$NGX;
        server_name billing.local;
        location / {
            proxy_pass http://billing;
        }
    }
}
CONF
} >"$WORK/nginx.conf"

bash -c "echo \$\$ >$CG/cgroup.procs; exec /usr/bin/gunicorn --chdir $WORK --bind 127.0.0.1:$APP --workers 2 --timeout 30 \
  --error-logfile $WORK/gunicorn.log --pid $WORK/gunicorn.pid app:app" &
track $!
wait_port $APP 15
nginx_start
wait_port $NGX
SINCE=$($PY "$COMMON/kmsg.py" --now-usec)
mark "gunicorn (2 sync workers) in memory cgroup culprit-scn-gunioom (limit $LIMIT_MB MiB) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/api/items=7,/=2,/favicon.ico=1'
sleep 15
for i in 1 2 3; do
  mark "import job: GET /import (attempt $i)"
  curl -s -o /dev/null -w '%{http_code}\n' -A 'culprit-scenario-import/1.0' "http://127.0.0.1:$NGX/import?batch=2026-11" >>"$WORK/trigger.out" || true
  mark "import attempt $i ended: $(tail -1 "$WORK/trigger.out")"
  sleep 0.3
done
load_wait
mark "load ended"
sleep 1
nginx_stop
kill -TERM "$(cat "$WORK/gunicorn.pid")"; sleep 1.5

$PY "$COMMON/kmsg.py" --since-usec "$SINCE" --cgroup /culprit-scn-gunioom >"$WORK/kmsg.log"
[ -s "$WORK/kmsg.log" ] || { log "no OOM kill in /dev/kmsg"; exit 1; }
BOOT=$($PY "$COMMON/kmsg.py" --boot-time)

cat >"$WORK/README.in" <<MD
# gunicorn-oom-kmsg

Debian's gunicorn $(/usr/bin/gunicorn --version | awk '{print $3}' | tr -d ')') (2 sync workers, \`--timeout 30\`) serves a Flask app (\`app.py\`) inside the
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
