#!/usr/bin/env bash
# two-upstreams: in the same minute, the inventory app (127.0.0.1:18501) crashes
# on an uncaught exception (502 while its restart loop brings it back) and the
# search backend (127.0.0.1:18502) turns slow (504 read timeouts). Two incidents,
# two causes, overlapping in time.
NAME=two-upstreams
source "$(dirname "$0")/../common/lib.sh"
NGX=18500 INV=18501 SEARCH=18502
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX; port_free $INV; port_free $SEARCH
prepare
cp "$HERE/../crash-loop/app.js" "$HERE/../crash-loop/supervise.sh" "$WORK/"

{ nginx_head; cat <<CONF
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
}
CONF
} >"$WORK/nginx.conf"

PORT=$INV bash "$WORK/supervise.sh" "$WORK/app.pid" node "$WORK/app.js" >>"$WORK/inventory.log" 2>&1 &
SUP=$!; track $SUP
on_exit 'kill $(cat "$WORK/app.pid") 2>/dev/null'
$PY -u "$HERE/../slow-upstream/backend.py" --port $SEARCH --slow-flag "$WORK/slow" >>"$WORK/search.log" 2>&1 &
track $!
wait_port $INV; wait_port $SEARCH
nginx_start
wait_port $NGX
mark "inventory app (restart loop) on 127.0.0.1:$INV, search backend on 127.0.0.1:$SEARCH, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 12 --duration 40 --paths '/api/stock=5,/api/items/9=2,/search=4,/nope=1'
sleep 12
touch "$WORK/slow"
mark "search backend: /search now takes 3.5 s (proxy_read_timeout 2 s)"
sleep 3
mark "trigger: GET /api/import?format=v2 (inventory app throws an uncaught TypeError)"
curl -s -o /dev/null -w '%{http_code}\n' -A 'culprit-scenario-trigger/1.0' "http://127.0.0.1:$NGX/api/import?format=v2" >>"$WORK/trigger.out" || true
mark "trigger request ended: $(tail -1 "$WORK/trigger.out")"
sleep 7
rm -f "$WORK/slow"
mark "search backend fast again"
load_wait
mark "load ended"
sleep 1
nginx_stop
kill $SUP; wait $SUP 2>/dev/null || true
kill "$(cat "$WORK/app.pid")" 2>/dev/null || true

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
