#!/usr/bin/env bash
# go-pgx-pg-down: a Go service (pgx v5 pool, log/slog JSON) whose PostgreSQL is
# stopped for 14 s; it answers 503 and logs pgx's errors. cause
# dependency_failure, dependency = the PostgreSQL address. Built after the first
# round of blind fixes, as a held-out check.
NAME=go-pgx-pg-down
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32100 APP=32101 PG=32102
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $APP $PG
prepare
mkdir -p "$WORK/src"
cp "$HERE/main.go.txt" "$WORK/src/main.go"; cp "$HERE/go.mod.txt" "$WORK/src/go.mod"; cp "$HERE/go.sum.txt" "$WORK/src/go.sum"
(cd "$WORK/src" && go build -o "$WORK/orders" .)
nginx_proxy orders.local "http://127.0.0.1:$APP"

pg_up $PG
app_start app.log 10 env PORT=$APP DATABASE_URL="postgres://postgres@127.0.0.1:$PG/postgres?pool_max_conns=4" "$WORK/orders"
nginx_up
mark "PostgreSQL 15 on 127.0.0.1:$PG, Go orders service (pgx pool) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 42 --paths '/orders=6,/health=2,/nope=1'
sleep 13
pg_outage 14
wind_down

cat >"$WORK/README.in" <<MD
# go-pgx-pg-down

A Go $(go env GOVERSION) service (\`main.go.txt\`, pgx v5.7.5 \`pgxpool\`, \`log/slog\` JSON on stderr) on \`127.0.0.1:$APP\`
behind nginx (\`127.0.0.1:$NGX\`) counts orders in PostgreSQL 15 (Debian, \`127.0.0.1:$PG\`). Under a steady 10
requests/s PostgreSQL is stopped (\`pg_ctl stop -m fast\`) for 14 s: pooled connections are terminated
(\`FATAL: terminating connection due to administrator command (SQLSTATE 57P01)\`), new ones are refused
(\`failed to connect to ... dial tcp 127.0.0.1:$PG: connect: connection refused\`); the service logs
\`{"level":"ERROR","msg":"query failed",...,"err":"..."}\` and answers **503**.

Built after the first round of blind fixes: a held-out check of them.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (slog JSON), \`postgres.log\`.

Regenerate: \`scripts/scenarios/go-pgx-pg-down/run.sh\` (go; the module proxy for pgx; Debian postgresql-15).
MD
finish --copy access.log --copy error.log --copy app.log --copy postgres.log \
  --expect "app.log:connection refused" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;dependency=127.0.0.1:$PG;match=ua=127.0.0.1:$APP" \
  --description "Go service (pgx, slog JSON) answers 503 while its PostgreSQL (127.0.0.1:$PG) is stopped" \
  --notes "The dependency is PostgreSQL on 127.0.0.1:$PG." \
  --readme "$WORK/README.in"
