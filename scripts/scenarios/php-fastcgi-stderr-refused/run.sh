#!/usr/bin/env bash
# php-fastcgi-stderr-refused: a PHP page (php-fpm, default error_log) fetches a
# price from an internal HTTP service with file_get_contents(); the service is
# stopped for 12 s; PHP's warning goes to FastCGI's stderr, so nginx writes it
# in ITS error log ("FastCGI sent in stderr: PHP message: ... Connection
# refused"); the page answers 502 itself. cause dependency_failure.
# Held-out scenario (built after the first round of blind fixes).
NAME=php-fastcgi-stderr-refused
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32110 FPM=32111 PRICE=32112
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $FPM $PRICE
prepare
php_page quote.php <<PHP
<?php
// The price comes from the pricing service; no retry, no fallback.
\$price = file_get_contents('http://127.0.0.1:$PRICE/price?sku=' . urlencode(\$_GET['sku'] ?? 'x'));
if (\$price === false) {
    http_response_code(502);
    echo "pricing unavailable\n";
    exit;
}
header('Content-Type: application/json');
echo json_encode(['sku' => \$_GET['sku'] ?? 'x', 'price' => trim(\$price)]), "\n";
PHP
php_ok
cat >"$WORK/pricing.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "5"); self.end_headers(); self.wfile.write(b"9.99\n")
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
fpm_start shop <<CONF
pm = static
pm.max_children = 4
CONF
start_pricing() { spawn pricing.out $PY -u "$WORK/pricing.py" $PRICE; PRICE_PID=$SPAWNED; wait_port $PRICE; }
start_pricing
nginx_fpm shop.local
nginx_up
mark "php-fpm $(phpfpm_version) on 127.0.0.1:$FPM, pricing service on 127.0.0.1:$PRICE, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/quote.php?sku=a1=5,/index.php=2,/missing.php=1'
sleep 13
kill $PRICE_PID; wait $PRICE_PID 2>/dev/null || true
mark "pricing service stopped: 127.0.0.1:$PRICE refuses connections"
sleep 12
start_pricing
mark "pricing service back"
wind_down

cat >"$WORK/README.in" <<MD
# php-fastcgi-stderr-refused

A PHP page (\`quote.php\`) under Debian's php-fpm $(phpfpm_version) (TCP \`127.0.0.1:$FPM\`, PHP's default \`error_log\`: unset) behind nginx
(\`127.0.0.1:$NGX\`) fetches a price with \`file_get_contents('http://127.0.0.1:$PRICE/price?...')\` from a small pricing
service. Under a steady 8 requests/s the pricing service is stopped for 12 s. PHP's warning goes to the FastCGI
stderr stream, so **nginx** logs it, in its own error log: \`FastCGI sent in stderr: "PHP message: PHP Warning:
file_get_contents(http://127.0.0.1:$PRICE/price?sku=a1): Failed to open stream: Connection refused in ...
quote.php on line 3" while reading response header from upstream\`; the page answers **502** itself
(\`\$upstream_header_time\` set). php-fpm's own log says nothing.

Held-out scenario, built after the first round of blind fixes.

Files: \`access.log\`, \`error.log\` (nginx, with PHP's messages), \`php-fpm.log\`.

Regenerate: \`scripts/scenarios/php-fastcgi-stderr-refused/run.sh\` (php8.2-fpm).
MD
finish --copy access.log --copy error.log --copy php-fpm.log \
  --expect "error.log:FastCGI sent in stderr.*Connection refused" \
  --incident "upstream=127.0.0.1:$FPM;cause=dependency_failure;dependency=127.0.0.1:$PRICE;match=ua=127.0.0.1:$FPM" \
  --description "PHP page answers 502 while the pricing service it calls (127.0.0.1:$PRICE) refuses; PHP's warning is in nginx's error log (FastCGI stderr)" \
  --notes "The dependency is the pricing service on 127.0.0.1:$PRICE, named in the PHP warning's URL." \
  --readme "$WORK/README.in"
