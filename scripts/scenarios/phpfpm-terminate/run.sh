#!/usr/bin/env bash
# phpfpm-terminate: php-fpm's request_terminate_timeout (2 s) ends a script that
# waits 5 s on a slow call: php-fpm logs "execution timed out ... terminating"
# and the child exits on SIGTERM; nginx answers 502. cause worker_timeout.
NAME=phpfpm-terminate
source "$(dirname "$0")/../common/lib.sh"
NGX=18570

port_free $NGX
prepare
cp -r "$(dirname "$0")/www" "$WORK/"

phpfpm_start <<POOL
pm = static
pm.max_children = 4
request_terminate_timeout = 2s
POOL
nginx_php shop.local
nginx_up
mark "php-fpm (pool shop, static 4 children, request_terminate_timeout 2s) and nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 40 --paths '/index.php=7,/missing.php=1'
sleep 14
burst "checkouts: GET /checkout.php (hangs 5 s) once a second for 8 s" --rate 1 --duration 8 --paths '/checkout.php=1' --ua 'culprit-scenario-checkout/1.0'
wind_down

cat >"$WORK/README.in" <<MD
# phpfpm-terminate

Debian's php-fpm $(phpfpm_version) runs a private pool \`shop\` (\`pm = static\`, 4 children,
\`request_terminate_timeout = 2s\`) on the unix socket \`$SOCK\`, behind nginx (\`127.0.0.1:$NGX\`).
Under a steady 6 requests/s, one request a second for 8 s goes to \`checkout.php\`, which waits 5 s.
php-fpm logs "execution timed out (2.x sec), terminating" and the child exits on SIGTERM; a new child
starts. nginx answers 502 for each killed checkout. \`missing.php\` gives 404 ("Primary script unknown").

Files: \`access.log\`, \`error.log\` (nginx), \`php-fpm.log\` (php-fpm's error log, local time without zone;
the machine is UTC).

Regenerate: \`scripts/scenarios/phpfpm-terminate/run.sh\` (root: the pool runs with -R).
MD
finish --copy access.log --copy error.log --copy php-fpm.log \
  --expect 'php-fpm.log:execution timed out' \
  --incident "upstream=unix:$SOCK;cause=worker_timeout;match=ua=unix:$SOCK" \
  --description "php-fpm request_terminate_timeout 2s kills children stuck in a 5 s script: nginx 502" \
  --notes "php-fpm.log timestamps are local time without zone (the machine is UTC)." \
  --readme "$WORK/README.in"
