#!/usr/bin/env bash
# node-fetch-refused: a Node service calls an inventory service with the
# built-in fetch (undici); the inventory service is stopped for 12 s; undici
# throws "TypeError: fetch failed" whose [cause] is "connect ECONNREFUSED";
# the service answers 502. cause dependency_failure. Held-out round 2.
NAME=node-fetch-refused
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32140 APP=32141 INV=32142
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $APP $INV
prepare
cp "$HERE/app.js" "$WORK/"
cat >"$WORK/inventory.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "3"); self.end_headers(); self.wfile.write(b"17\n")
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY

nginx_proxy catalog.local "http://127.0.0.1:$APP"

start_inv() { spawn inventory.out $PY -u "$WORK/inventory.py" $INV; INV_PID=$SPAWNED; wait_port $INV; }
start_inv
app_start app.log 10 env PORT=$APP INV_PORT=$INV node "$WORK/app.js"
nginx_up
mark "inventory on 127.0.0.1:$INV, Node $(node --version) catalog on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/catalog/42=6,/health=2,/nope=1'
sleep 13
kill $INV_PID; wait $INV_PID 2>/dev/null || true
mark "inventory stopped: 127.0.0.1:$INV refuses connections"
sleep 12
start_inv
mark "inventory back"
wind_down

cat >"$WORK/README.in" <<MD
# node-fetch-refused

A catalog service (\`app.js\`: Node $(node --version)'s own \`http\` module and built-in \`fetch\`, i.e. undici) on \`127.0.0.1:$APP\`
behind nginx (\`127.0.0.1:$NGX\`) asks an inventory service (\`127.0.0.1:$INV\`) for stock on every /catalog request.
Under a steady 10 requests/s the inventory service is stopped for 12 s. undici throws \`TypeError: fetch failed\`;
its \`[cause]\` is \`Error: connect ECONNREFUSED 127.0.0.1:$INV\` with \`errno\`, \`code\`, \`address\` and \`port\`
properties. The service logs the error with \`console.error\` (Node's inspect output, multi-line, after an ISO
stamp) and answers **502** itself.

Held-out round 2 (built after the fixes of round 1).

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (the service's stderr).

Regenerate: \`scripts/scenarios/node-fetch-refused/run.sh\` (node).
MD
finish --copy access.log --copy error.log --copy app.log \
  --expect "app.log:fetch failed" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;dependency=127.0.0.1:$INV;match=ua=127.0.0.1:$APP" \
  --description "Node service answers 502 while the inventory service it fetches from (127.0.0.1:$INV) refuses" \
  --notes "The dependency is 127.0.0.1:$INV, named only in the error's [cause]." \
  --readme "$WORK/README.in"
