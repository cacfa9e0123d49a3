#!/usr/bin/env bash
# busy-hour: one nginx, three upstreams, three different failures a little more
# than 30 s apart in 85 s, under a mixed load with 404s:
# a deploy of orders (restart), a slow search (slow_upstream), a crash of
# inventory (crash). A demo-sized capture for the timeline.
NAME=busy-hour
source "$(dirname "$0")/../common/lib.sh"
NGX=18592 ORD=18593 SRCH=18594 INV=18595
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $ORD $SRCH $INV
prepare
cp "$HERE/../deploy/app.js" "$WORK/orders.js"
cp "$HERE/../crash-loop/app.js" "$WORK/inventory.js"

nginx_conf <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name shop.local;
        location /orders {
            proxy_pass http://127.0.0.1:$ORD;
        }
        location /search {
            proxy_pass http://127.0.0.1:$SRCH;
            proxy_read_timeout 2s;
        }
        location /api/ {
            proxy_pass http://127.0.0.1:$INV;
        }
        location / {
            return 404;
        }
    }
CONF

start_orders() { PORT=$ORD APP_VERSION=$1 spawn orders.log node "$WORK/orders.js"; ORD_PID=$SPAWNED; }
start_orders v41
on_stop 'kill -TERM $ORD_PID 2>/dev/null; wait $ORD_PID 2>/dev/null'
supervise inventory $INV inventory.log node "$WORK/inventory.js"
backend_start $SRCH search.log "$WORK/slow"
wait_port $ORD
nginx_up
mark "orders (Node) on 127.0.0.1:$ORD, search (Python) on 127.0.0.1:$SRCH, inventory (Node, restart loop) on 127.0.0.1:$INV, nginx on 127.0.0.1:$NGX; mixed load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 85 --paths '/orders=4,/orders/42=2,/search=3,/api/stock=4,/api/items/3=2,/favicon.ico=1,/wp-login.php=1'
sleep 8
mark "deploy: SIGTERM to orders v41 (pid $ORD_PID)"
kill -TERM $ORD_PID; wait $ORD_PID 2>/dev/null || true
sleep 4
start_orders v42
wait_port $ORD
mark "orders v42 listening"
sleep 22
touch "$WORK/slow"
mark "search: /search takes 3.5 s (proxy_read_timeout 2 s)"
sleep 8
rm -f "$WORK/slow"
mark "search fast again"
sleep 3
sleep 25
trigger "/api/import?format=v2" "inventory throws an uncaught TypeError"
wind_down

cat >"$WORK/README.in" <<MD
# busy-hour

One nginx (\`127.0.0.1:$NGX\`), three upstreams, 85 s of mixed load (10 requests/s, with 404s), three
failures a little more than 30 s apart:

1. orders (\`127.0.0.1:$ORD\`, the Node app of \`deploy\`): deploy, SIGTERM then v42 4 s later: 502 refused, cause \`restart\`.
2. search (\`127.0.0.1:$SRCH\`, the Python backend of \`slow-upstream\`): /search takes 3.5 s for 8 s behind
   \`proxy_read_timeout 2s\`: 504, cause \`slow_upstream\`.
3. inventory (\`127.0.0.1:$INV\`, the Node app of \`crash-loop\` under its restart loop): an uncaught
   TypeError: 502 until it is back 3 s later, cause \`crash\`.

Files: \`access.log\`, \`error.log\` (nginx), \`orders.log\`, \`search.log\`, \`inventory.log\`.

Regenerate: \`scripts/scenarios/busy-hour/run.sh\`.
MD
finish --copy access.log --copy error.log --copy orders.log --copy search.log --copy inventory.log \
  --expect 'orders.log:received SIGTERM' --expect 'inventory.log:TypeError' --expect 'error.log:upstream timed out' \
  --incident "upstream=127.0.0.1:$ORD;cause=restart;match=ua=127.0.0.1:$ORD" \
  --incident "upstream=127.0.0.1:$SRCH;cause=slow_upstream;match=ua=127.0.0.1:$SRCH" \
  --incident "upstream=127.0.0.1:$INV;cause=crash;match=ua=127.0.0.1:$INV" \
  --description "Three upstreams behind one nginx fail one after another in 85 s: a deploy, a slow search, a crash" \
  --notes "Each upstream fails once; the failures are separated by more than 30 s." \
  --readme "$WORK/README.in"
