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
[ -d "$BLIND_VENV/lib/python3.11/site-packages/aiohttp" ] || "$BLIND_VENV/bin/pip" install -q aiohttp==3.14.5 redis==8.1.0
port_free $NGX; port_free $APP; port_free $REDIS
prepare
cp "$HERE/app.py" "$WORK/"

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name sessions.local;
        location / {
            proxy_pass http://127.0.0.1:$APP;
        }
    }
}
CONF
} >"$WORK/nginx.conf"

start_redis() {
  redis-server --port $REDIS --bind 127.0.0.1 --save '' --appendonly no --logfile "$WORK/redis.log" --dir "$WORK" &
  REDIS_PID=$!; track $REDIS_PID
  wait_port $REDIS
}
start_redis
PORT=$APP REDIS_PORT=$REDIS "$BLIND_VENV/bin/python" -u "$WORK/app.py" >>"$WORK/app.log" 2>&1 &
track $!
wait_port $APP 20
nginx_start
wait_port $NGX
mark "Redis on 127.0.0.1:$REDIS, aiohttp sessions service on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 42 --paths '/session/ab12=6,/session/cd34=2,/health=1,/nope=1'
sleep 13
kill -TERM "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
mark "Redis stopped (SIGTERM): 127.0.0.1:$REDIS refuses connections"
sleep 14
start_redis
mark "Redis started again"
load_wait
mark "load ended"
sleep 1
nginx_stop

cat >"$WORK/README.in" <<MD
# aiohttp-redis-down

A sessions service (\`app.py\`: aiohttp $("$BLIND_VENV/bin/python" -c 'import aiohttp; print(aiohttp.__version__)'), redis-py $("$BLIND_VENV/bin/python" -c 'import redis; print(redis.__version__)') asyncio client; Python logging with asctime) on
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
