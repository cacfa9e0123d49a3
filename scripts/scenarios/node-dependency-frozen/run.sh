#!/usr/bin/env bash
# node-dependency-frozen: the ranking service a Node service calls freezes for
# 12 s (SIGSTOP: a VM pause or a stop-the-world GC looks the same from outside):
# connections are accepted by the kernel but never answered; the Node service's
# fetch aborts after 2 s (AbortSignal.timeout) and it answers 504 itself.
# cause dependency_failure (no address in the error). Held-out round 6.
NAME=node-dependency-frozen
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32280 APP=32281 RANK=32282
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $APP $RANK
prepare
cp "$HERE/app.js" "$WORK/"
cat >"$WORK/ranking.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "13"); self.end_headers(); self.wfile.write(b'{"top":[3,1]}')
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY

nginx_proxy recommend.local "http://127.0.0.1:$APP"

spawn ranking.out $PY -u "$WORK/ranking.py" $RANK
RANK_PID=$SPAWNED
on_exit "kill -CONT $RANK_PID 2>/dev/null"
wait_port $RANK
app_start app.log 10 env PORT=$APP RANK_PORT=$RANK node "$WORK/app.js"
nginx_up
mark "ranking service on 127.0.0.1:$RANK, Node recommend service on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/recommend/7=7,/nope=1'
sleep 13
kill -STOP $RANK_PID
mark "ranking service frozen (SIGSTOP)"
sleep 12
kill -CONT $RANK_PID
mark "ranking service resumed (SIGCONT)"
wind_down

cat >"$WORK/README.in" <<MD
# node-dependency-frozen

A recommendations service (\`app.js\`: Node $(node --version), \`fetch\` with \`AbortSignal.timeout(2000)\`) on \`127.0.0.1:$APP\` behind
nginx (\`127.0.0.1:$NGX\`) asks a ranking service (\`127.0.0.1:$RANK\`) on every request. Under a steady 8 requests/s the ranking
service is frozen with SIGSTOP for 12 s (what a VM pause or a long stop-the-world collection looks like from outside): the
kernel still completes handshakes into its backlog, nothing answers. Each fetch aborts after 2 s with \`DOMException
[TimeoutError]: The operation was aborted due to timeout\` (no address in it), logged with \`console.error\` after an ISO
stamp, and the service answers **504** itself. Requests queued in the frozen service's backlog are answered when it resumes.

Held-out round 6.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\`.

Regenerate: \`scripts/scenarios/node-dependency-frozen/run.sh\` (node).
MD
finish --copy access.log --copy error.log --copy app.log \
  --expect "app.log:TimeoutError" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;match=ua=127.0.0.1:$APP" \
  --description "the ranking service a Node service calls is frozen for 12 s; fetch aborts at 2 s and the service answers 504 itself" \
  --notes "The dependency is 127.0.0.1:$RANK but the timeout error does not name it (no dependency key)." \
  --readme "$WORK/README.in"
