#!/usr/bin/env bash
# gunicorn-boot-failure: a release whose module fails to import is deployed to a
# gunicorn 27 service on a unix socket: workers fail to boot, the master exits
# ("Reason: Worker failed to boot."), the socket is gone; nginx 502s until the
# operator rolls back 12 s later. cause crash. Held-out round 5.
NAME=gunicorn-boot-failure
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32250
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
port_free $NGX
prepare
mkdir -p "$WORK/release"
cp "$HERE/app.py" "$WORK/release/app.py"
SOCK="$WORK/app.sock"

nginx_proxy api.local "http://unix:$SOCK"

start_guni() {
  "$BLIND_VENV/bin/gunicorn" --chdir "$WORK/release" --bind "unix:$SOCK" --workers 2 \
    --error-logfile "$WORK/gunicorn.log" --pid "$WORK/gunicorn.pid" --control-socket "$WORK/gunicorn.ctl" app:app >>"$WORK/gunicorn.out" 2>&1 &
  GUNI_PID=$!; track $GUNI_PID
}
start_guni
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.2; done
nginx_up
mark "gunicorn 27 (2 sync workers) on unix:$SOCK, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/items=8,/nope=1'
sleep 14
kill -TERM $GUNI_PID; wait $GUNI_PID 2>/dev/null || true
cp "$HERE/app_broken.py" "$WORK/release/app.py"
start_guni
mark "deploy: old master stopped, broken release started (ModuleNotFoundError at import)"
sleep 12
wait $GUNI_PID 2>/dev/null || true
cp "$HERE/app.py" "$WORK/release/app.py"
start_guni
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.2; done
mark "rollback: previous release started"
on_stop 'kill -TERM $GUNI_PID 2>/dev/null; sleep 1.5'
wind_down

cat >"$WORK/README.in" <<MD
# gunicorn-boot-failure

A WSGI service under gunicorn $("$BLIND_VENV/bin/gunicorn" --version 2>&1 | awk '{print $2}' | tr -d '()') (PyPI, 2 sync workers) on the unix socket \`$SOCK\` behind nginx (\`127.0.0.1:$NGX\`,
\`proxy_pass http://unix:...\`). Under a steady 10 requests/s a release whose module imports a package the deploy did not
ship is started: every worker fails at import (\`[ERROR] Exception in worker process\` + traceback ending
\`ModuleNotFoundError: No module named 'billing_client'\`, \`Worker (pid:N) exited with code 3\`), the master gives up
(\`Shutting down: Master\`, \`Reason: Worker failed to boot.\`) and the socket is gone: nginx answers **502**
\`connect() to unix:... failed (2: No such file or directory)\` until the operator rolls back 12 s later.

Held-out round 5.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\`.

Regenerate: \`scripts/scenarios/gunicorn-boot-failure/run.sh\` (PyPI packages in /tmp/blind/venv).
MD
finish --copy access.log --copy error.log --copy gunicorn.log \
  --expect "gunicorn.log:Worker failed to boot" \
  --incident "upstream=unix:$SOCK;cause=crash;match=ua~^unix:" \
  --description "a release that fails at import is deployed to gunicorn on a unix socket; the master exits, nginx 502 until a rollback" \
  --notes "The upstream is the unix socket; its path is under /tmp/blind." \
  --readme "$WORK/README.in"
