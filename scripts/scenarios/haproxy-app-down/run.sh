#!/usr/bin/env bash
# haproxy-app-down: nginx -> HAProxy (Debian 2.6) -> a Python app. The app is
# SIGKILLed for 12 s; HAProxy's health check marks the server DOWN and HAProxy
# answers 503 itself ("No server is available"), so nginx relays a 503 its
# upstream (HAProxy) sent. cause backend_down: the service behind the balancer
# is down and nothing on the app side says why. Held-out round 7.
NAME=haproxy-app-down
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
WORK="${SCN_WORK_ROOT:-/tmp/blind2}/$NAME"
NGX=39010 HAP=39011 APP=39012

command -v haproxy >/dev/null || { log "needs Debian's haproxy"; exit 1; }
port_free $NGX $HAP $APP
prepare
cat >"$WORK/app.py" <<'PY'
import sys, json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"path": self.path, "ok": True}).encode() + b"\n"
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
# Debian's haproxy.cfg defaults (option httplog, the errorfiles) with the log
# going to stdout in ISO time instead of /dev/log (no rsyslog in a scenario).
cat >"$WORK/haproxy.cfg" <<CFG
global
	log stdout format iso local0
	maxconn 256

defaults
	log	global
	mode	http
	option	httplog
	option	dontlognull
	timeout connect 2s
	timeout client  30s
	timeout server  30s
	errorfile 503 /etc/haproxy/errors/503.http

frontend api
	bind 127.0.0.1:$HAP
	default_backend app

backend app
	server app1 127.0.0.1:$APP check inter 1s fall 2 rise 2
CFG
haproxy -c -q -f "$WORK/haproxy.cfg"
start_app() { spawn app.log $PY -u "$WORK/app.py" $APP; APP_PID=$SPAWNED; wait_port $APP; }
start_app
spawn haproxy.log haproxy -db -f "$WORK/haproxy.cfg"
HAP_PID=$SPAWNED
wait_port $HAP
nginx_proxy api.local "http://127.0.0.1:$HAP"
nginx_up
sleep 2
mark "app on 127.0.0.1:$APP behind HAProxy $(haproxy -v | head -1 | awk '{print $3}') on 127.0.0.1:$HAP behind nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/api/items=6,/health=1,/nope=1'
sleep 13
kill -KILL "$APP_PID"; wait "$APP_PID" 2>/dev/null || true
mark "app SIGKILLed: 127.0.0.1:$APP refuses connections"
sleep 12
start_app
mark "app started again"
load_wait
mark "load ended"
sleep 2
nginx_stop
kill -USR1 "$HAP_PID"; wait "$HAP_PID" 2>/dev/null || true

cat >"$WORK/README.in" <<MD
# haproxy-app-down

nginx (\`127.0.0.1:$NGX\`) proxies to HAProxy $(haproxy -v | head -1 | awk '{print $3}') (Debian, \`127.0.0.1:$HAP\`, \`option httplog\`,
health check every 1 s, fall 2, rise 2), which balances to one Python app server (\`127.0.0.1:$APP\`). Under a
steady 8 requests/s the app is SIGKILLed for 12 s. HAProxy logs the failed connections (\`SC\` termination
state) and the health check (\`Server app/app1 is DOWN, reason: Layer4 connection problem, info: "Connection
refused"\`) and answers **503** itself; nginx relays the 503 (\`\$upstream_status\` 503, header time set) and its
error log says nothing.

The truth: backend_down at nginx's upstream (HAProxy, \`127.0.0.1:$HAP\`): the service behind the balancer is
down and nothing on the app side says why. HAProxy's log is written to stdout (\`log stdout format iso\`)
instead of syslog.

Held-out round 7.

Files: \`access.log\`, \`error.log\` (nginx), \`haproxy.log\`, \`app.log\` (empty: the app logs nothing).

Regenerate: \`scripts/scenarios/haproxy-app-down/run.sh\` (Debian: haproxy).
MD
finish --copy access.log --copy error.log --copy haproxy.log \
  --expect "haproxy.log:is DOWN" \
  --incident "upstream=127.0.0.1:$HAP;cause=backend_down;match=ua=127.0.0.1:$HAP" \
  --description "The app behind HAProxy is killed for 12 s; HAProxy answers 503, nginx relays it" \
  --notes "nginx's upstream is HAProxy (127.0.0.1:$HAP); the dead server is 127.0.0.1:$APP behind it." \
  --readme "$WORK/README.in"
