#!/usr/bin/env bash
# php-memory-limit: a PHP export page builds its whole result in memory; with
# memory_limit 32M it dies with "Allowed memory size of ... exhausted". php-fpm
# runs with PHP's default error_log (unset), so the fatal error reaches nginx's
# error log through FastCGI stderr; PHP answers 500. A burst of exports for 10 s.
# cause runtime_oom. Held-out round 2.
NAME=php-memory-limit
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32150 FPM=32151

port_free $NGX $FPM
prepare
php_page export.php <<'PHP'
<?php
// Builds the whole export before sending it: fine for small accounts.
$rows = [];
$n = (int)($_GET['rows'] ?? 1000);
for ($i = 0; $i < $n; $i++) {
    $rows[] = str_repeat('x', 1024) . $i;
}
header('Content-Type: text/csv');
echo count($rows), "\n";
PHP
php_ok
fpm_start exports <<CONF
pm = static
pm.max_children = 4
php_admin_value[memory_limit] = 32M
CONF
nginx_fpm exports.local
nginx_up
mark "php-fpm $(phpfpm_version) (memory_limit 32M) on 127.0.0.1:$FPM, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/export.php?rows=500=4,/index.php=3,/missing.php=1'
sleep 14
burst "burst: a big account's exports (rows=100000) at 3 requests/s for 10 s" \
  --rate 3 --duration 10 --paths '/export.php?rows=100000=1' --ua burst --seed 2
wind_down

cat >"$WORK/README.in" <<MD
# php-memory-limit

A PHP export page (\`export.php\`) under Debian's php-fpm $(phpfpm_version) (TCP \`127.0.0.1:$FPM\`, \`memory_limit = 32M\`, PHP's default
\`error_log\`: unset) behind nginx (\`127.0.0.1:$NGX\`) builds its whole result in memory. Small exports work; for
10 s a big account's exports (3 requests/s) exceed the limit: PHP dies with \`PHP Fatal error:  Allowed memory size
of 33554432 bytes exhausted (tried to allocate ...)\`, which reaches **nginx's** error log through FastCGI stderr
(\`FastCGI sent in stderr: "PHP message: PHP Fatal error: ..."\`), and answers **500**. php-fpm's own log says
nothing; the worker survives.

Held-out round 2 (built after the fixes of round 1).

Files: \`access.log\`, \`error.log\` (nginx, with PHP's messages), \`php-fpm.log\`.

Regenerate: \`scripts/scenarios/php-memory-limit/run.sh\` (php8.2-fpm).
MD
finish --copy access.log --copy error.log --copy php-fpm.log \
  --expect "error.log:Allowed memory size" \
  --incident "upstream=127.0.0.1:$FPM;cause=runtime_oom;match=ua=127.0.0.1:$FPM" \
  --description "PHP exports exceed memory_limit (Allowed memory size exhausted, relayed through FastCGI stderr); PHP answers 500" \
  --notes "The runtime (PHP) ran out of its memory limit; the kernel did not kill anything." \
  --readme "$WORK/README.in"
