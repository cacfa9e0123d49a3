#!/usr/bin/env bash
# gunicorn-timeout: Debian gunicorn, 2 sync workers, --timeout 2; /reports/export
# sleeps 5 s, so the arbiter logs WORKER TIMEOUT and kills the worker mid-request;
# nginx answers 502 "upstream prematurely closed connection".
NAME=gunicorn-timeout
source "$(dirname "$0")/../common/lib.sh"
NGX=18420 APP=18421

port_free $NGX $APP
prepare
cp "$COMMON/reports.py" "$WORK/app.py"
echo "server 127.0.0.1:$APP;" | nginx_group reports reports.local

gunicorn_start $APP --workers 2 --timeout 2 --access-logfile "$WORK/gunicorn-access.log"
nginx_up
mark "gunicorn (2 sync workers, --timeout 2) on 127.0.0.1:$APP and nginx on 127.0.0.1:$NGX started; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/api/items=7,/=2,/favicon.ico=1'
sleep 14
burst "slow exports: GET /reports/export (5 s each) once a second for 10 s" --rate 1 --duration 10 --paths '/reports/export=1' --ua 'culprit-scenario-export/1.0'
wind_down

cat >"$WORK/README.in" <<MD
# gunicorn-timeout

A Flask app (\`common/reports.py\`) served by Debian's gunicorn $(gunicorn_version) with 2 sync workers and
\`--timeout 2\`, behind nginx (\`127.0.0.1:$NGX\` -> upstream block \`reports\` = \`127.0.0.1:$APP\`).
A steady 8 requests/s hits fast paths; during 10 s, one request a second asks for \`/reports/export\`,
which sleeps 5 s. gunicorn's arbiter logs \`[CRITICAL] WORKER TIMEOUT (pid:N)\` and kills the worker,
then boots a new one; nginx answers 502 "upstream prematurely closed connection while reading
response header from upstream" for each killed export.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\` (gunicorn's error log: arbiter and workers,
\`[YYYY-MM-DD HH:MM:SS +0000]\`), \`gunicorn-access.log\` (gunicorn's access log).

Regenerate: \`scripts/scenarios/gunicorn-timeout/run.sh\`.
MD
finish --copy access.log --copy error.log --copy gunicorn.log --copy gunicorn-access.log \
  --incident "upstream=127.0.0.1:$APP;cause=worker_timeout;match=ua=127.0.0.1:$APP" \
  --description "gunicorn --timeout 2 kills sync workers stuck in a 5 s view: WORKER TIMEOUT, nginx 502 premature close" \
  --notes "Only the slow /reports/export requests fail; fast requests keep succeeding (possibly delayed while both workers are busy)." \
  --readme "$WORK/README.in"
