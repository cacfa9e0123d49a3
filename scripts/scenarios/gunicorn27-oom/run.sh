#!/usr/bin/env bash
# gunicorn27-oom: gunicorn 27 (PyPI) sync workers in a 128 MiB memory cgroup; an
# import request grows without bound and the kernel OOM-kills the worker; gunicorn
# 27 logs "Worker (pid:N) was sent SIGKILL! Perhaps out of memory?". Three imports,
# 4 s apart. cause oom_kill. Held-out round 4.
NAME=gunicorn27-oom
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32210 APP=32211 LIMIT_MB=128
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
port_free $NGX; port_free $APP
blind_memcg blind-guoom $LIMIT_MB
prepare
cp "$HERE/app.py" "$WORK/"

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name imports.local;
        location / {
            proxy_pass http://127.0.0.1:$APP;
            proxy_read_timeout 30s;
        }
    }
}
CONF
} >"$WORK/nginx.conf"

bash -c "$BLIND_IN_MEMCG" "$BLIND_CG" "$BLIND_VENV/bin/gunicorn" --chdir "$WORK" --bind 127.0.0.1:$APP --workers 3 \
  --error-logfile "$WORK/gunicorn.log" --pid "$WORK/gunicorn.pid" --control-socket "$WORK/gunicorn.ctl" app:app >>"$WORK/gunicorn.out" 2>&1 &
GUNI_PID=$!; track $GUNI_PID
wait_port $APP 20
nginx_start
wait_port $NGX
DMESG_FROM=$(date -u +%s)
mark "gunicorn 27 (3 sync workers) in memory cgroup blind-guoom (${LIMIT_MB} MiB) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/items=7,/health=2,/nope=1' --timeout 20
sleep 14
for i in 1 2 3; do
  mark "trigger: GET /import?file=$i (grows without bound)"
  curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$NGX/import?file=$i" >>"$WORK/trigger.out" || true
  sleep 4
done
load_wait
mark "load ended"
sleep 1
nginx_stop
kill -TERM "$GUNI_PID"; sleep 1.5

dmesg --time-format iso | $PY "$COMMON/oomblocks.py" --since "$DMESG_FROM" --cgroup /blind-guoom >"$WORK/kern.log"
[ -s "$WORK/kern.log" ] || { log "no OOM kill in dmesg"; exit 1; }

cat >"$WORK/README.in" <<MD
# gunicorn27-oom

gunicorn $("$BLIND_VENV/bin/gunicorn" --version 2>&1 | awk '{print $2}' | tr -d '()') from PyPI (3 sync workers, \`127.0.0.1:$APP\`) runs in the cgroup v1 memory cgroup \`blind-guoom\`
(${LIMIT_MB} MiB) behind nginx (\`127.0.0.1:$NGX\`). Under a steady 10 requests/s three /import requests, 4 s apart, each
grow a worker without bound; the kernel OOM-kills it (\`Memory cgroup out of memory: Killed process N (gunicorn)\`) and
gunicorn 27 logs \`[ERROR] Worker (pid:N) was sent SIGKILL! Perhaps out of memory?\` and boots a new worker. nginx
answers **502** (\`upstream prematurely closed connection\`) for each import.

Held-out round 4.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\`, \`kern.log\` (\`dmesg --time-format iso\`, this cgroup's blocks).

Regenerate: \`sudo scripts/scenarios/gunicorn27-oom/run.sh\` (root: cgroup and dmesg; PyPI packages in /tmp/blind/venv).
MD
finish --copy access.log --copy error.log --copy gunicorn.log --copy kern.log \
  --expect "kern.log:Killed process [0-9]+ \\(gunicorn\\)" \
  --incident "upstream=127.0.0.1:$APP;cause=oom_kill;match=ua=127.0.0.1:$APP" \
  --description "gunicorn 27 workers OOM-killed by the kernel (memory cgroup) on three imports; nginx 502" \
  --notes "gunicorn 27's wording: 'Worker (pid:N) was sent SIGKILL! Perhaps out of memory?'." \
  --readme "$WORK/README.in"
