#!/usr/bin/env bash
# crash-loop: a Node app throws an uncaught exception on one request and exits;
# a restart loop brings it back 3 s later; nginx answers 502 meanwhile.
NAME=crash-loop
source "$(dirname "$0")/../common/lib.sh"
NGX=18460 APP=18461

port_free $NGX $APP
prepare
cp "$(dirname "$0")/app.js" "$WORK/"
nginx_proxy inventory.local "http://127.0.0.1:$APP"

supervise app $APP app.log node "$WORK/app.js"
nginx_up
mark "app under restart loop on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/stock=6,/api/items/3=3,/nope=1'
sleep 15
trigger "/api/import?format=v2" "uncaught TypeError"
wind_down

cat >"$WORK/README.in" <<MD
# crash-loop

A Node $(node -v) HTTP app (\`app.js\`) runs under a restart loop (\`supervise.sh\`: restart 3 s after
exit, logging one timestamped line per exit), behind nginx (\`127.0.0.1:$NGX\` -> \`127.0.0.1:$APP\`).
Under a steady 10 requests/s, one request to \`/api/import?format=v2\` hits a bug: a TypeError thrown in
the request handler, uncaught. Node prints the source line, the stack and its version to stderr
(no timestamps) and exits with code 1; the loop logs the exit and restarts it 3 s later ("inventory
listening on ..."). nginx answers 502: "upstream prematurely closed connection" for the request that
crashed it, then "connect() failed (111: Connection refused)" until the app listens again.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (the app's stdout and stderr and the loop's lines).

Regenerate: \`scripts/scenarios/crash-loop/run.sh\`.
MD
finish --copy access.log --copy error.log --copy app.log \
  --incident "upstream=127.0.0.1:$APP;cause=crash;match=ua=127.0.0.1:$APP" \
  --description "Node app crashes on an uncaught TypeError, restarted 3 s later by a loop; nginx 502 while it is down" \
  --notes "Node's crash output has no timestamp: only the surrounding lines (the loop's exit line, ISO UTC) place it in time." \
  --readme "$WORK/README.in"
