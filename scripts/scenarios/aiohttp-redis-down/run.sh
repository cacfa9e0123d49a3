#!/usr/bin/env bash
# aiohttp-redis-down: an aiohttp service (redis-py asyncio client) whose Redis is
# stopped for 14 s; aiohttp answers 500 and logs the traceback. cause
# dependency_failure. Held-out scenario (built after the first round of blind fixes).
NAME=aiohttp-redis-down
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32120 APP=32121 REDIS=32122
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
py_extra aiohttp aiohttp==3.14.5 redis==8.1.0
port_free $NGX $APP $REDIS
prepare
cp "$HERE/app.py" "$WORK/"
nginx_proxy sessions.local "http://127.0.0.1:$APP"

redis_start
app_start app.log 20 env PORT=$APP REDIS_PORT=$REDIS "$BLIND_VENV/bin/python" -u "$WORK/app.py"
nginx_up
mark "Redis on 127.0.0.1:$REDIS, aiohttp sessions service on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 42 --paths '/session/ab12=6,/session/cd34=2,/health=1,/nope=1'
sleep 13
redis_outage 14
wind_down

cat >"$WORK/README.in" <<MD
# aiohttp-redis-down

A sessions service (\`app.py\`: aiohttp $(py_version aiohttp), redis-py $(py_version redis) asyncio client; Python logging with asctime) on
\`127.0.0.1:$APP\` behind nginx (\`127.0.0.1:$NGX\`) keeps sessions in Redis (Debian, \`127.0.0.1:$REDIS\`). Under a steady 10
requests/s Redis is stopped for 14 s; redis-py raises \`ConnectionError\`, aiohttp's server logs \`Error handling
request\` with the traceback and answers **500**.

Held-out scenario, built after the first round of blind fixes.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (aiohttp's logging and access lines), \`redis.log\`.

Regenerate: \`scripts/scenarios/aiohttp-redis-down/run.sh\` (PyPI packages in /tmp/blind/venv, Debian redis-server).
MD
finish --copy access.log --copy error.log --copy app.log --copy redis.log \
  --expect "app.log:Error handling request" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;dependency=127.0.0.1:$REDIS;match=ua=127.0.0.1:$APP" \
  --description "aiohttp service answers 500 while its Redis (127.0.0.1:$REDIS) is stopped" \
  --notes "The dependency is Redis on 127.0.0.1:$REDIS." \
  --readme "$WORK/README.in"
