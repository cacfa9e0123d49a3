#!/usr/bin/env bash
# sqlalchemy-pool-timeout: FastAPI under gunicorn's UvicornWorker, SQLAlchemy pool
# of 2 connections (no overflow, 1 s timeout). A burst of slow /report requests
# holds both connections; the other requests wait 1 s for one and fail with
# "QueuePool limit of size 2 overflow 0 reached, connection timed out" -> 500.
# cause pool_saturation: the app's own pool is the limit, the database is healthy.
NAME=sqlalchemy-pool-timeout
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32030 APP=32031 PG=32032
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
port_free $NGX $APP $PG
prepare
cp "$HERE/app.py" "$WORK/"
nginx_proxy reports.local "http://127.0.0.1:$APP"

pg_up $PG
blind_gunicorn --workers 1 --worker-class uvicorn.workers.UvicornWorker --control-socket "$WORK/gunicorn.ctl" \
  --env "DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:$PG/postgres" app:app
nginx_up
mark "PostgreSQL 15 on 127.0.0.1:$PG, gunicorn (UvicornWorker, FastAPI, SQLAlchemy pool 2+0, timeout 1 s) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 40 --paths '/items=5,/health=1,/nope=1'
sleep 14
burst "burst: 6 requests/s on /report (1.5 s query each) for 10 s" \
  --rate 6 --duration 10 --paths '/report=1' --ua burst --seed 2
wind_down

cat >"$WORK/README.in" <<MD
# sqlalchemy-pool-timeout

A FastAPI app (\`app.py\`) under gunicorn $(blind_gunicorn_version) with uvicorn's \`UvicornWorker\` (\`127.0.0.1:$APP\`, behind nginx
\`127.0.0.1:$NGX\`) uses SQLAlchemy $(py_version sqlalchemy) with a \`QueuePool\` of 2 connections, no overflow and a 1 s checkout
timeout, against a healthy PostgreSQL 15 (\`127.0.0.1:$PG\`). A steady 6 requests/s on quick endpoints is fine;
a 10 s burst of /report (a 1.5 s query, 6 requests/s) holds both connections, and every other request that needs
one waits 1 s and fails: \`sqlalchemy.exc.TimeoutError: QueuePool limit of size 2 overflow 0 reached, connection
timed out, timeout 1.00\`. uvicorn logs \`Exception in ASGI application\` with the traceback (in gunicorn's error
log) and the app answers **500**.

Cause \`pool_saturation\`: the limit that was hit is the application's own connection pool (the database answered
every query it got, in the time the query takes). The remedy is the pool's size or the slow query that holds
connections, not the database.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\` (gunicorn's error log, uvicorn's errors), \`postgres.log\`.

Regenerate: \`scripts/scenarios/sqlalchemy-pool-timeout/run.sh\` (PyPI packages in /tmp/blind/venv, Debian postgresql-15).
MD
finish --copy access.log --copy error.log --copy gunicorn.log --copy postgres.log \
  --expect "gunicorn.log:QueuePool limit of size 2 overflow 0 reached" \
  --incident "upstream=127.0.0.1:$APP;cause=pool_saturation;match=ua=127.0.0.1:$APP" \
  --description "FastAPI app answers 500: its SQLAlchemy connection pool (2, no overflow) is exhausted by a burst of slow queries" \
  --notes "PostgreSQL (127.0.0.1:$PG) is healthy; the app's pool is the limit, so the cause is pool_saturation, not dependency_failure." \
  --readme "$WORK/README.in"
