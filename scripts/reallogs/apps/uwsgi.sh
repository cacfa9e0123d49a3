#!/usr/bin/env bash
# Runs Debian's uWSGI (python3 plugin) with harakiri 2, a view that sleeps 5 s,
# a tiny listen queue that we fill, a worker killed with SIGKILL, and a second
# instance on a port already in use. Captures its log into
# parser/testdata/uwsgi/. Ports 18320-18321.
source "$(dirname "$0")/lib.sh"
apps_init uwsgi
rm -f "$work"/*.log
wsgi_sleep_app "$work/app.py"
cd "$work"
uwsgi --plugins python3 --http-socket 127.0.0.1:18320 --wsgi-file "$work/app.py" --master --processes 2 \
  --harakiri 2 --listen 5 --logto "$work/uwsgi.log" --pidfile "$work/uwsgi.pid" --die-on-term &
master=$!
trap 'kill -INT $master 2>/dev/null || true' EXIT
wait_http "http://127.0.0.1:18320/"
# Two requests that outlive harakiri.
curl -s -m 8 -o /dev/null http://127.0.0.1:18320/sleep &
curl -s -m 8 -o /dev/null http://127.0.0.1:18320/sleep &
wait %2 %3 2>/dev/null || true
sleep 1
# Fill the listen queue (5): both workers busy, many waiting connections.
for i in $(seq 30); do curl -s -m 6 -o /dev/null http://127.0.0.1:18320/sleep & done
sleep 4
wait $(jobs -p | grep -v "^$master\$") 2>/dev/null || true
sleep 1
# A worker killed from outside.
w=$(pgrep -P "$master" | head -1)
kill -KILL "$w"; sleep 2
# Address in use.
timeout 5 uwsgi --plugins python3 --http-socket 127.0.0.1:18320 --wsgi-file "$work/app.py" --logto "$work/uwsgi2.log" || true
kill -TERM "$master"; wait "$master" 2>/dev/null || true
trap - EXIT
# Memory limits: a view that keeps 30 MB per request, --memory-report and
# --evil-reload-on-rss 100 (MB): the master SIGKILLs the worker.
cat > "$work/fat.py" <<'PY'
keep = []
def application(environ, start_response):
    keep.append(bytearray(30 << 20))
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok\n']
PY
uwsgi --plugins python3 --http-socket 127.0.0.1:18321 --wsgi-file "$work/fat.py" --master --processes 1 \
  --reload-on-rss 40 --evil-reload-on-rss 100 --memory-report --logto "$work/rss.log" --pidfile "$work/rss.pid" &
rss=$!
trap 'kill -INT $rss 2>/dev/null || true' EXIT
wait_http "http://127.0.0.1:18321/"
for i in 1 2 3 4 5; do curl -s -m 3 -o /dev/null http://127.0.0.1:18321/; sleep 0.5; done
sleep 1
kill -INT $rss; wait $rss 2>/dev/null || true
trap - EXIT
cp "$work/rss.log" "$out/rss.log"
cp "$work/uwsgi.log" "$out/uwsgi.log"
cp "$work/uwsgi2.log" "$out/addrinuse.log"
echo "uwsgi $(uwsgi --version) (Debian $(dpkg-query -W -f='${Version}' uwsgi)), plugin python3 $(dpkg-query -W -f='${Version}' uwsgi-plugin-python3)" > "$out/VERSION"
