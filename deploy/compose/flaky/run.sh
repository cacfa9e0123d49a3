#!/bin/sh
# The demo's supervisor: start the app, note how it ended, wait FLAKY_DOWN
# seconds (15 by default), start it again, forever. Everything goes to
# /var/log/app/app.log, which culprit ship tails.
log=${FLAKY_LOG:-/var/log/app/app.log}
down=${FLAKY_DOWN:-15}
mkdir -p "$(dirname "$log")"
while true; do
  python3 -u /app/app.py >>"$log" 2>&1
  code=$?
  echo "$(date -u '+%Y-%m-%d %H:%M:%S'),000 ERROR [supervisor] shop-api exited with code $code; restarting in ${down}s" >>"$log"
  sleep "$down"
done
