#!/usr/bin/env bash
# Runs Debian's python3 to produce real tracebacks into
# parser/testdata/python/: an uncaught exception, MemoryError under ulimit -v,
# ConnectionRefusedError to a dead port (18341), a connect timeout to a
# listener whose backlog is full (18342), a chained exception ("During
# handling ..."), and the flask development server's own log. Ports 18340-18343.
source "$(dirname "$0")/lib.sh"
apps_init python
py=/usr/bin/python3
log=$out/tracebacks.log
: > "$log"
run() { "$@" >>"$log" 2>&1 || true; }
cat > "$work/crash.py" <<'PY'
def ratio(a, b):
    return a / b
def handler(req):
    return ratio(req["hits"], req["misses"])
print("worker started")
handler({"hits": 3, "misses": 0})
PY
run $py "$work/crash.py"
cat > "$work/mem.py" <<'PY'
chunks = []
while True:
    chunks.append(bytearray(64 << 20))
PY
run bash -c "ulimit -v 400000; exec $py $work/mem.py"
cat > "$work/refused.py" <<'PY'
import socket
def connect_db():
    return socket.create_connection(("127.0.0.1", 18341), timeout=2)
connect_db()
PY
run $py "$work/refused.py"
$py "$here/blackhole.py" 18342 6 > "$work/bh.out" &
bh=$!
for i in $(seq 50); do grep -q ready "$work/bh.out" 2>/dev/null && break; sleep 0.1; done
cat > "$work/timeout.py" <<'PY'
import socket
def fetch():
    return socket.create_connection(("127.0.0.1", 18342), timeout=1)
fetch()
PY
run $py "$work/timeout.py"
cat > "$work/urlopen.py" <<'PY'
import urllib.request
urllib.request.urlopen("http://127.0.0.1:18341/health", timeout=2)
PY
run $py "$work/urlopen.py"
cat > "$work/urltimeout.py" <<'PY'
import urllib.request
urllib.request.urlopen("http://127.0.0.1:18342/health", timeout=1)
PY
run $py "$work/urltimeout.py"
kill $bh 2>/dev/null || true
cat > "$work/chained.py" <<'PY'
import json
def load(s):
    try:
        return json.loads(s)
    except ValueError as e:
        raise RuntimeError("bad config") from e
load("{not json")
PY
run $py "$work/chained.py"
# logging.exception: the record's line, then the traceback (stamped format).
cat > "$work/logged.py" <<'PY'
import logging, socket
logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
log = logging.getLogger("orders")
log.info("worker ready")
try:
    socket.create_connection(("127.0.0.1", 18341), timeout=2)
except OSError:
    log.exception("cannot reach the database")
PY
$py "$work/logged.py" > "$out/logging.log" 2>&1 || true
# The flask development server: its startup lines and a request that raises.
cat > "$work/webapp.py" <<'PY'
from flask import Flask
app = Flask(__name__)
@app.route("/")
def index():
    return {}["missing"]
app.run(host="127.0.0.1", port=18343)
PY
$py "$work/webapp.py" > "$out/flask.log" 2>&1 &
fl=$!
wait_http "http://127.0.0.1:18343/"
sleep 0.3
kill $fl; wait $fl 2>/dev/null || true
# The same port again while it is taken.
$py "$here/blackhole.py" 18343 3 > "$work/bh2.out" &
bh=$!
for i in $(seq 50); do grep -q ready "$work/bh2.out" 2>/dev/null && break; sleep 0.1; done
$py "$work/webapp.py" > "$out/flask-addrinuse.log" 2>&1 || true
kill $bh 2>/dev/null || true
echo "$($py --version) (Debian $(dpkg-query -W -f='${Version}' python3.11)), flask $(dpkg-query -W -f='${Version}' python3-flask)" > "$out/VERSION"
