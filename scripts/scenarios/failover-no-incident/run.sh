#!/usr/bin/env bash
# failover-no-incident: an upstream group of two servers, one of them down for the
# whole run; nginx logs "connect() failed (111)" at error level and retries on the
# other server, so every client gets its answer. Error lines, multi-value upstream
# fields, and no 5xx: no incident.
NAME=failover-no-incident
source "$(dirname "$0")/../common/lib.sh"
NGX=18550 DEAD=18551 LIVE=18552

port_free $NGX $DEAD $LIVE
prepare

nginx_group users users.local <<CONF
server 127.0.0.1:$DEAD max_fails=1 fail_timeout=5s;
server 127.0.0.1:$LIVE max_fails=1 fail_timeout=5s;
CONF

backend_start $LIVE backend.log
nginx_up
mark "live backend on 127.0.0.1:$LIVE, nothing on 127.0.0.1:$DEAD, nginx on 127.0.0.1:$NGX (upstream users = both); steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/products=6,/search=3,/nope=1'
wind_down

cat >"$WORK/README.in" <<MD
# failover-no-incident

nginx (\`127.0.0.1:$NGX\`) proxies to the upstream group \`users\`: \`127.0.0.1:$DEAD\` (nothing listens,
the whole run) and \`127.0.0.1:$LIVE\` (a healthy backend), \`max_fails=1 fail_timeout=5s\`. Every 5 s
nginx tries the dead server again, logs "connect() failed (111: Connection refused)" at level error,
and passes the request to the live one: the access log shows \`ua="127.0.0.1:$DEAD, 127.0.0.1:$LIVE"
us="502, 200"\` and the client gets 200. Error lines, no 5xx: no incident.

Files: \`access.log\`, \`error.log\` (nginx), \`backend.log\` (the live backend's access lines).

Regenerate: \`scripts/scenarios/failover-no-incident/run.sh\`.
MD
finish --copy access.log --copy error.log --copy backend.log \
  --expect 'error.log:111: Connection refused' --expect 'access.log:us="502, 200"' \
  --description "Upstream group with one dead and one live server: refused lines in error.log, nginx retries, no 5xx: no incident" \
  --notes "Multi-value upstream fields (comma-separated) appear on the retried requests." \
  --readme "$WORK/README.in"
