#!/usr/bin/env bash
# deploy: a service cleanly stopped (SIGTERM) and started again a few seconds later
# by a deploy script; nginx answers 502 (refused) in between.
NAME=deploy
source "$(dirname "$0")/../common/lib.sh"
NGX=18450 APP=18451

port_free $NGX $APP
prepare
cp "$(dirname "$0")/app.js" "$WORK/app.js"

nginx_proxy orders.local "http://127.0.0.1:$APP"

start_app() { PORT=$APP APP_VERSION=$1 spawn app.log node "$WORK/app.js"; APP_PID=$SPAWNED; wait_port $APP; }
start_app v41
on_stop 'kill -TERM "$APP_PID"; wait "$APP_PID"'
mark "orders-api v41 started (pid $APP_PID) on 127.0.0.1:$APP"
nginx_up
mark "nginx started on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/orders=6,/orders/42=3,/robots.txt=1'
sleep 15
mark "deploy: SIGTERM to orders-api v41 (pid $APP_PID)"
kill -TERM "$APP_PID"
wait "$APP_PID" || true
mark "orders-api v41 exited; installing v42 (4 s)"
sleep 4
start_app v42
mark "orders-api v42 started (pid $APP_PID) and listening"
wind_down

cat >"$WORK/README.in" <<MD
# deploy

A Node HTTP service (\`app.js\`, orders-api, run with \`node\` directly) sits behind nginx
(\`127.0.0.1:$NGX\` -> \`127.0.0.1:$APP\`). Under a steady 10 requests/s, a deploy script sends
SIGTERM to v41 (the app logs "received SIGTERM, shutting down", closes its server and exits 0), waits
4 s (the "install"), and starts v42, which logs "listening on 127.0.0.1:$APP". In between nginx answers
502 with "connect() failed (111: Connection refused)". No kernel event, no crash: a planned restart.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (both app instances' stdout, ISO UTC timestamps).

Regenerate: \`scripts/scenarios/deploy/run.sh\`.
MD
finish --copy access.log --copy error.log --copy app.log \
  --incident "upstream=127.0.0.1:$APP;cause=restart;match=ua=127.0.0.1:$APP" \
  --description "Deploy: app stopped with SIGTERM (graceful shutdown) and started again 4 s later; nginx 502 refused in between" \
  --notes "The app logs 'received SIGTERM, shutting down' and then 'listening on 127.0.0.1:$APP' from the new instance; timestamps in app.log are UTC with milliseconds." \
  --readme "$WORK/README.in"
