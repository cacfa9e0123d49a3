#!/usr/bin/env bash
# flask-dependency-500: a Flask app under gunicorn answers 500 (an uncaught
# URLError, traceback in gunicorn's log) while the payments service it calls
# refuses connections for 12 s. cause dependency_failure.
NAME=flask-dependency-500
source "$(dirname "$0")/../common/lib.sh"
NGX=18444 APP=18445 PAY=18546
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $APP $PAY
prepare
cp "$HERE/app.py" "$WORK/app.py"
nginx_proxy checkout.local "http://127.0.0.1:$APP"

backend_start $PAY payments.out
PAYMENTS_URL="http://127.0.0.1:$PAY" gunicorn_start $APP --workers 2
nginx_up
mark "payments stand-in on 127.0.0.1:$PAY, gunicorn (Flask checkout) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/checkout=3,/cart=4,/nope=1'
sleep 14
kill "$BACKEND_PID"; wait "$BACKEND_PID" 2>/dev/null || true
mark "payments service stopped: 127.0.0.1:$PAY refuses connections"
sleep 12
backend_start $PAY payments.out
mark "payments service back"
wind_down

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
