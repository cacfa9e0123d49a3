#!/usr/bin/env bash
# gunicorn-gevent-timeout: gunicorn (PyPI) with 2 gevent workers, --timeout 3; a
# CPU-bound view blocks a worker's event loop; the arbiter kills the worker and
# every request multiplexed on it fails (nginx 502). cause worker_timeout.
NAME=gunicorn-gevent-timeout
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32080 APP=32081
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
port_free $NGX $APP
prepare
cp "$HERE/app.py" "$WORK/"

nginx_proxy docs.local "http://127.0.0.1:$APP" "proxy_read_timeout 30s"

blind_gunicorn --workers 2 --worker-class gevent --timeout 3 --control-socket "$WORK/gunicorn.ctl" app:app
nginx_up
mark "gunicorn (gevent workers x2, --timeout 3) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/docs=4,/api/search=5,/health=1,/nope=1'
sleep 14
mark "trigger: GET /pdf/annual-report 5 times, 0.5 s apart (users retrying a slow page; 8 s of CPU each, no yield to gevent)"
CURLS=()
for i in 1 2 3 4 5; do
  curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$NGX/pdf/annual-report?try=$i" >>"$WORK/trigger.out" &
  CURLS+=($!)
  sleep 0.5
done
wait "${CURLS[@]}" 2>/dev/null || true
mark "trigger requests ended: $(tr '\n' ' ' <"$WORK/trigger.out")"
wind_down

cat >"$WORK/README.in" <<MD
# gunicorn-gevent-timeout

gunicorn $(blind_gunicorn_version) from PyPI with 2 **gevent** workers (gevent $(py_version gevent)) and \`--timeout 3\` serves a WSGI app
(\`app.py\`) on \`127.0.0.1:$APP\` behind nginx (\`127.0.0.1:$NGX\`). Under a steady 10 requests/s (/api/search waits
0.8 s on I/O, which gevent multiplexes) five requests to /pdf, 0.5 s apart, each run 8 s of pure-Python CPU work
that never yields to gevent's loop: the workers cannot heartbeat, the arbiter logs \`[CRITICAL] WORKER TIMEOUT
(pid:N)\` and aborts them (\`Worker exiting\`, and for one \`Worker (pid:N) was sent SIGKILL! Perhaps out of
memory?\` although memory had nothing to do with it). The /pdf requests fail (nginx **502** \`upstream
prematurely closed connection\`); the requests multiplexed on the same worker were stalled for seconds but
finished (the gevent worker exits gracefully on SIGABRT), so the incident is small.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\` (gunicorn's error log).

Regenerate: \`scripts/scenarios/gunicorn-gevent-timeout/run.sh\` (PyPI packages in /tmp/blind/venv).
MD
finish --copy access.log --copy error.log --copy gunicorn.log \
  --expect "gunicorn.log:WORKER TIMEOUT" \
  --incident "upstream=127.0.0.1:$APP;cause=worker_timeout;match=ua=127.0.0.1:$APP" \
  --description "gunicorn gevent workers killed by the arbiter's timeout while a CPU-bound view blocks their event loop; nginx 502" \
  --notes "Requests multiplexed on the killed gevent worker fail with it." \
  --readme "$WORK/README.in"
