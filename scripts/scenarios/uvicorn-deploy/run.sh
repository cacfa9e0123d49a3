#!/usr/bin/env bash
# uvicorn-deploy: a FastAPI service under plain uvicorn (its default logging: no
# timestamps, as `uvicorn app:app` prints) is redeployed: SIGTERM, 4 s, the new
# version starts. The deploy tool (this script) stamps its own lines. nginx 502
# refused meanwhile. cause restart. Held-out scenario.
NAME=uvicorn-deploy
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32130 APP=32131
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
port_free $NGX $APP
prepare
cp "$HERE/app.py" "$WORK/"

nginx_proxy items.local "http://127.0.0.1:$APP"

# The way a systemd unit runs it: stdout/stderr to the journal, which stamps each
# line; here `journalctl -o short-iso`'s layout, written by the script's own
# stamping loop (no journald in this sandbox).
# The journal tags each line with the unit's main pid: uvicorn's, from its pid file.
start_app() {
  rm -f "$WORK/app.pid"
  (cd "$WORK" && echo $BASHPID >"$WORK/app.pid" && VERSION=$1 exec "$BLIND_VENV/bin/uvicorn" app:app --host 127.0.0.1 --port $APP) 2>&1 |
    while IFS= read -r l; do printf '%s vm items[%s]: %s\n' "$(date +%Y-%m-%dT%H:%M:%S%z)" "$(cat "$WORK/app.pid")" "$l"; done >>"$WORK/app.log" &
  track $!
  wait_port $APP 20
  APP_PID=$(cat "$WORK/app.pid"); track $APP_PID
}
start_app v41
nginx_up
mark "uvicorn (FastAPI v41) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/items=7,/health=2,/nope=1'
sleep 15
kill -TERM "$APP_PID"
mark "deploy: SIGTERM to uvicorn v41 (pid $APP_PID)"
sleep 4
start_app v42
mark "deploy: uvicorn v42 listening"
on_stop 'kill -TERM "$APP_PID" 2>/dev/null; sleep 1'
wind_down

cat >"$WORK/README.in" <<MD
# uvicorn-deploy

A FastAPI service (\`app.py\`) under plain uvicorn $(py_version uvicorn) with its default logging (\`INFO:     Started server process
[N]\`, no timestamps) on \`127.0.0.1:$APP\` behind nginx (\`127.0.0.1:$NGX\`) is redeployed under a steady 10 requests/s:
SIGTERM to v41 (uvicorn logs \`Shutting down\`, \`Waiting for application shutdown.\`, \`Finished server process [N]\`),
4 s, v42 starts (\`Uvicorn running on http://127.0.0.1:$APP\`). nginx answers **502** \`connect() failed (111:
Connection refused)\` meanwhile. The lines carry the stamp and tag a journal adds (\`journalctl -o short-iso\`
layout: \`2026-11-25T19:50:01+0000 vm items[1001]: INFO:     ...\`); there is no journald in the sandbox, so the script
stamps them as it reads uvicorn's output.

Held-out scenario, built after the first round of blind fixes.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\`.

Regenerate: \`scripts/scenarios/uvicorn-deploy/run.sh\` (PyPI packages in /tmp/blind/venv).
MD
finish --copy access.log --copy error.log --copy app.log \
  --expect "app.log:Finished server process" \
  --incident "upstream=127.0.0.1:$APP;cause=restart;match=ua=127.0.0.1:$APP" \
  --description "FastAPI/uvicorn redeployed (SIGTERM, 4 s, new version); nginx 502 refused meanwhile" \
  --notes "uvicorn's default log has no timestamps; the journal-style stamp is the script's." \
  --readme "$WORK/README.in"
