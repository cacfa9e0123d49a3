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
port_free $NGX $APP
memcg blind-guoom $LIMIT_MB
prepare
cp "$HERE/app.py" "$WORK/"
nginx_proxy imports.local "http://127.0.0.1:$APP" "proxy_read_timeout 30s"

WRAP=in_memcg blind_gunicorn --workers 3 --control-socket "$WORK/gunicorn.ctl" app:app
nginx_up
kern_since
mark "gunicorn 27 (3 sync workers) in memory cgroup blind-guoom (${LIMIT_MB} MiB) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/items=7,/health=2,/nope=1' --timeout 20
sleep 14
for i in 1 2 3; do
  trigger "/import?file=$i" "grows without bound"
  sleep 4
done
wind_down
kern_oom blind-guoom

cat >"$WORK/README.in" <<MD
# gunicorn27-oom

gunicorn $(blind_gunicorn_version) from PyPI (3 sync workers, \`127.0.0.1:$APP\`) runs in the cgroup v1 memory cgroup \`blind-guoom\`
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
