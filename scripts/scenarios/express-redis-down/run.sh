#!/usr/bin/env bash
# express-redis-down: an Express app (ioredis, pino JSON logs) whose Redis is
# stopped for 14 s; ioredis queues commands and fails them after 3 retries
# (MaxRetriesPerRequestError); the app answers 503. cause dependency_failure.
NAME=express-redis-down
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32040 APP=32041 REDIS=32042
HERE="$(cd "$(dirname "$0")" && pwd)"

node_deps
port_free $NGX $APP $REDIS
prepare
cp "$HERE/app.js" "$WORK/"
node_link
nginx_proxy cart.local "http://127.0.0.1:$APP"

redis_start
app_start app.log 10 env PORT=$APP REDIS_PORT=$REDIS node "$WORK/app.js"
nginx_up
mark "Redis $(redis_version) on 127.0.0.1:$REDIS, Express+ioredis on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 45 --paths '/cart/7=6,/cart/9=2,/health=1,/nope=1'
sleep 12
redis_outage 14
wind_down

cat >"$WORK/README.in" <<MD
# express-redis-down

A cart service (\`app.js\`: Express $(npm_version express), ioredis $(npm_version ioredis) with \`maxRetriesPerRequest: 3\` (the default 20 holds a request past the clients' 15 s), pino-http $(npm_version pino-http) JSON
logs) behind nginx (\`127.0.0.1:$NGX\` -> \`127.0.0.1:$APP\`) keeps carts in Redis $(redis_version) (Debian, \`127.0.0.1:$REDIS\`).
Under a steady 10 requests/s Redis is stopped for 14 s. ioredis logs a connection error on each reconnect
attempt (\`connect ECONNREFUSED 127.0.0.1:$REDIS\`, with \`code\`, \`address\` and \`port\` as JSON fields), queues
the commands meanwhile and fails each after 3 reconnection attempts with \`MaxRetriesPerRequestError: Reached the
max retries per request limit (which is 3)\`; the app answers **503** and pino-http logs \`request errored\` with
the error. The 503s therefore start some seconds after Redis went away and continue until it is back.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (pino JSON lines: \`time\` in epoch milliseconds), \`redis.log\`.

Regenerate: \`scripts/scenarios/express-redis-down/run.sh\` (npm packages in /tmp/blind/npm, Debian redis-server).
MD
finish --copy access.log --copy error.log --copy app.log --copy redis.log \
  --expect "app.log:ECONNREFUSED" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;dependency=127.0.0.1:$REDIS;match=ua=127.0.0.1:$APP" \
  --description "Express app answers 503 while its Redis (127.0.0.1:$REDIS) is stopped (ioredis MaxRetriesPerRequestError)" \
  --notes "The dependency is Redis on 127.0.0.1:$REDIS. The failing requests' own errors (MaxRetriesPerRequestError) do not name it; the connection errors do." \
  --readme "$WORK/README.in"
