#!/usr/bin/env bash
# two-upstreams: in the same minute, the inventory app (127.0.0.1:18501) crashes
# on an uncaught exception (502 while its restart loop brings it back) and the
# search backend (127.0.0.1:18502) turns slow (504 read timeouts). Two incidents,
# two causes, overlapping in time.
NAME=two-upstreams
source "$(dirname "$0")/../common/lib.sh"
NGX=18500 INV=18501 SEARCH=18502
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $INV $SEARCH
prepare
cp "$HERE/../crash-loop/app.js" "$WORK/"

nginx_conf <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name shop.local;
        location /api/ {
            proxy_pass http://127.0.0.1:$INV;
        }
        location /search {
            proxy_pass http://127.0.0.1:$SEARCH;
            proxy_read_timeout 2s;
        }
    }
CONF

supervise app $INV inventory.log node "$WORK/app.js"
backend_start $SEARCH search.log "$WORK/slow"
nginx_up
mark "inventory app (restart loop) on 127.0.0.1:$INV, search backend on 127.0.0.1:$SEARCH, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 12 --duration 40 --paths '/api/stock=5,/api/items/9=2,/search=4,/nope=1'
sleep 12
touch "$WORK/slow"
mark "search backend: /search now takes 3.5 s (proxy_read_timeout 2 s)"
sleep 3
trigger "/api/import?format=v2" "inventory app throws an uncaught TypeError"
sleep 7
rm -f "$WORK/slow"
mark "search backend fast again"
wind_down

cat >"$WORK/README.in" <<MD
# two-upstreams

One nginx (\`127.0.0.1:$NGX\`), two upstreams: \`/api/\` goes to the inventory app (the Node app of
crash-loop, under the same 3 s restart loop, \`127.0.0.1:$INV\`) and \`/search\` to the search backend
(the Python backend of slow-upstream, \`127.0.0.1:$SEARCH\`, \`proxy_read_timeout 2s\`). Under a steady
12 requests/s: the search backend turns slow (3.5 s per /search) for 10 s, and 3 s into that window one
request crashes the inventory app (uncaught TypeError); it is back about 3 s later. Two incidents in the
same minute, overlapping: \`127.0.0.1:$INV\` crash (502: premature close, then refused) and
\`127.0.0.1:$SEARCH\` slow upstream (504: read timeouts). They must stay apart.

Files: \`access.log\`, \`error.log\` (nginx), \`inventory.log\` (the Node app and its loop),
\`search.log\` (the search backend's access lines).

Regenerate: \`scripts/scenarios/two-upstreams/run.sh\`.
MD
finish --copy access.log --copy error.log --copy inventory.log --copy search.log \
  --expect 'inventory.log:TypeError' --expect 'error.log:upstream timed out' \
  --incident "upstream=127.0.0.1:$INV;cause=crash;match=ua=127.0.0.1:$INV" \
  --incident "upstream=127.0.0.1:$SEARCH;cause=slow_upstream;match=ua=127.0.0.1:$SEARCH" \
  --description "Same minute, two upstreams: the inventory app crashes (502), the search backend is slow (504)" \
  --notes "The two windows overlap; each incident's statuses and window are computed from the access lines of its upstream." \
  --readme "$WORK/README.in"
