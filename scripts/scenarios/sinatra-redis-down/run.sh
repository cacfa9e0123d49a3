#!/usr/bin/env bash
# sinatra-redis-down: a Sinatra app on Puma (Debian's ruby, puma, ruby-sinatra,
# ruby-redis) whose Redis is stopped for 14 s; Sinatra answers 500 and logs
# Redis::CannotConnectError with its backtrace. cause dependency_failure.
# Held-out round 5.
NAME=sinatra-redis-down
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32260 APP=32261 REDIS=32262
HERE="$(cd "$(dirname "$0")" && pwd)"

command -v puma >/dev/null || { log "needs Debian's puma, ruby-sinatra, ruby-redis"; exit 1; }
port_free $NGX; port_free $APP; port_free $REDIS
prepare
cp "$HERE/config.ru" "$WORK/"

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name cart.local;
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
(cd "$WORK" && REDIS_PORT=$REDIS exec puma -b "tcp://127.0.0.1:$APP" -e production config.ru) >>"$WORK/app.log" 2>&1 &
track $!
wait_port $APP 30
nginx_start
wait_port $NGX
mark "Redis on 127.0.0.1:$REDIS, Puma (Sinatra cart) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 42 --paths '/cart/7=6,/health=1,/nope=1'
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
# sinatra-redis-down

A cart service (\`config.ru\`: Sinatra $(ruby -e 'require "sinatra/version"; puts Sinatra::VERSION' 2>/dev/null), redis-rb $(ruby -e 'require "redis"; puts Redis::VERSION' 2>/dev/null)) on Puma $(puma --version 2>/dev/null | awk '{print $3}') (Debian's ruby $(ruby -e 'puts RUBY_VERSION'),
\`127.0.0.1:$APP\`) behind nginx (\`127.0.0.1:$NGX\`) keeps carts in Redis (Debian, \`127.0.0.1:$REDIS\`). Under a steady 8
requests/s Redis is stopped for 14 s; redis-rb raises \`Redis::CannotConnectError\` (\`Error connecting to Redis on
127.0.0.1:$REDIS (Errno::ECONNREFUSED)\`), Sinatra logs it with its backtrace and answers **500**.

Held-out round 5.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (Puma's stdout/stderr: Sinatra's request and error lines), \`redis.log\`.

Regenerate: \`scripts/scenarios/sinatra-redis-down/run.sh\` (Debian: puma ruby-sinatra ruby-redis redis-server).
MD
finish --copy access.log --copy error.log --copy app.log --copy redis.log \
  --expect "app.log:ECONNREFUSED" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;dependency=127.0.0.1:$REDIS;match=ua=127.0.0.1:$APP" \
  --description "Sinatra app on Puma answers 500 while its Redis (127.0.0.1:$REDIS) is stopped" \
  --notes "The dependency is Redis on 127.0.0.1:$REDIS." \
  --readme "$WORK/README.in"
