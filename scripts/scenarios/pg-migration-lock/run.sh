#!/usr/bin/env bash
# pg-migration-lock: a schema migration takes an ACCESS EXCLUSIVE lock on the
# orders table for 12 s; the FastAPI app's queries wait and hit their 1 s
# statement_timeout ("canceling statement due to statement timeout"); the app
# answers 500. cause dependency_failure (the database did not answer in time).
# Held-out round 3.
NAME=pg-migration-lock
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32190 APP=32191 PG=32192
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
port_free $NGX $APP $PG
prepare
cp "$HERE/app.py" "$HERE/../fastapi-pg-down/logging.json" "$WORK/"
nginx_proxy orders.local "http://127.0.0.1:$APP"

pg_up $PG
psql_do -c "CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 50) g;"
app_start app.log 20 env DATABASE_URL="postgresql://postgres@127.0.0.1:$PG/postgres" \
  "$BLIND_VENV/bin/uvicorn" app:app --host 127.0.0.1 --port $APP --log-config logging.json
nginx_up
mark "PostgreSQL 15 on 127.0.0.1:$PG, uvicorn (FastAPI, asyncpg, statement_timeout 1s) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/orders/7=6,/health=1,/nope=1'
sleep 14
mark "migration: ALTER TABLE orders under an ACCESS EXCLUSIVE lock held 12 s"
psql_do -c "BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; ALTER TABLE orders ADD COLUMN note text; SELECT pg_sleep(12); COMMIT;" >/dev/null
mark "migration committed"
wind_down

cat >"$WORK/README.in" <<MD
# pg-migration-lock

A FastAPI app (\`app.py\`, asyncpg pool with a 1 s \`statement_timeout\`) under uvicorn (\`--log-config\`, the
\`logging.json\` of fastapi-pg-down) on \`127.0.0.1:$APP\` behind nginx (\`127.0.0.1:$NGX\`) reads orders from PostgreSQL 15
(\`127.0.0.1:$PG\`). Under a steady 8 requests/s a schema migration locks the orders table (\`ACCESS EXCLUSIVE\`, an
\`ALTER TABLE\` in a transaction that takes 12 s). Every query waits for the lock and is cancelled after 1 s:
\`asyncpg.exceptions.QueryCanceledError: canceling statement due to statement timeout\`; uvicorn logs
\`Exception in ASGI application\` with the traceback and the app answers **500**. PostgreSQL is up throughout.

Held-out round 3.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\`, \`postgres.log\`.

Regenerate: \`scripts/scenarios/pg-migration-lock/run.sh\` (PyPI packages in /tmp/blind/venv, Debian postgresql-15).
MD
finish --copy access.log --copy error.log --copy app.log --copy postgres.log \
  --expect "app.log:canceling statement due to statement timeout" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;match=ua=127.0.0.1:$APP" \
  --description "A migration's table lock makes every query hit its 1 s statement_timeout; the FastAPI app answers 500" \
  --notes "The dependency is PostgreSQL on 127.0.0.1:$PG; asyncpg's error does not name it (no dependency key)." \
  --readme "$WORK/README.in"
