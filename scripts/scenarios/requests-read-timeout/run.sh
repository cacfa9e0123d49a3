#!/usr/bin/env bash
# requests-read-timeout: a checkout app (gunicorn 27 gthread, requests with a 2 s
# timeout) calls a fraud-scoring service that becomes slow (5 s) for 12 s;
# requests raises ReadTimeout, gunicorn answers 500. cause dependency_failure,
# dependency = the scoring service. Held-out round 4.
NAME=requests-read-timeout
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32200 APP=32201 SCORE=32202
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
[ -d "$BLIND_VENV/lib/python3.11/site-packages/requests" ] || "$BLIND_VENV/bin/pip" install -q requests==2.34.2
port_free $NGX; port_free $APP; port_free $SCORE
prepare
cp "$HERE/app.py" "$WORK/"
cat >"$WORK/score.py" <<'PY'
import os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
flag = sys.argv[2]
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if os.path.exists(flag):
            time.sleep(5)
        self.send_response(200); self.send_header("Content-Length", "14"); self.end_headers(); self.wfile.write(b'{"score":0.1}\n')
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name shop.local;
        location / {
            proxy_pass http://127.0.0.1:$APP;
        }
    }
}
CONF
} >"$WORK/nginx.conf"

$PY -u "$WORK/score.py" $SCORE "$WORK/slow" >>"$WORK/score.out" 2>&1 &
track $!
wait_port $SCORE
"$BLIND_VENV/bin/gunicorn" --chdir "$WORK" --bind 127.0.0.1:$APP --workers 2 --threads 8 --worker-class gthread \
  --error-logfile "$WORK/gunicorn.log" --pid "$WORK/gunicorn.pid" --control-socket "$WORK/gunicorn.ctl" \
  --env "SCORE_PORT=$SCORE" app:app &
track $!
wait_port $APP 20
nginx_start
wait_port $NGX
mark "fraud-scoring service on 127.0.0.1:$SCORE, gunicorn (checkout, requests timeout 2 s) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 40 --paths '/checkout=4,/health=1,/nope=1'
sleep 13
touch "$WORK/slow"
mark "scoring service slow: 5 s per answer"
sleep 12
rm -f "$WORK/slow"
mark "scoring service fast again"
load_wait
mark "load ended"
sleep 1
nginx_stop
kill -TERM "$(cat "$WORK/gunicorn.pid")"; sleep 1.5

cat >"$WORK/README.in" <<MD
# requests-read-timeout

A checkout WSGI app (\`app.py\`, requests $("$BLIND_VENV/bin/python" -c 'import requests; print(requests.__version__)') with \`timeout=2\`) under gunicorn $("$BLIND_VENV/bin/gunicorn" --version 2>&1 | awk '{print $2}' | tr -d '()') (gthread, \`127.0.0.1:$APP\`) behind nginx
(\`127.0.0.1:$NGX\`) scores every order with a fraud-scoring service (\`127.0.0.1:$SCORE\`). Under a steady 6 requests/s the
scoring service takes 5 s per answer for 12 s: requests raises \`requests.exceptions.ReadTimeout:
HTTPConnectionPool(host='127.0.0.1', port=$SCORE): Read timed out. (read timeout=2)\`, gunicorn logs \`Error handling
request\` with the traceback and answers **500**.

Held-out round 4.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\`.

Regenerate: \`scripts/scenarios/requests-read-timeout/run.sh\` (PyPI packages in /tmp/blind/venv).
MD
finish --copy access.log --copy error.log --copy gunicorn.log \
  --expect "gunicorn.log:Read timed out" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;dependency=127.0.0.1:$SCORE;match=ua=127.0.0.1:$APP" \
  --description "Checkout app answers 500 while the fraud-scoring service it calls (127.0.0.1:$SCORE) takes 5 s (requests ReadTimeout at 2 s)" \
  --notes "The dependency is 127.0.0.1:$SCORE (host=..., port=... in requests' message)." \
  --readme "$WORK/README.in"
