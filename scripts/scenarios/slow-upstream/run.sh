#!/usr/bin/env bash
# slow-upstream: a backend whose /search stalls for 3.5 s during a 12 s window;
# nginx's proxy_read_timeout is 2 s, so it answers 504 "upstream timed out (110)
# while reading response header". No process dies or restarts.
NAME=slow-upstream
source "$(dirname "$0")/../common/lib.sh"
NGX=18470 APP=18471

port_free $NGX $APP
prepare

nginx_proxy search.local "http://127.0.0.1:$APP" "proxy_connect_timeout 2s" "proxy_read_timeout 2s"

backend_start $APP backend.log "$WORK/slow"
nginx_up
mark "backend on 127.0.0.1:$APP and nginx on 127.0.0.1:$NGX started; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/search=4,/products=4,/=1,/missing=1'
sleep 14
touch "$WORK/slow"
mark "backend /search now takes 3.5 s (proxy_read_timeout is 2 s)"
sleep 12
rm -f "$WORK/slow"
mark "backend /search fast again"
wind_down

cat >"$WORK/README.in" <<MD
# slow-upstream

A Python backend (\`backend.py\`, ThreadingHTTPServer, logs only its access lines to stderr) sits behind
nginx (\`127.0.0.1:$NGX\` -> \`127.0.0.1:$APP\`, \`proxy_read_timeout 2s\`). Under a steady 10
requests/s (40 % to /search), /search takes 3.5 s for a 12 s window. nginx answers 504 with "upstream
timed out (110: Connection timed out) while reading response header from upstream". Requests that were
already waiting when the window closed may still time out a little after it. The backend process never
dies or restarts: the cause is a slow upstream.

Files: \`access.log\`, \`error.log\` (nginx), \`backend.log\` (Python http.server access lines, local time
without zone, second resolution; the machine is UTC).

Regenerate: \`scripts/scenarios/slow-upstream/run.sh\`.
MD
finish --copy access.log --copy error.log --copy backend.log \
  --incident "upstream=127.0.0.1:$APP;cause=slow_upstream;match=ua=127.0.0.1:$APP" \
  --description "Backend /search stalls 3.5 s for 12 s with proxy_read_timeout 2s: nginx 504 read timeouts, no process event" \
  --notes "backend.log lines are Python http.server's: [25/Nov/2026 16:40:01] without zone. A 504 is logged when nginx gives up (2 s after the request started)." \
  --readme "$WORK/README.in"
