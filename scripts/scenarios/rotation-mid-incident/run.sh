#!/usr/bin/env bash
# rotation-mid-incident: the slow upstream of scenario slow-upstream, with a log
# rotation in the middle of the incident (mv + nginx -s reopen, as logrotate's
# postrotate does): the incident's lines are split between access.log.1.gz
# (compressed at once: logrotate `compress` without delaycompress), error.log.1
# (`delaycompress` style, plain) and the new access.log / error.log.
NAME=rotation-mid-incident
source "$(dirname "$0")/../common/lib.sh"
NGX=18474 APP=18475

port_free $NGX $APP
prepare

nginx_proxy search.local "http://127.0.0.1:$APP" "proxy_read_timeout 2s"

backend_start $APP backend.log "$WORK/slow"
nginx_up
mark "backend on 127.0.0.1:$APP and nginx on 127.0.0.1:$NGX started; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/search=4,/products=4,/=1,/missing=1'
sleep 14
touch "$WORK/slow"
mark "backend /search now takes 3.5 s (proxy_read_timeout is 2 s)"
sleep 6
mv "$WORK/access.log" "$WORK/access.log.1"
mv "$WORK/error.log" "$WORK/error.log.1"
kill -USR1 "$(cat "$WORK/nginx.pid")"
mark "logs rotated: access.log -> access.log.1, error.log -> error.log.1, nginx reopened (USR1)"
sleep 1
gzip -9 "$WORK/access.log.1"
mark "access.log.1 compressed to access.log.1.gz"
sleep 5
rm -f "$WORK/slow"
mark "backend /search fast again"
wind_down

cat >"$WORK/README.in" <<MD
# rotation-mid-incident

The slow upstream of \`slow-upstream\` (/search takes 3.5 s for 12 s behind \`proxy_read_timeout 2s\`,
\`127.0.0.1:$NGX\` -> \`127.0.0.1:$APP\`), with the logs rotated 6 s into the incident: \`mv\` of access.log
and error.log, then \`kill -USR1\` (what logrotate's postrotate \`nginx -s reopen\` does). access.log.1 is
then gzipped (logrotate \`compress\`), error.log.1 is left plain (\`delaycompress\`). The incident's 504s
and their error lines are split across the generations; it is one incident.

Files: \`access.log.1.gz\` + \`access.log\`, \`error.log.1\` + \`error.log\` (nginx), \`backend.log\`.

Regenerate: \`scripts/scenarios/rotation-mid-incident/run.sh\`.
MD
finish --copy access.log --copy access.log.1.gz --copy error.log --copy error.log.1 --copy backend.log \
  --expect 'access.log.1.gz: 504 ' --expect 'access.log: 504 ' \
  --incident "upstream=127.0.0.1:$APP;cause=slow_upstream;match=ua=127.0.0.1:$APP" \
  --description "Slow upstream (504) with a log rotation in the middle of the incident: one incident across access.log.1.gz and access.log" \
  --notes "Read all generations: access.log.1.gz (gzip) and access.log; error.log.1 and error.log." \
  --readme "$WORK/README.in"
