#!/usr/bin/env bash
# Captures what nginx itself sends with `error_log syslog:server=...`: the
# syslog header (note the empty hostname nginx writes before it knows it)
# around the usual error-log line.
#   scripts/reallogs/nginx/syslog.sh [OUT]   (default /tmp/nginxerr/syslog.log)
# Ports 18161 (UDP receiver) and 18162 (nginx) on 127.0.0.1; nothing listens
# on 18199, so the one request is refused.
set -euo pipefail
out=${1:-/tmp/nginxerr/syslog.log}
dir=$(mktemp -d /tmp/nginxerr-syslog.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/nginx.conf" <<CONF
user root;
error_log syslog:server=127.0.0.1:18161,tag=nginx info;
pid $dir/nginx.pid;
worker_processes 1;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  server { listen 127.0.0.1:18162; location / { proxy_pass http://127.0.0.1:18199; } }
}
CONF
DIR=$dir OUT=$out python3 - <<'PY'
import os, socket, subprocess, time
d, out = os.environ["DIR"], os.environ["OUT"]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 18161))
s.settimeout(3)
p = subprocess.Popen(["nginx", "-p", d, "-c", d + "/nginx.conf", "-e", d + "/startup.log", "-g", "daemon off;"])
try:
    time.sleep(0.5)
    subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "3", "http://127.0.0.1:18162/x"])
    with open(out, "wb") as f:
        try:
            while True:
                msg, _ = s.recvfrom(8192)
                f.write(msg + b"\n")
        except socket.timeout:
            pass
finally:
    p.terminate()
    p.wait()
PY
echo "captured into $out" >&2
