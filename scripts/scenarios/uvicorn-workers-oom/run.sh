#!/usr/bin/env bash
# uvicorn-workers-oom: uvicorn --workers 2 (its own process manager) in a 160 MiB
# memory cgroup; an import grows a worker until the kernel kills it; uvicorn's
# parent logs the dead child and spawns another. Three imports, 5 s apart.
# cause oom_kill. Held-out round 6.
NAME=uvicorn-workers-oom
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32270 APP=32271 LIMIT_MB=160
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
port_free $NGX $APP
blind_memcg blind-uvoom $LIMIT_MB
prepare
cp "$HERE/app.py" "$HERE/../fastapi-pg-down/logging.json" "$WORK/"
nginx_proxy imports.local "http://127.0.0.1:$APP" "proxy_read_timeout 30s"

app_start app.log 30 bash -c "$BLIND_IN_MEMCG" "$BLIND_CG" \
  "$BLIND_VENV/bin/uvicorn" app:app --host 127.0.0.1 --port $APP --workers 2 --log-config logging.json
on_stop "kill -TERM $APP_PID; sleep 2"
nginx_up
kern_since
mark "uvicorn --workers 2 in memory cgroup blind-uvoom (${LIMIT_MB} MiB) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/items=9,/nope=1' --timeout 20
sleep 14
for i in 1 2 3; do
  trigger "/import?batch=$i" "grows without bound"
  sleep 5
done
wind_down
kern_oom blind-uvoom

cat >"$WORK/README.in" <<MD
# uvicorn-workers-oom

A FastAPI app (\`app.py\`) under uvicorn $(py_version uvicorn) with its own process manager (\`--workers 2\`, \`--log-config\` with asctime) on
\`127.0.0.1:$APP\` runs in the cgroup v1 memory cgroup \`blind-uvoom\` (${LIMIT_MB} MiB) behind nginx (\`127.0.0.1:$NGX\`).
Under a steady 10 requests/s three /import requests, 5 s apart, grow a worker until the kernel kills it; uvicorn's parent
notices the dead child and spawns another. nginx answers **502** for the imports (and requests in flight on the worker).

Held-out round 6.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (uvicorn), \`kern.log\` (\`dmesg --time-format iso\`, this cgroup's blocks).

Regenerate: \`sudo scripts/scenarios/uvicorn-workers-oom/run.sh\` (root: cgroup and dmesg; PyPI packages in /tmp/blind/venv).
MD
finish --copy access.log --copy error.log --copy app.log --copy kern.log \
  --expect "kern.log:Killed process" \
  --incident "upstream=127.0.0.1:$APP;cause=oom_kill;match=ua=127.0.0.1:$APP" \
  --description "uvicorn workers OOM-killed by the kernel (memory cgroup) on three imports; uvicorn's process manager respawns them; nginx 502" \
  --notes "The kernel names the worker by its comm." \
  --readme "$WORK/README.in"
