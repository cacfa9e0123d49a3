"""A flaky upstream for culprit's compose demo.

It answers HTTP on :8000 and, after FLAKY_UP seconds (90 by default), runs
out of memory the way a leaking Python service does: a MemoryError that no
one catches, so the process dies with a traceback. run.sh restarts it after
FLAKY_DOWN seconds; while it is down nginx answers 502. That is the incident
culprit should find and name.
"""
import http.server
import logging
import os
import threading
import time

UP = float(os.environ.get("FLAKY_UP", "90"))
PORT = int(os.environ.get("FLAKY_PORT", "8000"))

logging.basicConfig(format="%(asctime)s %(levelname)s [shop-api] %(message)s", level=logging.INFO)
log = logging.getLogger("shop-api")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"ok":true}\n'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def leak():
    # Grow as a cache without a bound does, then ask for more than any
    # machine has: the MemoryError comes at once, without pushing the host
    # (or the container's cgroup) into the kernel's OOM killer.
    hoard = [bytearray(8 << 20) for _ in range(8)]
    hoard.append(bytearray(1 << 62))


def main():
    server = http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log.info("listening on 0.0.0.0:%d (pid %d)", PORT, os.getpid())
    time.sleep(UP)
    log.warning("cache grew past its budget; still growing")
    leak()


if __name__ == "__main__":
    main()
