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
py_extra requests requests==2.34.2
port_free $NGX $APP $SCORE
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

nginx_proxy shop.local "http://127.0.0.1:$APP"

spawn score.out $PY -u "$WORK/score.py" $SCORE "$WORK/slow"
wait_port $SCORE
blind_gunicorn --workers 2 --threads 8 --worker-class gthread --control-socket "$WORK/gunicorn.ctl" \
  --env "SCORE_PORT=$SCORE" app:app
nginx_up
mark "fraud-scoring service on 127.0.0.1:$SCORE, gunicorn (checkout, requests timeout 2 s) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 40 --paths '/checkout=4,/health=1,/nope=1'
sleep 13
touch "$WORK/slow"
mark "scoring service slow: 5 s per answer"
sleep 12
rm -f "$WORK/slow"
mark "scoring service fast again"
wind_down

cat >"$WORK/README.in" <<MD
# requests-read-timeout

A checkout WSGI app (\`app.py\`, requests $(py_version requests) with \`timeout=2\`) under gunicorn $(blind_gunicorn_version) (gthread, \`127.0.0.1:$APP\`) behind nginx
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
