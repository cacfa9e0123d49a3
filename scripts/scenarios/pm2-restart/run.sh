#!/usr/bin/env bash
# pm2-restart: a deploy under PM2: `pm2 restart shop-api` (SIGINT, then a new
# process that warms up 3 s before listening); nginx 502 refused meanwhile. Same
# PM2 log shapes as pm2-oom, but a planned stop: cause restart.
NAME=pm2-restart
source "$(dirname "$0")/../common/lib.sh"
NGX=18416 APP=18417

port_free $NGX $APP
pm2_setup
prepare
cp "$(dirname "$0")/../pm2-oom/app.js" "$WORK/app.js"
pm2_app shop-api $APP 3000
echo "server 127.0.0.1:$APP;" | nginx_group shop_api shop.local

pm2_start
mark "pm2 started shop-api"
nginx_up
mark "nginx started on 127.0.0.1:$NGX, proxy to 127.0.0.1:$APP; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/items=6,/api/cart=3,/health=1,/favicon.ico=1'
sleep 15
mark "deploy: pm2 restart shop-api"
"$PM2" restart shop-api >>"$WORK/pm2-cli.out" 2>&1
mark "pm2 restart returned"
wind_down

cat >"$WORK/README.in" <<MD
# pm2-restart

The Node app of pm2-oom (\`shop-api\`, warms up 3 s before listening) under PM2 $(pm2_version) (fork mode,
\`time: true\`), behind nginx (\`127.0.0.1:$NGX\` -> upstream block \`shop_api\` = \`127.0.0.1:$APP\`). Under a
steady 10 requests/s, a deploy runs \`pm2 restart shop-api\`: the app exits "with code [0] via signal [SIGINT]" and PM2 logs
"process tree killed", then starts it again ("starting in -fork mode-", "online"), and it listens
3 s later. nginx answers 502 "connect() failed (111: Connection refused)" in between. A planned restart,
not a kill: compare pm2-oom ("via signal [SIGKILL]" and a kernel OOM kill).

Files: \`access.log\`, \`error.log\` (nginx), \`pm2.log\` (PM2's daemon log), \`shop-api-out.log\` /
\`shop-api-error.log\` (the app's output, \`time: true\` prefixes, local time without zone; the machine is UTC).

Regenerate: \`scripts/scenarios/pm2-restart/run.sh\`.
MD
finish --copy access.log --copy error.log --copy pm2.log --copy shop-api-out.log --copy shop-api-error.log \
  --expect 'pm2.log:via signal \[SIGINT\]' \
  --incident "upstream=127.0.0.1:$APP;cause=restart;match=ua=127.0.0.1:$APP" \
  --description "pm2 restart of a Node app (SIGINT, 3 s warm-up): nginx 502 refused until it listens again" \
  --notes "PM2 stops the app with SIGINT; pm2.log shows exited with code [0] via signal [SIGINT] / process tree killed / starting in -fork mode- / online (no Stopping app line on a restart)." \
  --readme "$WORK/README.in"
