#!/usr/bin/env bash
# gunicorn-timeout: Debian gunicorn, 2 sync workers, --timeout 2; /reports/export
# sleeps 5 s, so the arbiter logs WORKER TIMEOUT and kills the worker mid-request;
# nginx answers 502 "upstream prematurely closed connection".
NAME=gunicorn-timeout
source "$(dirname "$0")/../common/lib.sh"
NGX=18420 APP=18421

port_free $NGX; port_free $APP
prepare
cp "$(dirname "$0")/app.py" "$WORK/app.py"

{ nginx_head; cat <<CONF
    upstream reports { server 127.0.0.1:$APP; }
    server {
        listen 127.0.0.1:$NGX;
        server_name reports.local;
        location / {
            proxy_pass http://reports;
        }
    }
}
CONF
} >"$WORK/nginx.conf"

/usr/bin/gunicorn --chdir "$WORK" --bind 127.0.0.1:$APP --workers 2 --timeout 2 \
  --error-logfile "$WORK/gunicorn.log" --access-logfile "$WORK/gunicorn-access.log" \
  --pid "$WORK/gunicorn.pid" app:app &
track $!
wait_port $APP 15
nginx_start
wait_port $NGX
mark "gunicorn (2 sync workers, --timeout 2) on 127.0.0.1:$APP and nginx on 127.0.0.1:$NGX started; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/api/items=7,/=2,/favicon.ico=1'
sleep 14
mark "slow exports begin: GET /reports/export (5 s each) once a second for 10 s"
$PY "$COMMON/load.py" --base "http://127.0.0.1:$NGX" --rate 1 --duration 10 --paths '/reports/export=1' --ua 'culprit-scenario-export/1.0' >>"$WORK/load.out" 2>&1
mark "slow exports end"
load_wait
mark "load ended"
sleep 1
nginx_stop
kill -TERM "$(cat "$WORK/gunicorn.pid")"; sleep 1

cat >"$WORK/README.in" <<MD
# gunicorn-timeout

A Flask app (\`app.py\`) served by Debian's gunicorn $(/usr/bin/gunicorn --version | awk '{print $3}' | tr -d ')') with 2 sync workers and
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
