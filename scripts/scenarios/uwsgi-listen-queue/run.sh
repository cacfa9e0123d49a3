#!/usr/bin/env bash
# uwsgi-listen-queue: Debian uWSGI with 2 processes and a small listen queue
# (--listen 4) on TCP; a burst of slow requests fills the workers and the
# socket's accept queue; uWSGI's master warns "listen queue ... full" and nginx
# cannot connect in time (uwsgi_connect_timeout 2s): 504 "upstream timed out
# (110) while connecting to upstream". cause pool_saturation.
NAME=uwsgi-listen-queue
source "$(dirname "$0")/../common/lib.sh"
NGX=18564 APP=18565

port_free $NGX $APP
prepare
cp "$COMMON/reports.py" "$WORK/app.py"

nginx_server reports.local "include /etc/nginx/uwsgi_params" "uwsgi_pass 127.0.0.1:$APP" "uwsgi_connect_timeout 2s"

EXPORT_SECONDS=1.5 uwsgi_start $APP --processes 2 --listen 4 --disable-logging
nginx_up
mark "uWSGI (master, 2 processes, --listen 4) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX (uwsgi_connect_timeout 2s); steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 40 --paths '/api/items=7,/=2,/favicon.ico=1'
sleep 14
burst "burst: 10 requests/s to /reports/export (1.5 s each) for 10 s" --rate 10 --duration 10 --paths '/reports/export=1' --ua 'culprit-scenario-burst/1.0'
wind_down

cat >"$WORK/README.in" <<MD
# uwsgi-listen-queue

A Flask app (\`common/reports.py\`; \`/reports/export\` takes 1.5 s: \`EXPORT_SECONDS=1.5\`) served by Debian's uWSGI $(uwsgi --version)
(\`--master --processes 2 --listen 4\`, uwsgi protocol on TCP \`127.0.0.1:$APP\`, request logging off) behind
nginx (\`127.0.0.1:$NGX\`, \`uwsgi_pass\`, \`uwsgi_connect_timeout 2s\`). Under a steady 6 requests/s, a burst
of 10 requests/s to /reports/export lasts 10 s: both workers are busy, the accept queue (4) fills, the
kernel drops new SYNs, and nginx's connect() times out after 2 s: 504 "upstream timed out (110:
Connection timed out) while connecting to upstream". uWSGI's master logs "*** uWSGI listen queue of
socket ... full !!! ***".

Files: \`access.log\`, \`error.log\` (nginx), \`uwsgi.log\` (uWSGI's log: banner and the master's warnings).

Regenerate: \`scripts/scenarios/uwsgi-listen-queue/run.sh\`.
MD
finish --copy access.log --copy error.log --copy uwsgi.log \
  --expect 'uwsgi.log:listen queue' \
  --incident "upstream=127.0.0.1:$APP;cause=pool_saturation;match=ua=127.0.0.1:$APP" \
  --description "uWSGI's workers and listen queue (4) saturated by a burst of slow requests: nginx 504 connect timeouts" \
  --notes "uWSGI's listen-queue lines have ctime timestamps without zone (machine is UTC)." \
  --readme "$WORK/README.in"
