#!/usr/bin/env bash
# uwsgi-segfault: Debian uWSGI (python3 plugin, 2 workers, http-socket) runs a
# WSGI app whose native code segfaults on corrupt uploads; the worker dies by
# signal 11 and the master respawns it. Corrupt uploads come 6 times in 10 s.
# cause crash. Held-out round 3.
NAME=uwsgi-segfault
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32170 APP=32171
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $APP
prepare
cp "$HERE/app.py" "$WORK/"

nginx_proxy media.local "http://127.0.0.1:$APP"

spawn uwsgi.out uwsgi --plugin python3 --master --processes 2 --http-socket "127.0.0.1:$APP" --chdir "$WORK" --wsgi-file "$WORK/app.py" \
  --callable app --pidfile "$WORK/uwsgi.pid" --logto "$WORK/uwsgi.log" --die-on-term --log-date
on_stop "kill -TERM \$(cat '$WORK/uwsgi.pid') 2>/dev/null; sleep 1"
wait_port $APP 15
nginx_up
mark "uWSGI $(uwsgi --version) (2 workers, http-socket) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/media=6,/thumbnail/7=3,/nope=1'
sleep 14
mark "corrupt uploads: GET /thumbnail/9?corrupt=1 six times over 10 s"
for i in 1 2 3 4 5 6; do
  curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$NGX/thumbnail/9?corrupt=1&n=$i" >>"$WORK/trigger.out" || true
  sleep 1.7
done
mark "corrupt uploads ended: $(tr '\n' ' ' <"$WORK/trigger.out")"
wind_down

cat >"$WORK/README.in" <<MD
# uwsgi-segfault

Debian's uWSGI $(uwsgi --version) (python3 plugin, master + 2 workers, \`--http-socket 127.0.0.1:$APP\`, \`--log-date\`) runs a WSGI app
(\`app.py\`) behind nginx (\`127.0.0.1:$NGX\`, \`proxy_pass\`). Under a steady 10 requests/s, six corrupt uploads over 10 s
make the app's native code read a NULL pointer (\`ctypes.string_at(0)\`): the worker dies by **SIGSEGV**; uWSGI logs
\`!!! uWSGI process P got Segmentation Fault !!!\`, its C backtrace, then \`DAMN ! worker N (pid: P) died :( trying
respawn ...\` (no signal named there) and respawns it.
nginx answers **502** for the corrupt requests (and any request in flight on that worker).

Held-out round 3.

Files: \`access.log\`, \`error.log\` (nginx), \`uwsgi.log\`.

Regenerate: \`scripts/scenarios/uwsgi-segfault/run.sh\` (uwsgi, uwsgi-plugin-python3).
MD
finish --copy access.log --copy error.log --copy uwsgi.log \
  --expect "uwsgi.log:got Segmentation Fault" \
  --incident "upstream=127.0.0.1:$APP;cause=crash;match=ua=127.0.0.1:$APP" \
  --description "uWSGI workers die by SIGSEGV in native code on corrupt uploads (6 times in 10 s); nginx 502" \
  --notes "The master survives and respawns each worker at once." \
  --readme "$WORK/README.in"
