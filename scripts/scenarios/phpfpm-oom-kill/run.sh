#!/usr/bin/env bash
# phpfpm-oom-kill: php-fpm (memory_limit -1, so PHP itself never stops) in a
# 128 MiB memory cgroup; a report page loads a huge result and the kernel
# OOM-kills the child; the master logs "child N exited on signal 9 (SIGKILL)".
# Three reports, 5 s apart. cause oom_kill. Held-out round 5.
NAME=phpfpm-oom-kill
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32240 FPM=32241 LIMIT_MB=128

port_free $NGX $FPM
memcg blind-phpoom $LIMIT_MB
prepare
php_page report.php <<'PHP'
<?php
// Loads every row of the report before rendering (no paging), memory_limit off.
$rows = [];
while (true) {
    $rows[] = str_repeat('r', 1 << 20);
}
PHP
php_ok
WRAP=in_memcg fpm_start reports <<CONF
pm = static
pm.max_children = 3
php_admin_value[memory_limit] = -1
CONF
nginx_fpm reports.local
nginx_up
DMESG_FROM=$(date -u +%s)
mark "php-fpm (3 children, memory_limit -1) in memory cgroup blind-phpoom (${LIMIT_MB} MiB) on 127.0.0.1:$FPM, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/index.php=6,/missing.php=1'
sleep 14
for i in 1 2 3; do
  trigger "/report.php?year=$i" "loads without bound"
  sleep 5
done
wind_down

dmesg --time-format iso | $PY "$COMMON/oomblocks.py" --since "$DMESG_FROM" --cgroup /blind-phpoom >"$WORK/kern.log"
[ -s "$WORK/kern.log" ] || { log "no OOM kill in dmesg"; exit 1; }

cat >"$WORK/README.in" <<MD
# phpfpm-oom-kill

Debian's php-fpm $(phpfpm_version) (pool \`reports\`, 3 static children, TCP \`127.0.0.1:$FPM\`, \`memory_limit = -1\`) runs in the cgroup v1
memory cgroup \`blind-phpoom\` (${LIMIT_MB} MiB) behind nginx (\`127.0.0.1:$NGX\`). Under a steady 8 requests/s three report
requests, 5 s apart, load without bound; with PHP's own limit off the kernel OOM-kills the child (\`Killed process N
(php-fpm8.2)\`), php-fpm's master logs \`WARNING: [pool reports] child N exited on signal 9 (SIGKILL) after ... seconds
from start\` and starts another; nginx answers **502** for each report.

Held-out round 5.

Files: \`access.log\`, \`error.log\` (nginx), \`php-fpm.log\`, \`kern.log\` (\`dmesg --time-format iso\`, this cgroup's blocks).

Regenerate: \`sudo scripts/scenarios/phpfpm-oom-kill/run.sh\` (root: cgroup and dmesg; php8.2-fpm).
MD
finish --copy access.log --copy error.log --copy php-fpm.log --copy kern.log \
  --expect "php-fpm.log:exited on signal 9" \
  --incident "upstream=127.0.0.1:$FPM;cause=oom_kill;match=ua=127.0.0.1:$FPM" \
  --description "php-fpm children OOM-killed by the kernel (memory cgroup) on three unbounded reports; nginx 502" \
  --notes "PHP's memory_limit is off (-1), so the kernel is what stops it." \
  --readme "$WORK/README.in"
