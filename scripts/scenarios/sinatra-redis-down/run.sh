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
port_free $NGX $APP $REDIS
prepare
cp "$HERE/config.ru" "$WORK/"
nginx_proxy cart.local "http://127.0.0.1:$APP"

redis_start
app_start app.log 30 env REDIS_PORT=$REDIS puma -b "tcp://127.0.0.1:$APP" -e production config.ru
nginx_up
mark "Redis on 127.0.0.1:$REDIS, Puma (Sinatra cart) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 42 --paths '/cart/7=6,/health=1,/nope=1'
sleep 13
redis_outage 14
wind_down

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
