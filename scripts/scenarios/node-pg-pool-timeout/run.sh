#!/usr/bin/env bash
# node-pg-pool-timeout: Express + node-postgres Pool (max 3, 1 s connection
# timeout), winston JSON logs. A burst of slow /stock queries holds every
# client; the other requests fail with "timeout exceeded when trying to
# connect" -> 500. cause pool_saturation (the app's own pool; PostgreSQL is fine).
NAME=node-pg-pool-timeout
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32090 APP=32091 PG=32092
HERE="$(cd "$(dirname "$0")" && pwd)"

node_deps
port_free $NGX $APP $PG
prepare
cp "$HERE/app.js" "$WORK/"
node_link
nginx_proxy inventory.local "http://127.0.0.1:$APP"

pg_up $PG
app_start app.log 10 env PORT=$APP PG_PORT=$PG node "$WORK/app.js"
nginx_up
mark "PostgreSQL 15 on 127.0.0.1:$PG, Express + pg Pool (max 3, connectionTimeoutMillis 1000) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/items=6,/health=1,/nope=1'
sleep 14
burst "burst: 5 requests/s on /stock (1.2 s query each) for 10 s" \
  --rate 5 --duration 10 --paths '/stock/sku-42=1' --ua burst --seed 2
wind_down

cat >"$WORK/README.in" <<MD
# node-pg-pool-timeout

An inventory service (\`app.js\`: Express $(npm_version express), node-postgres $(npm_version pg) \`Pool\` with \`max: 3\` and
\`connectionTimeoutMillis: 1000\`, winston $(npm_version winston) JSON logs with ISO timestamps) on \`127.0.0.1:$APP\` behind nginx
(\`127.0.0.1:$NGX\`) uses a healthy PostgreSQL 15 (\`127.0.0.1:$PG\`). A steady 8 requests/s on quick queries is fine;
a 10 s burst of 5 requests/s on /stock (a 1.2 s query) keeps all 3 clients busy, and every request that needs a
client waits 1 s and fails: \`Error: timeout exceeded when trying to connect\`; the app logs it through winston and
answers **500**.

Cause \`pool_saturation\`: the application's own connection pool is the limit (the database answered every
query it got). node-postgres words a pool wait and a slow TCP connect the same way; here the database was
reachable throughout (postgres.log).

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (winston JSON lines), \`postgres.log\`.

Regenerate: \`scripts/scenarios/node-pg-pool-timeout/run.sh\` (npm packages in /tmp/blind/npm, Debian postgresql-15).
MD
finish --copy access.log --copy error.log --copy app.log --copy postgres.log \
  --expect "app.log:timeout exceeded when trying to connect" \
  --incident "upstream=127.0.0.1:$APP;cause=pool_saturation;match=ua=127.0.0.1:$APP" \
  --description "Express app answers 500: its node-postgres pool (max 3) is exhausted by a burst of slow queries" \
  --notes "PostgreSQL (127.0.0.1:$PG) is healthy; the app's pool is the limit, so the cause is pool_saturation." \
  --readme "$WORK/README.in"
