#!/usr/bin/env bash
# go-dependency-cert: a Go service calls an internal HTTPS rates service and
# trusts only the company CA; for 12 s the rates service runs with a
# certificate from another CA (a botched rotation); Go's client fails with
# "x509: certificate signed by unknown authority" and the service answers 502.
# cause dependency_failure, dependency = the rates service. Held-out round 4.
NAME=go-dependency-cert
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32220 APP=32221 RATES=32222
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $APP $RATES
prepare
mkdir -p "$WORK/src" "$WORK/pki"
cp "$HERE/main.go.txt" "$WORK/src/main.go"
(cd "$WORK/src" && printf 'module currency\n\ngo 1.22\n' >go.mod && go build -o "$WORK/currency" .)
# Two CAs: the company's, and the one the botched rotation used.
for ca in company other; do
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$ca CA" -keyout "$WORK/pki/$ca-ca.key" -out "$WORK/pki/$ca-ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=rates" -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/pki/$ca.key" -out "$WORK/pki/$ca.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$WORK/pki/ext"
  openssl x509 -req -in "$WORK/pki/$ca.csr" -CA "$WORK/pki/$ca-ca.pem" -CAkey "$WORK/pki/$ca-ca.key" -CAcreateserial -days 2 \
    -extfile "$WORK/pki/ext" -out "$WORK/pki/$ca.pem" 2>/dev/null
done
cat >"$WORK/rates.py" <<'PY'
import ssl, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "17"); self.end_headers(); self.wfile.write(b'{"EURUSD":1.081}\n')
    def log_message(self, *a):
        pass
srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PY
start_rates() { spawn rates.out $PY -u "$WORK/rates.py" $RATES "$WORK/pki/$1.pem" "$WORK/pki/$1.key"; RATES_PID=$SPAWNED; wait_port $RATES; }

nginx_proxy currency.local "http://127.0.0.1:$APP"

start_rates company
app_start app.log 10 env PORT=$APP RATES_URL="https://127.0.0.1:$RATES/rates" RATES_CA="$WORK/pki/company-ca.pem" "$WORK/currency"
nginx_up
mark "rates service (TLS, company CA) on 127.0.0.1:$RATES, Go currency service on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/convert=5,/health=2,/nope=1'
sleep 13
kill $RATES_PID; wait $RATES_PID 2>/dev/null || true
start_rates other
mark "rates service restarted with a certificate from another CA (botched rotation)"
sleep 12
kill $RATES_PID; wait $RATES_PID 2>/dev/null || true
start_rates company
mark "rates service back on the company CA's certificate"
wind_down

cat >"$WORK/README.in" <<MD
# go-dependency-cert

A Go $(go env GOVERSION) currency service (\`main.go.txt\`, standard logger) on \`127.0.0.1:$APP\` behind nginx (\`127.0.0.1:$NGX\`)
fetches exchange rates over HTTPS from an internal rates service (\`https://127.0.0.1:$RATES\`) and trusts only the
company CA. Under a steady 8 requests/s the rates service is restarted with a certificate signed by another CA (a
botched rotation) for 12 s: Go's client fails with \`tls: failed to verify certificate: x509: certificate signed by
unknown authority\`, the service logs \`convert: rates unavailable: Get "https://127.0.0.1:$RATES/rates": ...\` and
answers **502** itself. (Restarting the rates service also refuses a few connections for a fraction of a second.)

Held-out round 4.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\`.

Regenerate: \`scripts/scenarios/go-dependency-cert/run.sh\` (go, openssl).
MD
finish --copy access.log --copy error.log --copy app.log \
  --expect "app.log:certificate signed by unknown authority" \
  --incident "upstream=127.0.0.1:$APP;cause=dependency_failure;dependency=127.0.0.1:$RATES;match=ua=127.0.0.1:$APP" \
  --description "Go service answers 502 while its HTTPS dependency (127.0.0.1:$RATES) presents a certificate from an untrusted CA" \
  --notes "The dependency is the rates service on 127.0.0.1:$RATES." \
  --readme "$WORK/README.in"
