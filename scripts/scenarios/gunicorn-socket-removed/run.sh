#!/usr/bin/env bash
# gunicorn-socket-removed: Debian's gunicorn serves on a unix socket; a cleanup
# job deletes the socket file while gunicorn keeps running (it still holds the
# listening socket, but nothing can connect by path any more). nginx answers 502
# "connect() to unix:... failed (2: No such file or directory)" until an
# operator restarts gunicorn 12 s later, which re-creates the file. gunicorn's
# log says nothing until that restart. cause backend_down: the upstream cannot
# be reached and its own log has no failure (the restart is the fix, not the
# cause). Held-out round 7.
NAME=gunicorn-socket-removed
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
WORK="${SCN_WORK_ROOT:-/tmp/blind2}/$NAME"
NGX=39030

port_free $NGX
prepare
SOCK="$WORK/run/app.sock"
mkdir -p "$WORK/run"
chmod 755 "$WORK" "$WORK/run"
cat >"$WORK/app.py" <<'PY'
import json
def app(environ, start_response):
    body = json.dumps({"path": environ["PATH_INFO"], "ok": True}).encode() + b"\n"
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
PY
start_gunicorn() {
  spawn gunicorn.out /usr/bin/gunicorn --chdir "$WORK" --bind "unix:$SOCK" --workers 2 \
    --error-logfile "$WORK/gunicorn.log" --pid "$WORK/gunicorn.pid" app:app
  GUN_PID=$SPAWNED
  local n=100; while [ ! -S "$SOCK" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n-1)); done
  chmod 666 "$SOCK"
}
start_gunicorn
on_stop "kill -TERM \$(cat '$WORK/gunicorn.pid'); sleep 1.5"
nginx_proxy catalog.local "http://unix:$SOCK"
nginx_up
mark "gunicorn $(gunicorn_version) on unix:$SOCK, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/api/products=6,/health=1,/nope=1'
sleep 13
rm -f "$SOCK"
mark "cleanup job deleted $SOCK (gunicorn still running)"
sleep 12
kill -TERM "$GUN_PID"; wait "$GUN_PID" 2>/dev/null || true
mark "operator restarts gunicorn (SIGTERM)"
start_gunicorn
mark "gunicorn started again: socket file re-created"
wind_down

cat >"$WORK/README.in" <<MD
# gunicorn-socket-removed

Debian's gunicorn $(gunicorn_version) (2 sync workers) serves a small WSGI app on \`unix:$SOCK\` behind nginx
(\`127.0.0.1:$NGX\`, \`proxy_pass http://unix:...\`). Under a steady 8 requests/s a cleanup job deletes the socket
file while gunicorn keeps running: it still holds the listening socket, but a unix socket is reached by its
path. nginx answers **502** \`connect() to unix:$SOCK failed (2: No such file or directory)\` for 12 s, until an
operator restarts gunicorn (\`Handling signal: term\`, \`Shutting down: Master\`, \`Starting gunicorn\`), which
creates the file again. gunicorn's log says nothing during the outage.

The truth: backend_down at \`unix:$SOCK\`: the upstream is unreachable and nothing on its side failed; the
restart at the end is the fix, not the cause.

Held-out round 7.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\`.

Regenerate: \`scripts/scenarios/gunicorn-socket-removed/run.sh\` (Debian: gunicorn).
MD
finish --copy access.log --copy error.log --copy gunicorn.log \
  --expect "error.log:No such file or directory" \
  --incident "upstream=unix:$SOCK;cause=backend_down;match=ua=unix:$SOCK" \
  --description "A cleanup job deletes gunicorn's unix socket file while gunicorn runs; nginx 502 until gunicorn is restarted" \
  --notes "gunicorn keeps running and logs nothing until the operator's restart re-creates the socket file." \
  --readme "$WORK/README.in"
