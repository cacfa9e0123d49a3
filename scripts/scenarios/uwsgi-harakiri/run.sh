#!/usr/bin/env bash
# uwsgi-harakiri: Debian uWSGI (python3 plugin, master, 2 processes, harakiri 2)
# speaking the uwsgi protocol to nginx (uwsgi_pass); /reports/export sleeps 5 s,
# the master logs "HARAKIRI ON WORKER" and kills the worker; nginx answers 502
# "upstream prematurely closed connection".
NAME=uwsgi-harakiri
source "$(dirname "$0")/../common/lib.sh"
NGX=18560 APP=18561

port_free $NGX $APP
prepare
cp "$COMMON/reports.py" "$WORK/app.py"

nginx_server reports.local "include /etc/nginx/uwsgi_params" "uwsgi_pass 127.0.0.1:$APP"

uwsgi_start $APP --processes 2 --harakiri 2
nginx_up
mark "uWSGI (master, 2 processes, harakiri 2) on 127.0.0.1:$APP (uwsgi protocol), nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/api/items=7,/=2,/favicon.ico=1'
sleep 14
burst "slow exports: GET /reports/export (5 s each) once a second for 8 s" --rate 1 --duration 8 --paths '/reports/export=1' --ua 'culprit-scenario-export/1.0'
wind_down

cat >"$WORK/README.in" <<MD
# uwsgi-harakiri

A Flask app (\`common/reports.py\`) served by Debian's uWSGI $(uwsgi --version) (python3 plugin, \`--master --processes 2
--harakiri 2\`, uwsgi protocol on \`127.0.0.1:$APP\`) behind nginx (\`127.0.0.1:$NGX\`, \`uwsgi_pass\`).
Under a steady 8 requests/s, one request a second asks for \`/reports/export\` (sleeps 5 s) for 8 s.
uWSGI's master logs "*** HARAKIRI ON WORKER N (pid: P, try: 1) ***" and kills the worker, then respawns
it; nginx answers 502 "upstream prematurely closed connection while reading response header from
upstream". Fast requests keep succeeding (some delayed while both workers are busy).

Files: \`access.log\`, \`error.log\` (nginx), \`uwsgi.log\` (uWSGI's log as written by \`--logto\`: startup
banner, request lines, harakiri lines; only some lines carry a timestamp).

Regenerate: \`scripts/scenarios/uwsgi-harakiri/run.sh\`.
MD
finish --copy access.log --copy error.log --copy uwsgi.log \
  --expect 'uwsgi.log:HARAKIRI' \
  --incident "upstream=127.0.0.1:$APP;cause=worker_timeout;match=ua=127.0.0.1:$APP" \
  --description "uWSGI harakiri 2 kills workers stuck in a 5 s view: nginx 502 premature close" \
  --notes "uwsgi.log's timestamps are local time without zone (the machine is UTC), in ctime format (Wed Nov 25 16:58:01 2026)." \
  --readme "$WORK/README.in"
