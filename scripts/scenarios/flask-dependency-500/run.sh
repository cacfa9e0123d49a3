#!/usr/bin/env bash
# flask-dependency-500: a Flask app under gunicorn answers 500 (an uncaught
# URLError, traceback in gunicorn's log) while the payments service it calls
# refuses connections for 12 s. cause dependency_failure.
NAME=flask-dependency-500
source "$(dirname "$0")/../common/lib.sh"
NGX=18444 APP=18445 PAY=18546
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX; port_free $APP; port_free $PAY
prepare
cp "$HERE/app.py" "$WORK/app.py"

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name checkout.local;
        location / {
            proxy_pass http://127.0.0.1:$APP;
        }
    }
}
CONF
} >"$WORK/nginx.conf"

start_payments() {
  $PY -u "$HERE/../slow-upstream/backend.py" --port $PAY --slow-flag "$WORK/never" >>"$WORK/payments.out" 2>&1 &
  PAY_PID=$!; track $PAY_PID
}
start_payments
PAYMENTS_URL="http://127.0.0.1:$PAY" /usr/bin/gunicorn --chdir "$WORK" --bind 127.0.0.1:$APP --workers 2 \
  --error-logfile "$WORK/gunicorn.log" --pid "$WORK/gunicorn.pid" app:app &
track $!
wait_port $PAY; wait_port $APP 15
nginx_start
wait_port $NGX
mark "payments stand-in on 127.0.0.1:$PAY, gunicorn (Flask checkout) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/checkout=3,/cart=4,/nope=1'
sleep 14
kill "$PAY_PID"; wait "$PAY_PID" 2>/dev/null || true
mark "payments service stopped: 127.0.0.1:$PAY refuses connections"
sleep 12
start_payments
wait_port $PAY
mark "payments service back"
load_wait
mark "load ended"
sleep 1
nginx_stop
kill -TERM "$(cat "$WORK/gunicorn.pid")"; sleep 1

cat >"$WORK/README.in" <<MD
# flask-dependency-500

A Flask app (\`app.py\`) under Debian's gunicorn (2 sync workers, \`127.0.0.1:$APP\`, behind nginx
\`127.0.0.1:$NGX\`) calls an internal payments service (\`http://127.0.0.1:$PAY/charge\`, a small Python
stand-in) on every /checkout, without catching errors. Under a steady 8 requests/s the payments
service is stopped for 12 s: connections are refused, \`urllib\` raises \`URLError: <urlopen error [Errno
111] Connection refused>\`, Flask logs \`ERROR in app: Exception on /checkout [GET]\` with the full
traceback (in gunicorn's error log) and answers **500**. nginx logs no error: the app answered
(\`\$upstream_header_time\` has a value). /cart keeps working.

The logs never name the payments address (the traceback shows the exception, not the URL): a reader
can tell a dependency refused, not which one. truth.json has no \`dependency\` for this reason.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\` (gunicorn's error log with Flask's tracebacks).

Regenerate: \`scripts/scenarios/flask-dependency-500/run.sh\`.
MD
finish --copy access.log --copy error.log --copy gunicorn.log \
  --expect 'gunicorn.log:Connection refused' \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;match=ua=127.0.0.1:$APP" \
  --description "Flask app answers 500 with a traceback while the HTTP service it calls refuses connections" \
  --notes "The dependency was http://127.0.0.1:$PAY (payments); the logs only say [Errno 111] Connection refused without the address, so truth.json has no dependency key." \
  --readme "$WORK/README.in"
