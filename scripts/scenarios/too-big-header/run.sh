#!/usr/bin/env bash
# too-big-header: for 12 s the account service sends an 8 KB Set-Cookie on
# /account; nginx (proxy_buffer_size 4k, the default) answers 502 "upstream sent
# too big header while reading response header from upstream". cause invalid_response.
NAME=too-big-header
source "$(dirname "$0")/../common/lib.sh"
NGX=18504 APP=18505

port_free $NGX $APP
prepare

nginx_proxy account.local "http://127.0.0.1:$APP"

spawn backend.log $PY -u "$(dirname "$0")/backend.py" --port $APP --flag "$WORK/bigcookie"
wait_port $APP
nginx_up
mark "account service on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/account=5,/account/orders=2,/=2,/nope=1'
sleep 14
touch "$WORK/bigcookie"
mark "account service now sends an 8 KB Set-Cookie on /account (a build that keeps the session in the cookie)"
sleep 12
rm -f "$WORK/bigcookie"
mark "account service back to a small cookie"
wind_down

cat >"$WORK/README.in" <<MD
# too-big-header

nginx (\`127.0.0.1:$NGX\`, default \`proxy_buffer_size\` 4k) proxies to an account service
(\`backend.py\`, \`127.0.0.1:$APP\`). For 12 s the service answers /account with an 8 KB \`Set-Cookie\`
header; nginx refuses the response: 502 "upstream sent too big header while reading response header from
upstream". The service stays up and logs a 200 for each of these requests.

Files: \`access.log\`, \`error.log\` (nginx), \`backend.log\` (the service's access lines, 200s).

Regenerate: \`scripts/scenarios/too-big-header/run.sh\`.
MD
finish --copy access.log --copy error.log --copy backend.log \
  --expect 'error.log:too big header' \
  --incident "upstream=127.0.0.1:$APP;cause=invalid_response;match=ua=127.0.0.1:$APP" \
  --description "Backend sends an 8 KB Set-Cookie; nginx 502 upstream sent too big header" \
  --notes "Fix: raise proxy_buffer_size / proxy_buffers or shrink the header. The backend logged 200 for the requests nginx turned into 502." \
  --readme "$WORK/README.in"
