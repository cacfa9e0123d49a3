#!/usr/bin/env bash
# The poor man's supervisor many hosts really run: restart the app 3 s after it dies.
# Usage: supervise.sh PIDFILE CMD...
pidfile=$1; shift
while true; do
  "$@" &
  echo $! >"$pidfile"
  wait $!
  code=$?
  echo "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) supervise: app exited with code $code, restarting in 3 s"
  sleep 3
done
