#!/usr/bin/env bash
# rate-limit: nginx limit_req on /api/login (5 r/s, burst 5, nodelay); a client
# hammers the login for 8 s and nginx itself answers 503 "limiting requests".
# No upstream is involved: the incident belongs to the virtual server.
NAME=rate-limit
source "$(dirname "$0")/../common/lib.sh"
NGX=18540 APP=18541

port_free $NGX $APP
prepare

nginx_conf <<CONF
    limit_req_zone \$binary_remote_addr zone=login:1m rate=5r/s;
    server {
        listen 127.0.0.1:$NGX;
        server_name api.local;
        location /api/login {
            limit_req zone=login burst=5 nodelay;
            proxy_pass http://127.0.0.1:$APP;
        }
        location / {
            proxy_pass http://127.0.0.1:$APP;
        }
    }
CONF

backend_start $APP backend.out
nginx_up
mark "backend on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX (limit_req 5 r/s burst 5 on /api/login); steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/products=6,/api/login=1,/nope=1'
sleep 14
burst "login burst: 25 requests/s to /api/login for 8 s" --rate 25 --duration 8 --paths '/api/login=1' --ua 'culprit-scenario-bruteforce/1.0'
wind_down

cat >"$WORK/README.in" <<MD
# rate-limit

nginx (\`127.0.0.1:$NGX\`, server \`api.local\`) limits \`/api/login\` with \`limit_req zone=login burst=5
nodelay\` (5 r/s per client address). Under a steady 8 requests/s, one client sends 25 requests/s to
/api/login for 8 s; nginx answers 503 itself with "limiting requests, excess: ... by zone \"login\"" in
error.log (level error). The rejected requests never reach an upstream (\`\$upstream_addr\` is \`-\`), so the
incident belongs to the virtual server, with \`upstream\` "" and \`server\` "api.local" in truth.json.
The backend (the small Python server of slow-upstream) is healthy throughout.

Files: \`access.log\`, \`error.log\` (nginx).

Regenerate: \`scripts/scenarios/rate-limit/run.sh\`.
MD
finish --copy access.log --copy error.log \
  --expect 'error.log:limiting requests' \
  --incident "upstream=;server=api.local;cause=rate_limit;match=status=503" \
  --description "nginx limit_req rejects a login burst with 503; no upstream involved" \
  --notes "upstream is \"\" (nginx answered without an upstream) and server is api.local." \
  --readme "$WORK/README.in"
