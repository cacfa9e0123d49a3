#!/usr/bin/env bash
# fastapi-pg-down: a FastAPI app under uvicorn (asyncpg pool) whose PostgreSQL is
# stopped for 14 s; the app answers 500 and logs asyncpg's connection errors.
# cause dependency_failure, dependency = the PostgreSQL address.
NAME=fastapi-pg-down
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32010 APP=32011 PG=32012
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
port_free $NGX $APP $PG
prepare
cp "$HERE/app.py" "$HERE/logging.json" "$WORK/"
nginx_proxy orders.local "http://127.0.0.1:$APP"

pg_up $PG
psql_do -c "CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 50) g;"
app_start app.log 20 env DATABASE_URL="postgresql://postgres@127.0.0.1:$PG/postgres" \
  "$BLIND_VENV/bin/uvicorn" app:app --host 127.0.0.1 --port $APP --log-config logging.json
nginx_up
mark "PostgreSQL 15 on 127.0.0.1:$PG, uvicorn (FastAPI, asyncpg pool) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 42 --paths '/orders=5,/orders/7=3,/health=1,/nope=1'
sleep 13
pg_outage 14
wind_down

cat >"$WORK/README.in" <<MD
# fastapi-pg-down

A FastAPI $(py_version fastapi) app (\`app.py\`) under uvicorn $(py_version uvicorn)
(\`--log-config logging.json\`: Python logging's default \`asctime\`, local time without zone) behind nginx
(\`127.0.0.1:$NGX\` -> \`127.0.0.1:$APP\`) reads its orders from PostgreSQL 15 (Debian, \`127.0.0.1:$PG\`) through an
asyncpg $(py_version asyncpg) pool. Under a steady 10 requests/s PostgreSQL is stopped (\`pg_ctl stop -m fast\`, what a
service stop does) for 14 s. Nothing in the app catches database errors: Starlette answers **500** and uvicorn
logs \`ERROR [uvicorn.error] Exception in ASGI application\` with the traceback (asyncpg's
\`ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', $PG)\`, and for pooled connections the
server's shutdown). nginx logs no error: the app answered (\`\$upstream_header_time\` is set).

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (uvicorn's stderr), \`postgres.log\` (the database's own log).

Regenerate: \`scripts/scenarios/fastapi-pg-down/run.sh\` (PyPI packages in /tmp/blind/venv, Debian postgresql-15).
MD
finish --copy access.log --copy error.log --copy app.log --copy postgres.log \
  --expect "app.log:Connect call failed" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;dependency=127.0.0.1:$PG;match=ua=127.0.0.1:$APP" \
  --description "FastAPI app answers 500 while its PostgreSQL (127.0.0.1:$PG) is stopped; nginx proxied fine" \
  --notes "The dependency is PostgreSQL on 127.0.0.1:$PG. asyncpg names it as a Python tuple ('127.0.0.1', $PG), not host:port." \
  --readme "$WORK/README.in"
