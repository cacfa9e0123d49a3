#!/usr/bin/env bash
# group-down: an upstream group of two instances; both are killed (SIGKILL, no
# logs captured) for 12 s. nginx tries both ("connect() failed (111)", access
# log ua="A, B" us="502, 502"), marks them failed, then answers "no live
# upstreams" with the group's name as $upstream_addr. One outage of one service.
NAME=group-down
source "$(dirname "$0")/../common/lib.sh"
NGX=18534 A=18535 B=18536

port_free $NGX $A $B
prepare

nginx_group users_api users.local <<CONF
server 127.0.0.1:$A max_fails=1 fail_timeout=5s;
server 127.0.0.1:$B max_fails=1 fail_timeout=5s;
CONF

start_pair() {
  backend_start $A a.out; PA=$BACKEND_PID
  backend_start $B b.out; PB=$BACKEND_PID
}
start_pair
nginx_up
mark "users_api instances on 127.0.0.1:$A and 127.0.0.1:$B (upstream group users_api), nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/products=6,/search=3,/nope=1'
sleep 14
kill -9 $PA $PB; wait $PA $PB 2>/dev/null || true
mark "both instances killed (SIGKILL); their logs are not part of the capture"
sleep 12
start_pair
mark "both instances started again"
wind_down

cat >"$WORK/README.in" <<MD
# group-down

nginx (\`127.0.0.1:$NGX\`) proxies to the upstream group \`users_api\` = \`127.0.0.1:$A\` + \`127.0.0.1:$B\`
(\`max_fails=1 fail_timeout=5s\`). Under a steady 10 requests/s both instances are killed for 12 s and
started again; only nginx's logs are captured. nginx tries both servers (\`connect() failed (111)\`
twice per request, access log \`ua="127.0.0.1:$A, 127.0.0.1:$B" us="502, 502"\`), marks them failed, then
answers at once with "no live upstreams while connecting to upstream" and \`ua="users_api"\`, and every
5 s tries the servers again. One outage of one service: the ground truth is one incident whose upstream
is the group, \`users_api\`; the 5xx carry three different \`\$upstream_addr\` values (the group name, and
address lists ending in either server).

Files: \`access.log\`, \`error.log\` (nginx).

Regenerate: \`scripts/scenarios/group-down/run.sh\`.
MD
finish --copy access.log --copy error.log \
  --expect 'error.log:no live upstreams' \
  --incident "upstream=users_api;cause=backend_down;match=ua~^(users_api|127\\.0\\.0\\.1:$A|127\\.0\\.0\\.1:$B|127\\.0\\.0\\.1:$A, 127\\.0\\.0\\.1:$B|127\\.0\\.0\\.1:$B, 127\\.0\\.0\\.1:$A)\$" \
  --description "Both servers of an upstream group down for 12 s, no upstream logs: refused, then no live upstreams; one incident of the group" \
  --notes "The incident's upstream is the group name users_api: the 5xx have \$upstream_addr users_api (no live upstreams) or the list of the group's servers. nginx.conf defines the group; the error lines of no live upstreams name it (upstream: \"http://users_api/...\")." \
  --readme "$WORK/README.in"
