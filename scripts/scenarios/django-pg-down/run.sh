#!/usr/bin/env bash
# django-pg-down: a Django app (default logging) under gunicorn 27 whose
# PostgreSQL is stopped for 14 s; Django answers 500 and logs "Internal Server
# Error: /orders/" with the traceback, WITHOUT timestamps (the console handler
# of Django's basic logging example), into gunicorn's error log between gunicorn's own
# stamped lines. cause dependency_failure. Held-out round 5.
NAME=django-pg-down
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32230 APP=32231 PG=32232
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
[ -d "$BLIND_VENV/lib/python3.11/site-packages/django" ] || "$BLIND_VENV/bin/pip" install -q django==5.2.19
port_free $NGX; port_free $APP; port_free $PG
prepare
cp "$HERE/shop.py" "$WORK/"

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name shop.local;
        location / {
            proxy_pass http://127.0.0.1:$APP;
        }
    }
}
CONF
} >"$WORK/nginx.conf"

pg_init $PG
pg_start
"$BLIND_VENV/bin/gunicorn" --chdir "$WORK" --bind 127.0.0.1:$APP --workers 2 \
  --error-logfile "$WORK/gunicorn.log" --capture-output --pid "$WORK/gunicorn.pid" --control-socket "$WORK/gunicorn.ctl" \
  --env "PG_PORT=$PG" shop:application &
track $!
wait_port $APP 20
nginx_start
wait_port $NGX
mark "PostgreSQL 15 on 127.0.0.1:$PG, gunicorn (Django) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 42 --paths '/orders/=5,/health/=2,/nope=1'
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
kill -TERM "$(cat "$WORK/gunicorn.pid")"; sleep 1.5

cat >"$WORK/README.in" <<MD
# django-pg-down

A one-file Django $("$BLIND_VENV/bin/python" -c 'import django; print(django.__version__)') project (\`shop.py\`, \`LOGGING\` as in the basic example of Django's docs) under gunicorn $("$BLIND_VENV/bin/gunicorn" --version 2>&1 | awk '{print $2}' | tr -d '()') (2 sync workers,
\`--capture-output\`, \`127.0.0.1:$APP\`) behind nginx (\`127.0.0.1:$NGX\`) reads from PostgreSQL 15 (\`127.0.0.1:$PG\`). Under a
steady 8 requests/s PostgreSQL is stopped for 14 s. Django answers **500** and its \`django.request\` logger writes
\`Internal Server Error: /orders/\` and the traceback (ending in \`django.db.utils.OperationalError: connection to server
at "127.0.0.1", port $PG failed: Connection refused\`) to stderr **without a timestamp**, which gunicorn's
\`--capture-output\` puts into its error log between its own stamped lines.

Held-out round 5.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\`, \`postgres.log\`.

Regenerate: \`scripts/scenarios/django-pg-down/run.sh\` (PyPI packages in /tmp/blind/venv, Debian postgresql-15).
MD
finish --copy access.log --copy error.log --copy gunicorn.log --copy postgres.log \
  --expect "gunicorn.log:Internal Server Error" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;dependency=127.0.0.1:$PG;match=ua=127.0.0.1:$APP" \
  --description "Django app answers 500 while its PostgreSQL (127.0.0.1:$PG) is stopped; Django's tracebacks carry no timestamp" \
  --notes "The dependency is PostgreSQL on 127.0.0.1:$PG." \
  --readme "$WORK/README.in"
