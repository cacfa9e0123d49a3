#!/usr/bin/env bash
# quiet-baseline: normal traffic with 404s and a few 499s (clients that give up
# on a slow page before it answers), and no 5xx at all: no incident.
NAME=quiet-baseline
source "$(dirname "$0")/../common/lib.sh"
NGX=18490 APP=18491

port_free $NGX $APP
prepare
touch "$WORK/slow"   # /search always takes 3.5 s here; nginx waits (60 s default)

nginx_conf <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name www.local;
        location /static/ {
            root $WORK/www;
        }
        location / {
            proxy_pass http://127.0.0.1:$APP;
        }
    }
CONF
mkdir -p "$WORK/www/static"; echo 'body{}' >"$WORK/www/static/site.css"

backend_start $APP backend.log "$WORK/slow"
nginx_up
mark "backend on 127.0.0.1:$APP (/search takes 3.5 s) and nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/products=5,/=2,/static/site.css=2,/static/missing.png=1,/wp-login.php=1,/search=1'
for i in 1 2 3; do
  sleep 8
  mark "impatient client: curl --max-time 1 /search (gives up before the 3.5 s answer)"
  curl -s -o /dev/null --max-time 1 -A 'culprit-scenario-impatient/1.0' "http://127.0.0.1:$NGX/search?q=shoes" || true
done
wind_down

cat >"$WORK/README.in" <<MD
# quiet-baseline

Normal traffic, nothing fails: nginx (\`127.0.0.1:$NGX\`) serves static files (some missing: 404) and
proxies the rest to a small Python backend (\`127.0.0.1:$APP\`, unknown paths: 404) whose /search
takes 3.5 s (well under nginx's default 60 s read timeout, so it answers 200). Three times a client
runs \`curl --max-time 1\` on /search and gives up: nginx logs 499 and "client prematurely closed
connection" (info level, in error.log). There is no 5xx: \`culprit explain\` must report no incident.

Files: \`access.log\`, \`error.log\` (nginx), \`backend.log\` (the backend's access lines).

Regenerate: \`scripts/scenarios/quiet-baseline/run.sh\`.
MD
finish --copy access.log --copy error.log --copy backend.log \
  --expect 'access.log:" 499 ' \
  --description "Normal traffic with 404s and 499s (clients giving up), no 5xx: no incident" \
  --notes "499s and 404s are not incidents." \
  --readme "$WORK/README.in"
