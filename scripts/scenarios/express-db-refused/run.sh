#!/usr/bin/env bash
# express-db-refused: an Express app whose database (a TCP port) goes away for
# 14 s; the app answers 502 itself and logs "Error: connect ECONNREFUSED".
NAME=express-db-refused
source "$(dirname "$0")/../common/lib.sh"
NGX=18440 APP=18441 DB=18542

npm_deps
port_free $NGX $APP $DB
prepare
cp "$(dirname "$0")/app.js" "$(dirname "$0")/db.js" "$WORK/"
ln -s "$NPM_DIR/node_modules" "$WORK/node_modules"

nginx_proxy orders.local "http://127.0.0.1:$APP"

start_db() { DB_PORT=$DB spawn db.out node "$WORK/db.js"; DB_PID=$SPAWNED; wait_port $DB; }
start_db
PORT=$APP DB_PORT=$DB spawn app.log node "$WORK/app.js"
wait_port $APP
nginx_up
mark "database stand-in on 127.0.0.1:$DB, Express app on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/orders=5,/api/orders/7=3,/health=1,/nope=1'
sleep 13
kill "$DB_PID"; wait "$DB_PID" 2>/dev/null || true
mark "database stopped: 127.0.0.1:$DB refuses connections"
sleep 14
start_db
mark "database back on 127.0.0.1:$DB"
wind_down

cat >"$WORK/README.in" <<MD
# express-db-refused

An Express $(node -p "require('$NPM_DIR/node_modules/express/package.json').version") app (\`app.js\`) behind nginx (\`127.0.0.1:$NGX\` -> \`127.0.0.1:$APP\`) opens a TCP
connection to its database (\`db.js\`, a stand-in on \`127.0.0.1:$DB\`) for every /api request.
Under a steady 10 requests/s the database is stopped for 14 s: connections to 127.0.0.1:$DB are
refused, the app's error handler logs \`ERROR GET /api/... failed: Error: connect ECONNREFUSED
127.0.0.1:$DB\` followed by the stack (continuation lines without timestamp) and answers 502 itself.
nginx logs nothing in error.log for these: it got a response. In access.log \`\$upstream_status\` is 502
*with* an \`\$upstream_header_time\`, which tells a 502 from the app apart from a 502 from nginx.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (the app's stdout: ISO UTC timestamps, multi-line stacks).

Regenerate: \`scripts/scenarios/express-db-refused/run.sh\`.
MD
finish --copy access.log --copy error.log --copy app.log \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;dependency=127.0.0.1:$DB;match=ua=127.0.0.1:$APP" \
  --description "Express app answers 502 because its database port refuses (ECONNREFUSED 127.0.0.1:$DB); nginx proxied fine" \
  --notes "The dependency is 127.0.0.1:$DB (field dependency of the incident). nginx's error.log has no upstream error: the 502 came from the app." \
  --readme "$WORK/README.in"
