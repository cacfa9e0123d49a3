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
port_free $NGX; port_free $APP; port_free $PG
prepare
cp "$HERE/app.py" "$WORK/"

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name reports.local;
        location / {
            proxy_pass http://127.0.0.1:$APP;
        }
    }
}
CONF
} >"$WORK/nginx.conf"

pg_init $PG
pg_start
"$BLIND_VENV/bin/gunicorn" --chdir "$WORK" --bind 127.0.0.1:$APP --workers 1 --worker-class uvicorn.workers.UvicornWorker \
  --error-logfile "$WORK/gunicorn.log" --pid "$WORK/gunicorn.pid" --control-socket "$WORK/gunicorn.ctl" \
  --env "DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:$PG/postgres" app:app &
track $!
wait_port $APP 20
nginx_start
wait_port $NGX
mark "PostgreSQL 15 on 127.0.0.1:$PG, gunicorn (UvicornWorker, FastAPI, SQLAlchemy pool 2+0, timeout 1 s) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 40 --paths '/items=5,/health=1,/nope=1'
sleep 14
mark "burst: 6 requests/s on /report (1.5 s query each) for 10 s"
$PY "$COMMON/load.py" --base "http://127.0.0.1:$NGX" --rate 6 --duration 10 --paths '/report=1' --ua burst --seed 2 >>"$WORK/load.out" 2>&1
mark "burst ended"
load_wait
mark "load ended"
sleep 1
nginx_stop
kill -TERM "$(cat "$WORK/gunicorn.pid")"; sleep 1

cat >"$WORK/README.in" <<MD
# sqlalchemy-pool-timeout

A FastAPI app (\`app.py\`) under gunicorn $("$BLIND_VENV/bin/gunicorn" --version 2>&1 | awk '{print $2}' | tr -d '()') with uvicorn's \`UvicornWorker\` (\`127.0.0.1:$APP\`, behind nginx
\`127.0.0.1:$NGX\`) uses SQLAlchemy $("$BLIND_VENV/bin/python" -c 'import sqlalchemy; print(sqlalchemy.__version__)') with a \`QueuePool\` of 2 connections, no overflow and a 1 s checkout
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
