#!/usr/bin/env bash
# crash-twice: the crash of crash-loop, twice, 40 s apart: two incidents on the
# same upstream, separated by a quiet gap longer than the correlator's 30 s.
NAME=crash-twice
source "$(dirname "$0")/../common/lib.sh"
NGX=18462 APP=18463

port_free $NGX $APP
prepare
cp "$(dirname "$0")/../crash-loop/app.js" "$WORK/"
nginx_proxy inventory.local "http://127.0.0.1:$APP"

supervise app $APP app.log node "$WORK/app.js"
nginx_up
mark "app under restart loop on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 72 --paths '/api/stock=6,/api/items/3=3,/nope=1'
sleep 10
trigger "/api/import?format=v2" "uncaught TypeError"
sleep 40
trigger "/api/import?format=v2" "uncaught TypeError"
wind_down

cat >"$WORK/README.in" <<MD
# crash-twice

The app and restart loop of crash-loop (\`127.0.0.1:$APP\`, behind nginx \`127.0.0.1:$NGX\`), under a
steady 6 requests/s for 72 s, crash twice: the same uncaught TypeError triggered 10 s and about 53 s into
the run. Each crash gives about 3 s of 502 (premature close, then refused). The two bursts are separated
by more than 30 s of quiet: two incidents on one upstream, both \`crash\`.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (the app's stdout and stderr and the loop's lines).

Regenerate: \`scripts/scenarios/crash-twice/run.sh\`.
MD
finish --copy access.log --copy error.log --copy app.log \
  --incident "upstream=127.0.0.1:$APP;cause=crash;split=30;bursts=2;match=ua=127.0.0.1:$APP" \
  --description "The same crash twice, more than 30 s of quiet apart: two incidents on one upstream" \
  --notes "Both incidents have the same cause and upstream; they differ by window." \
  --readme "$WORK/README.in"
