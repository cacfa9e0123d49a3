#!/usr/bin/env bash
# node-heap-oom: a Node app under PM2 with --max-old-space-size=64; one request
# fills the V8 heap: "FATAL ERROR: ... JavaScript heap out of memory", abort;
# PM2 restarts it; nginx 502 until it listens again. cause runtime_oom.
NAME=node-heap-oom
source "$(dirname "$0")/../common/lib.sh"
NGX=18580 APP=18581

port_free $NGX $APP
pm2_setup
prepare
cp "$(dirname "$0")/app.js" "$WORK/app.js"
pm2_app crm-api $APP 2000 "node_args: '--max-old-space-size=64'"
nginx_proxy crm.local "http://127.0.0.1:$APP"

pm2_start
mark "pm2 started crm-api (node --max-old-space-size=64)"
nginx_up
mark "nginx started on 127.0.0.1:$NGX, proxy to 127.0.0.1:$APP; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/customers=6,/api/customers/12=3,/nope=1' --timeout 20
sleep 15
trigger "/api/export?all=1" "fills the V8 heap"
wind_down

cat >"$WORK/README.in" <<MD
# node-heap-oom

A Node $(node -v) HTTP app (\`app.js\`, name \`crm-api\`) runs under PM2 $(pm2_version) (fork mode, \`time: true\`,
\`node_args: --max-old-space-size=64\`), behind nginx (\`127.0.0.1:$NGX\` -> \`127.0.0.1:$APP\`). Under a steady
10 requests/s, one request to \`/api/export\` builds an unbounded array: V8 hits its heap limit, prints
"FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory" with a native stack
to stderr and aborts (SIGABRT). PM2 restarts the app, which warms up 2 s before listening. nginx answers
502 (premature close for the request that killed it, then refused). No kernel OOM: the runtime ran out.

Files: \`access.log\`, \`error.log\` (nginx), \`pm2.log\` (PM2's daemon log), \`crm-api-out.log\` /
\`crm-api-error.log\` (the app's stdout/stderr as PM2 wrote them, \`time: true\` prefixes).

Regenerate: \`scripts/scenarios/node-heap-oom/run.sh\`.
MD
finish --copy access.log --copy error.log --copy pm2.log --copy crm-api-out.log --copy crm-api-error.log \
  --expect 'crm-api-error.log:JavaScript heap out of memory' \
  --incident "upstream=127.0.0.1:$APP;cause=runtime_oom;match=ua=127.0.0.1:$APP" \
  --description "Node app under PM2 runs out of V8 heap (--max-old-space-size=64) and aborts; PM2 restarts it; nginx 502 meanwhile" \
  --notes "The heap exhaustion takes a few seconds of garbage collection before the abort: the trigger request hangs until then." \
  --readme "$WORK/README.in"
