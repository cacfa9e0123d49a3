#!/usr/bin/env bash
# Runs Debian's gunicorn with --timeout 2 and a view that sleeps 5 s, kills a
# worker with SIGKILL, starts a second master on a port already in use, and
# stops everything with SIGTERM; then an app that fails to import. Captures the error log into
# parser/testdata/gunicorn/. Ports 18310-18312.
# Ground truth: two WORKER TIMEOUTs (/sleep twice), one worker SIGKILLed by us,
# one "Connection in use" (second master on the same port), a SIGTERM shutdown.
source "$(dirname "$0")/lib.sh"
apps_init gunicorn
rm -f "$work"/*.log
wsgi_sleep_app "$work/app.py"
cd "$work"
/usr/bin/gunicorn --chdir "$work" -w 2 --timeout 2 -b 127.0.0.1:18310 --error-logfile "$work/error.log" \
  --log-level info -p "$work/gunicorn.pid" app:application &
master=$!
trap 'kill $master 2>/dev/null || true' EXIT
wait_http "http://127.0.0.1:18310/"
# Two requests that outlive --timeout: the master kills the workers.
curl -s -m 8 -o /dev/null http://127.0.0.1:18310/sleep || true
curl -s -m 8 -o /dev/null http://127.0.0.1:18310/sleep || true
sleep 1
# A worker killed from outside (as the kernel OOM killer would).
w=$(pgrep -P "$master" | head -1)
kill -KILL "$w"
sleep 2
# A second master on the same address: "Connection in use", then it gives up.
timeout 12 /usr/bin/gunicorn --chdir "$work" -b 127.0.0.1:18310 --error-logfile "$work/error2.log" app:application || true
kill -TERM "$master"; wait "$master" || true
trap - EXIT
# An app that cannot be imported: "Exception in worker process" with the
# traceback, then "Reason: Worker failed to boot."
cat > "$work/bad.py" <<'PY'
import nosuchmodule_for_culprit
def application(environ, start_response):
    pass
PY
timeout 15 /usr/bin/gunicorn --chdir "$work" -b 127.0.0.1:18311 --error-logfile "$work/boot.log" bad:application || true
# A reload: SIGHUP replaces the workers (the old one ends with SIGTERM).
rm -f "$work/hup.log"
/usr/bin/gunicorn --chdir "$work" -w 1 -b 127.0.0.1:18312 --error-logfile "$work/hup.log" app:application &
m=$!
sleep 1.5; kill -HUP $m; sleep 1.5; kill -TERM $m; wait $m || true
cp "$work/hup.log" "$out/hup.log"
cat "$work/error.log" > "$out/error.log"
cat "$work/boot.log" > "$out/boot-failure.log"
cat "$work/error2.log" > "$out/addrinuse.log"
echo "gunicorn $(/usr/bin/gunicorn --version 2>&1 | sed 's/.*version //; s/)//') (Debian $(dpkg-query -W -f='${Version}' gunicorn)), $(/usr/bin/python3 --version)" > "$out/VERSION"
