#!/usr/bin/env bash
# pg-too-many-clients: a WSGI app under gunicorn (gthread workers) opens a
# PostgreSQL connection per request; PostgreSQL allows 6 clients; a burst of
# traffic exceeds them and PostgreSQL answers "FATAL: sorry, too many clients
# already"; gunicorn answers 500. cause dependency_failure (the database refused).
NAME=pg-too-many-clients
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32020 APP=32021 PG=32022
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
port_free $NGX $APP $PG
prepare
cp "$HERE/app.py" "$WORK/"
nginx_proxy reports.local "http://127.0.0.1:$APP"

# 6 connection slots, none reserved for superusers (with the default 3 reserved, PostgreSQL
# says "remaining connection slots are reserved for ..." instead): the app gets 6.
pg_up $PG "max_connections = 6" "superuser_reserved_connections = 0"
psql_do -c "CREATE ROLE app LOGIN"
blind_gunicorn --workers 2 --threads 8 --worker-class gthread \
  --env "DATABASE_URL=host=127.0.0.1 port=$PG dbname=postgres user=app" app:app
nginx_up
mark "PostgreSQL 15 on 127.0.0.1:$PG (max_connections 6, none reserved), gunicorn (gthread, 2x8) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 5 --duration 40 --paths '/report=3,/health=1,/nope=1'
sleep 14
burst "burst: 30 requests/s on /report for 10 s (about 12 at once, each holding a connection 0.4 s)" \
  --rate 30 --duration 10 --paths '/report=1' --ua burst --seed 2
wind_down

cat >"$WORK/README.in" <<MD
# pg-too-many-clients

A plain WSGI app (\`app.py\`, psycopg2 $("$BLIND_VENV/bin/python" -c 'import psycopg2; print(psycopg2.__version__.split()[0])'), one connection per request, a 0.4 s query) under gunicorn
$(blind_gunicorn_version) from PyPI (\`gthread\` workers, 2 x 8 threads, \`127.0.0.1:$APP\`, behind nginx \`127.0.0.1:$NGX\`)
uses PostgreSQL 15 (Debian, \`127.0.0.1:$PG\`) with \`max_connections = 6\` and \`superuser_reserved_connections = 0\` (with the default 3 reserved the refusal reads \`remaining connection slots are reserved for non-replication superuser connections\`). A steady
5 requests/s is fine; a 10 s burst of 30 requests/s on /report needs about 12 connections at once and PostgreSQL
refuses the rest: \`FATAL:  sorry, too many clients already\` (in postgres.log, and in the app's traceback
\`psycopg2.OperationalError: connection to server at "127.0.0.1", port $PG failed: FATAL:  sorry, too many clients
already\`). gunicorn logs \`[ERROR] Error handling request /report\` with the traceback and answers **500**.

Cause \`dependency_failure\`: the dependency (PostgreSQL) refused the connection, at its own limit; the app's
own capacity (16 threads) was not reached.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\` (gunicorn's error log), \`postgres.log\`.

Regenerate: \`scripts/scenarios/pg-too-many-clients/run.sh\` (PyPI packages in /tmp/blind/venv, Debian postgresql-15).
MD
finish --copy access.log --copy error.log --copy gunicorn.log --copy postgres.log \
  --expect "gunicorn.log:too many clients already" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;dependency=127.0.0.1:$PG;match=ua=127.0.0.1:$APP" \
  --description "gunicorn app answers 500: PostgreSQL (127.0.0.1:$PG) refuses connections beyond max_connections during a burst" \
  --notes "The dependency is PostgreSQL on 127.0.0.1:$PG; psycopg2 names it as 'connection to server at \"127.0.0.1\", port $PG failed'." \
  --readme "$WORK/README.in"
