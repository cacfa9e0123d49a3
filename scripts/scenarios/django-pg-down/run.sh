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
py_extra django django==5.2.19
port_free $NGX $APP $PG
prepare
cp "$HERE/shop.py" "$WORK/"
nginx_proxy shop.local "http://127.0.0.1:$APP"

pg_up $PG
blind_gunicorn --workers 2 --capture-output --control-socket "$WORK/gunicorn.ctl" \
  --env "PG_PORT=$PG" shop:application
nginx_up
mark "PostgreSQL 15 on 127.0.0.1:$PG, gunicorn (Django) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 42 --paths '/orders/=5,/health/=2,/nope=1'
sleep 13
pg_outage 14
wind_down

cat >"$WORK/README.in" <<MD
# django-pg-down

A one-file Django $(py_version django) project (\`shop.py\`, \`LOGGING\` as in the basic example of Django's docs) under gunicorn $(blind_gunicorn_version) (2 sync workers,
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
