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
port_free $NGX; port_free $APP; port_free $PG
prepare
cp "$HERE/app.py" "$HERE/logging.json" "$WORK/"

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name orders.local;
        location / {
            proxy_pass http://127.0.0.1:$APP;
        }
    }
}
CONF
} >"$WORK/nginx.conf"

pg_init $PG
pg_start
psql_do -c "CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 50) g;"
(cd "$WORK" && DATABASE_URL="postgresql://postgres@127.0.0.1:$PG/postgres" \
  exec "$BLIND_VENV/bin/uvicorn" app:app --host 127.0.0.1 --port $APP --log-config logging.json) >>"$WORK/app.log" 2>&1 &
track $!
wait_port $APP 20
nginx_start
wait_port $NGX
mark "PostgreSQL 15 on 127.0.0.1:$PG, uvicorn (FastAPI, asyncpg pool) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 42 --paths '/orders=5,/orders/7=3,/health=1,/nope=1'
sleep 13
pg_stop fast
mark "PostgreSQL stopped (pg_ctl stop -m fast): 127.0.0.1:$PG refuses connections"
sleep 14
pg_start
mark "PostgreSQL started again"
load_wait
mark "load ended"
sleep 1
nginx_stop

cat >"$WORK/README.in" <<MD
# fastapi-pg-down

A FastAPI $("$BLIND_VENV/bin/python" -c 'import fastapi; print(fastapi.__version__)') app (\`app.py\`) under uvicorn $("$BLIND_VENV/bin/python" -c 'import uvicorn; print(uvicorn.__version__)')
(\`--log-config logging.json\`: Python logging's default \`asctime\`, local time without zone) behind nginx
(\`127.0.0.1:$NGX\` -> \`127.0.0.1:$APP\`) reads its orders from PostgreSQL 15 (Debian, \`127.0.0.1:$PG\`) through an
asyncpg $("$BLIND_VENV/bin/python" -c 'import asyncpg; print(asyncpg.__version__)') pool. Under a steady 10 requests/s PostgreSQL is stopped (\`pg_ctl stop -m fast\`, what a
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
