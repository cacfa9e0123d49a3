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
py_extra redis redis==8.1.0
port_free $NGX $APP $REDIS
prepare
cp "$HERE/app.py" "$WORK/"
nginx_proxy quota.local "http://127.0.0.1:$APP"

redis_start --maxclients 6
blind_gunicorn --workers 2 --threads 8 --worker-class gthread --control-socket "$WORK/gunicorn.ctl" \
  --env "REDIS_PORT=$REDIS" app:app
nginx_up
mark "Redis (maxclients 6) on 127.0.0.1:$REDIS, gunicorn (gthread 2x8, redis-py per request) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 4 --duration 40 --paths '/quota/a=3,/health=1,/nope=1'
sleep 14
burst "burst: 24 requests/s on /quota for 10 s (about 12 connections at once)" \
  --rate 24 --duration 10 --paths '/quota/b=1' --ua burst --seed 2
wind_down

cat >"$WORK/README.in" <<MD
# redis-maxclients

Redis (Debian, \`127.0.0.1:$REDIS\`) runs with \`--maxclients 6\`. A plain WSGI app (\`app.py\`, redis-py $(py_version redis), one connection per
request, held 0.5 s) under gunicorn $(blind_gunicorn_version) (gthread, 2 x 8 threads, \`127.0.0.1:$APP\`) behind nginx (\`127.0.0.1:$NGX\`) gets a steady
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
