#!/usr/bin/env bash
# redis-maxclients: Redis with maxclients 6; an app (gunicorn 27 gthread, redis-py,
# one connection per request, held 0.5 s) gets a burst; Redis answers new
# connections "ERR max number of clients reached"; the app answers 500.
# cause dependency_failure. Held-out round 3.
NAME=redis-maxclients
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32180 APP=32181 REDIS=32182
HERE="$(cd "$(dirname "$0")" && pwd)"

py_deps
[ -d "$BLIND_VENV/lib/python3.11/site-packages/redis" ] || "$BLIND_VENV/bin/pip" install -q redis==8.1.0
port_free $NGX; port_free $APP; port_free $REDIS
prepare
cp "$HERE/app.py" "$WORK/"

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name quota.local;
        location / {
            proxy_pass http://127.0.0.1:$APP;
        }
    }
}
CONF
} >"$WORK/nginx.conf"

redis-server --port $REDIS --bind 127.0.0.1 --save '' --appendonly no --maxclients 6 --logfile "$WORK/redis.log" --dir "$WORK" &
track $!
wait_port $REDIS
"$BLIND_VENV/bin/gunicorn" --chdir "$WORK" --bind 127.0.0.1:$APP --workers 2 --threads 8 --worker-class gthread \
  --error-logfile "$WORK/gunicorn.log" --pid "$WORK/gunicorn.pid" --control-socket "$WORK/gunicorn.ctl" \
  --env "REDIS_PORT=$REDIS" app:app &
track $!
wait_port $APP 20
nginx_start
wait_port $NGX
mark "Redis (maxclients 6) on 127.0.0.1:$REDIS, gunicorn (gthread 2x8, redis-py per request) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 4 --duration 40 --paths '/quota/a=3,/health=1,/nope=1'
sleep 14
mark "burst: 24 requests/s on /quota for 10 s (about 12 connections at once)"
$PY "$COMMON/load.py" --base "http://127.0.0.1:$NGX" --rate 24 --duration 10 --paths '/quota/b=1' --ua burst --seed 2 >>"$WORK/load.out" 2>&1
mark "burst ended"
load_wait
mark "load ended"
sleep 1
nginx_stop
kill -TERM "$(cat "$WORK/gunicorn.pid")"; sleep 1.5

cat >"$WORK/README.in" <<MD
# redis-maxclients

Redis (Debian, \`127.0.0.1:$REDIS\`) runs with \`--maxclients 6\`. A plain WSGI app (\`app.py\`, redis-py $("$BLIND_VENV/bin/python" -c 'import redis; print(redis.__version__)'), one connection per
request, held 0.5 s) under gunicorn $("$BLIND_VENV/bin/gunicorn" --version 2>&1 | awk '{print $2}' | tr -d '()') (gthread, 2 x 8 threads, \`127.0.0.1:$APP\`) behind nginx (\`127.0.0.1:$NGX\`) gets a steady
4 requests/s, then a 10 s burst of 24 requests/s: Redis answers the connections past its limit with \`ERR max number of
clients reached\`; redis-py raises \`redis.exceptions.ConnectionError: max number of clients reached\`, gunicorn logs
\`Error handling request\` with the traceback and answers **500**.

Held-out round 3.

Files: \`access.log\`, \`error.log\` (nginx), \`gunicorn.log\`, \`redis.log\`.

Regenerate: \`scripts/scenarios/redis-maxclients/run.sh\` (PyPI packages in /tmp/blind/venv, Debian redis-server).
MD
finish --copy access.log --copy error.log --copy gunicorn.log --copy redis.log \
  --expect "gunicorn.log:max number of clients reached" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;match=ua=127.0.0.1:$APP" \
  --description "Redis refuses connections past maxclients 6 during a burst; the app answers 500" \
  --notes "The dependency is Redis on 127.0.0.1:$REDIS, but redis-py's error does not name it (no dependency key)." \
  --readme "$WORK/README.in"
