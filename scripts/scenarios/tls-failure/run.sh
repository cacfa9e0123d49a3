#!/usr/bin/env bash
# tls-failure: nginx proxies over TLS (proxy_pass https://); for 12 s the backend
# answers in plain HTTP on the same port; nginx's handshake fails: 502
# "SSL_do_handshake() failed ... while SSL handshaking to upstream". cause tls_failure.
NAME=tls-failure
source "$(dirname "$0")/../common/lib.sh"
NGX=18506 APP=18507

port_free $NGX $APP
prepare
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=payments.internal" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

nginx_proxy pay.local "https://127.0.0.1:$APP"

spawn backend.log $PY -u "$(dirname "$0")/backend.py" --port $APP --cert "$WORK/cert.pem" --key "$WORK/key.pem" --plain-flag "$WORK/plain"
wait_port $APP
nginx_up
mark "payments API (TLS) on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX (proxy_pass https://); steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/charges=6,/refunds=3,/=1'
sleep 14
touch "$WORK/plain"
mark "payments API now answers plain HTTP on its TLS port (a build with TLS off)"
sleep 12
rm -f "$WORK/plain"
mark "payments API back to TLS"
wind_down

cat >"$WORK/README.in" <<MD
# tls-failure

nginx (\`127.0.0.1:$NGX\`) proxies to a payments API over TLS (\`proxy_pass https://127.0.0.1:$APP\`, a
self-signed certificate, nginx does not verify it: the default). For 12 s the API answers in plain HTTP on
the same port (a build with TLS switched off); the process never restarts. nginx's handshake fails: 502
"SSL_do_handshake() failed (SSL: error:...:wrong version number) while SSL handshaking to upstream".

Files: \`access.log\`, \`error.log\` (nginx), \`backend.log\` (the API's access lines).

Regenerate: \`scripts/scenarios/tls-failure/run.sh\` (needs openssl).
MD
finish --copy access.log --copy error.log --copy backend.log \
  --expect 'error.log:SSL_do_handshake' \
  --incident "upstream=127.0.0.1:$APP;cause=tls_failure;match=ua=127.0.0.1:$APP" \
  --description "Backend speaks plain HTTP on its TLS port for 12 s: nginx 502 SSL_do_handshake() failed" \
  --notes "No process event: the backend kept running." \
  --readme "$WORK/README.in"
