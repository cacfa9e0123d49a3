#!/usr/bin/env bash
# backend-down: the backend process disappears for 10 s (SIGKILL, then started
# again) and nothing on the upstream side is captured: only nginx's view, refused
# connections. With no upstream evidence the honest verdict is backend_down.
NAME=backend-down
source "$(dirname "$0")/../common/lib.sh"
NGX=18530 APP=18531

port_free $NGX $APP
prepare

nginx_proxy users.local "http://127.0.0.1:$APP"

backend_start $APP backend.out
nginx_up
mark "backend on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/products=6,/search=3,/nope=1'
sleep 14
kill -9 $BACKEND_PID; wait $BACKEND_PID 2>/dev/null || true
mark "backend killed (SIGKILL); its host's logs are not part of the capture"
sleep 10
backend_start $APP backend.out
mark "backend started again"
wind_down

cat >"$WORK/README.in" <<MD
# backend-down

nginx (\`127.0.0.1:$NGX\`) proxies to a small Python backend (\`127.0.0.1:$APP\`). Under a steady
10 requests/s the backend is killed with SIGKILL and started again 10 s later. Only nginx's logs are
captured (as when the backend runs on a host nobody ships logs from): 502 "connect() failed (111:
Connection refused)" and nothing else. With no upstream-side evidence the cause is \`backend_down\`.

Files: \`access.log\`, \`error.log\` (nginx).

Regenerate: \`scripts/scenarios/backend-down/run.sh\`.
MD
finish --copy access.log --copy error.log \
  --expect 'error.log:111: Connection refused' \
  --incident "upstream=127.0.0.1:$APP;cause=backend_down;match=ua=127.0.0.1:$APP" \
  --description "Backend gone for 10 s, no upstream-side logs: nginx 502 refused only" \
  --notes "We know the backend was SIGKILLed and restarted, but no log of it is in the capture: from the evidence, backend_down." \
  --readme "$WORK/README.in"
