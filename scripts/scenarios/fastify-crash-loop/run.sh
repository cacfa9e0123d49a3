#!/usr/bin/env bash
# fastify-crash-loop: a Fastify app (pino JSON logs) under a bare shell restart
# loop (2 s) crashes on an uncaught exception thrown outside the request's
# promise chain; nginx answers 502 until it is back. A bad webhook arrives 3
# times, 8 s apart. cause crash (one incident: the gaps are under 30 s).
# Held-out round 2.
NAME=fastify-crash-loop
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32160 APP=32161
HERE="$(cd "$(dirname "$0")" && pwd)"

node_deps
[ -d "$BLIND_NPM/node_modules/fastify" ] || (cd "$BLIND_NPM" && npm install --no-audit --no-fund fastify@5.12.8 >/dev/null)
port_free $NGX $APP
prepare
cp "$HERE/app.js" "$WORK/"
node_link

nginx_proxy orders.local "http://127.0.0.1:$APP"

shell_loop app.log "PORT=$APP node $WORK/app.js"
wait_port $APP 20
nginx_up
mark "Fastify $(npm_version fastify) app on 127.0.0.1:$APP under a shell restart loop, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 45 --paths '/api/orders=7,/health=2,/nope=1'
sleep 12
for i in 1 2 3; do
  trigger "/webhook?payload=%7Bid" "bad JSON, try $i"
  sleep 8
done
wind_down

cat >"$WORK/README.in" <<MD
# fastify-crash-loop

An orders API (\`app.js\`: Fastify $(npm_version fastify) with its pino logger, Node $(node --version)) on \`127.0.0.1:$APP\` behind nginx
(\`127.0.0.1:$NGX\`) runs under a bare shell loop (\`while true; do node app.js; sleep 2; done\`) that logs nothing itself.
Under a steady 10 requests/s a webhook with a bad payload arrives three times, 8 s apart: \`JSON.parse\` throws inside a
\`setImmediate\` callback, outside Fastify's promise chain, so nothing catches it; Node prints the throw location, the
stack and \`Node.js v20...\` (no timestamps) and exits with code 1. nginx answers **502** (the webhook itself, then
refused connections) until the loop has the app listening again (pino's \`Server listening at http://127.0.0.1:$APP\`).
The gaps between the crashes are under the 30 s that separate incidents: one incident.

Held-out round 2 (built after the fixes of round 1).

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (pino JSON lines and Node's crash output).

Regenerate: \`scripts/scenarios/fastify-crash-loop/run.sh\` (node; Fastify in /tmp/blind/npm).
MD
finish --copy access.log --copy error.log --copy app.log \
  --expect "app.log:SyntaxError" \
  --incident "upstream=127.0.0.1:$APP;cause=crash;match=ua=127.0.0.1:$APP" \
  --description "Fastify app crashes on an uncaught exception three times, 8 s apart, under a bare restart loop; nginx 502 until it listens again" \
  --notes "Node's crash output has no timestamps; pino's lines carry epoch-millisecond times." \
  --readme "$WORK/README.in"
