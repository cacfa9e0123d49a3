#!/usr/bin/env bash
# dns-failure: nginx resolves its upstream's name at request time (resolver +
# variable proxy_pass); the DNS server answers SERVFAIL for 12 s; nginx answers
# 502 with "could not be resolved (2: Server failure)".
NAME=dns-failure
source "$(dirname "$0")/../common/lib.sh"
NGX=18480 DNSP=18481 APP=18482
HOSTNAME_UP=catalog.svc.internal

port_free $NGX $APP
prepare

nginx_conf <<CONF
    resolver 127.0.0.1:$DNSP valid=1s ipv6=off;
    resolver_timeout 2s;
    server {
        listen 127.0.0.1:$NGX;
        server_name catalog.local;
        location / {
            set \$catalog $HOSTNAME_UP:$APP;
            proxy_pass http://\$catalog;
        }
    }
CONF

spawn dns.out $PY -u "$(dirname "$0")/dns.py" --port $DNSP --fail-flag "$WORK/dns-fail"
backend_start $APP backend.log
nginx_up
mark "DNS server on 127.0.0.1:$DNSP/udp ($HOSTNAME_UP -> 127.0.0.1, TTL 1), backend on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/products=6,/search=3,/nope=1'
sleep 14
touch "$WORK/dns-fail"
mark "DNS server answers SERVFAIL for every query"
sleep 12
rm -f "$WORK/dns-fail"
mark "DNS server answers again"
wind_down

cat >"$WORK/README.in" <<MD
# dns-failure

nginx (\`127.0.0.1:$NGX\`) proxies to \`http://\$catalog\` with \`set \$catalog $HOSTNAME_UP:$APP\`,
so it resolves the name at request time through \`resolver 127.0.0.1:$DNSP valid=1s ipv6=off\`.
The resolver is a tiny DNS server (\`dns.py\`) that answers 127.0.0.1 with TTL 1, and SERVFAIL
during a 12 s window. The backend (the same small Python server as slow-upstream, never slow here)
stays up the whole time. Under a steady 10 requests/s, nginx answers 502 with
"$HOSTNAME_UP could not be resolved (2: Server failure)" while the resolver fails.

Files: \`access.log\`, \`error.log\` (nginx), \`backend.log\` (the backend's access lines).

Regenerate: \`scripts/scenarios/dns-failure/run.sh\`.
MD
finish --copy access.log --copy error.log --copy backend.log \
  --expect 'error.log:could not be resolved' \
  --incident "upstream=$HOSTNAME_UP;cause=dns_failure;match=path~." \
  --description "nginx resolver gets SERVFAIL for the upstream's name for 12 s: 502 could not be resolved" \
  --notes "On a resolve failure nginx never picks an address: upstream_addr, upstream_status and the upstream times are all \"-\" in access.log, and the error line has no upstream: field, only the name. The incident's upstream is that name ($HOSTNAME_UP; proxy_pass uses port $APP; the name resolves to 127.0.0.1 when DNS works)." \
  --readme "$WORK/README.in"
